package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Result is the part of a load driver's JSON line that charts and tables
// show. Durations are in milliseconds, as the drivers print them.
type Result struct {
	Shape     string  `json:"shape"`
	Label     string  `json:"label"`
	Driver    string  `json:"driver"` // set by node-load; empty for scripts/loadtest
	Protocol  string  `json:"protocol"`
	Transport string  `json:"transport"`
	Clients   int     `json:"clients"`
	Senders   int     `json:"senders"`
	Rate      float64 `json:"rate"`
	Duration  float64 `json:"duration_s"`
	Warmup    float64 `json:"warmup_s"`

	Connected       int     `json:"connected"`
	ConnectFailures int     `json:"connect_failures"`
	ConnectSeconds  float64 `json:"connect_s"`
	ConnectP99      float64 `json:"connect_p99_ms"`

	Sent        int64   `json:"sent"`
	Expected    int64   `json:"expected"`
	Delivered   int64   `json:"delivered"`
	Lost        int64   `json:"lost"`
	LossPercent float64 `json:"loss_pct"`
	Duplicates  int64   `json:"duplicates"`
	Disconnects int64   `json:"disconnects"`
	DeliveredPS float64 `json:"delivered_per_s"`
	P50         float64 `json:"p50_ms"`
	P90         float64 `json:"p90_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`

	PID          int     `json:"pid"`
	RSSPeakKB    int64   `json:"rss_peak_kb"`
	MemPerConnKB float64 `json:"mem_per_conn_kb"`
	CPUPercent   float64 `json:"cpu_pct"`
}

// idleShape is the shape whose runs measure memory, not latency.
const idleShape = "idle"

// readResults reads JSON result lines; other lines (blank, comments) are
// skipped. A line without a shape gets one from its transport and load.
func readResults(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if res.Shape == "" {
			res.Shape = fmt.Sprintf("%s %d/%d/%g", cmp.Or(res.Transport, res.Protocol), res.Clients, res.Senders, res.Rate)
		}
		if res.Label == "" {
			res.Label = "adsız sunucu"
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no result lines")
	}
	return out, nil
}

// group is the runs of one shape against one server.
type group struct {
	shape, server string
	runs          []Result
	median        Result // the run the charts and tables show
}

// data is the results grouped, with shapes and servers in the order they
// first appear in the file.
type data struct {
	shapes  []string
	servers []string
	groups  map[[2]string]*group // by shape, server
}

func groupResults(results []Result) *data {
	d := &data{groups: map[[2]string]*group{}}
	for _, r := range results {
		if !slices.Contains(d.shapes, r.Shape) {
			d.shapes = append(d.shapes, r.Shape)
		}
		if !slices.Contains(d.servers, r.Label) {
			d.servers = append(d.servers, r.Label)
		}
		k := [2]string{r.Shape, r.Label}
		g := d.groups[k]
		if g == nil {
			g = &group{shape: r.Shape, server: r.Label}
			d.groups[k] = g
		}
		g.runs = append(g.runs, r)
	}
	for _, g := range d.groups {
		key := func(r Result) float64 { return r.P99 }
		if g.shape == idleShape {
			key = func(r Result) float64 { return r.MemPerConnKB }
		}
		runs := slices.Clone(g.runs)
		slices.SortStableFunc(runs, func(a, b Result) int { return cmp.Compare(key(a), key(b)) })
		g.median = runs[(len(runs)-1)/2]
	}
	return d
}

// get returns the group of shape and server, or nil.
func (d *data) get(shape, server string) *group { return d.groups[[2]string{shape, server}] }

// serversOf returns the servers that ran shape, in file order.
func (d *data) serversOf(shape string) []string {
	var out []string
	for _, s := range d.servers {
		if d.get(shape, s) != nil {
			out = append(out, s)
		}
	}
	return out
}
