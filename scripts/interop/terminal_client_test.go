package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/repo"
	"sohbet/internal/sioclient"
)

// finalStep returns the folder name of the highest-numbered step, the one
// that is deployed. It skips the test while that step does not broadcast
// yet (steps before 05), since a chat needs a broadcast.
func finalStep(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	name, err := repo.FinalStep(root)
	if err != nil {
		t.Fatal(err)
	}
	if num, _ := strconv.Atoi(name[:2]); num < 5 {
		t.Skipf("the final step %s does not broadcast yet", name)
	}
	return name
}

// waitText reads the Go client's "chat message" events until one carries
// want, and fails on any other text.
func waitText(ctx context.Context, t *testing.T, c *sioclient.Client, want string) {
	t.Helper()
	ev, err := c.Next(ctx, "chat message")
	if err != nil {
		t.Fatalf("Go client: waiting for %q: %v", want, err)
	}
	got, err := ev.StringArg(0)
	if err != nil {
		t.Fatalf("Go client: %v", err)
	}
	if got != want {
		t.Fatalf("Go client got %q, want %q", got, want)
	}
}

// waitLine reads the terminal client's standard output until a line equal
// to want, and fails on any other line.
func waitLine(ctx context.Context, t *testing.T, lines <-chan string, want string) {
	t.Helper()
	select {
	case got, ok := <-lines:
		if !ok {
			t.Fatalf("terminal client ended before printing %q", want)
		}
		if got != want {
			t.Fatalf("terminal client printed %q, want %q", got, want)
		}
	case <-ctx.Done():
		t.Fatalf("terminal client did not print %q: %v", want, ctx.Err())
	}
}

// dialReady connects a Go client over websocket and waits until it
// receives its own message back, so it is in the chat room for sure.
func dialReady(ctx context.Context, t *testing.T, url string) *sioclient.Client {
	t.Helper()
	c, err := sioclient.Dial(ctx, url, sioclient.DialOptions{Transport: sioclient.TransportWebsocket})
	if err != nil {
		t.Fatalf("Go client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	probe := randomText(t, "ready")
	if err := c.Emit("chat message", probe); err != nil {
		t.Fatal(err)
	}
	waitText(ctx, t, c, probe)
	return c
}

// The texts below are ASCII on purpose: TestTurkishLettersCrossEveryTransport
// covers Turkish letters on every transport, and this test is about the
// terminal client itself.
func TestTerminalClientChatsWithTheFinalStep(t *testing.T) {
	n := needNode(t)
	p := startStep(t, finalStep(t))
	client := filepath.Join("scripts", "terminal-client")

	for _, transport := range []string{"", "websocket", "polling"} {
		var args []string
		name := "default transport"
		if transport != "" {
			args = []string{"--transport", transport}
			name = transport + " only"
		}
		args = append([]string{p.URL}, args...)

		t.Run("a piped line reaches another client before the client exits, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			g := dialReady(ctx, t, p.URL)

			// Like `echo line | node scripts/terminal-client URL`: the
			// input ends at once, before the client has even connected.
			tc := chattest.StartNode(ctx, t, n.path, n.root, client, args...)
			line := randomText(t, "piped hello")
			if _, err := fmt.Fprintln(tc.Stdin, line); err != nil {
				t.Fatal(err)
			}
			tc.Stdin.Close()
			for range tc.Lines {
				// Drain the output so the client never blocks on it.
			}
			if err := tc.Wait(ctx); err != nil {
				t.Fatalf("terminal client exit: %v\nstderr:\n%s", err, tc.Stderr())
			}
			waitText(ctx, t, g, line)
		})

		t.Run("prints what others send and sends what is typed, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			g := dialReady(ctx, t, p.URL)
			tc := chattest.StartNode(ctx, t, n.path, n.root, client, args...)

			// Its own line comes back to it too: then it is in the room.
			typed := randomText(t, "typed hello")
			if _, err := fmt.Fprintln(tc.Stdin, typed); err != nil {
				t.Fatal(err)
			}
			waitText(ctx, t, g, typed)
			waitLine(ctx, t, tc.Lines, typed)

			sent := randomText(t, "hello from Go")
			if err := g.Emit("chat message", sent); err != nil {
				t.Fatal(err)
			}
			waitText(ctx, t, g, sent)
			waitLine(ctx, t, tc.Lines, sent)

			// An empty line is not sent: the next message is the one after.
			after := randomText(t, "after empty lines")
			if _, err := fmt.Fprint(tc.Stdin, "\n   \n"+after+"\n"); err != nil {
				t.Fatal(err)
			}
			waitText(ctx, t, g, after)
			waitLine(ctx, t, tc.Lines, after)

			tc.Stdin.Close()
			for l := range tc.Lines {
				t.Errorf("unexpected line after EOF: %q", l)
			}
			if err := tc.Wait(ctx); err != nil {
				t.Fatalf("terminal client exit: %v\nstderr:\n%s", err, tc.Stderr())
			}
		})
	}
}
