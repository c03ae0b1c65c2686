package chattest

import (
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// LogBuffer collects what the standard logger writes during a test, so an
// in-process server's log lines can be waited for.
type LogBuffer struct {
	mu     sync.Mutex
	b      strings.Builder
	notify chan struct{}
}

// NewLogBuffer returns an empty LogBuffer, for example to give to
// slog.NewTextHandler.
func NewLogBuffer() *LogBuffer {
	return &LogBuffer{notify: make(chan struct{}, 1)}
}

// CaptureLog sends the standard logger's output to a LogBuffer until the
// test ends. Tests that use it must not run in parallel.
func CaptureLog(t testing.TB) *LogBuffer {
	t.Helper()
	lb := NewLogBuffer()
	log.SetOutput(lb)
	t.Cleanup(func() {
		log.SetOutput(os.Stderr)
		if t.Failed() {
			t.Logf("server log:\n%s", lb.String())
		}
	})
	return lb
}

// Write implements io.Writer.
func (lb *LogBuffer) Write(p []byte) (int, error) {
	lb.mu.Lock()
	lb.b.Write(p)
	lb.mu.Unlock()
	select {
	case lb.notify <- struct{}{}:
	default:
	}
	return len(p), nil
}

// String returns everything logged so far.
func (lb *LogBuffer) String() string {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.b.String()
}

// Count returns how many times s was logged.
func (lb *LogBuffer) Count(s string) int {
	return strings.Count(lb.String(), s)
}

// Wait waits until s has been logged at least n times.
func (lb *LogBuffer) Wait(s string, n int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if lb.Count(s) >= n {
			return nil
		}
		select {
		case <-lb.notify:
		case <-deadline.C:
			if lb.Count(s) >= n {
				return nil
			}
			return fmt.Errorf("%q logged %d times after %v, want %d", s, lb.Count(s), timeout, n)
		}
	}
}
