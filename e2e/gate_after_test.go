package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/release"
)

// startUpgrade plays the cluster-version operator starting an upgrade to a
// pushed payload: ClusterVersion desires it (history Partial on top), and
// the Machine Config Operator's manifest machine-config-osimageurl gets the
// payload's rhel-coreos and rhel-coreos-extensions digests and its version
// (machine-config-operator, release-4.20,
// install/0000_80_machine-config_05_osimageurl.yaml). completed also marks
// the history entry Completed, as the CVO does once the ClusterOperators
// report the version — without waiting for a layered worker pool
// (OCPBUGS-73800).
func startUpgrade(t *testing.T, ctx context.Context, version, payload, registryConfig string, completed bool) (rhcos string) {
	t.Helper()
	p, err := release.Inspect(ctx, payload, release.Options{RegistryConfig: registryConfig})
	must(t, err)
	rhcos, ok := p.Image(release.TagRHCOS)
	ext, ok2 := p.Image(release.TagRHCOSExtensions)
	if !ok || !ok2 {
		t.Fatalf("payload %s lacks rhel-coreos or rhel-coreos-extensions", payload)
	}
	cv, err := env.Clients.OpenShift.ConfigV1().ClusterVersions().Get(ctx, "version", metav1.GetOptions{})
	must(t, err)
	now := time.Now().UTC().Format(time.RFC3339)
	entry := map[string]any{"state": "Partial", "startedTime": now, "completionTime": nil, "version": version, "image": payload, "verified": true}
	progressing := cvCond(configv1.OperatorProgressing, configv1.ConditionTrue, "", "Working towards "+version+": 512 of 890 done (57% complete)")
	if completed {
		entry["state"], entry["completionTime"] = "Completed", now
		progressing = cvCond(configv1.OperatorProgressing, configv1.ConditionFalse, "", "Cluster version is "+version)
	}
	hist := []any{entry}
	for _, h := range cv.Status.History {
		var done any
		if h.CompletionTime != nil {
			done = h.CompletionTime.UTC().Format(time.RFC3339)
		}
		hist = append(hist, map[string]any{"state": string(h.State), "startedTime": h.StartedTime.UTC().Format(time.RFC3339), "completionTime": done, "version": h.Version, "image": h.Image, "verified": h.Verified})
	}
	// A JSON patch: history[].completionTime is required but null while
	// Partial, which a merge patch cannot say.
	patch, err := json.Marshal([]any{map[string]any{"op": "replace", "path": "/status/history", "value": hist}})
	must(t, err)
	_, err = env.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions")).Patch(ctx, "version", types.JSONPatchType, patch, metav1.PatchOptions{}, "status")
	must(t, err)
	must(t, env.SetClusterVersionStatus(ctx, map[string]any{
		"desired": map[string]any{"version": version, "image": payload},
		"conditions": []any{
			cvCond(configv1.OperatorAvailable, configv1.ConditionTrue, "", "Done applying "+cv.Status.Desired.Version),
			progressing,
			cvCond(configv1.OperatorDegraded, configv1.ConditionFalse, "", ""),
		},
	}))
	cms := env.Clients.Kube.CoreV1().ConfigMaps(sim.MCONamespace)
	cm, err := cms.Get(ctx, sim.OSImageURLConfigMap, metav1.GetOptions{})
	must(t, err)
	cm.Data["baseOSContainerImage"], cm.Data["baseOSExtensionsContainerImage"], cm.Data["releaseVersion"] = rhcos, ext, version
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	must(t, err)
	return rhcos
}

// The other side of an upgrade (issue 12 finding 4): mosc gate --after
// waits until the upgrade reaches the layered pool, follows the build for
// the new release's base image and the rollout, and fails when that build
// fails — which the Machine Config Operator never retries while the
// cluster-version operator reports the upgrade Completed. The simulator
// re-renders the pools when machine-config-osimageurl changes, as the
// render controller does with the new controller config.
func TestGateAfter(t *testing.T) {
	resetEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	dir := t.TempDir()
	site := gateSite(t, dir, "mosc.yaml", "http://127.0.0.1:9/doca/", "")
	s := startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond})
	if out, stderr, code := runMosc(t, "apply", "-f", site); code != 0 {
		t.Fatalf("mosc apply: exit %d\n%s\n%s", code, out, stderr)
	}
	waitLayered(t, ctx)
	before := currentMOSB(t, "worker").Name
	ref11, rc := pushPayload(t, dir, "4.21.11", "9.6")
	dig11 := digestRef(t, ref11)
	t.Run("before the upgrade starts", func(t *testing.T) {
		out, stderr, code := runMoscWith(t, moscRun{}, "gate", "--after", "-f", site, "--to", "4.21.11", "--timeout", "4s")
		if code != 1 || !strings.Contains(stderr, "waiting: after-release: ClusterVersion's desired release is 4.20.15, not 4.21.11: the upgrade has not started (oc adm upgrade --to 4.21.11 starts it)") ||
			!strings.Contains(out, "FAIL    after-release  not reached within --timeout 4s: ClusterVersion's desired release is 4.20.15, not 4.21.11") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
		t.Logf("mosc gate --after before the upgrade:\n%s%s", out, stderr)
	})

	t.Run("the upgrade reaches the layered pool", func(t *testing.T) {
		rhcos := startUpgrade(t, ctx, "4.21.11", dig11, rc, false)
		out, stderr, code := runMoscWith(t, moscRun{Timeout: 5 * time.Minute}, "gate", "--after", "-f", site, "--to", "4.21.11", "--junit", "after.xml")
		t.Logf("mosc gate --after (exit %d):\n%s\nstderr:\n%s", code, out, stderr)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		r := runGate(t, 0, "--after", "-f", site, "--to", "4.21.11")
		now := currentMOSB(t, "worker").Name
		if now == before {
			t.Errorf("no new MachineOSBuild: still %s", now)
		}
		expectChecks(t, r, map[string]string{"after-release": "pass", "after-build": "pass", "after-rollout": "pass"}, map[string][]string{
			"after-release": {"ClusterVersion 4.21.11 (Partial, from 4.20.15); the Machine Config Operator's OS images are 4.21.11's (rhel-coreos " + rhcos + ")", "(osImageURL " + rhcos + ")"},
			"after-build":   {"MachineOSBuild " + now + " (release 4.21.11's rendered config rendered-worker-", ") Succeeded: "},
			"after-rollout": {"pool worker is Updated: 3/3 nodes run release 4.21.11's layered image"},
		})
		if r.From != "4.20.15" || r.To != "4.21.11" || len(r.Checks) != 3 {
			t.Errorf("report: from %s to %s, %d checks", r.From, r.To, len(r.Checks))
		}
		if !strings.Contains(out, "and verify OVS-DOCA on the node (check pods)") {
			t.Errorf("the watch did not verify the nodes:\n%s", out)
		}
		// The pool's rendered config is the new release's.
		pool, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, "worker", metav1.GetOptions{})
		must(t, err)
		rmc, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigs().Get(ctx, pool.Spec.Configuration.Name, metav1.GetOptions{})
		must(t, err)
		if rmc.Spec.OSImageURL != rhcos || rmc.Annotations["machineconfiguration.openshift.io/release-image-version"] != "4.21.11" {
			t.Errorf("rendered %s: osImageURL %s, release %s", rmc.Name, rmc.Spec.OSImageURL, rmc.Annotations["machineconfiguration.openshift.io/release-image-version"])
		}
	})

	t.Run("the build for the new release fails (OCPBUGS-73800)", func(t *testing.T) {
		ref12, _ := pushPayload(t, dir, "4.21.12", "9.6")
		s.SetFaults(sim.Faults{BuildDuration: 500 * time.Millisecond, NodeStep: 100 * time.Millisecond, BuildFailure: sim.FailRepo404})
		// The CVO reports the upgrade Completed: it does not wait for the
		// layered worker pool.
		startUpgrade(t, ctx, "4.21.12", digestRef(t, ref12), rc, true)
		out, stderr, code := runMoscWith(t, moscRun{Timeout: 5 * time.Minute}, "gate", "--after", "-f", site, "--to", "4.21.12")
		t.Logf("mosc gate --after, build failed (exit %d):\n%s\nstderr:\n%s", code, out, stderr)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		r := runGate(t, 1, "--after", "-f", site, "--to", "4.21.12", "--save-failure=")
		expectChecks(t, r, map[string]string{"after-release": "pass", "after-build": "fail", "after-rollout": "fail"}, map[string][]string{
			"after-release": {"ClusterVersion 4.21.12 (Completed, from 4.21.11)"},
			"after-build": {"Failed", "the Machine Config Operator does not retry it: pool worker stays on its previous layered image",
				"ClusterVersion reports 4.21.12 Completed all the same: the cluster-version operator does not wait for a layered pool's build (OCPBUGS-73800)",
				"cause repo-unreachable: ", "mosc rebuild --pool worker"},
			"after-rollout": {"pool worker stays on its previous layered image"},
		})
		if !strings.Contains(out, "evidence saved to ") {
			t.Errorf("no evidence saved:\n%s", out)
		}
		// The remedy, as given: fix the cause, ask for the rebuild, follow it.
		s.SetFaults(sim.Faults{BuildDuration: 500 * time.Millisecond, NodeStep: 100 * time.Millisecond})
		if out, stderr, code := runMoscWith(t, moscRun{Timeout: 5 * time.Minute}, "rebuild", "-f", site, "--wait=false"); code != 0 {
			t.Fatalf("mosc rebuild: exit %d\n%s\n%s", code, out, stderr)
		}
		r = runGate(t, 0, "--after", "-f", site, "--to", "4.21.12", "--node-checks=false")
		expectChecks(t, r, map[string]string{"after-build": "pass", "after-rollout": "pass"}, nil)
	})

	t.Run("a paused pool", func(t *testing.T) {
		ref13, _ := pushPayload(t, dir, "4.21.13", "9.6")
		pools := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools()
		_, err := pools.Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{})
		must(t, err)
		defer func() {
			_, err := pools.Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":false}}`), metav1.PatchOptions{})
			must(t, err)
		}()
		startUpgrade(t, ctx, "4.21.13", digestRef(t, ref13), rc, true)
		r := runGate(t, 1, "--after", "-f", site, "--to", "4.21.13")
		expectChecks(t, r, map[string]string{"after-release": "pass", "after-build": "pass", "after-rollout": "fail"}, map[string][]string{
			"after-rollout": {"pool worker is paused (spec.paused): the build for 4.21.13 Succeeded, but its nodes take no new config or image", "oc patch mcp worker"},
		})
		waitWorkers(t, ctx, "still paused on the old image", func(p *mcfgv1.MachineConfigPool) bool { return p.Spec.Paused })
	})
}
