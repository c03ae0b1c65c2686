package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/googollee/go-socket.io"

	"sohbet/internal/sioclient"
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

// BenchmarkReplay measures the "server restarted, everyone comes back"
// case: 1000 messages are stored, then clients that missed all of them
// connect over websocket at once and each reads its replay (a notice and
// the newest maxReplay messages). ns/op is the time until the last of
// them has its last message.
func BenchmarkReplay(b *testing.B) {
	for _, clients := range []int{1, 100} {
		b.Run(strconv.Itoa(clients)+" clients", func(b *testing.B) {
			_, base, _ := startServer(b, roomy(b))
			say(b, dialFrom(b, base, "websocket", -1), numbered("geçmiş", 1000)...)
			for b.Loop() {
				errs := make(chan error, clients)
				for range clients {
					go func() {
						errs <- readReplay(base, "geçmiş 999", maxReplay)
					}()
				}
				for range clients {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// readReplay connects as a client that has seen nothing since id 0 and
// reads chat messages until last; it wants exactly want of them. It
// returns an error instead of failing, so that it can run on any goroutine.
func readReplay(base, last string, want int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, base, sioclient.DialOptions{Transport: "websocket", Query: url.Values{"offset": {"0"}}})
	if err != nil {
		return err
	}
	defer c.Close()
	for n := 1; ; n++ {
		ev, err := c.Next(ctx, "chat message")
		if err != nil {
			return fmt.Errorf("after %d messages: %w", n-1, err)
		}
		var m message
		if err := json.Unmarshal(ev.Args[0], &m); err != nil {
			return err
		}
		if m.Text == last {
			if n != want {
				return fmt.Errorf("got %d messages, want %d", n, want)
			}
			return nil
		}
	}
}
