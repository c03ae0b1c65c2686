package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
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
	"sohbet/internal/sioclient"
)

// repoRoot returns the repository root (the folder with go.mod).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := findRoot(".")
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

// appEnv returns app.json's default values as KEY=value, the config vars
// a Deploy-button install starts with.
func appEnv(t *testing.T, root string) []string {
	t.Helper()
	m, err := parseAppJSON(readFile(t, root, "app.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, name := range sortedKeys(m.Env) {
		if v := m.Env[name].Value; v != nil {
			env = append(env, name+"="+*v)
		}
	}
	return env
}

// healthNumbers returns the numeric top-level fields of GET /healthz.
func healthNumbers(baseURL string) (map[string]float64, error) {
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
	out := make(map[string]float64)
	for k, v := range fields {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out, nil
}

// normalizeStartup keeps a log up to its ready line, without what changes
// from run to run (timestamps, the port).
func normalizeStartup(logs string) string {
	if i := strings.Index(logs, chattest.ReadyLine); i >= 0 {
		if j := strings.IndexByte(logs[i:], '\n'); j >= 0 {
			logs = logs[:i+j]
		}
	}
	logs = timestamp.ReplaceAllString(logs, "")
	return port.ReplaceAllString(logs, "localhost:PORT")
}

var (
	timestamp = regexp.MustCompile(`(?m)^(time=\S+ |\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(\.\d+)? )`)
	port      = regexp.MustCompile(`localhost:\d+`)
)

// TestOfflineDeploy builds the app as Heroku's Go buildpack would, starts
// the Procfile's web command as a dyno would (the bin folder on PATH,
// PORT set, app.json's config vars), and checks it like the deploy job
// checks the live app, plus a real chat and a SIGTERM.
func TestOfflineDeploy(t *testing.T) {
	root := repoRoot(t)
	bin := herokuBuild(t, root)

	procs, err := parseProcfile(readFile(t, root, "Procfile"))
	if err != nil {
		t.Fatal(err)
	}
	web := strings.Fields(procs["web"])
	if len(web) != 1 {
		t.Fatalf("Procfile web = %q, want a single program name (the step folder's name)", procs["web"])
	}
	pathList := bin + string(filepath.ListSeparator) + os.Getenv("PATH")
	exe, ok := lookPathIn(web[0], pathList)
	if !ok || filepath.Dir(exe) != bin {
		entries, _ := os.ReadDir(bin)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("Procfile web command %q is not a program that the build installed (bin has %v)", web[0], names)
	}

	p := chattest.Start(t, exe, append(appEnv(t, root), "PATH="+pathList)...)
	if p.Port == 3000 {
		t.Fatal("the free port happened to be 3000; the check could not tell whether PORT is read")
	}
	if !strings.Contains(p.Logs(), ":"+strconv.Itoa(p.Port)) {
		t.Fatalf("the ready line does not name PORT %d:\n%s", p.Port, p.Logs())
	}

	// dialBoth connects one websocket and one polling client, the two
	// ways a browser can end up talking to the server.
	dialBoth := func(t *testing.T, ctx context.Context) (*sioclient.Client, *sioclient.Client) {
		t.Helper()
		a, err := sioclient.Dial(ctx, p.URL, sioclient.DialOptions{Transport: sioclient.TransportWebsocket})
		if err != nil {
			t.Fatalf("websocket client: %v", err)
		}
		t.Cleanup(func() { a.Close() })
		b, err := sioclient.Dial(ctx, p.URL, sioclient.DialOptions{Transport: sioclient.TransportPolling})
		if err != nil {
			t.Fatalf("polling client: %v", err)
		}
		t.Cleanup(func() { b.Close() })
		return a, b
	}

	t.Run("a websocket client and a polling client chat", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		a, b := dialBoth(t, ctx)
		const text = "Heroku'ya hazır mıyız? ✓"
		if err := a.Emit("chat message", text); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]*sioclient.Client{"sender (websocket)": a, "other (polling)": b} {
			ev, err := c.Next(ctx, "chat message")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got, err := ev.StringArg(0); err != nil || got != text {
				t.Fatalf("%s got %q (%v), want %q", name, got, err, text)
			}
		}
		// Leaving is the point here; how the goodbye went does not matter
		// (the server may close first), so a Close error is only logged.
		for _, c := range []*sioclient.Client{a, b} {
			if err := c.Close(); err != nil {
				t.Logf("close: %v", err)
			}
		}
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

		a, b := dialBoth(t, ctx)
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

		// Leaving is the point here; how the goodbye went does not matter
		// (the server may close first), so a Close error is only logged.
		for _, c := range []*sioclient.Client{a, b} {
			if err := c.Close(); err != nil {
				t.Logf("close: %v", err)
			}
		}
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

	t.Run("the live check passes with the headers Heroku's router adds", func(t *testing.T) {
		// The router ends TLS and forwards plain HTTP with the app's host
		// name; the page's own origin is then https://<app host>.
		const host = "sohbet-ornek-0123456789ab.herokuapp.com"
		check(t, target{
			base:   base,
			host:   host,
			origin: "https://" + host,
			header: http.Header{
				"X-Forwarded-Proto": {"https"},
				"X-Forwarded-Port":  {"443"},
				"X-Forwarded-For":   {"203.0.113.7"},
			},
		})
	})

	t.Run("app.json's defaults are the step's own defaults", func(t *testing.T) {
		m, err := parseAppJSON(readFile(t, root, "app.json"))
		if err != nil {
			t.Fatal(err)
		}
		// Run the program once per environment and keep what it logs up
		// to its ready line, which states the settings in force.
		startup := func(env ...string) string {
			t.Helper()
			q := chattest.Start(t, exe, append([]string{"PATH=" + pathList}, env...)...)
			logs := q.Logs()
			if code, _, err := q.Stop(syscall.SIGTERM, 10*time.Second); err != nil || code != 0 {
				t.Fatalf("stop: exit code %d, %v", code, err)
			}
			return normalizeStartup(logs)
		}
		var unset []string
		for _, name := range sortedKeys(m.Env) {
			unset = append(unset, name+"=") // empty means "use the default"
		}
		base := startup(unset...)
		if got := startup(appEnv(t, root)...); got != base {
			t.Fatalf("with app.json's values the program starts differently than with none:\n%s\nwith no variables:\n%s", got, base)
		}
		// Each value must show in that log, or the comparison proves nothing.
		for _, name := range sortedKeys(m.Env) {
			v := m.Env[name].Value
			if v == nil {
				continue
			}
			f, err := strconv.ParseFloat(*v, 64)
			if err != nil {
				t.Errorf("%s: cannot vary the non-numeric default %q", name, *v)
				continue
			}
			other := strconv.FormatFloat(f+1, 'f', -1, 64)
			if startup(append(unset, name+"="+other)...) == base {
				t.Errorf("%s=%s starts the program like the default %s: its startup log does not show %s, so the default cannot be compared", name, other, *v, name)
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

// TestDeployTargetIsTheSameEverywhere checks that every file that names the
// deployed step names the same one: the highest-numbered step folder.
func TestDeployTargetIsTheSameEverywhere(t *testing.T) {
	root := repoRoot(t)
	final, err := finalStep(root)
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
		if procs["web"] != final {
			t.Errorf("Procfile web = %q, want %q", procs["web"], final)
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

	t.Run("app.json lists exactly the variables the final step reads", func(t *testing.T) {
		read, err := envVarsRead(filepath.Join(root, "steps", final))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("steps/%s reads %v", final, read)
		if !slices.Contains(read, "PORT") {
			t.Errorf("steps/%s does not read PORT; Heroku gives the port only through it", final)
		}
		want := slices.DeleteFunc(slices.Clone(read), func(s string) bool { return s == "PORT" })
		m, err := parseAppJSON(readFile(t, root, "app.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := sortedKeys(m.Env); !slices.Equal(got, want) {
			t.Errorf("app.json env %v, want %v (what steps/%s reads, less PORT)", got, want, final)
		}
	})

	t.Run("the final step's README documents every variable", func(t *testing.T) {
		readme := string(readFile(t, root, filepath.Join("steps", final, "README.md")))
		m, err := parseAppJSON(readFile(t, root, "app.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(m.Env) {
			if !strings.Contains(readme, name) {
				t.Errorf("steps/%s/README.md does not mention %s", final, name)
			}
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
	for _, err := range validateApp(m, checkEnvValue) {
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
		{"a default that does not parse", edit(func(d map[string]any) { firstValued(d)["value"] = "çok" })},
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
			errs := validateApp(m, checkEnvValue)
			if len(errs) == 0 {
				t.Errorf("accepted: %s", tc.data)
			}
			t.Logf("refused: %v", errs)
		})
	}
}

// TestCheckEnvValue covers the default-value rules.
func TestCheckEnvValue(t *testing.T) {
	cases := []struct {
		name, value string
		ok          bool
	}{
		{"ALLOWED_ORIGINS", "", true},
		{"ALLOWED_ORIGINS", "https://ornek.com, http://localhost:3000", true},
		{"ALLOWED_ORIGINS", "ornek.com", false},
		{"ALLOWED_ORIGINS", "https://ornek.com/sohbet", false},
		{"ALLOWED_ORIGINS", "*", false},
		{"MAX_CONNECTIONS", "1000", true},
		{"MAX_CONNECTIONS", "0", false},
		{"MAX_CONNECTIONS", "1e3", false},
		{"MESSAGE_RATE", "2.5", true},
		{"MESSAGE_RATE", "-1", false},
		{"MESSAGE_RATE", "NaN", false},
		{"SEND_QUEUE", "256", true},
		{"SEND_QUEUE", "", false},
		{"GOGC", "400", true},
		{"GOGC", "off", true},
		{"GOGC", "0", false},
		{"GOMEMLIMIT", "400MiB", true},
		{"GOMEMLIMIT", "419430400", true},
		{"GOMEMLIMIT", "400MB", false},
		{"SOMETHING_NEW", "1", false},
	}
	for _, tc := range cases {
		err := checkEnvValue(tc.name, tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("checkEnvValue(%s, %q) = %v, want ok=%v", tc.name, tc.value, err, tc.ok)
		}
	}
}

// TestEnvVarsReadFollowsHelpers checks the scanner on a small program that
// reads variables directly, through constants and through helpers.
func TestEnvVarsReadFollowsHelpers(t *testing.T) {
	dir := t.TempDir()
	src := `package main

import "os"

const rateVar = "MESSAGE_RATE"

func envInt(def int, name string) int {
	if v, ok := os.LookupEnv(name); ok {
		_ = v
	}
	return def
}

func queueLen() int { return envInt(256, "SEND_QUEUE") }

func loadConfig(getenv func(string) string) int {
	_ = getenv("ALLOWED_ORIGINS")
	intVar := func(dst *int, name string) {
		_ = getenv(name)
	}
	var n int
	intVar(&n, "MAX_CONNECTIONS")
	return n
}

func main() {
	_ = os.Getenv("PORT")
	_ = envInt(5, rateVar)
	_ = queueLen()
	_ = loadConfig(os.Getenv)
	_ = loadConfig(func(string) string { return "" })
}
`
	test := `package main

import "os"

var _ = os.Getenv("ONLY_IN_TESTS")
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main_test.go"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := envVarsRead(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ALLOWED_ORIGINS", "MAX_CONNECTIONS", "MESSAGE_RATE", "PORT", "SEND_QUEUE"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	dynamic := `package main

import "os"

func main() {
	for _, k := range []string{"A", "B"} {
		_ = os.Getenv(k)
	}
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(dynamic), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := envVarsRead(dir); err == nil {
		t.Errorf("a variable name built at run time was not reported (got %v)", got)
	}
}

// TestParseOpen reads the open packet in the framings Engine.IO 3 uses.
func TestParseOpen(t *testing.T) {
	open := `0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}`
	binary := append([]byte{0, 8, 6, 0xFF}, open...)
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"a websocket frame", []byte(open), true},
		{"a text payload", []byte("86:" + open + "2:40"), true},
		{"a binary payload", binary, true},
		{"no sid", []byte(`0{"upgrades":[],"pingInterval":25000,"pingTimeout":20000}`), false},
		{"a ping interval the router would cut", []byte(`0{"sid":"a","pingInterval":60000,"pingTimeout":5000}`), false},
		{"an error message", []byte(`{"code":5,"message":"Unsupported protocol version"}`), false},
	}
	for _, tc := range cases {
		_, err := parseOpen(tc.data)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
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
