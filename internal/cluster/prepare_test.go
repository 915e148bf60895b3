package cluster

import (
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// testMapper serves what a 4.20 cluster serves for mosc's kinds.
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	ns, cl := meta.RESTScopeNamespace, meta.RESTScopeRoot
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, ns)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, ns)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}, ns)
	m.Add(schema.GroupVersionKind{Group: "machineconfiguration.openshift.io", Version: "v1", Kind: "MachineOSConfig"}, cl)
	m.Add(schema.GroupVersionKind{Group: "machineconfiguration.openshift.io", Version: "v1", Kind: "MachineConfig"}, cl)
	m.Add(schema.GroupVersionKind{Group: "imageregistry.operator.openshift.io", Version: "v1", Kind: "Config"}, cl)
	return m
}

func obj(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func testPlan() *profile.Plan {
	return &profile.Plan{
		Site: "lab", Pool: "master",
		MOSC: profile.MOSCPlan{Name: "master", PushSpec: internalHost + "/openshift-machine-config-operator/os-image:latest",
			PushSecretName: "push-secret", BaseImagePullSecretName: "pull-and-push-secret"},
		Registry: &profile.RegistryPlan{ClaimName: "registry-claim", Size: "100Gi", AccessMode: "ReadWriteOnce", Replicas: 1},
	}
}

func TestPrepare(t *testing.T) {
	b := &bundle.Bundle{Objects: []bundle.Object{
		{Content: obj("v1", "PersistentVolumeClaim", RegistryNamespace, "registry-claim"), Mode: bundle.ModeApply, FileName: "00-pvc.yaml"},
		{Content: obj("imageregistry.operator.openshift.io/v1", "Config", "", "cluster"), Mode: bundle.ModeMergePatch, FileName: "01-registry.yaml"},
		{Content: obj("v1", "Secret", profile.MCONamespace, "push-secret"), Mode: bundle.ModeApply, Secret: true, FileName: "10-push.yaml"},
		{Content: obj("v1", "ConfigMap", profile.MCONamespace, "etc-yum-repos-d"), Mode: bundle.ModeApply, FileName: "20-repos.yaml"},
		{Content: obj("machineconfiguration.openshift.io/v1", "MachineOSConfig", "", "master"), Mode: bundle.ModeApply, FileName: "90-mosc.yaml"},
	}}
	a := NewApplier(nil, testMapper(), ApplyOptions{})
	p, err := a.Prepare(testPlan(), b)
	if err != nil {
		t.Fatal(err)
	}
	if p.PushHost != internalHost {
		t.Errorf("PushHost = %q", p.PushHost)
	}
	// The registry step takes the bundle's PVC and builds the Config patch
	// itself; the secret step writes the real secrets.
	if p.registryPVC == nil || p.registryPVC.GetName() != "registry-claim" {
		t.Fatalf("registryPVC = %v", p.registryPVC)
	}
	var names []string
	for _, o := range p.objects {
		names = append(names, o.obj.GetName())
		if o.obj.GetLabels()[profile.LabelSite] != "lab" || o.obj.GetLabels()[profile.LabelManagedBy] != "mosc" {
			t.Errorf("%s: labels %v", o.obj.GetName(), o.obj.GetLabels())
		}
	}
	if strings.Join(names, ",") != "etc-yum-repos-d,master" {
		t.Errorf("bundle objects applied = %v", names)
	}
	if b.Objects[3].Content.GetLabels() != nil {
		t.Errorf("Prepare changed the caller's bundle")
	}
	var targets []string
	for _, tg := range p.targets {
		targets = append(targets, tg.GVR.Resource+"/"+tg.Name)
	}
	// mosc-builder-token: the long-lived push credential (pushcred.go).
	want := "persistentvolumeclaims/registry-claim,configs/cluster,secrets/push-secret,secrets/pull-and-push-secret,secrets/mosc-builder-token,configmaps/etc-yum-repos-d,machineosconfigs/master"
	if strings.Join(targets, ",") != want {
		t.Errorf("targets = %v\nwant %s", targets, want)
	}
}

func TestPrepareErrors(t *testing.T) {
	mosc := func(apiVersion string) *bundle.Bundle {
		return &bundle.Bundle{Objects: []bundle.Object{{Content: obj(apiVersion, "MachineOSConfig", "", "master"), FileName: "90-mosc.yaml"}}}
	}
	nsless := &bundle.Bundle{Objects: []bundle.Object{{Content: obj("v1", "ConfigMap", "", "x"), FileName: "20-cm.yaml"}}}
	tests := []struct {
		name string
		plan func(*profile.Plan)
		opts ApplyOptions
		b    *bundle.Bundle
		want string
	}{
		{"not served", nil, ApplyOptions{}, mosc("machineconfiguration.openshift.io/v1alpha1"), "90-mosc.yaml machineosconfig.machineconfiguration.openshift.io/master: the cluster does not serve machineconfiguration.openshift.io/v1alpha1, Kind=MachineOSConfig"},
		{"no namespace", nil, ApplyOptions{}, nsless, `20-cm.yaml: ConfigMap "x" is namespaced but has no namespace`},
		{"bad push spec", func(p *profile.Plan) { p.MOSC.PushSpec = "os-image" }, ApplyOptions{}, mosc("machineconfiguration.openshift.io/v1"), "push spec"},
		{"no site", func(p *profile.Plan) { p.Site = "" }, ApplyOptions{}, mosc("machineconfiguration.openshift.io/v1"), "no site name"},
		{"push auth for another host", nil, ApplyOptions{PushAuth: TokenPushAuth("quay.io", "t")}, mosc("machineconfiguration.openshift.io/v1"), `--push-auth has credentials for "quay.io"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			if tt.plan != nil {
				tt.plan(p)
			}
			_, err := NewApplier(nil, testMapper(), tt.opts).Prepare(p, tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want %q", err, tt.want)
			}
		})
	}
}

func BenchmarkMergePullSecret(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"auths":{`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"r` + strings.Repeat("x", i%17) + string(rune('a'+i%26)) + `.example.com:` + string(rune('1'+i%9)) + `000":{"auth":"dXNlcjpwYXNzd29yZA==","email":"e@example.com"}`)
	}
	sb.WriteString(`}}`)
	pull := []byte(sb.String())
	push := TokenPushAuth(internalHost, "header.payload.signature")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := MergePullSecret(pull, push); err != nil {
			b.Fatal(err)
		}
	}
}
