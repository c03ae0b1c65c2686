package gosocketio

// Tests of the whole package behind a real HTTP server, with go-socket.io's
// own session and Socket.IO layers on top and real clients in front.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/gorilla/websocket"

	"sohbet/internal/sioclient"
)

// chatServer is the smallest chat: every connection joins room "chat" and
// "chat message" is broadcast to the room.
type chatServer struct {
	URL  string
	io   *socketio.Server
	logs *bytes.Buffer

	mu       sync.Mutex
	logMu    sync.Mutex
	conns    int
	connects chan string
	leaves   chan string
}

func startChat(t *testing.T, opts Options) *chatServer {
	t.Helper()
	cs := &chatServer{logs: new(bytes.Buffer), connects: make(chan string, 256), leaves: make(chan string, 256)}
	opts.Logger = slog.New(slog.NewTextHandler(lockedWriter{&cs.logMu, cs.logs}, nil))
	cs.io = NewServer(opts)
	cs.io.OnConnect("/", func(c socketio.Conn) error {
		c.Join("chat")
		cs.mu.Lock()
		cs.conns++
		cs.mu.Unlock()
		cs.connects <- c.ID()
		return nil
	})
	cs.io.OnDisconnect("/", func(c socketio.Conn, _ string) {
		cs.mu.Lock()
		cs.conns--
		cs.mu.Unlock()
		cs.leaves <- c.ID()
	})
	cs.io.OnEvent("/", "chat message", func(c socketio.Conn, msg string) {
		cs.io.BroadcastToRoom("/", "chat", "chat message", msg)
	})
	go func() { _ = cs.io.Serve() }()
	ts := httptest.NewServer(Handler(cs.io, opts))
	cs.URL = ts.URL
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", cs.log())
		}
	})
	return cs
}

func (cs *chatServer) log() string {
	cs.logMu.Lock()
	defer cs.logMu.Unlock()
	return cs.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// waitFor waits for id on ch, skipping others.
func waitFor(t *testing.T, ch chan string, id string) {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case got := <-ch:
			if got == id {
				return
			}
		case <-timeout:
			t.Fatalf("the server did not report %s", id)
		}
	}
}

func dial(t *testing.T, cs *chatServer, mode string) *sioclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := sioclient.Dial(ctx, cs.URL, sioclient.DialOptions{Transport: mode})
	if err != nil {
		t.Fatalf("dial %s: %v", mode, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	waitFor(t, cs.connects, c.SID())
	return c
}

func request(t *testing.T, method, url, origin, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestNewerClientsGetAClearRefusal(t *testing.T) {
	cs := startChat(t, Options{})
	for _, eio := range []string{"4", ""} {
		resp, body := request(t, http.MethodGet, cs.URL+"/socket.io/?EIO="+eio+"&transport=polling", "", "", "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "socket.io-client 2.x") {
			t.Errorf("EIO=%q: %d %q, want 400 naming socket.io-client 2.x", eio, resp.StatusCode, body)
		}
	}
	if !strings.Contains(cs.log(), "desteklenmeyen protokol") {
		t.Error("the refusal is not logged")
	}
}

func TestJSONPIsRefused(t *testing.T) {
	cs := startChat(t, Options{})
	resp, body := request(t, http.MethodGet, cs.URL+"/socket.io/?EIO=3&transport=polling&j=0", "", "", "")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "JSONP") {
		t.Fatalf("JSONP handshake = %d %q", resp.StatusCode, body)
	}
}

func TestOriginsAreCheckedOnBothTransports(t *testing.T) {
	const friend, stranger = "https://dost.example", "https://yabanci.example"
	cs := startChat(t, Options{AllowedOrigins: ParseOrigins(" https://DOST.example/ ")})
	for _, mode := range []string{sioclient.TransportPolling, sioclient.TransportWebsocket} {
		for _, origin := range []string{"", cs.URL, friend} {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			c, err := sioclient.Dial(ctx, cs.URL, sioclient.DialOptions{Transport: mode, Origin: origin})
			cancel()
			if err != nil {
				t.Errorf("%s from %q: %v", mode, origin, err)
				continue
			}
			_ = c.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		c, err := sioclient.Dial(ctx, cs.URL, sioclient.DialOptions{Transport: mode, Origin: stranger})
		cancel()
		if err == nil {
			_ = c.Close()
			t.Errorf("%s: a foreign origin connected", mode)
		} else if !strings.Contains(err.Error(), "403") {
			t.Errorf("%s: foreign origin refused with %v, want 403", mode, err)
		}
	}
	// A page on an allowed origin can read the long-polling answers.
	resp, _ := request(t, http.MethodGet, cs.URL+"/socket.io/?EIO=3&transport=polling&b64=1", friend, "", "")
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != friend {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, friend)
	}
}

func TestSessionIDsAreRandom(t *testing.T) {
	cs := startChat(t, Options{})
	seen := map[string]bool{}
	for range 20 {
		c := dial(t, cs, sioclient.TransportWebsocket)
		if len(c.SID()) < 22 || seen[c.SID()] {
			t.Fatalf("session ID %q is short or repeated", c.SID())
		}
		seen[c.SID()] = true
	}
}

// TestTheNextRequestFindsTheSession is the "invalid sid" race of
// go-socket.io v1.7.0: it registers a session only after writing the
// handshake, so a client's next request could arrive first.
func TestTheNextRequestFindsTheSession(t *testing.T) {
	cs := startChat(t, Options{})
	for i := range 200 {
		_, body := request(t, http.MethodGet, cs.URL+"/socket.io/?EIO=3&transport=polling&b64=1", "", "", "")
		sid := between(body, `"sid":"`, `"`)
		resp, answer := request(t, http.MethodPost, cs.URL+"/socket.io/?EIO=3&transport=polling&b64=1&sid="+sid,
			"", "text/plain;charset=UTF-8", "1:2")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("handshake %d: the next request got %d %q", i, resp.StatusCode, answer)
		}
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}

func TestAnOversizedPollIsRefusedAndEndsTheSession(t *testing.T) {
	cs := startChat(t, Options{MaxPayloadBytes: 4096})
	c := dial(t, cs, sioclient.TransportPolling)
	huge := strings.Repeat("x", 4096)
	resp, _ := request(t, http.MethodPost, cs.URL+"/socket.io/?EIO=3&transport=polling&b64=1&sid="+c.SID(),
		"", "text/plain;charset=UTF-8", strconv.Itoa(len(huge)+1)+":4"+huge)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized POST = %d, want 413", resp.StatusCode)
	}
	waitFor(t, cs.leaves, c.SID())
	if !strings.Contains(cs.log(), "gövdesi sınırı aşıyor") {
		t.Error("the refusal is not logged")
	}
}

// TestAnOversizedWebSocketMessageIsRefusedBeforeItIsRead sends frames that
// announce 100 MB each and then stream their bytes. The server must refuse
// each as soon as it reads the frame's header, close only that connection,
// and never hold the payload in memory.
func TestAnOversizedWebSocketMessageIsRefusedBeforeItIsRead(t *testing.T) {
	const limit, announced = 64 << 10, 100 << 20
	for _, n := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d at once", n), func(t *testing.T) {
			cs := startChat(t, Options{MaxPayloadBytes: limit})
			a := dial(t, cs, sioclient.TransportWebsocket)
			b := dial(t, cs, sioclient.TransportPolling)
			before := heapInUse()

			var wg sync.WaitGroup
			sent := make([]int64, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sent[i] = sendHugeFrame(t, cs.URL, announced)
				}()
			}
			wg.Wait()
			after := heapInUse()
			var total int64
			for _, s := range sent {
				total += s
			}
			t.Logf("%d clients each announced %d MB and wrote %d KB in all before the server closed them; heap in use %d KB → %d KB",
				n, announced>>20, total>>10, before>>10, after>>10)
			if grow := int64(after) - int64(before); grow > 8<<20 {
				t.Errorf("heap grew by %d MB, want it bounded", grow>>20)
			}
			if got := strings.Count(cs.log(), "WebSocket mesajı sınırı aşıyor"); got != n {
				t.Errorf("%d refusals logged, want %d", got, n)
			}
			// The others still chat.
			if err := a.Emit("chat message", "hâlâ buradayız"); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*sioclient.Client{a, b} {
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				ev, err := c.Next(ctx, "chat message")
				cancel()
				if got, _ := ev.StringArg(0); err != nil || got != "hâlâ buradayız" {
					t.Fatalf("%s got %q, %v", c.Transport(), got, err)
				}
			}
		})
	}
}

// sendHugeFrame opens an Engine.IO WebSocket and writes the header of one
// masked text frame of size bytes, then zeros, until the server closes
// the connection. It returns how many payload bytes it wrote.
func sendHugeFrame(t *testing.T, base string, size int64) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer ws.Close()
	conn := ws.NetConn()
	_ = conn.SetDeadline(time.Now().Add(wait))
	header := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // FIN+text, masked, 64-bit length, zero mask
	binary.BigEndian.PutUint64(header[2:10], uint64(size))
	if _, err := conn.Write(header); err != nil {
		t.Error(err)
		return 0
	}
	chunk := make([]byte, 64<<10)
	var sent int64
	for sent < size {
		n, err := conn.Write(chunk)
		sent += int64(n)
		if err != nil {
			return sent
		}
	}
	t.Errorf("the server read all %d MB of an oversized frame", size>>20)
	return sent
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestUpgradesUnderTrafficLoseNothing upgrades one client after another
// from long-polling to WebSocket while a sender broadcasts numbered
// messages without pause. Each upgraded client must stay connected and see
// the numbers without a gap, a repeat or a swap, across its upgrade.
func TestUpgradesUnderTrafficLoseNothing(t *testing.T) {
	const upgrades, after = 20, 50
	cs := startChat(t, Options{})
	sender := dial(t, cs, sioclient.TransportWebsocket)
	stop := make(chan struct{})
	sent := make(chan error, 1)
	go func() {
		// About 5,000 messages a second: 5 every millisecond.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; {
			select {
			case <-stop:
				sent <- nil
				return
			case <-tick.C:
			}
			for range 5 {
				if err := sender.Emit("chat message", strconv.Itoa(i)); err != nil {
					sent <- err
					return
				}
				i++
			}
		}
	}()
	defer func() {
		close(stop)
		if err := <-sent; err != nil {
			t.Error(err)
		}
	}()

	for u := range upgrades {
		c := dial(t, cs, sioclient.TransportUpgrade)
		if c.Transport() != sioclient.TransportWebsocket {
			t.Fatalf("upgrade %d: still on %s", u, c.Transport())
		}
		prev := -1
		for seen := 0; seen < after; {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			ev, err := c.Next(ctx, "chat message")
			cancel()
			if err != nil {
				t.Fatalf("upgrade %d: after %d messages: %v", u, seen, err)
			}
			text, _ := ev.StringArg(0)
			n, _ := strconv.Atoi(text)
			if prev >= 0 && n != prev+1 {
				t.Fatalf("upgrade %d: message %d followed %d", u, n, prev)
			}
			prev = n
			seen++
		}
		if err := c.Close(); err != nil {
			t.Fatalf("upgrade %d: Close: %v", u, err)
		}
	}
}

// FuzzGuard sends arbitrary query strings and Origin headers to the
// guard. Only same-origin or allow-listed requests with EIO=3 and without
// JSONP may pass; nothing may panic.
func FuzzGuard(f *testing.F) {
	f.Add("EIO=3&transport=polling", "")
	f.Add("EIO=4&transport=websocket", "https://yabanci.example")
	f.Add("EIO=3&transport=polling&sid=abc", "http://example.com")
	f.Add("EIO=3&transport=polling", "https://dost.example")
	f.Add("EIO=3&transport=polling&j=1", "")
	f.Add("EIO=%zz", "::bozuk::")
	passed := false
	h := guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true }),
		Options{AllowedOrigins: []string{"https://dost.example"}, Logger: slog.New(slog.DiscardHandler)})
	f.Fuzz(func(t *testing.T, query, origin string) {
		req := httptest.NewRequest(http.MethodGet, "http://example.com/socket.io/", nil)
		req.URL.RawQuery = query
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		passed = false
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !passed {
			return
		}
		q := req.URL.Query()
		if q.Get("EIO") != "3" || q.Get("j") != "" {
			t.Fatalf("query %q passed", query)
		}
		if o := normalizeOrigin(origin); origin != "" && o != "https://dost.example" && !sameHost(origin, "example.com") {
			t.Fatalf("origin %q passed", origin)
		}
	})
}

func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}

// TestCloseRightAfterAHandshakeIsSafe: go-socket.io sets a session up in
// a goroutine of its own that ends with a send on its accept channel;
// socketio.Server.Close closes that channel, and a send on a closed
// channel crashes the process. http.Server.Shutdown does not wait for a
// WebSocket's handler, so Close must wait for sessions still being set up.
func TestCloseRightAfterAHandshakeIsSafe(t *testing.T) {
	for i := range 300 {
		opts := Options{Logger: slog.New(slog.DiscardHandler)}
		srv := NewServer(opts)
		srv.OnConnect("/", func(socketio.Conn) error { return nil })
		go func() { _ = srv.Serve() }()
		ts := httptest.NewServer(Handler(srv, opts))
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/socket.io/?EIO=3&transport=websocket", nil)
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		ts.Close()
		if err := Close(srv); err != nil {
			t.Fatal(err)
		}
		_ = ws.Close()
	}
}

// TestRefuseSaysWhyAndFreesTheSession: a connection refused in OnConnect
// gets the reason, then the close, and go-socket.io's session list does
// not keep it (returning an error from OnConnect would leak it).
func TestRefuseSaysWhyAndFreesTheSession(t *testing.T) {
	opts := Options{Logger: slog.New(slog.DiscardHandler)}
	srv := NewServer(opts)
	srv.OnConnect("/", func(c socketio.Conn) error {
		Refuse(c, "chat notice", "sunucu dolu")
		return nil
	})
	go func() { _ = srv.Serve() }()
	ts := httptest.NewServer(Handler(srv, opts))
	t.Cleanup(func() {
		ts.Close()
		_ = Close(srv)
	})
	for _, mode := range []string{sioclient.TransportPolling, sioclient.TransportWebsocket} {
		for range 10 {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			c, err := sioclient.Dial(ctx, ts.URL, sioclient.DialOptions{Transport: mode})
			if err != nil {
				cancel()
				t.Fatalf("%s: %v", mode, err)
			}
			ev, err := c.Next(ctx, "chat notice")
			cancel()
			if got, _ := ev.StringArg(0); err != nil || got != "sunucu dolu" {
				t.Fatalf("%s: notice %q, %v", mode, got, err)
			}
			<-c.Done()
		}
	}
	if !waitTrue(func() bool { return srv.Count() == 0 }) {
		t.Fatalf("go-socket.io still counts %d sessions", srv.Count())
	}
}

// waitTrue checks cond on every change of a short ticker until it holds
// or wait passes.
func waitTrue(cond func() bool) bool {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			return cond()
		}
	}
	return true
}

// TestAnAckGoesOnlyToAClientThatAskedForIt: go-socket.io writes a handler's
// return value as an acknowledgement even when the event asked for none;
// the package drops that packet, on both transports, and keeps the
// acknowledgements that were asked for.
func TestAnAckGoesOnlyToAClientThatAskedForIt(t *testing.T) {
	srv := NewServer(Options{})
	srv.OnConnect("/", func(socketio.Conn) error { return nil })
	srv.OnEvent("/", "echo", func(_ socketio.Conn, v string) string { return v })
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = Close(srv) })
	ts := httptest.NewServer(Handler(srv, Options{}))
	t.Cleanup(ts.Close)

	// Each transport sends the same three events: two without an ack
	// request, then one with ack id 7; the server answers in order, so a
	// stray ack would arrive before the one asked for.
	events := []string{`42["echo","a"]`, `42["echo","b"]`, `427["echo","c"]`}
	check := func(t *testing.T, received []string) {
		t.Helper()
		var acks []string
		for _, p := range received {
			if strings.HasPrefix(p, "43") {
				acks = append(acks, strings.TrimSpace(p))
			}
		}
		if len(acks) != 1 || acks[0] != `437["c"]` {
			t.Fatalf("acknowledgements %q, want only 437[\"c\"] (all packets: %q)", acks, received)
		}
	}

	t.Run("websocket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/socket.io/?EIO=3&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.SetReadDeadline(time.Now().Add(wait))
		var received []string
		for len(received) < 2 { // open, then connect ("40")
			_, b, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			received = append(received, string(b))
		}
		for _, e := range events {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(e)); err != nil {
				t.Fatal(err)
			}
		}
		for !strings.HasPrefix(received[len(received)-1], "437") {
			_, b, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("after %q: %v", received, err)
			}
			received = append(received, string(b))
		}
		check(t, received)
	})

	t.Run("polling", func(t *testing.T) {
		// b64=1: text payloads, as a browser without XHR2 asks for.
		base := ts.URL + "/socket.io/?EIO=3&transport=polling&b64=1"
		_, body := request(t, http.MethodGet, base, "", "", "")
		sid := between(body, `"sid":"`, `"`)
		if sid == "" {
			t.Fatalf("no session id in %q", body)
		}
		base += "&sid=" + url.QueryEscape(sid)
		var payload strings.Builder
		for _, e := range events {
			fmt.Fprintf(&payload, "%d:%s", len(e), e)
		}
		if resp, b := request(t, http.MethodPost, base, "", "text/plain;charset=UTF-8", payload.String()); resp.StatusCode != http.StatusOK {
			t.Fatalf("POST: %s %q", resp.Status, b)
		}
		var received []string
		for len(received) == 0 || !strings.HasPrefix(received[len(received)-1], "437") {
			_, b := request(t, http.MethodGet, base, "", "", "")
			packets, err := decodeText([]byte(b))
			if err != nil {
				t.Fatalf("GET %q: %v", b, err)
			}
			for _, p := range packets {
				received = append(received, string(p.pt.StringByte())+string(p.data))
			}
		}
		check(t, received)
	})
}
