package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sohbet/internal/sioclient"
)

// chatEvent is the event that the chat servers of the course relay.
const chatEvent = "chat message"

// maxPendingAcks bounds the acknowledgements awaited at once, one goroutine
// each. A message sent while that many are pending still goes out, but its
// answer is not awaited and it counts as an ack timeout: the server is far
// behind by then.
const maxPendingAcks = 10000

// Config describes one load run.
type Config struct {
	// URLs are the servers' base addresses: client i connects to
	// URLs[i%len(URLs)], and so does sender i, one of the first Senders
	// clients. Each URL is taken to be a process of its own.
	URLs           []string
	Protocol       string // "socketio" or "websocket"
	Transport      string // socketio: "websocket", "polling" or "upgrade"
	Origin         string
	Clients        int
	Senders        int
	Rate           float64 // messages per second, all senders together
	Duration       time.Duration
	Warmup         time.Duration
	Drain          time.Duration // also the longest wait for one acknowledgement
	Settle         time.Duration
	ConnectRate    float64 // new connections per second
	ConnectTimeout time.Duration
	DialParallel   int
	PayloadBytes   int
	Ack            bool // socketio: every message asks for an acknowledgement
	PIDs           []int
	Label          string
	Progress       io.Writer
	ProgressEvery  time.Duration
}

// echo reports whether each message comes back to its sender only (step
// 02's /ws echo) instead of going to every client.
func (c Config) echo() bool { return c.Protocol == "websocket" }

// urlOf is the index in URLs of client (or sender) i.
func (c Config) urlOf(i int) int { return i % len(c.URLs) }

// Result is what a run measured. Durations are in milliseconds.
type Result struct {
	Label     string  `json:"label,omitempty"`
	URL       string  `json:"url"` // the URLs, joined by commas
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

	// AckStats is nil, and its fields absent from the JSON, without -ack.
	*AckStats

	// Servers and SplitStats are only set with several URLs.
	Servers []ServerShare `json:"servers,omitempty"`
	*SplitStats

	LoadAvgStart string `json:"loadavg_start,omitempty"` // /proc/loadavg: is the machine busy?
	LoadAvgEnd   string `json:"loadavg_end,omitempty"`

	PID            int     `json:"pid,omitempty"`
	RSSBaseKB      int64   `json:"rss_base_kb,omitempty"`
	RSSIdleKB      int64   `json:"rss_idle_kb,omitempty"`
	RSSPeakKB      int64   `json:"rss_peak_kb,omitempty"`
	MemPerConnKB   float64 `json:"mem_per_conn_kb,omitempty"`
	CPUPercent     float64 `json:"cpu_pct,omitempty"`
	ProcSampleErrs int     `json:"proc_errors,omitempty"`

	// Procs is set with several -pid: each process's own figures. PID
	// is then the first of them, and the RSS and CPU figures above are
	// sums over them (RSSPeakKB: the peak of the sum).
	Procs []ProcResult `json:"procs,omitempty"`
}

// AckStats are the acknowledgements of the measured messages of a run with
// -ack. Latency runs from the send to an answer with ok true.
type AckStats struct {
	Acks        int64   `json:"acks"`         // answers with ok true
	AckErrors   int64   `json:"ack_errors"`   // answers with ok false, or undecodable
	AckTimeouts int64   `json:"ack_timeouts"` // no answer within -drain
	AckP50      float64 `json:"ack_p50_ms"`
	AckP90      float64 `json:"ack_p90_ms"`
	AckP99      float64 `json:"ack_p99_ms"`
	AckMax      float64 `json:"ack_max_ms"`
}

// ServerShare is the part of a run that went to one URL.
type ServerShare struct {
	URL       string `json:"url"`
	Clients   int    `json:"clients"`
	Connected int    `json:"connected"`
	Senders   int    `json:"senders"`
}

// SplitStats splits the delivery latency of a run over several URLs:
// Same is a delivery whose sender and receiver use the same URL, Other
// one that had to cross from one server to another (through Redis, in
// step 11).
type SplitStats struct {
	SameDelivered  int64   `json:"same_delivered"`
	SameP50        float64 `json:"same_p50_ms"`
	SameP99        float64 `json:"same_p99_ms"`
	OtherDelivered int64   `json:"other_delivered"`
	OtherP50       float64 `json:"other_p50_ms"`
	OtherP99       float64 `json:"other_p99_ms"`
}

// ProcResult is what was sampled of one process of -pid.
type ProcResult struct {
	PID        int     `json:"pid"`
	Name       string  `json:"name,omitempty"` // /proc/PID/comm
	RSSBaseKB  int64   `json:"rss_base_kb"`
	RSSIdleKB  int64   `json:"rss_idle_kb"`
	RSSPeakKB  int64   `json:"rss_peak_kb"`
	CPUPercent float64 `json:"cpu_pct"`
}

// ackAnswer is the server's answer to an acknowledged message:
// {"ok": true, "id": N} or {"ok": false, "error": "…", "retry": bool}.
type ackAnswer struct {
	OK    *bool  `json:"ok"`
	Error string `json:"error"`
	Retry bool   `json:"retry"`
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
	cfg  Config
	id   string // run ID carried in every payload
	base time.Time
	proc *sampler
	recv []*receiver
	lat  shardedHistogram // delivery latency of measured messages
	// latSame and latOther split lat by whether sender and receiver use
	// the same URL; only recorded with several URLs.
	latSame, latOther shardedHistogram
	ackLat            shardedHistogram // acknowledgement latency of measured messages

	connected atomic.Int64
	failed    atomic.Int64 // clients that could not connect
	sent      atomic.Int64 // measured messages sent
	warm      atomic.Int64 // warm-up messages sent
	sendEr    atomic.Int64
	deliv     atomic.Int64 // measured unique deliveries
	lastAt    atomic.Int64 // ns since base of the last measured delivery
	disc      atomic.Int64
	acks      atomic.Int64
	ackErr    atomic.Int64
	ackTO     atomic.Int64
	phase     atomic.Value // string, for the progress line
	warmEnd   atomic.Int64 // end of the warm-up, ns since base

	// ackSlots holds one token per awaited acknowledgement; ackWG waits
	// for their goroutines.
	ackSlots chan struct{}
	ackWG    sync.WaitGroup

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

// Run performs one load run and returns its result; err is set when the
// run could not be done (no client connected) or ctx ended.
func Run(ctx context.Context, cfg Config) (Result, error) {
	r, res := start(cfg)
	defer background(ctx, r.proc.watch)()
	if cfg.Progress != nil {
		defer background(ctx, r.progress)()
	}
	clients := r.connect(ctx, &res)
	defer closeAll(clients)
	if res.Connected == 0 {
		return r.finish(res), fmt.Errorf("no client connected: %v", r.firstErr)
	}
	defer background(ctx, func(ctx context.Context) { r.watchDrops(ctx, clients) })()
	cpuStart, ok := r.settle(ctx, &res)
	if !ok {
		return r.finish(res), ctx.Err()
	}
	r.send(ctx, clients)
	r.drain(ctx, &res)
	// CPU from the start of sending to the last delivery (or the drain's
	// end): what the server spent to deliver.
	if cpuEnd, ok := r.proc.sample(); ok && cpuStart != nil {
		for i := range cpuEnd {
			pct := cpuPercent(cpuStart[i], cpuEnd[i])
			res.CPUPercent += pct
			if res.Procs != nil {
				res.Procs[i].CPUPercent = pct
			}
		}
	}
	return r.finish(res), ctx.Err()
}

// start sets up the run and its result, with the server's memory before
// any client connects.
func start(cfg Config) (*run, Result) {
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	r := &run{cfg: cfg, id: hex.EncodeToString(idb), base: time.Now(), proc: newSampler(cfg.PIDs),
		recv: make([]*receiver, cfg.Clients), ackSlots: make(chan struct{}, maxPendingAcks)}
	for i := range r.recv {
		r.recv[i] = &receiver{idx: i, seen: make([]bitset, cfg.Senders)}
	}
	r.phase.Store("connecting")
	res := Result{
		Label: cfg.Label, URL: strings.Join(cfg.URLs, ","), Protocol: cfg.Protocol, Clients: cfg.Clients,
		Senders: cfg.Senders, Rate: cfg.Rate, Duration: cfg.Duration.Seconds(),
		Warmup: cfg.Warmup.Seconds(), Started: r.base.UTC().Format(time.RFC3339),
		LoadAvgStart: loadAvg(),
	}
	if cfg.Protocol == "socketio" {
		res.Transport = cfg.Transport
	}
	if len(cfg.URLs) > 1 {
		res.Servers = make([]ServerShare, len(cfg.URLs))
		for i, u := range cfg.URLs {
			res.Servers[i].URL = u
		}
		for i := range cfg.Clients {
			res.Servers[cfg.urlOf(i)].Clients++
		}
		for i := range cfg.Senders {
			res.Servers[cfg.urlOf(i)].Senders++
		}
	}
	if len(cfg.PIDs) > 0 {
		res.PID = cfg.PIDs[0]
	}
	if len(cfg.PIDs) > 1 {
		res.Procs = make([]ProcResult, len(cfg.PIDs))
		for i, pid := range cfg.PIDs {
			res.Procs[i] = ProcResult{PID: pid, Name: procName(pid)}
		}
	}
	if ps, ok := r.proc.sample(); ok {
		res.RSSBaseKB = sumRSS(ps)
		for i := range res.Procs {
			res.Procs[i].RSSBaseKB = ps[i].RSSKB
		}
	}
	return r, res
}

// connect opens the clients at ConnectRate, at most DialParallel
// handshakes at once, within ConnectTimeout. A client that could not
// connect stays nil.
func (r *run) connect(ctx context.Context, res *Result) []client {
	cfg := r.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	clients := make([]client, cfg.Clients)
	var hist histogram
	var histMu sync.Mutex
	sem := make(chan struct{}, cfg.DialParallel)
	var wg sync.WaitGroup
	begin := time.Now()
	interval := time.Duration(float64(time.Second) / cfg.ConnectRate)
	for i := range cfg.Clients {
		if !sleepCtx(ctx, time.Until(begin.Add(time.Duration(i)*interval))) || !acquire(ctx, sem) {
			r.failed.Add(int64(cfg.Clients - i))
			r.noteErr(fmt.Errorf("connect phase: %w", ctx.Err()))
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			c, err := r.dial(ctx, r.recv[i])
			if err != nil {
				r.failed.Add(1)
				r.noteErr(fmt.Errorf("client %d could not connect: %w", i, err))
				return
			}
			histMu.Lock()
			hist.record(time.Since(t0))
			histMu.Unlock()
			clients[i] = c
			r.connected.Add(1)
		})
	}
	wg.Wait()
	for i, c := range clients {
		if c != nil && res.Servers != nil {
			res.Servers[cfg.urlOf(i)].Connected++
		}
	}
	res.ConnectSeconds = time.Since(begin).Seconds()
	res.Connected = int(r.connected.Load())
	res.ConnectFailures = int(r.failed.Load())
	res.ConnectP50 = millis(hist.quantile(0.50))
	res.ConnectP99 = millis(hist.quantile(0.99))
	res.ConnectMax = millis(hist.max)
	return clients
}

// watchDrops counts the clients that end before ctx does.
func (r *run) watchDrops(ctx context.Context, clients []client) {
	var wg sync.WaitGroup
	for i, c := range clients {
		if c == nil {
			continue
		}
		wg.Go(func() {
			select {
			case <-c.done():
				r.disc.Add(1)
				r.noteErr(fmt.Errorf("client %d dropped: %v", i, c.err()))
			case <-ctx.Done():
			}
		})
	}
	wg.Wait()
}

// settle lets the connections settle, then samples the server's idle
// memory; that sample also starts the CPU measurement. ok is false when
// ctx ended.
func (r *run) settle(ctx context.Context, res *Result) (cpuStart []procSample, ok bool) {
	r.phase.Store("idle")
	if !sleepCtx(ctx, r.cfg.Settle) {
		return nil, false
	}
	ps, sampled := r.proc.sample()
	if !sampled {
		return nil, true
	}
	res.RSSIdleKB = sumRSS(ps)
	for i := range res.Procs {
		res.Procs[i].RSSIdleKB = ps[i].RSSKB
	}
	if res.RSSBaseKB > 0 {
		res.MemPerConnKB = float64(res.RSSIdleKB-res.RSSBaseKB) / float64(res.Connected)
	}
	return ps, true
}

// send lets the first Senders clients send at Rate/Senders each: for
// Warmup (not measured), then for Duration (measured).
func (r *run) send(ctx context.Context, clients []client) {
	cfg := r.cfg
	if cfg.Senders == 0 {
		return
	}
	pad := strings.Repeat("x", cfg.PayloadBytes)
	begin := time.Now()
	warmEnd := begin.Add(cfg.Warmup)
	end := warmEnd.Add(cfg.Duration)
	r.warmEnd.Store(int64(warmEnd.Sub(r.base)))
	r.phase.Store("send")
	every := time.Duration(float64(time.Second) * float64(cfg.Senders) / cfg.Rate)
	var wg sync.WaitGroup
	for s, c := range clients[:cfg.Senders] {
		if c == nil {
			continue
		}
		wg.Go(func() {
			// Stagger the senders evenly over one interval.
			next := begin.Add(time.Duration(s) * every / time.Duration(cfg.Senders))
			for seq := uint64(0); next.Before(end); seq++ {
				if !waitUntil(ctx, c, next) || !r.sendOne(ctx, c, s, seq, !next.Before(warmEnd), pad) {
					return
				}
				next = next.Add(every)
			}
		})
	}
	wg.Wait()
}

// sendOne sends message seq of sender s; it is false when the sender must
// stop.
func (r *run) sendOne(ctx context.Context, c client, s int, seq uint64, measured bool, pad string) bool {
	at := time.Since(r.base)
	text := r.payload(s, seq, measured, at, pad)
	if r.cfg.Ack {
		offset := r.id + "-" + strconv.Itoa(s) + "-" + strconv.FormatUint(seq, 10)
		r.sendAck(ctx, c.(*socketIOClient).c, s, text, offset, at, measured)
	} else if err := c.send(text); err != nil {
		r.sendEr.Add(1)
		r.noteErr(fmt.Errorf("sender %d: %w", s, err))
		return false
	}
	if measured {
		r.sent.Add(1)
	} else {
		r.warm.Add(1)
	}
	return true
}

// sendAck sends one message as (text, clientOffset) with an
// acknowledgement request. The send and the wait for the answer (up to
// Drain) run in a goroutine of their own, so that a slow answer never
// holds up the sender's pace.
func (r *run) sendAck(ctx context.Context, c *sioclient.Client, s int, text, offset string, at time.Duration, measured bool) {
	select {
	case r.ackSlots <- struct{}{}:
		r.ackWG.Go(func() {
			defer func() { <-r.ackSlots }()
			ctx, cancel := context.WithTimeout(ctx, r.cfg.Drain)
			defer cancel()
			r.ack(ctx, c, s, text, offset, at, measured)
		})
	default: // see maxPendingAcks
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		r.ack(ctx, c, s, text, offset, at, measured)
	}
}

// ack sends one message with EmitAck and records the answer.
func (r *run) ack(ctx context.Context, c *sioclient.Client, s int, text, offset string, at time.Duration, measured bool) {
	args, err := c.EmitAck(ctx, chatEvent, text, offset)
	var a ackAnswer
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		if measured {
			r.ackTO.Add(1)
		}
	case err != nil: // not sent, or the connection ended before the answer
		r.sendEr.Add(1)
		r.noteErr(fmt.Errorf("sender %d: %w", s, err))
	case !measured:
	case len(args) == 0 || json.Unmarshal(args[0], &a) != nil || a.OK == nil:
		r.ackErr.Add(1)
		r.noteErr(fmt.Errorf("sender %d: undecodable acknowledgement %s", s, args))
	case !*a.OK:
		r.ackErr.Add(1)
		r.noteErr(fmt.Errorf("sender %d: message refused: %q (retry %v)", s, a.Error, a.Retry))
	default:
		r.acks.Add(1)
		r.ackLat.record(s, time.Since(r.base)-at)
	}
}

// expected is the number of measured deliveries that should arrive.
func (r *run) expected() int64 {
	if r.cfg.echo() {
		return r.sent.Load()
	}
	return r.sent.Load() * r.connected.Load()
}

// drain waits until every expected delivery has arrived and every
// acknowledgement has been answered or has timed out, or Drain has passed.
func (r *run) drain(ctx context.Context, res *Result) {
	r.phase.Store("drain")
	end := time.Now().Add(r.cfg.Drain)
	for (r.deliv.Load() < r.expected() || len(r.ackSlots) > 0) && time.Now().Before(end) {
		if !sleepCtx(ctx, 20*time.Millisecond) {
			break
		}
	}
	r.ackWG.Wait() // each wait ends by its own deadline
	res.Expected = r.expected()
	res.DrainTimeout = r.deliv.Load() < res.Expected
}

// finish fills the delivery, latency and acknowledgement figures.
func (r *run) finish(res Result) Result {
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
	res.LatencyP50, res.LatencyP90, res.LatencyP99 = millis(h.quantile(0.50)), millis(h.quantile(0.90)), millis(h.quantile(0.99))
	res.LatencyMax = millis(h.max)
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
	if r.cfg.Ack {
		a := r.ackLat.snapshot()
		res.AckStats = &AckStats{Acks: r.acks.Load(), AckErrors: r.ackErr.Load(), AckTimeouts: r.ackTO.Load(),
			AckP50: millis(a.quantile(0.50)), AckP90: millis(a.quantile(0.90)), AckP99: millis(a.quantile(0.99)), AckMax: millis(a.max)}
	}
	peaks, total, errs := r.proc.peaksAndErrors()
	res.RSSPeakKB, res.ProcSampleErrs = total, errs
	for i := range res.Procs {
		res.Procs[i].RSSPeakKB = peaks[i]
	}
	if len(r.cfg.URLs) > 1 {
		same, other := r.latSame.snapshot(), r.latOther.snapshot()
		res.SplitStats = &SplitStats{
			SameDelivered: int64(same.n), SameP50: millis(same.quantile(0.50)), SameP99: millis(same.quantile(0.99)),
			OtherDelivered: int64(other.n), OtherP50: millis(other.quantile(0.50)), OtherP99: millis(other.quantile(0.99)),
		}
	}
	if r.firstErr != nil {
		res.FirstError = r.firstErr.Error()
	}
	res.LoadAvgEnd = loadAvg()
	return res
}

// payload is "loadtest <run> <sender> <seq> <m|w> <sentNs> [padding]",
// where sentNs is at, the send time since the run's start.
func (r *run) payload(sender int, seq uint64, measured bool, at time.Duration, pad string) string {
	ph := byte('w')
	if measured {
		ph = 'm'
	}
	b := make([]byte, 0, 64+len(pad))
	b = append(append(append(b, "loadtest "...), r.id...), ' ')
	b = append(strconv.AppendInt(b, int64(sender), 10), ' ')
	b = append(strconv.AppendUint(b, seq, 10), ' ', ph, ' ')
	b = strconv.AppendInt(b, int64(at), 10)
	if pad != "" {
		b = append(append(b, ' '), pad...)
	}
	return string(b)
}

// messageText returns the load tool's payload from the argument of a
// received "chat message": a string (steps 03-06), or an object whose text
// field holds it (from step 07 on: {"from", "text", "at"}, later "id").
// ok is false for anything else.
func messageText(raw json.RawMessage) (text string, ok bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true // the common case, without a decoder
	}
	var obj struct {
		Text *string `json:"text"`
	}
	switch {
	case len(raw) > 0 && raw[0] == '"':
		return text, json.Unmarshal(raw, &text) == nil
	case len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &obj) == nil && obj.Text != nil:
		return *obj.Text, true
	}
	return "", false
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
	if err1 != nil || err2 != nil || err3 != nil || sender < 0 || sender >= r.cfg.Senders ||
		(r.cfg.echo() && sender != rc.idx) {
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
	took := now - time.Duration(sentNs)
	r.lat.record(rc.idx, took)
	if len(r.cfg.URLs) > 1 {
		if r.cfg.urlOf(sender) == r.cfg.urlOf(rc.idx) {
			r.latSame.record(rc.idx, took)
		} else {
			r.latOther.record(rc.idx, took)
		}
	}
	r.deliv.Add(1)
	for {
		last := r.lastAt.Load()
		if int64(now) <= last || r.lastAt.CompareAndSwap(last, int64(now)) {
			break
		}
	}
}

// background runs f in a goroutine; the returned stop cancels f's context
// and waits for f to return.
func background(ctx context.Context, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f(ctx) }()
	return func() { cancel(); <-done }
}

// sleepCtx waits d; it is false when ctx ended first.
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

// waitUntil waits until t; it is false when ctx or the client ended first.
func waitUntil(ctx context.Context, c client, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-c.done():
		return false
	case <-timer.C:
		return true
	}
}

// acquire takes a token of sem; it is false when ctx ended first.
func acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// millis converts microseconds, the histograms' unit, to milliseconds.
func millis(us int64) float64 { return float64(us) / 1000 }
