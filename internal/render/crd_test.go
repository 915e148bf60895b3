package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"
)

// crdSchemas loads the openAPIV3Schema of each CRD mosc renders, by kind
// and version, from the pinned openshift/api module: the schemas the API
// server enforces (types, enums, required, lengths, patterns; CEL rules
// are covered by validate.go's copies and TestPushSpecRulesMatchCRD).
func crdSchemas(t *testing.T) map[string]*spec.Schema {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openshift/api").Output()
	if err != nil {
		t.Skipf("go list openshift/api: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	schemas := map[string]*spec.Schema{}
	for _, f := range []string{
		"machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineosconfigs.crd.yaml",
		"machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineconfigs.crd.yaml",
		"imageregistry/v1/zz_generated.crd-manifests/00_configs.crd.yaml",
	} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Names    struct{ Kind string }
				Versions []struct {
					Name   string
					Schema struct {
						OpenAPIV3Schema *spec.Schema `json:"openAPIV3Schema"`
					}
				}
			}
		}
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			schemas[crd.Spec.Names.Kind+"/"+v.Name] = v.Schema.OpenAPIV3Schema
		}
	}
	return schemas
}

// Rendered custom resources pass the real CRDs' OpenAPI schemas, for the
// fixtures and every supported catalog combination.
func TestObjectsMatchCRDSchemas(t *testing.T) {
	schemas := crdSchemas(t)
	results := []*Result{mustRender(t, walkthroughPlan()), mustRender(t, fullPlan())}
	cat, combos := catalogCombos(t)
	for _, c := range combos {
		if !c.supported {
			continue
		}
		p, err := resolveCombo(cat, c)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, mustRender(t, p))
	}
	checked := 0
	for _, r := range results {
		for _, o := range r.Bundle.Objects {
			gvk := o.Content.GroupVersionKind()
			s, ok := schemas[gvk.Kind+"/"+gvk.Version]
			if !ok {
				continue // core kinds, v1alpha1 (no CRD in the pinned module)
			}
			res := validate.NewSchemaValidator(s, nil, "", strfmt.Default).Validate(o.Content.Object)
			if !res.IsValid() {
				t.Errorf("%s (%s): %v", o.FileName, o.Content.GetAnnotations()[AnnotationStacks], res.Errors)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no object checked")
	}
	// The schema validator does catch what it should.
	bad := mustRender(t, walkthroughPlan()).Bundle.Objects[4].Content.DeepCopy()
	bad.Object["spec"].(map[string]any)["imageBuilder"] = map[string]any{"imageBuilderType": "PodImageBuilder"}
	if res := validate.NewSchemaValidator(schemas["MachineOSConfig/v1"], nil, "", strfmt.Default).Validate(bad.Object); res.IsValid() {
		t.Error("schema accepted imageBuilderType PodImageBuilder on v1")
	}
}
