package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sohbet/internal/repo"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("charts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `charts: draw the charts and write the tables of a benchmark's results.

  charts [-in results.jsonl] [-out dir]   render (default: docs/bench/)
  charts -check dir                       fail unless dir's charts and table are
                                          what dir/results.jsonl gives

Flags:
`)
		fs.PrintDefaults()
	}
	in := fs.String("in", "", "results `file`, JSON lines (default docs/bench/results.jsonl in the repository)")
	out := fs.String("out", "", "output `folder` (default: the folder of -in)")
	check := fs.String("check", "", "check that the charts and table in `folder` are up to date, write nothing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "charts: unexpected arguments: %q\n", fs.Args())
		return 2
	}
	if *check != "" {
		if err := checkUpToDate(*check); err != nil {
			fmt.Fprintln(stderr, "charts:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s is up to date\n", *check)
		return 0
	}
	if *in == "" {
		root, err := repo.Root()
		if err != nil {
			fmt.Fprintln(stderr, "charts:", err)
			return 1
		}
		*in = filepath.Join(root, "docs", "bench", "results.jsonl")
	}
	if *out == "" {
		*out = filepath.Dir(*in)
	}
	written, err := generate(*in, *out)
	if err != nil {
		fmt.Fprintln(stderr, "charts:", err)
		return 1
	}
	for _, name := range written {
		fmt.Fprintln(stdout, filepath.Join(*out, name))
	}
	return 0
}

// render turns the results in file into the output files, in the order
// of outputNames.
func render(file string) ([]chartFile, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	results, err := readResults(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d := groupResults(results)
	bcs, names := charts(d)
	var files []chartFile
	var alts []string
	for i, bc := range bcs {
		img, err := bc.png()
		if err != nil {
			return nil, err
		}
		files = append(files, chartFile{names[i], img})
		alts = append(alts, strings.ReplaceAll(bc.title, "\n", " "))
	}
	files = append(files, chartFile{tableFile, table(d, names, alts)})
	return files, nil
}

// generate renders the results in file into dir and removes outputs that
// the results no longer give (a loss chart after a run without loss). It
// returns the names it wrote.
func generate(file, dir string) ([]string, error) {
	files, err := render(file)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.name] = true
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return nil, err
		}
		written = append(written, f.name)
	}
	for _, name := range outputNames {
		if !keep[name] {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
	}
	return written, nil
}

// checkUpToDate reports an error when the charts and the table in dir
// are not what dir/results.jsonl gives: one is missing, differs in a
// byte, or is left over from results that had it (a loss chart). It
// renders the results again, in memory, and compares bytes.
func checkUpToDate(dir string) error {
	files, err := render(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		return err
	}
	var problems []string
	want := map[string]bool{}
	for _, f := range files {
		want[f.name] = true
		got, err := os.ReadFile(filepath.Join(dir, f.name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, f.name+" is missing")
		case err != nil:
			return err
		case !bytes.Equal(got, f.data):
			problems = append(problems, f.name+" differs from what results.jsonl gives")
		}
	}
	for _, name := range outputNames {
		if _, err := os.Stat(filepath.Join(dir, name)); !want[name] && err == nil {
			problems = append(problems, name+" is left over: results.jsonl gives no such file")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is not up to date with its results.jsonl: %s; regenerate with: go run ./scripts/charts -in %s",
			dir, strings.Join(problems, "; "), filepath.Join(dir, "results.jsonl"))
	}
	return nil
}
