// Package repo finds the course's repository on disk: its root (the folder
// with go.mod) and its step folders. Tests and tools use it; it links
// nothing but the standard library.
package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
)

// Root walks up from the working directory to the folder that holds
// go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
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

// Steps returns the step folders under root/steps ("01-serving-html", ...)
// in number order. Two folders with the same number are an error.
func Steps(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "steps"))
	if err != nil {
		return nil, err
	}
	byNumber := map[int]string{}
	var numbers []int
	for _, e := range entries {
		m := stepName.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if other, dup := byNumber[n]; dup {
			return nil, fmt.Errorf("two step folders share number %d: %s and %s", n, other, e.Name())
		}
		byNumber[n] = e.Name()
		numbers = append(numbers, n)
	}
	if len(numbers) == 0 {
		return nil, errors.New("no step folders in steps/")
	}
	slices.Sort(numbers)
	steps := make([]string, len(numbers))
	for i, n := range numbers {
		steps[i] = byNumber[n]
	}
	return steps, nil
}

// FinalStep returns the highest-numbered step folder: the one deployed.
func FinalStep(root string) (string, error) {
	steps, err := Steps(root)
	if err != nil {
		return "", err
	}
	return steps[len(steps)-1], nil
}
