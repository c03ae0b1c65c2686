package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// Bounds of the waits below. The first run builds the final step, which
// can take minutes with a cold build cache.
const (
	readyWait = 4 * time.Minute
	exitWait  = 30 * time.Second
)

// clusterRun is the command running in a test, with what it printed.
type clusterRun struct {
	cmd            *exec.Cmd
	stdout, stderr *chattest.LogBuffer
	done           chan struct{} // closed when the command has exited
	tmp            string        // the command's TMPDIR
	urls           []string      // http://localhost:PORT, one per process
	ports, pids    []int
	redisPort      int
}

// needRedis skips the test when redis-server is missing, or fails it
// under CI=true, as chattest does for its servers.
func needRedis(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server not found on PATH; install it (Debian/Ubuntu: sudo apt-get install redis-server) to run the cluster tests"
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s [CI=true: Redis tests must run]", msg)
		}
		t.Skip(msg)
	}
}

// freePorts returns n different free ports.
func freePorts(t *testing.T, n int) []int {
	var ports []int
	for len(ports) < n {
		if p := chattest.FreePort(t); !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

// runCluster builds the command and runs it with -ports ports, its own
// TMPDIR and env added to the test's environment (without DATABASE_URL,
// unless env sets it). The command is killed if it still runs when the
// test ends.
func runCluster(t *testing.T, ports []int, env ...string) *clusterRun {
	t.Helper()
	needRedis(t)
	r := &clusterRun{
		stdout: chattest.NewLogBuffer(),
		stderr: chattest.NewLogBuffer(),
		done:   make(chan struct{}),
		tmp:    t.TempDir(),
		ports:  ports,
	}
	list := make([]string, len(ports))
	for i, p := range ports {
		list[i] = strconv.Itoa(p)
	}
	r.cmd = exec.Command(chattest.Build(t, "."), "-ports", strings.Join(list, ","))
	r.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "DATABASE_URL=") })
	r.cmd.Env = append(r.cmd.Env, "TMPDIR="+r.tmp)
	r.cmd.Env = append(r.cmd.Env, env...)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		if !r.exited() {
			_ = r.cmd.Process.Kill() // its children die with it (Pdeathsig)
			<-r.done
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	})
	return r
}

// startCluster runs the command on three free ports and waits until it
// prints the addresses to open.
func startCluster(t *testing.T, env ...string) *clusterRun {
	t.Helper()
	r := runCluster(t, freePorts(t, 3), env...)
	ready := chattest.Eventually(readyWait, func() bool {
		return r.exited() || strings.Contains(r.stdout.String(), "Ctrl+C hepsini durdurur")
	})
	if !ready || r.exited() {
		t.Fatalf("no addresses printed (exited: %v)", r.exited())
	}
	out := r.stdout.String()
	for _, m := range regexp.MustCompile(`(?m)^  (http://localhost:(\d+))  \(PID (\d+)\)$`).FindAllStringSubmatch(out, -1) {
		pid, _ := strconv.Atoi(m[3])
		r.urls = append(r.urls, m[1])
		r.pids = append(r.pids, pid)
	}
	for i, p := range r.ports {
		if want := fmt.Sprintf("http://localhost:%d", p); i >= len(r.urls) || r.urls[i] != want {
			t.Fatalf("addresses %q, want one per port %v in order", r.urls, r.ports)
		}
	}
	m := regexp.MustCompile(`redis://127\.0\.0\.1:(\d+)/0`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no Redis address printed")
	}
	r.redisPort, _ = strconv.Atoi(m[1])
	return r
}

func (r *clusterRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// wait waits for the command to exit and returns its exit code.
func (r *clusterRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
		return r.cmd.ProcessState.ExitCode()
	case <-time.After(exitWait):
		t.Fatalf("still running %v later", exitWait)
		return -1
	}
}

// health is the part of a step's /healthz answer the tests read.
type health struct {
	Status, Database, Redis, Process string
}

func getHealth(t *testing.T, url string) health {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("%s/healthz: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK || h.Status != "ok" || h.Database != "ok" || h.Redis != "ok" || h.Process == "" {
		t.Fatalf("%s/healthz: %s %+v", url, resp.Status, h)
	}
	return h
}

// checkAllGone checks that nothing the command started is left: no port
// accepts connections, no process id is alive, and its temporary folder
// is gone.
func (r *clusterRun) checkAllGone(t *testing.T) {
	t.Helper()
	for _, p := range append(slices.Clone(r.ports), r.redisPort) {
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), time.Second); err == nil {
			conn.Close()
			t.Errorf("port %d still accepts connections", p)
		}
	}
	for _, pid := range r.pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d: kill -0 says %v, want ESRCH", pid, err)
		}
	}
	if left, err := os.ReadDir(r.tmp); err != nil || len(left) > 0 {
		t.Errorf("TMPDIR holds %v (%v), want nothing", left, err)
	}
}

func TestTheClusterServesOneChatAndStopsOnCtrlC(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      func(t *testing.T) []string
		database string // what stderr says about the database
	}{
		{"with SQLite in its temporary folder", func(*testing.T) []string { return nil }, "database=sqlite:"},
		{"with the PostgreSQL of DATABASE_URL", func(t *testing.T) []string {
			return []string{"DATABASE_URL=" + chattest.StartPostgres(t).URL}
		}, "DATABASE_URL verilmiş"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			needRedis(t)
			r := startCluster(t, tc.env(t)...)
			if !strings.Contains(r.stderr.String(), tc.database) {
				t.Errorf("stderr does not say %q", tc.database)
			}
			for _, p := range r.ports {
				if !strings.Contains(r.stderr.String(), fmt.Sprintf("[%d] ", p)) {
					t.Errorf("no log line prefixed [%d]", p)
				}
			}
			var ids []string
			for _, u := range r.urls {
				ids = append(ids, getHealth(t, u).Process)
			}
			if slices.Sort(ids); len(slices.Compact(ids)) != len(r.urls) {
				t.Fatalf("process ids %q are not all different", ids)
			}
			if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(t); code != 0 {
				t.Fatalf("exit code %d after Ctrl+C, want 0", code)
			}
			r.checkAllGone(t)
		})
	}
}

// A process stopped (SIGTERM) or killed (SIGKILL, as a crash) is reported
// and the others keep serving: that is what a learner tries.
func TestAStoppedOrKilledProcessLeavesTheOthersRunning(t *testing.T) {
	r := startCluster(t)
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := syscall.Kill(r.pids[i], sig); err != nil {
			t.Fatal(err)
		}
		status := map[syscall.Signal]string{syscall.SIGTERM: "çıkış kodu 0", syscall.SIGKILL: "signal: killed"}[sig]
		want := fmt.Sprintf("%d portundaki sohbet süreci durdu (%s); ötekiler çalışıyor.", r.ports[i], status)
		if err := r.stderr.Wait(want, 1, exitWait); err != nil {
			t.Fatal(err)
		}
	}
	getHealth(t, r.urls[2])
	if r.exited() {
		t.Fatal("the command exited when two of its processes stopped")
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	r.checkAllGone(t)
}

func TestAPortInUseIsRefusedBeforeAnythingStarts(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ports := freePorts(t, 2)
	ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	r := runCluster(t, ports)
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if want := fmt.Sprintf("%d portu kullanımda", ports[2]); !strings.Contains(r.stderr.String(), want) {
		t.Fatalf("stderr does not say %q", want)
	}
	ln.Close()
	r.checkAllGone(t)
}

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int // nil: an error
	}{
		{"3001,3002,3003", []int{3001, 3002, 3003}},
		{" 4001 , 4002", []int{4001, 4002}},
		{"3001", []int{3001}},
		{"3001,,3002", nil},
		{"3001,3001", nil},
		{"0", nil},
		{"65536", nil},
		{"port", nil},
	} {
		got, err := parsePorts(tc.in)
		if tc.want == nil && err == nil || tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("parsePorts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
