package chattest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sohbet/internal/repo"
)

// recorder stands in for a test so that NeedNode's skip and fail paths can
// be observed without skipping or failing the real test.
type recorder struct {
	testing.TB
	skipped string
	failed  string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func needNodeWith(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		NeedNode(r)
	}()
	<-done
	return r
}

func TestNeedNodeWithoutNodeSkipsOutsideCIAndFailsInCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // a PATH on which there is no node

	t.Setenv("CI", "")
	r := needNodeWith(t)
	if r.skipped == "" || r.failed != "" {
		t.Fatalf("outside CI: skipped=%q failed=%q, want a skip", r.skipped, r.failed)
	}
	if !strings.Contains(r.skipped, "npm ci") {
		t.Errorf("skip message %q does not say how to install", r.skipped)
	}

	t.Setenv("CI", "true")
	r = needNodeWith(t)
	if r.failed == "" || r.skipped != "" {
		t.Fatalf("under CI=true: skipped=%q failed=%q, want a failure", r.skipped, r.failed)
	}
}

func TestRepoRootHoldsGoModAndPackageJSON(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go.mod", "package.json", "package-lock.json"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPackageJSONPinsTheClientVersion(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `"socket.io-client": "` + NodeClientVersion + `"`
	if !strings.Contains(string(data), want) {
		t.Errorf("package.json does not pin %s", want)
	}
}

func writeScript(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.js")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunNodeReturnsStdoutLines(t *testing.T) {
	node, root := NeedNode(t)
	script := writeScript(t, `
console.log('bir');
console.error('stderr is not stdout');
console.log('iki ' + process.argv[2]);
console.log(require('socket.io-client/package.json').version);
`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines, err := RunNode(ctx, node, root, script, "üç")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bir", "iki üç", NodeClientVersion}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", lines, want)
	}
}

func TestRunNodeReportsExitCodeAndStderr(t *testing.T) {
	node, root := NeedNode(t)
	script := writeScript(t, `console.error('kaboom'); process.exit(3);`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := RunNode(ctx, node, root, script)
	if err == nil || !strings.Contains(err.Error(), "kaboom") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("err = %v, want exit status 3 with stderr", err)
	}
}

func TestRunNodeKillsAScriptPastTheDeadline(t *testing.T) {
	node, root := NeedNode(t)
	script := writeScript(t, `console.log('started'); setInterval(() => {}, 1000);`)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := RunNode(ctx, node, root, script)
	if err == nil || !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
		t.Errorf("err = %v, want the deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("RunNode returned after %v, long past the deadline", took)
	}
}

func TestStartNodeTalksOverStdinAndStdout(t *testing.T) {
	node, root := NeedNode(t)
	script := writeScript(t, `
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (l) => console.log(l.toUpperCase()));
rl.on('close', () => console.log('son'));
`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := StartNode(ctx, t, node, root, script)
	if _, err := fmt.Fprintln(p.Stdin, "merhaba"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-p.Lines:
		if got != "MERHABA" {
			t.Fatalf("got %q, want MERHABA", got)
		}
	case <-ctx.Done():
		t.Fatal("no answer from node")
	}
	p.Stdin.Close()
	var rest []string
	for l := range p.Lines {
		rest = append(rest, l)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Join(rest, "|") != "son" {
		t.Errorf("after EOF got %q, want [son]", rest)
	}
}
