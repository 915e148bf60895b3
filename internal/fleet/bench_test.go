package fleet

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
)

var scaleInventory = flag.String("scale-inventory", "", "write the generated 1,000-cluster inventory to this file (for timing the CLI)")

// scaleReleases are the seven catalog releases the scale inventory spreads
// its clusters over.
var scaleReleases = []string{"4.16", "4.17", "4.18.25", "4.19.9", "4.20.15", "4.21.4", "4.22.0"}

// generateInventory is an n-cluster fleet: two groups (single-node edge on
// the master pool with the internal registry, core on worker with
// hugepages), clusters spread over seven releases, every tenth with a
// registry size override, labels on each.
func generateInventory(n int) []byte {
	var b strings.Builder
	b.WriteString(`apiVersion: mosc.dev/v1alpha1
kind: Fleet
metadata:
  name: scale
spec:
  defaults:
    stacks: [doca-3.3:ovs]
    secrets:
      mode: placeholder
  groups:
  - name: edge
    spec:
      pool: master
      registry:
        internal: true
        storageClass: lvms-vg1
  - name: core
    spec:
      pool: worker
      node:
        hugepages: {defaultSize: 1G, size: 1G, count: 16}
  clusters:
`)
	for i := 0; i < n; i++ {
		group := "edge"
		if i%5 == 0 {
			group = "core"
		}
		fmt.Fprintf(&b, "  - name: c%04d\n    openshift: %q\n    group: %s\n    labels: {region: r%d}\n", i, scaleReleases[i%len(scaleReleases)], group, i%4)
		if i%10 == 3 {
			b.WriteString("    overrides:\n      registry: {size: 50Gi}\n")
		}
	}
	return []byte(b.String())
}

// The scale inventory renders: 1,000 clusters onto a few dozen bases.
func TestScaleInventory(t *testing.T) {
	data := generateInventory(1000)
	if *scaleInventory != "" {
		if err := os.WriteFile(*scaleInventory, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := profile.DecodeFleet("scale.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	_, cat := loadTestFleet(t)
	r, err := Render(f, cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clusters) != 1000 {
		t.Errorf("%d clusters", len(r.Clusters))
	}
	t.Logf("%d clusters on %d bases", len(r.Clusters), len(r.Bases))
}

// BenchmarkRenderFleet1000 decodes, resolves, renders and writes the tree
// of a 1,000-cluster inventory on 7 releases (the target: ≤ 2 s,
// ≤ 200 MB RSS for the CLI; see docs/fleet.md for the measured process).
func BenchmarkRenderFleet1000(b *testing.B) {
	data := generateInventory(1000)
	cat, err := profile.LoadCatalog()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		f, err := profile.DecodeFleet("scale.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Render(f, cat)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Write(dir, r, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
