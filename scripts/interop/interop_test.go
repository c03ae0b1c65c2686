// Package interop proves that the Socket.IO steps work with the official
// socket.io-client (the version pinned in package.json) running in Node, on
// the three transport modes a client can choose, and that the terminal
// client in scripts/terminal-client chats with them.
//
// The tests need Node.js and `npm ci` at the repository root; without them
// they skip, except under CI=true, where they fail.
package interop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// Log lines that every Socket.IO step writes (in Turkish, for learners).
const (
	logConnect    = "bir kullanıcı bağlandı"
	logDisconnect = "bir kullanıcı ayrıldı"
	logMessage    = "mesaj: " // followed by the text, quoted as Go's %q does
)

// modes are the three ways a socket.io-client 2.x picks its transport.
var modes = []struct {
	name string // the driver's mode argument
	// want is the transport the client must end on.
	want string
}{
	{name: "default", want: "websocket"}, // polling first, then the upgrade
	{name: "websocket", want: "websocket"},
	{name: "polling", want: "polling"},
}

// driverEvent is one JSON line printed by driver.js.
type driverEvent struct {
	Event     string `json:"event"`
	Client    string `json:"client"`
	Transport string `json:"transport"`
	// Text is a chat message's text: the payload when it is a string
	// (steps 03-06), else its "text" field; From and At are the object's
	// other fields (steps 07 on).
	Text string `json:"text"`
	From string `json:"from"`
	At   int64  `json:"at"`
	// ID and ClientOffset are a stored message's (steps 09 and 10 on).
	ID           int64  `json:"id"`
	ClientOffset string `json:"clientOffset"`
	Reason       string `json:"reason"`
	Message      string `json:"message"`
	// Name is the event of a "got" or an "ack" line; Data is what the
	// server sent (the event's payload, the acknowledgement), Args what
	// the client emitted.
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
	Args json.RawMessage `json:"args"`
}

// node is the Node.js setup shared by the tests of this package.
type node struct {
	path, root string
}

func needNode(t *testing.T) node {
	t.Helper()
	path, root := chattest.NeedNode(t)
	return node{path: path, root: root}
}

// drive runs driver.js against url and returns its events. It fails the
// test when the driver reports an error or does not finish.
func (n node) drive(t *testing.T, url, mode, scenario string, args ...string) []driverEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := filepath.Join("scripts", "interop", "driver.js")
	lines, err := chattest.RunNode(ctx, n.path, n.root, script,
		append([]string{url, mode, scenario}, args...)...)
	var events []driverEvent
	for _, line := range lines {
		var ev driverEvent
		if jerr := json.Unmarshal([]byte(line), &ev); jerr != nil {
			t.Fatalf("driver printed a line that is not JSON: %q", line)
		}
		events = append(events, ev)
	}
	if err != nil {
		t.Fatalf("driver %s %s: %v\noutput:\n%s", mode, scenario, err, strings.Join(lines, "\n"))
	}
	if len(events) == 0 || events[len(events)-1].Event != "done" {
		t.Fatalf("driver %s %s did not finish:\n%s", mode, scenario, strings.Join(lines, "\n"))
	}
	return events
}

// find returns the events of one kind from one client ("" for any).
func find(events []driverEvent, kind, client string) []driverEvent {
	var found []driverEvent
	for _, ev := range events {
		if ev.Event == kind && (client == "" || ev.Client == client) {
			found = append(found, ev)
		}
	}
	return found
}

// randomText returns prefix followed by a random word, so that a test can
// never be satisfied by a line left over from another test.
func randomText(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + " " + hex.EncodeToString(b)
}

// startStep builds and starts the step in steps/dir.
func startStep(t *testing.T, dir string) *chattest.Process {
	t.Helper()
	path := filepath.Join("..", "..", "steps", dir)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("step folder: %v", err)
	}
	return chattest.Start(t, chattest.Build(t, path))
}

// checkTransports checks that each client connected and ended on want.
func checkTransports(t *testing.T, events []driverEvent, want string, clients ...string) {
	t.Helper()
	for _, c := range clients {
		if len(find(events, "connected", c)) != 1 {
			t.Errorf("client %s: %d connected events, want 1", c, len(find(events, "connected", c)))
		}
		final := find(events, "transport", c)
		if len(final) != 1 || final[0].Transport != want {
			t.Errorf("client %s ended on %+v, want transport %q", c, final, want)
		}
	}
}

func TestStep03NodeClientsConnectOnEveryTransport(t *testing.T) {
	n := needNode(t)
	p := startStep(t, "03-socketio-integration")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			connects := strings.Count(p.Logs(), logConnect)
			leaves := strings.Count(p.Logs(), logDisconnect)
			events := n.drive(t, p.URL, m.name, "connect")
			checkTransports(t, events, m.want, "A", "B")
			if m.name == "default" {
				// A client whose upgrade finished before its connect
				// handler ran reports websocket at connect instead.
				upgraded := len(find(events, "upgraded", ""))
				for _, e := range find(events, "connected", "") {
					if e.Transport == "websocket" {
						upgraded++
					}
				}
				if upgraded != 2 {
					t.Errorf("default mode: want both clients to upgrade, got %+v", events)
				}
			}
			if err := p.WaitLogCount(logConnect, connects+2, 10*time.Second); err != nil {
				t.Errorf("server log: %v", err)
			}
			if err := p.WaitLogCount(logDisconnect, leaves+2, 10*time.Second); err != nil {
				t.Errorf("server log: %v", err)
			}
		})
	}
}

func TestStep04ServerLogsWhatANodeClientEmits(t *testing.T) {
	n := needNode(t)
	p := startStep(t, "04-socketio-emit")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			text := randomText(t, "merhaba")
			events := n.drive(t, p.URL, m.name, "emit", text)
			checkTransports(t, events, m.want, "A")
			if len(find(events, "sent", "A")) != 1 {
				t.Errorf("the driver did not flush the message: %+v", events)
			}
			if err := p.WaitLog(logMessage+strconv.Quote(text), 10*time.Second); err != nil {
				t.Errorf("server log: %v", err)
			}
		})
	}
}

// checkBroadcast checks that clients A and B each got text exactly once.
func checkBroadcast(t *testing.T, events []driverEvent, text string) {
	t.Helper()
	for _, c := range []string{"A", "B"} {
		got := 0
		for _, ev := range find(events, "received", c) {
			if ev.Text == text {
				got++
			}
		}
		if got != 1 {
			t.Errorf("client %s received %q %d times, want exactly once; events: %+v", c, text, got, events)
		}
	}
}

func TestStep05NodeClientsReceiveTheBroadcastExactlyOnce(t *testing.T) {
	n := needNode(t)
	p := startStep(t, "05-socketio-broadcast")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			text := randomText(t, "merhaba")
			events := n.drive(t, p.URL, m.name, "broadcast", text)
			checkTransports(t, events, m.want, "A", "B")
			checkBroadcast(t, events, text)
			if err := p.WaitLog(logMessage+strconv.Quote(text), 10*time.Second); err != nil {
				t.Errorf("server log: %v", err)
			}
		})
	}
}

func TestStep06NodeClientsReceiveTheBroadcastExactlyOnce(t *testing.T) {
	const dir = "06-production-chat"
	if _, err := os.Stat(filepath.Join("..", "..", "steps", dir)); err != nil {
		t.Skipf("steps/%s does not exist yet", dir)
	}
	n := needNode(t)
	p := startStep(t, dir)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			text := randomText(t, "merhaba")
			events := n.drive(t, p.URL, m.name, "broadcast", text)
			checkTransports(t, events, m.want, "A", "B")
			checkBroadcast(t, events, text)
		})
	}
}
