package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	socketio "github.com/googollee/go-socket.io"

	"sohbet/internal/chattest"
	"sohbet/internal/gosocketio"
)

// loadScript is the driver under test, relative to the repository root.
const loadScript = "scripts/bench/node-load/load.js"

// startChat starts an in-process chat built as the steps build theirs:
// every "chat message" goes to everyone in one room, sender included. With
// objects set, it broadcasts {"from","text","at"} as later steps do.
func startChat(t *testing.T, objects bool) string {
	t.Helper()
	opts := gosocketio.Options{}
	srv := gosocketio.NewServer(opts)
	srv.OnConnect("/", func(c socketio.Conn) error {
		c.Join("chat")
		return nil
	})
	srv.OnEvent("/", "chat message", func(c socketio.Conn, msg any) {
		text, ok := msg.(string)
		if !ok {
			return
		}
		if objects {
			srv.BroadcastToRoom("/", "chat", "chat message",
				map[string]any{"from": c.ID(), "text": text, "at": time.Now().UnixMilli()})
			return
		}
		srv.BroadcastToRoom("/", "chat", "chat message", text)
	})
	srv.OnError("/", func(socketio.Conn, error) {})
	srv.OnDisconnect("/", func(socketio.Conn, string) {})
	go func() { _ = srv.Serve() }()
	hs := httptest.NewServer(gosocketio.Handler(srv, opts))
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		_ = gosocketio.Close(srv)
	})
	return hs.URL
}

// result holds the fields of load.js's JSON line that the tests check.
type result struct {
	Label       string  `json:"label"`
	Shape       string  `json:"shape"`
	Driver      string  `json:"driver"`
	Transport   string  `json:"transport"`
	Clients     int     `json:"clients"`
	Senders     int     `json:"senders"`
	Connected   int     `json:"connected"`
	Sent        int64   `json:"sent"`
	Expected    int64   `json:"expected"`
	Delivered   int64   `json:"delivered"`
	Lost        int64   `json:"lost"`
	LossPercent float64 `json:"loss_pct"`
	Duplicates  int64   `json:"duplicates"`
	Disconnects int64   `json:"disconnects"`
	Foreign     int64   `json:"foreign"`
	DeliveredPS float64 `json:"delivered_per_s"`
	P50         float64 `json:"p50_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
}

func TestNodeLoadDeliversEverything(t *testing.T) {
	nodePath, root := chattest.NeedNode(t)
	cases := []struct {
		name       string
		transports string
		objects    bool
	}{
		{"over long-polling", "polling", false},
		{"over websocket", "websocket", false},
		{"polling first, then upgraded", "default", false},
		{"when the server broadcasts objects with a text field", "websocket", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := startChat(t, tc.objects)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			lines, err := chattest.RunNode(ctx, nodePath, root, loadScript,
				"--url", url, "--clients", "10", "--senders", "3", "--rate", "30",
				"--warmup", "500ms", "--duration", "1500ms", "--settle", "0s", "--drain", "10s",
				"--transports", tc.transports, "--label", "test chat", "--shape", "test-shape")
			if err != nil {
				t.Fatalf("%v\nstdout: %q", err, lines)
			}
			if len(lines) != 1 {
				t.Fatalf("want one JSON line on stdout, got %q", lines)
			}
			var r result
			if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
				t.Fatalf("%v in %s", err, lines[0])
			}
			t.Logf("%s", lines[0])
			if r.Label != "test chat" || r.Shape != "test-shape" || r.Transport != tc.transports ||
				r.Driver != "socket.io-client "+chattest.NodeClientVersion || r.Clients != 10 || r.Senders != 3 {
				t.Errorf("the result does not describe the run: %+v", r)
			}
			if r.Connected != 10 || r.Disconnects != 0 {
				t.Errorf("connected %d of 10, %d dropped", r.Connected, r.Disconnects)
			}
			// 30 msg/s for 1.5 s, each to all 10 clients.
			if r.Sent < 40 || r.Expected != r.Sent*10 {
				t.Errorf("sent %d, expected %d: want about 45 sent, each expected 10 times", r.Sent, r.Expected)
			}
			if r.Delivered != r.Expected || r.Lost != 0 || r.LossPercent != 0 || r.Duplicates != 0 || r.Foreign != 0 {
				t.Errorf("delivered %d of %d (lost %d, %.2f%%), %d duplicates, %d foreign: want everything once",
					r.Delivered, r.Expected, r.Lost, r.LossPercent, r.Duplicates, r.Foreign)
			}
			if r.DeliveredPS <= 0 || r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max {
				t.Errorf("implausible figures: %.0f/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms", r.DeliveredPS, r.P50, r.P99, r.Max)
			}
		})
	}
}

func TestNodeLoadRefusesUnboundedRuns(t *testing.T) {
	nodePath, root := chattest.NeedNode(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"more than 2000 clients", []string{"--clients", "2001"}, "--clients 2001"},
		{"more than ten minutes of sending", []string{"--duration", "9m", "--warmup", "2m"}, "at most 10m"},
		{"a host other than loopback", []string{"--url", "http://192.0.2.1:3000"}, "not a loopback address"},
		{"an unknown transport", []string{"--transports", "flash"}, "--transports"},
		{"an unknown option", []string{"--reconnect"}, "reconnect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, nodePath, append([]string{filepath.Join(root, loadScript)}, tc.args...)...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit: %v, want status 2; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output %q does not mention %q", out, tc.want)
			}
		})
	}
}
