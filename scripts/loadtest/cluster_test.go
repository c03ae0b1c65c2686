package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	socketio "github.com/googollee/go-socket.io"

	"sohbet/internal/chattest"
	"sohbet/internal/gosocketio"
)

// startPair starts two in-process chats joined the way step 11 joins its
// processes: a message goes at once to the clients of the server it was
// sent to, and cross later to those of the other server.
func startPair(t *testing.T, cross time.Duration) (a, b string) {
	t.Helper()
	var srvs [2]*socketio.Server
	var urls [2]string
	for i := range srvs {
		srvs[i] = gosocketio.NewServer(gosocketio.Options{})
	}
	for i, srv := range srvs {
		other := srvs[1-i]
		srv.OnConnect("/", func(s socketio.Conn) error {
			s.Join("chat")
			return nil
		})
		srv.OnEvent("/", "chat message", func(s socketio.Conn, msg string) {
			srv.BroadcastToRoom("/", "chat", "chat message", msg)
			time.AfterFunc(cross, func() { other.BroadcastToRoom("/", "chat", "chat message", msg) })
		})
		srv.OnError("/", func(socketio.Conn, error) {})
		srv.OnDisconnect("/", func(socketio.Conn, string) {})
		go srv.Serve()
		hs := httptest.NewServer(gosocketio.Handler(srv, gosocketio.Options{}))
		t.Cleanup(func() {
			hs.CloseClientConnections()
			hs.Close()
			srv.Close()
		})
		urls[i] = hs.URL
	}
	return urls[0], urls[1]
}

// runJSON runs the tool with -json and returns its exit code, its result
// and its stderr.
func runJSON(t *testing.T, args ...string) (int, Result, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := realMain(append(args, "-json", "-progress", "0"), &stdout, &stderr)
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not one JSON line: %v\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("\n%s", stderr.String())
	return code, res, stderr.String()
}

// checkSpread checks what every run over urls must show: the clients
// and senders taken in turn, every message delivered once to everyone,
// and the deliveries split by where the sender was.
func checkSpread(t *testing.T, res Result, urls []string, clients, senders int) {
	t.Helper()
	if res.URL != strings.Join(urls, ",") || len(res.Servers) != len(urls) {
		t.Fatalf("url %q, servers %+v; want %q", res.URL, res.Servers, urls)
	}
	for i, s := range res.Servers {
		want := ServerShare{URL: urls[i], Clients: clients / len(urls), Connected: clients / len(urls), Senders: senders / len(urls)}
		if s != want {
			t.Errorf("server %d: %+v, want %+v", i, s, want)
		}
	}
	if res.Sent < 35 || res.Delivered != res.Expected || res.Expected != res.Sent*int64(clients) ||
		res.Duplicates != 0 || res.Foreign != 0 {
		t.Errorf("sent %d, delivered %d of %d, duplicates %d, foreign %d",
			res.Sent, res.Delivered, res.Expected, res.Duplicates, res.Foreign)
	}
	s := res.SplitStats
	if s == nil {
		t.Fatal("no same/other process latency with two URLs")
	}
	// Each message reaches the clients of its own URL, and those of the
	// other one.
	perURL := res.Sent * int64(clients/len(urls))
	if s.SameDelivered != perURL || s.OtherDelivered != res.Delivered-perURL {
		t.Errorf("%d same-process and %d other-process deliveries of %d messages, want %d and %d",
			s.SameDelivered, s.OtherDelivered, res.Sent, perURL, res.Delivered-perURL)
	}
	if s.SameP50 <= 0 || s.SameP50 > s.SameP99 || s.OtherP50 <= 0 || s.OtherP50 > s.OtherP99 {
		t.Errorf("split latencies out of order: %+v", *s)
	}
}

func TestTwoURLsShareTheClientsAndSplitTheLatency(t *testing.T) {
	const cross = 100 * time.Millisecond
	a, b := startPair(t, cross)
	pids := []int{os.Getpid(), os.Getppid()}
	code, res, stderr := runJSON(t, "-url", a+","+b, "-clients", "20", "-senders", "4", "-rate", "40",
		"-warmup", "250ms", "-duration", "1s", "-settle", "0s", "-drain", "10s",
		"-pid", fmt.Sprintf("%d,%d", pids[0], pids[1]))
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	checkSpread(t, res, []string{a, b}, 20, 4)
	if s := res.SplitStats; s.OtherP50 < millis(cross.Microseconds()) || s.SameP50 >= millis(cross.Microseconds()) {
		t.Errorf("same process p50 %.1f ms, other process p50 %.1f ms; the other process adds %v", s.SameP50, s.OtherP50, cross)
	}
	checkProcs(t, res, pids)
	for _, want := range []string{"urls", "same process", "other process", "10 clients (10 connected), 2 senders",
		fmt.Sprintf("pid %d", pids[1]), "(sum of 2 processes)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report does not say %q", want)
		}
	}
}

// checkProcs checks that each of pids was sampled and that the totals
// add up.
func checkProcs(t *testing.T, res Result, pids []int) {
	t.Helper()
	if res.PID != pids[0] || len(res.Procs) != len(pids) {
		t.Fatalf("pid %d, procs %+v; want %v", res.PID, res.Procs, pids)
	}
	var base, idle, peaks int64
	for i, p := range res.Procs {
		if p.PID != pids[i] || p.Name == "" || p.RSSBaseKB <= 0 || p.RSSIdleKB <= 0 || p.RSSPeakKB < p.RSSIdleKB {
			t.Errorf("process %d: %+v", pids[i], p)
		}
		base, idle, peaks = base+p.RSSBaseKB, idle+p.RSSIdleKB, peaks+p.RSSPeakKB
	}
	if res.RSSBaseKB != base || res.RSSIdleKB != idle || res.RSSPeakKB < idle || res.RSSPeakKB > peaks {
		t.Errorf("sums: RSS %d before, %d idle, %d peak; processes: %d, %d, peaks %d",
			res.RSSBaseKB, res.RSSIdleKB, res.RSSPeakKB, base, idle, peaks)
	}
	if res.ProcSampleErrs != 0 {
		t.Errorf("%d failed samples", res.ProcSampleErrs)
	}
}

func TestTwoProcessesOfStep11JoinedByRedis(t *testing.T) {
	r := chattest.StartRedis(t)
	bin := chattest.Build(t, "../../steps/11-scaling-with-redis")
	env := []string{"REDIS_URL=" + r.URL, "DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db"),
		"MESSAGE_RATE=1000", "MESSAGE_BURST=1000"}
	procs := []*chattest.Process{chattest.Start(t, bin, env...), chattest.Start(t, bin, env...)}
	for i, p := range procs {
		if err := p.WaitLog("Redis'e bağlandı", 10*time.Second); err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
	}
	pids := append(childPIDs(t, bin), childPIDs(t, "redis-server")...)
	if len(pids) != 3 {
		t.Fatalf("found the processes %v, want two of step 11 and redis-server", pids)
	}
	urls := []string{procs[0].URL, procs[1].URL}
	list := make([]string, len(pids))
	for i, pid := range pids {
		list[i] = strconv.Itoa(pid)
	}
	code, res, _ := runJSON(t, "-url", strings.Join(urls, ","), "-clients", "20", "-senders", "4", "-rate", "40",
		"-warmup", "500ms", "-duration", "1s", "-settle", "0s", "-drain", "10s", "-pid", strings.Join(list, ","))
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	checkSpread(t, res, urls, 20, 4)
	checkProcs(t, res, pids)
	if res.Procs[2].Name != "redis-server" {
		t.Errorf("third process is %q, want redis-server", res.Procs[2].Name)
	}
}

// childPIDs returns the PIDs of this test's child processes that run the
// program exe (a path), or whose command name is exe, in PID order.
func childPIDs(t *testing.T, exe string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// After the command name in parentheses: state, then the parent.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		path, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if path == exe || procName(pid) == exe {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

func TestOneURLReportsAsBefore(t *testing.T) {
	url := startChat(t, nil, nil)
	code, res, stderr := runJSON(t, "-url", url, "-clients", "4", "-senders", "2", "-rate", "20",
		"-warmup", "0s", "-duration", "500ms", "-settle", "0s", "-pid", strconv.Itoa(os.Getpid()))
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if res.URL != url || res.Servers != nil || res.SplitStats != nil || res.Procs != nil || res.PID != os.Getpid() {
		t.Errorf("one URL and one pid: url %q, servers %+v, split %+v, procs %+v, pid %d",
			res.URL, res.Servers, res.SplitStats, res.Procs, res.PID)
	}
	for _, absent := range []string{"urls", "same process", "sum of", "pid "} {
		if strings.Contains(stderr, absent) {
			t.Errorf("report with one URL and one pid says %q:\n%s", absent, stderr)
		}
	}
	if !strings.Contains(stderr, "\nurl ") && !strings.HasPrefix(stderr, "url ") {
		t.Errorf("report has no url row:\n%s", stderr)
	}
}
