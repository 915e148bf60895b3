package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/e2e/sim"
)

// applyTwoPools applies site lab to the worker and master pools and waits
// for both rollouts.
func applyTwoPools(t *testing.T) {
	t.Helper()
	for _, p := range []string{"worker", "master"} {
		out, errOut, code := runMosc(t, "apply", "--pool", p, "--site", "lab", "--wait", "--timeout", "90s")
		transcript(t, []string{"apply", "--pool", p, "--site", "lab", "--wait", "--timeout", "90s"}, out, errOut)
		if code != 0 {
			t.Fatalf("apply --pool %s --wait: exit %d\n%s\n%s", p, code, out, errOut)
		}
	}
}

// mustExist / mustBeGone check one object by its getter.
func exists(t *testing.T, what string, err error) bool {
	t.Helper()
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatalf("get %s: %v", what, err)
	}
	return true
}

// TestRemovePoolLeavesOtherPool: two pools of one site; `remove --pool
// worker` deletes the worker MachineOSConfig and MachineConfigs, leaves the
// master pool's and the shared objects (repo ConfigMap, GPG Secret, push
// and pull-and-push secrets), and says why each shared one stays. Removing
// the last pool then deletes the shared objects too.
func TestRemovePoolLeavesOtherPool(t *testing.T) {
	resetCluster(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond})
	applyTwoPools(t)
	ctx := context.Background()
	mc := env.Clients.MachineConfig.MachineconfigurationV1()
	cms := env.Clients.Kube.CoreV1().ConfigMaps(sim.MCONamespace)
	secrets := env.Clients.Kube.CoreV1().Secrets(sim.MCONamespace)
	masterMCs, err := mc.MachineConfigs().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=mosc,machineconfiguration.openshift.io/role=master"})
	must(t, err)
	if len(masterMCs.Items) == 0 {
		t.Fatal("apply --pool master made no MachineConfig")
	}
	// (No pull-and-push secret on v1: the MCO reads the cluster pull secret.)
	shared := []string{"secret/push-secret", "configmap/etc-yum-repos-d"}
	sharedExists := func(ref string) bool {
		kind, name, _ := strings.Cut(ref, "/")
		if kind == "secret" {
			_, err := secrets.Get(ctx, name, metav1.GetOptions{})
			return exists(t, ref, err)
		}
		_, err := cms.Get(ctx, name, metav1.GetOptions{})
		return exists(t, ref, err)
	}
	for _, ref := range shared {
		if !sharedExists(ref) {
			t.Fatalf("apply made no %s", ref)
		}
	}

	// The dry run names what would go, and nothing of master's.
	out, errOut, code := runMosc(t, "remove", "--pool", "worker", "--site", "lab", "--dry-run=client")
	transcript(t, []string{"remove", "--pool", "worker", "--site", "lab", "--dry-run=client"}, out, errOut)
	if code != 0 {
		t.Fatalf("remove --pool worker --dry-run=client: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "machineosconfig.machineconfiguration.openshift.io/worker deleted (dry run)") ||
		!strings.Contains(out, "machineconfig.machineconfiguration.openshift.io/99-mosc-worker-") ||
		strings.Contains(out, "master") || strings.Contains(out, "secret/") || strings.Contains(out, "configmap/") {
		t.Errorf("remove --pool worker --dry-run=client stdout:\n%s", out)
	}
	if _, err := mc.MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{}); err != nil {
		t.Fatalf("a client dry run deleted the worker MachineOSConfig: %v", err)
	}

	out, errOut, code = runMosc(t, "remove", "--pool", "worker", "--site", "lab")
	transcript(t, []string{"remove", "--pool", "worker", "--site", "lab"}, out, errOut)
	if code != 0 {
		t.Fatalf("remove --pool worker: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"secret/push-secret stays: machineosconfig.machineconfiguration.openshift.io/master (pool master) names it in spec.renderedImagePushSecret.name",
		"configmap/etc-yum-repos-d stays: the MCO mounts it into the build of every MachineOSConfig, and machineosconfig.machineconfiguration.openshift.io/master remains",
		"machineconfigpool/worker paused", "machineconfigpool/worker unpaused",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("remove --pool worker stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "machineconfigpool/master") {
		t.Errorf("remove --pool worker touched pool master:\n%s", errOut)
	}
	if _, err := mc.MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("worker MachineOSConfig still there: %v", err)
	}
	workerMCs, err := mc.MachineConfigs().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=mosc,machineconfiguration.openshift.io/role=worker"})
	must(t, err)
	if len(workerMCs.Items) != 0 {
		t.Errorf("worker MachineConfigs left: %d", len(workerMCs.Items))
	}
	if _, err := mc.MachineOSConfigs().Get(ctx, "master", metav1.GetOptions{}); err != nil {
		t.Errorf("master MachineOSConfig: %v", err)
	}
	for _, m := range masterMCs.Items {
		if _, err := mc.MachineConfigs().Get(ctx, m.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("master MachineConfig %s: %v", m.Name, err)
		}
	}
	for _, ref := range shared {
		if !sharedExists(ref) {
			t.Errorf("%s was deleted although pool master uses it", ref)
		}
	}
	waitPoolReverted(t, 60*time.Second)
	// The master pool stays layered: its nodes keep the image.
	master, err := env.Clients.Kube.CoreV1().Nodes().Get(ctx, "master-0", metav1.GetOptions{})
	must(t, err)
	if master.Annotations[sim.AnnotationCurrentImage] == "" {
		t.Errorf("master-0 lost its layered image when pool worker was removed")
	}

	// The last pool: now the shared objects go as well.
	out, errOut, code = runMosc(t, "remove", "--pool", "master", "--site", "lab")
	transcript(t, []string{"remove", "--pool", "master", "--site", "lab"}, out, errOut)
	if code != 0 {
		t.Fatalf("remove --pool master: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, ref := range shared {
		if sharedExists(ref) {
			t.Errorf("%s stayed after the last pool was removed:\n%s\n%s", ref, out, errOut)
		}
	}
	// Nothing of the pool left: say so, delete nothing.
	out, errOut, code = runMosc(t, "remove", "--pool", "master", "--site", "lab")
	transcript(t, []string{"remove", "--pool", "master", "--site", "lab"}, out, errOut)
	if code != 0 || out != "" || !strings.Contains(errOut, "nothing to remove: no mosc objects of site lab for pool master") {
		t.Errorf("remove --pool master again: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestRemovePoolWait: `remove --pool worker --wait` follows the revert
// rollout to the stock image, then on every node removes the other_config
// keys mosc set (doca-init, kept in the Open vSwitch database across the
// reboot) and verifies stock Open vSwitch through the check-pod protocol.
// The dry run lists the node steps and changes nothing.
func TestRemovePoolWait(t *testing.T) {
	resetCluster(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond})
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s")
	transcript(t, []string{"apply", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s"}, out, errOut)
	if code != 0 {
		t.Fatalf("apply --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	ctx := context.Background()
	workers := []string{"worker-0", "worker-1", "worker-2"}
	for _, n := range workers {
		nd, err := env.Clients.Kube.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		must(t, err)
		if nd.Annotations[sim.AnnotationSimDocaInit] != "true" {
			t.Fatalf("%s: doca-init not set after apply", n)
		}
	}

	out, errOut, code = runMosc(t, "remove", "--pool", "worker", "--site", "lab", "--wait", "--dry-run=client")
	transcript(t, []string{"remove", "--pool", "worker", "--site", "lab", "--wait", "--dry-run=client"}, out, errOut)
	if code != 0 {
		t.Fatalf("remove --wait --dry-run=client: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, n := range workers {
		want := "node/" + n + ": once on the stock image, clear other_config doca-init and verify stock Open vSwitch (dry run)"
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = runMosc(t, "remove", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s")
	transcript(t, []string{"remove", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s"}, out, errOut)
	if code != 0 {
		t.Fatalf("remove --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "machineconfigpool/worker reverted: 3 node(s) on the stock image") {
		t.Errorf("remove --wait stderr:\n%s", errOut)
	}
	for _, n := range workers {
		want := "node/" + n + " other_config doca-init cleared; stock Open vSwitch 3.5.2-19.el9fdp verified (openvswitch3.5-"
		if !strings.Contains(out, want) {
			t.Errorf("remove --wait stdout lacks %q:\n%s", want, out)
		}
		nd, err := env.Clients.Kube.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		must(t, err)
		if nd.Annotations[sim.AnnotationSimDocaInit] != "" || nd.Annotations[sim.AnnotationSimOS] != "stock" || nd.Annotations[sim.AnnotationCurrentImage] != "" {
			t.Errorf("%s after remove --wait: doca-init %q, os %q, image %q", n, nd.Annotations[sim.AnnotationSimDocaInit], nd.Annotations[sim.AnnotationSimOS], nd.Annotations[sim.AnnotationCurrentImage])
		}
	}
	pods, err := env.Clients.Kube.CoreV1().Pods(sim.MCONamespace).List(ctx, metav1.ListOptions{LabelSelector: "mosc.dev/role=node-check"})
	must(t, err)
	if len(pods.Items) != 0 {
		t.Errorf("%d check pod(s) left behind", len(pods.Items))
	}
	// --wait needs a pool.
	_, errOut, code = runMosc(t, "remove", "--site", "lab", "--wait")
	if code != 2 || !strings.Contains(errOut, "--wait follows one pool's revert: name it with --pool") {
		t.Errorf("remove --wait without --pool: exit %d\n%s", code, errOut)
	}
}

// transcript logs a run as a terminal shows it (go test -v; docs/day2.md
// quotes these).
func transcript(t *testing.T, args []string, out, errOut string) {
	t.Helper()
	t.Logf("TRANSCRIPT $ mosc %s\n%s%s", strings.Join(args, " "), out, errOut)
}
