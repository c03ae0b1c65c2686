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
	"testing"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/gorilla/websocket"

	"sohbet/internal/gosocketio"
)

// startChat starts an in-process chat like step 05, built as the steps
// build theirs: every "chat message" goes to everyone in one room, sender
// included.
func startChat(t *testing.T) string {
	t.Helper()
	srv := gosocketio.NewServer(gosocketio.Options{})
	srv.OnConnect("/", func(s socketio.Conn) error {
		s.Join("chat")
		return nil
	})
	srv.OnEvent("/", "chat message", func(s socketio.Conn, msg string) {
		srv.BroadcastToRoom("/", "chat", "chat message", msg)
	})
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
	chat := startChat(t)
	echo := startEcho(t)
	cases := []struct {
		name          string
		url, protocol string
		transport     string
		perMessage    int64 // expected receivers of each message
	}{
		{"Socket.IO over websocket", chat, "socketio", "websocket", 20},
		{"Socket.IO over long-polling", chat, "socketio", "polling", 20},
		{"Socket.IO polling upgraded to websocket", chat, "socketio", "upgrade", 20},
		{"plain WebSocket echo", echo, "websocket", "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags([]string{
				"-url", tc.url, "-protocol", tc.protocol, "-transport", tc.transport,
				"-clients", "20", "-senders", "4", "-rate", "40",
				"-warmup", "500ms", "-duration", "2s", "-settle", "0s", "-drain", "10s",
				"-pid", strconv.Itoa(os.Getpid()), "-progress", "0",
			}, os.Stderr)
			if tc.transport == "" {
				o, err = parseFlags([]string{
					"-url", tc.url, "-protocol", tc.protocol,
					"-clients", "20", "-senders", "4", "-rate", "40",
					"-warmup", "500ms", "-duration", "2s", "-settle", "0s", "-drain", "10s",
					"-progress", "0",
				}, os.Stderr)
			}
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
			if tc.transport != "" && (res.RSSPeakKB <= 0 || res.RSSIdleKB <= 0) {
				t.Errorf("no memory samples of pid %d: %+v", os.Getpid(), res)
			}
		})
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
		{"-expect", "some"},
		{"extra"},
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
	for _, flag := range []string{"-url", "-transport", "-protocol", "-clients", "-senders", "-rate", "-duration", "-warmup", "-connect-rate", "-pid", "-json", "-allow-remote"} {
		if !strings.Contains(stderr.String(), "  "+flag+" ") && !strings.Contains(stderr.String(), "  "+flag+"\n") {
			t.Errorf("-h does not document %s", flag)
		}
	}
	o, err := parseFlags([]string{"-url", "https://chat.example.com", "-allow-remote"}, &stderr)
	if err != nil || o.cfg.Path != "/socket.io/" || o.cfg.Expect != "all" {
		t.Errorf("remote URL with -allow-remote: %v %+v", err, o.cfg)
	}
	o, err = parseFlags([]string{"-protocol", "websocket"}, &stderr)
	if err != nil || o.cfg.Path != "/ws" || o.cfg.Expect != "sender" {
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
