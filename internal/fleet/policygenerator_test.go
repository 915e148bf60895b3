package fleet

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "gopkg.in/yaml.v3"
)

// The PolicyGenerator input decodes as the plugin decodes it (yaml.v3,
// KnownFields, into its own types: pgtypes_test.go), names only files that
// exist below the tree root (the plugin refuses others), and enforces every
// file of each base but its placeholder Secrets, which are only informed on.
func TestPolicyGeneratorInput(t *testing.T) {
	r := mustRender(t)
	dir := t.TempDir()
	if _, err := Write(dir, r, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDelivery(dir, r, []string{EngineACMPolicyGenerator}, testDelivery, "test"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, PolicyGeneratorDir, PolicyGeneratorFile))
	if err != nil {
		t.Fatal(err)
	}
	var p pgPlugin
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("the plugin would refuse it: %v", err)
	}
	if p.Kind != "PolicyGenerator" || p.APIVersion != "policy.open-cluster-management.io/v1" || p.PolicyDefaults.Namespace != "mosc-policies" || p.PlacementBindingDefaults.Name == "" {
		t.Errorf("header: %+v", p)
	}
	if len(p.Policies) != 3*len(r.Bases) {
		t.Fatalf("%d policies for %d bases", len(p.Policies), len(r.Bases))
	}
	for _, pol := range p.Policies {
		for _, m := range pol.Manifests {
			if strings.Contains(m.Path, "..") {
				t.Errorf("%s: %s leaves the tree", pol.Name, m.Path)
			}
			if _, err := os.Stat(filepath.Join(dir, m.Path)); err != nil {
				t.Errorf("%s: %v", pol.Name, err)
			}
			if strings.Contains(m.Path, "-secret-") {
				t.Errorf("%s enforces a placeholder Secret: %s", pol.Name, m.Path)
			}
		}
		switch {
		case strings.HasSuffix(pol.Name, "-rollout"), strings.HasSuffix(pol.Name, "-secrets"):
			if pol.RemediationAction != "inform" || pol.Placement.PlacementName == "" {
				t.Errorf("%s: %s, placement %+v", pol.Name, pol.RemediationAction, pol.Placement)
			}
		default:
			b := r.BaseByID(strings.TrimPrefix(pol.Name, "mosc-"))
			if b == nil || pol.RemediationAction != "enforce" || pol.Placement.Name != pol.Name {
				t.Fatalf("%s: base %v, %s, placement %+v", pol.Name, b, pol.RemediationAction, pol.Placement)
			}
			// Every object of the base but the placeholder Secrets.
			want := 0
			for _, o := range b.Bundle.Objects {
				if !o.Secret && o.Content.GetKind() != "Secret" {
					want++
				}
			}
			if len(pol.Manifests) != want {
				t.Errorf("%s: %d manifests, want %d", pol.Name, len(pol.Manifests), want)
			}
			sel, _ := pol.Placement.LabelSelector["matchExpressions"].([]any)
			if got := fmt.Sprint(sel); len(sel) != 1 || got != fmt.Sprintf("[map[key:name operator:In values:%v]]", b.Clusters) {
				t.Errorf("%s: selector %s, want the clusters %v", pol.Name, got, b.Clusters)
			}
		}
	}
	// A stray field is refused, as the plugin refuses it.
	bad := strings.Replace(string(data), "policyDefaults:", "policyDefaults:\n  remediation: enforce", 1)
	dec = yaml.NewDecoder(strings.NewReader(bad))
	dec.KnownFields(true)
	if err := dec.Decode(&pgPlugin{}); err == nil || !strings.Contains(err.Error(), "remediation") {
		t.Errorf("an unknown field decoded: %v", err)
	}
}
