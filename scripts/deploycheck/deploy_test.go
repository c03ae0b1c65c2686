package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/repo"
	"sohbet/internal/sioclient"
)

// repoRoot returns the repository root (the folder with go.mod).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// readFile reads a file under the repository root.
func readFile(t *testing.T, root, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return data
}

// herokuBuild does what the Go buildpack does with this repository: it
// reads the "// +heroku install" line of go.mod and installs those
// packages with -tags heroku into a fresh bin folder. It returns that
// folder.
func herokuBuild(t *testing.T, root string) string {
	t.Helper()
	specs := herokuDirectives(readFile(t, root, "go.mod"))["install"]
	if len(specs) == 0 {
		t.Fatal("go.mod has no \"// +heroku install\" line; the buildpack would build every main package")
	}
	bin := filepath.Join(t.TempDir(), "bin")
	cmd := exec.Command("go", append([]string{"install", "-tags", "heroku"}, specs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install -tags heroku %s: %v\n%s", strings.Join(specs, " "), err, out)
	}
	t.Logf("go install -tags heroku %s: %v", strings.Join(specs, " "), time.Since(start).Round(time.Millisecond))
	return bin
}

// lookPathIn finds an executable called name in the folders of pathList,
// as the shell running a Procfile command does.
func lookPathIn(name, pathList string) (string, bool) {
	for _, dir := range filepath.SplitList(pathList) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// appEnv returns app.json's config vars as KEY=value, the environment a
// Deploy-button install starts with. A variable without a value is set
// empty, which the program reads as unset, so that it stays at the
// program's default whatever the test's own environment holds.
func appEnv(m *appManifest) []string {
	var env []string
	for _, name := range sortedKeys(m.Env) {
		v := ""
		if m.Env[name].Value != nil {
			v = *m.Env[name].Value
		}
		env = append(env, name+"="+v)
	}
	return env
}

// healthFields returns the top-level fields of GET /healthz, which must
// answer 200.
func healthFields(baseURL string) (map[string]any, error) {
	resp, err := http.Get(baseURL + "/healthz")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var fields map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&fields); err != nil {
		return nil, err
	}
	return fields, nil
}

// healthNumbers returns the numeric top-level fields of GET /healthz.
func healthNumbers(baseURL string) (map[string]float64, error) {
	fields, err := healthFields(baseURL)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64)
	for k, v := range fields {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out, nil
}

// settingRe matches an upper-case key=value pair of a log/slog text line:
// the program logs its settings keyed by their environment variable.
var settingRe = regexp.MustCompile(`(?:^| )([A-Z][A-Z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)`)

// startupSettings returns the settings the program logged up to its ready
// line, by variable name.
func startupSettings(logs string) map[string]string {
	if i := strings.Index(logs, chattest.ReadyLine); i >= 0 {
		if j := strings.IndexByte(logs[i:], '\n'); j >= 0 {
			logs = logs[:i+j]
		}
	}
	out := make(map[string]string)
	for _, line := range strings.Split(logs, "\n") {
		for _, m := range settingRe.FindAllStringSubmatch(line, -1) {
			if v, err := strconv.Unquote(m[2]); err == nil {
				m[2] = v
			}
			out[m[1]] = m[2]
		}
	}
	return out
}

// sameSetting reports whether the program logged value: as the same text,
// the same number ("5" and "5.0"), or the same size in bytes (GOMEMLIMIT
// "400MiB" is logged as 419430400).
func sameSetting(value, logged string) bool {
	if value == logged {
		return true
	}
	got, err := strconv.ParseFloat(logged, 64)
	if err != nil {
		return false
	}
	for unit, scale := range map[string]float64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40} {
		n, ok := strings.CutSuffix(value, unit)
		if f, err := strconv.ParseFloat(n, 64); ok && err == nil && f*scale == got {
			return true
		}
	}
	return false
}

// herokuRouter plays Heroku's router in front of the local process: it
// forwards plain HTTP and WebSocket upgrades with the app's host name as
// Host and the X-Forwarded-* headers of a request that came in over TLS.
// It returns the router's address.
func herokuRouter(t *testing.T, app *url.URL, host string) *url.URL {
	t.Helper()
	srv := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(app)
		r.Out.Host = host
		r.Out.Header.Set("X-Forwarded-For", "203.0.113.7")
		r.Out.Header.Set("X-Forwarded-Proto", "https")
		r.Out.Header.Set("X-Forwarded-Port", "443")
	}})
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestOfflineDeploy builds the app as Heroku's Go buildpack would, starts
// the Procfile's web command as a dyno would (the bin folder on PATH,
// PORT set, app.json's config vars), and checks it like the deploy job
// checks the live app, plus a real chat and a SIGTERM. It does so twice
// with the one build: as the Deploy button creates the app (app.json's
// add-ons: PostgreSQL, no Redis, one process), and with Heroku Key-Value
// Store added (REDIS_URL over TLS with a self-signed certificate), where
// a second dyno must join the same chat.
func TestOfflineDeploy(t *testing.T) {
	root := repoRoot(t)
	bin := herokuBuild(t, root)

	procs, err := parseProcfile(readFile(t, root, "Procfile"))
	if err != nil {
		t.Fatal(err)
	}
	assign, program, err := webCommand(procs["web"])
	if err != nil {
		t.Fatalf("Procfile: %v", err)
	}
	pathList := bin + string(filepath.ListSeparator) + os.Getenv("PATH")
	exe, ok := lookPathIn(program, pathList)
	if !ok || filepath.Dir(exe) != bin {
		entries, _ := os.ReadDir(bin)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("Procfile web command %q is not a program that the build installed (bin has %v)", program, names)
	}

	m, err := parseAppJSON(readFile(t, root, "app.json"))
	if err != nil {
		t.Fatal(err)
	}
	provided, err := m.providedVars()
	if err != nil {
		t.Fatal(err)
	}
	setups := []dynoSetup{{
		name:   "as the Deploy button creates it, with app.json's add-ons",
		addons: provided,
	}}
	if !slices.Contains(provided, "REDIS_URL") {
		setups = append(setups, dynoSetup{
			name:   "with Heroku Key-Value Store added, Redis over TLS",
			addons: append(slices.Clone(provided), "REDIS_URL"),
		})
	}

	// The add-ons' stand-ins: throwaway servers of the test's own. One
	// PostgreSQL serves every setup, each with a database of its own.
	var pg *chattest.Postgres
	for _, s := range setups {
		if pg == nil && slices.Contains(s.addons, "DATABASE_URL") {
			pg = chattest.StartPostgres(t)
		}
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			var env []string
			for _, v := range addonSetVars() {
				switch {
				case !slices.Contains(s.addons, v):
					// Not set, whatever the test's own environment holds.
					env = append(env, v+"=")
				case v == "DATABASE_URL":
					env = append(env, v+"="+pg.NewDatabase(t))
				case v == "REDIS_URL":
					// Heroku Key-Value Store speaks TLS only, with a
					// certificate that no authority signed.
					env = append(env, v+"="+chattest.StartRedisTLS(t).URL)
				default:
					t.Fatalf("no stand-in for the add-on variable %s", v)
				}
			}
			testDyno(t, dynoCommand{exe, assign}, pathList, m, env, slices.Contains(s.addons, "REDIS_URL"))
		})
	}
}

// dynoSetup is one way the app can run on Heroku: the add-ons it has,
// by the config var each sets.
type dynoSetup struct {
	name   string
	addons []string
}

// dynoCommand is the Procfile's web command: the program the build
// installed, and the NAME=value settings the command gives it.
type dynoCommand struct {
	exe    string
	assign []string
}

// testDyno starts the web command as a dyno would: app.json's config
// vars, pathList as PATH, the add-ons' variables addonEnv, and then the
// command's own settings, expanded in that environment. It runs the
// deploy checks against it. withRedis says whether REDIS_URL is among the
// add-ons' variables; then a second dyno started the same way must be
// part of the same chat.
func testDyno(t *testing.T, cmd dynoCommand, pathList string, m *appManifest, addonEnv []string, withRedis bool) {
	exe := cmd.exe
	env := append(append(appEnv(m), addonEnv...), "PATH="+pathList)
	env = append(env, expandAssignments(cmd.assign, env)...)
	started := false
	t.Cleanup(func() {
		if !started {
			t.Errorf("the web command did not start with app.json's config vars %q: a Deploy-button app would crash the same way (an \"ayarlar geçersiz\" line in the server log names the value the program refuses)", appEnv(m))
		}
	})
	p := chattest.Start(t, exe, env...)
	started = true
	if p.Port == 3000 {
		t.Fatal("the free port happened to be 3000; the check could not tell whether PORT is read")
	}
	if !strings.Contains(p.Logs(), ":"+strconv.Itoa(p.Port)) {
		t.Fatalf("the ready line does not name PORT %d:\n%s", p.Port, p.Logs())
	}

	// Every later subtest needs the state this one waits for: with Redis,
	// the process is subscribed; without, it is one process on its own.
	if withRedis {
		t.Run("GET /healthz says redis ok and names the process", func(t *testing.T) {
			waitRedisOK(t, p.URL)
		})
	} else {
		t.Run("GET /healthz says nothing about Redis: one process on its own", func(t *testing.T) {
			h, err := healthFields(p.URL)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := h["redis"]; ok {
				t.Errorf("GET /healthz = %v: a redis field without REDIS_URL", h)
			}
			if _, ok := h["process"]; ok {
				t.Errorf("GET /healthz = %v: a process id without REDIS_URL", h)
			}
		})
	}
	if t.Failed() {
		t.FailNow()
	}

	// dialBoth connects one websocket client to a and one polling client
	// to b, the two ways a browser can end up talking to the server.
	dialBoth := func(t *testing.T, ctx context.Context, a, b string) (*sioclient.Client, *sioclient.Client) {
		t.Helper()
		ca, err := sioclient.Dial(ctx, a, sioclient.DialOptions{Transport: sioclient.TransportWebsocket})
		if err != nil {
			t.Fatalf("websocket client: %v", err)
		}
		t.Cleanup(func() { ca.Close() })
		cb, err := sioclient.Dial(ctx, b, sioclient.DialOptions{Transport: sioclient.TransportPolling})
		if err != nil {
			t.Fatalf("polling client: %v", err)
		}
		t.Cleanup(func() { cb.Close() })
		return ca, cb
	}
	// chat sends text from one client and waits until every client of
	// to has received it. A client may first get the history that a new
	// page is sent (the earlier subtests' messages): those are skipped.
	chat := func(t *testing.T, ctx context.Context, text string, from *sioclient.Client, to map[string]*sioclient.Client) {
		t.Helper()
		if err := from.Emit("chat message", text); err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(to) {
			var seen []string
			for {
				ev, err := to[name].Next(ctx, "chat message")
				if err != nil {
					t.Fatalf("%s: %q never came (got %q): %v", name, text, seen, err)
				}
				got, err := ev.TextArg(0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got == text {
					break
				}
				seen = append(seen, got)
			}
		}
	}
	// leave closes clients. Leaving is the point; how the goodbye went
	// does not matter (the server may close first), so a Close error is
	// only logged.
	leave := func(t *testing.T, clients ...*sioclient.Client) {
		for _, c := range clients {
			if err := c.Close(); err != nil {
				t.Logf("close: %v", err)
			}
		}
	}

	t.Run("a websocket client and a polling client chat", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		a, b := dialBoth(t, ctx, p.URL, p.URL)
		chat(t, ctx, "Heroku'ya hazır mıyız? ✓", a, map[string]*sioclient.Client{"sender (websocket)": a, "other (polling)": b})
		leave(t, a, b)
	})

	t.Run("the connection count in /healthz follows the clients", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// Clients of the previous subtest may still be on their way out.
		var before map[string]float64
		if !chattest.Eventually(5*time.Second, func() bool {
			var err error
			before, err = healthNumbers(p.URL)
			return err == nil && slices.Contains(slices.Collect(maps.Values(before)), 0)
		}) {
			t.Fatalf("GET /healthz has no connection count at 0 with no client connected: %v", before)
		}

		a, b := dialBoth(t, ctx, p.URL, p.URL)
		// The count is the number that rises by exactly the two clients;
		// its name is the step's choice.
		var counters []string
		var last map[string]float64
		ok := chattest.Eventually(5*time.Second, func() bool {
			now, err := healthNumbers(p.URL)
			if err != nil {
				return false
			}
			last, counters = now, nil
			for k, v := range now {
				if before[k] == 0 && v == 2 {
					counters = append(counters, k)
				}
			}
			return len(counters) > 0
		})
		if !ok {
			t.Fatalf("no number in /healthz went from 0 to 2 with two clients connected: before %v, after %v", before, last)
		}
		t.Logf("connection count: %v", counters)

		leave(t, a, b)
		ok = chattest.Eventually(5*time.Second, func() bool {
			now, err := healthNumbers(p.URL)
			if err != nil {
				return false
			}
			last = now
			return slices.ContainsFunc(counters, func(k string) bool { return now[k] == 0 })
		})
		if !ok {
			t.Fatalf("/healthz %v did not return to 0 after both clients left", last)
		}
	})

	check := func(t *testing.T, tg target) {
		// The process has logged its ready line: /healthz must answer
		// at once, so the wait is short.
		tg.healthWait = 3 * time.Second
		tg.retryEvery = 100 * time.Millisecond
		tg.logf = t.Logf
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := checkApp(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	base, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the deploy job's live check passes", func(t *testing.T) {
		check(t, target{base: base, origin: p.URL})
	})

	t.Run("the live check passes behind a stand-in for Heroku's router", func(t *testing.T) {
		// The router ends TLS and forwards plain HTTP with the app's host
		// name; the page's own origin is then https://<app host>.
		const host = "sohbet-ornek-0123456789ab.herokuapp.com"
		check(t, target{base: herokuRouter(t, base, host), origin: "https://" + host})
	})

	if withRedis {
		t.Run("a second dyno with the same config vars is part of the same chat", func(t *testing.T) {
			q := chattest.Start(t, exe, env...)
			waitRedisOK(t, q.URL)
			if pid, qid := processOf(t, p.URL), processOf(t, q.URL); pid == qid {
				t.Fatalf("both dynos call themselves process %q", pid)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			a, b := dialBoth(t, ctx, p.URL, q.URL)
			everyone := map[string]*sioclient.Client{"client of the first dyno (websocket)": a, "client of the second dyno (polling)": b}
			chat(t, ctx, "birinci dynodan merhaba", a, everyone)
			chat(t, ctx, "ikinci dynodan merhaba", b, everyone)
			leave(t, a, b)
			if code, _, err := q.Stop(syscall.SIGTERM, 10*time.Second); err != nil || code != 0 {
				t.Fatalf("stop the second dyno: exit code %d, %v", code, err)
			}
		})
	}

	t.Run("the program runs with app.json's values, which are its own defaults", func(t *testing.T) {
		// Start once more with none of app.json's variables set, and
		// none of the add-ons' either.
		var unset []string
		for _, name := range sortedKeys(m.Env) {
			unset = append(unset, name+"=") // empty means "use the default"
		}
		for _, name := range addonSetVars() {
			unset = append(unset, name+"=")
		}
		bare := append(unset, "PATH="+pathList)
		q := chattest.Start(t, exe, append(bare, expandAssignments(cmd.assign, bare)...)...)
		defaults := startupSettings(q.Logs())
		if code, _, err := q.Stop(syscall.SIGTERM, 10*time.Second); err != nil || code != 0 {
			t.Fatalf("stop: exit code %d, %v", code, err)
		}
		logs := map[string]map[string]string{
			"with app.json's config vars": startupSettings(p.Logs()),
			"with none of them set":       defaults,
		}
		for _, name := range sortedKeys(m.Env) {
			v := m.Env[name].Value
			if v == nil {
				continue
			}
			for _, when := range sortedKeys(logs) {
				got, ok := logs[when][name]
				switch {
				case !ok:
					t.Errorf("%s: the startup log does not show %s, so app.json's default %q cannot be checked: log it with the ready line", when, name, *v)
				case !sameSetting(*v, got):
					t.Errorf("%s: the program runs with %s=%s, app.json's default is %q", when, name, got, *v)
				}
			}
		}
	})

	t.Run("SIGTERM with a client connected exits 0 within 10 s", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := sioclient.Dial(ctx, p.URL, sioclient.DialOptions{Transport: sioclient.TransportWebsocket})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		code, took, err := p.Stop(syscall.SIGTERM, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("exit code %d after %v", code, took.Round(time.Millisecond))
		if code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", code)
		}
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("the connected client was not disconnected by the shutdown")
		}
	})
}

// waitRedisOK waits until GET /healthz of the process at baseURL says
// status "ok", redis "ok" and names the process: it has subscribed to
// Redis over TLS and hears the other processes. Right after the ready
// line the subscription may still be on its way.
func waitRedisOK(t *testing.T, baseURL string) {
	t.Helper()
	var last map[string]any
	var lastErr error
	ok := chattest.Eventually(10*time.Second, func() bool {
		last, lastErr = healthFields(baseURL)
		return lastErr == nil && last["status"] == "ok" && last["redis"] == "ok" && last["process"] != nil && last["process"] != ""
	})
	if !ok {
		t.Fatalf("GET /healthz never said status ok, redis ok and a process id with REDIS_URL set: %v (%v)", last, lastErr)
	}
	t.Logf("GET /healthz: %v", last)
}

// processOf returns the process id that GET /healthz names.
func processOf(t *testing.T, baseURL string) string {
	t.Helper()
	h, err := healthFields(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := h["process"].(string)
	return id
}

// TestDeployTargetIsTheSameEverywhere checks that every file that names the
// deployed step names the same one: the highest-numbered step folder.
func TestDeployTargetIsTheSameEverywhere(t *testing.T) {
	root := repoRoot(t)
	final, err := repo.FinalStep(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("deployed step: %s", final)
	gomod := readFile(t, root, "go.mod")
	directives := herokuDirectives(gomod)

	t.Run("go.mod installs only the final step", func(t *testing.T) {
		want := []string{"./steps/" + final}
		if got := directives["install"]; !slices.Equal(got, want) {
			t.Errorf("// +heroku install %v, want %v", got, want)
		}
	})

	t.Run("go.mod's Heroku Go version is its go line", func(t *testing.T) {
		var goLine string
		for _, line := range strings.Split(string(gomod), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
				goLine = strings.TrimSpace(v)
			}
		}
		got := directives["goVersion"]
		if len(got) != 1 || (got[0] != "go"+goLine && !strings.HasPrefix(goLine, strings.TrimPrefix(got[0], "go")+".")) {
			t.Errorf("// +heroku goVersion %v does not match go %s", got, goLine)
		}
	})

	t.Run("the Procfile runs the final step", func(t *testing.T) {
		procs, err := parseProcfile(readFile(t, root, "Procfile"))
		if err != nil {
			t.Fatal(err)
		}
		_, program, err := webCommand(procs["web"])
		if err != nil {
			t.Fatal(err)
		}
		if program != final {
			t.Errorf("Procfile web runs %q, want %q", program, final)
		}
	})

	t.Run("the README runs the final step", func(t *testing.T) {
		targets := readmeRunTargets(readFile(t, root, "README.md"))
		if !slices.Contains(targets, final) {
			t.Errorf("README.md has no \"go run ./steps/%s\" (it runs %v)", final, targets)
		}
		for _, s := range targets {
			if _, err := os.Stat(filepath.Join(root, "steps", s)); err != nil {
				t.Errorf("README.md runs ./steps/%s, which does not exist", s)
			}
		}
	})

	t.Run("app.json lists the final step's variables, less PORT and the add-ons' own", func(t *testing.T) {
		table := envTable(readFile(t, root, filepath.Join("steps", final, "README.md")))
		t.Logf("steps/%s/README.md lists %v", final, table)
		if !slices.Contains(table, "PORT") {
			t.Errorf("steps/%s/README.md's env table has no PORT; Heroku gives the port only through it", final)
		}
		m, err := parseAppJSON(readFile(t, root, "app.json"))
		if err != nil {
			t.Fatal(err)
		}
		provided, err := m.providedVars()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range provided {
			if !slices.Contains(table, v) {
				t.Errorf("app.json adds an add-on that sets %s, which steps/%s does not read", v, final)
			}
		}
		// An add-on's variable stays out of env whether or not app.json
		// adds the add-on: REDIS_URL comes with Heroku Key-Value Store
		// when someone adds it, which the Deploy button does not.
		set := addonSetVars()
		want := slices.DeleteFunc(slices.Sorted(slices.Values(table)), func(s string) bool {
			return s == "PORT" || slices.Contains(set, s)
		})
		if got := sortedKeys(m.Env); !slices.Equal(got, want) {
			t.Errorf("app.json env %v, want %v (the env table of steps/%s/README.md, less PORT and the add-ons' %v)", got, want, final, set)
		}
	})

	t.Run("the deploy guide states app.json's defaults", func(t *testing.T) {
		guide := strings.Split(string(readFile(t, root, "docs/05-github-heroku.md")), "\n")
		m, err := parseAppJSON(readFile(t, root, "app.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(m.Env) {
			want := "(boş)"
			if v := m.Env[name].Value; v != nil {
				want = "`" + *v + "`"
			}
			found := slices.ContainsFunc(guide, func(line string) bool {
				return strings.HasPrefix(line, "| `"+name+"`") && strings.Contains(line, "| "+want+" |")
			})
			if !found {
				t.Errorf("docs/05-github-heroku.md has no table row for %s with default %s", name, want)
			}
		}
	})
}

// TestAppJSON validates app.json against the schema rules that matter for
// the Deploy button.
func TestAppJSON(t *testing.T) {
	root := repoRoot(t)
	m, err := parseAppJSON(readFile(t, root, "app.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range validateApp(m) {
		t.Error(err)
	}
}

// TestValidateAppRejectsBrokenManifests proves the validator is not
// toothless: each broken copy of the real app.json must be refused.
func TestValidateAppRejectsBrokenManifests(t *testing.T) {
	root := repoRoot(t)
	orig := readFile(t, root, "app.json")
	edit := func(f func(map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(orig, &doc); err != nil {
			t.Fatal(err)
		}
		f(doc)
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	env := func(doc map[string]any) map[string]any { return doc["env"].(map[string]any) }
	firstValued := func(doc map[string]any) map[string]any {
		for _, k := range sortedKeys(env(doc)) {
			v := env(doc)[k].(map[string]any)
			if _, ok := v["value"]; ok {
				return v
			}
		}
		t.Fatal("app.json has no env var with a default value")
		return nil
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"an unknown top-level key", edit(func(d map[string]any) { d["dynos"] = 1 })},
		{"a stale BUILDPACK_URL", edit(func(d map[string]any) {
			env(d)["BUILDPACK_URL"] = map[string]any{"description": "x", "value": "https://example.com/bp", "required": false}
		})},
		{"REDIS_URL in env, which Heroku Key-Value Store sets", edit(func(d map[string]any) {
			env(d)["REDIS_URL"] = map[string]any{"description": "x", "required": false}
		})},
		{"PORT in env", edit(func(d map[string]any) {
			env(d)["PORT"] = map[string]any{"description": "x", "value": "3000", "required": false}
		})},
		{"a dyno size that no longer exists", edit(func(d map[string]any) {
			d["formation"] = map[string]any{"web": map[string]any{"quantity": 1, "size": "hobby"}}
		})},
		{"two web dynos", edit(func(d map[string]any) {
			d["formation"] = map[string]any{"web": map[string]any{"quantity": 2, "size": "basic"}}
		})},
		{"a required variable", edit(func(d map[string]any) { firstValued(d)["required"] = true })},
		{"a number where a string belongs", edit(func(d map[string]any) { firstValued(d)["value"] = 5 })},
		{"an unknown env key", edit(func(d map[string]any) { firstValued(d)["default"] = "1" })},
		{"an old stack", edit(func(d map[string]any) { d["stack"] = "heroku-20" })},
		{"another buildpack", edit(func(d map[string]any) {
			d["buildpacks"] = []any{map[string]any{"url": "https://github.com/heroku/heroku-buildpack-go"}}
		})},
		{"a success_url that is not the chat", edit(func(d map[string]any) { d["success_url"] = "/healthz" })},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			m, err := parseAppJSON(tc.data)
			if err != nil {
				t.Logf("refused at decoding: %v", err)
				return
			}
			errs := validateApp(m)
			if len(errs) == 0 {
				t.Errorf("accepted: %s", tc.data)
			}
			t.Logf("refused: %v", errs)
		})
	}
}

// TestDirectivesAndProcfile covers the small parsers.
func TestDirectivesAndProcfile(t *testing.T) {
	d := herokuDirectives([]byte("// x\n// +heroku goVersion go1.26\n//+heroku install ./a ./b\nmodule m\n"))
	if !slices.Equal(d["goVersion"], []string{"go1.26"}) || !slices.Equal(d["install"], []string{"./a", "./b"}) {
		t.Errorf("directives = %v", d)
	}
	procs, err := parseProcfile([]byte("# comment\nweb: 06-x\nworker:  run --fast\n"))
	if err != nil || procs["web"] != "06-x" || procs["worker"] != "run --fast" {
		t.Errorf("procfile = %v, %v", procs, err)
	}
	if _, err := parseProcfile([]byte("web 06-x\n")); err == nil {
		t.Error("a line without a colon was accepted")
	}
	assign, program, err := webCommand("A=1 B_2=x,$B_2 06-x")
	if err != nil || program != "06-x" || !slices.Equal(assign, []string{"A=1", "B_2=x,$B_2"}) {
		t.Errorf("webCommand = %q, %q, %v", assign, program, err)
	}
	if got := expandAssignments(assign, []string{"B_2=y"}); !slices.Equal(got, []string{"A=1", "B_2=x,y"}) {
		t.Errorf("expanded = %q", got)
	}
	if got := expandAssignments(assign, nil); !slices.Equal(got, []string{"A=1", "B_2=x,"}) {
		t.Errorf("expanded without B_2 = %q", got)
	}
	for _, bad := range []string{"06-x --flag", "A=1", ""} {
		if _, _, err := webCommand(bad); err == nil {
			t.Errorf("webCommand(%q) was accepted", bad)
		}
	}
	table := envTable([]byte("| değişken | varsayılan |\n|---|---|\n| `PORT` | `3000` | port |\n| `MAX_CONNECTIONS` dolu | 503 |\n| `A_B2` | boş | x |\n"))
	if !slices.Equal(table, []string{"PORT", "A_B2"}) {
		t.Errorf("env table = %v", table)
	}
	if got := readmeRunTargets([]byte("go run ./steps/06-a\n`go run ./steps/01-b` and go run ./steps/06-a")); !slices.Equal(got, []string{"06-a", "01-b"}) {
		t.Errorf("run targets = %v", got)
	}
}

// TestWorkflowsPassActionlint lints every workflow with actionlint from
// the module's tool dependencies (and shellcheck for run: scripts).
func TestWorkflowsPassActionlint(t *testing.T) {
	root := repoRoot(t)
	var files []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no workflows in .github/workflows")
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		msg := "shellcheck not found: actionlint checks the workflows' run: scripts only with it (Debian/Ubuntu: apt-get install shellcheck)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " [CI=true: must run]")
		}
		t.Log(msg)
	}
	actionlint := func(files ...string) ([]byte, error) {
		cmd := exec.Command("go", append([]string{"tool", "actionlint", "-no-color"}, files...)...)
		cmd.Dir = root
		return cmd.CombinedOutput()
	}
	if out, err := actionlint(files...); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
	t.Logf("actionlint: %d workflow files clean", len(files))

	// The mistake this project's deploy job is built to avoid: secrets in
	// a job-level if. actionlint must catch it, or the check above is void.
	bad := filepath.Join(t.TempDir(), "bad.yml")
	const badWorkflow = `on: push
jobs:
  deploy:
    if: secrets.HEROKU_API_KEY != ''
    runs-on: ubuntu-24.04
    steps:
      - run: echo deploy
`
	if err := os.WriteFile(bad, []byte(badWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := actionlint(bad)
	if err == nil || !strings.Contains(string(out), "secrets") {
		t.Fatalf("actionlint accepted secrets in a job-level if (err %v):\n%s", err, out)
	}
}

// TestReadmeHasDeployButton checks the front page's Deploy button: its
// link has no template parameter, so Heroku deploys the repository the
// button was clicked in (a fork deploys itself), and the guide is linked.
func TestReadmeHasDeployButton(t *testing.T) {
	readme := string(readFile(t, repoRoot(t), "README.md"))
	if !strings.Contains(readme, "](https://heroku.com/deploy)") {
		t.Error("README.md has no Deploy button linking to https://heroku.com/deploy")
	}
	if strings.Contains(readme, "heroku.com/deploy?") {
		t.Error("README.md's Deploy button has parameters; without template Heroku deploys the repository it was clicked in")
	}
	if !strings.Contains(readme, "](docs/05-github-heroku.md") {
		t.Error("README.md does not link the deploy guide docs/05-github-heroku.md")
	}
}
