package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/gosocketio"
	"sohbet/internal/sioclient"
	"sohbet/third_party/socketioclient"
)

// transports are the ways a Socket.IO 2 client can reach the server: long
// polling only, WebSocket only, and the browser default (polling, then an
// upgrade to WebSocket).
var transports = []string{"polling", "websocket", "upgrade"}

// startServer runs newServer behind a real HTTP server, as run does.
func startServer(t *testing.T, allowedOrigins ...string) (*server, string) {
	t.Helper()
	s := newServer(allowedOrigins)
	go func() { _ = s.io.Serve() }()
	ts := httptest.NewServer(s)
	// As run does: close everyone, stop HTTP, then Socket.IO.
	t.Cleanup(func() {
		s.closeConnections()
		ts.Close()
		_ = gosocketio.Close(s.io)
	})
	return s, ts.URL
}

// get performs a GET with an optional Origin header and returns the status
// and body.
func get(t *testing.T, url, origin string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func dial(t *testing.T, base, mode string, opts sioclient.DialOptions) *sioclient.Client {
	t.Helper()
	opts.Transport = mode
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, base, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", mode, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestPageLoadsTheEmbeddedClientAndConnects(t *testing.T) {
	_, base := startServer(t)

	code, body := get(t, base+"/", "")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	for _, want := range []string{`<script src="/socket.io/socket.io.js"></script>`, `const socket = io();`, `socket.emit('chat message', input.value);`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	code, js := get(t, base+socketioclient.Path, "")
	if code != http.StatusOK || js != string(socketioclient.JS) {
		t.Fatalf("GET %s = %d, embedded client served: %v", socketioclient.Path, code, js == string(socketioclient.JS))
	}
}

func TestClientsConnectOverEveryTransport(t *testing.T) {
	for _, mode := range transports {
		t.Run(mode, func(t *testing.T) {
			s, base := startServer(t)
			c := dial(t, base, mode, sioclient.DialOptions{})
			if !chattest.Eventually(5*time.Second, func() bool { return connCount(s) == 1 }) {
				t.Fatalf("server sees %d connections, want 1", connCount(s))
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if !chattest.Eventually(5*time.Second, func() bool { return connCount(s) == 0 }) {
				t.Fatalf("after Close the server still sees %d connections", connCount(s))
			}
		})
	}
}

func connCount(s *server) int {
	n := 0
	s.conns.Range(func(any, any) bool { n++; return true })
	return n
}

// The guards of internal/gosocketio (tested there) are wired in: a newer
// client is refused with a clear error, and ALLOWED_ORIGINS is honoured on
// both transports.
func TestNewerProtocolGetsAClearError(t *testing.T) {
	_, base := startServer(t)
	for _, eio := range []string{"4", ""} {
		code, body := get(t, base+"/socket.io/?EIO="+eio+"&transport=polling", "")
		if code != http.StatusBadRequest {
			t.Errorf("EIO=%q: status %d, want 400", eio, code)
		}
		if !strings.Contains(body, "socket.io-client 2.x") {
			t.Errorf("EIO=%q: body %q does not name the supported client", eio, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := sioclient.Dial(ctx, base, sioclient.DialOptions{Transport: "websocket", EIO: "4"})
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("websocket dial with EIO=4: %v, want a 400 refusal", err)
	}
}

func TestOriginCheckOnBothTransports(t *testing.T) {
	const friend = "https://dost.example"
	const stranger = "https://yabanci.example"
	_, base := startServer(t, friend)

	for _, mode := range []string{"polling", "websocket"} {
		t.Run(mode+": the page's own origin connects", func(t *testing.T) {
			dial(t, base, mode, sioclient.DialOptions{Origin: base})
		})
		t.Run(mode+": an allow-listed origin connects", func(t *testing.T) {
			dial(t, base, mode, sioclient.DialOptions{Origin: friend})
		})
		t.Run(mode+": a foreign origin is refused", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := sioclient.Dial(ctx, base, sioclient.DialOptions{Transport: mode, Origin: stranger})
			if err == nil {
				c.Close()
				t.Fatal("a foreign origin connected")
			}
			if !strings.Contains(err.Error(), "403") {
				t.Fatalf("refusal = %v, want HTTP 403", err)
			}
		})
	}

	code, _ := get(t, base+"/socket.io/?EIO=3&transport=polling&b64=1", stranger)
	if code != http.StatusForbidden {
		t.Fatalf("raw polling handshake from a foreign origin = %d, want 403", code)
	}
}

func TestServerReceivesChatMessageOverEveryTransport(t *testing.T) {
	logs := chattest.CaptureLog(t)
	_, base := startServer(t)
	for _, mode := range transports {
		t.Run(mode, func(t *testing.T) {
			c := dial(t, base, mode, sioclient.DialOptions{})
			text := "merhaba, " + mode + " üzerinden"
			if err := c.Emit("chat message", text); err != nil {
				t.Fatal(err)
			}
			if err := logs.Wait(fmt.Sprintf("mesaj: %q", text), 1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWrongPayloadTypesAreIgnoredAndKeepTheConnection(t *testing.T) {
	logs := chattest.CaptureLog(t)
	_, base := startServer(t)
	for _, mode := range []string{"polling", "websocket"} {
		t.Run(mode, func(t *testing.T) {
			c := dial(t, base, mode, sioclient.DialOptions{})
			before := logs.Count("yanlış türde mesaj yok sayıldı")
			bad := []string{
				`42["chat message",{"metin":"nesne"}]`,
				`42["chat message",42]`,
				`42["chat message",["dizi"]]`,
				`42["chat message",null]`,
				`42["chat message"]`,
			}
			for _, raw := range bad {
				if err := c.SendRaw(raw); err != nil {
					t.Fatal(err)
				}
			}
			// The server handles a connection's packets in order, so once
			// this one is logged, every bad one above has been handled.
			good := "hâlâ bağlıyım " + mode
			if err := c.Emit("chat message", good); err != nil {
				t.Fatal(err)
			}
			if err := logs.Wait(fmt.Sprintf("mesaj: %q", good), 1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := logs.Count("yanlış türde mesaj yok sayıldı") - before; got != len(bad) {
				t.Errorf("logged %d ignored payloads, want %d", got, len(bad))
			}
			select {
			case <-c.Done():
				t.Fatalf("the connection closed: %v", c.Err())
			default:
			}
		})
	}
}

// TestBinaryLogsConnectionsAndStopsOnSIGTERM runs the real program and
// checks what main wires: the log lines and the shutdown.
func TestBinaryLogsConnectionsAndStopsOnSIGTERM(t *testing.T) {
	p := chattest.Start(t, chattest.Build(t, "."))

	clients := make([]*sioclient.Client, 0, len(transports))
	for _, mode := range transports {
		clients = append(clients, dial(t, p.URL, mode, sioclient.DialOptions{}))
	}
	if err := p.WaitLogCount("bir kullanıcı bağlandı", len(transports), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := clients[1].Emit("chat message", "günaydın"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitLog(`mesaj: "günaydın"`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := clients[0].Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitLog("bir kullanıcı ayrıldı", 5*time.Second); err != nil {
		t.Fatal(err)
	}

	code, took, err := p.Stop(syscall.SIGTERM, 10*time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit after SIGTERM: code %d, err %v", code, err)
	}
	t.Logf("exited 0 in %v after SIGTERM with %d open connections", took.Round(time.Millisecond), len(clients)-1)
	for _, c := range clients[1:] {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s client still connected after shutdown", c.Transport())
		}
	}
}
