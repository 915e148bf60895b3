package watch

import (
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	fakediscovery "k8s.io/client-go/discovery/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

// v1alpha1 objects shaped as the MCO of 4.16/4.17 writes them
// (machine-config-operator release-4.17 pkg/controller/build).
func v1alpha1MOSC(img string, gen, observed int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "machineconfiguration.openshift.io/v1alpha1", "kind": "MachineOSConfig",
		"metadata": map[string]any{"name": "worker", "generation": gen, "creationTimestamp": t0.Format(time.RFC3339)},
		"spec": map[string]any{
			"machineConfigPool": map[string]any{"name": "worker"},
			"buildInputs": map[string]any{
				"baseImagePullSecret":     map[string]any{"name": "pull-and-push-secret"},
				"imageBuilder":            map[string]any{"imageBuilderType": "PodImageBuilder"},
				"renderedImagePushSecret": map[string]any{"name": "push-secret"},
				"renderedImagePushspec":   "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest",
				"containerFile":           []any{map[string]any{"containerfileArch": "noarch", "content": "FROM configs AS final\n"}},
			},
		},
		"status": map[string]any{"observedGeneration": observed, "currentImagePullspec": img},
	}}
}

func v1alpha1MOSB(cond string, start, end *time.Time, img, pod string) *unstructured.Unstructured {
	st := map[string]any{}
	if start != nil {
		st["buildStart"] = start.Format(time.RFC3339)
	}
	if end != nil {
		st["buildEnd"] = end.Format(time.RFC3339)
	}
	if img != "" {
		st["finalImagePullspec"] = img
	}
	if pod != "" {
		st["builderReference"] = map[string]any{"imageBuilderType": "PodImageBuilder",
			"buildPod": map[string]any{"group": "", "resource": "pods", "namespace": MCONamespace, "name": pod}}
	}
	var conds []any
	for _, t := range []string{"Prepared", "Building", "Succeeded", "Failed", "Interrupted"} {
		s := "False"
		if t == cond {
			s = "True"
		}
		conds = append(conds, map[string]any{"type": t, "status": s, "reason": t, "message": "", "lastTransitionTime": t0.Format(time.RFC3339)})
	}
	st["conditions"] = conds
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "machineconfiguration.openshift.io/v1alpha1", "kind": "MachineOSBuild",
		"metadata": map[string]any{"name": "worker-" + rendered + "-builder", "creationTimestamp": t0.Format(time.RFC3339)},
		"spec": map[string]any{
			"configGeneration": int64(1), "version": int64(1),
			"desiredConfig":         map[string]any{"name": rendered},
			"machineOSConfig":       map[string]any{"name": "worker"},
			"renderedImagePushspec": "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest",
		},
		"status": st,
	}}
}

func TestV1alpha1Conversion(t *testing.T) {
	m, err := MOSCFromV1alpha1(v1alpha1MOSC(newImage, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "worker" || m.Spec.MachineConfigPool.Name != "worker" || string(m.Status.CurrentImagePullSpec) != newImage ||
		m.Status.ObservedGeneration != 2 || m.Generation != 2 || !m.CreationTimestamp.Time.Equal(t0) {
		t.Errorf("MOSC %+v", m)
	}
	start, end := t0.Add(time.Minute), t0.Add(8*time.Minute)
	b, err := MOSBFromV1alpha1(v1alpha1MOSB("Succeeded", &start, &end, newImage, "build-"+rendered))
	if err != nil {
		t.Fatal(err)
	}
	if b.Spec.MachineConfig.Name != rendered || b.Spec.MachineOSConfig.Name != "worker" || string(b.Status.DigestedImagePushSpec) != newImage ||
		!b.Status.BuildStart.Time.Equal(start) || !b.Status.BuildEnd.Time.Equal(end) || len(b.Status.Conditions) != 5 ||
		b.Status.Builder == nil || b.Status.Builder.Job.Resource != "pods" || b.Status.Builder.Job.Name != "build-"+rendered {
		t.Errorf("MOSB %+v", b)
	}
	// Before the MCO records the pod, its name follows from the rendered config.
	b, err = MOSBFromV1alpha1(v1alpha1MOSB("Prepared", nil, nil, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if b.Status.Builder == nil || b.Status.Builder.Job.Name != "build-"+rendered || b.Status.BuildStart != nil {
		t.Errorf("MOSB without a pod reference: %+v", b.Status)
	}
	bad := v1alpha1MOSB("Building", nil, nil, "", "")
	_ = unstructured.SetNestedField(bad.Object, "yesterday", "status", "buildStart")
	if _, err := MOSBFromV1alpha1(bad); err == nil {
		t.Error("a malformed buildStart converted")
	}
}

// The model follows a v1alpha1 build through the converted objects: the
// PodImageBuilder's pod is found by name (it has no job-name label).
func TestV1alpha1BuildInModel(t *testing.T) {
	start := t0.Add(time.Minute)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "build-" + rendered, Namespace: MCONamespace,
		Labels: map[string]string{LabelEphemeralBuildObject: ""}, CreationTimestamp: metav1.NewTime(start)},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: BuildContainer, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
	for _, tt := range []struct {
		cond, img, moscImg string
		wantState          string
		wantPhase          Phase
	}{
		{"Building", "", "", BuildBuilding, PhaseBuild},
		{"Succeeded", newImage, newImage, BuildSucceeded, PhaseRollout},
		{"Failed", "", "", BuildFailed, PhaseFailed},
	} {
		m, err := MOSCFromV1alpha1(v1alpha1MOSC(tt.moscImg, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		b, err := MOSBFromV1alpha1(v1alpha1MOSB(tt.cond, &start, nil, tt.img, "build-"+rendered))
		if err != nil {
			t.Fatal(err)
		}
		pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"},
			Spec: mcfgv1.MachineConfigPoolSpec{Configuration: mcfgv1.MachineConfigPoolStatusConfiguration{ObjectReference: corev1.ObjectReference{Name: rendered}},
				NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/worker": ""}}}}
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "w1", Labels: map[string]string{"node-role.kubernetes.io/worker": ""},
			Annotations: map[string]string{AnnotationState: NodeDone, AnnotationCurrentConfig: rendered, AnnotationDesiredConfig: rendered}}}
		st := Evaluate(Snapshot{Pool: "worker", MOSC: "worker", MOSCObj: m, MOSBs: []*mcfgv1.MachineOSBuild{b},
			Pools: []*mcfgv1.MachineConfigPool{pool}, Nodes: []*corev1.Node{n}, BuildPods: []*corev1.Pod{pod}})
		if st.Build.State != tt.wantState || st.Phase != tt.wantPhase || st.Build.Pod != pod.Name || !st.Build.PodRunning || st.Build.Job != "" {
			t.Errorf("%s: build %+v phase %s", tt.cond, st.Build, st.Phase)
		}
		if tt.cond == "Succeeded" && st.TargetImage != newImage {
			t.Errorf("target image %q", st.TargetImage)
		}
	}
}

func TestLayeringAPI(t *testing.T) {
	for _, tt := range []struct {
		served []string
		want   string
	}{{[]string{"v1"}, APIv1}, {[]string{"v1alpha1"}, APIv1alpha1}, {[]string{"v1alpha1", "v1"}, APIv1}, {nil, ""}} {
		d := kubefake.NewSimpleClientset().Discovery().(*fakediscovery.FakeDiscovery)
		for _, v := range tt.served {
			d.Resources = append(d.Resources, &metav1.APIResourceList{GroupVersion: mcfgv1.GroupName + "/" + v,
				APIResources: []metav1.APIResource{{Name: "machineosconfigs"}, {Name: "machineosbuilds"}}})
		}
		got, err := LayeringAPI(d)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("served %v: %q, %v; want %q", tt.served, got, err, tt.want)
		}
	}
}
