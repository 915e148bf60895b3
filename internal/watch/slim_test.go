package watch

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fatNode is a node as a real cluster serves it: what the model reads
// (labels, the daemon's annotations) among what it does not (other
// annotations, managed fields, spec, status with images).
func fatNode(n *corev1.Node) *corev1.Node {
	n = n.DeepCopy()
	n.UID = "6a0c7a3e-2d55-4c55-9a36-3c1f1f0c0001"
	n.Labels["kubernetes.io/arch"] = "amd64"
	n.Labels["kubernetes.io/hostname"] = n.Name
	n.Annotations["machineconfiguration.openshift.io/lastAppliedDrain"] = "uncordon-rendered-worker-1"
	n.Annotations["machineconfiguration.openshift.io/controlPlaneTopology"] = "HighlyAvailable"
	n.Annotations["volumes.kubernetes.io/controller-managed-attach-detach"] = "true"
	n.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate,
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:conditions":{}}}`)}}}
	n.Spec = corev1.NodeSpec{ProviderID: "baremetalhost:///openshift-machine-api/" + n.Name, Unschedulable: true,
		Taints: []corev1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule}}}
	n.Status = corev1.NodeStatus{
		Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("128Gi")},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"}},
		Images:     []corev1.ContainerImage{{Names: []string{oldImage}, SizeBytes: 1 << 30}},
		NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.33.5", OSImage: "Red Hat Enterprise Linux CoreOS 9.6"},
	}
	return n
}

// fatMCN is a MachineConfigNode as the daemon writes it: every condition
// with a reason and a message, spec and config versions.
func fatMCN(m *mcfgv1.MachineConfigNode) *mcfgv1.MachineConfigNode {
	m = m.DeepCopy()
	m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "machine-config-daemon"}}
	m.Spec = mcfgv1.MachineConfigNodeSpec{Node: mcfgv1.MCOObjectReference{Name: m.Name}, Pool: mcfgv1.MCOObjectReference{Name: "worker"},
		ConfigVersion: mcfgv1.MachineConfigNodeSpecMachineConfigVersion{Desired: rendered}}
	m.Status.ConfigVersion = &mcfgv1.MachineConfigNodeStatusMachineConfigVersion{Current: rendered, Desired: rendered}
	for i := range m.Status.Conditions {
		m.Status.Conditions[i].Reason = "Node" + m.Status.Conditions[i].Type
		m.Status.Conditions[i].LastTransitionTime = metav1.NewTime(t0)
		m.Status.Conditions[i].ObservedGeneration = 3
	}
	return m
}

// cached is the snapshot as the watch's informers hold it: nodes arrive as
// their metadata (kube.NewMetadataInformer) and every object goes through
// slim. It starts from fat copies of the world's objects.
func cached(t *testing.T, s Snapshot) Snapshot {
	t.Helper()
	tr := func(obj any) any {
		out, err := slim(obj)
		if err != nil {
			t.Fatal(err)
		}
		again, err := slim(out)
		if err != nil || !cmp.Equal(again, out) {
			t.Fatalf("slim is not idempotent on %T: %v\n%s", out, err, cmp.Diff(out, again))
		}
		return out
	}
	c := s
	c.Nodes = nil
	for _, n := range s.Nodes {
		c.Nodes = append(c.Nodes, tr(&metav1.PartialObjectMetadata{ObjectMeta: fatNode(n).ObjectMeta}).(*corev1.Node))
	}
	c.MCNs = map[string]*mcfgv1.MachineConfigNode{}
	for k, m := range s.MCNs {
		c.MCNs[k] = tr(fatMCN(m)).(*mcfgv1.MachineConfigNode)
	}
	c.Pools = nil
	for _, p := range s.Pools {
		c.Pools = append(c.Pools, tr(p.DeepCopy()).(*mcfgv1.MachineConfigPool))
	}
	c.MOSBs = nil
	for _, b := range s.MOSBs {
		c.MOSBs = append(c.MOSBs, tr(b.DeepCopy()).(*mcfgv1.MachineOSBuild))
	}
	if s.MOSCObj != nil {
		c.MOSCObj = tr(s.MOSCObj.DeepCopy()).(*mcfgv1.MachineOSConfig)
	}
	return c
}

// evaluateCached is Evaluate of the world as the informers cache it, which
// must be the Evaluate of the world itself: slim keeps what the model reads.
func evaluateCached(t *testing.T, s Snapshot, want Status) {
	t.Helper()
	got := Evaluate(cached(t, s))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Evaluate of the slimmed objects differs (-full +slimmed):\n%s", d)
	}
}

func TestSlimNode(t *testing.T) {
	w := newWorld()
	w.node("worker-0", map[string]string{AnnotationState: NodeDegraded, AnnotationReason: "failed to drain node"})
	full := fatNode(w.nodes[0])
	full.ResourceVersion = "4711"
	want := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-0", ResourceVersion: "4711",
		Labels: full.Labels,
		Annotations: map[string]string{AnnotationState: NodeDegraded, AnnotationReason: "failed to drain node",
			AnnotationCurrentConfig: rendered, AnnotationDesiredConfig: rendered, AnnotationCurrentImage: oldImage, AnnotationDesiredImage: oldImage}}}
	for _, in := range []any{&metav1.PartialObjectMetadata{ObjectMeta: full.ObjectMeta}, full.DeepCopy()} {
		got, err := slim(in)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("slim(%T) (-want +got):\n%s", in, d)
		}
	}
	// The strings are shared between nodes.
	a, _ := slim(fatNode(w.nodes[0]))
	b, _ := slim(fatNode(w.nodes[1]))
	ia, ib := a.(*corev1.Node).Annotations[AnnotationCurrentImage], b.(*corev1.Node).Annotations[AnnotationCurrentImage]
	if ia != ib || unsafeData(ia) != unsafeData(ib) {
		t.Error("two nodes' currentImage annotations are separate copies")
	}
}

func TestSlimMachineConfigNode(t *testing.T) {
	full := fatMCN(&mcfgv1.MachineConfigNode{ObjectMeta: metav1.ObjectMeta{Name: "worker-0", ResourceVersion: "12"},
		Status: mcfgv1.MachineConfigNodeStatus{Conditions: []metav1.Condition{
			{Type: "Updated", Status: metav1.ConditionFalse, Message: "Node worker-0 updated to rendered-worker-1"},
			{Type: "Cordoned", Status: metav1.ConditionTrue, Message: "Node cordoned"},
			{Type: "NodeDegraded", Status: metav1.ConditionTrue, Message: "rpm-ostree rebase failed"},
		}}})
	want := &mcfgv1.MachineConfigNode{ObjectMeta: metav1.ObjectMeta{Name: "worker-0", ResourceVersion: "12"},
		Status: mcfgv1.MachineConfigNodeStatus{Conditions: []metav1.Condition{
			{Type: "Cordoned", Status: metav1.ConditionTrue},
			{Type: "NodeDegraded", Status: metav1.ConditionTrue, Message: "rpm-ostree rebase failed"},
		}}}
	got, err := slim(full)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("slim (-want +got):\n%s", d)
	}
}

// The objects the model reads whole lose their managed fields only.
func TestSlimKeepsBuildObjects(t *testing.T) {
	w := newWorld()
	w.build("Succeeded", t0)
	mosb := w.mosbs[0].DeepCopy()
	mosb.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "machine-config-controller"}}
	got, _ := slim(mosb.DeepCopy())
	mosb.ManagedFields = nil
	if d := cmp.Diff(mosb, got); d != "" {
		t.Errorf("MachineOSBuild (-want +got):\n%s", d)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "build-x", Labels: map[string]string{LabelJobName: "build-x"}},
		Spec:   corev1.PodSpec{NodeName: "master-0", Containers: []corev1.Container{{Name: "image-build", Command: []string{"/bin/sh", "-c", "buildah build"}}}},
		Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{{Name: BuildContainer, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
	got, _ = slim(pod.DeepCopy())
	pod.Spec = corev1.PodSpec{NodeName: "master-0"}
	if d := cmp.Diff(pod, got); d != "" {
		t.Errorf("build pod (-want +got):\n%s", d)
	}
}

// BenchmarkSlimNodeCache reports what the watch's node and
// MachineConfigNode caches hold per node after slim, for a 1000-node pool
// of fat objects: a count that does not depend on the machine's load.
func BenchmarkSlimNodeCache(b *testing.B) {
	w := newWorld()
	base := fatNode(w.nodes[0])
	mcn := fatMCN(&mcfgv1.MachineConfigNode{Status: mcfgv1.MachineConfigNodeStatus{Conditions: []metav1.Condition{
		{Type: "UpdatePrepared", Status: "False", Message: "Update is being prepared"}, {Type: "UpdateExecuted", Status: "False", Message: "Update executed"},
		{Type: "UpdatePostActionComplete", Status: "False", Message: "Post-update action completed"}, {Type: "UpdateComplete", Status: "False", Message: "Update complete"},
		{Type: "Updated", Status: "True", Message: "Node updated to " + rendered}, {Type: "Drained", Status: "False", Message: "Node drained"},
		{Type: "Cordoned", Status: "False", Message: "Node cordoned"}, {Type: "RebootedNode", Status: "False", Message: "Node is rebooting"},
		{Type: "NodeDegraded", Status: "False", Message: "NodeDegraded"}}}})
	const nodes = 1000
	// Decoded objects: every string its own allocation, as after a LIST.
	fresh := func(i int) (*metav1.PartialObjectMetadata, *mcfgv1.MachineConfigNode) {
		n := base.DeepCopy()
		n.Name = fmt.Sprintf("worker-%d", i)
		for k, v := range n.Annotations {
			n.Annotations[k] = string([]byte(v))
		}
		for k, v := range n.Labels {
			n.Labels[string([]byte(k))] = string([]byte(v))
		}
		m := mcn.DeepCopy()
		m.Name = n.Name
		for j := range m.Status.Conditions {
			c := &m.Status.Conditions[j]
			c.Type, c.Message = string([]byte(c.Type)), string([]byte(c.Message))
		}
		return &metav1.PartialObjectMetadata{ObjectMeta: n.ObjectMeta}, m
	}
	var keep []any
	var per float64
	for range b.N {
		keep = nil
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range nodes {
			n, m := fresh(i)
			sn, _ := slim(n)
			sm, _ := slim(m)
			keep = append(keep, sn, sm)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = float64(after.HeapAlloc-before.HeapAlloc) / nodes
	}
	runtime.KeepAlive(keep)
	b.ReportMetric(per, "cached-B/node")
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }
