package main

// The reliability suite: each test runs the real step-06 server (in
// process behind a real HTTP server, or the built binary) and drives it
// with real Socket.IO 2 clients. Each logs the figure it checks.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sohbet/internal/chattest"
	"sohbet/internal/gosocketio"
	"sohbet/internal/sioclient"
)

// waitClients waits until the server's hub holds n clients.
func waitClients(t testing.TB, s *server, n int) {
	t.Helper()
	if !chattest.Eventually(10*time.Second, func() bool { return s.hub.count() == n }) {
		t.Fatalf("server has %d clients, want %d", s.hub.count(), n)
	}
}

// roundTrips makes a and b take turns sending n messages; each must reach
// the other. It returns every message's latency, sent to received.
func roundTrips(t testing.TB, a, b *sioclient.Client, n int) []time.Duration {
	t.Helper()
	var lat []time.Duration
	for i := range n {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		text := "mesaj " + strconv.Itoa(i)
		start := time.Now()
		if err := from.Emit("chat message", text); err != nil {
			t.Fatal(err)
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ev, err := to.Next(ctx, "chat message")
			cancel()
			if err != nil {
				t.Fatalf("message %d did not arrive: %v", i, err)
			}
			if got := chatText(t, ev); got == text {
				lat = append(lat, ev.Received.Sub(start))
				break
			}
		}
	}
	return lat
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// 1. A client that vanishes without a goodbye does not delay anyone. It
// freezes: its TCP connections stay open and silent, as when a phone loses
// its network, so the server can notice only by its ping timeout.
func TestVanishedClientDoesNotDelayOthers(t *testing.T) {
	for _, mode := range []string{"polling", "websocket"} {
		t.Run("a "+mode+" client frozen without a close", func(t *testing.T) {
			cfg := defaults(t)
			cfg.messageRate, cfg.messageBurst = 1000, 1000
			s, base, _ := startServer(t, cfg)
			a := dial(t, base, "websocket", sioclient.DialOptions{})
			b := dial(t, base, "polling", sioclient.DialOptions{})
			ghost := dial(t, base, mode, sioclient.DialOptions{})
			waitClients(t, s, 3)

			ghost.Freeze()
			lat := roundTrips(t, a, b, 100)

			if s.hub.count() != 3 {
				t.Logf("note: the server already noticed the ghost (%d clients)", s.hub.count())
			}
			worst := slices.Max(lat)
			t.Logf("100 messages while a vanished %s client is still counted: p50 %v, p99 %v, max %v",
				mode, percentile(lat, 0.5), percentile(lat, 0.99), worst)
			if worst > time.Second {
				t.Fatalf("a message took %v, want under 1s", worst)
			}
		})
	}
}

// 2. A client that stops reading is dropped; the others keep up and the
// server's memory stays bounded.
func TestSlowReaderIsDroppedAndOthersKeepUp(t *testing.T) {
	for _, mode := range []string{"polling", "websocket"} {
		t.Run("a "+mode+" client that stops reading", func(t *testing.T) {
			cfg := defaults(t)
			cfg.sendQueue = 32
			cfg.messageRate, cfg.messageBurst = 1e6, 1e6
			s, base, logs := startServer(t, cfg)
			a := dial(t, base, "websocket", sioclient.DialOptions{})
			b := dial(t, base, "websocket", sioclient.DialOptions{})
			slow := dial(t, base, mode, sioclient.DialOptions{})
			waitClients(t, s, 3)
			heapBefore := heapInUse()

			slow.StopReading()
			// a floods in windows of 16 messages of ~1.9 KB; a and b read
			// each window before the next, as live readers would. The flood
			// stops once the slow client is dropped (its kernel buffers
			// and then its queue of 32 fill up), or after 20,000 messages.
			body := strings.Repeat("ş", 950)
			var sent int
			var worst time.Duration
			for sent < 20000 && s.hub.count() == 3 {
				start := time.Now()
				for range 16 {
					if err := a.Emit("chat message", body+strconv.Itoa(sent)); err != nil {
						t.Fatal(err)
					}
					sent++
				}
				// Both live clients read the window (a gets its own
				// messages back too) before the next one is sent.
				for _, c := range []*sioclient.Client{b, a} {
					for i := sent - 16; i < sent; i++ {
						if got := nextChat(t, c); got != body+strconv.Itoa(i) {
							t.Fatalf("live client got message %.20q…, want number %d", got, i)
						}
					}
				}
				worst = max(worst, time.Since(start))
			}
			if err := logs.Wait("yavaş kullanıcının bağlantısı kesildi", 1, 5*time.Second); err != nil {
				t.Fatalf("after %d messages: %v", sent, err)
			}
			waitClients(t, s, 2)
			heapAfter := heapInUse()
			t.Logf("slow %s client dropped after %d messages; slowest window of 16 for the live clients: %v; heap in use %d KB → %d KB",
				mode, sent, worst, heapBefore>>10, heapAfter>>10)
			if worst > time.Second {
				t.Errorf("the live clients waited %v for a window, want under 1s", worst)
			}
			if grow := int64(heapAfter) - int64(heapBefore); grow > 32<<20 {
				t.Errorf("heap grew by %d MB after the drop, want it bounded", grow>>20)
			}
			// The others still chat.
			roundTrips(t, a, b, 2)
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// 3. Bad input gets the documented answer; nobody else sees anything.
func TestBadInputGetsItsAnswer(t *testing.T) {
	cfg := defaults(t)
	tests := []struct {
		name   string
		packet string // raw Engine.IO packet the bad client sends
		notice string // part of the notice it must get; "" means none
	}{
		{"an oversized message", `42["chat message","` + strings.Repeat("x", cfg.maxMessageBytes+1) + `"]`, "çok uzun"},
		{"an object instead of text", `42["chat message",{"metin":"nesne"}]`, "metin değil"},
		{"a number", `42["chat message",42]`, "metin değil"},
		{"an array", `42["chat message",["dizi"]]`, "metin değil"},
		{"null", `42["chat message",null]`, "metin değil"},
		{"no argument at all", `42["chat message"]`, "metin değil"},
		{"an empty message", `42["chat message",""]`, "boş"},
		{"only spaces", `42["chat message","   "]`, "boş"},
		{"a control character", `42["chat message","a\u0000b"]`, "denetim karakteri"},
		{"an unknown event", `42["bilinmeyen olay","x"]`, ""},
	}
	for _, mode := range []string{"polling", "websocket"} {
		for _, tt := range tests {
			t.Run(mode+": "+tt.name, func(t *testing.T) {
				s, base, _ := startServer(t, cfg)
				bad := dial(t, base, mode, sioclient.DialOptions{})
				other := dial(t, base, "websocket", sioclient.DialOptions{})
				waitClients(t, s, 2)

				if err := bad.SendRaw(tt.packet); err != nil {
					t.Fatal(err)
				}
				if tt.notice != "" {
					if got := next(t, bad, "chat notice"); !strings.Contains(got, tt.notice) {
						t.Fatalf("notice %q, want it to mention %q", got, tt.notice)
					}
				}
				// The sender is still connected and can chat; the other
				// client's first message is the good one.
				if err := bad.Emit("chat message", "düzgün mesaj"); err != nil {
					t.Fatal(err)
				}
				for _, c := range []*sioclient.Client{other, bad} {
					if got := nextChat(t, c); got != "düzgün mesaj" {
						t.Fatalf("%s got %q first, want the good message", c.Transport(), got)
					}
				}
			})
		}
	}
}

// Malformed packets close that one connection (go-socket.io cannot
// resynchronise after a decoding error; Node's engine.io closes on an
// unknown packet type too); everyone else goes on.
func TestMalformedPacketClosesOnlyItsConnection(t *testing.T) {
	malformed := []string{
		`42["chat message",{]`,
		`42["chat message","yarım`,
		`42{"chat message":1}`,
		`49`,   // an unknown Socket.IO packet type
		`8xyz`, // an unknown Engine.IO packet type
	}
	for _, mode := range []string{"polling", "websocket"} {
		for _, packet := range malformed {
			t.Run(mode+": "+packet, func(t *testing.T) {
				s, base, _ := startServer(t, defaults(t))
				bad := dial(t, base, mode, sioclient.DialOptions{})
				a := dial(t, base, "websocket", sioclient.DialOptions{})
				b := dial(t, base, "polling", sioclient.DialOptions{})
				waitClients(t, s, 3)

				if err := bad.SendRaw(packet); err != nil {
					t.Fatal(err)
				}
				waitClients(t, s, 2)
				roundTrips(t, a, b, 4)
			})
		}
	}
}

func TestInvalidUTF8IsReplacedNotRelayed(t *testing.T) {
	s, base, _ := startServer(t, defaults(t))
	bad := dial(t, base, "websocket", sioclient.DialOptions{})
	other := dial(t, base, "polling", sioclient.DialOptions{})
	waitClients(t, s, 2)
	// Raw bytes 0xff 0xfe are not UTF-8; JSON decoding turns each into
	// U+FFFD, so no invalid byte ever reaches another client.
	if err := bad.SendRaw("42[\"chat message\",\"a\xff\xfeb\"]"); err != nil {
		t.Fatal(err)
	}
	if got := nextChat(t, other); got != "a\uFFFD\uFFFDb" {
		t.Fatalf("relayed %q, want the invalid bytes replaced by U+FFFD", got)
	}
}

func TestRateLimitDropsTheExcessWithANotice(t *testing.T) {
	cfg := defaults(t)
	cfg.messageRate, cfg.messageBurst = 0.001, 3
	s, base, logs := startServer(t, cfg)
	a := dial(t, base, "websocket", sioclient.DialOptions{})
	b := dial(t, base, "websocket", sioclient.DialOptions{})
	waitClients(t, s, 2)

	for i := range 6 {
		if err := a.Emit("chat message", "sel "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := next(t, a, "chat notice"); !strings.Contains(got, "çok hızlı") {
		t.Fatalf("notice %q", got)
	}
	if err := b.Emit("chat message", "b'nin mesajı"); err != nil {
		t.Fatal(err)
	}
	// b sees exactly the burst of 3, then its own message.
	for _, want := range []string{"sel 0", "sel 1", "sel 2", "b'nin mesajı"} {
		if got := nextChat(t, b); got != want {
			t.Fatalf("b got %q, want %q", got, want)
		}
	}
	if n := logs.Count("mesaj reddedildi"); n != 1 {
		t.Errorf("logged %d rejections for 3 dropped messages, want 1 (one per second)", n)
	}
	if strings.Contains(logs.String(), "sel ") {
		t.Error("the log contains message text")
	}
}

func TestConnectionLimitRefusesWithAClearError(t *testing.T) {
	cfg := defaults(t)
	cfg.maxConnections = 2
	s, base, _ := startServer(t, cfg)
	dial(t, base, "websocket", sioclient.DialOptions{})
	dial(t, base, "polling", sioclient.DialOptions{})
	waitClients(t, s, 2)

	for _, mode := range []string{"polling", "websocket"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := sioclient.Dial(ctx, base, sioclient.DialOptions{Transport: mode})
		cancel()
		if err == nil {
			c.Close()
			t.Fatalf("%s: a third client connected past MAX_CONNECTIONS=2", mode)
		}
		if !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "Sunucu dolu") {
			t.Fatalf("%s: refusal %v, want 503 and a clear message", mode, err)
		}
	}
}

func TestOversizedPollingBodyIsRefused(t *testing.T) {
	s, base, _ := startServer(t, defaults(t))
	c := dial(t, base, "polling", sioclient.DialOptions{})
	waitClients(t, s, 1)
	huge := strings.Repeat("x", int(defaults(t).maxPayloadBytes())+1)
	resp, err := http.Post(base+"/socket.io/?EIO=3&transport=polling&b64=1&sid="+c.SID(), "text/plain;charset=UTF-8",
		strings.NewReader(strconv.Itoa(len(huge)+1)+":4"+huge))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized POST = %d, want 413", resp.StatusCode)
	}
}

// 4. Cross-origin attempts are refused on both transports; origins from
// the allow-list are accepted.
func TestOriginCheckOnBothTransports(t *testing.T) {
	const friend = "https://dost.example"
	const stranger = "https://yabanci.example"
	cfg := defaults(t)
	cfg.allowedOrigins = []string{friend}
	_, base, _ := startServer(t, cfg)

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
}

// 5. SIGTERM with 100 clients: everyone sees the disconnect, exit 0 in
// under 5 s.
func TestSIGTERMWithHundredClients(t *testing.T) {
	p := chattest.Start(t, chattest.Build(t, "."))

	const n = 100
	clients := make([]*sioclient.Client, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mode := []string{"websocket", "polling"}[i%2]
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := sioclient.Dial(ctx, p.URL, sioclient.DialOptions{Transport: mode})
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.Kill()
		}
	})
	if !chattest.Eventually(10*time.Second, func() bool { return healthConnections(p.URL) == n }) {
		t.Fatalf("/healthz counts %d connections, want %d", healthConnections(p.URL), n)
	}

	code, took, err := p.Stop(syscall.SIGTERM, 10*time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit after SIGTERM: code %d, err %v", code, err)
	}
	deadline := time.After(5 * time.Second)
	notified := 0
	for i, c := range clients {
		select {
		case <-c.Done():
		case <-deadline:
			t.Fatalf("client %d (%s) did not see the disconnect", i, c.Transport())
		}
		for len(c.Events()) > 0 {
			if ev := <-c.Events(); ev.Name == "chat notice" {
				notified++
			}
		}
	}
	t.Logf("SIGTERM with %d clients: exit 0 in %v; %d of %d got the restart notice before the disconnect",
		n, took.Round(time.Millisecond), notified, n)
	if took > 5*time.Second {
		t.Errorf("exit took %v, want under 5s", took)
	}
	if notified != n {
		t.Errorf("%d of %d clients got the restart notice, want all", notified, n)
	}
}

// healthConnections returns the connection count /healthz reports, or -1.
func healthConnections(base string) int {
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.Status != "ok" {
		return -1
	}
	return h.Connections
}

// 6. No goroutine leak after 1,000 connect/disconnect cycles.
func TestNoGoroutineLeakAfterThousandCycles(t *testing.T) {
	logs := chattest.NewLogBuffer()
	cfg := defaults(t)
	s, err := newServer(cfg, slogTo(logs), openTestStore(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.io.Serve() }()
	ts := httptest.NewServer(s)
	defer func() {
		ts.Close()
		_ = gosocketio.Close(s.io)
	}()
	ignore := goleak.IgnoreCurrent()
	before := runtime.NumGoroutine()

	const cycles = 1000
	for i := range cycles {
		mode := []string{"websocket", "polling"}[i%2]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := sioclient.Dial(ctx, ts.URL, sioclient.DialOptions{Transport: mode})
		cancel()
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		_ = c.Close() // the server may close first; either way it ends
	}
	if !chattest.Eventually(10*time.Second, func() bool { return s.hub.count() == 0 }) {
		t.Fatalf("%d clients still registered", s.hub.count())
	}
	ts.CloseClientConnections() // idle keep-alive connections of the polling cycles
	if err := goleak.Find(ignore); err != nil {
		t.Fatalf("after %d cycles (goroutines %d → %d): %v", cycles, before, runtime.NumGoroutine(), err)
	}
	t.Logf("%d connect/disconnect cycles: goroutines %d before, %d after", cycles, before, runtime.NumGoroutine())
}

// Many handshakes at once cannot pass MAX_CONNECTIONS: the check before
// the library (a 503) lets several through at once, but hub.add counts and
// adds under one lock, so the extra ones are closed.
func TestParallelHandshakesCannotPassTheLimit(t *testing.T) {
	const limit, tries = 5, 40
	cfg := defaults(t)
	cfg.maxConnections = limit
	s, base, _ := startServer(t, cfg)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []*sioclient.Client
	refused := 0
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mode := []string{"websocket", "polling"}[i%2]
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := sioclient.Dial(ctx, base, sioclient.DialOptions{Transport: mode})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if !strings.Contains(err.Error(), "503") {
					t.Errorf("refusal %v, want a 503", err)
				}
				refused++
				return
			}
			open = append(open, c)
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range open {
			c.Kill()
		}
	})
	// Clients the hub refused were connected a moment; they are closed.
	alive := func() int {
		n := 0
		for _, c := range open {
			if c.Err() == nil {
				n++
			}
		}
		return n
	}
	if !chattest.Eventually(10*time.Second, func() bool { return alive() == limit && s.hub.count() == limit }) {
		t.Fatalf("%d clients alive, hub counts %d, want %d", alive(), s.hub.count(), limit)
	}
	if n := healthConnections(base); n != limit {
		t.Fatalf("/healthz counts %d, want %d", n, limit)
	}
	// Each one closed after connecting was told why.
	for _, c := range open {
		if c.Err() == nil {
			continue
		}
		notice := next(t, c, "chat notice")
		if !strings.Contains(notice, "sunucu dolu") {
			t.Errorf("a refused client was told %q", notice)
		}
	}
	t.Logf("%d handshakes at once with MAX_CONNECTIONS=%d: %d refused with 503, %d closed after connecting, %d stayed",
		tries, limit, refused, len(open)-limit, limit)
}

// blockingConn is an in-memory socketio.Conn whose Emit waits until
// unblock is closed, like a connection whose network stalled. Its Close
// does what go-socket.io's does: it runs the disconnect handler, which
// removes the client from the hub.
type blockingConn struct {
	countingConn
	unblock   chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
	hub       *hub
}

func (c *blockingConn) Emit(string, ...interface{}) { <-c.unblock }

func (c *blockingConn) Close() error {
	c.closeOnce.Do(func() {
		c.hub.remove(c.id)
		close(c.closed)
	})
	return nil
}

// The hub on its own, deterministically: a connection whose Emit blocks
// fills its queue and is dropped; the others get every message.
func TestHubDropsAStuckConnectionAndDeliversToTheRest(t *testing.T) {
	const queue, others, messages = 8, 3, 20
	h := newHub(queue, 10, slog.New(slog.DiscardHandler))
	var delivered atomic.Int64
	for i := range others {
		if _, err := addLive(h, &countingConn{id: strconv.Itoa(i), delivered: &delivered}); err != nil {
			t.Fatal(err)
		}
	}
	stuck := &blockingConn{countingConn: countingConn{id: "stuck"}, unblock: make(chan struct{}), closed: make(chan struct{}), hub: h}
	defer close(stuck.unblock)
	if _, err := addLive(h, stuck); err != nil {
		t.Fatal(err)
	}
	for i := range messages {
		h.broadcast("chat message", strconv.Itoa(i))
		// The others keep up: each message reaches them before the next.
		if !chattest.Eventually(5*time.Second, func() bool { return delivered.Load() == int64(others*(i+1)) }) {
			t.Fatalf("message %d: the others got %d messages, want %d", i, delivered.Load(), others*(i+1))
		}
	}
	// One message sits in the stuck Emit and queue more fill its queue;
	// the next one finds the queue full and the hub drops the connection.
	select {
	case <-stuck.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the stuck connection was not dropped")
	}
	if h.count() != others {
		t.Fatalf("hub counts %d, want %d", h.count(), others)
	}
}

// A writer ends once its queue has stayed empty for linger, and the next
// message starts a new one: a connection that gets no messages holds no
// goroutine, and none is lost between two writers.
func TestHubWriterEndsWhenItsQueueStaysEmpty(t *testing.T) {
	h := newHub(4, 10, slog.New(slog.DiscardHandler))
	var delivered atomic.Int64
	c, err := addLive(h, &countingConn{id: "a", delivered: &delivered})
	if err != nil {
		t.Fatal(err)
	}
	writing := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.wake != nil
	}
	for round := 1; round <= 3; round++ {
		for range 3 { // fewer than the queue holds
			h.broadcast("chat message", "x")
		}
		if !chattest.Eventually(5*time.Second, func() bool { return delivered.Load() == int64(3*round) }) {
			t.Fatalf("round %d: %d messages delivered, want %d", round, delivered.Load(), 3*round)
		}
		if !chattest.Eventually(5*time.Second, func() bool { return !writing() }) {
			t.Fatalf("round %d: the writer still runs long after its queue emptied (linger %v)", round, linger)
		}
	}
}

// After shutdown has started, a connection that arrives late is refused,
// so none is left without the notice and open.
func TestHubRefusesConnectionsAfterCloseAll(t *testing.T) {
	h := newHub(4, 10, slog.New(slog.DiscardHandler))
	var delivered atomic.Int64
	h.closeAll(restartNotice, time.Second)
	if _, err := h.add(&countingConn{id: "geç kalan", delivered: &delivered}, nil, "", 0); !errors.Is(err, errShuttingDown) {
		t.Fatalf("add after closeAll = %v, want errShuttingDown", err)
	}
	if h.count() != 0 {
		t.Fatalf("hub counts %d", h.count())
	}
}
