package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// str returns the value of an actionlint string node, "" for nil.
func str(s *actionlint.String) string {
	if s == nil {
		return ""
	}
	return s.Value
}

// stepText describes a step for messages and searches: its run script or
// its uses line with inputs.
func stepText(s *actionlint.Step) string {
	switch e := s.Exec.(type) {
	case *actionlint.ExecRun:
		return str(e.Run)
	case *actionlint.ExecAction:
		var b strings.Builder
		b.WriteString("uses: " + str(e.Uses))
		for _, in := range e.Inputs {
			b.WriteString(" " + str(in.Name) + "=" + str(in.Value))
		}
		return b.String()
	}
	return ""
}

// stepLabel names a step in messages: its name, else its first line.
func stepLabel(s *actionlint.Step) string {
	if n := str(s.Name); n != "" {
		return n
	}
	first, _, _ := strings.Cut(stepText(s), "\n")
	return first
}

// actionInput returns the with: input of a step that uses action (for
// example "actions/setup-go"), and whether such a step exists.
func actionInput(steps []*actionlint.Step, action, input string) (string, bool) {
	for _, s := range steps {
		e, ok := s.Exec.(*actionlint.ExecAction)
		if !ok || !strings.HasPrefix(str(e.Uses), action+"@") {
			continue
		}
		if in, ok := e.Inputs[input]; ok {
			return str(in.Value), true
		}
		return "", true
	}
	return "", false
}

// TestWorkflowTestsEverythingAndDeploysSafely reads the CI workflow and
// checks the rules the deploy story depends on, beyond what actionlint
// can know: which events run it, where the Go version comes from, that
// the deploy job runs only after the tests on main, tolerates missing
// secrets, pushes full history, and checks the live app with this
// package.
func TestWorkflowTestsEverythingAndDeploysSafely(t *testing.T) {
	root := repoRoot(t)
	src := readFile(t, root, ".github/workflows/ci.yml")
	wf, errs := actionlint.Parse(src)
	for _, err := range errs {
		t.Errorf("parse: %v", err)
	}
	if wf == nil {
		t.FailNow()
	}

	events := map[string]bool{}
	for _, e := range wf.On {
		if h, ok := e.(*actionlint.WebhookEvent); ok {
			events[str(h.Hook)] = true
		}
	}
	if !events["push"] || !events["pull_request"] {
		t.Errorf("workflow runs on %v, want push and pull_request", events)
	}

	pinned := regexp.MustCompile(`^[\w.-]+/[\w.-]+@v\d+$`)
	var testJob, deployJob *actionlint.Job
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			if e, ok := s.Exec.(*actionlint.ExecAction); ok && !pinned.MatchString(str(e.Uses)) {
				t.Errorf("job %s: %q is not pinned to a major version tag", str(job.ID), str(e.Uses))
			}
			text := stepText(s)
			if strings.Contains(text, "bash .ci/run") {
				testJob = job
			}
			if strings.Contains(text, "git.heroku.com") {
				deployJob = job
			}
		}
	}
	if testJob == nil || deployJob == nil {
		t.Fatalf("want a job that runs bash .ci/run and a job that pushes to git.heroku.com")
	}

	// Node.js 24 is the maintained LTS line the terminal client and the
	// interop tests are run on in GitHub Actions (Node.js 20 reached its
	// end of life in April 2026).
	t.Run("the test job gets Go from go.mod and Node 24", func(t *testing.T) {
		if v, _ := actionInput(testJob.Steps, "actions/setup-go", "go-version-file"); v != "go.mod" {
			t.Errorf("setup-go go-version-file = %q, want go.mod", v)
		}
		if v, _ := actionInput(testJob.Steps, "actions/setup-node", "node-version"); v != "24" {
			t.Errorf("setup-node node-version = %q, want 24", v)
		}
		if _, err := os.Stat(filepath.Join(root, ".ci", "run")); err != nil {
			t.Errorf("the test job runs .ci/run: %v", err)
		}
	})

	t.Run("the deploy job runs after the tests, on pushes to main only", func(t *testing.T) {
		needsTest := false
		for _, n := range deployJob.Needs {
			needsTest = needsTest || str(n) == str(testJob.ID)
		}
		if !needsTest {
			t.Errorf("deploy job needs %v, want %s", deployJob.Needs, str(testJob.ID))
		}
		cond := str(deployJob.If)
		if !strings.Contains(cond, "github.event_name == 'push'") || !strings.Contains(cond, "github.ref == 'refs/heads/main'") {
			t.Errorf("deploy job if = %q, want push to refs/heads/main", cond)
		}
	})

	t.Run("without secrets the deploy job leaves a notice and does nothing else", func(t *testing.T) {
		notices := 0
		for _, s := range deployJob.Steps {
			cond := str(s.If)
			if strings.Contains(cond, "secrets.") {
				t.Errorf("step %q tests secrets in its if; test the env copies", stepLabel(s))
			}
			if strings.Contains(stepText(s), "::notice") {
				notices++
				if !strings.Contains(cond, "env.HEROKU_API_KEY == ''") || !strings.Contains(cond, "env.HEROKU_APP_NAME == ''") {
					t.Errorf("the notice step runs if %q, want when either secret is empty", cond)
				}
				continue
			}
			if !strings.Contains(cond, "env.HEROKU_API_KEY != ''") || !strings.Contains(cond, "env.HEROKU_APP_NAME != ''") {
				t.Errorf("step %q runs if %q, want only when both secrets are set", stepLabel(s), cond)
			}
		}
		if notices != 1 {
			t.Errorf("%d notice steps, want 1", notices)
		}
		for _, name := range []string{"HEROKU_API_KEY", "HEROKU_APP_NAME"} {
			v, ok := deployJob.Env.Vars[strings.ToLower(name)]
			if !ok || str(v.Value) != "${{ secrets."+name+" }}" {
				t.Errorf("deploy job env %s is not ${{ secrets.%s }}", name, name)
			}
		}
	})

	t.Run("the deploy guide names every secret the deploy job reads", func(t *testing.T) {
		guide := string(readFile(t, root, "docs/05-github-heroku.md"))
		secretRef := regexp.MustCompile(`secrets\.([A-Z0-9_]+)`)
		for _, m := range secretRef.FindAllStringSubmatch(string(src), -1) {
			if !strings.Contains(guide, "`"+m[1]+"`") {
				t.Errorf("docs/05-github-heroku.md does not explain the secret %s", m[1])
			}
		}
	})

	t.Run("the deploy job pushes full history and checks the live app with this package", func(t *testing.T) {
		if v, ok := actionInput(deployJob.Steps, "actions/checkout", "fetch-depth"); !ok || v != "0" {
			t.Errorf("checkout fetch-depth = %q, want 0 (Heroku refuses shallow pushes)", v)
		}
		var all strings.Builder
		for _, s := range deployJob.Steps {
			all.WriteString(stepText(s) + "\n")
		}
		text := all.String()
		if !strings.Contains(text, "HEAD:refs/heads/main") {
			t.Error("the push does not name refs/heads/main (a first push from a detached HEAD needs the full ref)")
		}
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(root, wd)
		if err != nil {
			t.Fatal(err)
		}
		if want := "go run ./" + filepath.ToSlash(rel); !strings.Contains(text, want) {
			t.Errorf("the deploy job does not run %q", want)
		}
		if _, ok := actionInput(deployJob.Steps, "actions/setup-go", "go-version-file"); !ok {
			t.Error("the deploy job runs Go without actions/setup-go")
		}
	})
}
