package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	socketio "github.com/googollee/go-socket.io"
)

// countingConn is an in-memory socketio.Conn whose Emit only counts. It
// measures the hub's own fan-out: queues and writer goroutines, without
// go-socket.io's encoding and the network (the load-test tool measures
// those, see docs/08-yuk-testi.md).
type countingConn struct {
	id        string
	delivered *atomic.Int64
}

func (c *countingConn) ID() string { return c.id }
func (c *countingConn) Emit(event string, _ ...interface{}) {
	if event == "chat message" {
		c.delivered.Add(1)
	}
}
func (c *countingConn) Close() error              { return nil }
func (c *countingConn) Context() interface{}      { return nil }
func (c *countingConn) SetContext(interface{})    {}
func (c *countingConn) Namespace() string         { return "/" }
func (c *countingConn) Join(string)               {}
func (c *countingConn) Leave(string)              {}
func (c *countingConn) LeaveAll()                 {}
func (c *countingConn) Rooms() []string           { return nil }
func (c *countingConn) URL() url.URL              { return url.URL{} }
func (c *countingConn) LocalAddr() net.Addr       { return nil }
func (c *countingConn) RemoteAddr() net.Addr      { return nil }
func (c *countingConn) RemoteHeader() http.Header { return nil }

var _ socketio.Conn = (*countingConn)(nil)

// BenchmarkBroadcastFanOut broadcasts to 1000 in-memory connections and
// waits until every copy has been handed to its connection. ns/op is the
// time of one fan-out to all 1000; allocs/op its allocations.
func BenchmarkBroadcastFanOut(b *testing.B) {
	const clients = 1000
	var delivered atomic.Int64
	h := newHub(256, clients, slog.New(slog.DiscardHandler))
	for i := range clients {
		if _, err := addLive(h, &countingConn{id: strconv.Itoa(i), delivered: &delivered}); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		for i := range clients {
			h.remove(strconv.Itoa(i))
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.broadcast("chat message", "merhaba")
		// Let the writers catch up every 64 messages, so no queue of 256
		// ever fills and nobody is dropped.
		if i%64 == 63 {
			for delivered.Load() < int64(i+1)*clients {
				runtime.Gosched()
			}
		}
	}
	for delivered.Load() < int64(b.N)*clients {
		runtime.Gosched()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*clients/b.Elapsed().Seconds(), "deliveries/s")
}

// addLive adds conn to the hub and releases its writer at once, with no
// history to send first.
func addLive(h *hub, conn socketio.Conn) (*client, error) {
	c, err := h.add(conn, nil, "", 0)
	if err == nil {
		h.release(c, nil)
	}
	return c, err
}
