package checkdocs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The docs (02-heroku-nedir.md, 03-sunucu-kodumuz.md) explain the deployed
// step's engine timings with these rules; this test holds the code to them.
const (
	// herokuFirstByte: the router drops a request whose response has not
	// started within 30 s; a long-poll is answered at the latest by the
	// pong to the client's next ping, so pingInterval must stay well below.
	herokuFirstByte = 30 * time.Second
	// pingSlack: go-socket.io v1.7.0 closes a session when no ping arrives
	// within pingTimeout of the previous one, and socket.io-client 2.x sends
	// the next ping pingInterval after it receives the pong. pingTimeout
	// must cover pingInterval plus the round trip and timer jitter.
	pingSlack = 5 * time.Second
)

// deployedStep returns the highest-numbered step folder (the deployed one).
func deployedStep(t *testing.T, root string) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "steps"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) > 3 && e.Name()[2] == '-' {
			if _, err := strconv.Atoi(e.Name()[:2]); err == nil {
				steps = append(steps, e.Name())
			}
		}
	}
	if len(steps) == 0 {
		t.Fatal("no steps/NN-name folders")
	}
	slices.Sort(steps)
	return steps[len(steps)-1]
}

// durationConsts returns the package-level duration constants of the Go
// files (tests excluded) in dir whose value has the form N * time.Unit.
func durationConsts(dir string) (map[string]time.Duration, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	units := map[string]time.Duration{
		"Nanosecond": time.Nanosecond, "Microsecond": time.Microsecond, "Millisecond": time.Millisecond,
		"Second": time.Second, "Minute": time.Minute, "Hour": time.Hour,
	}
	out := map[string]time.Duration{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					be, ok := vs.Values[i].(*ast.BinaryExpr)
					if !ok || be.Op != token.MUL {
						continue
					}
					lit, ok1 := be.X.(*ast.BasicLit)
					sel, ok2 := be.Y.(*ast.SelectorExpr)
					if !ok1 || !ok2 || lit.Kind != token.INT {
						continue
					}
					pkg, ok := sel.X.(*ast.Ident)
					unit, known := units[sel.Sel.Name]
					if !ok || pkg.Name != "time" || !known {
						continue
					}
					n, err := strconv.Atoi(lit.Value)
					if err != nil {
						return nil, fmt.Errorf("%s: %v", id.Name, err)
					}
					out[id.Name] = time.Duration(n) * unit
				}
			}
		}
	}
	return out, nil
}

// TestDeployedStepPingTimings checks the deployed step's Engine.IO timings
// against Heroku's router and go-socket.io's own liveness rule, as the
// docs explain them.
func TestDeployedStepPingTimings(t *testing.T) {
	root := repoRoot(t)
	step := deployedStep(t, root)
	consts, err := durationConsts(filepath.Join(root, "steps", step))
	if err != nil {
		t.Fatal(err)
	}
	interval, ok1 := consts["pingInterval"]
	timeout, ok2 := consts["pingTimeout"]
	if !ok1 || !ok2 {
		t.Skipf("steps/%s sets no pingInterval/pingTimeout constants (N * time.Unit); nothing to check", step)
	}
	t.Logf("steps/%s: pingInterval=%v pingTimeout=%v", step, interval, timeout)
	if interval > herokuFirstByte-pingSlack {
		t.Errorf("pingInterval %v: a waiting long-poll is answered only at the next pong, "+
			"so it must stay at or below %v (Heroku's %v first-byte rule minus %v)",
			interval, herokuFirstByte-pingSlack, herokuFirstByte, pingSlack)
	}
	if timeout < interval+pingSlack {
		t.Errorf("pingTimeout %v must be at least pingInterval + %v = %v: go-socket.io v1.7.0 closes a session "+
			"when no ping arrives within pingTimeout of the previous one, and the client pings pingInterval after "+
			"each pong, so with pingTimeout <= pingInterval idle clients are dropped every pingInterval",
			timeout, pingSlack, interval+pingSlack)
	}
}
