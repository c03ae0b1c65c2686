package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of a process's memory and CPU time.
type procSample struct {
	At    time.Time
	RSSKB int64 // resident set size
	CPU   time.Duration
}

// sampler samples the server processes, when pids are given, and keeps
// each one's peak RSS and the peak of their sum.
type sampler struct {
	pids  []int
	mu    sync.Mutex
	peaks []int64 // per pid
	total int64   // peak of the sum, over samples where every read worked
	errs  int
}

func newSampler(pids []int) *sampler {
	return &sampler{pids: pids, peaks: make([]int64, len(pids))}
}

// sample reads every process once, in the order of pids; ok is false
// without pids or when any read failed.
func (s *sampler) sample() (ps []procSample, ok bool) {
	if len(s.pids) == 0 {
		return nil, false
	}
	ps = make([]procSample, len(s.pids))
	failed := make([]bool, len(s.pids))
	errs := 0
	for i, pid := range s.pids {
		var err error
		ps[i], err = readProc(pid)
		if err != nil {
			failed[i] = true
			errs++
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs += errs
	for i, p := range ps {
		if !failed[i] {
			s.peaks[i] = max(s.peaks[i], p.RSSKB)
		}
	}
	if errs > 0 {
		return ps, false
	}
	s.total = max(s.total, sumRSS(ps))
	return ps, true
}

// watch samples every 100 ms until ctx ends, so that the peak RSS is seen.
func (s *sampler) watch(ctx context.Context) {
	if len(s.pids) == 0 {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sample()
		}
	}
}

// peaksAndErrors returns the peak RSS of each process, the peak of their
// sum and the number of failed reads.
func (s *sampler) peaksAndErrors() (peaks []int64, totalKB int64, errs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.peaks), s.total, s.errs
}

// sumRSS is the summed RSS of samples, in KB.
func sumRSS(ps []procSample) int64 {
	var kb int64
	for _, p := range ps {
		kb += p.RSSKB
	}
	return kb
}

// procName returns the command name of pid (/proc/PID/comm), or "".
func procName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// readProc reads /proc/PID/status (VmRSS) and /proc/PID/stat (utime, stime).
func readProc(pid int) (procSample, error) {
	s := procSample{At: time.Now()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				s.RSSKB, _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ')': state is field 3, so utime (14) and stime (15) are f[11], f[12].
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: bad cpu times", pid)
	}
	s.CPU = time.Duration(ut+st) * time.Second / clockTicks
	return s, nil
}

// cpuPercent is the CPU used between two samples, in percent of one core.
func cpuPercent(a, b procSample) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.CPU-a.CPU) / float64(wall)
}

// loadAvg returns the 1, 5 and 15 minute load averages of the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
