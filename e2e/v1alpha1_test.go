package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
	"github.com/mosc-dev/mosc/internal/watch"
)

// useV1alpha1Cluster makes env an OpenShift cluster of version (4.16.z,
// 4.17.z, 4.18.0-19) for the test: its v1alpha1 MachineOSConfig and
// MachineOSBuild CRDs replace the v1 ones until the test ends.
func useV1alpha1Cluster(t *testing.T, version string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	restore, err := env.UseV1alpha1Cluster(ctx, version)
	if err != nil {
		t.Fatalf("v1alpha1 cluster %s: %v", version, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := restore(ctx); err != nil {
			t.Errorf("restoring the v1 CRDs: %v", err)
		}
	})
}

// Every bundle the catalog renders for the v1alpha1 releases (4.16, 4.17,
// 4.18.0-19) is accepted by a real API server serving that release's
// v1alpha1 CRDs (e2e/testdata/crds/openshift-v1alpha1, unmodified), and the
// same server refuses a v1 MachineOSConfig: the swap is real.
func TestV1alpha1BundlesAcceptedByAPIServer(t *testing.T) {
	resetEnv(t)
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"4.16.0", "4.17.3", "4.18.15"} {
		t.Run(version, func(t *testing.T) {
			useV1alpha1Cluster(t, version)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			rel, err := cat.Release(version)
			if err != nil {
				t.Fatal(err)
			}
			sent := 0
			for _, p := range cat.Platforms() {
				for _, s := range cat.Stacks() {
					if !slices.Contains(s.Spec.Support.Releases, rel.Metadata.Name) || !slices.Contains(s.Spec.Support.Platforms, p.Metadata.Name) {
						continue
					}
					for _, v := range s.Spec.Variants {
						site := profile.NewSite()
						site.Override(profile.Overrides{OpenShift: version, Platform: p.Metadata.Name, Stacks: []string{s.Metadata.Name + ":" + v.Name}})
						plan, err := cat.Resolve(site)
						if err != nil {
							t.Fatalf("%s %s %s: %v", p.Metadata.Name, s.Metadata.Name, v.Name, err)
						}
						res, err := render.Render(plan, render.Options{})
						if err != nil {
							t.Fatal(err)
						}
						for _, o := range res.Bundle.Objects {
							if o.Content.GetKind() != "MachineOSConfig" {
								continue
							}
							if o.Content.GroupVersionKind() != bundle.GVKMachineOSConfigV1alpha1 {
								t.Fatalf("%s renders %s", version, o.Content.GroupVersionKind())
							}
							if err := dryRun(ctx, t, o); err != nil {
								t.Errorf("%s/%s:%s: %s rejected by the %s API server: %v", p.Metadata.Name, s.Metadata.Name, v.Name, o.FileName, version, err)
							}
							sent++
						}
					}
				}
			}
			if sent == 0 {
				t.Fatal("no v1alpha1 MachineOSConfig rendered")
			}
			// The v1 shape of the same plan has nowhere to go.
			site := profile.NewSite()
			site.Override(profile.Overrides{OpenShift: "4.18.20"})
			plan, err := cat.Resolve(site)
			if err != nil {
				t.Fatal(err)
			}
			res, err := render.Render(plan, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			mosc := res.Bundle.Objects[len(res.Bundle.Objects)-1]
			if err := dryRun(ctx, t, mosc); err == nil || !apierrors.IsNotFound(err) {
				t.Errorf("a v1 MachineOSConfig on the %s cluster: %v, want not found (not served)", version, err)
			}
			t.Logf("%d v1alpha1 MachineOSConfigs accepted (dry run)", sent)
		})
	}
}

// apply refuses, before any write, a plan whose MachineOSConfig version the
// API server does not serve, naming both; with the cluster's own version it
// applies the v1alpha1 MachineOSConfig.
func TestApplyServedAPIMismatch(t *testing.T) {
	resetEnv(t)
	ctx := context.Background()
	nothingWritten := func(t *testing.T) {
		t.Helper()
		if _, err := env.Clients.Kube.CoreV1().ConfigMaps(profile.MCONamespace).Get(ctx, "etc-yum-repos-d", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap etc-yum-repos-d: %v, want not found (nothing written)", err)
		}
		if _, err := env.Clients.Kube.CoreV1().Secrets(profile.MCONamespace).Get(ctx, profile.PushSecretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Secret %s: %v, want not found (nothing written)", profile.PushSecretName, err)
		}
	}

	// A v1 cluster (4.20.15) and a plan for 4.18.15: --force does not help.
	_, errOut, code := runMosc(t, "apply", "--pool", "worker", "--openshift", "4.18.15", "--force")
	if code != 2 || !strings.Contains(errOut, "the plan is for OpenShift 4.18.0-4.18.19 and renders MachineOSConfig v1alpha1") ||
		!strings.Contains(errOut, "serves machineosconfigs only in v1") || !strings.Contains(errOut, "the cluster runs OpenShift 4.20.15") {
		t.Errorf("v1alpha1 plan on a v1 cluster: exit %d\n%s", code, errOut)
	}
	nothingWritten(t)

	useV1alpha1Cluster(t, "4.18.15")
	// A site saying "4.18" (4.18.20+, v1) on a 4.18.15 cluster.
	_, errOut, code = runMosc(t, "apply", "--pool", "worker", "--openshift", "4.18")
	for _, want := range []string{
		"the plan is for OpenShift 4.18.20+ and renders MachineOSConfig v1",
		"serves machineosconfigs only in v1alpha1",
		"the cluster runs OpenShift 4.18.15 (the catalog's 4.18.0-4.18.19: MachineOSConfig v1alpha1, PodImageBuilder, TechPreviewNoUpgrade)",
		"nothing was changed",
	} {
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("v1 plan on a 4.18.15 cluster: exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
	nothingWritten(t)
	for _, args := range [][]string{
		{"gate", "--pool", "worker", "--openshift", "4.18", "--to", "4.19.3", "--node-checks=false"},
		{"diff", "--live", "--pool", "worker", "--openshift", "4.18"},
		{"watch", "--pool", "worker", "--openshift", "4.18", "--timeout", "10s"},
	} {
		if _, errOut, code := runMosc(t, args...); code != 2 || !strings.Contains(errOut, "serves machineosconfigs only in v1alpha1") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}

	// The cluster's own version: the v1alpha1 MachineOSConfig is applied.
	out, errOut, code := runMosc(t, "apply", "--pool", "worker")
	if code != 0 {
		t.Fatalf("apply on the 4.18.15 cluster: exit %d\n%s\n%s", code, out, errOut)
	}
	u, err := env.Clients.Dynamic.Resource(watch.GVRMachineOSConfigV1alpha1).Get(ctx, "worker", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("v1alpha1 MachineOSConfig worker: %v", err)
	}
	if b, _, _ := unstructured.NestedString(u.Object, "spec", "buildInputs", "imageBuilder", "imageBuilderType"); b != "PodImageBuilder" {
		t.Errorf("imageBuilderType %q", b)
	}
	if a := u.GetAnnotations()["mosc.dev/openshift"]; a != "4.18.0-4.18.19" {
		t.Errorf("mosc.dev/openshift annotation %q", a)
	}
}

// mco417 plays the 4.16/4.17 Machine Config Operator's build controller on a
// v1alpha1 cluster, with the object shapes of machine-config-operator
// release-4.17 pkg/controller/build (build_controller.go: MOSB
// <pool>-<rendered>-builder; image_build_request.go: Pod build-<rendered>,
// labels, container image-build).
type mco417 struct {
	t        *testing.T
	pool     string
	rendered string
	mosb     string
	pod      string
}

func (m *mco417) ctx() context.Context { return context.Background() }

func (m *mco417) startBuild(pushSpec string) {
	t := m.t
	now := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	mosbs := env.Clients.Dynamic.Resource(watch.GVRMachineOSBuildV1alpha1)
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "machineconfiguration.openshift.io/v1alpha1", "kind": "MachineOSBuild",
		"metadata": map[string]any{"name": m.mosb},
		"spec": map[string]any{
			"configGeneration": int64(1), "version": int64(1),
			"desiredConfig":         map[string]any{"name": m.rendered},
			"machineOSConfig":       map[string]any{"name": m.pool},
			"renderedImagePushspec": pushSpec,
		},
	}}
	created, err := mosbs.Create(m.ctx(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create MachineOSBuild: %v", err)
	}
	m.setBuild(created, "Building", now, "", "")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: m.pod, Namespace: profile.MCONamespace, Labels: map[string]string{
			watch.LabelEphemeralBuildObject:                                "",
			"machineconfiguration.openshift.io/on-cluster-layering":        "",
			"machineconfiguration.openshift.io/rendered-machine-config":    m.rendered,
			"machineconfiguration.openshift.io/target-machine-config-pool": m.pool,
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "image-build", Image: "quay.io/openshift/mco:4.17"}, {Name: "wait-for-done", Image: "quay.io/openshift/rhcos:4.17"}}},
	}
	p, err := env.Clients.Kube.CoreV1().Pods(profile.MCONamespace).Create(m.ctx(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create build pod: %v", err)
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
		{Name: "image-build", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}}
	if _, err := env.Clients.Kube.CoreV1().Pods(profile.MCONamespace).UpdateStatus(m.ctx(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("build pod status: %v", err)
	}
}

// setBuild writes the MOSB status: the True condition, build times, image.
func (m *mco417) setBuild(u *unstructured.Unstructured, state, start, end, image string) {
	t := m.t
	var conds []any
	now := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	for _, c := range []string{"Prepared", "Building", "Succeeded", "Failed", "Interrupted"} {
		s := "False"
		if c == state {
			s = "True"
		}
		conds = append(conds, map[string]any{"type": c, "status": s, "reason": c, "message": "", "lastTransitionTime": now})
	}
	st := map[string]any{
		"buildStart": start, "conditions": conds,
		"builderReference": map[string]any{"imageBuilderType": "PodImageBuilder",
			"buildPod": map[string]any{"group": "", "resource": "pods", "namespace": profile.MCONamespace, "name": m.pod}},
	}
	if end != "" {
		st["buildEnd"] = end
	}
	if image != "" {
		st["finalImagePullspec"] = image
	}
	u.Object["status"] = st
	if _, err := env.Clients.Dynamic.Resource(watch.GVRMachineOSBuildV1alpha1).UpdateStatus(m.ctx(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("MachineOSBuild status %s: %v", state, err)
	}
}

func (m *mco417) succeed(image string) {
	t := m.t
	mosbs := env.Clients.Dynamic.Resource(watch.GVRMachineOSBuildV1alpha1)
	u, err := mosbs.Get(m.ctx(), m.mosb, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start, _, _ := unstructured.NestedString(u.Object, "status", "buildStart")
	m.setBuild(u, "Succeeded", start, time.Now().UTC().Truncate(time.Second).Format(time.RFC3339), image)
	moscs := env.Clients.Dynamic.Resource(watch.GVRMachineOSConfigV1alpha1)
	mosc, err := moscs.Get(m.ctx(), m.pool, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mosc.Object["status"] = map[string]any{"observedGeneration": mosc.GetGeneration(), "currentImagePullspec": image}
	if _, err := moscs.UpdateStatus(m.ctx(), mosc, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("MachineOSConfig status: %v", err)
	}
}

// rollout moves every node of the pool to image, as the daemon does.
func (m *mco417) rollout(image string) {
	t := m.t
	nodes, err := env.Clients.Kube.CoreV1().Nodes().List(m.ctx(), metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/" + m.pool})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		for _, step := range []map[string]string{
			{watch.AnnotationDesiredImage: image, watch.AnnotationState: "Working"},
			{watch.AnnotationCurrentImage: image, watch.AnnotationState: "Done"},
		} {
			patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": step}})
			if _, err := env.Clients.Kube.CoreV1().Nodes().Patch(m.ctx(), n.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func statusJSON(t *testing.T, pool string) (watch.Status, int) {
	t.Helper()
	out, errOut, code := runMosc(t, "status", "--pool", pool, "-o", "json")
	var st watch.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("mosc status: exit %d, not JSON (%v)\n%s\n%s", code, err, out, errOut)
	}
	return st, code
}

// watch and status follow a v1alpha1 (4.18.15) build and rollout: the
// MachineOSBuild and the PodImageBuilder's build pod, then every node of the
// pool onto the built image.
func TestWatchAndStatusFollowV1alpha1Cluster(t *testing.T) {
	resetEnv(t)
	useV1alpha1Cluster(t, "4.18.15")
	ctx := context.Background()
	if out, errOut, code := runMosc(t, "apply", "--pool", "worker"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	pool, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, "worker", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rendered := pool.Spec.Configuration.Name
	m := &mco417{t: t, pool: "worker", rendered: rendered, mosb: fmt.Sprintf("worker-%s-builder", rendered), pod: "build-" + rendered}

	// watch from the start, in the background, as a user would.
	type result struct {
		out, errOut string
		code        int
	}
	done := make(chan result, 1)
	shown := newLines()
	go func() {
		out, errOut, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute, Stdout: shown}, "watch", "--pool", "worker", "-o", "json", "--timeout", "40s")
		done <- result{out, errOut, code}
	}()
	// The watch must see each state before the next replaces it: wait for
	// it to show one (a fixed wait was too short for a watch starting under load).
	showsBuild := func(state string) {
		shown.waitFor(t, testCtx(t, time.Minute), "MachineOSBuild "+m.mosb+" "+state, func(l string) bool {
			return strings.Contains(l, m.mosb) && strings.Contains(l, `"state":"`+state+`"`)
		})
	}

	st, _ := statusJSON(t, "worker")
	if st.Build.State != watch.BuildWaiting || st.Phase != watch.PhaseBuild {
		t.Errorf("before the build: %+v", st.Build)
	}
	m.startBuild("image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest")
	st, _ = statusJSON(t, "worker")
	if st.Build.State != watch.BuildBuilding || st.Build.MOSB != m.mosb || st.Build.Pod != m.pod || st.Build.Job != "" {
		t.Errorf("building: %+v", st.Build)
	}
	image := "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image@sha256:" + strings.Repeat("7", 64)
	showsBuild(watch.BuildBuilding)
	m.succeed(image)
	st, _ = statusJSON(t, "worker")
	if st.Build.State != watch.BuildSucceeded || st.TargetImage != image || st.Phase != watch.PhaseRollout {
		t.Errorf("built: phase %s, build %+v, target %q", st.Phase, st.Build, st.TargetImage)
	}
	showsBuild(watch.BuildSucceeded)
	m.rollout(image)
	st, _ = statusJSON(t, "worker")
	if st.Phase != watch.PhaseVerify || st.Updated != st.Total || st.Total != 3 {
		t.Errorf("rolled out: phase %s, %d/%d updated", st.Phase, st.Updated, st.Total)
	}

	r := <-done
	// Every node is updated; the on-node checks need the simulator's node
	// agent, which follows v1 clusters only: the watch ends at its timeout
	// in the verify phase, having followed the build and the rollout.
	var events []watch.Event
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var e watch.Event
		if json.Unmarshal([]byte(line), &e) == nil {
			events = append(events, e)
		}
	}
	seen := func(pred func(watch.Event) bool) bool { return slices.ContainsFunc(events, pred) }
	if !seen(func(e watch.Event) bool {
		return strings.Contains(e.Message, watch.BuildBuilding) && strings.Contains(e.Object, m.mosb)
	}) ||
		!seen(func(e watch.Event) bool {
			return strings.Contains(e.Message, watch.BuildSucceeded) && strings.Contains(e.Object, m.mosb)
		}) ||
		!seen(func(e watch.Event) bool { return e.Phase == watch.PhaseVerify }) {
		t.Errorf("watch events (exit %d):\n%s\n%s", r.code, r.out, r.errOut)
	}
	if r.code != 1 || !strings.Contains(r.out+r.errOut, "timed out") {
		t.Errorf("watch: exit %d, want the timeout in the verify phase\n%s", r.code, r.errOut)
	}
}
