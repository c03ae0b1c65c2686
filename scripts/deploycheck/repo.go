package main

// This file reads the repository's deploy facts (the go.mod directives, the
// Procfile, the README's run command, app.json and the final step's table
// of environment variables) so that the tests can check that they agree.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
)

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

// assignment matches a word of the shell's "NAME=value" form.
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// webCommand splits a Procfile command into the variables it sets for the
// program ("NAME=value" words before it, as the shell reads them) and the
// program's name. The web command must be just that: a program without
// arguments, after any number of assignments.
func webCommand(cmd string) (assign []string, program string, err error) {
	words := strings.Fields(cmd)
	for len(words) > 0 && assignment.MatchString(words[0]) {
		assign, words = append(assign, words[0]), words[1:]
	}
	if len(words) != 1 {
		return nil, "", fmt.Errorf("web command %q: want a single program name (the step folder's name), after any NAME=value settings", cmd)
	}
	return assign, words[0], nil
}

// expandAssignments gives the values of assign ("NAME=value" words of a
// Procfile command) as the shell would, with the variables of env
// ("NAME=value") in place of $NAME and ${NAME}; unset ones are empty.
func expandAssignments(assign, env []string) []string {
	vars := make(map[string]string)
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var out []string
	for _, a := range assign {
		out = append(out, os.Expand(a, func(k string) string { return vars[k] }))
	}
	return out
}

// envRow matches a row of a step README's table of environment variables,
// "| `NAME` | default | meaning |". The step's own test reads the table
// with the same pattern: the table is the step's env contract.
var envRow = regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]*)` \\|")

// envTable returns the variable names of a step README's env table.
func envTable(readme []byte) []string {
	var out []string
	for _, m := range envRow.FindAllSubmatch(readme, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// addonVars are the config vars that Heroku add-ons set themselves, by
// add-on service. app.json does not list them in env, whether or not it
// adds the add-on: the add-on gives them their value when it is added.
var addonVars = map[string]string{
	"heroku-postgresql": "DATABASE_URL",
	"heroku-redis":      "REDIS_URL",
}

// addonSetVars returns the config vars that some add-on sets, in order.
func addonSetVars() []string {
	return slices.Sorted(maps.Values(addonVars))
}

// appAddon is one entry of app.json's addons: "service:plan" or
// {"plan": "service:plan"}.
type appAddon struct {
	Service, Plan string
}

// addons returns app.json's add-ons.
func (m *appManifest) addons() ([]appAddon, error) {
	var out []appAddon
	for _, raw := range m.Addons {
		var plan string
		if err := json.Unmarshal(raw, &plan); err != nil {
			var obj struct {
				Plan string `json:"plan"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil || obj.Plan == "" {
				return nil, fmt.Errorf("app.json addons: %s is neither \"service:plan\" nor {\"plan\": …}", raw)
			}
			plan = obj.Plan
		}
		service, p, _ := strings.Cut(plan, ":")
		out = append(out, appAddon{Service: service, Plan: p})
	}
	return out, nil
}

// providedVars returns the config vars that app.json's add-ons set.
func (m *appManifest) providedVars() ([]string, error) {
	addons, err := m.addons()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addons {
		v, ok := addonVars[a.Service]
		if !ok {
			return nil, fmt.Errorf("app.json add-on %s: unknown service (known: heroku-postgresql, heroku-redis)", a.Service)
		}
		out = append(out, v)
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
// Default values are not parsed here: the offline deploy test starts the
// real program with them.
func validateApp(m *appManifest) []error {
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
		for _, service := range sortedKeys(addonVars) {
			if addonVars[service] == name {
				add("env %s: the %s add-on sets it, so app.json does not list it", name, service)
			}
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
