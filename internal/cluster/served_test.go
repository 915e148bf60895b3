package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/mosc-dev/mosc/internal/profile"
)

// discoveryServing fakes an API server serving machineosconfigs in the given
// versions of machineconfiguration.openshift.io (machineconfigpools in v1
// always, as every OpenShift does).
func discoveryServing(versions ...string) *fakediscovery.FakeDiscovery {
	d := kubefake.NewSimpleClientset().Discovery().(*fakediscovery.FakeDiscovery)
	d.Resources = []*metav1.APIResourceList{{
		GroupVersion: MachineConfigGroup + "/v1",
		APIResources: []metav1.APIResource{{Name: "machineconfigpools", Kind: "MachineConfigPool"}},
	}}
	for _, v := range versions {
		gv := MachineConfigGroup + "/" + v
		found := false
		for _, rl := range d.Resources {
			if rl.GroupVersion == gv {
				rl.APIResources = append(rl.APIResources, metav1.APIResource{Name: "machineosconfigs", Kind: "MachineOSConfig"})
				found = true
			}
		}
		if !found {
			d.Resources = append(d.Resources, &metav1.APIResourceList{GroupVersion: gv,
				APIResources: []metav1.APIResource{{Name: "machineosconfigs", Kind: "MachineOSConfig"}}})
		}
	}
	return d
}

func TestCheckServedAPI(t *testing.T) {
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	plan := func(version string) *profile.Plan {
		s := profile.NewSite()
		s.Override(profile.Overrides{OpenShift: version})
		p, err := cat.Resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, planVersion, clusterVersion string
		served                            []string
		want                              []string // substrings of the error; nil = no error
	}{
		{"v1 plan, v1 cluster", "4.20", "4.20.15", []string{"v1"}, nil},
		{"4.18.15 plan, v1alpha1 cluster", "4.18.15", "4.18.15", []string{"v1alpha1"}, nil},
		{"4.18 means 4.18.20+, but the cluster is 4.18.15", "4.18", "4.18.15", []string{"v1alpha1"}, []string{
			"the plan is for OpenShift 4.18.20+ and renders MachineOSConfig v1",
			"serves machineosconfigs only in v1alpha1",
			"the cluster runs OpenShift 4.18.15 (the catalog's 4.18.0-4.18.19: MachineOSConfig v1alpha1, PodImageBuilder, TechPreviewNoUpgrade)",
			"nothing was changed", "--openshift 4.18.15"}},
		{"v1alpha1 plan, v1 cluster", "4.18.15", "4.18.22", []string{"v1"}, []string{
			"the plan is for OpenShift 4.18.0-4.18.19 and renders MachineOSConfig v1alpha1", "only in v1",
			"the catalog's 4.18.20+: MachineOSConfig v1, Job, GA"}},
		{"OCL not enabled", "4.17", "4.17.3", nil, []string{"serves no machineosconfigs", "TechPreviewNoUpgrade"}},
		{"unknown cluster version", "4.20", "", []string{"v1alpha1"}, []string{"only in v1alpha1", "e.g. --openshift 4.18.15"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served, err := CheckServedAPI(discoveryServing(tt.served...), cat, plan(tt.planVersion), tt.clusterVersion)
			if strings.Join(served, ",") != strings.Join(tt.served, ",") {
				t.Errorf("served %v, want %v", served, tt.served)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var me *APIMismatchError
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want an APIMismatchError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCheckPoolStream(t *testing.T) {
	pool := func(name string, spec, status string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfigPool",
			"metadata": map[string]any{"name": name},
		}}
		if spec != "" {
			_ = unstructured.SetNestedField(u.Object, spec, "spec", "osImageStream", "name")
		}
		if status != "" {
			_ = unstructured.SetNestedField(u.Object, status, "status", "osImageStream", "name")
		}
		return u
	}
	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme,
		map[schema.GroupVersionResource]string{poolGVR: "MachineConfigPoolList"},
		pool("worker", "", ""), pool("rhel9", "rhel-9", "rhel-9"), pool("rhel10", "rhel-10", ""),
		pool("moving", "", "rhel-10"), pool("custom", "my-stream", ""))
	for _, tt := range []struct {
		pool, want string
	}{
		{"worker", ""},
		{"rhel9", ""},
		{"absent", ""},
		{"rhel10", `machineconfigpool rhel10 uses OS image stream "rhel-10" (spec.osImageStream.name): mosc layers the default RHEL 9 stream only`},
		{"moving", `machineconfigpool moving uses OS image stream "rhel-10" (status.osImageStream.name)`},
		{"custom", `machineconfigpool custom uses OS image stream "my-stream"`},
	} {
		err := CheckPoolStream(context.Background(), dyn, tt.pool, "9")
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.pool, err)
			}
			continue
		}
		var pe *PoolStreamError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("%s: %v, want %q", tt.pool, err, tt.want)
		}
	}
}
