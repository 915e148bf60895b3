package main

import (
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkRenderAll is `mosc render --all -o DIR` in process: resolve,
// render and validate every supported combination, then write them (the
// second and later iterations find the files in place, as a re-render in CI
// does). Issue 15's P2 goal is ≤ 100 ms wall for the whole process.
func BenchmarkRenderAll(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "all")
	b.ReportAllocs()
	for b.Loop() {
		if code := run([]string{"mosc", "render", "--all", "-o", dir}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
