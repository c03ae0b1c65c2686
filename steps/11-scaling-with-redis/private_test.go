package main

// Tests of this step's lesson: "is typing" to everyone but the typer, and
// private messages to exactly one person.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sohbet/internal/sioclient"
)

// sendPrivate sends "private message" with arg and returns the ack.
func sendPrivate(t testing.TB, c *sioclient.Client, arg ...any) privateAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	args, err := c.EmitAck(ctx, "private message", arg...)
	if err != nil {
		t.Fatalf("private message %v: %v", arg, err)
	}
	var ack privateAck
	if len(args) != 1 || json.Unmarshal(args[0], &ack) != nil {
		t.Fatalf("private message acknowledged with %s", args)
	}
	return ack
}

// eventsUntil reads c's events until one called name arrives and returns
// the names of all it read, that one last.
func eventsUntil(t testing.TB, c *sioclient.Client, name string) []sioclient.Event {
	t.Helper()
	var got []sioclient.Event
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-c.Events():
			got = append(got, ev)
			if ev.Name == name {
				return got
			}
		case <-c.Done():
			t.Fatalf("%s ended waiting for %q: %v", c.Transport(), name, c.Err())
		case <-timeout:
			t.Fatalf("%s: no %q after %d other events", c.Transport(), name, len(got))
		}
	}
}

// three connects Ali, Ayşe and Can over the given transports and waits
// until everyone has heard of everyone.
func three(t *testing.T, modes [3]string) (ali, ayse, can *sioclient.Client) {
	t.Helper()
	// A server of its own: on a shared one, the previous subtest's "Ali"
	// may still be leaving (closing is asynchronous) and hold the name.
	_, base, _ := startServer(t, defaults(t))
	ali = dialAs(t, base, modes[0], "Ali")
	nextWelcome(t, ali)
	ayse = dialAs(t, base, modes[1], "Ayşe")
	nextWelcome(t, ayse)
	can = dialAs(t, base, modes[2], "Can")
	nextWelcome(t, can)
	nextEvent(t, ali, "user joined")
	nextEvent(t, ali, "user joined")
	nextEvent(t, ayse, "user joined")
	return ali, ayse, can
}

// A private message reaches its recipient and its sender, and never a
// third client; over every pair of transports.
func TestAPrivateMessageReachesExactlyTwo(t *testing.T) {
	for _, mode := range transports {
		t.Run(mode, func(t *testing.T) {
			ali, ayse, can := three(t, [3]string{mode, "polling", "websocket"})
			// Ali whispers to Ayşe (her name in other letters), then says
			// something to everyone: Can's next chat event must be the
			// public one, with no private message before it.
			before := time.Now().UnixMilli()
			if ack := sendPrivate(t, ali, map[string]any{"to": "AYŞE", "text": "Bu aramızda <b>kalsın</b>"}); !ack.OK {
				t.Fatalf("private message: %+v", ack)
			}
			for _, c := range []*sioclient.Client{ayse, ali} {
				got := decodeArg[privatePayload](t, nextEvent(t, c, "private message"))
				if got.From != "Ali" || got.To != "Ayşe" || got.Text != "Bu aramızda <b>kalsın</b>" || got.At < before {
					t.Fatalf("%s got %+v", c.Transport(), got)
				}
			}
			if err := ali.Emit("chat message", "herkese merhaba"); err != nil {
				t.Fatal(err)
			}
			for _, ev := range eventsUntil(t, can, "chat message") {
				if ev.Name == "private message" {
					t.Fatalf("a third client got the private message: %s", ev.Args)
				}
			}
			for _, c := range []*sioclient.Client{ali, ayse, can} {
				_ = c.Close()
			}
		})
	}
}

func TestPrivateMessageRefusals(t *testing.T) {
	cfg := defaults(t)
	cfg.messageRate, cfg.messageBurst = 1000, 1000
	_, base, _ := startServer(t, cfg)
	ali := dialAs(t, base, "websocket", "Ali")
	nextWelcome(t, ali)
	other := dialAs(t, base, "polling", "Veli")
	nextWelcome(t, other)
	tooLong := strings.Repeat("x", defaults(t).maxMessageBytes+1)
	for _, tt := range []struct {
		name string
		args []any
		want string
	}{
		{"an unknown recipient", []any{map[string]any{"to": "Kimse", "text": "merhaba"}}, errNotOnline.Error()},
		{"oneself", []any{map[string]any{"to": "ali", "text": "merhaba"}}, errToSelf.Error()},
		{"no recipient", []any{map[string]any{"text": "merhaba"}}, errBadPrivate.Error()},
		{"a number as the recipient", []any{map[string]any{"to": 42, "text": "merhaba"}}, errBadPrivate.Error()},
		{"a string instead of an object", []any{"Veli'ye"}, errBadPrivate.Error()},
		{"a number", []any{42}, errBadPrivate.Error()},
		{"null", []any{nil}, errBadPrivate.Error()},
		{"nothing at all", nil, errBadPrivate.Error()},
		{"no text", []any{map[string]any{"to": "Veli"}}, errNotText.Error()},
		{"an empty text", []any{map[string]any{"to": "Veli", "text": "  "}}, errEmpty.Error()},
		{"a text too long", []any{map[string]any{"to": "Veli", "text": tooLong}}, errTooLong.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if ack := sendPrivate(t, ali, tt.args...); ack.OK || !strings.HasPrefix(ack.Error, tt.want) {
				t.Fatalf("ack %+v, want an error starting %q", ack, tt.want)
			}
		})
	}
	// Still connected; Veli never got a private message.
	if ack := sendPrivate(t, ali, map[string]any{"to": "Veli", "text": "sonunda"}); !ack.OK {
		t.Fatalf("a good private message after the refusals: %+v", ack)
	}
	for _, ev := range eventsUntil(t, other, "private message") {
		if ev.Name == "private message" && chatTextOf(t, ev) != "sonunda" {
			t.Fatalf("Veli got %s", ev.Args)
		}
	}
}

// chatTextOf is the "text" field of an event's object argument.
func chatTextOf(t testing.TB, ev sioclient.Event) string {
	t.Helper()
	return decodeArg[privatePayload](t, ev).Text
}

// "Is typing" reaches everyone except the typer, over every transport.
func TestTypingReachesEveryoneButTheTyper(t *testing.T) {
	for _, mode := range transports {
		t.Run(mode, func(t *testing.T) {
			ali, ayse, can := three(t, [3]string{mode, "polling", "websocket"})
			if err := ali.Emit("typing", true); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*sioclient.Client{ayse, can} {
				if got := decodeArg[typingNotice](t, nextEvent(t, c, "typing")); got != (typingNotice{Nick: "Ali", Typing: true}) {
					t.Fatalf("%s got %+v", c.Transport(), got)
				}
			}
			if err := ali.Emit("typing", false); err != nil {
				t.Fatal(err)
			}
			if got := decodeArg[typingNotice](t, nextEvent(t, ayse, "typing")); got.Typing {
				t.Fatalf("got %+v, want Ali to have stopped", got)
			}
			// The typer hears nothing of its own typing: its next event
			// is the chat message it sends now.
			if err := ali.Emit("chat message", "bitti"); err != nil {
				t.Fatal(err)
			}
			for _, ev := range eventsUntil(t, ali, "chat message") {
				if ev.Name == "typing" {
					t.Fatalf("the typer got its own typing notice %s", ev.Args)
				}
			}
			for _, c := range []*sioclient.Client{ali, ayse, can} {
				_ = c.Close()
			}
		})
	}
}

// A typing flood is rate-limited on its own, with at most one notice a
// second; wrong types get a notice; chat messages are not held back.
func TestTypingIsRateLimitedOnItsOwn(t *testing.T) {
	_, base, logs := startServer(t, defaults(t))
	flooder := dialAs(t, base, "websocket", "Sel")
	nextWelcome(t, flooder)
	watcher := dialAs(t, base, "websocket", "Gözcü")
	nextWelcome(t, watcher)
	for range 50 {
		if err := flooder.Emit("typing", true); err != nil {
			t.Fatal(err)
		}
	}
	if got := nextEvent(t, flooder, "chat notice"); !strings.Contains(string(got.Args[0]), errRateHigh.Error()) {
		t.Fatalf("notice %s", got.Args)
	}
	// The chat limit is separate: a message still goes through.
	if err := flooder.Emit("chat message", "yazmayı bıraktım"); err != nil {
		t.Fatal(err)
	}
	evs := eventsUntil(t, watcher, "chat message")
	typings := 0
	for _, ev := range evs {
		if ev.Name == "typing" {
			typings++
		}
	}
	if typings != typingBurst {
		t.Errorf("the watcher got %d typing notices for 50 sent, want the burst of %d", typings, typingBurst)
	}
	if n := logs.Count("mesaj reddedildi"); n != 1 {
		t.Errorf("%d rejections logged for the flood, want 1 (one a second)", n)
	}

	odd := dialAs(t, base, "polling", "")
	nextWelcome(t, odd)
	if err := odd.Emit("typing", "evet"); err != nil {
		t.Fatal(err)
	}
	if got := nextEvent(t, odd, "chat notice"); !strings.Contains(string(got.Args[0]), errNotBool.Error()) {
		t.Fatalf("notice %s", got.Args)
	}
}
