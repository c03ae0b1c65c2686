package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
		if len(text) > maxBytes || !utf8.ValidString(text) || strings.TrimSpace(text) == "" {
			t.Fatalf("accepted a message it should refuse: %q", text)
		}
	})
}

// FuzzCheckRequest sends arbitrary query strings and Origin headers to the
// Socket.IO entry point. Only same-origin or allow-listed requests with
// EIO=3 may pass the check; nothing may panic.
func FuzzCheckRequest(f *testing.F) {
	f.Add("EIO=3&transport=polling", "")
	f.Add("EIO=4&transport=websocket", "https://yabanci.example")
	f.Add("EIO=3&transport=polling&sid=abc", "http://example.com")
	f.Add("EIO=3&transport=polling", "https://dost.example")
	f.Add("EIO=%zz", "::bozuk::")
	cfg, _ := loadConfig(func(string) string { return "" })
	cfg.allowedOrigins = []string{"https://dost.example"}
	s := newServer(cfg, slogTo(nopWriter{}))
	passed := false
	h := s.checkRequest(handlerFunc(func() { passed = true }))
	f.Fuzz(func(t *testing.T, query, origin string) {
		req := httptest.NewRequest("GET", "http://example.com/socket.io/", nil)
		req.URL.RawQuery = query
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		passed = false
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !passed {
			return
		}
		if req.URL.Query().Get("EIO") != "3" {
			t.Fatalf("query %q passed without EIO=3", query)
		}
		o := normalizeOrigin(origin)
		if origin != "" && o != "http://example.com" && o != "https://dost.example" && !sameHost(origin, "example.com") {
			t.Fatalf("origin %q passed", origin)
		}
	})
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

type handlerFunc func()

func (h handlerFunc) ServeHTTP(_ http.ResponseWriter, _ *http.Request) { h() }

func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
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
