package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsListEveryCheck: docs/gate.md's check table has a row for every
// gate check id the code defines (internal/gate, layer-build, fleet's
// cluster-access) — a check added without its row, or a row without the
// upstream behaviour it relies on, fails here. --after's checks have their
// own table (same columns).
func TestDocsListEveryCheck(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "gate.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		// The first row naming an id is its check row (the details
		// table further down repeats ids).
		if m := regexp.MustCompile("^\\| `([a-z-]+)` \\|").FindStringSubmatch(l); m != nil && rows[m[1]] == nil {
			rows[m[1]] = strings.Split(strings.Trim(l, "| "), " | ")
		}
	}
	idConst := regexp.MustCompile(`(?m)^\s*(?:const\s+)?ID[A-Za-z]*\s*=\s*"([a-z-]+)"`)
	var ids []string
	for _, glob := range []string{"internal/gate/*.go", "internal/build/report.go", "internal/fleet/gate.go"} {
		files, err := filepath.Glob(filepath.Join(root, glob))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v", glob, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range idConst.FindAllStringSubmatch(string(b), -1) {
				ids = append(ids, m[1])
			}
		}
	}
	if len(ids) < 20 {
		t.Fatalf("found only %d check ids: %v", len(ids), ids)
	}
	for _, id := range ids {
		cols, ok := rows[id]
		switch {
		case !ok:
			t.Errorf("docs/gate.md has no table row for check %q", id)
		case len(cols) < 3 || strings.TrimSpace(cols[2]) == "" || strings.TrimSpace(cols[1]) == "":
			t.Errorf("docs/gate.md's row for %q needs: id | what is checked | upstream behaviour it relies on [| needs]; got %d columns", id, len(cols))
		}
	}
}
