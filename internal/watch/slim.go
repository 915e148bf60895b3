package watch

import (
	"unique"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What the watch keeps of each object in its informer caches. A 1000-node
// pool is 1000 Nodes and 1000 MachineConfigNodes, each updated several times
// during a rollout: what the cache keeps of them is most of the watch's
// live heap, and the heap's goal (and so the resident set) is twice that.
// The model (Evaluate) reads:
//   - of a Node: its name, its labels (pool membership by the pools'
//     nodeSelectors) and the machine-config daemon's annotations
//     (nodeAnnotations); the informer lists and watches Nodes' metadata
//     only (kube.NewMetadataInformer: no spec, no status on the wire);
//   - of a MachineConfigNode: which of its conditions are True, and the
//     message of NodeDegraded (the failure names it);
//   - of a build pod: its name, labels, timestamps and container statuses;
//   - MachineOSConfigs, MachineOSBuilds and pools whole, but for managed
//     fields (a MachineOSConfig's spec is hashed into the build's name).
// TestSlim* keep these in step with the model.

// nodeAnnotations are the Node annotations the model reads (nodeStatus).
var nodeAnnotations = []string{
	AnnotationState, AnnotationReason, AnnotationCurrentConfig, AnnotationDesiredConfig,
	AnnotationCurrentImage, AnnotationDesiredImage,
}

// slim is the informers' transform: it drops what the model never reads
// before an object enters the cache. It may see an object it has already
// slimmed (the informer's tombstones, a relist), and gives it back as is.
func slim(obj any) (any, error) {
	switch o := obj.(type) {
	case *metav1.PartialObjectMetadata:
		// The node informer's objects (kube.NewMetadataInformer): the
		// listers and the model take Nodes.
		return slimNode(&o.ObjectMeta), nil
	case *corev1.Node:
		// A typed node informer (client-go's fakes in unit tests).
		return slimNode(&o.ObjectMeta), nil
	case *mcfgv1.MachineConfigNode:
		return slimMCN(o), nil
	case *corev1.Pod:
		o.ManagedFields = nil
		o.Spec = corev1.PodSpec{NodeName: o.Spec.NodeName}
	case metav1.ObjectMetaAccessor:
		// MachineOSConfig (its spec stays whole: it is hashed into the
		// MachineOSBuild name), MachineOSBuild, MachineConfigPool.
		o.GetObjectMeta().SetManagedFields(nil)
	}
	return obj, nil
}

// slimNode is a Node with only what the model reads of it. Its strings are
// interned: the image and config annotations and most labels have the same
// value on every node of a pool.
func slimNode(m *metav1.ObjectMeta) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: m.Name, ResourceVersion: m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp,
	}}
	if len(m.Labels) > 0 {
		n.Labels = make(map[string]string, len(m.Labels))
		for k, v := range m.Labels {
			n.Labels[intern(k)] = intern(v)
		}
	}
	for _, k := range nodeAnnotations {
		if v, ok := m.Annotations[k]; ok {
			if n.Annotations == nil {
				n.Annotations = make(map[string]string, len(nodeAnnotations))
			}
			n.Annotations[k] = intern(v) // k: the constant
		}
	}
	return n
}

// slimMCN is a MachineConfigNode with its True conditions (of the dozen
// the daemon writes, those in effect: the model lists them, and fails a
// True NodeDegraded), by type, with NodeDegraded's message.
func slimMCN(m *mcfgv1.MachineConfigNode) *mcfgv1.MachineConfigNode {
	out := &mcfgv1.MachineConfigNode{ObjectMeta: metav1.ObjectMeta{
		Name: m.Name, ResourceVersion: m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp,
	}}
	for _, c := range m.Status.Conditions {
		if c.Status != metav1.ConditionTrue {
			continue
		}
		k := metav1.Condition{Type: intern(c.Type), Status: metav1.ConditionTrue}
		if c.Type == string(mcfgv1.MachineConfigNodeNodeDegraded) {
			k.Message = c.Message
		}
		out.Status.Conditions = append(out.Status.Conditions, k)
	}
	return out
}

// intern returns the one copy of s (package unique) that every slimmed
// object shares.
func intern(s string) string { return unique.Make(s).Value() }
