package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"sohbet/internal/chattest"
)

// dial opens a WebSocket to the server at base (an http:// URL) with the
// given Origin header ("" sends none).
func dial(t *testing.T, base, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", h)
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// echo sends text on conn and returns the next text message it reads.
func echo(t *testing.T, conn *websocket.Conn, text string) (string, error) {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		return "", err
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	return string(msg), err
}

func TestWebSocketEchoesTextMessages(t *testing.T) {
	srv := httptest.NewServer(newServer())
	defer srv.Close()

	conn, _, err := dial(t, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"merhaba", "çğıİöşü 🙂", strings.Repeat("a", maxMessageSize)} {
		got, err := echo(t, conn, text)
		if err != nil {
			t.Fatalf("echo of %d bytes: %v", len(text), err)
		}
		if got != text {
			t.Fatalf("echo = %.40q, want %.40q", got, text)
		}
	}
}

func TestOversizedMessageClosesOnlyThatConnection(t *testing.T) {
	srv := httptest.NewServer(newServer())
	defer srv.Close()

	big, _, err := dial(t, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := dial(t, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}

	_, err = echo(t, big, strings.Repeat("x", maxMessageSize+1))
	var closeErr *websocket.CloseError
	if !errors.As(err, &closeErr) || closeErr.Code != websocket.CloseMessageTooBig {
		t.Fatalf("oversized message: got %v, want close code %d (message too big)", err, websocket.CloseMessageTooBig)
	}

	if got, err := echo(t, other, "hâlâ buradayım"); err != nil || got != "hâlâ buradayım" {
		t.Fatalf("other connection after the oversized message: %q, %v", got, err)
	}
}

func TestOriginCheck(t *testing.T) {
	srv := httptest.NewServer(newServer())
	defer srv.Close()

	tests := []struct {
		name   string
		origin string
		wantOK bool
	}{
		{"a client without an Origin header connects", "", true},
		{"the page's own origin connects", srv.URL, true},
		{"a foreign origin is refused", "https://kotu-site.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := dial(t, srv.URL, tt.origin)
			if tt.wantOK && err != nil {
				t.Fatalf("dial: %v", err)
			}
			if !tt.wantOK {
				if err == nil {
					t.Fatal("dial succeeded, want refusal")
				}
				if resp == nil || resp.StatusCode != http.StatusForbidden {
					t.Fatalf("refusal response = %v, want 403", resp)
				}
			}
		})
	}
}

func TestBinaryEchoesAndClosesConnectionsOnSIGTERM(t *testing.T) {
	p := chattest.Start(t, chattest.Build(t, "."))

	resp, err := http.Get(p.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}

	conn, _, err := dial(t, p.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := echo(t, conn, "selam"); err != nil || got != "selam" {
		t.Fatalf("echo = %q, %v", got, err)
	}

	closed := make(chan error, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := conn.ReadMessage()
		closed <- err
	}()

	code, took, err := p.Stop(syscall.SIGTERM, 10*time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit after SIGTERM: code %d, err %v", code, err)
	}
	t.Logf("exited 0 in %v after SIGTERM with one open WebSocket", took.Round(time.Millisecond))

	var closeErr *websocket.CloseError
	if err := <-closed; !errors.As(err, &closeErr) || closeErr.Code != websocket.CloseGoingAway {
		t.Fatalf("client saw %v, want a going-away close frame", err)
	}
}

// TestPingsKeepHerokusIdleCutAway checks the ping timing against Heroku's
// router, which closes a connection that carries no data for 55 seconds:
// a ping must go out well before that, and before the peer is declared
// dead (pongWait).
func TestPingsKeepHerokusIdleCutAway(t *testing.T) {
	const herokuIdle = 55 * time.Second
	if pingPeriod >= pongWait {
		t.Errorf("pingPeriod %v must be shorter than pongWait %v", pingPeriod, pongWait)
	}
	if margin := herokuIdle - pingPeriod; margin < herokuIdle/2 {
		t.Errorf("pingPeriod %v leaves %v before Heroku's %v idle cut; want at least half of it", pingPeriod, margin, herokuIdle)
	}
}
