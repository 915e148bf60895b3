package cluster

import (
	"strings"
	"testing"

	configv1 "github.com/openshift/api/config/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestVersionOf(t *testing.T) {
	tests := []struct {
		name string
		cv   configv1.ClusterVersionStatus
		want string
		err  bool
	}{
		{name: "desired", cv: configv1.ClusterVersionStatus{Desired: configv1.Release{Version: "4.20.15"}}, want: "4.20.15"},
		{name: "history", cv: configv1.ClusterVersionStatus{History: []configv1.UpdateHistory{
			{State: configv1.PartialUpdate, Version: "4.21.11"},
			{State: configv1.CompletedUpdate, Version: "4.20.15"},
			{State: configv1.CompletedUpdate, Version: "4.20.1"},
		}}, want: "4.20.15"},
		{name: "nothing", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := versionOf(&configv1.ClusterVersion{Status: tt.cv})
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("versionOf = %q, %v; want %q (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestMinor(t *testing.T) {
	for in, want := range map[string]string{"4.20.15": "4.20", "4.21": "4.21", "4.22.0-ec.3": "4.22", "4.19.0+abc": "4.19", "5": "5"} {
		if got := Minor(in); got != want {
			t.Errorf("Minor(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestApplyNeeds(t *testing.T) {
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	mosc := schema.GroupVersionResource{Group: "machineconfiguration.openshift.io", Version: "v1", Resource: "machineosconfigs"}
	targets := []Target{
		{GVR: cm, Namespace: "openshift-machine-config-operator", Name: "etc-yum-repos-d"},
		{GVR: mosc, Name: "worker"},
		{GVR: mosc, Name: "worker"}, // duplicates collapse
		{GVR: registryGVR, Name: "cluster", MergePatch: true},
	}
	got := ApplyNeeds(targets, true, true)
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	want := []string{
		`get configmaps "etc-yum-repos-d" in namespace openshift-machine-config-operator`,
		`create configmaps "etc-yum-repos-d" in namespace openshift-machine-config-operator`,
		`patch configmaps "etc-yum-repos-d" in namespace openshift-machine-config-operator`,
		`get machineosconfigs.machineconfiguration.openshift.io "worker" (cluster-scoped)`,
		`create machineosconfigs.machineconfiguration.openshift.io "worker" (cluster-scoped)`,
		`patch machineosconfigs.machineconfiguration.openshift.io "worker" (cluster-scoped)`,
		`get configs.imageregistry.operator.openshift.io "cluster" (cluster-scoped)`,
		`patch configs.imageregistry.operator.openshift.io "cluster" (cluster-scoped)`,
		`get machineconfigpools.machineconfiguration.openshift.io (cluster-scoped)`,
		`get secrets "pull-secret" in namespace openshift-config`,
		`create serviceaccounts/token "builder" in namespace openshift-machine-config-operator`,
		`watch configs.imageregistry.operator.openshift.io "cluster" (cluster-scoped)`,
		`get configmaps "mosc-registry-previous" in namespace openshift-image-registry`,
		`create configmaps "mosc-registry-previous" in namespace openshift-image-registry`,
		`patch configmaps "mosc-registry-previous" in namespace openshift-image-registry`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ApplyNeeds:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// External credentials: no token request; no registry: no registry checks.
	for _, p := range ApplyNeeds(targets[:2], false, false) {
		if p.Subresource == "token" || p.Namespace == RegistryNamespace {
			t.Errorf("unexpected %s", p)
		}
	}
}

func TestRemoveNeeds(t *testing.T) {
	without := RemoveNeeds(RemoveKinds, false)
	for _, p := range without {
		if p.Namespace == RegistryNamespace || p.Resource == "configs" {
			t.Errorf("remove without --registry needs %s", p)
		}
		// get/patch only on pools, which remove pauses around the deletes.
		if p.Verb != "list" && p.Verb != "delete" && p.Resource != "machineconfigpools" {
			t.Errorf("unexpected verb in %s", p)
		}
	}
	var pause int
	for _, p := range without {
		if p.Resource == "machineconfigpools" && (p.Verb == "get" || p.Verb == "patch") {
			pause++
		}
	}
	if pause != 2 {
		t.Errorf("remove does not ask for get+patch on machineconfigpools: %v", without)
	}
	with := RemoveNeeds(RemoveKinds, true)
	var sawPatch bool
	for _, p := range with {
		if p.Verb == "patch" && p.Resource == "configs" {
			sawPatch = true
		}
	}
	if !sawPatch || len(with) <= len(without) {
		t.Fatalf("remove --registry needs %v", with)
	}
}

func TestPermissionErrorListsAll(t *testing.T) {
	e := &PermissionError{User: "alice", Missing: []Permission{
		{Verb: "create", Resource: "secrets", Namespace: "ns"},
		{Verb: "patch", Group: "g", Resource: "things", Name: "x"},
	}}
	msg := e.Error()
	for _, want := range []string{"alice", "2 thing(s)", "nothing was changed", "create secrets in namespace ns", `patch things.g "x" (cluster-scoped)`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}
