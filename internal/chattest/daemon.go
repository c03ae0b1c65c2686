package chattest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeouts and retries of the throwaway servers (PostgreSQL, Redis).
const (
	// serverReadyTimeout bounds the wait for a server to accept
	// connections after it was started.
	serverReadyTimeout = 30 * time.Second
	// serverStopTimeout bounds the wait for a server to exit after its
	// shutdown signal; then it is killed.
	serverStopTimeout = 30 * time.Second
	// readyPollInterval is how often a starting server is asked whether
	// it accepts connections yet. It must be well below the start-up
	// time (tens of milliseconds for Redis).
	readyPollInterval = 10 * time.Millisecond
	// readyProbeTimeout bounds one such question, so that a server that
	// accepts the connection but never answers cannot use up the whole
	// serverReadyTimeout in one go.
	readyProbeTimeout = 2 * time.Second
	// startAttempts is how many free ports a first start tries: FreePort
	// closes its listener, and in the moment before the server binds the
	// port another process (a parallel test) may take it.
	startAttempts = 3
)

// serverUser is the unprivileged account a server runs as when the tests
// run as root (PostgreSQL refuses to run as root).
type serverUser struct {
	name     string
	uid, gid uint32
}

// missingServer skips the test with msg, or fails it under CI=true, where
// every database and broker test must run.
func missingServer(t testing.TB, msg, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s [CI=true: %s tests must run]", msg, what)
	}
	t.Skip(msg)
}

// startDaemon starts cmd in the background and collects its standard
// output and error like a step's Process, so that Logs, Stop and the done
// channel work the same. The server is killed if the test binary dies
// without running its cleanups (a -timeout panic, say), where the
// platform allows it. When as is not nil the server runs as that user.
func startDaemon(cmd *exec.Cmd, as *serverUser) (*Process, error) {
	attr, err := daemonAttr(as)
	if err != nil {
		return nil, err
	}
	cmd.SysProcAttr = attr
	out, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr // both go through the pipe
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	// collect sees the end of the output only once every process that
	// inherited it has exited, so done also waits for a server's children
	// (PostgreSQL's backends).
	go p.collect(out)
	return p, nil
}

// waitReady asks ready every readyPollInterval until it returns nil, the
// process exits, or timeout passes.
func waitReady(p *Process, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(readyPollInterval)
	defer tick.Stop()
	for {
		probe, cancelProbe := context.WithTimeout(ctx, readyProbeTimeout)
		err := ready(probe)
		cancelProbe()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("server exited (%v) before accepting connections", p.err)
		case <-ctx.Done():
			return fmt.Errorf("server not ready after %v: %v", timeout, err)
		case <-tick.C:
		}
	}
}

// hasExited reports whether the process has exited.
func hasExited(p *Process) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// portTaken reports whether a server that exited at start-up did so
// because its port was in use, so that another free port may be tried.
func portTaken(p *Process) bool {
	return hasExited(p) && strings.Contains(p.Logs(), "in use")
}

// halt stops p with sig (Process.Stop: killed after serverStopTimeout)
// and waits until it and every child holding its output have exited. A
// process that has exited already is left alone.
func halt(p *Process, sig syscall.Signal) error {
	if hasExited(p) {
		return nil
	}
	_, _, err := p.Stop(sig, serverStopTimeout)
	if errors.Is(err, os.ErrProcessDone) {
		<-p.done
		return nil
	}
	return err
}

// kill kills p at once and waits as halt does.
func kill(p *Process) {
	if !hasExited(p) {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}
