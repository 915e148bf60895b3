// Package kustomizetest runs the real kustomize for tests that hold mosc's
// output against it (render -o and render --fleet promise that `kustomize
// build` gives exactly their objects). Only tests import it.
package kustomizetest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Bin finds the real kustomize in PATH or $(go env GOPATH)/bin, and skips
// the test when there is none (hack/install-deps.sh installs it for CI).
func Bin(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("kustomize"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "kustomize")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("kustomize not found in PATH or $(go env GOPATH)/bin; install it with `make deps` (go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2)")
	return ""
}

// Build runs `kustomize build dir` and returns its output; a failure fails
// the test with kustomize's stderr.
func Build(t testing.TB, bin, dir string) []byte {
	t.Helper()
	cmd := exec.Command(bin, "build", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.String())
	}
	return out
}

// SplitObjects parses a YAML stream into generic objects.
func SplitObjects(t testing.TB, stream []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range strings.Split(string(stream), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	return out
}
