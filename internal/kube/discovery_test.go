package kube

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// apiServer serves legacy (unaggregated) discovery for core/v1, apps/v1 and
// machineconfiguration v1 + v1alpha1 (v1 preferred), and /version.
func apiServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	requests := &atomic.Int64{}
	docs := map[string]any{
		"/api": metav1.APIVersions{Versions: []string{"v1"}},
		"/apis": metav1.APIGroupList{Groups: []metav1.APIGroup{
			{Name: "apps", Versions: []metav1.GroupVersionForDiscovery{{GroupVersion: "apps/v1", Version: "v1"}},
				PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: "apps/v1", Version: "v1"}},
			{Name: "machineconfiguration.openshift.io", Versions: []metav1.GroupVersionForDiscovery{
				{GroupVersion: "machineconfiguration.openshift.io/v1", Version: "v1"},
				{GroupVersion: "machineconfiguration.openshift.io/v1alpha1", Version: "v1alpha1"}},
				PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: "machineconfiguration.openshift.io/v1", Version: "v1"}},
		}},
		"/api/v1": metav1.APIResourceList{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "nodes", SingularName: "node", Kind: "Node"}, {Name: "nodes/status", Kind: "Node"},
			{Name: "configmaps", SingularName: "configmap", Namespaced: true, Kind: "ConfigMap"},
			{Name: "secrets", Namespaced: true, Kind: "Secret"}}},
		"/apis/apps/v1": metav1.APIResourceList{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", SingularName: "deployment", Namespaced: true, Kind: "Deployment"}}},
		"/apis/machineconfiguration.openshift.io/v1": metav1.APIResourceList{GroupVersion: "machineconfiguration.openshift.io/v1", APIResources: []metav1.APIResource{
			{Name: "machineconfigs", SingularName: "machineconfig", Kind: "MachineConfig"},
			{Name: "machineosconfigs", SingularName: "machineosconfig", Kind: "MachineOSConfig"}}},
		"/apis/machineconfiguration.openshift.io/v1alpha1": metav1.APIResourceList{GroupVersion: "machineconfiguration.openshift.io/v1alpha1", APIResources: []metav1.APIResource{
			{Name: "machineosconfigs", SingularName: "machineosconfig", Kind: "MachineOSConfig"},
			{Name: "pinnedimagesets", SingularName: "pinnedimageset", Kind: "PinnedImageSet"}}},
		"/version": map[string]string{"major": "1", "minor": "33", "gitVersion": "v1.33.2"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv, requests
}

func TestDiscoveryMatchesClientGo(t *testing.T) {
	srv, _ := apiServer(t)
	cfg := &rest.Config{Host: srv.URL}
	ours, err := NewDiscoveryForConfigAndClient(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g1, err1 := ours.ServerGroups()
	g2, err2 := theirs.ServerGroups()
	if err1 != nil || err2 != nil {
		t.Fatalf("ServerGroups: %v / %v", err1, err2)
	}
	if !reflect.DeepEqual(g1.Groups, g2.Groups) {
		t.Errorf("ServerGroups:\n ours   %+v\n client-go %+v", g1.Groups, g2.Groups)
	}
	for _, gv := range []string{"v1", "apps/v1", "machineconfiguration.openshift.io/v1alpha1", "nope/v1"} {
		r1, err1 := ours.ServerResourcesForGroupVersion(gv)
		r2, err2 := theirs.ServerResourcesForGroupVersion(gv)
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(r1, r2) {
			t.Errorf("%s: ours %+v, %v; client-go %+v, %v", gv, r1, err1, r2, err2)
		}
	}
	v1, err1 := ours.ServerVersion()
	v2, err2 := theirs.ServerVersion()
	if err1 != nil || err2 != nil || !reflect.DeepEqual(v1, v2) {
		t.Errorf("ServerVersion: ours %+v, %v; client-go %+v, %v", v1, err1, v2, err2)
	}
}

// TestMapperMatchesRestmapper: the same answers as client-go's deferred
// discovery mapper (what mosc used before), reading only the groups asked.
func TestMapperMatchesRestmapper(t *testing.T) {
	srv, requests := apiServer(t)
	cfg := &rest.Config{Host: srv.URL}
	d, err := NewDiscoveryForConfigAndClient(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	theirsD, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ours := NewMapper(d)
	theirs := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(theirsD))
	mcfg := "machineconfiguration.openshift.io"
	for _, q := range []struct {
		gk       schema.GroupKind
		versions []string
	}{
		{schema.GroupKind{Kind: "ConfigMap"}, []string{"v1"}},
		{schema.GroupKind{Kind: "Node"}, nil},
		{schema.GroupKind{Group: mcfg, Kind: "MachineOSConfig"}, nil},
		{schema.GroupKind{Group: mcfg, Kind: "MachineOSConfig"}, []string{"v1alpha1"}},
		{schema.GroupKind{Group: mcfg, Kind: "PinnedImageSet"}, nil},
		{schema.GroupKind{Group: mcfg, Kind: "MachineConfig"}, []string{"v1alpha1"}},
		{schema.GroupKind{Group: "nope.io", Kind: "Thing"}, []string{"v1"}},
	} {
		m1, err1 := ours.RESTMapping(q.gk, q.versions...)
		m2, err2 := theirs.RESTMapping(q.gk, q.versions...)
		if (err1 == nil) != (err2 == nil) || meta.IsNoMatchError(err1) != meta.IsNoMatchError(err2) || !reflect.DeepEqual(m1, m2) {
			t.Errorf("RESTMapping(%v, %v): ours %+v, %v; restmapper %+v, %v", q.gk, q.versions, m1, err1, m2, err2)
		}
	}
	for _, r := range []schema.GroupVersionResource{
		{Group: mcfg, Version: "v1", Resource: "machineosconfigs"},
		{Group: mcfg, Version: "v1alpha1", Resource: "machineosconfigs"},
		{Version: "v1", Resource: "secrets"},
		{Group: "nope.io", Version: "v1", Resource: "things"},
	} {
		k1, err1 := ours.KindFor(r)
		k2, err2 := theirs.KindFor(r)
		if (err1 == nil) != (err2 == nil) || meta.IsNoMatchError(err1) != meta.IsNoMatchError(err2) || k1 != k2 {
			t.Errorf("KindFor(%v): ours %v, %v; restmapper %v, %v", r, k1, err1, k2, err2)
		}
	}
	// A group is read once.
	before := requests.Load()
	if _, err := ours.RESTMapping(schema.GroupKind{Group: mcfg, Kind: "MachineConfig"}); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("a second question about a group read discovery again (%d requests)", n)
	}
}
