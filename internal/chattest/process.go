// Package chattest holds helpers shared by the course's tests: starting a
// step's real binary on a free port, and a Socket.IO 2 / Engine.IO 3 client.
// Steps never import each other; they may import this package in tests.
package chattest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ReadyLine is the text every step logs once its port is open.
const ReadyLine = "sunucu dinliyor"

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Build compiles the package in dir (for example "." in a step's test) into
// a temporary folder and returns the binary's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(abs))
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// Process is a step's binary running on a free port.
type Process struct {
	// URL is the server's base address, for example http://127.0.0.1:41234.
	URL string
	// Port is the port given to the process through $PORT.
	Port int

	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	mu     sync.Mutex
	logs   strings.Builder
	notify chan struct{}
}

// Start runs bin with PORT set to a free port plus env ("KEY=value"), and
// returns once the process has logged ReadyLine. The process is stopped
// when the test ends.
func Start(t testing.TB, bin string, env ...string) *Process {
	t.Helper()
	return StartAt(t, bin, FreePort(t), env...)
}

// StartAt is Start on a given port, for example the port of a process
// the test stopped, so that its clients find the new one where they left
// the old.
func StartAt(t testing.TB, bin string, port int, env ...string) *Process {
	t.Helper()
	p := &Process{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		Port:   port,
		done:   make(chan struct{}),
		notify: make(chan struct{}, 1),
	}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	p.cmd.Env = append(p.cmd.Env, env...)
	// Run it from an unrelated folder: the page must come from the binary.
	p.cmd.Dir = t.TempDir()
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.cmd.Stderr // both go through the pipe below
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go p.collect(stderr)
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", p.Logs())
		}
	})
	if err := p.WaitLog(ReadyLine, 30*time.Second); err != nil {
		t.Fatalf("server did not start: %v\n%s", err, p.Logs())
	}
	return p
}

// Signal sends sig to the process, for example SIGSTOP and SIGCONT to
// freeze a server and let it go on: its sockets stay open, so clients see
// a server that stopped answering, not one that went away.
func (p *Process) Signal(sig os.Signal) error {
	return p.cmd.Process.Signal(sig)
}

func (p *Process) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		p.mu.Lock()
		p.logs.WriteString(sc.Text())
		p.logs.WriteByte('\n')
		p.mu.Unlock()
		select {
		case p.notify <- struct{}{}:
		default:
		}
	}
	p.err = p.cmd.Wait()
	close(p.done)
}

// Logs returns everything the process wrote so far.
func (p *Process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// WaitLog waits until the log contains s, the process exits, or the
// timeout passes.
func (p *Process) WaitLog(s string, timeout time.Duration) error {
	return p.WaitLogCount(s, 1, timeout)
}

// WaitLogCount waits until s appears at least n times in the log.
func (p *Process) WaitLogCount(s string, n int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if strings.Count(p.Logs(), s) >= n {
			return nil
		}
		select {
		case <-p.notify:
		case <-p.done:
			if strings.Count(p.Logs(), s) >= n {
				return nil
			}
			return fmt.Errorf("process exited (%v) before logging %q", p.err, s)
		case <-deadline.C:
			return fmt.Errorf("no %q in the log after %v", s, timeout)
		}
	}
}

// Stop sends sig and waits up to timeout for the process to exit. It
// returns the exit code and how long the exit took.
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) (int, time.Duration, error) {
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		return -1, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	select {
	case <-p.done:
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
		return -1, time.Since(start), fmt.Errorf("process still running %v after %v", timeout, sig)
	}
	took := time.Since(start)
	var exitErr *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exitErr) {
		return -1, took, p.err
	}
	return p.cmd.ProcessState.ExitCode(), took, nil
}

// Eventually calls cond until it returns true or timeout passes; it checks
// on every tick of a short ticker. Use it only where no event can be
// waited for (for example a count kept by another process).
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
}
