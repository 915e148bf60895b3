package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/e2e/sim"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestApplyRefusesNodeLocalRegistry (issue 10, finding 9): on a cluster
// whose nodes are drained before they pull the layered image, a registry on
// a node-local volume (LVM Storage's lvms-vg1) strands the node that holds
// it. mosc refuses it, naming the flag; on a single-node topology it goes
// ahead. The simulator plays the drain and the stranded registry
// (e2e/sim/registrystorage.go): the mosc before the fix applied, and
// `--wait` ended with worker-0 Degraded.
func TestApplyRefusesNodeLocalRegistry(t *testing.T) {
	resetCluster(t)
	ctx := context.Background()
	must(t, env.SeedStorageClass(ctx, "lvms-vg1", "topolvm.io"))
	runRegistryOperator(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond})
	args := []string{"apply", "--pool", "worker", "--internal-registry", "--storage-class", "lvms-vg1", "--site", "lab",
		"--registry-timeout", "30s", "--wait", "--timeout", "90s"}

	// The harness cluster has 4 nodes: topology HighlyAvailable.
	out, errOut, code := runMosc(t, args...)
	if code != 2 || !strings.Contains(errOut, "--storage-class lvms-vg1 (spec.registry.storageClass): storageclass lvms-vg1 keeps volumes on one node (provisioner topolvm.io: LVM Storage (LVMS/TopoLVM)), and this cluster has controlPlaneTopology HighlyAvailable") ||
		!strings.Contains(errOut, "the rollout of pool worker stops there") {
		t.Fatalf("apply with node-local registry storage on a multi-node cluster: exit %d, want 2 and the reason\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("$ mosc %s\n%s", strings.Join(args, " "), errOut)
	if _, err := env.Clients.Kube.CoreV1().PersistentVolumeClaims(registryNS).Get(ctx, "registry-claim", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("registry-claim after the refusal: %v; want NotFound (nothing written)", err)
	}
	if _, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("MachineOSConfig after the refusal: %v; want NotFound", err)
	}

	// Single-node topology: the daemon does not drain, the registry stays up.
	must(t, env.SeedTopology(ctx, configv1.SingleReplicaTopologyMode))
	out, errOut, code = runMosc(t, args...)
	if code != 0 || !strings.Contains(errOut, "fine on this single-node cluster") || !strings.Contains(out, "done: 3/3 nodes of pool worker updated and verified") {
		t.Fatalf("apply on a single-node topology: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	pvc, err := env.Clients.Kube.CoreV1().PersistentVolumeClaims(registryNS).Get(ctx, "registry-claim", metav1.GetOptions{})
	must(t, err)
	host := pvc.Annotations[sim.AnnotationSelectedNode]
	if host == "" {
		t.Fatalf("the registry claim was never bound to a node: %v", pvc.Annotations)
	}

	// What the refusal prevents: the same volume where nodes are drained.
	// The next image (a new MachineConfig) strands the node holding it.
	must(t, env.SeedTopology(ctx, configv1.HighlyAvailableTopologyMode))
	mc := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: "60-e2e-motd", Labels: map[string]string{sim.LabelMCRole: "worker"}}}
	mc.Spec.Config.Raw = []byte(`{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,hello"},"mode":420}]}}`)
	_, err = env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigs().Create(ctx, mc, metav1.CreateOptions{})
	must(t, err)
	deadline := time.Now().Add(90 * time.Second)
	for {
		n, err := env.Clients.Kube.CoreV1().Nodes().Get(ctx, host, metav1.GetOptions{})
		must(t, err)
		if n.Annotations[sim.AnnotationState] == sim.StateDegraded {
			if r := n.Annotations[sim.AnnotationReason]; !strings.Contains(r, "pinging container registry "+sim.InternalRegistryHost) {
				t.Fatalf("%s degraded for another reason: %s", host, r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (holding the registry volume) never failed its pull: %v", host, n.Annotations)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
