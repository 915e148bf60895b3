package cluster

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// conflictErr builds the error the API server returns for an apply
// conflict (k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go).
func conflictErr(causes ...metav1.StatusCause) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: 409, Reason: metav1.StatusReasonConflict,
		Message: fmt.Sprintf("Apply failed with %d conflicts", len(causes)),
		Details: &metav1.StatusDetails{Causes: causes},
	}}
}

func TestParseConflict(t *testing.T) {
	c := func(msg, field string) metav1.StatusCause {
		return metav1.StatusCause{Type: metav1.CauseTypeFieldManagerConflict, Message: msg, Field: field}
	}
	tests := []struct {
		name string
		err  error
		want map[string][]string
	}{
		{name: "update manager with time", err: conflictErr(c(`conflict with "kubectl-edit" using v1 at 2026-01-02T03:04:05Z`, ".data.doca.repo")),
			want: map[string][]string{"kubectl-edit": {".data.doca.repo"}}},
		{name: "apply manager and subresource", err: conflictErr(
			c(`conflict with "argocd-controller"`, ".spec.renderedImagePushSpec"),
			c(`conflict with "oc" with subresource "status" using v1`, ".spec.containerFile"),
			c(`conflict with "argocd-controller"`, ".spec.imageBuilder")),
			want: map[string][]string{"argocd-controller": {".spec.imageBuilder", ".spec.renderedImagePushSpec"}, "oc": {".spec.containerFile"}}},
		{name: "manager with quote", err: conflictErr(c(`conflict with "a \"b\"" using v1`, ".x")), want: map[string][]string{`a "b"`: {".x"}}},
		{name: "plain conflict", err: apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "x", fmt.Errorf("rv")), want: nil},
		{name: "not found", err: apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, "x"), want: nil},
		{name: "wrapped", err: fmt.Errorf("apply: %w", conflictErr(c(`conflict with "x"`, ".a"))), want: map[string][]string{"x": {".a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseConflict(tt.err)
			if ok != (tt.want != nil) || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("ParseConflict = %v, %v; want %v", got, ok, tt.want)
			}
		})
	}
	e := &ConflictError{Ref: "configmap/etc-yum-repos-d", Managers: map[string][]string{"kubectl-edit": {".data.doca.repo"}}}
	want := `configmap/etc-yum-repos-d: conflict: field manager "kubectl-edit" owns .data.doca.repo; re-run with --force-conflicts to take these fields over`
	if e.Error() != want {
		t.Fatalf("ConflictError = %q\nwant %q", e.Error(), want)
	}
}

func TestRefOf(t *testing.T) {
	mk := func(apiVersion, kind, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetName(name)
		return u
	}
	tests := []struct {
		u    *unstructured.Unstructured
		gvr  schema.GroupVersionResource
		want string
	}{
		{mk("v1", "ConfigMap", "etc-yum-repos-d"), schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "configmap/etc-yum-repos-d"},
		{mk("machineconfiguration.openshift.io/v1", "MachineOSConfig", "master"), schema.GroupVersionResource{}, "machineosconfig.machineconfiguration.openshift.io/master"},
		{mk("v1", "Secret", "push-secret"), secretGVR, "secret/push-secret"},
		{nil, registryGVR, "config.imageregistry.operator.openshift.io"},
	}
	for _, tt := range tests {
		if got := refOf(tt.u, tt.gvr); got != tt.want {
			t.Errorf("refOf = %q; want %q", got, tt.want)
		}
	}
}

func TestChangeOf(t *testing.T) {
	obj := func(rv string, data map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": data}}
		u.SetName("x")
		u.SetResourceVersion(rv)
		u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "mosc", Operation: "Apply"}})
		return u
	}
	a := map[string]any{"k": "v"}
	b := map[string]any{"k": "w"}
	tests := []struct {
		name          string
		before, after *unstructured.Unstructured
		dry           DryRun
		want          string
	}{
		{"created", nil, obj("1", a), DryRunNone, "created"},
		{"unchanged", obj("5", a), obj("5", a), DryRunNone, "unchanged"},
		{"configured", obj("5", a), obj("6", b), DryRunNone, "configured"},
		{"server dry run same", obj("5", a), obj("5", a), DryRunServer, "unchanged"},
		{"server dry run differs, same rv", obj("5", a), obj("5", b), DryRunServer, "configured"},
	}
	for _, tt := range tests {
		if got := changeOf(tt.before, tt.after, tt.dry); got != tt.want {
			t.Errorf("%s: changeOf = %q; want %q", tt.name, got, tt.want)
		}
	}
	if s := (Result{Ref: "secret/push-secret", Action: "created", DryRun: DryRunServer}).String(); s != "secret/push-secret created (server dry run)" {
		t.Errorf("Result = %q", s)
	}
}

func TestParseDryRun(t *testing.T) {
	for in, want := range map[string]DryRun{"": DryRunNone, "none": DryRunNone, "client": DryRunClient, "server": DryRunServer} {
		if got, err := ParseDryRun(in); err != nil || got != want {
			t.Errorf("ParseDryRun(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseDryRun("true"); err == nil || !strings.Contains(err.Error(), "--dry-run") {
		t.Errorf("ParseDryRun(true) err = %v", err)
	}
}

func TestSiteSelector(t *testing.T) {
	s, err := siteSelector("lab")
	if err != nil || s != "app.kubernetes.io/managed-by=mosc,mosc.dev/site=lab" {
		t.Fatalf("siteSelector(lab) = %q, %v", s, err)
	}
	s, err = siteSelector("")
	if err != nil || s != "app.kubernetes.io/managed-by=mosc,mosc.dev/site" {
		t.Fatalf("siteSelector() = %q, %v", s, err)
	}
	if _, err := siteSelector("not a label value!"); err == nil || !strings.Contains(err.Error(), "--site") {
		t.Fatalf("bad site err = %v", err)
	}
}

func TestClientChange(t *testing.T) {
	live := &unstructured.Unstructured{}
	if err := live.UnmarshalJSON([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"n","resourceVersion":"7",
		"labels":{"app.kubernetes.io/managed-by":"mosc","other":"y"}},"data":{"a":"1","b":"2"},
		"spec":{"replicas":1,"list":[{"k":"v","extra":true}],"storage":{"pvc":{"claim":"c"}}}}`)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		live       *unstructured.Unstructured
		want       string
	}{
		{"absent", `{"data":{"a":"1"}}`, nil, "created"},
		{"subset", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","labels":{"app.kubernetes.io/managed-by":"mosc"}},"data":{"a":"1"}}`, live, "unchanged"},
		{"number", `{"spec":{"replicas":1}}`, live, "unchanged"},
		{"different value", `{"data":{"a":"2"}}`, live, "configured"},
		{"missing key", `{"data":{"c":"3"}}`, live, "configured"},
		{"list element subset", `{"spec":{"list":[{"k":"v"}]}}`, live, "unchanged"},
		{"list length", `{"spec":{"list":[{"k":"v"},{"k":"w"}]}}`, live, "configured"},
		{"null means absent", `{"spec":{"storage":{"emptyDir":null}}}`, live, "unchanged"},
		{"null but present", `{"spec":{"storage":{"pvc":null}}}`, live, "configured"},
		{"type differs", `{"spec":{"storage":"pvc"}}`, live, "configured"},
	}
	for _, tt := range tests {
		if got := clientChange([]byte(tt.body), tt.live); got != tt.want {
			t.Errorf("%s: clientChange = %q; want %q", tt.name, got, tt.want)
		}
	}
}
