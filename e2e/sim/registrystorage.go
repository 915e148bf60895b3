package sim

import (
	"context"
	"fmt"
	"sort"
	"strings"

	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Where the registry's volume lives, and what a drain does to it (issue 10,
// finding 9).
//
//   - A StorageClass with volumeBindingMode WaitForFirstConsumer binds its
//     claim where the scheduler first places a pod using it, and records that
//     node on the claim as annotation volume.kubernetes.io/selected-node
//     (kubernetes, pkg/controller/volume/persistentvolume/pv_controller.go
//     annSelectedNode; set by the scheduler's VolumeBinding plugin). A
//     node-local provisioner (TopoLVM's topolvm.io behind LVM Storage's
//     lvms-vg1, kubernetes.io/no-provisioner local volumes) then creates the
//     volume on that node, and the pod can only ever run there.
//   - The machine-config daemon drains a node before it rebases it onto the
//     layered image, unless the control plane topology is SingleReplica
//     (openshift/machine-config-operator, release-4.16 … release-4.22,
//     pkg/daemon/drain.go drainRequired), then pulls the image with
//     `rpm-ostree rebase --experimental ostree-unverified-registry:IMAGE`
//     (pkg/daemon/rpm-ostree.go RebaseLayered).
//
// So on a multi-node cluster the registry pod evicted from the node being
// updated stays Pending, and that node's pull finds no registry: it goes
// Degraded and the rollout stops.

// AnnotationSelectedNode is the scheduler's record of where a
// WaitForFirstConsumer claim binds.
const AnnotationSelectedNode = "volume.kubernetes.io/selected-node"

// nodeLocalProvisioners are the provisioners the simulator treats as keeping
// a volume on one node (the ones the e2e tests seed).
var nodeLocalProvisioners = map[string]bool{"topolvm.io": true, "kubernetes.io/no-provisioner": true}

// placeRegistryVolume plays the scheduler for the registry pod on a claim of
// a WaitForFirstConsumer class: the first schedulable worker by name (the
// registry deployment tolerates no master taint), else the first node.
func (r *RegistryOperator) placeRegistryVolume(ctx context.Context, claim string) error {
	pvcs := r.c.Kube.CoreV1().PersistentVolumeClaims(RegistryNamespace)
	pvc, err := pvcs.Get(ctx, claim, metav1.GetOptions{})
	if err != nil || pvc.Annotations[AnnotationSelectedNode] != "" || pvc.Spec.StorageClassName == nil {
		return nil
	}
	sc, err := r.c.Kube.StorageV1().StorageClasses().Get(ctx, *pvc.Spec.StorageClassName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		return nil
	}
	nodes, err := r.c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		return err
	}
	names := make([]string, 0, len(nodes.Items))
	workers := []string{}
	for _, n := range nodes.Items {
		if n.Spec.Unschedulable {
			continue
		}
		names = append(names, n.Name)
		if _, ok := n.Labels["node-role.kubernetes.io/worker"]; ok {
			workers = append(workers, n.Name)
		}
	}
	sort.Strings(names)
	sort.Strings(workers)
	if len(workers) > 0 {
		names = workers
	}
	if len(names) == 0 {
		return nil
	}
	if pvc.Annotations == nil {
		pvc.Annotations = map[string]string{}
	}
	pvc.Annotations[AnnotationSelectedNode] = names[0]
	if _, err := pvcs.Update(ctx, pvc, metav1.UpdateOptions{}); err != nil {
		return err
	}
	r.logf("registry operator: registry pod scheduled on %s; claim %s binds there (storageclass %s)", names[0], claim, sc.Name)
	return nil
}

// strandedRegistry returns a function giving the reason node n fails to
// pull image: n holds the registry's node-local volume and was drained
// first. The cluster is read once per rollout step, and only while a member
// is updating to an image on the internal registry.
func (s *Simulator) strandedRegistry(ctx context.Context, members []*corev1.Node) func(n *corev1.Node, image string) string {
	none := func(*corev1.Node, string) string { return "" }
	busy := false
	for _, n := range members {
		v := view(n)
		if (v.state == StateWorking || v.state == StateDegraded) && strings.HasPrefix(v.desImg, InternalRegistryHost+"/") {
			busy = true
		}
	}
	if !busy {
		return none
	}
	node, why := s.registryVolumeNode(ctx)
	if node == "" {
		return none
	}
	return func(n *corev1.Node, image string) string {
		if n.Name != node || !strings.HasPrefix(image, InternalRegistryHost+"/") {
			return ""
		}
		s.opts.Logf("sim: %s drained; %s, so the registry pod stays Pending", n.Name, why)
		return fmt.Sprintf("failed to update OS to %s: error running rpm-ostree rebase --experimental ostree-unverified-registry:%s: error: Creating importer: failed to invoke method OpenImage: pinging container registry %s: Get \"https://%s/v2/\": dial tcp 172.30.0.10:5000: connect: connection refused: exit status 1",
			image, image, InternalRegistryHost, InternalRegistryHost)
	}
}

// registryVolumeNode is the node holding the registry's node-local volume on
// a cluster whose nodes are drained; "" when there is none.
func (s *Simulator) registryVolumeNode(ctx context.Context) (string, string) {
	infra, err := s.c.OpenShift.ConfigV1().Infrastructures().Get(ctx, "cluster", metav1.GetOptions{})
	if err != nil || infra.Status.ControlPlaneTopology == configv1.SingleReplicaTopologyMode {
		return "", "" // no drain on SNO: the registry keeps running through the pull
	}
	cfg, err := s.c.ImageRegistry.ImageregistryV1().Configs().Get(ctx, "cluster", metav1.GetOptions{})
	if err != nil || cfg.Spec.Storage.PVC == nil {
		return "", ""
	}
	claim := cfg.Spec.Storage.PVC.Claim
	if claim == "" {
		claim = "image-registry-storage"
	}
	pvc, err := s.c.Kube.CoreV1().PersistentVolumeClaims(RegistryNamespace).Get(ctx, claim, metav1.GetOptions{})
	if err != nil || pvc.Annotations[AnnotationSelectedNode] == "" || pvc.Spec.StorageClassName == nil {
		return "", ""
	}
	sc, err := s.c.Kube.StorageV1().StorageClasses().Get(ctx, *pvc.Spec.StorageClassName, metav1.GetOptions{})
	if err != nil || !nodeLocalProvisioners[sc.Provisioner] {
		return "", ""
	}
	return pvc.Annotations[AnnotationSelectedNode], fmt.Sprintf("the registry's %s volume (claim %s) lives there", sc.Provisioner, claim)
}
