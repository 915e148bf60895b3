package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// resourceOf maps the kinds mosc renders to their API resources.
func resourceOf(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool) {
	r := map[string]string{
		"ConfigMap": "configmaps", "Secret": "secrets", "PersistentVolumeClaim": "persistentvolumeclaims",
		"MachineConfig": "machineconfigs", "MachineOSConfig": "machineosconfigs", "Config": "configs",
	}[gvk.Kind]
	return gvk.GroupVersion().WithResource(r), r != ""
}

// dryRun sends o to the API server with dryRun=All: the server runs its
// OpenAPI schema and CEL validation and stores nothing.
func dryRun(ctx context.Context, t *testing.T, o bundle.Object) error {
	t.Helper()
	gvr, ok := resourceOf(o.Content.GroupVersionKind())
	if !ok {
		t.Fatalf("%s: no resource for %s", o.FileName, o.Content.GroupVersionKind())
	}
	ri := env.Clients.Dynamic.Resource(gvr)
	var c interface {
		Create(context.Context, *unstructured.Unstructured, metav1.CreateOptions, ...string) (*unstructured.Unstructured, error)
		Patch(context.Context, string, types.PatchType, []byte, metav1.PatchOptions, ...string) (*unstructured.Unstructured, error)
	} = ri
	if ns := o.Content.GetNamespace(); ns != "" {
		c = ri.Namespace(ns)
	}
	_, err := c.Create(ctx, o.Content, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if apierrors.IsAlreadyExists(err) && o.Mode == bundle.ModeMergePatch {
		// The registry Config exists on every cluster: what apply sends is a merge patch.
		data, merr := o.Content.MarshalJSON()
		if merr != nil {
			t.Fatal(merr)
		}
		_, err = c.Patch(ctx, o.Content.GetName(), types.MergePatchType, data, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	}
	return err
}

// Every bundle the embedded catalog renders for OpenShift 4.18+ is accepted
// by a real API server with the pinned OpenShift CRDs (schemas and CEL:
// name == pool, the push spec rule, 4096-character Containerfiles).
// v1alpha1 bundles (4.16/4.17) are skipped: the pinned module has no
// v1alpha1 MachineOSConfig CRD.
func TestRenderedCatalogAcceptedByAPIServer(t *testing.T) {
	resetEnv(t) // the dry runs create the registry claim's name: none may exist
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	sent, skipped := 0, 0
	for _, r := range cat.Releases() {
		for _, p := range cat.Platforms() {
			for _, s := range cat.Stacks() {
				if !slices.Contains(s.Spec.Support.Releases, r.Metadata.Name) || !slices.Contains(s.Spec.Support.Platforms, p.Metadata.Name) {
					continue
				}
				for _, v := range s.Spec.Variants {
					name := fmt.Sprintf("%s/%s/%s:%s", r.Metadata.Name, p.Metadata.Name, s.Metadata.Name, v.Name)
					site := profile.NewSite()
					internal := true
					site.Override(profile.Overrides{OpenShift: r.Metadata.Name, Platform: p.Metadata.Name,
						Stacks: []string{s.Metadata.Name + ":" + v.Name}, InternalRegistry: &internal, SecretMode: "placeholder"})
					plan, err := cat.Resolve(site)
					if err != nil {
						t.Fatalf("%s: resolve: %v", name, err)
					}
					res, err := render.Render(plan, render.Options{})
					if err != nil {
						t.Fatalf("%s: render: %v", name, err)
					}
					for _, o := range res.Bundle.Objects {
						if o.Content.GroupVersionKind() == bundle.GVKMachineOSConfigV1alpha1 {
							skipped++
							continue
						}
						if err := dryRun(ctx, t, o); err != nil {
							t.Errorf("%s: %s rejected by the API server: %v", name, o.FileName, err)
						}
						sent++
					}
				}
			}
		}
	}
	t.Logf("%d objects accepted (dry run), %d v1alpha1 MachineOSConfigs skipped", sent, skipped)
}

// mosc's offline checks agree with the API server's CEL rules: what the
// server rejects, `mosc validate` rejects too, and what it accepts, mosc
// accepts.
func TestOfflineChecksAgreeWithAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	site := profile.NewSite()
	site.Override(profile.Overrides{OpenShift: "4.20"})
	plan, err := cat.Resolve(site)
	if err != nil {
		t.Fatal(err)
	}
	res, err := render.Render(plan, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := res.Bundle.Objects[len(res.Bundle.Objects)-1]
	if base.Content.GetKind() != "MachineOSConfig" {
		t.Fatalf("last object is %s", base.Content.GetKind())
	}
	long := "FROM configs AS final\nRUN " + strings.Repeat("x", 4100) + "\n"
	for _, tc := range []struct {
		name  string
		valid bool
		edit  func(u *unstructured.Unstructured)
	}{
		{"as rendered", true, func(*unstructured.Unstructured) {}},
		{"external registry with port", true, func(u *unstructured.Unstructured) { setPushSpec(u, "registry.example.com:8443/team/os-image:4.20") }},
		{"quay", true, func(u *unstructured.Unstructured) { setPushSpec(u, "quay.io/org/os-image:latest") }},
		{"no tag", false, func(u *unstructured.Unstructured) { setPushSpec(u, "quay.io/org/os-image") }},
		{"digest", false, func(u *unstructured.Unstructured) {
			setPushSpec(u, "quay.io/org/os-image@sha256:"+strings.Repeat("a", 64))
		}},
		{"no dot in host", false, func(u *unstructured.Unstructured) { setPushSpec(u, "localhost:5000/os:latest") }},
		{"space", false, func(u *unstructured.Unstructured) { setPushSpec(u, "quay.io/org/os image:latest") }},
		{"too long", false, func(u *unstructured.Unstructured) { setPushSpec(u, "quay.io/"+strings.Repeat("a", 440)+":t") }},
		{"svc form", true, func(u *unstructured.Unstructured) { setPushSpec(u, "reg.ns.svc:5000/repo/name:tag") }},
		{"name != pool", false, func(u *unstructured.Unstructured) { u.SetName("not-the-pool") }},
		{"Containerfile over 4096", false, func(u *unstructured.Unstructured) {
			unstructured.SetNestedSlice(u.Object, []any{map[string]any{"containerfileArch": "NoArch", "content": long}}, "spec", "containerFile")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.Content = base.Content.DeepCopy()
			tc.edit(o.Content)
			serverErr := dryRun(ctx, t, o)
			errs, _ := render.ValidateBundle(&bundle.Bundle{Objects: []bundle.Object{o}})
			if (serverErr == nil) != tc.valid || (len(errs) == 0) != tc.valid {
				t.Errorf("want valid=%v\nAPI server: %v\nmosc: %v", tc.valid, serverErr, render.Errors(errs))
			}
		})
	}
}

func setPushSpec(u *unstructured.Unstructured, spec string) {
	unstructured.SetNestedField(u.Object, spec, "spec", "renderedImagePushSpec")
}
