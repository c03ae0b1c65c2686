package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"sohbet/internal/sioclient"
)

// Config describes one load run.
type Config struct {
	URL            string
	Protocol       string // "socketio" or "websocket"
	Transport      string // socketio: "websocket", "polling" or "upgrade"
	Path           string // socketio: "/socket.io/"; websocket: "/ws"
	Origin         string
	Event          string
	Clients        int
	Senders        int
	Rate           float64 // messages per second, all senders together
	Duration       time.Duration
	Warmup         time.Duration
	Drain          time.Duration
	Settle         time.Duration
	ConnectRate    float64 // new connections per second
	ConnectTimeout time.Duration
	DialParallel   int
	PayloadBytes   int
	Expect         string // "all" (broadcast) or "sender" (echo)
	PID            int
	Label          string
	Progress       io.Writer
	ProgressEvery  time.Duration
}

// Result is what a run measured. Durations are in milliseconds.
type Result struct {
	Label     string  `json:"label,omitempty"`
	URL       string  `json:"url"`
	Protocol  string  `json:"protocol"`
	Transport string  `json:"transport,omitempty"`
	Clients   int     `json:"clients"`
	Senders   int     `json:"senders"`
	Rate      float64 `json:"rate"`
	Duration  float64 `json:"duration_s"`
	Warmup    float64 `json:"warmup_s"`
	Started   string  `json:"started"`

	Connected       int     `json:"connected"`
	ConnectFailures int     `json:"connect_failures"`
	ConnectSeconds  float64 `json:"connect_s"`
	ConnectP50      float64 `json:"connect_p50_ms"`
	ConnectP99      float64 `json:"connect_p99_ms"`
	ConnectMax      float64 `json:"connect_max_ms"`
	FirstError      string  `json:"first_error,omitempty"`

	Sent         int64   `json:"sent"`
	SendErrors   int64   `json:"send_errors"`
	Expected     int64   `json:"expected"`
	Delivered    int64   `json:"delivered"`
	Lost         int64   `json:"lost"`
	LossPercent  float64 `json:"loss_pct"`
	Duplicates   int64   `json:"duplicates"`
	Disconnects  int64   `json:"disconnects"`
	Foreign      int64   `json:"foreign"`
	DeliveredPS  float64 `json:"delivered_per_s"`
	LatencyP50   float64 `json:"p50_ms"`
	LatencyP90   float64 `json:"p90_ms"`
	LatencyP99   float64 `json:"p99_ms"`
	LatencyMax   float64 `json:"max_ms"`
	LatencyMean  float64 `json:"mean_ms"`
	DrainTimeout bool    `json:"drain_timeout"`

	LoadAvgStart string `json:"loadavg_start,omitempty"` // /proc/loadavg: is the machine busy?
	LoadAvgEnd   string `json:"loadavg_end,omitempty"`

	PID            int     `json:"pid,omitempty"`
	RSSBaseKB      int64   `json:"rss_base_kb,omitempty"`
	RSSIdleKB      int64   `json:"rss_idle_kb,omitempty"`
	RSSPeakKB      int64   `json:"rss_peak_kb,omitempty"`
	MemPerConnKB   float64 `json:"mem_per_conn_kb,omitempty"`
	CPUPercent     float64 `json:"cpu_pct,omitempty"`
	ProcSampleErrs int     `json:"proc_errors,omitempty"`
}

// client is one connection of the run, whatever its protocol.
type client interface {
	send(payload string) error
	done() <-chan struct{}
	err() error
	close()
}

// receiver keeps what one client received. Only its own reader goroutine
// writes seen; counters are atomic for the progress line.
type receiver struct {
	idx      int
	seen     []bitset // per sender
	received atomic.Int64
	dups     atomic.Int64
	foreign  atomic.Int64
}

// run is the state of one load run.
type run struct {
	cfg    Config
	id     string // run ID carried in every payload
	base   time.Time
	lat    shardedHistogram
	recv   []*receiver
	sent   atomic.Int64 // measured messages sent
	warm   atomic.Int64 // warm-up messages sent
	sendEr atomic.Int64
	deliv  atomic.Int64 // measured unique deliveries
	lastAt atomic.Int64 // ns since base of the last measured delivery
	disc   atomic.Int64
	phase  atomic.Value // string, for the progress line
	// warmEnd and sendEnd are the ends of the warm-up and of sending, in
	// ns since base.
	warmEnd atomic.Int64
	sendEnd atomic.Int64

	errMu    sync.Mutex
	firstErr error
}

func (r *run) noteErr(err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.firstErr == nil {
		r.firstErr = err
	}
}

// payload is "loadtest <run> <sender> <seq> <m|w> <sentNs> [padding]": a
// plain string, because the chat servers relay strings only.
func (r *run) payload(sender int, seq uint64, measured bool, pad string) string {
	ph := "w"
	if measured {
		ph = "m"
	}
	var b strings.Builder
	b.Grow(64 + len(pad))
	b.WriteString("loadtest ")
	b.WriteString(r.id)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(sender))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(seq, 10))
	b.WriteByte(' ')
	b.WriteString(ph)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(int64(time.Since(r.base)), 10))
	if pad != "" {
		b.WriteByte(' ')
		b.WriteString(pad)
	}
	return b.String()
}

// onMessage handles one received payload on receiver rc.
func (r *run) onMessage(rc *receiver, text string, at time.Time) {
	f := strings.SplitN(text, " ", 7)
	if len(f) < 6 || f[0] != "loadtest" || f[1] != r.id {
		rc.foreign.Add(1)
		return
	}
	sender, err1 := strconv.Atoi(f[2])
	seq, err2 := strconv.ParseUint(f[3], 10, 64)
	sentNs, err3 := strconv.ParseInt(f[5], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || sender < 0 || sender >= r.cfg.Senders {
		rc.foreign.Add(1)
		return
	}
	if r.cfg.Expect == "sender" && sender != rc.idx {
		rc.foreign.Add(1)
		return
	}
	if rc.seen[sender].set(seq) {
		rc.dups.Add(1)
		return
	}
	rc.received.Add(1)
	if f[4] != "m" {
		return
	}
	now := at.Sub(r.base)
	r.lat.record(rc.idx, now-time.Duration(sentNs))
	r.deliv.Add(1)
	for {
		last := r.lastAt.Load()
		if int64(now) <= last || r.lastAt.CompareAndSwap(last, int64(now)) {
			break
		}
	}
}

// Run performs one load run and returns its result; err is set when the
// run could not be done at all (for example, no client connected).
func Run(ctx context.Context, cfg Config) (Result, error) {
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	r := &run{cfg: cfg, id: hex.EncodeToString(idb), base: time.Now()}
	r.phase.Store("connecting")
	res := Result{
		Label: cfg.Label, URL: cfg.URL, Protocol: cfg.Protocol, Clients: cfg.Clients,
		Senders: cfg.Senders, Rate: cfg.Rate, Duration: cfg.Duration.Seconds(),
		Warmup: cfg.Warmup.Seconds(), Started: r.base.UTC().Format(time.RFC3339), PID: cfg.PID,
	}
	if cfg.Protocol == "socketio" {
		res.Transport = cfg.Transport
	}
	res.LoadAvgStart = loadAvg()

	// Server process sampling.
	var procMu sync.Mutex
	var peak int64
	var procErrs int
	sample := func() (procSample, bool) {
		if cfg.PID <= 0 {
			return procSample{}, false
		}
		s, err := readProc(cfg.PID)
		procMu.Lock()
		defer procMu.Unlock()
		if err != nil {
			procErrs++
			return s, false
		}
		peak = max(peak, s.RSSKB)
		return s, true
	}
	if s, ok := sample(); ok {
		res.RSSBaseKB = s.RSSKB
	}
	samplerCtx, stopSampler := context.WithCancel(ctx)
	var samplerWG sync.WaitGroup
	defer func() { stopSampler(); samplerWG.Wait() }()
	if cfg.PID > 0 {
		samplerWG.Add(1)
		go func() {
			defer samplerWG.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-samplerCtx.Done():
					return
				case <-t.C:
					sample()
				}
			}
		}()
	}

	// Progress line.
	clients := make([]client, cfg.Clients)
	var connected, failed atomic.Int64
	progressCtx, stopProgress := context.WithCancel(ctx)
	var progressWG sync.WaitGroup
	if cfg.Progress != nil {
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			r.progress(progressCtx, &connected, &failed)
		}()
	}
	defer func() { stopProgress(); progressWG.Wait() }()

	// Connect at ConnectRate, at most DialParallel dials at once.
	r.recv = make([]*receiver, cfg.Clients)
	for i := range r.recv {
		r.recv[i] = &receiver{idx: i, seen: make([]bitset, cfg.Senders)}
	}
	var connectHist histogram
	var connectMu sync.Mutex
	connectCtx, cancelConnect := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancelConnect()
	sem := make(chan struct{}, cfg.DialParallel)
	var dialWG sync.WaitGroup
	connectStart := time.Now()
	interval := time.Duration(float64(time.Second) / cfg.ConnectRate)
dialLoop:
	for i := range cfg.Clients {
		if wait := time.Until(connectStart.Add(time.Duration(i) * interval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-connectCtx.Done():
				t.Stop()
				failed.Add(int64(cfg.Clients - i))
				r.noteErr(fmt.Errorf("connect phase: %w", connectCtx.Err()))
				break dialLoop
			case <-t.C:
			}
		}
		select {
		case sem <- struct{}{}:
		case <-connectCtx.Done():
			failed.Add(int64(cfg.Clients - i))
			r.noteErr(fmt.Errorf("connect phase: %w", connectCtx.Err()))
			break dialLoop
		}
		dialWG.Add(1)
		go func(i int) {
			defer dialWG.Done()
			defer func() { <-sem }()
			start := time.Now()
			c, err := r.dial(connectCtx, r.recv[i])
			took := time.Since(start)
			if err != nil {
				failed.Add(1)
				r.noteErr(fmt.Errorf("client %d could not connect: %w", i, err))
				return
			}
			clients[i] = c
			connected.Add(1)
			connectMu.Lock()
			connectHist.record(took)
			connectMu.Unlock()
		}(i)
	}
	dialWG.Wait()
	res.ConnectSeconds = time.Since(connectStart).Seconds()
	res.Connected = int(connected.Load())
	res.ConnectFailures = int(failed.Load())
	res.ConnectP50 = float64(connectHist.quantile(0.50)) / 1000
	res.ConnectP99 = float64(connectHist.quantile(0.99)) / 1000
	res.ConnectMax = float64(connectHist.max) / 1000
	defer closeAll(clients)
	if res.Connected == 0 {
		res.FirstError = errString(r.firstErr)
		return res, fmt.Errorf("no client connected: %v", r.firstErr)
	}

	// Watch for clients that drop during the run.
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watchWG sync.WaitGroup
	for i, c := range clients {
		if c == nil {
			continue
		}
		watchWG.Add(1)
		go func() {
			defer watchWG.Done()
			select {
			case <-c.done():
				r.disc.Add(1)
				r.noteErr(fmt.Errorf("client %d dropped: %v", i, c.err()))
			case <-watchCtx.Done():
			}
		}()
	}
	defer func() { stopWatch(); watchWG.Wait() }()

	// Idle memory after the connections settle.
	r.phase.Store("idle")
	if !sleepCtx(ctx, cfg.Settle) {
		return r.finish(res, &peak, &procErrs, &procMu), ctx.Err()
	}
	var cpuStart procSample
	if s, ok := sample(); ok {
		res.RSSIdleKB = s.RSSKB
		if res.RSSBaseKB > 0 && res.Connected > 0 {
			res.MemPerConnKB = float64(s.RSSKB-res.RSSBaseKB) / float64(res.Connected)
		}
		cpuStart = s
	}

	// Send: warm-up then the measured window, each sender at Rate/Senders.
	pad := strings.Repeat("x", cfg.PayloadBytes)
	senders := 0
	for i := 0; i < cfg.Senders && i < len(clients); i++ {
		if clients[i] != nil {
			senders++
		}
	}
	sendStart := time.Now()
	warmEnd := sendStart.Add(cfg.Warmup)
	sendEnd := warmEnd.Add(cfg.Duration)
	r.warmEnd.Store(int64(warmEnd.Sub(r.base)))
	r.sendEnd.Store(int64(sendEnd.Sub(r.base)))
	r.phase.Store("send")
	var sendWG sync.WaitGroup
	perSender := time.Duration(float64(time.Second) * float64(cfg.Senders) / cfg.Rate)
	for s := 0; s < cfg.Senders && s < len(clients); s++ {
		c := clients[s]
		if c == nil {
			continue
		}
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			// Stagger the senders evenly over one interval.
			next := sendStart.Add(time.Duration(s) * perSender / time.Duration(cfg.Senders))
			var seq uint64
			for {
				if next.After(sendEnd) || !next.Before(sendEnd) {
					return
				}
				t := time.NewTimer(time.Until(next))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-c.done():
					t.Stop()
					return
				case <-t.C:
				}
				measured := !next.Before(warmEnd)
				if err := c.send(r.payload(s, seq, measured, pad)); err != nil {
					r.sendEr.Add(1)
					r.noteErr(fmt.Errorf("sender %d: %w", s, err))
					return
				}
				seq++
				if measured {
					r.sent.Add(1)
				} else {
					r.warm.Add(1)
				}
				next = next.Add(perSender)
			}
		}()
	}
	sendWG.Wait()

	// Drain: wait until every expected delivery arrived, or Drain passes.
	r.phase.Store("drain")
	expected := func() int64 {
		n := r.sent.Load()
		if cfg.Expect == "sender" {
			return n
		}
		return n * int64(res.Connected)
	}
	drainEnd := time.Now().Add(cfg.Drain)
	for r.deliv.Load() < expected() {
		if time.Now().After(drainEnd) {
			res.DrainTimeout = true
			break
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			break
		}
	}
	res.Expected = expected()
	// CPU from the start of sending to the last delivery (or the drain's
	// end): what the server spent to deliver.
	if cpuEnd, ok := sample(); ok && !cpuStart.At.IsZero() {
		res.CPUPercent = cpuPercent(cpuStart, cpuEnd)
	}
	return r.finish(res, &peak, &procErrs, &procMu), nil
}

// finish fills the delivery and latency figures.
func (r *run) finish(res Result, peak *int64, procErrs *int, procMu *sync.Mutex) Result {
	res.Sent = r.sent.Load()
	res.SendErrors = r.sendEr.Load()
	res.Delivered = r.deliv.Load()
	res.Lost = max(res.Expected-res.Delivered, 0)
	if res.Expected > 0 {
		res.LossPercent = 100 * float64(res.Lost) / float64(res.Expected)
	}
	for _, rc := range r.recv {
		res.Duplicates += rc.dups.Load()
		res.Foreign += rc.foreign.Load()
	}
	res.Disconnects = r.disc.Load()
	h := r.lat.snapshot()
	res.LatencyP50 = float64(h.quantile(0.50)) / 1000
	res.LatencyP90 = float64(h.quantile(0.90)) / 1000
	res.LatencyP99 = float64(h.quantile(0.99)) / 1000
	res.LatencyMax = float64(h.max) / 1000
	if h.n > 0 {
		res.LatencyMean = h.sum / float64(h.n) / 1000
	}
	if res.Duration > 0 {
		// Deliveries over the time they took to arrive: from the start of
		// the measured window to the last delivery, at least the window.
		window := time.Duration(res.Duration * float64(time.Second))
		if last := time.Duration(r.lastAt.Load()); last > 0 {
			window = max(window, last-time.Duration(r.warmEnd.Load()))
		}
		res.DeliveredPS = float64(res.Delivered) / window.Seconds()
	}
	procMu.Lock()
	res.RSSPeakKB = *peak
	res.ProcSampleErrs = *procErrs
	procMu.Unlock()
	res.FirstError = errString(r.firstErr)
	res.LoadAvgEnd = loadAvg()
	return res
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.close()
		}()
	}
	wg.Wait()
}

// dial opens one client of the configured protocol.
func (r *run) dial(ctx context.Context, rc *receiver) (client, error) {
	if r.cfg.Protocol == "websocket" {
		return dialPlainWS(ctx, r, rc)
	}
	var sc *socketIOClient
	c, err := sioclient.Dial(ctx, r.cfg.URL, sioclient.DialOptions{
		Transport: r.cfg.Transport,
		Path:      r.cfg.Path,
		Origin:    r.cfg.Origin,
		OnEvent: func(ev sioclient.Event) {
			if ev.Name != r.cfg.Event || len(ev.Args) == 0 {
				rc.foreign.Add(1)
				return
			}
			raw := ev.Args[0]
			var text string
			if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && !strings.ContainsRune(string(raw), '\\') {
				text = string(raw[1 : len(raw)-1])
			} else if err := json.Unmarshal(raw, &text); err != nil {
				rc.foreign.Add(1)
				return
			}
			r.onMessage(rc, text, ev.Received)
		},
	})
	if err != nil {
		return nil, err
	}
	sc = &socketIOClient{c: c, event: r.cfg.Event}
	return sc, nil
}

// socketIOClient sends "chat message" events over the course's client.
type socketIOClient struct {
	c     *sioclient.Client
	event string
}

func (s *socketIOClient) send(p string) error   { return s.c.Emit(s.event, p) }
func (s *socketIOClient) done() <-chan struct{} { return s.c.Done() }
func (s *socketIOClient) err() error            { return s.c.Err() }
func (s *socketIOClient) close()                { _ = s.c.Close() }
func (p *plainWSClient) done() <-chan struct{}  { return p.doneC }
func (p *plainWSClient) err() error             { <-p.doneC; return p.errV }
func (p *plainWSClient) setErr(err error) (first bool) {
	p.once.Do(func() { p.errV = err; close(p.doneC); first = true })
	return first
}

// plainWSClient is a plain WebSocket client for step 02's /ws echo.
type plainWSClient struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	doneC   chan struct{}
	once    sync.Once
	errV    error
	readerC chan struct{}
}

var errClosedByTool = errors.New("closed by the load tool")

func dialPlainWS(ctx context.Context, r *run, rc *receiver) (client, error) {
	u, err := url.Parse(r.cfg.URL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "https", "wss":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path = r.cfg.Path
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

func (p *plainWSClient) close() {
	p.setErr(errClosedByTool)
	p.writeMu.Lock()
	_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	p.writeMu.Unlock()
	p.ws.Close()
	<-p.readerC
}
