package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/gorilla/websocket"

	"sohbet/internal/gosocketio"
)

// startChat starts an in-process chat built as the steps build theirs:
// every "chat message" goes to everyone in one room, sender included, as
// shape(text, n) for the n-th message (nil shape: the text itself, as in
// steps 03-06). With answer set, the server takes (text, clientOffset) and
// acknowledges each message with answer(n); answer returning nil leaves
// the message unacknowledged. A clientOffset longer than 64 characters or
// seen before is refused.
func startChat(t *testing.T, shape func(text string, n int64) any, answer func(n int64) map[string]any) string {
	t.Helper()
	if shape == nil {
		shape = func(text string, _ int64) any { return text }
	}
	var n atomic.Int64
	srv := gosocketio.NewServer(gosocketio.Options{})
	srv.OnConnect("/", func(s socketio.Conn) error {
		s.Join("chat")
		return nil
	})
	if answer == nil {
		srv.OnEvent("/", "chat message", func(s socketio.Conn, msg string) {
			srv.BroadcastToRoom("/", "chat", "chat message", shape(msg, n.Add(1)))
		})
	} else {
		var offsets sync.Map
		// go-socket.io v1.7.0 acknowledges only when the handler returns
		// a value, so the silent case needs a handler without one.
		handle := func(msg, offset string) map[string]any {
			if _, seen := offsets.LoadOrStore(offset, true); seen || len(offset) > 64 {
				return map[string]any{"ok": false, "error": "bad clientOffset " + offset, "retry": false}
			}
			id := n.Add(1)
			srv.BroadcastToRoom("/", "chat", "chat message", shape(msg, id))
			return answer(id)
		}
		if answer(0) == nil {
			srv.OnEvent("/", "chat message", func(s socketio.Conn, msg, offset string) { handle(msg, offset) })
		} else {
			srv.OnEvent("/", "chat message", func(s socketio.Conn, msg, offset string) map[string]any {
				return handle(msg, offset)
			})
		}
	}
	srv.OnError("/", func(socketio.Conn, error) {})
	srv.OnDisconnect("/", func(socketio.Conn, string) {})
	go srv.Serve()
	hs := httptest.NewServer(gosocketio.Handler(srv, gosocketio.Options{}))
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		srv.Close()
	})
	return hs.URL
}

// objectOf is the payload of step 07 on: an object with the text; withID
// adds the message's number, as from step 09 on.
func objectOf(withID bool) func(string, int64) any {
	return func(text string, n int64) any {
		m := map[string]any{"from": "nick", "text": text, "at": time.Now().UnixMilli()}
		if withID {
			m["id"] = n
		}
		return m
	}
}

// startEcho starts a plain WebSocket echo on /ws, like step 02.
func startEcho(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs.URL
}

func TestSmokeRunsDeliverEverything(t *testing.T) {
	chat := startChat(t, nil, nil)
	echo := startEcho(t)
	cases := []struct {
		name       string
		url        string
		flags      []string
		perMessage int64 // expected receivers of each message
	}{
		{"Socket.IO over websocket", chat, []string{"-transport", "websocket"}, 20},
		{"Socket.IO over long-polling", chat, []string{"-transport", "polling"}, 20},
		{"Socket.IO polling upgraded to websocket", chat, []string{"-transport", "upgrade"}, 20},
		{"Socket.IO relaying an object with the text (step 07)", startChat(t, objectOf(false), nil), nil, 20},
		{"Socket.IO relaying an object with the text and an id (step 09)", startChat(t, objectOf(true), nil), nil, 20},
		{"plain WebSocket echo", echo, []string{"-protocol", "websocket"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(append([]string{
				"-url", tc.url, "-clients", "20", "-senders", "4", "-rate", "40",
				"-warmup", "500ms", "-duration", "2s", "-settle", "0s", "-drain", "10s",
				"-pid", strconv.Itoa(os.Getpid()), "-progress", "0",
			}, tc.flags...), os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := Run(ctx, o.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			printTable(&buf, res)
			t.Logf("\n%s", buf.String())
			if problems := judge(res, 0); len(problems) > 0 {
				t.Errorf("run failed: %q", problems)
			}
			// 40 msg/s for 2 s, give or take the edge of the window.
			if res.Sent < 75 || res.Sent > 81 {
				t.Errorf("sent %d measured messages, want about 80", res.Sent)
			}
			if res.Expected != res.Sent*tc.perMessage {
				t.Errorf("expected %d deliveries for %d messages, want %d each", res.Expected, res.Sent, tc.perMessage)
			}
			if res.Delivered != res.Expected || res.Lost != 0 || res.Duplicates != 0 || res.Foreign != 0 {
				t.Errorf("delivered %d of %d, lost %d, duplicates %d, foreign %d", res.Delivered, res.Expected, res.Lost, res.Duplicates, res.Foreign)
			}
			if res.LatencyP50 <= 0 || res.LatencyP50 > res.LatencyP99 || res.LatencyP99 > res.LatencyMax {
				t.Errorf("latencies out of order: p50 %v p99 %v max %v", res.LatencyP50, res.LatencyP99, res.LatencyMax)
			}
			if res.RSSPeakKB <= 0 || res.RSSIdleKB <= 0 {
				t.Errorf("no memory samples of pid %d: %+v", os.Getpid(), res)
			}
			if res.AckStats != nil {
				t.Errorf("acknowledgement figures without -ack: %+v", *res.AckStats)
			}
		})
	}
}

func TestAcknowledgementsAreMeasured(t *testing.T) {
	accept := func(n int64) map[string]any { return map[string]any{"ok": true, "id": n} }
	refuse := func(int64) map[string]any {
		return map[string]any{"ok": false, "error": "too fast", "retry": true}
	}
	silent := func(int64) map[string]any { return nil }
	cases := []struct {
		name                    string
		answer                  func(int64) map[string]any
		code                    int
		acks, refused, timeouts bool   // which count equals the messages sent
		stderr                  string // part of the explanation on stderr
	}{
		{"a server that accepts every message", accept, 0, true, false, false, ""},
		{"a server that refuses every message", refuse, 1, false, true, false, `message refused: "too fast" (retry true)`},
		{"a server that never answers", silent, 1, false, false, true, "acknowledgements did not come within -drain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := startChat(t, objectOf(true), tc.answer)
			var stdout, stderr bytes.Buffer
			code := realMain([]string{"-url", url, "-ack", "-clients", "5", "-senders", "2", "-rate", "40",
				"-warmup", "250ms", "-duration", "1s", "-drain", "500ms", "-settle", "0s", "-progress", "0", "-json"}, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			var fields map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &fields); err != nil {
				t.Fatalf("stdout is not one JSON line: %v\n%s", err, stdout.String())
			}
			for _, k := range []string{"acks", "ack_errors", "ack_timeouts", "ack_p50_ms", "ack_p90_ms", "ack_p99_ms", "ack_max_ms"} {
				if _, ok := fields[k]; !ok {
					t.Errorf("JSON result has no %q: %s", k, stdout.String())
				}
			}
			var res Result
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.AckStats == nil {
				t.Fatalf("result: %v %s", err, stdout.String())
			}
			a := *res.AckStats
			// About 40 even when the server never answers: the waits for
			// answers do not hold up the senders.
			if res.Sent < 35 || res.SendErrors != 0 {
				t.Errorf("sent %d messages (%d errors), want about 40", res.Sent, res.SendErrors)
			}
			every := func(all bool) int64 {
				if all {
					return res.Sent
				}
				return 0
			}
			if a.Acks != every(tc.acks) || a.AckErrors != every(tc.refused) || a.AckTimeouts != every(tc.timeouts) {
				t.Errorf("%d sent: %d accepted, %d refused, %d timed out", res.Sent, a.Acks, a.AckErrors, a.AckTimeouts)
			}
			if tc.acks && (a.AckP50 <= 0 || a.AckP50 > a.AckP90 || a.AckP90 > a.AckP99 || a.AckP99 > a.AckMax) {
				t.Errorf("ack latencies out of order: %+v", a)
			}
			if res.Delivered != res.Expected || res.Duplicates != 0 || res.Foreign != 0 {
				t.Errorf("delivered %d of %d, duplicates %d, foreign %d", res.Delivered, res.Expected, res.Duplicates, res.Foreign)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr does not say %q:\n%s", tc.stderr, stderr.String())
			}
		})
	}
}

func TestMessageTextAcceptsAStringOrAnObjectWithText(t *testing.T) {
	cases := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"loadtest a 1"`, "loadtest a 1", true},
		{`"say \"hi\" \u00e7"`, `say "hi" ç`, true},
		{`""`, "", true},
		{`{"from":"nick","text":"loadtest a 1","at":1700000000000}`, "loadtest a 1", true},
		{`{"id":7,"from":"nick","text":"loadtest a 1","at":1700000000000}`, "loadtest a 1", true},
		{`{"from":"nick","at":1}`, "", false},
		{`{"text":42}`, "", false},
		{`{"text":null}`, "", false},
		{`42`, "", false},
		{`null`, "", false},
		{`["loadtest a 1"]`, "", false},
		{`"unterminated`, "", false},
	}
	for _, tc := range cases {
		got, ok := messageText(json.RawMessage(tc.raw))
		if got != tc.want || ok != tc.ok {
			t.Errorf("messageText(%s) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLossAndFailuresAreReported(t *testing.T) {
	// A server that accepts Socket.IO but never relays: every delivery is lost.
	srv := socketio.NewServer(nil)
	srv.OnConnect("/", func(socketio.Conn) error { return nil })
	srv.OnEvent("/", "chat message", func(socketio.Conn, string) {})
	srv.OnError("/", func(socketio.Conn, error) {})
	go srv.Serve()
	hs := httptest.NewServer(srv)
	defer func() { hs.CloseClientConnections(); hs.Close(); srv.Close() }()

	var stdout, stderr bytes.Buffer
	code := realMain([]string{"-url", hs.URL, "-clients", "3", "-senders", "1", "-rate", "20",
		"-warmup", "0s", "-duration", "500ms", "-drain", "300ms", "-settle", "0s", "-progress", "0", "-json"}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit code %d, want 1; stderr:\n%s", code, stderr.String())
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not one JSON line: %v\n%s", err, stdout.String())
	}
	if res.Sent == 0 || res.Delivered != 0 || res.Lost != res.Sent*3 || res.LossPercent != 100 {
		t.Errorf("sent %d delivered %d lost %d (%v%%)", res.Sent, res.Delivered, res.Lost, res.LossPercent)
	}
	if !strings.Contains(stderr.String(), "loss 100.000% is above") {
		t.Errorf("stderr does not explain the failure:\n%s", stderr.String())
	}

	// Nobody listens: every client fails to connect.
	stdout.Reset()
	stderr.Reset()
	hs2 := httptest.NewServer(http.NotFoundHandler())
	url := hs2.URL
	hs2.Close()
	code = realMain([]string{"-url", url, "-clients", "2", "-senders", "1", "-progress", "0", "-connect-timeout", "5s"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "no client connected") {
		t.Errorf("exit code %d, stderr:\n%s", code, stderr.String())
	}
}

func TestFlagsAreChecked(t *testing.T) {
	bad := [][]string{
		{"-url", "http://example.com"},
		{"-url", "ftp://127.0.0.1"},
		{"-clients", "0"},
		{"-clients", "20001"},
		{"-clients", "5", "-senders", "6"},
		{"-rate", "0"},
		{"-protocol", "mqtt"},
		{"-transport", "carrier-pigeon"},
		{"-duration", "11m"},
		{"-protocol", "websocket", "-ack"},
		{"-ack", "-drain", "0s"},
		{"extra"},
		{"-url", "http://127.0.0.1:3001,http://example.com"},
		{"-url", "http://127.0.0.1:3001,http://127.0.0.1:3001"},
		{"-url", "http://127.0.0.1:3001,"},
		{"-url", "http://127.0.0.1:3001,http://127.0.0.1:3002,http://127.0.0.1:3003", "-clients", "2", "-senders", "1"},
		{"-pid", "server"},
		{"-pid", "12,0"},
		{"-pid", "12,12"},
	}
	for _, args := range bad {
		var stderr bytes.Buffer
		if code := realMain(args, &bytes.Buffer{}, &stderr); code != 2 {
			t.Errorf("%q: exit code %d, want 2", args, code)
		}
	}
	var stderr bytes.Buffer
	if code := realMain([]string{"-h"}, &bytes.Buffer{}, &stderr); code != 0 {
		t.Errorf("-h: exit code %d", code)
	}
	for _, flag := range []string{"-url", "-transport", "-protocol", "-clients", "-senders", "-rate", "-duration", "-warmup",
		"-drain", "-settle", "-connect-rate", "-pid", "-label", "-progress", "-json", "-max-loss", "-markdown-from", "-ack", "-allow-remote"} {
		if !strings.Contains(stderr.String(), "  "+flag+" ") && !strings.Contains(stderr.String(), "  "+flag+"\n") {
			t.Errorf("-h does not document %s", flag)
		}
	}
	o, err := parseFlags([]string{"-url", "https://chat.example.com", "-allow-remote"}, &stderr)
	if err != nil || o.cfg.echo() {
		t.Errorf("remote URL with -allow-remote: %v %+v", err, o.cfg)
	}
	o, err = parseFlags([]string{"-url", "http://127.0.0.1:3001, ws://localhost:3002", "-pid", "12, 34,56"}, &stderr)
	if err != nil || !slices.Equal(o.cfg.URLs, []string{"http://127.0.0.1:3001", "ws://localhost:3002"}) || !slices.Equal(o.cfg.PIDs, []int{12, 34, 56}) {
		t.Errorf("lists: %v, URLs %q, PIDs %v", err, o.cfg.URLs, o.cfg.PIDs)
	}
	o, err = parseFlags([]string{"-protocol", "websocket"}, &stderr)
	if err != nil || !o.cfg.echo() {
		t.Errorf("websocket defaults: %v %+v", err, o.cfg)
	}
}

func TestHistogramQuantilesStayWithinTwoPercent(t *testing.T) {
	var h histogram
	var vals []int64
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		us := int64(rng.ExpFloat64() * 20000) // mean 20 ms
		vals = append(vals, us)
		h.record(time.Duration(us) * time.Microsecond)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := h.quantile(q)
		if got < exact || float64(got) > float64(exact)*1.02+1 {
			t.Errorf("q%v = %d µs, exact %d µs", q, got, exact)
		}
	}
	if h.quantile(1) != vals[len(vals)-1] || h.max != vals[len(vals)-1] {
		t.Errorf("max %d, want %d", h.max, vals[len(vals)-1])
	}
	for i := range 2000 { // up to about 2^32 µs
		if b := bucketOf(bucketHigh(i)); b != i {
			t.Fatalf("bucketOf(bucketHigh(%d)) = %d", i, b)
		}
	}
}

func TestBitsetFindsDuplicates(t *testing.T) {
	var b bitset
	for _, i := range []uint64{0, 63, 64, 1000, 5} {
		if b.set(i) {
			t.Errorf("%d reported as seen before", i)
		}
	}
	for _, i := range []uint64{0, 63, 64, 1000, 5} {
		if !b.set(i) {
			t.Errorf("%d not reported as a duplicate", i)
		}
	}
}

func TestMarkdownTable(t *testing.T) {
	line, _ := json.Marshal(Result{Label: "adım 06", Clients: 1000, Senders: 10, Rate: 50, Connected: 1000, ConnectSeconds: 2.5, ConnectP99: 12,
		DeliveredPS: 49999.6, LatencyP50: 3.21, LatencyP90: 8, LatencyP99: 41.5, LatencyMax: 120, MemPerConnKB: 19.5, RSSPeakKB: 80 * 1024, PID: 7, CPUPercent: 93})
	f := t.TempDir() + "/r.jsonl"
	if err := os.WriteFile(f, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := markdownFrom(f, &out); err != nil {
		t.Fatal(err)
	}
	want := "| adım 06 | 1000 / 10 / 50 | 1000 (2.5 s, 12.0 ms) | 50000 | 0 (0.00%) | 3.2 ms | 8.0 ms | 41.5 ms | 120 ms | 19.5 KB | 80 MB | 93% | 1 |"
	if !strings.Contains(out.String(), want) {
		t.Errorf("table:\n%s\nwant row:\n%s", out.String(), want)
	}

	// Three runs of one server and load: the row is the median p99 run.
	var lines []byte
	for _, p99 := range []float64{10, 30, 20} {
		l, _ := json.Marshal(Result{Label: "node", Clients: 100, Senders: 10, Rate: 200, LatencyP99: p99})
		lines = append(append(lines, l...), '\n')
	}
	if err := os.WriteFile(f, lines, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := markdownFrom(f, &out); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(out.String(), "| node |"); rows != 1 || !strings.Contains(out.String(), "| 20.0 ms | 0.0 ms | — | — | — | 3 (10.0 ms – 30.0 ms) |") {
		t.Errorf("grouped table (%d rows):\n%s", rows, out.String())
	}
}
