package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

// render --all writes one directory per supported combination, each the
// same files a single render of that combination writes.
func TestRenderAll(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runCLI(t, "render", "--all", "--pool", "infra", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	combos := render.Combinations(cat)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(combos) || len(combos) < 100 {
		t.Fatalf("%d directories for %d combinations", len(entries), len(combos))
	}
	if !strings.Contains(stderr, "wrote 132 combinations") && !strings.Contains(stderr, "combinations (") {
		t.Errorf("no summary line: %s", stderr)
	}
	// Spot-check against single renders: first, a split release's v1 span, last.
	var picks []render.Combination
	picks = append(picks, combos[0], combos[len(combos)-1])
	for _, c := range combos {
		if strings.Count(c.Release, ".") == 2 {
			picks = append(picks, c)
			break
		}
	}
	for _, c := range picks {
		one := t.TempDir()
		if _, stderr, code := runCLI(t, "render", "--openshift", c.Release, "--platform", c.Platform, "--stack", c.Stack+":"+c.Variant, "--pool", "infra", "-o", one); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.Name(), code, stderr)
		}
		files, _ := os.ReadDir(one)
		got, _ := os.ReadDir(filepath.Join(dir, c.Name()))
		if len(files) != len(got) || len(files) < 3 {
			t.Fatalf("%s: %d files, single render %d", c.Name(), len(got), len(files))
		}
		for _, f := range files {
			want, _ := os.ReadFile(filepath.Join(one, f.Name()))
			have, err := os.ReadFile(filepath.Join(dir, c.Name(), f.Name()))
			if err != nil || string(have) != string(want) {
				t.Errorf("%s/%s differs from a single render (%v)", c.Name(), f.Name(), err)
			}
		}
	}
}

func TestRenderAllErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"render", "--all"}, "--all needs -o DIR"},
		{[]string{"render", "--all", "--openshift", "4.20", "-o", dir}, "--openshift: --all renders every combination"},
		{[]string{"render", "--all", "--stack", "doca-3.3", "-o", dir}, "--stack: --all renders every combination"},
		{[]string{"render", "--all", "-f", "-", "-o", dir}, "-f -: --all reads the site file once per combination"},
		// A setting no combination accepts: every one fails, nothing is written.
		{[]string{"render", "--all", "--internal-registry", "--registry-size", "lots", "-o", dir}, "combinations failed (nothing written)"},
	} {
		_, stderr, code := runCLI(t, tt.args...)
		if code != exitError || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %.500q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed --all wrote %d entries", len(entries))
	}
}
