package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// defaults is the configuration with no environment variables set, but
// for a SQLite file of the test's own.
func defaults(t testing.TB) config {
	t.Helper()
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.databasePath = filepath.Join(t.TempDir(), "sohbet.db")
	return cfg
}

// openTestStore opens cfg's store and closes it when the test ends.
func openTestStore(t testing.TB, cfg config) store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	return st
}

// startServer runs newServer behind a real HTTP server, as run does, and
// returns its base URL and its log.
func startServer(t testing.TB, cfg config) (*server, string, *chattest.LogBuffer) {
	t.Helper()
	return startServerWith(t, cfg, openTestStore(t, cfg))
}

// startServerWith is startServer on a store the caller opened.
func startServerWith(t testing.TB, cfg config, st store) (*server, string, *chattest.LogBuffer) {
	t.Helper()
	logs := chattest.NewLogBuffer()
	s, err := newServer(cfg, slog.New(slog.NewTextHandler(logs, nil)), st)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.io.Serve() }()
	stopCluster := func() {}
	if s.cluster != nil {
		ctx, cancel := context.WithCancel(context.Background())
		done := s.cluster.run(ctx)
		stopCluster = func() { cancel(); <-done }
	}
	ts := httptest.NewServer(s)
	// As run does: notice and close everyone, stop HTTP, then Socket.IO,
	// then the cluster.
	t.Cleanup(func() {
		s.shuttingDown.Store(true)
		s.hub.closeAll(restartNotice, time.Second)
		ts.Close()
		_ = gosocketio.Close(s.io)
		stopCluster()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return s, ts.URL, logs
}

func get(t testing.TB, url, origin string) (int, string) {
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

func dial(t testing.TB, base, mode string, opts sioclient.DialOptions) *sioclient.Client {
	t.Helper()
	opts.Transport = mode
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, base, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", mode, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	welcomes.Store(c, decodeArg[welcome](t, nextEvent(t, c, "welcome")))
	return c
}

// welcomes keeps each test client's "welcome", which dial reads: it tells
// the history a client gets on connecting (ids up to welcome.Last) from
// the live messages that follow.
var welcomes sync.Map // *sioclient.Client → welcome

// next returns the text of the next event called name that c receives.
func next(t testing.TB, c *sioclient.Client, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := c.Next(ctx, name)
	if err != nil {
		t.Fatalf("waiting for %q on %s: %v", name, c.Transport(), err)
	}
	if len(ev.Args) != 1 {
		t.Fatalf("%q with %d arguments, want 1", name, len(ev.Args))
	}
	var text string
	if err := json.Unmarshal(ev.Args[0], &text); err != nil {
		t.Fatalf("%q argument %s is not a string", name, ev.Args[0])
	}
	return text
}

// nextChat returns the text of the next "chat message" c receives.
func nextChat(t testing.TB, c *sioclient.Client) string {
	t.Helper()
	return nextPayload(t, c).Text
}

// nextPayload returns the next live "chat message" c receives, whole: it
// skips the history sent on connecting.
func nextPayload(t testing.TB, c *sioclient.Client) message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var last int64
	if w, ok := welcomes.Load(c); ok {
		last = w.(welcome).Last
	}
	for {
		ev, err := c.Next(ctx, "chat message")
		if err != nil {
			t.Fatalf("waiting for a chat message on %s: %v", c.Transport(), err)
		}
		if m := decodeArg[message](t, ev); m.ID > last {
			return m
		}
	}
}

// chatText is the text of a "chat message" event.
func chatText(t testing.TB, ev sioclient.Event) string {
	t.Helper()
	return decodeArg[message](t, ev).Text
}

// decodeArg decodes the event's only argument as a T.
func decodeArg[T any](t testing.TB, ev sioclient.Event) T {
	t.Helper()
	var v T
	if len(ev.Args) != 1 {
		t.Fatalf("%q with %d arguments, want 1", ev.Name, len(ev.Args))
	}
	if err := json.Unmarshal(ev.Args[0], &v); err != nil {
		t.Fatalf("%q argument %s: %v", ev.Name, ev.Args[0], err)
	}
	return v
}

func TestLoadConfig(t *testing.T) {
	t.Run("defaults suit one Basic dyno", func(t *testing.T) {
		cfg := defaults(t)
		if cfg.port != "3000" || cfg.maxConnections != 1000 || cfg.maxMessageBytes != 2000 || cfg.messageRate != 5 ||
			cfg.messageBurst != 10 || cfg.sendQueue != 256 || len(cfg.allowedOrigins) != 0 || cfg.gogc != "" || cfg.gomemlimit != "" {
			t.Fatalf("defaults = %+v", cfg)
		}
	})
	t.Run("every variable overrides its default", func(t *testing.T) {
		env := map[string]string{
			"PORT":              "8080",
			"ALLOWED_ORIGINS":   "https://a.example, https://B.example/",
			"MAX_CONNECTIONS":   "50",
			"MAX_MESSAGE_BYTES": "300",
			"MESSAGE_RATE":      "0.5",
			"MESSAGE_BURST":     "3",
			"SEND_QUEUE":        "8",
			"GOGC":              "100",
			"GOMEMLIMIT":        "200MiB",
		}
		cfg, err := loadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if cfg.port != "8080" || cfg.maxConnections != 50 || cfg.maxMessageBytes != 300 || cfg.messageRate != 0.5 ||
			cfg.messageBurst != 3 || cfg.sendQueue != 8 || cfg.gogc != "100" || cfg.gomemlimit != "200MiB" ||
			strings.Join(cfg.allowedOrigins, " ") != "https://a.example https://b.example" {
			t.Fatalf("config = %+v", cfg)
		}
	})
	t.Run("invalid values are named in one clear error", func(t *testing.T) {
		env := map[string]string{"MAX_CONNECTIONS": "çok", "SEND_QUEUE": "0", "MESSAGE_RATE": "-1"}
		_, err := loadConfig(func(k string) string { return env[k] })
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"MAX_CONNECTIONS", "SEND_QUEUE", "MESSAGE_RATE", "en çok 1e+06"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
	for _, rate := range []string{"0", "NaN", "1000001", "+Inf"} {
		if _, err := loadConfig(func(k string) string { return map[string]string{"MESSAGE_RATE": rate}[k] }); err == nil {
			t.Errorf("MESSAGE_RATE=%s accepted", rate)
		}
	}
}

// envRow matches a row of the README's table of environment variables.
var envRow = regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]*)` \\|")

// TestEveryVariableIsDocumented: the variables loadConfig reads (every
// read of the program goes through it) are exactly the ones the README's
// table lists. The deploy check compares app.json with that table.
func TestEveryVariableIsDocumented(t *testing.T) {
	asked := map[string]bool{}
	if _, err := loadConfig(func(k string) string { asked[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range envRow.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	for name := range asked {
		if !documented[name] {
			t.Errorf("loadConfig reads %s, which the README's table does not list", name)
		}
	}
	for name := range documented {
		if !asked[name] {
			t.Errorf("the README lists %s, which loadConfig does not read", name)
		}
	}
}

// TestPingTimingsSuitHeroku checks the timings against the rules that
// docs/02-heroku-nedir.md explains, and that the client is told them.
func TestPingTimingsSuitHeroku(t *testing.T) {
	// Heroku's router: a response must start within 30 s, and a silent
	// connection is cut after 55 s. Over long-polling the pong answers
	// the pending GET, so a ping every pingInterval keeps both.
	if pingInterval > 25*time.Second {
		t.Errorf("pingInterval %v: want at most 25 s, well under the router's 30 s", pingInterval)
	}
	// go-socket.io moves its deadline to now+pingTimeout at each ping; a
	// late ping must not kill a live connection.
	if pingTimeout < pingInterval+5*time.Second {
		t.Errorf("pingTimeout %v: want at least pingInterval + 5 s (%v)", pingTimeout, pingInterval+5*time.Second)
	}
	_, base, _ := startServer(t, defaults(t))
	c := dial(t, base, "websocket", sioclient.DialOptions{})
	if c.PingInterval() != pingInterval || c.PingTimeout() != pingTimeout {
		t.Fatalf("handshake says %v / %v, want %v / %v", c.PingInterval(), c.PingTimeout(), pingInterval, pingTimeout)
	}
}

func TestHealthz(t *testing.T) {
	s, base, _ := startServer(t, defaults(t))
	dial(t, base, "websocket", sioclient.DialOptions{})
	// The connect packet goes out before OnConnect runs: wait for the
	// server's own count, then ask /healthz.
	waitClients(t, s, 1)

	code, body := get(t, base+"/healthz", "")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != http.StatusOK || h.Status != "ok" || h.Connections != 1 {
		t.Fatalf("GET /healthz = %d %s", code, body)
	}

	s.shuttingDown.Store(true)
	code, body = get(t, base+"/healthz", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"shutting down"`) {
		t.Fatalf("GET /healthz while shutting down = %d %s", code, body)
	}
}

func TestPageLoadsTheEmbeddedClient(t *testing.T) {
	_, base, _ := startServer(t, defaults(t))

	code, body := get(t, base+"/", "")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	for _, want := range []string{
		`<script src="/socket.io/socket.io.js"></script>`,
		`const socket = io(options);`,
		`socket.io.opts.query = connectQuery();`,
		`socket.emit('chat message', item.text, item.offset, (ack) => {`,
		`sessionStorage.setItem('outbox', JSON.stringify(outbox));`,
		`socket.emit('set nickname', nick, (ack) => {`,
		`socket.on('chat message', (msg) => {`,
		`socket.on('welcome', (data) => {`,
		`socket.on('user joined', (data) => {`,
		`socket.on('user left', (data) => {`,
		`socket.on('nickname changed', (data) => {`,
		`socket.emit('private message', { to: to.value, text: input.value }, (ack) => {`,
		`socket.emit('typing', true);`,
		`socket.on('typing', (data) => {`,
		`socket.on('private message', (msg) => {`,
		`typingLine.textContent = names.length`,
		`socket.on('chat notice', (text) => {`,
		`item.textContent = text;`,
		`from.textContent = msg.from;`,
		`li.textContent = nick;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "innerHTML") {
		t.Error("page uses innerHTML; messages must go in as text")
	}
	code, js := get(t, base+socketioclient.Path, "")
	if code != http.StatusOK || js != string(socketioclient.JS) {
		t.Fatalf("GET %s = %d, embedded client served: %v", socketioclient.Path, code, js == string(socketioclient.JS))
	}
}

func TestBroadcastReachesEveryoneExactlyOnce(t *testing.T) {
	s, base, _ := startServer(t, defaults(t))
	for _, modeA := range transports {
		for _, modeB := range transports {
			t.Run(modeA+" sends, "+modeB+" listens", func(t *testing.T) {
				a := dial(t, base, modeA, sioclient.DialOptions{})
				b := dial(t, base, modeB, sioclient.DialOptions{})
				// The server sends the connect packet before it runs
				// OnConnect, so a client can be connected a moment
				// before it joins the room. Wait for both to join.
				if !chattest.Eventually(5*time.Second, func() bool { return s.hub.count() == 2 }) {
					t.Fatal("the two clients did not both join")
				}
				first := "selam " + modeA + " → " + modeB
				second := "ikinci mesaj"
				for _, text := range []string{first, second} {
					if err := a.Emit("chat message", text); err != nil {
						t.Fatal(err)
					}
				}
				// Messages of one sender arrive in order, so if the
				// second follows the first directly, the first came once.
				for _, c := range []*sioclient.Client{a, b} {
					for _, want := range []string{first, second} {
						if got := nextChat(t, c); got != want {
							t.Fatalf("%s client got %q, want %q", c.Transport(), got, want)
						}
					}
				}
				_ = a.Close()
				_ = b.Close()
			})
		}
	}
}

// The guards of internal/gosocketio (tested there) are wired in: a newer
// client is refused with a clear error, and ALLOWED_ORIGINS is honoured on
// both transports.
func TestNewerProtocolGetsAClearError(t *testing.T) {
	_, base, logs := startServer(t, defaults(t))
	code, body := get(t, base+"/socket.io/?EIO=4&transport=polling", "")
	if code != http.StatusBadRequest || !strings.Contains(body, "socket.io-client 2.x") {
		t.Fatalf("EIO=4 handshake = %d %q", code, body)
	}
	if err := logs.Wait("desteklenmeyen protokol", 1, time.Second); err != nil {
		t.Fatal(err)
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
