package chattest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sohbet/internal/repo"
)

// NodeClientVersion is the socket.io-client version that package.json pins
// and that go-socket.io v1.7.0 understands (Engine.IO protocol 3).
const NodeClientVersion = "2.5.0"

// NeedNode returns the path of the node binary and the repository root,
// whose node_modules must hold socket.io-client NodeClientVersion. When
// either is missing the test is skipped, except under CI=true, where it
// fails: CI must run every Node test.
func NeedNode(t testing.TB) (nodePath, repoRoot string) {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) +
			" (Node.js veya node_modules yok: depo kökünde `npm ci` çalıştırın)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	nodePath, err = exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	pkg := filepath.Join(root, "node_modules", "socket.io-client", "package.json")
	data, err := os.ReadFile(pkg)
	if err != nil {
		missing("socket.io-client is not installed: %v", err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatalf("%s: %v", pkg, err)
	}
	if meta.Version != NodeClientVersion {
		// A wrong version is not a missing tool: it would make the
		// interop tests meaningless, so it always fails.
		t.Fatalf("node_modules holds socket.io-client %s, want %s: run `npm ci` at the repository root",
			meta.Version, NodeClientVersion)
	}
	return nodePath, root
}

// RunNode runs `node script args...` from the repository root until it
// exits or ctx ends (then it is killed), and returns its standard output
// split into lines. A non-zero exit or a killed process is an error that
// includes the standard error text.
func RunNode(ctx context.Context, nodePath, repoRoot, script string, args ...string) ([]string, error) {
	cmd := exec.CommandContext(ctx, nodePath, append([]string{script}, args...)...)
	cmd.Dir = repoRoot
	cmd.Env = nodeEnv(repoRoot)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	lines := splitLines(stdout.String())
	if ctx.Err() != nil {
		return lines, fmt.Errorf("node %s: %w\nstderr:\n%s", script, ctx.Err(), stderr.String())
	}
	if err != nil {
		return lines, fmt.Errorf("node %s: %v\nstderr:\n%s", script, err, stderr.String())
	}
	return lines, nil
}

// nodeEnv lets scripts outside the repository (a test's temporary file)
// require the repository's node_modules too.
func nodeEnv(repoRoot string) []string {
	return append(os.Environ(), "NODE_PATH="+filepath.Join(repoRoot, "node_modules"))
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// NodeProcess is a node program running in the background, for tests that
// talk to it while it runs: write to Stdin, read Lines.
type NodeProcess struct {
	// Stdin is the program's standard input; close it to send EOF.
	Stdin io.WriteCloser
	// Lines delivers each line of standard output; it is closed when
	// standard output ends.
	Lines <-chan string

	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	mu     sync.Mutex
	stderr bytes.Buffer
}

// StartNode starts `node script args...` from the repository root. The
// process is killed when ctx ends or the test ends.
func StartNode(ctx context.Context, t testing.TB, nodePath, repoRoot, script string, args ...string) *NodeProcess {
	t.Helper()
	cmd := exec.CommandContext(ctx, nodePath, append([]string{script}, args...)...)
	cmd.Dir = repoRoot
	cmd.Env = nodeEnv(repoRoot)
	p := &NodeProcess{cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.Stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", script, err)
	}
	lines := make(chan string, 1024)
	p.Lines = lines
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			for range lines {
			}
			<-p.done
		}
		if t.Failed() {
			t.Logf("node %s stderr:\n%s", script, p.Stderr())
		}
	})
	return p
}

// Stderr returns what the process wrote to standard error so far.
func (p *NodeProcess) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// Wait waits until the process exits or ctx ends, and returns its exit
// error. The caller must keep reading Lines until it is closed, or the
// process may block on a full pipe.
func (p *NodeProcess) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
