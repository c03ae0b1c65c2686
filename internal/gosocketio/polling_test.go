package gosocketio

// Tests of one long-polling connection on its own, driven the way
// go-socket.io's session drives it: NextReader and NextWriter from the
// session's goroutines, Pause, Resume and Close from its upgrade.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/gorilla/websocket"
)

// wait bounds every wait in these tests.
const wait = 5 * time.Second

func newTestPollingConn(t *testing.T, maxQueue int) *pollingConn {
	t.Helper()
	tr := &pollingTransport{log: slog.New(slog.DiscardHandler), maxQueue: maxQueue}
	c, err := tr.Accept(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=3&transport=polling&b64=1", nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*pollingConn)
}

// write writes one text packet the way go-socket.io's encoder does.
func write(t *testing.T, c *pollingConn, pt packet.Type, data string) {
	t.Helper()
	w, err := c.NextWriter(frame.String, pt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// get starts a long-poll GET and returns a channel that yields its body.
func get(c *pollingConn) <-chan string {
	ch := make(chan string, 1)
	go func() {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=3&transport=polling&b64=1&sid=x", nil))
		ch <- rec.Body.String()
	}()
	return ch
}

func body(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(wait):
		t.Fatal("the GET was not answered")
		return ""
	}
}

// post sends a text body as a POST and returns its status.
func post(c *pollingConn, payload string) <-chan int {
	ch := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/socket.io/?EIO=3&transport=polling&b64=1&sid=x", strings.NewReader(payload))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		c.ServeHTTP(rec, req)
		ch <- rec.Code
	}()
	return ch
}

// handshake answers the first GET, which waits for the open packet and
// Socket.IO's connect packet together.
func handshake(t *testing.T, c *pollingConn) {
	t.Helper()
	first := get(c)
	write(t, c, packet.OPEN, `{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":60000}`)
	select {
	case b := <-first:
		t.Fatalf("the handshake was answered before the connect packet: %q", b)
	case <-time.After(20 * time.Millisecond):
	}
	write(t, c, packet.MESSAGE, "0")
	if got := body(t, first); !strings.HasSuffix(got, "2:40") || !strings.Contains(got, `"sid":"abc"`) {
		t.Fatalf("handshake answer %q, want the open and the connect packet", got)
	}
}

func TestAGetTakesEveryQueuedPacket(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	handshake(t, c)
	for _, m := range []string{`2["chat message","bir"]`, `2["chat message","ağaç"]`, `2["chat message","üç"]`} {
		write(t, c, packet.MESSAGE, m)
	}
	want := `24:42["chat message","bir"]25:42["chat message","ağaç"]23:42["chat message","üç"]`
	if got := body(t, get(c)); got != want {
		t.Fatalf("GET = %q, want all three in one answer %q", got, want)
	}
}

func TestAPausedConnectionAnswersAtOnceAndHoldsWriters(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	handshake(t, c)
	pending := get(c)
	c.Pause()
	if got := body(t, pending); got != "1:6" {
		t.Fatalf("the pending GET got %q when paused, want a noop", got)
	}
	wrote := make(chan error, 1)
	go func() {
		w, err := c.NextWriter(frame.String, packet.MESSAGE)
		if err == nil {
			_, _ = io.WriteString(w, "geç")
			err = w.Close()
		}
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("a writer went through while paused (%v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	c.Resume()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if got := body(t, get(c)); got != "4:4geç" {
		t.Fatalf("GET after Resume = %q", got)
	}
}

func TestAPostDuringThePauseIsRead(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	handshake(t, c)
	c.Pause()
	status := post(c, `25:42["chat message","ağaç"]`)
	ft, pt, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(r)
	if ft != frame.String || pt != packet.MESSAGE || string(data) != `2["chat message","ağaç"]` {
		t.Fatalf("read %d %d %q", ft, pt, data)
	}
	if code := <-status; code != http.StatusOK {
		t.Fatalf("POST during the pause = %d, want 200", code)
	}
}

// TestTheUpgradeHandsOverWithoutLoss is the upgrade fix: go-socket.io
// closes the polling connection once the WebSocket has taken over. The
// session's reader and writer, waiting on the polling connection at that
// moment, must be told to try again (on the WebSocket) rather than fail
// (which would close the new WebSocket too), and packets still queued for
// polling must reach the WebSocket first.
func TestTheUpgradeHandsOverWithoutLoss(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	handshake(t, c)
	ws, client := websocketPair(t)
	c.handOver(ws)

	write(t, c, packet.MESSAGE, `2["chat message","kuyrukta 1"]`)
	write(t, c, packet.MESSAGE, `2["chat message","kuyrukta 2"]`)
	readErr := make(chan error, 1)
	go func() {
		_, _, _, err := c.NextReader()
		readErr <- err
	}()
	c.Pause()
	writeErr := make(chan error, 1)
	go func() {
		_, err := c.NextWriter(frame.String, packet.MESSAGE)
		writeErr <- err
	}()
	_ = c.Close() // what go-socket.io does after the swap

	for name, ch := range map[string]chan error{"reader": readErr, "writer": writeErr} {
		var temp interface{ Temporary() bool }
		if err := <-ch; !errors.As(err, &temp) || !temp.Temporary() {
			t.Fatalf("the waiting %s got %v, want a temporary error (try again on the new transport)", name, err)
		}
	}
	// Only once: a closed connection that is asked again is closed.
	if _, _, _, err := c.NextReader(); err != io.EOF {
		t.Fatalf("a second read got %v, want io.EOF", err)
	}
	if _, err := c.NextWriter(frame.String, packet.MESSAGE); err != io.EOF {
		t.Fatalf("a second write got %v, want io.EOF", err)
	}
	for _, want := range []string{`42["chat message","kuyrukta 1"]`, `42["chat message","kuyrukta 2"]`} {
		_ = client.SetReadDeadline(time.Now().Add(wait))
		_, got, err := client.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("the WebSocket got %q (%v), want %q", got, err, want)
		}
	}
}

func TestAClosedConnectionEndsItsPollWithAClosePacket(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	handshake(t, c)
	pending := get(c)
	write(t, c, packet.MESSAGE, `2["chat notice","sunucu yeniden başlıyor"]`)
	first := body(t, pending)
	pending = get(c)
	_ = c.Close()
	if got := first + body(t, pending); got != `43:42["chat notice","sunucu yeniden başlıyor"]1:1` {
		t.Fatalf("GETs = %q, want the notice, then the close packet", got)
	}
}

func TestAFullQueueHoldsTheWriterUntilAPollOrItsDeadline(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	handshake(t, c)
	c.t.maxQueue = 10
	write(t, c, packet.MESSAGE, "0123456789") // fills the queue
	_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.NextWriter(frame.String, packet.MESSAGE); !errors.Is(err, errWriteTimeout) {
		t.Fatalf("NextWriter on a full queue = %v, want the write timeout", err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	got := make(chan error, 1)
	go func() {
		_, err := c.NextWriter(frame.String, packet.MESSAGE)
		got <- err
	}()
	if b := body(t, get(c)); b != "11:40123456789" {
		t.Fatalf("GET = %q", b)
	}
	if err := <-got; err != nil {
		t.Fatalf("NextWriter after the poll = %v", err)
	}
}

func TestAReaderGivesUpAtItsDeadline(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, _, err := c.NextReader(); !errors.Is(err, errReadTimeout) {
		t.Fatalf("NextReader = %v, want the read timeout", err)
	}
}

// go-socket.io swaps the session to the WebSocket before it closes the
// polling connection. A message written in between, straight to the
// WebSocket, must still come after the packets left in the polling queue.
// (Found by TestUpgradesUnderTrafficLoseNothing failing about once in 200
// runs: "message 1160 followed 1156".)
func TestAMessageAfterTheSwapWaitsForTheLeftovers(t *testing.T) {
	c := newTestPollingConn(t, 1<<20)
	handshake(t, c)
	ws, client := websocketPair(t)
	c.handOver(ws)
	write(t, c, packet.MESSAGE, `2["chat message","kuyrukta"]`)
	c.Pause()

	// The session's writer, now on the WebSocket, before Close.
	wrote := make(chan error, 1)
	go func() {
		w, err := ws.NextWriter(frame.String, packet.MESSAGE)
		if err == nil {
			_, _ = io.WriteString(w, `2["chat message","yeni"]`)
			err = w.Close()
		}
		wrote <- err
	}()
	// The probe's pong is not held back: the upgrade needs it.
	pong, err := ws.NextWriter(frame.String, packet.PONG)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(pong, "probe")
	if err := pong.Close(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(wait))
	if _, got, err := client.ReadMessage(); err != nil || string(got) != "3probe" {
		t.Fatalf("the WebSocket got %q (%v) first, want the pong 3probe", got, err)
	}
	select {
	case err := <-wrote:
		t.Fatalf("the new message went out before the polling connection closed (%v)", err)
	case <-time.After(50 * time.Millisecond):
		// Still held, as it must be: nothing to wait for but time here,
		// since the point is that nothing happens.
	}
	_ = c.Close()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`42["chat message","kuyrukta"]`, `42["chat message","yeni"]`} {
		_ = client.SetReadDeadline(time.Now().Add(wait))
		_, got, err := client.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("the WebSocket got %q (%v), want %q", got, err, want)
		}
	}
}

// websocketPair returns the server side of a real WebSocket connection,
// accepted by this package's transport, and its client side.
func websocketPair(t *testing.T) (*wsConn, *websocket.Conn) {
	t.Helper()
	tr := newWebsocketTransport(slog.New(slog.DiscardHandler), 1<<20, func(*http.Request) bool { return true }, &pollingTransport{})
	accepted := make(chan *wsConn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := tr.Accept(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		accepted <- c.(*wsConn)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	client, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	c := <-accepted
	t.Cleanup(func() { _ = c.Close() })
	return c, client
}
