package fleet

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/kustomizetest"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testDelivery = DeliveryOptions{RepoURL: "https://git.example.com/ran.git", Revision: "main", RepoPath: "fleet",
	ArgoNamespace: "openshift-gitops", ArgoProject: "default", PolicyNamespace: "mosc-policies", ClusterSet: "global"}

func loadTestFleet(t testing.TB) (*profile.Fleet, *profile.Catalog) {
	t.Helper()
	f, err := profile.LoadFleet("testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return f, cat
}

func mustRender(t testing.TB) *Result {
	t.Helper()
	f, cat := loadTestFleet(t)
	r, err := Render(f, cat)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func stream(t testing.TB, b *bundle.Bundle) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.WriteYAML(&buf, b, "test"); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Equal bundles share a base; the clusters point at theirs.
func TestRenderSharesBases(t *testing.T) {
	r := mustRender(t)
	got := map[string]string{}
	for _, c := range r.Clusters {
		got[c.Name] = c.Base
	}
	want := map[string]string{
		"core-1":     "core-4.19.9-worker-dpu-worker",
		"sno-east-1": "edge-4.20.15-master",
		"sno-east-2": "edge-4.20.15-master",
		"sno-west-1": "edge-4.21.4-master",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("bases (-want +got):\n%s", d)
	}
	if len(r.Bases) != 3 || strings.Join(r.BaseByID("edge-4.20.15-master").Clusters, ",") != "sno-east-1,sno-east-2" {
		t.Errorf("bases %+v", r.Bases)
	}
	// The master-pool warning of the group's site file, once, for its clusters.
	var ws []string
	for _, w := range r.Warnings {
		ws = append(ws, w.String())
	}
	if len(ws) != 1 || !strings.HasPrefix(ws[0], "testdata/sites/edge.yaml:6:9: spec.pool: pool master") || !strings.HasSuffix(ws[0], "(clusters sno-east-1, sno-east-2, sno-west-1)") {
		t.Errorf("warnings:\n%s", strings.Join(ws, "\n"))
	}
}

// A cluster of the fleet renders exactly what `mosc render` renders for the
// same site written as a site file.
func TestClusterEqualsRenderAlone(t *testing.T) {
	r := mustRender(t)
	s, err := profile.LoadSite("testdata/sno-west-1-site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, cat := loadTestFleet(t)
	p, err := cat.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := render.Render(p, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(stream(t, alone.Bundle)), string(stream(t, r.ClusterByName("sno-west-1").Bundle))); d != "" {
		t.Errorf("fleet cluster differs from render alone (-alone +fleet):\n%s", d)
	}
}

// `kustomize build` of every cluster's overlay equals the cluster's bundle
// stream (the real kustomize; skipped when it is not installed).
func TestKustomizeBuildOfOverlays(t *testing.T) {
	bin := kustomizetest.Bin(t)
	r := mustRender(t)
	dir := t.TempDir()
	if _, err := Write(dir, r, "test"); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Clusters {
		got := kustomizetest.SplitObjects(t, kustomizetest.Build(t, bin, filepath.Join(dir, ClustersDir, c.Name)))
		want := kustomizetest.SplitObjects(t, stream(t, c.Bundle))
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: kustomize build differs from the cluster's bundle (-bundle +kustomize):\n%s", c.Name, d)
		}
	}
}

// The tree is byte-identical across renders and matches the goldens
// (rewrite with -update).
func TestWriteGolden(t *testing.T) {
	write := func(dir string) {
		r := mustRender(t)
		if _, err := Write(dir, r, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteDelivery(dir, r, []string{EngineArgoCD, EngineACM, EngineACMPolicyGenerator}, testDelivery, "test"); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	write(dir)
	got := readTree(t, dir)
	again := t.TempDir()
	write(again)
	if d := cmp.Diff(got, readTree(t, again)); d != "" {
		t.Fatalf("two renders differ:\n%s", d)
	}
	golden := filepath.Join("testdata", "golden", "tree")
	if *update {
		os.RemoveAll(golden)
		for name, data := range got {
			p := filepath.Join(golden, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if d := cmp.Diff(readTree(t, golden), got); d != "" {
		t.Errorf("tree differs from %s (-golden +got; rewrite with go test ./internal/fleet -update):\n%s", golden, d)
	}
}

// Re-rendering after a cluster leaves the inventory removes its overlay
// (and a base no cluster uses); a directory holding the user's files stays.
func TestWriteRemovesStaleAndKeepsUserFiles(t *testing.T) {
	r := mustRender(t)
	dir := t.TempDir()
	if _, err := Write(dir, r, "test"); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, ClustersDir, "old", "patch.yaml")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("my patch\n"), 0o644)
	// Drop sno-west-1: its overlay and its base go.
	keep := r.Clusters[:0]
	for _, c := range r.Clusters {
		if c.Name != "sno-west-1" {
			keep = append(keep, c)
		}
	}
	r.Clusters = keep
	r.Bases = []*Base{r.BaseByID("core-4.19.9-worker-dpu-worker"), r.BaseByID("edge-4.20.15-master")}
	notes, err := Write(dir, r, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, ClustersDir, "sno-west-1"), filepath.Join(dir, BasesDir, "edge-4.21.4-master")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("the user's file is gone: %v", err)
	}
	if len(notes) != 3 || !strings.Contains(strings.Join(notes, "\n"), "old is no longer part of the fleet but holds files mosc did not write; left alone") {
		t.Errorf("notes %q", notes)
	}
	// A hand-made overlay is never overwritten.
	own := filepath.Join(dir, ClustersDir, "sno-east-1", "kustomization.yaml")
	os.WriteFile(own, []byte("resources: [mine]\n"), 0o644)
	if _, err := Write(dir, r, "test"); err == nil || !strings.Contains(err.Error(), "was not written by mosc") {
		t.Errorf("overwrote a user's kustomization: %v", err)
	}
}

// Pools of one cluster share the repo ConfigMap (and registry): it appears
// once, each pool's MachineConfigs and MachineOSConfig once per pool, in
// slot order.
func TestPoolsShareObjects(t *testing.T) {
	c := mustRender(t).ClusterByName("core-1")
	var got []string
	for _, o := range c.Bundle.Objects {
		got = append(got, o.FileName)
	}
	want := []string{
		"20-configmap-etc-yum-repos-d.yaml", "30-secret-push-secret.yaml",
		"40-machineconfig-99-mosc-dpu-worker-hugepages.yaml", "40-machineconfig-99-mosc-worker-hugepages.yaml",
		"41-machineconfig-99-mosc-dpu-worker-doca-init.yaml", "41-machineconfig-99-mosc-worker-doca-init.yaml",
		"42-machineconfig-99-mosc-dpu-worker-extensions.yaml", "42-machineconfig-99-mosc-worker-extensions.yaml",
		"50-machineosconfig-dpu-worker.yaml", "50-machineosconfig-worker.yaml",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("core-1 files (-want +got):\n%s", d)
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
