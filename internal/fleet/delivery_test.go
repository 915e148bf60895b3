package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/internal/kustomizetest"
)

// The Argo CD sync-wave component adds exactly two annotations (and the
// registry Config's sync options) and nothing else: kustomize build of
// overlay + component is the bundle with waves in mosc's apply order.
func TestArgoComponentAddsOnlyWaves(t *testing.T) {
	bin := kustomizetest.Bin(t)
	r := mustRender(t)
	dir := t.TempDir()
	if _, err := Write(dir, r, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDelivery(dir, r, []string{EngineArgoCD}, testDelivery, "test"); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Clusters {
		// What Argo CD does with spec.source.kustomize.components.
		app := filepath.Join(dir, "app-"+c.Name)
		os.MkdirAll(app, 0o755)
		os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("resources: [../clusters/"+c.Name+"]\ncomponents: [../argocd/sync-waves]\nsortOptions: {order: fifo}\n"), 0o644)
		got := kustomizetest.SplitObjects(t, kustomizetest.Build(t, bin, app))
		want := kustomizetest.SplitObjects(t, stream(t, c.Bundle))
		if len(got) != len(want) {
			t.Fatalf("%s: %d objects, want %d", c.Name, len(got), len(want))
		}
		wantWave := map[string]string{"PersistentVolumeClaim": "0", "Config": "0", "Secret": "1", "ConfigMap": "2", "MachineConfig": "3", "MachineOSConfig": "4"}
		for i := range got {
			md := got[i]["metadata"].(map[string]any)
			ann := md["annotations"].(map[string]any)
			wave := ann["argocd.argoproj.io/sync-wave"]
			if wave == nil {
				t.Errorf("%s: %s has no sync wave", c.Name, got[i]["kind"])
				continue
			}
			// Registry and secrets, repo ConfigMap, MachineConfigs, MachineOSConfig last.
			if k := got[i]["kind"].(string); wave != wantWave[k] {
				t.Errorf("%s: %s wave %v, want %s", c.Name, k, wave, wantWave[k])
			}
			delete(ann, "argocd.argoproj.io/sync-wave")
			if got[i]["kind"] == "Config" {
				if ann["argocd.argoproj.io/sync-options"] != "Delete=false,Prune=false" {
					t.Errorf("registry Config sync options %v", ann)
				}
				delete(ann, "argocd.argoproj.io/sync-options")
			}
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: the component changed more than annotations (-bundle +built):\n%s", c.Name, d)
		}
	}
}

// ACM: per base a Policy (bundle enforced musthave in order, rollout
// inform, placeholder Secrets only checked), a Placement naming exactly the
// base's clusters, and a PlacementBinding tying them.
func TestACMObjects(t *testing.T) {
	r := mustRender(t)
	objs, err := ACMObjects(r, testDelivery)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3*len(r.Bases) {
		t.Fatalf("%d objects for %d bases", len(objs), len(r.Bases))
	}
	y, _ := yaml.Marshal(objs[3:6])
	s := string(y)
	for _, want := range []string{
		"name: mosc-edge-4.20.15-master\n",
		"values:\n",
		"- sno-east-1\n",
		"- sno-east-2\n",
		"remediationAction: enforce",
		"remediationAction: inform",
		"complianceType: musthave",
		"kind: MachineOSConfig",
		`lookup "machineconfiguration.openshift.io/v1" "MachineOSConfig" "" "master"`,
		"name: mosc-edge-4.20.15-master-secrets",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("ACM objects lack %q:\n%s", want, s)
		}
	}
	// No placeholder Secret is enforced: that would wipe the real credentials.
	bundlePolicy := objs[3]["spec"].(map[string]any)["policy-templates"].([]any)[0].(map[string]any)["objectDefinition"].(map[string]any)
	for _, ot := range bundlePolicy["spec"].(map[string]any)["object-templates"].([]any) {
		if ot.(map[string]any)["objectDefinition"].(map[string]any)["kind"] == "Secret" {
			t.Errorf("a placeholder Secret is enforced")
		}
	}
	long := testDelivery
	long.PolicyNamespace = strings.Repeat("n", 40)
	if _, err := ACMObjects(r, long); err == nil || !strings.Contains(err.Error(), "use a shorter --policy-namespace") {
		t.Errorf("long namespace: %v", err)
	}
}

func TestApplicationSetNeedsRepo(t *testing.T) {
	o := testDelivery
	o.RepoURL = ""
	if _, err := ApplicationSet(mustRender(t), o); err == nil || !strings.Contains(err.Error(), "--repo-url") {
		t.Errorf("err %v", err)
	}
}
