package main

// This file reads the repository's deploy facts (the final step, the go.mod
// directives, the Procfile, the README's run command, app.json and the
// environment variables the final step reads) so that the tests can check
// that they agree.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// findRoot walks up from dir to the folder that holds go.mod.
func findRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// stepName matches a step folder: two or more digits, a dash, a slug.
var stepName = regexp.MustCompile(`^(\d{2,})-[a-z0-9][a-z0-9-]*$`)

// finalStep returns the name of the highest-numbered folder in steps/, the
// one that is deployed.
func finalStep(root string) (string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "steps"))
	if err != nil {
		return "", err
	}
	best, bestN := "", -1
	for _, e := range entries {
		m := stepName.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return "", err
		}
		if n == bestN {
			return "", fmt.Errorf("two step folders share number %d: %s and %s", n, best, e.Name())
		}
		if n > bestN {
			best, bestN = e.Name(), n
		}
	}
	if best == "" {
		return "", errors.New("no step folders in steps/")
	}
	return best, nil
}

// herokuDirectives returns the Go buildpack's "// +heroku key values..."
// comment lines from go.mod, by key.
func herokuDirectives(gomod []byte) map[string][]string {
	out := make(map[string][]string)
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "//")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[0] != "+heroku" {
			continue
		}
		out[fields[1]] = append(out[fields[1]], fields[2:]...)
	}
	return out
}

// procfileLine matches one "name: command" line of a Procfile.
var procfileLine = regexp.MustCompile(`^([a-zA-Z0-9_-]+):\s*(.+)$`)

// parseProcfile returns the Procfile's commands by process type.
func parseProcfile(data []byte) (map[string]string, error) {
	out := make(map[string]string)
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := procfileLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("Procfile line %d is not \"type: command\": %q", i+1, line)
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("Procfile declares %q twice", m[1])
		}
		out[m[1]] = strings.TrimSpace(m[2])
	}
	return out, nil
}

// runCommand matches "go run ./steps/<name>" in Markdown.
var runCommand = regexp.MustCompile(`go run \./steps/([A-Za-z0-9_-]+)`)

// readmeRunTargets returns the step folders that README's "go run
// ./steps/..." commands name, in order of appearance, without repeats.
func readmeRunTargets(readme []byte) []string {
	var out []string
	for _, m := range runCommand.FindAllSubmatch(readme, -1) {
		if s := string(m[1]); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// envVarsRead returns the environment variables that the Go files in dir
// (tests excluded) read by name. A read is a call of os.Getenv or
// os.LookupEnv, or of anything that stands for them:
//
//   - a parameter that some call fills with os.Getenv itself, as in
//     loadConfig(os.Getenv) with func loadConfig(getenv func(string) string);
//   - a helper, top-level or a closure in a function, that passes one of
//     its own parameters on to a read, as in envInt(name string, def int).
//
// Names must be string constants; a read whose name cannot be resolved is
// an error, so that a variable never slips past the comparison unseen.
func envVarsRead(dir string) ([]string, error) {
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, name := range matches {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	consts := stringConsts(files)

	var funcs []*ast.FuncDecl
	for _, f := range files {
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Body != nil {
				funcs = append(funcs, fn)
			}
		}
	}

	// bound holds, per function name, the parameters that a call fills
	// with os.Getenv or os.LookupEnv.
	bound := make(map[string][]string)
	byName := make(map[string]*ast.FuncDecl)
	for _, fn := range funcs {
		if fn.Recv == nil {
			byName[fn.Name.Name] = fn
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn, ok := byName[calleeName(call)]
			if !ok {
				return true
			}
			params := paramNames(fn.Type)
			for i, arg := range call.Args {
				if name := exprName(arg); (name == "os.Getenv" || name == "os.LookupEnv") && i < len(params) {
					bound[fn.Name.Name] = append(bound[fn.Name.Name], params[i])
				}
			}
			return true
		})
	}

	// global maps a reader's name to the position of its name argument.
	global := map[string]int{"os.Getenv": 0, "os.LookupEnv": 0}
	// scopeOf returns the readers visible in fn: the global ones, fn's
	// bound parameters, and fn's closures that are helpers.
	scopeOf := func(fn *ast.FuncDecl) map[string]int {
		scope := make(map[string]int, len(global))
		for k, v := range global {
			scope[k] = v
		}
		for _, p := range bound[fn.Name.Name] {
			scope[p] = 0
		}
		for changed := true; changed; {
			changed = false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				as, ok := n.(*ast.AssignStmt)
				if !ok || len(as.Lhs) != len(as.Rhs) {
					return true
				}
				for i, rhs := range as.Rhs {
					lit, ok := rhs.(*ast.FuncLit)
					id, isIdent := as.Lhs[i].(*ast.Ident)
					if !ok || !isIdent {
						continue
					}
					if _, known := scope[id.Name]; known {
						continue
					}
					if idx, ok := forwards(lit.Type, lit.Body, scope); ok {
						scope[id.Name] = idx
						changed = true
					}
				}
				return true
			})
		}
		return scope
	}
	for changed := true; changed; {
		changed = false
		for _, fn := range funcs {
			if _, known := global[fn.Name.Name]; known || fn.Recv != nil {
				continue
			}
			if idx, ok := forwards(fn.Type, fn.Body, scopeOf(fn)); ok {
				global[fn.Name.Name] = idx
				changed = true
			}
		}
	}

	seen := make(map[string]bool)
	var problems []string
	for _, fn := range funcs {
		scope := scopeOf(fn)
		// stack holds the enclosing nodes, to find the parameters in scope.
		stack := []ast.Node{fn}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			idx, ok := scope[calleeName(call)]
			if !ok || idx >= len(call.Args) {
				return true
			}
			arg := call.Args[idx]
			if name, ok := constString(arg, consts); ok {
				seen[name] = true
				return true
			}
			// A helper passing its own parameter on is not a read of a
			// particular variable; its callers are.
			if id, ok := arg.(*ast.Ident); ok && isParamInScope(stack, id.Name) {
				return true
			}
			problems = append(problems, fmt.Sprintf("%s: %s reads a variable whose name is not a constant",
				fset.Position(call.Pos()), calleeName(call)))
			return true
		})
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// forwards reports whether a function passes one of its own parameters
// as the name argument of a reader in scope, and which parameter.
func forwards(typ *ast.FuncType, body *ast.BlockStmt, scope map[string]int) (int, bool) {
	params := paramNames(typ)
	found, at := false, 0
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		idx, ok := scope[calleeName(call)]
		if !ok || idx >= len(call.Args) {
			return true
		}
		if id, ok := call.Args[idx].(*ast.Ident); ok {
			if p := slices.Index(params, id.Name); p >= 0 {
				found, at = true, p
				return false
			}
		}
		return true
	})
	return at, found
}

// isParamInScope reports whether name is a parameter of a function (a
// declaration or a literal) on the stack of enclosing nodes.
func isParamInScope(stack []ast.Node, name string) bool {
	for _, n := range stack {
		var typ *ast.FuncType
		switch f := n.(type) {
		case *ast.FuncDecl:
			typ = f.Type
		case *ast.FuncLit:
			typ = f.Type
		default:
			continue
		}
		if slices.Contains(paramNames(typ), name) {
			return true
		}
	}
	return false
}

// exprName names an expression that is an identifier or pkg.Name.
func exprName(e ast.Expr) string {
	switch v := e.(type) {
	case *ast.Ident:
		return v.Name
	case *ast.SelectorExpr:
		if x, ok := v.X.(*ast.Ident); ok {
			return x.Name + "." + v.Sel.Name
		}
	}
	return ""
}

// calleeName names a call's function as "pkg.Func" or "Func".
func calleeName(call *ast.CallExpr) string { return exprName(call.Fun) }

// paramNames lists a function's parameter names in order ("_" for unnamed).
func paramNames(typ *ast.FuncType) []string {
	var out []string
	for _, field := range typ.Params.List {
		if len(field.Names) == 0 {
			out = append(out, "_")
		}
		for _, n := range field.Names {
			out = append(out, n.Name)
		}
	}
	return out
}

// stringConsts collects every constant declared with a string literal
// value, at any level, by name.
func stringConsts(files []*ast.File) map[string]string {
	out := make(map[string]string)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			gd, ok := n.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				return true
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil {
							out[name.Name] = s
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// constString resolves e to a string if it is a literal or a known constant.
func constString(e ast.Expr, consts map[string]string) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(v.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[v.Name]
		return s, ok
	case *ast.ParenExpr:
		return constString(v.X, consts)
	}
	return "", false
}

// appManifest is the part of app.json that the checks look at. Decoding
// is strict (unknown keys fail), see parseAppJSON.
type appManifest struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Keywords    []string              `json:"keywords"`
	Website     string                `json:"website"`
	Repository  string                `json:"repository"`
	Logo        string                `json:"logo"`
	SuccessURL  string                `json:"success_url"`
	Stack       string                `json:"stack"`
	Buildpacks  []appBuildpack        `json:"buildpacks"`
	Formation   map[string]appProcess `json:"formation"`
	Env         map[string]appEnvVar  `json:"env"`
	Addons      []json.RawMessage     `json:"addons"`
	Scripts     map[string]string     `json:"scripts"`
	// Environments and image are valid app.json keys that this project
	// does not use; they are accepted so that the key check stays exact.
	Environments json.RawMessage `json:"environments"`
	Image        string          `json:"image"`
}

// appBuildpack is one entry of app.json's buildpacks.
type appBuildpack struct {
	URL string `json:"url"`
}

// appProcess is one entry of app.json's formation.
type appProcess struct {
	Quantity *int   `json:"quantity"`
	Size     string `json:"size"`
}

// appEnvVar is one entry of app.json's env, in its object form.
type appEnvVar struct {
	Description string  `json:"description"`
	Value       *string `json:"value"`
	Required    *bool   `json:"required"`
	Generator   string  `json:"generator"`
}

// parseAppJSON decodes app.json strictly: unknown keys, wrong types and
// trailing data are errors, as they are for Heroku's schema.
func parseAppJSON(data []byte) (*appManifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m appManifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("app.json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("app.json: data after the top-level object")
	}
	return &m, nil
}

// dynoSizes are the formation sizes Heroku accepts for Common Runtime and
// Private Spaces apps. "free" and "hobby" are gone since 2022-11-28.
var dynoSizes = []string{
	"eco", "basic", "standard-1x", "standard-2x",
	"performance-m", "performance-l", "performance-l-ram", "performance-xl", "performance-2xl",
	"private-s", "private-m", "private-l", "private-l-ram", "private-xl", "private-2xl",
	"shield-s", "shield-m", "shield-l", "shield-l-ram", "shield-xl", "shield-2xl",
}

// envVarName is the form Heroku accepts for config var names.
var envVarName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// validateApp checks the manifest against the rules that matter for a
// Deploy-button install of this project and returns every problem found.
// valueCheck parses an env var's default value; it returns an error for a
// variable it does not know.
func validateApp(m *appManifest, valueCheck func(name, value string) error) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if m.Name == "" || len(m.Name) > 30 {
		add("name must be 1 to 30 characters, got %q", m.Name)
	}
	if m.Description == "" {
		add("description is empty")
	}
	if len(m.Keywords) == 0 {
		add("keywords is empty")
	}
	if m.SuccessURL != "/" {
		add("success_url = %q, want \"/\" (the chat page)", m.SuccessURL)
	}
	if m.Stack != "heroku-24" {
		add("stack = %q, want \"heroku-24\"", m.Stack)
	}
	if len(m.Buildpacks) != 1 || m.Buildpacks[0].URL != "heroku/go" {
		add("buildpacks = %+v, want exactly [{url: heroku/go}]", m.Buildpacks)
	}
	if m.Repository != "" && !strings.HasPrefix(m.Repository, "https://") {
		add("repository = %q is not an https URL", m.Repository)
	}
	if len(m.Formation) != 1 {
		add("formation has %d process types, want only web", len(m.Formation))
	}
	web, ok := m.Formation["web"]
	switch {
	case !ok:
		add("formation has no web process")
	case web.Quantity == nil || *web.Quantity != 1:
		add("formation.web.quantity must be 1 (one dyno; more would need session affinity and a shared broker)")
	}
	for name, p := range m.Formation {
		if !slices.Contains(dynoSizes, p.Size) {
			add("formation.%s.size = %q is not a Heroku dyno size", name, p.Size)
		}
	}
	if ok && web.Size != "basic" {
		add("formation.web.size = %q, want \"basic\"", web.Size)
	}
	for _, name := range sortedKeys(m.Env) {
		v := m.Env[name]
		if !envVarName.MatchString(name) {
			add("env %s: not a valid config var name", name)
		}
		if name == "PORT" {
			add("env PORT: Heroku sets PORT itself; it must not be in app.json")
		}
		if name == "BUILDPACK_URL" {
			add("env BUILDPACK_URL: stale; use the buildpacks key")
		}
		if v.Description == "" {
			add("env %s: description is empty", name)
		}
		if v.Required == nil || *v.Required {
			add("env %s: required must be false (every variable has a default in the code)", name)
		}
		if v.Generator != "" {
			add("env %s: generator %q is not used by this app", name, v.Generator)
		}
		if v.Value != nil {
			if err := valueCheck(name, *v.Value); err != nil {
				add("env %s: default %q: %v", name, *v.Value, err)
			}
		}
	}
	return errs
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkEnvValue parses a default value the way the final step reads the
// variable. A variable without a rule here is an error: add one when the
// step learns a new variable.
func checkEnvValue(name, value string) error {
	switch name {
	case "ALLOWED_ORIGINS":
		return checkOrigins(value)
	case "MAX_CONNECTIONS", "MAX_MESSAGE_BYTES", "MESSAGE_BURST", "SEND_QUEUE":
		n, err := strconv.Atoi(value)
		if err != nil {
			return err
		}
		if n <= 0 {
			return fmt.Errorf("must be a positive integer, got %d", n)
		}
		return nil
	case "MESSAGE_RATE":
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return err
		}
		if !(f > 0) || f > 1e6 {
			return fmt.Errorf("must be a positive number of messages per second, got %v", f)
		}
		return nil
	case "GOGC":
		if value == "off" {
			return nil
		}
		n, err := strconv.Atoi(value)
		if err != nil {
			return err
		}
		if n <= 0 {
			return fmt.Errorf("must be a positive percentage or off, got %d", n)
		}
		return nil
	case "GOMEMLIMIT":
		if value == "off" {
			return nil
		}
		m := memLimit.FindStringSubmatch(value)
		if m == nil {
			return fmt.Errorf("%q is not a size like 400MiB", value)
		}
		if n, err := strconv.ParseUint(m[1], 10, 64); err != nil || n == 0 {
			return fmt.Errorf("%q is not a positive size", value)
		}
		return nil
	}
	return fmt.Errorf("no rule to check a default for %s (add one in checkEnvValue)", name)
}

// memLimit is the form of GOMEMLIMIT: a number of bytes with an optional
// unit, as the runtime package documents it.
var memLimit = regexp.MustCompile(`^(\d+)(B|KiB|MiB|GiB|TiB)?$`)

// checkOrigins accepts a comma-separated list of origins such as
// "https://example.com,http://localhost:3000"; empty means none.
func checkOrigins(list string) error {
	if strings.TrimSpace(list) == "" {
		return nil
	}
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		u, err := url.Parse(o)
		if err != nil {
			return err
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("%q is not an origin like https://example.com", o)
		}
	}
	return nil
}
