package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/kustomizetest"
)

// `kustomize build DIR` of a written directory gives exactly the objects
// of the YAML stream, in the same order: no hashes, prefixes or namespaces.
func TestKustomizeBuildEqualsStream(t *testing.T) {
	bin := kustomizetest.Bin(t)
	r := mustRender(t, fullPlan())
	dir := t.TempDir()
	if err := bundle.WriteDir(dir, r.Bundle, "test"); err != nil {
		t.Fatal(err)
	}
	got := kustomizetest.SplitObjects(t, kustomizetest.Build(t, bin, dir))
	want := kustomizetest.SplitObjects(t, yamlOf(t, r.Bundle))
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
