package main

import (
	"bytes"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"sohbet/internal/repo"
)

// testResults is a small fixed results file: three servers, every shape,
// repeated runs for two groups and loss in one.
const testResults = "testdata/results.jsonl"

// rendered is testResults rendered once for the tests that only read the
// output: rendering under -race takes seconds.
var rendered = sync.OnceValues(func() ([]chartFile, error) { return render(testResults) })

// generated returns a new folder holding testResults as results.jsonl and
// what it renders to, as compare.sh leaves its output folder.
func generated(t *testing.T) string {
	t.Helper()
	files, err := rendered()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, err := os.ReadFile(testResults)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "results.jsonl"), in)
	for _, f := range files {
		write(t, filepath.Join(dir, f.name), f.data)
	}
	return dir
}

func TestEveryChartAndTheTableAreWritten(t *testing.T) {
	dir := generated(t)
	for _, name := range outputNames {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s was not written: %v", name, err)
			continue
		}
		if !strings.HasSuffix(name, ".png") {
			continue
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s is not a PNG: %v", name, err)
			continue
		}
		// 20 cm at 144 dpi.
		if w := img.Bounds().Dx(); w != 1134 {
			t.Errorf("%s is %d pixels wide, want 1134", name, w)
		}
	}
}

func TestOutputIsDeterministic(t *testing.T) {
	// The command, run from its flags into an empty folder, writes the
	// same bytes as the render shared by the other tests.
	want := generated(t)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"-in", testResults, "-out", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("charts -in %s -out %s: exit %d\n%s", testResults, dir, code, stderr.String())
	}
	for _, name := range outputNames {
		x, errX := os.ReadFile(filepath.Join(want, name))
		y, errY := os.ReadFile(filepath.Join(dir, name))
		if errX != nil || errY != nil {
			t.Fatalf("%s: %v, %v", name, errX, errY)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs on the same results", name)
		}
		if !strings.Contains(stdout.String(), filepath.Join(dir, name)) {
			t.Errorf("the command did not list %s in its output:\n%s", name, stdout.String())
		}
	}
}

func TestTableShowsTheMedianRunInTurkish(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(generated(t), tableFile))
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	for _, want := range []string{
		"# Yük testi sonuçları",
		"![Gecikme p99: sunucu ve yüke göre](p99.png)",
		"](idle-memory.png)", "](ws-medium-latency.png)", "](loss.png)",
		"## ws-small", "## ws-medium", "## idle", "## poll-small", "## poll-medium", "## node-poll-small",
		// Step 06's three ws-small runs: the median p99 and the range.
		"| adım 06 (bağlantı başına kuyruk) | 100 / 100 (0,2 sn) | 20.000 | 0 (%0) | 1,5 ms | 2,2 ms | 4,5 ms |",
		"| 3 (p99: 3,7 ms – 6,5 ms) |",
		// Step 06's two idle runs: the lower memory is the median of two.
		"| 48,1 KB |",
		// Loss, drops, seconds and thousands the Turkish way.
		"6200 (%1,24), 3 koptu | 2,50 sn | 6,00 sn | 9,80 sn | 12,0 sn |",
		"yükü üreten: socket.io-client 2.5.0 (Node)",
		"taşıma: uzun yoklama",
		"3 sn ısınmadan sonra 10 sn ölçüm",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`\d\.\d+ (ms|sn|KB)|\d+\.\d+%`).FindString(text); m != "" {
		t.Errorf("results.md has a number with a decimal point: %q", m)
	}
	if t.Failed() {
		t.Logf("results.md:\n%s", text)
	}
}

func TestNumbersAreFormattedTheTurkishWay(t *testing.T) {
	cases := []struct {
		name, got, want string
	}{
		{"a fraction has a decimal comma", num(4.25, 2), "4,25"},
		{"thousands are grouped with dots", num(1234567, 0), "1.234.567"},
		{"a negative number keeps its sign", num(-1500.5, 1), "-1500,5"},
		{"four digits take no dot", num(5000, 0), "5000"},
		{"a short latency has one decimal", ms(4.54), "4,5 ms"},
		{"a latency of tens of milliseconds has none", ms(34.8), "35 ms"},
		{"a latency of a second or more is in seconds", ms(1333), "1,33 sn"},
		{"a latency of ten seconds or more has one decimal", ms(12345), "12,3 sn"},
		{"no loss is %0", pct(0), "%0"},
		{"a loss has two decimals, sign first", pct(1.2449), "%1,24"},
		{"a tiny loss is not shown as zero", pct(0.001), "<%0,01"},
		{"memory has one decimal", kb(49.25), "49,2 KB"},
		{"a whole number of seconds has no decimals", secs(10), "10 sn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestLinesWithoutShapeGetOneFromTheirLoad(t *testing.T) {
	in := strings.Join([]string{
		`{"label":"x","protocol":"socketio","transport":"polling","clients":100,"senders":10,"rate":200,"new_field":[1,2]}`,
		`not json: skipped`,
		``,
	}, "\n")
	res, err := readResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Shape != "polling 100/10/200" {
		t.Errorf("got %+v, want one result with shape %q", res, "polling 100/10/200")
	}
	if _, err := readResults(strings.NewReader("{broken\n")); err == nil {
		t.Error("a broken JSON line was accepted")
	}
	if _, err := readResults(strings.NewReader("")); err == nil {
		t.Error("an empty file was accepted")
	}
}

func TestCheckUpToDate(t *testing.T) {
	t.Run("accepts a folder just generated", func(t *testing.T) {
		if err := checkUpToDate(generated(t)); err != nil {
			t.Error(err)
		}
	})
	cases := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   []string // in the error
	}{
		{"reports a changed chart, an edited table and a missing chart", func(t *testing.T, dir string) {
			p := filepath.Join(dir, p99Chart)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			write(t, p, b)
			p = filepath.Join(dir, tableFile)
			if b, err = os.ReadFile(p); err != nil {
				t.Fatal(err)
			}
			write(t, p, append(b, "elle eklendi\n"...))
			if err := os.Remove(filepath.Join(dir, memChart)); err != nil {
				t.Fatal(err)
			}
		}, []string{"p99.png differs", "results.md differs", "idle-memory.png is missing"}},
		{"reports charts left from other results", func(t *testing.T, dir string) {
			// New results without the run that lost messages: the loss
			// chart must go, and the rest must change.
			p := filepath.Join(dir, "results.jsonl")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var keep []string
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if !strings.Contains(line, `"lost":6200`) {
					keep = append(keep, line)
				}
			}
			write(t, p, []byte(strings.Join(keep, "\n")+"\n"))
		}, []string{"loss.png is left over", "p99.png differs", "results.md differs"}},
		{"reports a folder without results", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "results.jsonl")); err != nil {
				t.Fatal(err)
			}
		}, []string{"results.jsonl"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := generated(t)
			tc.change(t, dir)
			err := checkUpToDate(dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestRegeneratingRemovesChartsTheResultsNoLongerGive(t *testing.T) {
	dir := generated(t)
	results := filepath.Join(dir, "results.jsonl")
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.Contains(line, `"lost":6200`) && !strings.Contains(line, `"shape":"idle"`) {
			keep = append(keep, line)
		}
	}
	write(t, results, []byte(strings.Join(keep, "\n")+"\n"))
	written, err := generate(results, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{p99Chart, mediumChart, tableFile}
	if !slices.Equal(written, want) {
		t.Errorf("wrote %q, want %q", written, want)
	}
	for _, gone := range []string{lossChart, memChart} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", gone, err)
		}
	}
	if err := checkUpToDate(dir); err != nil {
		t.Error(err)
	}
}

func TestCommandLine(t *testing.T) {
	dir := generated(t)
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"-check passes on a generated folder", []string{"-check", dir}, 0, "up to date"},
		{"-check fails on a folder without results", []string{"-check", t.TempDir()}, 1, "results.jsonl"},
		{"an unknown flag is a usage error", []string{"-colour"}, 2, "-colour"},
		{"a stray argument is a usage error", []string{"results.jsonl"}, 2, "unexpected arguments"},
		{"-h prints the usage", []string{"-h"}, 0, "charts -check dir"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := realMain(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if all := stdout.String() + stderr.String(); !strings.Contains(all, tc.out) {
				t.Errorf("output does not mention %q:\n%s", tc.out, all)
			}
		})
	}
}

// TestDocsBenchIsUpToDate checks the published measurement: the charts
// and the table in docs/bench must be what its results.jsonl gives.
func TestDocsBenchIsUpToDate(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "docs", "bench")
	if _, err := os.Stat(filepath.Join(dir, "results.jsonl")); errors.Is(err, os.ErrNotExist) {
		t.Skip("docs/bench/results.jsonl does not exist yet: after a measurement with scripts/bench/compare.sh, " +
			"copy its results.jsonl and machine.txt there and run go run ./scripts/charts")
	}
	if err := checkUpToDate(dir); err != nil {
		t.Error(err)
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
