// Command loadtest measures how many chat users a server of this course can
// hold: it opens many clients, lets some of them send "chat message" at a
// fixed total rate, and reports delivery, loss, duplicates and latency, and
// (given the server's PID) the server's memory and CPU. Given several
// URLs, for example the processes of step 11 joined by Redis, it spreads
// the clients and senders over them and also reports the latency of
// deliveries within one process and across processes.
//
// It is meant for servers you run yourself: by default it refuses any host
// other than loopback (see -allow-remote).
//
//	go run ./scripts/loadtest -url http://127.0.0.1:3000 -clients 1000 -senders 10 -rate 50
//	go run ./scripts/loadtest -url http://127.0.0.1:3001,http://127.0.0.1:3002 -pid 4242,4243,4244
//	go run ./scripts/loadtest -h
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Bounds that keep a run from turning into an attack by mistake.
const (
	maxClients  = 20000
	maxDuration = 10 * time.Minute
	maxRate     = 100000
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags beyond Config.
type options struct {
	cfg          Config
	urls         string // -url, before it is split into cfg.URLs
	pids         string // -pid, before it is split into cfg.PIDs
	jsonOut      bool
	allowRemote  bool
	maxLoss      float64
	markdownFrom string
	cpuProfile   string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	c := &o.cfg
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `loadtest: load a chat server of this course and measure it.

It opens -clients connections (at -connect-rate per second), waits -settle,
then the first -senders clients send "chat message" at -rate messages per
second in total: for -warmup (not measured), then for -duration (measured).
It then waits up to -drain for the last deliveries. Every message is a
string "loadtest <run> <sender> <seq> <m|w> <sent-ns>", so each is unique
and carries its send time. It may come back as that string (steps 03-06)
or as an object whose "text" field holds it ({"from", "text", "at"}, from
step 07 on); any other "chat message" counts as foreign, and other events
(presence, notices) are ignored.

With -ack, every message is sent as ("chat message", text, clientOffset)
with an acknowledgement request; the server answers {"ok": true, "id": N}
or {"ok": false, "error": "...", "retry": bool}. The tool reports the time
from send to answer, refused messages (ok false) and answers that did not
come within -drain. Without -ack the tool sends the plain string of the
earlier steps, which a server that acknowledges still accepts (step 10
stores it without a client offset: at most once). go-socket.io v1.7.0
writes an acknowledgement even for a message sent without a request;
internal/gosocketio drops it before it reaches the client.

Several servers: -url takes a comma-separated list of base URLs, for
example the processes of step 11 joined by Redis. Client i connects to
URL i mod n, and so do the senders (the first -senders clients): with 2
URLs and 10 senders, 5 send on each. Every client must still receive every
message of every sender exactly once, whichever server the sender is on.
Each URL is taken to be a process of its own: the report gives the
clients on each URL and splits the delivery latency into "same process"
(sender and receiver on the same URL) and "other process" (the message
crossed from one server to the other).

Processes: -pid takes a comma-separated list of PIDs, any processes on
this machine (the servers, redis-server, a database). Each is sampled from
/proc and reported by PID and command name; the memory and CPU rows are
the sums over all of them (peak RSS: the peak of the sum).

Protocols: socketio (steps 03-06 and the Node reference; Engine.IO 3 /
Socket.IO 2; -transport websocket, polling or upgrade) and websocket (plain
frames to step 02's /ws echo: each message comes back to its sender only).

Only use it against servers you run yourself. Hosts other than loopback
need -allow-remote. Runs are bounded: at most 20000 clients, 10 minutes of
sending and 100000 messages per second.

Exit status: 0 when every client connected and stayed, every send worked
(with -ack: was accepted in time) and loss is within -max-loss; 1 on
errors; 2 on bad flags.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.urls, "url", "http://127.0.0.1:3000", "server base `URL` (http://, https://, ws:// or wss://), or several, comma-separated: clients take turns")
	fs.StringVar(&c.Protocol, "protocol", "socketio", "socketio or websocket (plain gorilla frames, step 02)")
	fs.StringVar(&c.Transport, "transport", "websocket", "socketio transport: websocket, polling or upgrade (polling first, like a browser)")
	fs.StringVar(&c.Origin, "origin", "", "Origin header to send (default none, like a non-browser client)")
	fs.IntVar(&c.Clients, "clients", 100, "number of connections `N`")
	fs.IntVar(&c.Senders, "senders", 10, "how many of the clients send (`S`)")
	fs.Float64Var(&c.Rate, "rate", 50, "messages per second `R`, all senders together")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measured sending time `D`")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "sending time before the measurement (`W`, not counted)")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "longest wait for the last deliveries after sending ends, and for each acknowledgement")
	fs.DurationVar(&c.Settle, "settle", time.Second, "pause after connecting, before the idle memory sample")
	fs.Float64Var(&c.ConnectRate, "connect-rate", 500, "new connections per second")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 2*time.Minute, "longest time for the connect phase")
	fs.IntVar(&c.DialParallel, "dial-parallel", 200, "most handshakes in flight at once")
	fs.IntVar(&c.PayloadBytes, "payload", 0, "extra padding bytes per message")
	fs.BoolVar(&c.Ack, "ack", false, "socketio: send (text, clientOffset) with an acknowledgement request and measure the answers")
	fs.StringVar(&o.pids, "pid", "", "process `PID` to sample from /proc (peak RSS, idle RSS, CPU), or several, comma-separated (servers, redis-server): each is reported, and their sum")
	fs.StringVar(&c.Label, "label", "", "name of the server under test, copied into the result")
	fs.DurationVar(&c.ProgressEvery, "progress", time.Second, "interval of the progress line on stderr (0: none)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as one JSON line on stdout (the table goes to stderr)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a host other than loopback (only servers you run yourself)")
	fs.Float64Var(&o.maxLoss, "max-loss", 0, "loss in `percent` above which the exit status is 1")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load tool's own CPU profile to `file` (is the tool the bottleneck?)")
	fs.StringVar(&o.markdownFrom, "markdown-from", "", "print a Markdown table from a `file` of JSON result lines (- for stdin) and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.markdownFrom != "" {
		return o, nil
	}
	return o, o.validate()
}

func (o *options) validate() error {
	c := &o.cfg
	switch c.Protocol {
	case "socketio":
		switch c.Transport {
		case "websocket", "polling", "upgrade":
		default:
			return fmt.Errorf("-transport %q: want websocket, polling or upgrade", c.Transport)
		}
	case "websocket":
		if c.Ack {
			return errors.New("-ack needs -protocol socketio")
		}
	default:
		return fmt.Errorf("-protocol %q: want socketio or websocket", c.Protocol)
	}
	c.URLs = nil
	for _, raw := range strings.Split(o.urls, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return fmt.Errorf("-url %q: want a URL such as http://127.0.0.1:3000", raw)
		}
		switch u.Scheme {
		case "http", "https", "ws", "wss":
		default:
			return fmt.Errorf("-url %q: scheme must be http, https, ws or wss", raw)
		}
		if !o.allowRemote && !isLoopback(u.Hostname()) {
			return fmt.Errorf("-url %q is not a loopback address; load only servers you run yourself, and say so with -allow-remote", raw)
		}
		// The same server twice would count its own deliveries as
		// crossing to another process.
		if slices.Contains(c.URLs, raw) {
			return fmt.Errorf("-url %q is given twice", raw)
		}
		c.URLs = append(c.URLs, raw)
	}
	c.PIDs = nil
	if o.pids != "" {
		for _, f := range strings.Split(o.pids, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || pid < 1 {
				return fmt.Errorf("-pid %q: want a process ID, or several separated by commas", o.pids)
			}
			if slices.Contains(c.PIDs, pid) {
				return fmt.Errorf("-pid %d is given twice", pid)
			}
			c.PIDs = append(c.PIDs, pid)
		}
	}
	switch {
	case c.Clients < len(c.URLs):
		return fmt.Errorf("-clients %d: want at least one per URL (%d)", c.Clients, len(c.URLs))
	case c.Clients < 1 || c.Clients > maxClients:
		return fmt.Errorf("-clients %d: want 1..%d", c.Clients, maxClients)
	case c.Senders < 0 || c.Senders > c.Clients:
		return fmt.Errorf("-senders %d: want 0..clients (%d)", c.Senders, c.Clients)
	case c.Senders > 0 && (c.Rate <= 0 || c.Rate > maxRate):
		return fmt.Errorf("-rate %v: want more than 0 and at most %d", c.Rate, maxRate)
	case c.Duration < 0 || c.Warmup < 0 || c.Duration+c.Warmup > maxDuration:
		return fmt.Errorf("-duration + -warmup: want at most %v", maxDuration)
	case c.Drain < 0 || c.Drain > maxDuration:
		return fmt.Errorf("-drain %v: want 0..%v", c.Drain, maxDuration)
	case c.Ack && c.Drain == 0:
		return errors.New("-ack needs -drain above 0: it is the wait for each answer")
	case c.ConnectRate <= 0:
		return fmt.Errorf("-connect-rate %v: want more than 0", c.ConnectRate)
	case c.ConnectTimeout <= 0:
		return fmt.Errorf("-connect-timeout %v: want more than 0", c.ConnectTimeout)
	case c.DialParallel < 1:
		return fmt.Errorf("-dial-parallel %d: want at least 1", c.DialParallel)
	case c.PayloadBytes < 0 || c.PayloadBytes > 1<<20:
		return fmt.Errorf("-payload %d: want 0..1048576", c.PayloadBytes)
	case c.Settle < 0:
		return fmt.Errorf("-settle %v: want 0 or more", c.Settle)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func realMain(args []string, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "loadtest:", err)
		return code
	}
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return fail(2, err)
	case o.markdownFrom != "":
		if err := markdownFrom(o.markdownFrom, stdout); err != nil {
			return fail(1, err)
		}
		return 0
	}
	if o.cfg.ProgressEvery > 0 {
		o.cfg.Progress = stderr
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fail(1, err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(1, err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A hard limit, in case a phase hangs beyond its own bound.
	c := o.cfg
	ctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout+c.Settle+c.Warmup+c.Duration+c.Drain+30*time.Second)
	defer cancel()

	res, err := Run(ctx, o.cfg)
	table := stdout
	if o.jsonOut {
		table = stderr
	}
	printTable(table, res)
	if o.jsonOut {
		line, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(line))
	}
	if err != nil {
		return fail(1, err)
	}
	if problems := judge(res, o.maxLoss); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "loadtest:", p)
		}
		return 1
	}
	return 0
}

// judge lists what makes a run fail.
func judge(res Result, maxLoss float64) []string {
	var p []string
	if res.ConnectFailures > 0 {
		p = append(p, fmt.Sprintf("%d clients could not connect", res.ConnectFailures))
	}
	if res.Disconnects > 0 {
		p = append(p, fmt.Sprintf("%d clients dropped during the run", res.Disconnects))
	}
	if res.SendErrors > 0 {
		p = append(p, fmt.Sprintf("%d sends failed", res.SendErrors))
	}
	if a := res.AckStats; a != nil && a.AckErrors > 0 {
		p = append(p, fmt.Sprintf("%d messages refused or answered undecodably", a.AckErrors))
	}
	if a := res.AckStats; a != nil && a.AckTimeouts > 0 {
		p = append(p, fmt.Sprintf("%d acknowledgements did not come within -drain", a.AckTimeouts))
	}
	if res.LossPercent > maxLoss {
		p = append(p, fmt.Sprintf("loss %.3f%% is above -max-loss %.3f%%", res.LossPercent, maxLoss))
	}
	if len(p) > 0 && res.FirstError != "" {
		p = append(p, "first error: "+res.FirstError)
	}
	return p
}

func printTable(w io.Writer, r Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	if r.Label != "" {
		row("server", "%s", r.Label)
	}
	if len(r.Servers) > 1 {
		row("urls", "%s (%s %s)", strings.ReplaceAll(r.URL, ",", ", "), r.Protocol, r.Transport)
		for _, s := range r.Servers {
			row("  "+s.URL, "%d clients (%d connected), %d senders", s.Clients, s.Connected, s.Senders)
		}
	} else {
		row("url", "%s (%s %s)", r.URL, r.Protocol, r.Transport)
	}
	row("load", "%d clients, %d senders, %g msg/s, %gs measured after %gs warm-up", r.Clients, r.Senders, r.Rate, r.Duration, r.Warmup)
	row("connected", "%d/%d in %.1fs (failures %d; handshake p50 %.1f ms, p99 %.1f ms, max %.1f ms)",
		r.Connected, r.Clients, r.ConnectSeconds, r.ConnectFailures, r.ConnectP50, r.ConnectP99, r.ConnectMax)
	row("messages sent", "%d (send errors %d)", r.Sent, r.SendErrors)
	row("deliveries", "%d of %d expected, lost %d (%.3f%%), duplicates %d, foreign %d", r.Delivered, r.Expected, r.Lost, r.LossPercent, r.Duplicates, r.Foreign)
	row("delivered/s", "%.0f", r.DeliveredPS)
	row("latency", "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (mean %.1f ms)", r.LatencyP50, r.LatencyP90, r.LatencyP99, r.LatencyMax, r.LatencyMean)
	if s := r.SplitStats; s != nil {
		row("  same process", "p50 %.1f ms, p99 %.1f ms (%d deliveries: sender and receiver on one URL)", s.SameP50, s.SameP99, s.SameDelivered)
		row("  other process", "p50 %.1f ms, p99 %.1f ms (%d deliveries: sender on another URL)", s.OtherP50, s.OtherP99, s.OtherDelivered)
	}
	if a := r.AckStats; a != nil {
		row("acks", "%d accepted, %d refused, %d timed out; p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
			a.Acks, a.AckErrors, a.AckTimeouts, a.AckP50, a.AckP90, a.AckP99, a.AckMax)
	}
	row("drops", "%d clients dropped during the run", r.Disconnects)
	if r.PID > 0 {
		sum := ""
		if len(r.Procs) > 1 {
			sum = fmt.Sprintf(" (sum of %d processes)", len(r.Procs))
		}
		row("server memory", "RSS %.1f MB before, %.1f MB idle with clients, %.1f MB peak; %.1f KB per connection%s",
			float64(r.RSSBaseKB)/1024, float64(r.RSSIdleKB)/1024, float64(r.RSSPeakKB)/1024, r.MemPerConnKB, sum)
		row("server CPU", "%.0f%% of one core from the first send to the last delivery%s", r.CPUPercent, sum)
		for _, p := range r.Procs {
			row(fmt.Sprintf("  pid %d %s", p.PID, p.Name), "RSS %.1f MB before, %.1f MB idle, %.1f MB peak; CPU %.0f%% of one core",
				float64(p.RSSBaseKB)/1024, float64(p.RSSIdleKB)/1024, float64(p.RSSPeakKB)/1024, p.CPUPercent)
		}
	}
	if r.DrainTimeout {
		row("note", "%s", "drain ended before every delivery arrived")
	}
	if r.FirstError != "" {
		row("first error", "%s", r.FirstError)
	}
	tw.Flush()
}

// progress prints a status line every ProgressEvery until ctx ends; on a
// terminal it rewrites one line.
func (r *run) progress(ctx context.Context) {
	w := r.cfg.Progress
	tty := false
	if f, ok := w.(*os.File); ok {
		st, err := f.Stat()
		tty = err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	t := time.NewTicker(r.cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return
		case <-t.C:
		}
		phase := r.phase.Load().(string)
		now := time.Since(r.base)
		if phase == "send" {
			phase = "measure"
			if now < time.Duration(r.warmEnd.Load()) {
				phase = "warm-up"
			}
		}
		var recv, dups int64
		for _, rc := range r.recv {
			recv += rc.received.Load()
			dups += rc.dups.Load()
		}
		h := r.lat.snapshot()
		line := fmt.Sprintf("[%5.1fs %-10s] conn %d/%d fail %d | sent %d+%dw err %d | recv %d dup %d | drop %d | p50 %.1f p99 %.1f ms",
			now.Seconds(), phase, r.connected.Load(), r.cfg.Clients, r.failed.Load(),
			r.sent.Load(), r.warm.Load(), r.sendEr.Load(), recv, dups, r.disc.Load(),
			millis(h.quantile(0.5)), millis(h.quantile(0.99)))
		if r.cfg.Ack {
			line += fmt.Sprintf(" | ack %d refused %d timeout %d pending %d", r.acks.Load(), r.ackErr.Load(), r.ackTO.Load(), len(r.ackSlots))
		}
		if tty {
			fmt.Fprintf(w, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
}

// markdownFrom prints the results in file (JSON lines) as a Markdown table.
// Runs of the same server and load are grouped; the row shows the run with
// the median p99 latency, and how many runs there were.
func markdownFrom(file string, w io.Writer) error {
	var in io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	type group struct {
		key  string
		runs []Result
	}
	var groups []*group
	byKey := map[string]*group{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		key := fmt.Sprintf("%s|%s|%s|%d|%d|%g", r.Label, r.Protocol, r.Transport, r.Clients, r.Senders, r.Rate)
		g := byKey[key]
		if g == nil {
			g = &group{key: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.runs = append(g.runs, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintln(w, "| sunucu | istemci / gönderen / mesaj/s | bağlanan (süre, el sıkışma p99) | teslim/s | kayıp | p50 | p90 | p99 | en çok | bağlantı başına bellek | en yüksek RSS | CPU | koşu (p99 aralığı) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, g := range groups {
		runs := slices.Clone(g.runs)
		slices.SortStableFunc(runs, func(a, b Result) int { return cmp.Compare(a.LatencyP99, b.LatencyP99) })
		r := runs[(len(runs)-1)/2]
		mem := "—"
		if r.MemPerConnKB > 0 {
			mem = fmt.Sprintf("%.1f KB", r.MemPerConnKB)
		}
		peak := "—"
		if r.RSSPeakKB > 0 {
			peak = fmt.Sprintf("%.0f MB", float64(r.RSSPeakKB)/1024)
		}
		cpu := "—"
		if r.PID > 0 {
			cpu = fmt.Sprintf("%.0f%%", r.CPUPercent)
		}
		lost := fmt.Sprintf("%d (%.2f%%)", r.Lost, r.LossPercent)
		if r.Disconnects > 0 {
			lost += fmt.Sprintf(", %d koptu", r.Disconnects)
		}
		nruns := fmt.Sprint(len(runs))
		if len(runs) > 1 {
			nruns += fmt.Sprintf(" (%s – %s)", ms(runs[0].LatencyP99), ms(runs[len(runs)-1].LatencyP99))
			bad := 0
			for _, x := range runs {
				if x.Lost > 0 || x.Disconnects > 0 || x.ConnectFailures > 0 {
					bad++
				}
			}
			if bad > 0 {
				nruns += fmt.Sprintf(", %d koşuda kayıp", bad)
			}
		}
		fmt.Fprintf(w, "| %s | %d / %d / %g | %d (%.1f s, %s) | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Label, r.Clients, r.Senders, r.Rate, r.Connected, r.ConnectSeconds, ms(r.ConnectP99), r.DeliveredPS, lost,
			ms(r.LatencyP50), ms(r.LatencyP90), ms(r.LatencyP99), ms(r.LatencyMax), mem, peak, cpu, nruns)
	}
	return nil
}

func ms(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}
