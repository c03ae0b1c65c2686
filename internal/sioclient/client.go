// Package sioclient is a small Socket.IO 2 / Engine.IO 3 client, the
// protocol that go-socket.io v1.7.0 and socket.io-client 2.x speak. It
// connects the three ways a browser does: long-polling only, websocket only,
// and polling first with an upgrade to websocket (the browser default).
// The course's tests, the load tool and the deploy check use it; it links
// neither testing nor a browser.
//
// Engine.IO 3 in brief:
//   - packets are text: one type digit then data. 0 open, 1 close, 2 ping,
//     3 pong, 4 message, 5 upgrade, 6 noop. The client pings every
//     pingInterval and expects a pong within pingTimeout.
//   - over websocket, one frame is one packet.
//   - over polling (b64=1), a GET or POST body is a payload of packets,
//     each written as "<length>:<packet>".
//
// Socket.IO 2 packets ride inside Engine.IO messages ("4"): 0 connect,
// 1 disconnect, 2 event, 3 ack, 4 error; for example 42["chat message","hi"]
// is an event and 421["x"] an event that asks for ack 1, answered by 431[...].
package sioclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/gorilla/websocket"
)

// Transport modes for DialOptions.Transport.
const (
	TransportPolling   = "polling"
	TransportWebsocket = "websocket"
	TransportUpgrade   = "upgrade"
)

// Errors that tell why a Client ended (see Client.Err).
var (
	ErrClosed           = errors.New("socket.io client: closed by Close")
	ErrKilled           = errors.New("socket.io client: killed by Kill")
	ErrServerClose      = errors.New("socket.io client: server sent engine.io close")
	ErrServerDisconnect = errors.New("socket.io client: server sent socket.io disconnect")
	ErrPingTimeout      = errors.New("socket.io client: no pong within pingTimeout")
)

const (
	// writeWait bounds one websocket write or one polling POST.
	writeWait = 10 * time.Second
	// eventBuffer is the capacity of the Events channel.
	eventBuffer = 4096
	// maxPayload bounds the body of one polling response.
	maxPayload = 64 << 20
)

// DialOptions configure Dial.
type DialOptions struct {
	// Transport is "polling" (long-polling only), "websocket" (websocket
	// only) or "upgrade" (polling first, then upgrade to websocket like a
	// browser). Empty means "websocket".
	Transport string
	// Origin, if set, is sent as the Origin header on every request.
	Origin string
	// Header holds extra headers for every request.
	Header http.Header
	// EIO is the Engine.IO protocol version sent in the query; default "3".
	EIO string
	// Path is the server's Socket.IO path; default "/socket.io/".
	Path string
	// OnEvent, if set, is called from the reader goroutine for each event
	// instead of queueing it to Events. It must not block for long.
	OnEvent func(Event)
	// Query holds extra query parameters for every request, as
	// socket.io-client's query option (io({query: {offset: 42}})).
	Query url.Values
}

// Event is one Socket.IO event received from the server.
type Event struct {
	// Name is the event name, for example "chat message".
	Name string
	// Args are the event's arguments, as raw JSON.
	Args []json.RawMessage
	// Received is when the client parsed the event.
	Received time.Time
}

// StringArg decodes argument i as a JSON string.
func (e Event) StringArg(i int) (string, error) {
	if i >= len(e.Args) {
		return "", fmt.Errorf("event %q has %d args, want arg %d", e.Name, len(e.Args), i)
	}
	var s string
	err := json.Unmarshal(e.Args[i], &s)
	return s, err
}

// TextArg decodes argument i as a chat text: a JSON string (the chat of
// steps 03-06) or an object whose "text" field is one (steps 07 on send
// {"from", "text", "at"}).
func (e Event) TextArg(i int) (string, error) {
	if s, err := e.StringArg(i); err == nil {
		return s, nil
	}
	var obj struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(e.Args[i], &obj); err != nil || obj.Text == nil {
		return "", fmt.Errorf("event %q arg %d is %s, neither a string nor an object with a text", e.Name, i, truncate(string(e.Args[i])))
	}
	return *obj.Text, nil
}

// Client is one Socket.IO connection to namespace "/". Its methods are safe
// for concurrent use.
type Client struct {
	opts     DialOptions
	base     *url.URL
	http     *http.Client
	ownHTTP  *http.Transport
	ctx      context.Context // ends with the client
	cancel   context.CancelFunc
	events   chan Event
	onEvent  func(Event)
	pong     chan string
	connectC chan string // Socket.IO connect ("" ok) or error text
	wg       sync.WaitGroup
	finished chan struct{} // closed once every goroutine has ended

	sid          string
	pingInterval time.Duration
	pingTimeout  time.Duration
	upgrades     []string

	done      chan struct{}
	closeOnce sync.Once
	err       error // set before done is closed

	stopRead atomic.Bool // StopReading or Freeze called
	frozen   atomic.Bool // Freeze called
	closing  atomic.Bool // Close called: the end is ErrClosed
	qs       atomic.Int64

	mu        sync.Mutex
	transport string // "polling" or "websocket"
	ws        *websocket.Conn
	outq      []string // polling packets waiting for the next POST
	pausing   bool     // polling is being paused for the upgrade
	acks      map[uint64]chan []json.RawMessage
	nextAck   uint64
	connected bool

	wsMu     sync.Mutex // serialises websocket writes
	postMu   sync.Mutex // serialises polling POSTs
	outReady chan struct{}
	pollDone chan struct{}
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
}

// Dial connects to the Socket.IO server at baseURL (for example
// "http://127.0.0.1:3000"), completes the Engine.IO handshake and waits for
// the Socket.IO connect packet of namespace "/"; in "upgrade" mode it then
// upgrades to websocket. ctx bounds the dial only.
func Dial(ctx context.Context, baseURL string, opts DialOptions) (*Client, error) {
	if opts.Transport == "" {
		opts.Transport = TransportWebsocket
	}
	if opts.EIO == "" {
		opts.EIO = "3"
	}
	if opts.Path == "" {
		opts.Path = "/socket.io/"
	}
	switch opts.Transport {
	case TransportPolling, TransportWebsocket, TransportUpgrade:
	default:
		return nil, fmt.Errorf("socket.io dial: unknown transport %q", opts.Transport)
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("socket.io dial: %w", err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		opts:     opts,
		base:     base,
		ctx:      cctx,
		cancel:   cancel,
		onEvent:  opts.OnEvent,
		pong:     make(chan string, 1),
		connectC: make(chan string, 1),
		finished: make(chan struct{}),
		done:     make(chan struct{}),
		acks:     make(map[uint64]chan []json.RawMessage),
		outReady: make(chan struct{}, 1),
		pollDone: make(chan struct{}),
	}
	if opts.OnEvent == nil {
		c.events = make(chan Event, eventBuffer)
	}
	if opts.Transport != TransportWebsocket {
		// Each client has its own HTTP transport, like a browser tab its
		// connections, and closes its idle connections at the end.
		c.ownHTTP = &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		}
		c.http = &http.Client{Transport: c.ownHTTP}
	}

	// Abort the handshake when ctx ends before it is done. stop runs
	// before Dial returns, so cancelling ctx afterwards (the usual
	// defer cancel()) never reaches a connected client.
	stop := context.AfterFunc(ctx, func() {
		c.shutdown(fmt.Errorf("socket.io dial: %w", ctx.Err()))
	})
	defer stop()

	if err := c.handshake(ctx); err != nil {
		c.shutdown(err)
		c.startJanitor()
		<-c.finished
		return nil, err
	}
	c.startJanitor()

	// The connect packet and the end can arrive in one polling answer
	// (a server that accepts, then closes at once); the connect counts.
	var msg string
	select {
	case msg = <-c.connectC:
	case <-c.done:
		select {
		case msg = <-c.connectC:
		default:
			<-c.finished
			return nil, fmt.Errorf("socket.io dial: connection ended before connect: %w", c.err)
		}
	}
	if msg != "" {
		c.shutdown(fmt.Errorf("socket.io dial: server refused namespace /: %s", msg))
		<-c.finished
		return nil, c.err
	}

	if opts.Transport == TransportUpgrade && slices.Contains(c.upgrades, TransportWebsocket) {
		if err := c.upgrade(ctx); err != nil {
			c.shutdown(err)
			<-c.finished
			return nil, err
		}
	}
	return c, nil
}

// handshake opens the first transport and starts the goroutines.
func (c *Client) handshake(ctx context.Context) error {
	if c.opts.Transport == TransportWebsocket {
		ws, err := c.dialWS(ctx, "")
		if err != nil {
			return err
		}
		ws.SetReadDeadline(time.Now().Add(writeWait))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return fmt.Errorf("socket.io dial: reading open packet: %w", err)
		}
		ws.SetReadDeadline(time.Time{})
		if err := c.parseOpen(string(msg)); err != nil {
			ws.Close()
			return err
		}
		c.mu.Lock()
		c.ws = ws
		c.transport = TransportWebsocket
		c.mu.Unlock()
		close(c.pollDone)
		c.wg.Add(2)
		go c.wsReader(ws)
		go c.pinger()
		return nil
	}

	body, err := c.doPoll(ctx)
	if err != nil {
		return err
	}
	packets, err := decodePayload(body)
	if err != nil {
		return fmt.Errorf("socket.io dial: %w", err)
	}
	if len(packets) == 0 {
		return errors.New("socket.io dial: empty handshake payload")
	}
	if err := c.parseOpen(packets[0]); err != nil {
		return err
	}
	c.mu.Lock()
	c.transport = TransportPolling
	c.mu.Unlock()
	for _, p := range packets[1:] {
		c.handlePacket(p)
	}
	c.wg.Add(3)
	go c.poller()
	go c.postWriter()
	go c.pinger()
	return nil
}

func (c *Client) parseOpen(p string) error {
	if !strings.HasPrefix(p, "0") {
		return fmt.Errorf("socket.io dial: want open packet, got %q", truncate(p))
	}
	var o openPacket
	if err := json.Unmarshal([]byte(p[1:]), &o); err != nil {
		return fmt.Errorf("socket.io dial: open packet %q: %w", truncate(p), err)
	}
	if o.SID == "" || o.PingInterval <= 0 || o.PingTimeout <= 0 {
		return fmt.Errorf("socket.io dial: incomplete open packet %q", truncate(p))
	}
	c.sid = o.SID
	c.upgrades = o.Upgrades
	c.pingInterval = time.Duration(o.PingInterval) * time.Millisecond
	c.pingTimeout = time.Duration(o.PingTimeout) * time.Millisecond
	return nil
}

// startJanitor waits for the end, then for every goroutine, then releases
// the HTTP connections.
func (c *Client) startJanitor() {
	go func() {
		<-c.done
		c.wg.Wait()
		if c.ownHTTP != nil {
			c.ownHTTP.CloseIdleConnections()
		}
		close(c.finished)
	}()
}

// endpoint builds the Engine.IO URL for a transport.
func (c *Client) endpoint(transport string, withSID bool) string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(c.opts.Path, "/")
	q := url.Values{}
	for k, v := range c.opts.Query {
		q[k] = v
	}
	q.Set("EIO", c.opts.EIO)
	q.Set("transport", transport)
	if transport == TransportPolling {
		q.Set("b64", "1")
		q.Set("t", strconv.FormatInt(c.qs.Add(1), 36))
	}
	if withSID {
		q.Set("sid", c.sid)
	}
	u.RawQuery = q.Encode()
	if transport == TransportWebsocket {
		switch u.Scheme {
		case "https":
			u.Scheme = "wss"
		default:
			u.Scheme = "ws"
		}
	}
	return u.String()
}

func (c *Client) header() http.Header {
	h := c.opts.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if c.opts.Origin != "" {
		h.Set("Origin", c.opts.Origin)
	}
	return h
}

func (c *Client) dialWS(ctx context.Context, sid string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: writeWait, Proxy: nil}
	ws, resp, err := d.DialContext(ctx, c.endpoint(TransportWebsocket, sid != ""), c.header())
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return nil, fmt.Errorf("socket.io websocket dial: HTTP %d: %s: %w", resp.StatusCode, strings.TrimSpace(string(body)), err)
		}
		return nil, fmt.Errorf("socket.io websocket dial: %w", err)
	}
	return ws, nil
}

// doPoll performs one polling GET and returns the body.
func (c *Client) doPoll(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(TransportPolling, c.sid != ""), nil)
	if err != nil {
		return nil, err
	}
	req.Header = c.header()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("socket.io polling GET: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPayload))
	if err != nil {
		return nil, fmt.Errorf("socket.io polling GET: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("socket.io polling GET: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// doPost sends packets as one payload.
func (c *Client) doPost(ctx context.Context, packets []string) error {
	ctx, cancel := context.WithTimeout(ctx, writeWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(TransportPolling, true), bytes.NewReader(encodePayload(packets)))
	if err != nil {
		return err
	}
	req.Header = c.header()
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("socket.io polling POST: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("socket.io polling POST: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// poller issues GET polls until the end, StopReading, or the upgrade.
func (c *Client) poller() {
	defer c.wg.Done()
	defer close(c.pollDone)
	for {
		c.mu.Lock()
		pausing := c.pausing
		c.mu.Unlock()
		if pausing || c.stopRead.Load() {
			return
		}
		body, err := c.doPoll(c.ctx)
		if c.frozen.Load() {
			return
		}
		if err != nil {
			c.shutdown(err)
			return
		}
		packets, err := decodePayload(body)
		if err != nil {
			c.shutdown(fmt.Errorf("socket.io polling: %w", err))
			return
		}
		for _, p := range packets {
			c.handlePacket(p)
		}
	}
}

// postWriter sends queued packets, all that are waiting in one POST.
func (c *Client) postWriter() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.outReady:
		}
		c.postMu.Lock()
		c.mu.Lock()
		if c.pausing {
			c.mu.Unlock()
			c.postMu.Unlock()
			return
		}
		batch := c.outq
		c.outq = nil
		c.mu.Unlock()
		if len(batch) == 0 || c.frozen.Load() {
			c.postMu.Unlock()
			continue
		}
		err := c.doPost(c.ctx, batch)
		c.postMu.Unlock()
		if err != nil {
			c.shutdown(err)
			return
		}
	}
}

// wsReader reads websocket frames until the end or StopReading.
func (c *Client) wsReader(ws *websocket.Conn) {
	defer c.wg.Done()
	for {
		typ, msg, err := ws.ReadMessage()
		if err != nil {
			if c.stopRead.Load() {
				return
			}
			c.shutdown(fmt.Errorf("socket.io websocket read: %w", err))
			return
		}
		if c.stopRead.Load() {
			return
		}
		if typ != websocket.TextMessage {
			continue // binary attachments are not supported
		}
		c.handlePacket(string(msg))
	}
}

// pinger sends an Engine.IO ping every pingInterval and expects a pong
// within pingTimeout.
func (c *Client) pinger() {
	defer c.wg.Done()
	t := time.NewTimer(c.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		if c.frozen.Load() {
			return
		}
		select { // drop a stale pong
		case <-c.pong:
		default:
		}
		if err := c.sendPacket("2"); err != nil {
			c.shutdown(err)
			return
		}
		if !c.stopRead.Load() {
			t.Reset(c.pingTimeout)
		wait:
			for {
				select {
				case <-c.ctx.Done():
					return
				case p := <-c.pong:
					if p == "" {
						break wait
					}
				case <-t.C:
					if c.stopRead.Load() {
						break wait
					}
					c.shutdown(ErrPingTimeout)
					return
				}
			}
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		t.Reset(c.pingInterval)
	}
}

// upgrade probes a websocket with the session's ID, pauses polling and
// switches to the websocket, as engine.io-client 3 does.
func (c *Client) upgrade(ctx context.Context) error {
	ws, err := c.dialWS(ctx, c.sid)
	if err != nil {
		return fmt.Errorf("socket.io upgrade: %w", err)
	}
	fail := func(err error) error {
		ws.Close()
		return fmt.Errorf("socket.io upgrade: %w", err)
	}
	// As engine.io-client does, polling goes on during the probe; only
	// once the probe is answered does the client pause it: no new POST,
	// the POST in flight and the pending GET end (the server answers a
	// paused GET at once). Packets sent meanwhile wait in outq and go out
	// over the websocket after "5".
	ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		return fail(err)
	}
	// Close the probe when the client or ctx ends while waiting.
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	stop2 := context.AfterFunc(c.ctx, func() { ws.Close() })
	defer stop2()
	ws.SetReadDeadline(time.Now().Add(c.pingTimeout))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return fail(err)
	}
	if string(msg) != "3probe" {
		return fail(fmt.Errorf("want 3probe, got %q", truncate(string(msg))))
	}
	ws.SetReadDeadline(time.Time{})

	c.mu.Lock()
	c.pausing = true
	c.mu.Unlock()
	c.postMu.Lock()
	//lint:ignore SA2001 waits for the POST in flight to end
	c.postMu.Unlock()
	// The server has paused polling and answers the pending GET with a
	// noop; wait for the poller to end.
	select {
	case c.outReady <- struct{}{}: // wake the writer so that it exits
	default:
	}
	select {
	case <-c.pollDone:
	case <-c.done:
		return fail(c.err)
	case <-ctx.Done():
		return fail(ctx.Err())
	}

	// Hold wsMu until the queued packets are out, so that they keep their
	// place before anything sent from now on.
	c.wsMu.Lock()
	ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		c.wsMu.Unlock()
		return fail(err)
	}
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		c.wsMu.Unlock()
		return fail(c.err)
	default:
	}
	queued := c.outq
	c.outq = nil
	c.ws = ws
	c.transport = TransportWebsocket
	c.mu.Unlock()
	// A ping proves that the server now reads the websocket: the stock
	// go-socket.io v1.7.0 polling transport could make the server drop
	// the session right after "5".
	for _, p := range append(queued, "2") {
		ws.SetWriteDeadline(time.Now().Add(writeWait))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
			c.wsMu.Unlock()
			return fmt.Errorf("socket.io upgrade: server dropped the session after the upgrade: %w", err)
		}
	}
	c.wsMu.Unlock()
	ws.SetReadDeadline(time.Now().Add(c.pingTimeout))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("socket.io upgrade: server dropped the session after the upgrade: %w", err)
		}
		c.handlePacket(string(msg))
		if strings.HasPrefix(string(msg), "3") {
			break
		}
	}
	ws.SetReadDeadline(time.Time{})
	stop()
	stop2()
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return c.err
	default:
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go c.wsReader(ws)
	if c.frozen.Load() || c.stopRead.Load() {
		ws.SetReadDeadline(time.Now())
	}
	return nil
}

// sendPacket sends one Engine.IO packet on the current transport.
func (c *Client) sendPacket(p string) error {
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return c.err
	default:
	}
	if c.transport == TransportWebsocket {
		ws := c.ws
		c.mu.Unlock()
		c.wsMu.Lock()
		defer c.wsMu.Unlock()
		if c.frozen.Load() {
			return nil
		}
		ws.SetWriteDeadline(time.Now().Add(writeWait))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
			err = fmt.Errorf("socket.io websocket write: %w", err)
			c.shutdown(err)
			return err
		}
		return nil
	}
	c.outq = append(c.outq, p)
	c.mu.Unlock()
	select {
	case c.outReady <- struct{}{}:
	default:
	}
	return nil
}

// handlePacket handles one Engine.IO packet from the server.
func (c *Client) handlePacket(p string) {
	if p == "" {
		return
	}
	switch p[0] {
	case '1':
		c.shutdown(ErrServerClose)
	case '2': // a server ping (newer protocols): answer it
		c.sendPacket("3" + p[1:])
	case '3':
		select {
		case c.pong <- p[1:]:
		default:
		}
	case '4':
		c.handleMessage(p[1:])
	}
	// 0 open (already handled), 5 upgrade, 6 noop and b (binary) are ignored.
}

// handleMessage handles one Socket.IO packet. A packet the client cannot
// decode ends the connection with an error that quotes it: a test must not
// pass because a malformed packet went unseen.
func (c *Client) handleMessage(m string) {
	bad := func(why string) {
		c.shutdown(fmt.Errorf("socket.io client: %s: %q", why, truncate(m)))
	}
	if m == "" {
		bad("empty Socket.IO packet")
		return
	}
	typ := m[0]
	rest := m[1:]
	if strings.HasPrefix(rest, "/") { // namespace
		nsp, after, _ := strings.Cut(rest, ",")
		if nsp != "/" {
			return // only "/" is supported
		}
		rest = after
	}
	switch typ {
	case '0':
		c.mu.Lock()
		first := !c.connected
		c.connected = true
		c.mu.Unlock()
		if first {
			c.connectC <- ""
		}
	case '1':
		c.shutdown(ErrServerDisconnect)
	case '2':
		_, data := splitID(rest)
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(data), &args); err != nil || len(args) == 0 {
			bad("undecodable event")
			return
		}
		var name string
		if err := json.Unmarshal(args[0], &name); err != nil {
			bad("event without a name")
			return
		}
		ev := Event{Name: name, Args: args[1:], Received: time.Now()}
		if c.onEvent != nil {
			c.onEvent(ev)
			return
		}
		select {
		case c.events <- ev:
		case <-c.done:
		}
	case '3':
		id, data := splitID(rest)
		if id < 0 {
			// go-socket.io v1.7.0 answers every handler that returns a
			// value, even when no acknowledgement was asked for; like
			// socket.io-client, ignore an answer nobody waits for.
			return
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(data), &args); err != nil {
			bad("undecodable acknowledgement")
			return
		}
		c.mu.Lock()
		ch := c.acks[uint64(id)]
		delete(c.acks, uint64(id))
		c.mu.Unlock()
		if ch != nil {
			ch <- args
		}
	case '4':
		c.mu.Lock()
		first := !c.connected
		c.connected = true
		c.mu.Unlock()
		if first {
			c.connectC <- "error " + strings.TrimSpace(rest)
		}
	default:
		bad("unsupported Socket.IO packet type")
	}
}

// splitID splits "12[...]" into 12 and "[...]"; id is -1 when absent.
func splitID(s string) (int64, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return -1, s
	}
	id, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return -1, s[i:]
	}
	return id, s[i:]
}

// shutdown ends the client once, recording why.
func (c *Client) shutdown(err error) {
	c.closeOnce.Do(func() {
		if c.closing.Load() {
			err = ErrClosed
		}
		c.mu.Lock()
		c.err = err
		close(c.done)
		ws := c.ws
		c.mu.Unlock()
		c.cancel()
		if ws != nil {
			ws.Close()
		}
	})
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// SID returns the Engine.IO session ID.
func (c *Client) SID() string { return c.sid }

// PingInterval returns the server's ping interval from the handshake.
func (c *Client) PingInterval() time.Duration { return c.pingInterval }

// PingTimeout returns the server's ping timeout from the handshake.
func (c *Client) PingTimeout() time.Duration { return c.pingTimeout }

// Transport returns the current transport: "polling" or "websocket".
func (c *Client) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Emit sends the event 42["event",args...].
func (c *Client) Emit(event string, args ...any) error {
	data, err := encodeJSON(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return c.sendPacket("42" + string(data))
}

// EmitAck sends the event with an ack ID, 42<id>[...], and waits for the
// server's answer 43<id>[...].
func (c *Client) EmitAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	data, err := encodeJSON(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	id := c.nextAck
	c.nextAck++
	c.acks[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
	}()
	if err := c.sendPacket("42" + strconv.FormatUint(id, 10) + string(data)); err != nil {
		return nil, err
	}
	select {
	case args := <-ch:
		return args, nil
	case <-c.done:
		return nil, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SendRaw sends one raw Engine.IO packet as it is, for example
// `42["chat message",{]`.
func (c *Client) SendRaw(packet string) error {
	return c.sendPacket(packet)
}

// Events returns the received events (nil when DialOptions.OnEvent is set).
func (c *Client) Events() <-chan Event { return c.events }

// Next returns the next event called name, skipping others.
func (c *Client) Next(ctx context.Context, name string) (Event, error) {
	if c.events == nil {
		return Event{}, errors.New("socket.io client: Next needs Events (OnEvent is set)")
	}
	for {
		select {
		case ev := <-c.events:
			if ev.Name == name {
				return ev, nil
			}
			continue
		default:
		}
		select {
		case ev := <-c.events:
			if ev.Name == name {
				return ev, nil
			}
		case <-c.done:
			// Deliver what was already queued before reporting the end.
			for {
				select {
				case ev := <-c.events:
					if ev.Name == name {
						return ev, nil
					}
				default:
					return Event{}, fmt.Errorf("waiting for %q: %w", name, c.err)
				}
			}
		case <-ctx.Done():
			return Event{}, fmt.Errorf("waiting for %q: %w", name, ctx.Err())
		}
	}
}

// Done is closed when the connection has ended for any reason.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err tells why the connection ended; nil while it is open.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Wait blocks until every goroutine of the client has ended, or ctx ends.
func (c *Client) Wait(ctx context.Context) error {
	select {
	case <-c.finished:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close says goodbye politely (Socket.IO disconnect "41", then Engine.IO
// close "1"), then tears the connection down and waits for its goroutines.
func (c *Client) Close() error {
	select {
	case <-c.done:
		<-c.finished
		return nil
	default:
	}
	var err error
	c.closing.Store(true)
	c.mu.Lock()
	transport, ws := c.transport, c.ws
	c.mu.Unlock()
	if !c.frozen.Load() {
		if transport == TransportWebsocket {
			c.wsMu.Lock()
			deadline := time.Now().Add(writeWait)
			ws.SetWriteDeadline(deadline)
			err = ws.WriteMessage(websocket.TextMessage, []byte("41"))
			if err == nil {
				err = ws.WriteMessage(websocket.TextMessage, []byte("1"))
			}
			if err == nil {
				err = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
				if errors.Is(err, websocket.ErrCloseSent) {
					// The server's close frame came first and the reader
					// answered it: the close handshake is done.
					err = nil
				}
			}
			c.wsMu.Unlock()
		} else {
			c.mu.Lock()
			c.pausing = true // the writer posts nothing more
			queued := c.outq
			c.outq = nil
			c.mu.Unlock()
			c.postMu.Lock()
			// A fresh context: the GET that the server ends as it closes
			// the session must not cancel this POST.
			ctx, cancel := context.WithTimeout(context.Background(), writeWait)
			err = c.doPost(ctx, append(queued, "41", "1"))
			cancel()
			c.postMu.Unlock()
		}
	}
	// The server closes the connection as soon as it reads "1"; the reader
	// may then end the client before the last write of the goodbye (the
	// close frame, or the POST's answer). That is a goodbye heard.
	select {
	case <-c.done:
		err = nil
	default:
	}
	c.shutdown(ErrClosed)
	<-c.finished
	return err
}

// Kill vanishes without any goodbye: the websocket's TCP connection is
// closed without a close frame; polling stops and in-flight requests are
// aborted, so the server notices only by its ping timeout.
func (c *Client) Kill() {
	c.shutdown(ErrKilled)
	<-c.finished
}

// StopReading stops reading from the transport but keeps the connection
// open and keeps sending pings (a slow reader): over websocket the TCP
// buffers fill up; over polling no more GET is issued.
func (c *Client) StopReading() {
	c.stopRead.Store(true)
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ws.SetReadDeadline(time.Now()) // wakes the reader, which then exits
	}
}

// Freeze stops every activity (no reads, writes or pings) but keeps the TCP
// connections open until Close or Kill: like a client whose network went
// silent. Over websocket the server notices only by its ping timeout.
func (c *Client) Freeze() {
	c.frozen.Store(true)
	c.StopReading()
}

// decodePayload splits an Engine.IO 3 text payload "<len>:<packet>...";
// lengths count UTF-16 units, as socket.io-client 2.x and Node's engine.io
// write them.
func decodePayload(b []byte) ([]string, error) {
	s := string(b)
	var out []string
	for len(s) > 0 {
		colon := strings.IndexByte(s, ':')
		if colon <= 0 {
			return out, fmt.Errorf("bad payload near %q", truncate(s))
		}
		n, err := strconv.Atoi(s[:colon])
		if err != nil || n <= 0 {
			return out, fmt.Errorf("bad payload length near %q", truncate(s))
		}
		s = s[colon+1:]
		end := utf16End(s, n)
		if end < 0 {
			return out, fmt.Errorf("payload length %d does not fit near %q", n, truncate(s))
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out, nil
}

// utf16End returns the byte offset after n UTF-16 units of s, or -1.
func utf16End(s string, n int) int {
	units := 0
	for i, r := range s {
		if units == n {
			return i
		}
		units += max(utf16.RuneLen(r), 1)
		if units > n {
			return -1
		}
	}
	if units == n {
		return len(s)
	}
	return -1
}

// encodePayload joins packets as "<len>:<packet>" with lengths in UTF-16
// units, as socket.io-client 2.x (JavaScript string lengths) writes them.
func encodePayload(packets []string) []byte {
	var b bytes.Buffer
	for _, p := range packets {
		n := 0
		for _, r := range p {
			n += utf16.RuneLen(r)
		}
		b.WriteString(strconv.Itoa(n))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.Bytes()
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
