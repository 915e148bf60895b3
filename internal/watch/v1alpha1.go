package watch

import (
	"context"
	"fmt"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/mosc-dev/mosc/internal/kube"
)

// OpenShift 4.16, 4.17 and 4.18.0-4.18.19 serve MachineOSConfig and
// MachineOSBuild only as machineconfiguration.openshift.io/v1alpha1, whose
// Go types the pinned openshift/api no longer has. mosc reads them with the
// dynamic client and converts them here into the v1 types the model reads,
// field by field (the CRDs of e2e/testdata/crds/openshift-v1alpha1, from
// openshift/api release-4.16/4.17/4.18 machineconfiguration/v1alpha1):
//
//	MachineOSConfig v1alpha1           → v1
//	spec.machineConfigPool.name        → spec.machineConfigPool.name
//	status.currentImagePullspec        → status.currentImagePullSpec
//	status.observedGeneration, conditions (same)
//
//	MachineOSBuild v1alpha1            → v1
//	spec.desiredConfig.name            → spec.machineConfig.name
//	spec.machineOSConfig.name          → spec.machineOSConfig.name
//	status.finalImagePullspec          → status.digestedImagePushSpec
//	status.buildStart, buildEnd, conditions (same types: Prepared, Building,
//	  Succeeded, Failed, Interrupted)
//	status.builderReference.buildPod   → status.builder.job, with resource
//	  "pods": the v1alpha1 builder is a bare Pod, not a Job
//
// The MCO of those releases (machine-config-operator release-4.16/4.17,
// pkg/controller/build/build_controller.go and image_build_request.go) names
// the build <pool>-<rendered config>-builder, sets no
// current-machine-os-build annotation, and runs the build in Pod
// build-<rendered config> (containers image-build and wait-for-done) labelled
// machineconfiguration.openshift.io/ephemeral-build-object.

// Versions of the layering API.
const (
	APIv1       = "v1"
	APIv1alpha1 = "v1alpha1"
)

// LabelEphemeralBuildObject marks the v1alpha1 MCO's build pod, ConfigMaps
// and Secrets (release-4.17 pkg/controller/build/constants.go).
const LabelEphemeralBuildObject = "machineconfiguration.openshift.io/ephemeral-build-object"

// BuilderPodImageBuilder is the v1alpha1 image builder; a converted
// MachineOSBuild carries it in status.builder.imageBuilderType.
const BuilderPodImageBuilder = "PodImageBuilder"

var (
	GVRMachineOSConfigV1alpha1 = schema.GroupVersionResource{Group: mcfgGroup, Version: APIv1alpha1, Resource: "machineosconfigs"}
	GVRMachineOSBuildV1alpha1  = schema.GroupVersionResource{Group: mcfgGroup, Version: APIv1alpha1, Resource: "machineosbuilds"}
)

// LayeringAPI says which version of machineosconfigs the cluster serves:
// "v1" (preferred when both are), "v1alpha1", or an error naming what is
// missing. When discovery itself fails, "v1" lets the informers try.
func LayeringAPI(d kube.DiscoveryInterface) (string, error) {
	if d == nil {
		return APIv1, nil
	}
	served := map[string]bool{}
	for _, v := range []string{APIv1, APIv1alpha1} {
		rl, err := d.ServerResourcesForGroupVersion(mcfgv1.GroupName + "/" + v)
		if err != nil && !apierrors.IsNotFound(err) {
			return APIv1, nil
		}
		if rl == nil {
			continue
		}
		for _, r := range rl.APIResources {
			if r.Name == "machineosconfigs" {
				served[v] = true
			}
		}
	}
	switch {
	case served[APIv1]:
		return APIv1, nil
	case served[APIv1alpha1]:
		return APIv1alpha1, nil
	}
	return "", fmt.Errorf("the cluster serves no machineosconfigs (neither %s/v1 nor v1alpha1): On-Cluster Layering is not enabled; before 4.18.20 it needs featureSet TechPreviewNoUpgrade", mcfgv1.GroupName)
}

// MOSCFromV1alpha1 converts a v1alpha1 MachineOSConfig into the v1 type the
// model reads (what the model needs: metadata, pool, status).
func MOSCFromV1alpha1(u *unstructured.Unstructured) (*mcfgv1.MachineOSConfig, error) {
	m := &mcfgv1.MachineOSConfig{}
	if err := copyMeta(u, &m.ObjectMeta); err != nil {
		return nil, err
	}
	m.APIVersion, m.Kind = mcfgv1.GroupVersion.String(), "MachineOSConfig"
	m.Spec.MachineConfigPool.Name, _, _ = unstructured.NestedString(u.Object, "spec", "machineConfigPool", "name")
	img, _, _ := unstructured.NestedString(u.Object, "status", "currentImagePullspec")
	m.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(img)
	m.Status.ObservedGeneration, _, _ = unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	conds, err := conditionsOf(u)
	if err != nil {
		return nil, fmt.Errorf("machineosconfig %s: %w", u.GetName(), err)
	}
	m.Status.Conditions = conds
	return m, nil
}

// MOSBFromV1alpha1 converts a v1alpha1 MachineOSBuild into the v1 type.
func MOSBFromV1alpha1(u *unstructured.Unstructured) (*mcfgv1.MachineOSBuild, error) {
	b := &mcfgv1.MachineOSBuild{}
	if err := copyMeta(u, &b.ObjectMeta); err != nil {
		return nil, err
	}
	b.APIVersion, b.Kind = mcfgv1.GroupVersion.String(), "MachineOSBuild"
	b.Spec.MachineConfig.Name, _, _ = unstructured.NestedString(u.Object, "spec", "desiredConfig", "name")
	b.Spec.MachineOSConfig.Name, _, _ = unstructured.NestedString(u.Object, "spec", "machineOSConfig", "name")
	push, _, _ := unstructured.NestedString(u.Object, "spec", "renderedImagePushspec")
	b.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat(push)
	img, _, _ := unstructured.NestedString(u.Object, "status", "finalImagePullspec")
	b.Status.DigestedImagePushSpec = mcfgv1.ImageDigestFormat(img)
	for _, f := range []struct {
		field string
		dst   **metav1.Time
	}{{"buildStart", &b.Status.BuildStart}, {"buildEnd", &b.Status.BuildEnd}} {
		s, ok, _ := unstructured.NestedString(u.Object, "status", f.field)
		if !ok || s == "" {
			continue
		}
		var t metav1.Time
		if err := t.UnmarshalQueryParameter(s); err != nil {
			return nil, fmt.Errorf("machineosbuild %s: status.%s: %w", u.GetName(), f.field, err)
		}
		*f.dst = &t
	}
	// The v1alpha1 builder is a bare Pod: keep the reference with resource
	// "pods", so the model looks the pod up by name instead of by Job.
	pod, _, _ := unstructured.NestedString(u.Object, "status", "builderReference", "buildPod", "name")
	if pod == "" && b.Spec.MachineConfig.Name != "" {
		pod = "build-" + b.Spec.MachineConfig.Name // the MCO's name for it, before it records it
	}
	if pod != "" {
		ns, _, _ := unstructured.NestedString(u.Object, "status", "builderReference", "buildPod", "namespace")
		if ns == "" {
			ns = MCONamespace
		}
		b.Status.Builder = &mcfgv1.MachineOSBuilderReference{
			ImageBuilderType: BuilderPodImageBuilder,
			Job:              &mcfgv1.ObjectReference{Resource: "pods", Namespace: ns, Name: pod},
		}
	}
	conds, err := conditionsOf(u)
	if err != nil {
		return nil, fmt.Errorf("machineosbuild %s: %w", u.GetName(), err)
	}
	b.Status.Conditions = conds
	return b, nil
}

func copyMeta(u *unstructured.Unstructured, dst *metav1.ObjectMeta) error {
	var m struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(map[string]any{"metadata": u.Object["metadata"]}, &m); err != nil {
		return fmt.Errorf("%s %s: metadata: %w", u.GetKind(), u.GetName(), err)
	}
	*dst = m.Metadata
	return nil
}

func conditionsOf(u *unstructured.Unstructured) ([]metav1.Condition, error) {
	raw, ok, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	if !ok {
		return nil, nil
	}
	var st struct {
		Conditions []metav1.Condition `json:"conditions"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(map[string]any{"conditions": raw}, &st); err != nil {
		return nil, fmt.Errorf("status.conditions: %w", err)
	}
	return st.Conditions, nil
}

// convertV1alpha1 is the informer transform of v1alpha1 objects: the cache
// then holds the v1 types the listers hand to the model.
func convertV1alpha1(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil // a tombstone: the informer deals with it
	}
	var out any
	var err error
	switch u.GetKind() {
	case "MachineOSConfig":
		out, err = MOSCFromV1alpha1(u)
	case "MachineOSBuild":
		out, err = MOSBFromV1alpha1(u)
	default:
		return obj, nil
	}
	if err != nil {
		return nil, err
	}
	return slim(out)
}

// convertedMOSCs and convertedMOSBs list what the v1alpha1 informers hold
// (already converted to v1) through the listers interface of the model.
type convertedMOSCs struct{ idx cache.Indexer }

func (l convertedMOSCs) Get(name string) (*mcfgv1.MachineOSConfig, error) {
	obj, ok, err := l.idx.GetByKey(name)
	if err != nil {
		return nil, err
	}
	m, isMOSC := obj.(*mcfgv1.MachineOSConfig)
	if !ok || !isMOSC {
		return nil, apierrors.NewNotFound(GVRMachineOSConfigV1alpha1.GroupResource(), name)
	}
	return m, nil
}

type convertedMOSBs struct{ idx cache.Indexer }

func (l convertedMOSBs) List(sel labels.Selector) ([]*mcfgv1.MachineOSBuild, error) {
	var out []*mcfgv1.MachineOSBuild
	for _, obj := range l.idx.List() {
		if b, ok := obj.(*mcfgv1.MachineOSBuild); ok && sel.Matches(labels.Set(b.Labels)) {
			out = append(out, b)
		}
	}
	return out, nil
}

// fetchV1alpha1 reads the MachineOSConfig and MachineOSBuilds of a v1alpha1
// cluster into s, converted.
func fetchV1alpha1(ctx context.Context, dyn dynamic.Interface, s *Snapshot) error {
	u, err := dyn.Resource(GVRMachineOSConfigV1alpha1).Get(ctx, s.MOSC, metav1.GetOptions{})
	switch {
	case err == nil:
		if s.MOSCObj, err = MOSCFromV1alpha1(u); err != nil {
			return err
		}
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading machineosconfig %s (v1alpha1): %w", s.MOSC, err)
	}
	list, err := dyn.Resource(GVRMachineOSBuildV1alpha1).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing machineosbuilds (v1alpha1): %w", err)
	}
	for i := range list.Items {
		b, err := MOSBFromV1alpha1(&list.Items[i])
		if err != nil {
			return err
		}
		s.MOSBs = append(s.MOSBs, b)
	}
	return nil
}
