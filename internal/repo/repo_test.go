package repo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRootHoldsGoMod(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
}

func TestStepsAreInNumberOrder(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"10-later", "02-second", "01-first", "notes", "3-too-short"} {
		if err := os.MkdirAll(filepath.Join(dir, "steps", name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	steps, err := Steps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"01-first", "02-second", "10-later"}; !slices.Equal(steps, want) {
		t.Fatalf("Steps = %q, want %q", steps, want)
	}
	if final, _ := FinalStep(dir); final != "10-later" {
		t.Fatalf("FinalStep = %q", final)
	}
	if err := os.Mkdir(filepath.Join(dir, "steps", "02-twin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Steps(dir); err == nil || !strings.Contains(err.Error(), "share number 2") {
		t.Fatalf("two folders numbered 02: %v", err)
	}
}
