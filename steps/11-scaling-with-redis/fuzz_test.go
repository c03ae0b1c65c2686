package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzValidateMessage feeds arbitrary JSON, decoded the way go-socket.io
// decodes an event argument (into any), to validateMessage. Whatever it
// accepts must be the same text, within the limit, valid UTF-8 and not
// blank; it must never panic. Seeds are in testdata/fuzz.
func FuzzValidateMessage(f *testing.F) {
	const maxBytes = 64
	f.Fuzz(func(t *testing.T, data []byte) {
		var msg any
		if json.Unmarshal(data, &msg) != nil {
			return // go-socket.io closes the connection on invalid JSON
		}
		text, err := validateMessage(msg, maxBytes)
		if err != nil {
			if text != "" {
				t.Fatalf("rejected %q but returned text %q", data, text)
			}
			return
		}
		if s, ok := msg.(string); !ok || s != text {
			t.Fatalf("accepted %q as %q", data, text)
		}
		if len(text) > maxBytes || !utf8.ValidString(text) || strings.TrimSpace(text) == "" ||
			strings.ContainsAny(text, "\x00\x1b\x7f") {
			t.Fatalf("accepted a message it should refuse: %q", text)
		}
	})
}

func TestRateLimiterAllowsBurstThenRate(t *testing.T) {
	start := time.Unix(0, 0)
	l := newRateLimiter(2, 3, start)
	allowed := 0
	for range 10 {
		if l.allow(start) {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("burst allowed %d, want 3", allowed)
	}
	if !l.allow(start.Add(500 * time.Millisecond)) {
		t.Fatal("one token should be back after 0.5 s at 2/s")
	}
	if l.allow(start.Add(500 * time.Millisecond)) {
		t.Fatal("only one token should be back")
	}
	got := 0
	for range 10 {
		if l.allow(start.Add(time.Hour)) {
			got++
		}
	}
	if got != 3 {
		t.Fatalf("after a long pause %d allowed, want the burst of 3", got)
	}
}
