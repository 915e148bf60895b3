package fleet

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/render"
)

// The PolicyGenerator input (--for acm-policygenerator): the way ZTP
// (siteconfig/policygen in git, built by Argo CD on the hub) delivers
// policies. ACM's PolicyGenerator kustomize plugin
// (open-cluster-management-io/policy-generator-plugin, docs/
// policygenerator-reference.yaml) only reads manifests below the directory
// of the kustomization.yaml that lists it, so that file is the tree's root
// (DIR/kustomization.yaml), and the generator wraps the bases' own files:
// no copies.
const (
	PolicyGeneratorDir    = "acm-policygenerator"
	PolicyGeneratorFile   = "policygenerator.yaml"
	ClusterSetBindingFile = "managedclustersetbinding.yaml"
)

// ClusterSetBinding binds the ManagedClusterSet o.ClusterSet to the policy
// namespace: without it a Placement there selects no cluster
// (open-cluster-management-io/api cluster/v1beta2
// types_managedclustersetbinding.go; the binding's name must be the set's).
func ClusterSetBinding(o DeliveryOptions) map[string]any {
	return map[string]any{
		"apiVersion": "cluster.open-cluster-management.io/v1beta2",
		"kind":       "ManagedClusterSetBinding",
		"metadata": map[string]any{"name": o.ClusterSet, "namespace": o.PolicyNamespace,
			"labels": map[string]any{"app.kubernetes.io/managed-by": "mosc"}},
		"spec": map[string]any{"clusterSet": o.ClusterSet},
	}
}

// PolicyGenerator is the generator's configuration: per base, a policy that
// enforces the bundle (every file of the base but placeholder Secrets,
// musthave), one that informs on the rollout (the same check as --for acm,
// as a ConfigurationPolicy manifest the generator wraps as it is), and one
// that informs that the placeholder Secrets exist; each placed on exactly
// the base's clusters. The files it names are relative to the tree root.
func PolicyGenerator(r *Result, o DeliveryOptions) (gen map[string]any, extra map[string][]map[string]any) {
	extra = map[string][]map[string]any{}
	var policies []any
	for _, b := range r.Bases {
		name := "mosc-" + b.ID
		clusters := make([]any, len(b.Clusters))
		for i, c := range b.Clusters {
			clusters[i] = c
		}
		selector := map[string]any{
			"matchExpressions": []any{map[string]any{"key": "name", "operator": "In", "values": clusters}},
		}
		placement := map[string]any{"name": name, "labelSelector": selector}
		// The generator refuses a placement name twice: the checks bind
		// to the Placement the bundle's policy generates (placementName).
		same := map[string]any{"placementName": name}
		annotations := map[string]any{"mosc.dev/clusters": strings.Join(b.Clusters, ",")}
		var manifests, secrets []any
		var stubs []map[string]any
		var apiVersion string
		var pools []string
		for _, obj := range b.Bundle.Objects {
			u := obj.Content
			if u.GetKind() == "MachineOSConfig" {
				apiVersion = u.GetAPIVersion()
				pools = append(pools, u.GetName())
			}
			if u.GetKind() == "Secret" && u.GetAnnotations()[render.AnnotationPlaceholder] != "" {
				// Enforcing the placeholder would wipe the real credentials:
				// inform that a Secret of that name and type exists.
				stubs = append(stubs, map[string]any{"apiVersion": "v1", "kind": "Secret",
					"metadata": map[string]any{"name": u.GetName(), "namespace": u.GetNamespace()}, "type": u.Object["type"]})
				continue
			}
			manifests = append(manifests, map[string]any{"path": BasesDir + "/" + b.ID + "/" + obj.FileName})
		}
		policies = append(policies, map[string]any{
			"name": name, "remediationAction": "enforce", "placement": placement,
			"policyAnnotations": annotations, "manifests": manifests,
		})
		rollout := PolicyGeneratorDir + "/" + b.ID + "-rollout.yaml"
		extra[rollout] = []map[string]any{configPolicy(name+"-rollout", "inform",
			map[string]any{"object-templates-raw": rolloutCheck(apiVersion, pools)})["objectDefinition"].(map[string]any)}
		policies = append(policies, map[string]any{
			"name": name + "-rollout", "remediationAction": "inform", "placement": same,
			"policyAnnotations": annotations, "manifests": []any{map[string]any{"path": rollout}},
		})
		if len(stubs) > 0 {
			f := PolicyGeneratorDir + "/" + b.ID + "-secrets.yaml"
			extra[f] = stubs
			secrets = append(secrets, map[string]any{"path": f})
			policies = append(policies, map[string]any{
				"name": name + "-secrets", "remediationAction": "inform", "placement": same,
				"policyAnnotations": annotations, "manifests": secrets,
			})
		}
	}
	gen = map[string]any{
		"apiVersion": "policy.open-cluster-management.io/v1",
		"kind":       "PolicyGenerator",
		"metadata":   map[string]any{"name": "mosc-" + sanitize(r.Name)},
		// A base's three policies share its Placement, so one binding
		// carries them; the generator numbers bindings from this name.
		"placementBindingDefaults": map[string]any{"name": "mosc-" + sanitize(r.Name)},
		"policyDefaults": map[string]any{
			"namespace":         o.PolicyNamespace,
			"complianceType":    "musthave",
			"remediationAction": "inform",
			"severity":          "high",
			"categories":        []any{"CM Configuration Management"},
			"controls":          []any{"CM-2 Baseline Configuration"},
			"standards":         []any{"NIST SP 800-53"},
			"policyLabels":      map[string]any{"app.kubernetes.io/managed-by": "mosc"},
			// The bundle's objects in one ConfigurationPolicy, in base order.
			"consolidateManifests": true,
		},
		"policies": policies,
	}
	return gen, extra
}

// writePolicyGenerator writes DIR/kustomization.yaml (the generator and the
// ManagedClusterSetBinding) and DIR/acm-policygenerator/; files of bases
// that left the fleet are removed.
func writePolicyGenerator(dir string, r *Result, o DeliveryOptions, version string) ([]string, error) {
	gen, extra := PolicyGenerator(r, o)
	d := filepath.Join(dir, PolicyGeneratorDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	keep := map[string]bool{PolicyGeneratorFile: true, ClusterSetBindingFile: true}
	if err := writeObjects(filepath.Join(d, PolicyGeneratorFile), version, gen); err != nil {
		return nil, err
	}
	if err := writeObjects(filepath.Join(d, ClusterSetBindingFile), version, ClusterSetBinding(o)); err != nil {
		return nil, err
	}
	for f, objs := range extra {
		if err := writeObjects(filepath.Join(dir, f), version, objs...); err != nil {
			return nil, err
		}
		keep[filepath.Base(f)] = true
	}
	entries, err := os.ReadDir(d)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		p := filepath.Join(d, e.Name())
		if !keep[e.Name()] && bundle.IsOwnFile(p) {
			if err := os.Remove(p); err != nil {
				return nil, err
			}
		}
	}
	var k strings.Builder
	k.WriteString(bundle.Header(version))
	k.WriteString("# ACM's PolicyGenerator builds the Policies from the bases (kustomize build\n# --enable-alpha-plugins, or an Argo CD Application on the hub with the plugin).\n")
	k.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ngenerators:\n- " + PolicyGeneratorDir + "/" + PolicyGeneratorFile + "\nresources:\n- " + PolicyGeneratorDir + "/" + ClusterSetBindingFile + "\n")
	root := filepath.Join(dir, bundle.KustomizationFile)
	if err := bundle.WriteOwnFile(root, []byte(k.String()), 0o644); err != nil {
		return nil, err
	}
	return []string{root, filepath.Join(d, PolicyGeneratorFile)}, nil
}
