package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mosc-dev/mosc/internal/bundle"
	"sigs.k8s.io/yaml"
)

// kustomizeBin finds the real kustomize in PATH or $(go env GOPATH)/bin.
func kustomizeBin(t *testing.T) string {
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

// splitObjects parses a YAML stream into generic objects.
func splitObjects(t *testing.T, stream []byte) []map[string]any {
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

// `kustomize build DIR` of a written directory gives exactly the objects
// of the YAML stream, in the same order: no hashes, prefixes or namespaces.
func TestKustomizeBuildEqualsStream(t *testing.T) {
	bin := kustomizeBin(t)
	r := mustRender(t, fullPlan())
	dir := t.TempDir()
	if err := bundle.WriteDir(dir, r.Bundle, "test"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "build", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build: %v\n%s", err, stderr.String())
	}
	got := splitObjects(t, out)
	want := splitObjects(t, yamlOf(t, r.Bundle))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("kustomize build differs from the stream (-stream +kustomize):\n%s", d)
	}
	// kustomize must see every file, in bundle order.
	var kinds []string
	for _, o := range got {
		kinds = append(kinds, o["kind"].(string))
	}
	if d := cmp.Diff([]string{"PersistentVolumeClaim", "Config", "ConfigMap", "Secret", "Secret", "Secret", "MachineConfig", "MachineConfig", "MachineConfig", "MachineOSConfig"}, kinds); d != "" {
		t.Errorf("kinds (-want +got):\n%s", d)
	}
}
