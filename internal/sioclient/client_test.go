package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"go.uber.org/goleak"

	"sohbet/internal/gosocketio"
)

// testServer is a go-socket.io v1.7.0 chat server, built the way the
// steps build theirs (internal/gosocketio): every connection joins room
// "chat", "chat message" is broadcast to the room, "echo" is acked with its
// argument, and "bye" makes the server close the connection.
type testServer struct {
	URL         string
	connects    chan string
	disconnects chan string
}

func startTestServer(t *testing.T, pingInterval, pingTimeout time.Duration) *testServer {
	t.Helper()
	opts := gosocketio.Options{PingInterval: pingInterval, PingTimeout: pingTimeout}
	srv := gosocketio.NewServer(opts)
	ts := &testServer{
		connects:    make(chan string, 64),
		disconnects: make(chan string, 64),
	}
	srv.OnConnect("/", func(s socketio.Conn) error {
		s.Join("chat")
		ts.connects <- s.ID()
		return nil
	})
	srv.OnEvent("/", "chat message", func(s socketio.Conn, msg string) {
		srv.BroadcastToRoom("/", "chat", "chat message", msg)
	})
	srv.OnEvent("/", "echo", func(s socketio.Conn, msg string) string {
		return msg
	})
	srv.OnEvent("/", "bye", func(s socketio.Conn) {
		s.Close()
	})
	srv.OnError("/", func(s socketio.Conn, err error) { t.Logf("server error: %v", err) })
	srv.OnDisconnect("/", func(s socketio.Conn, reason string) {
		t.Logf("server: %s disconnected: %s", s.ID(), reason)
		ts.disconnects <- s.ID()
	})
	go srv.Serve()
	hs := httptest.NewServer(gosocketio.Handler(srv, opts))
	ts.URL = hs.URL
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		srv.Close()
	})
	return ts
}

// waitID waits for id on ch, skipping others, within d.
func waitID(t *testing.T, ch chan string, id string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case got := <-ch:
			if got == id {
				return
			}
		case <-timeout:
			t.Fatalf("server did not report %s within %v", id, d)
		}
	}
}

func dialT(t *testing.T, ts *testServer, mode string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.URL, DialOptions{Transport: mode})
	if err != nil {
		t.Fatalf("Dial(%s): %v", mode, err)
	}
	t.Cleanup(func() { c.Kill() })
	waitID(t, ts.connects, c.SID(), 5*time.Second)
	return c
}

// modes are the three ways the client connects, and the transport each
// ends on.
var modes = []struct {
	mode, final string
}{
	{TransportPolling, TransportPolling},
	{TransportWebsocket, TransportWebsocket},
	{TransportUpgrade, TransportWebsocket},
}

func TestClientTalksToGoSocketIO(t *testing.T) {
	for _, m := range modes {
		t.Run("over "+m.mode, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			ts := startTestServer(t, 250*time.Millisecond, 2*time.Second)
			a := dialT(t, ts, m.mode)
			b := dialT(t, ts, m.mode)
			defer a.Close()
			defer b.Close()
			if got := a.Transport(); got != m.final {
				t.Errorf("Transport() = %q, want %q", got, m.final)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			t.Run("a broadcast reaches everyone, sender included", func(t *testing.T) {
				text := "merhaba dünya <b>ğüşıöç</b> " + m.mode
				if err := a.Emit("chat message", text); err != nil {
					t.Fatal(err)
				}
				for name, c := range map[string]*Client{"sender": a, "other": b} {
					ev, err := c.Next(ctx, "chat message")
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					got, err := ev.StringArg(0)
					if err != nil || got != text {
						t.Errorf("%s got %q (%v), want %q", name, got, err, text)
					}
				}
			})

			t.Run("many messages arrive in order", func(t *testing.T) {
				const n = 50
				for i := range n {
					if err := a.Emit("chat message", fmt.Sprint(i)); err != nil {
						t.Fatal(err)
					}
				}
				for i := range n {
					ev, err := b.Next(ctx, "chat message")
					if err != nil {
						t.Fatal(err)
					}
					if got, _ := ev.StringArg(0); got != fmt.Sprint(i) {
						t.Fatalf("message %d = %q", i, got)
					}
				}
				for range n {
					if _, err := a.Next(ctx, "chat message"); err != nil {
						t.Fatal(err)
					}
				}
			})

			t.Run("an ack returns the server's answer", func(t *testing.T) {
				for i := range 3 {
					want := fmt.Sprintf("yankı %d", i)
					args, err := a.EmitAck(ctx, "echo", want)
					if err != nil {
						t.Fatal(err)
					}
					var got string
					if len(args) != 1 || json.Unmarshal(args[0], &got) != nil || got != want {
						t.Errorf("ack args = %s, want [%q]", args, want)
					}
				}
			})

			t.Run("a raw packet is sent as is", func(t *testing.T) {
				if err := b.SendRaw(`42["chat message","ham paket"]`); err != nil {
					t.Fatal(err)
				}
				ev, err := a.Next(ctx, "chat message")
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := ev.StringArg(0); got != "ham paket" {
					t.Errorf("got %q", got)
				}
			})

			t.Run("Close makes the server see a disconnect at once", func(t *testing.T) {
				start := time.Now()
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				// Well under the 2 s ping timeout: the goodbye was heard.
				waitID(t, ts.disconnects, b.SID(), time.Second)
				t.Logf("disconnect seen after %v", time.Since(start))
				if !errors.Is(b.Err(), ErrClosed) {
					t.Errorf("Err() = %v, want ErrClosed", b.Err())
				}
				if err := b.Emit("chat message", "x"); err == nil {
					t.Error("Emit after Close succeeded")
				}
			})

			t.Run("the server closing the connection ends the client", func(t *testing.T) {
				if err := a.Emit("bye"); err != nil {
					t.Fatal(err)
				}
				select {
				case <-a.Done():
					t.Logf("ended with: %v", a.Err())
				case <-ctx.Done():
					t.Fatal("client did not notice the server's close")
				}
				waitID(t, ts.disconnects, a.SID(), 5*time.Second)
				if _, err := a.Next(ctx, "nothing"); err == nil {
					t.Error("Next after the end returned no error")
				}
			})
		})
	}
}

// TestVanishingIsNoticed: a Kill closes TCP, which the server sees at
// once over websocket; over polling it sees it at once when a GET was
// pending, else at its ping timeout. A Freeze keeps TCP open and silent, so
// the server can notice only by its ping timeout.
func TestVanishingIsNoticed(t *testing.T) {
	const interval, timeout = 250 * time.Millisecond, 2 * time.Second
	const atOnce, atTimeout, byTimeout = "at once", "at the ping timeout", "by the ping timeout"
	cases := []struct {
		name   string
		mode   string
		vanish func(*Client)
		when   string
	}{
		{"websocket Kill", TransportWebsocket, (*Client).Kill, atOnce},
		{"polling Kill", TransportPolling, (*Client).Kill, byTimeout},
		{"websocket Freeze", TransportWebsocket, (*Client).Freeze, atTimeout},
		{"polling Freeze", TransportPolling, (*Client).Freeze, atTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			ts := startTestServer(t, interval, timeout)
			c := dialT(t, ts, tc.mode)
			defer c.Close()
			start := time.Now()
			tc.vanish(c)
			waitID(t, ts.disconnects, c.SID(), timeout+5*time.Second)
			took := time.Since(start)
			t.Logf("server saw the disconnect after %v, want %s", took, tc.when)
			early, late := took < timeout-interval-100*time.Millisecond, took > timeout+time.Second
			if tc.when == atOnce && !early || tc.when == atTimeout && (early || late) || tc.when == byTimeout && late {
				t.Errorf("server saw the disconnect after %v, want %s (%v)", took, tc.when, timeout)
			}
		})
	}
}

func TestPingsKeepAnIdleConnectionUp(t *testing.T) {
	for _, m := range modes {
		t.Run("over "+m.mode, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			ts := startTestServer(t, 100*time.Millisecond, 400*time.Millisecond)
			a := dialT(t, ts, m.mode)
			defer a.Close()
			// A client that stops reading stays connected over websocket
			// (its pings still go out). Over polling go-socket.io cannot
			// deliver the pong without a GET and drops it, so only
			// websocket is checked here.
			slow := a
			if m.final == TransportWebsocket {
				slow = dialT(t, ts, m.mode)
				defer slow.Close()
				slow.StopReading()
			}
			// Stay idle for several ping timeouts: the connection must live.
			idle := time.After(1500 * time.Millisecond)
		wait:
			for {
				select {
				case <-a.Done():
					t.Fatalf("connection ended: %v", a.Err())
				case <-slow.Done():
					t.Fatalf("non-reading connection ended: %v", slow.Err())
				case id := <-ts.disconnects:
					t.Fatalf("server dropped %s", id)
				case <-idle:
					break wait
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := a.Emit("chat message", "hâlâ burada"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Next(ctx, "chat message"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDialReportsRefusals(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
	}))
	defer hs.Close()
	for _, mode := range []string{TransportPolling, TransportWebsocket, TransportUpgrade} {
		_, err := Dial(context.Background(), hs.URL, DialOptions{Transport: mode, Origin: "http://evil.example"})
		if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "origin not allowed") {
			t.Errorf("%s: Dial error = %v, want HTTP 403 and the body", mode, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ts := startTestServer(t, time.Second, 2*time.Second)
	if _, err := Dial(ctx, ts.URL, DialOptions{Transport: TransportPolling}); err == nil {
		t.Error("Dial with a cancelled context succeeded")
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one packet", "2:40", []string{"40"}},
		{"several packets", `1:67:42["a"]2:40`, []string{"6", `42["a"]`, "40"}},
		{"lengths in UTF-16 units", "6:42\"ğü\"1:6", []string{`42"ğü"`, "6"}},
		{"an emoji is two units", "6:42\"🙂\"", []string{`42"🙂"`}},
		{"a packet that holds digits and a colon", `9:42["1:2"]`, []string{`42["1:2"]`}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePayload([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
				t.Errorf("decodePayload(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"x:40", "9:40", "2", "8:42\"ğü\"1:6", "0:"} {
		if _, err := decodePayload([]byte(bad)); err == nil {
			t.Errorf("decodePayload(%q) succeeded", bad)
		}
	}
	if got := string(encodePayload([]string{"2", `42["ğ🙂"]`})); got != `1:29:42["ğ🙂"]` {
		t.Errorf("encodePayload in UTF-16 units = %q", got)
	}
}
