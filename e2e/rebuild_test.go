package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/e2e/sim"
)

func currentMOSB(t *testing.T, pool string) *mcfgv1.MachineOSBuild {
	t.Helper()
	ctx := context.Background()
	mc := env.Clients.MachineConfig.MachineconfigurationV1()
	mosc, err := mc.MachineOSConfigs().Get(ctx, pool, metav1.GetOptions{})
	must(t, err)
	name := mosc.Annotations[sim.AnnotationCurrentMOSB]
	if name == "" {
		t.Fatalf("MachineOSConfig %s has no current build", pool)
	}
	b, err := mc.MachineOSBuilds().Get(ctx, name, metav1.GetOptions{})
	must(t, err)
	return b
}

// TestRebuild: `mosc rebuild` sets the MCO's rebuild annotation; the MCO
// replaces the current MachineOSBuild (same name, new UID) and rebuild
// follows the new build and the rollout to verified nodes. Then the gate's
// remedy for a failed build: fix the cause, `mosc apply --rebuild` builds
// again although the plan did not change.
func TestRebuild(t *testing.T) {
	resetCluster(t)
	s := startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond})
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s")
	transcript(t, []string{"apply", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s"}, out, errOut)
	if code != 0 {
		t.Fatalf("apply --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	before := currentMOSB(t, "worker")

	// A client dry run asks nothing.
	out, errOut, code = runMosc(t, "rebuild", "--pool", "worker", "--dry-run=client")
	transcript(t, []string{"rebuild", "--pool", "worker", "--dry-run=client"}, out, errOut)
	if code != 0 || !strings.Contains(out, "machineosconfig/worker annotated machineconfiguration.openshift.io/rebuild (dry run)") {
		t.Fatalf("rebuild --dry-run=client: exit %d\n%s\n%s", code, out, errOut)
	}
	if b := currentMOSB(t, "worker"); b.UID != before.UID {
		t.Fatalf("a client dry run replaced the build")
	}

	out, errOut, code = runMosc(t, "rebuild", "--pool", "worker", "-o", "plain", "--timeout", "90s")
	transcript(t, []string{"rebuild", "--pool", "worker", "-o", "plain", "--timeout", "90s"}, out, errOut)
	if code != 0 {
		t.Fatalf("rebuild: exit %d\n%s\n%s", code, out, errOut)
	}
	after := currentMOSB(t, "worker")
	if after.Name != before.Name || after.UID == before.UID {
		t.Errorf("rebuild: build %s/%s, before %s/%s: want the same name, a new UID", after.Name, after.UID, before.Name, before.UID)
	}
	if !meta.IsStatusConditionTrue(after.Status.Conditions, string(mcfgv1.MachineOSBuildSucceeded)) {
		t.Errorf("rebuild returned before the new build succeeded: %+v", after.Status.Conditions)
	}
	if after.Status.BuildStart == nil || !after.Status.BuildStart.After(before.Status.BuildEnd.Time) && !after.Status.BuildStart.Equal(before.Status.BuildEnd) {
		t.Errorf("new build started %v, the old one ended %v", after.Status.BuildStart, before.Status.BuildEnd)
	}
	for _, want := range []string{"machineosbuild/" + before.Name + " deleted by the MCO", "waiting for the MCO to replace"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("rebuild stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, want := range []string{"machineosconfig/worker annotated machineconfiguration.openshift.io/rebuild", "Succeeded", "verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("rebuild stdout lacks %q:\n%s", want, out)
		}
	}
	mosc, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(context.Background(), "worker", metav1.GetOptions{})
	must(t, err)
	if _, ok := mosc.Annotations[sim.AnnotationRebuild]; ok {
		t.Errorf("the rebuild annotation stayed")
	}
	// Nodes run the new image.
	nodes, err := env.Clients.Kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/worker"})
	must(t, err)
	for _, n := range nodes.Items {
		if got := n.Annotations[sim.AnnotationCurrentImage]; got != string(after.Status.DigestedImagePushSpec) {
			t.Errorf("%s runs %s, want the rebuilt %s", n.Name, got, after.Status.DigestedImagePushSpec)
		}
	}

	// A failed build, its cause fixed outside the plan: apply --rebuild.
	s.SetFaults(sim.Faults{BuildFails: true, BuildDuration: 300 * time.Millisecond, NodeStep: 50 * time.Millisecond})
	out, errOut, code = runMosc(t, "rebuild", "--pool", "worker", "-o", "plain", "--timeout", "90s")
	transcript(t, []string{"rebuild", "--pool", "worker", "-o", "plain", "--timeout", "90s"}, out, errOut)
	if code != 1 || !strings.Contains(out+errOut, "Failed") {
		t.Fatalf("rebuild with a failing build: exit %d\n%s\n%s", code, out, errOut)
	}
	failed := currentMOSB(t, "worker")
	s.SetFaults(sim.Faults{BuildDuration: 300 * time.Millisecond, NodeStep: 50 * time.Millisecond})
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--rebuild", "--timeout", "90s")
	transcript(t, []string{"apply", "--pool", "worker", "--site", "lab", "--rebuild", "--timeout", "90s"}, out, errOut)
	if code != 0 {
		t.Fatalf("apply --rebuild: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "machineosconfig/worker annotated machineconfiguration.openshift.io/rebuild") {
		t.Errorf("apply --rebuild did not ask for a rebuild:\n%s\n%s", out, errOut)
	}
	fixed := currentMOSB(t, "worker")
	if fixed.UID == failed.UID || !meta.IsStatusConditionTrue(fixed.Status.Conditions, string(mcfgv1.MachineOSBuildSucceeded)) {
		t.Errorf("apply --rebuild: build %s %v, the failed one %s", fixed.UID, fixed.Status.Conditions, failed.UID)
	}
}

// TestRebuildRefusals: no MachineOSConfig, and a 4.17 cluster (v1alpha1),
// whose MCO has no rebuild annotation: exit 2, nothing written.
func TestRebuildRefusals(t *testing.T) {
	resetCluster(t)
	out, errOut, code := runMosc(t, "rebuild", "--pool", "worker")
	transcript(t, []string{"rebuild", "--pool", "worker"}, out, errOut)
	if code != 2 || !strings.Contains(errOut, "nothing to rebuild: no MachineOSConfig worker") {
		t.Errorf("rebuild without a MachineOSConfig: exit %d\n%s\n%s", code, out, errOut)
	}
	useV1alpha1Cluster(t, "4.17.3")
	out, errOut, code = runMosc(t, "rebuild", "--pool", "worker")
	transcript(t, []string{"rebuild", "--pool", "worker"}, out, errOut)
	if code != 2 || !strings.Contains(errOut, "rebuild is not supported on this cluster: the cluster serves MachineOSConfig v1alpha1") {
		t.Errorf("rebuild on 4.17: exit %d\n%s\n%s", code, out, errOut)
	}
}
