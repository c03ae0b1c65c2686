package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"sohbet/internal/sioclient"
)

// client is one connection of the run, whatever its protocol.
type client interface {
	send(payload string) error
	done() <-chan struct{}
	err() error
	close()
}

// dial opens one client of the configured protocol; what it receives goes
// to rc.
func (r *run) dial(ctx context.Context, rc *receiver) (client, error) {
	if r.cfg.Protocol == "websocket" {
		return dialPlainWS(ctx, r, rc)
	}
	c, err := sioclient.Dial(ctx, r.cfg.URLs[r.cfg.urlOf(rc.idx)], sioclient.DialOptions{
		Transport: r.cfg.Transport,
		Origin:    r.cfg.Origin,
		OnEvent: func(ev sioclient.Event) {
			if ev.Name != chatEvent {
				return // presence and other events are not the load
			}
			text, ok := "", false
			if len(ev.Args) > 0 {
				text, ok = messageText(ev.Args[0])
			}
			if !ok {
				rc.foreign.Add(1)
				return
			}
			r.onMessage(rc, text, ev.Received)
		},
	})
	if err != nil {
		return nil, err
	}
	return &socketIOClient{c}, nil
}

// socketIOClient sends "chat message" events over the course's client.
type socketIOClient struct{ c *sioclient.Client }

func (s *socketIOClient) send(p string) error   { return s.c.Emit(chatEvent, p) }
func (s *socketIOClient) done() <-chan struct{} { return s.c.Done() }
func (s *socketIOClient) err() error            { return s.c.Err() }
func (s *socketIOClient) close()                { _ = s.c.Close() }

// plainWSClient is a plain WebSocket client for step 02's /ws echo.
type plainWSClient struct {
	ws      *websocket.Conn
	writeMu sync.Mutex // at most one writer on a connection
	doneC   chan struct{}
	once    sync.Once
	errV    error
	readerC chan struct{} // closed when the reader has returned
}

var errClosedByTool = errors.New("closed by the load tool")

func dialPlainWS(ctx context.Context, r *run, rc *receiver) (client, error) {
	u, err := url.Parse(r.cfg.URLs[r.cfg.urlOf(rc.idx)])
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" || u.Scheme == "wss" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = "/ws"
	h := http.Header{}
	if r.cfg.Origin != "" {
		h.Set("Origin", r.cfg.Origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			return nil, fmt.Errorf("HTTP %d: %s: %w", resp.StatusCode, strings.TrimSpace(string(body)), err)
		}
		return nil, err
	}
	p := &plainWSClient{ws: ws, doneC: make(chan struct{}), readerC: make(chan struct{})}
	go func() {
		defer close(p.readerC)
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				p.setErr(err)
				return
			}
			r.onMessage(rc, string(msg), time.Now())
		}
	}()
	return p, nil
}

func (p *plainWSClient) send(payload string) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	p.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return p.ws.WriteMessage(websocket.TextMessage, []byte(payload))
}

func (p *plainWSClient) done() <-chan struct{} { return p.doneC }
func (p *plainWSClient) err() error            { <-p.doneC; return p.errV }

// setErr ends the client once, recording why.
func (p *plainWSClient) setErr(err error) {
	p.once.Do(func() { p.errV = err; close(p.doneC) })
}

func (p *plainWSClient) close() {
	p.setErr(errClosedByTool)
	p.writeMu.Lock()
	_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	p.writeMu.Unlock()
	p.ws.Close()
	<-p.readerC
}

// closeAll closes every client, a few hundred at a time.
func closeAll(clients []client) {
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for _, c := range clients {
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.close()
		})
	}
	wg.Wait()
}
