package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/render"
)

// Engines mosc writes delivery objects for (--for).
const (
	EngineArgoCD = "argocd"
	EngineACM    = "acm"
	// EngineACMPolicyGenerator writes the input of ACM's PolicyGenerator
	// kustomize plugin (the ZTP way) instead of the finished objects.
	EngineACMPolicyGenerator = "acm-policygenerator"
)

// Engines are --for's values.
var Engines = []string{EngineArgoCD, EngineACM, EngineACMPolicyGenerator}

// DeliveryOptions configure the Argo CD and ACM objects.
type DeliveryOptions struct {
	// RepoURL, Revision and RepoPath locate the rendered tree in git: the
	// ApplicationSet's git generator reads RepoPath/clusters/*.
	RepoURL, Revision, RepoPath string
	// ArgoNamespace and ArgoProject: where the ApplicationSet lives and the
	// AppProject its Applications belong to.
	ArgoNamespace, ArgoProject string
	// PolicyNamespace is the hub namespace of the ACM objects.
	PolicyNamespace string
	// ClusterSet is the ManagedClusterSet bound to PolicyNamespace (a
	// Placement only selects clusters of sets bound to its namespace).
	ClusterSet string
}

// Sync waves in the order mosc applies (internal/cluster apply): registry
// storage and Config, then Secrets, the repo ConfigMap, MachineConfigs,
// and the MachineOSConfig last, so its first build sees every input.
var syncWaves = []struct {
	group, kind, wave string
}{
	{"", "PersistentVolumeClaim", "0"},
	{"imageregistry.operator.openshift.io", "Config", "0"},
	{"", "Secret", "1"},
	{"", "ConfigMap", "2"},
	{"machineconfiguration.openshift.io", "MachineConfig", "3"},
	{"machineconfiguration.openshift.io", "MachineOSConfig", "4"},
}

const (
	ArgoDir            = "argocd"
	ArgoComponentDir   = "sync-waves"
	ApplicationSetFile = "applicationset.yaml"
	ACMDir             = "acm"
)

// ArgoComponent is the kustomize Component the ApplicationSet adds to every
// cluster's overlay: sync-wave annotations by kind, and Prune/Delete off for
// the registry Config, which mosc patches but does not own. Keeping it a
// component leaves `kustomize build clusters/X` equal to mosc render.
func ArgoComponent(version string) []byte {
	var b strings.Builder
	b.WriteString(bundle.Header(version))
	b.WriteString("# Argo CD sync waves in mosc's apply order; added to each cluster's overlay by\n# the ApplicationSet (spec.template.spec.source.kustomize.components).\n")
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n")
	for _, w := range syncWaves {
		apiVersion := "v1"
		switch w.group {
		case "imageregistry.operator.openshift.io":
			apiVersion = w.group + "/v1"
		case "machineconfiguration.openshift.io":
			apiVersion = w.group + "/v1"
		}
		fmt.Fprintf(&b, "- target:\n    group: %q\n    kind: %s\n", w.group, w.kind)
		b.WriteString("  patch: |-\n")
		fmt.Fprintf(&b, "    apiVersion: %s\n    kind: %s\n    metadata:\n      name: any\n      annotations:\n        argocd.argoproj.io/sync-wave: %q\n", apiVersion, w.kind, w.wave)
		if w.kind == "Config" {
			b.WriteString("        argocd.argoproj.io/sync-options: Delete=false,Prune=false\n")
		}
	}
	return []byte(b.String())
}

// ApplicationSet maps each cluster directory to an Application on the
// Argo CD cluster of the same name (git directory generator).
func ApplicationSet(r *Result, o DeliveryOptions) (map[string]any, error) {
	if o.RepoURL == "" {
		return nil, fmt.Errorf("--repo-url: the ApplicationSet needs the git repository the tree is pushed to")
	}
	name := "mosc"
	if r.Name != "" {
		name = "mosc-" + r.Name
	}
	path := strings.Trim(filepath.ToSlash(filepath.Clean(o.RepoPath)), "/")
	if path == "." {
		path = ""
	}
	prefix := ""
	if path != "" {
		prefix = path + "/"
	}
	// ignoreDifferences: fields other controllers own, so Argo CD neither
	// reports them as drift nor (with RespectIgnoreDifferences) resets them.
	ignore := []any{
		// The registry operator manages most of its Config; mosc sets a few fields.
		map[string]any{"group": "imageregistry.operator.openshift.io", "kind": "Config", "name": "cluster",
			"managedFieldsManagers": []any{"cluster-image-registry-operator"}},
		// The MCO annotates the MachineOSConfig with its current build and
		// clears mosc rebuild requests (openshift/machine-config-operator,
		// pkg/controller/build/reconciler.go).
		map[string]any{"group": "machineconfiguration.openshift.io", "kind": "MachineOSConfig",
			"jqPathExpressions":     []any{`.metadata.annotations["machineconfiguration.openshift.io/current-machine-os-build"]`, `.metadata.annotations["machineconfiguration.openshift.io/rebuild"]`},
			"managedFieldsManagers": []any{"machine-config-operator", "machine-config-controller"}},
		// The PV binder fills in the volume.
		map[string]any{"kind": "PersistentVolumeClaim", "jsonPointers": []any{"/spec/volumeName"}},
	}
	// Placeholder Secrets: created once, their data is the site's secret
	// tooling's, never git's.
	for _, n := range placeholderSecrets(r) {
		ignore = append(ignore, map[string]any{"kind": "Secret", "name": n[1], "namespace": n[0], "jsonPointers": []any{"/data"}})
	}
	rev := o.Revision
	if rev == "" {
		rev = "HEAD"
	}
	components := "../../" + ArgoDir + "/" + ArgoComponentDir
	appset := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "ApplicationSet",
		"metadata": map[string]any{
			"name":      name,
			"namespace": o.ArgoNamespace,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "mosc"},
		},
		"spec": map[string]any{
			"goTemplate":        true,
			"goTemplateOptions": []any{"missingkey=error"},
			"generators": []any{map[string]any{"git": map[string]any{
				"repoURL":     o.RepoURL,
				"revision":    rev,
				"directories": []any{map[string]any{"path": prefix + ClustersDir + "/*"}},
			}}},
			"template": map[string]any{
				"metadata": map[string]any{
					"name":   "mosc-{{.path.basename}}",
					"labels": map[string]any{"app.kubernetes.io/managed-by": "mosc", "mosc.dev/cluster": "{{.path.basename}}"},
				},
				"spec": map[string]any{
					"project": o.ArgoProject,
					"source": map[string]any{
						"repoURL":        o.RepoURL,
						"targetRevision": rev,
						"path":           "{{.path.path}}",
						"kustomize":      map[string]any{"components": []any{components}},
					},
					// The directory name is the Argo CD cluster name.
					"destination": map[string]any{"name": "{{.path.basename}}"},
					"syncPolicy": map[string]any{
						// No prune: removing a file from git never deletes
						// a layer from a cluster behind the admin's back
						// (mosc remove does that, pausing pools first).
						"automated":   map[string]any{"prune": false, "selfHeal": true},
						"syncOptions": []any{"ServerSideApply=true", "RespectIgnoreDifferences=true"},
					},
					"ignoreDifferences": ignore,
				},
			},
		},
	}
	return appset, nil
}

func placeholderSecrets(r *Result) [][2]string {
	seen := map[[2]string]bool{}
	for _, b := range r.Bases {
		for _, o := range b.Bundle.Objects {
			if o.Content.GetKind() == "Secret" && o.Content.GetAnnotations()[render.AnnotationPlaceholder] != "" {
				seen[[2]string{o.Content.GetNamespace(), o.Content.GetName()}] = true
			}
		}
	}
	out := make([][2]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0]+"/"+out[i][1] < out[j][0]+"/"+out[j][1] })
	return out
}

// ACMObjects are, per base: a Policy whose first ConfigurationPolicy
// enforces the bundle (musthave, in bundle order; placeholder Secrets are
// only checked to exist) and whose second informs on the rollout (pool
// updated, current MachineOSBuild succeeded); a Placement selecting the
// base's clusters by their ManagedCluster name; a PlacementBinding.
func ACMObjects(r *Result, o DeliveryOptions) ([]map[string]any, error) {
	ns := o.PolicyNamespace
	var out []map[string]any
	for _, b := range r.Bases {
		name := "mosc-" + b.ID
		// The propagated copy is named <namespace>.<name> and must be a label.
		if n := len(ns) + 1 + len(name); n > validation.DNS1123LabelMaxLength {
			return nil, fmt.Errorf("policy %s in namespace %s: %d characters, ACM allows %d for namespace.name; use a shorter --policy-namespace", name, ns, n, validation.DNS1123LabelMaxLength)
		}
		var templates []any
		var checks []any
		for _, obj := range b.Bundle.Objects {
			u := obj.Content
			if u.GetKind() == "Secret" && u.GetAnnotations()[render.AnnotationPlaceholder] != "" {
				checks = append(checks, map[string]any{"complianceType": "musthave", "objectDefinition": map[string]any{
					"apiVersion": "v1", "kind": "Secret",
					"metadata": map[string]any{"name": u.GetName(), "namespace": u.GetNamespace()},
					"type":     u.Object["type"],
				}})
				continue
			}
			templates = append(templates, map[string]any{"complianceType": "musthave", "objectDefinition": u.DeepCopy().Object})
		}
		apiVersion := ""
		var pools []string
		for _, obj := range b.Bundle.Objects {
			if obj.Content.GetKind() == "MachineOSConfig" {
				apiVersion = obj.Content.GetAPIVersion()
				pools = append(pools, obj.Content.GetName())
			}
		}
		policyTemplates := []any{
			configPolicy(name+"-bundle", "enforce", map[string]any{"object-templates": templates}),
			configPolicy(name+"-rollout", "inform", map[string]any{"object-templates-raw": rolloutCheck(apiVersion, pools)}),
		}
		if len(checks) > 0 {
			policyTemplates = append(policyTemplates, configPolicy(name+"-secrets", "inform", map[string]any{"object-templates": checks}))
		}
		out = append(out, map[string]any{
			"apiVersion": "policy.open-cluster-management.io/v1",
			"kind":       "Policy",
			"metadata": map[string]any{
				"name": name, "namespace": ns,
				"labels": map[string]any{"app.kubernetes.io/managed-by": "mosc"},
				"annotations": map[string]any{
					"policy.open-cluster-management.io/standards":  "NIST SP 800-53",
					"policy.open-cluster-management.io/categories": "CM Configuration Management",
					"policy.open-cluster-management.io/controls":   "CM-2 Baseline Configuration",
					"mosc.dev/clusters":                            strings.Join(b.Clusters, ","),
				},
			},
			// No policy-level remediationAction: it would override the
			// children, and the rollout check must stay inform.
			"spec": map[string]any{"disabled": false, "policy-templates": policyTemplates},
		})
		clusters := make([]any, len(b.Clusters))
		for i, c := range b.Clusters {
			clusters[i] = c
		}
		out = append(out, map[string]any{
			"apiVersion": "cluster.open-cluster-management.io/v1beta1",
			"kind":       "Placement",
			"metadata": map[string]any{"name": name, "namespace": ns,
				"labels": map[string]any{"app.kubernetes.io/managed-by": "mosc"}},
			"spec": map[string]any{
				"clusterSets": []any{o.ClusterSet},
				"predicates": []any{map[string]any{
					"requiredClusterSelector": map[string]any{"labelSelector": map[string]any{
						// Every ManagedCluster carries name=<cluster>.
						"matchExpressions": []any{map[string]any{"key": "name", "operator": "In", "values": clusters}},
					}},
				}}},
		}, map[string]any{
			"apiVersion": "policy.open-cluster-management.io/v1",
			"kind":       "PlacementBinding",
			"metadata": map[string]any{"name": name, "namespace": ns,
				"labels": map[string]any{"app.kubernetes.io/managed-by": "mosc"}},
			"placementRef": map[string]any{"apiGroup": "cluster.open-cluster-management.io", "kind": "Placement", "name": name},
			"subjects":     []any{map[string]any{"apiGroup": "policy.open-cluster-management.io", "kind": "Policy", "name": name}},
		})
	}
	return out, nil
}

func configPolicy(name, action string, spec map[string]any) map[string]any {
	spec["remediationAction"] = action
	spec["severity"] = "high"
	return map[string]any{"objectDefinition": map[string]any{
		"apiVersion": "policy.open-cluster-management.io/v1",
		"kind":       "ConfigurationPolicy",
		"metadata":   map[string]any{"name": name},
		"spec":       spec,
	}}
}

// rolloutCheck is compliant only when every layered pool is Updated and not
// Degraded, and the MachineOSBuild the MachineOSConfig names as current
// (annotation machineconfiguration.openshift.io/current-machine-os-build)
// has Succeeded. Before a build exists it asks for an annotation value no
// build has, so the policy stays NonCompliant until there is one.
func rolloutCheck(apiVersion string, pools []string) string {
	var b strings.Builder
	for _, pool := range pools {
		fmt.Fprintf(&b, `{{- $mosc := lookup %q "MachineOSConfig" "" %q }}
{{- $build := "" }}
{{- with $mosc.metadata }}{{ with .annotations }}{{ with index . "machineconfiguration.openshift.io/current-machine-os-build" }}{{ $build = . }}{{ end }}{{ end }}{{ end }}
- complianceType: musthave
  objectDefinition:
    apiVersion: machineconfiguration.openshift.io/v1
    kind: MachineConfigPool
    metadata:
      name: %s
    status:
      conditions:
      - type: Updated
        status: "True"
      - type: Degraded
        status: "False"
{{- if $build }}
- complianceType: musthave
  objectDefinition:
    apiVersion: %s
    kind: MachineOSBuild
    metadata:
      name: '{{ $build }}'
    status:
      conditions:
      - type: Succeeded
        status: "True"
{{- else }}
- complianceType: musthave
  objectDefinition:
    apiVersion: %s
    kind: MachineOSConfig
    metadata:
      name: %s
      annotations:
        machineconfiguration.openshift.io/current-machine-os-build: no-build-yet
{{- end }}
`, apiVersion, pool, pool, apiVersion, apiVersion, pool)
	}
	return b.String()
}

// WriteDelivery writes the engines' objects into dir (argocd/, acm/) and
// removes files mosc wrote there before that are no longer produced.
func WriteDelivery(dir string, r *Result, engines []string, o DeliveryOptions, version string) ([]string, error) {
	var written []string
	for _, e := range engines {
		switch e {
		case EngineArgoCD:
			appset, err := ApplicationSet(r, o)
			if err != nil {
				return nil, err
			}
			d := filepath.Join(dir, ArgoDir)
			if err := os.MkdirAll(filepath.Join(d, ArgoComponentDir), 0o755); err != nil {
				return nil, err
			}
			if err := writeObjects(filepath.Join(d, ApplicationSetFile), version, appset); err != nil {
				return nil, err
			}
			if err := bundle.WriteOwnFile(filepath.Join(d, ArgoComponentDir, bundle.KustomizationFile), ArgoComponent(version), 0o644); err != nil {
				return nil, err
			}
			written = append(written, filepath.Join(d, ApplicationSetFile))
		case EngineACM:
			objs, err := ACMObjects(r, o)
			if err != nil {
				return nil, err
			}
			d := filepath.Join(dir, ACMDir)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
			keep := map[string]bool{bundle.KustomizationFile: true, ClusterSetBindingFile: true}
			var kust strings.Builder
			kust.WriteString(bundle.Header(version))
			kust.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
			if err := writeObjects(filepath.Join(d, ClusterSetBindingFile), version, ClusterSetBinding(o)); err != nil {
				return nil, err
			}
			kust.WriteString("- " + ClusterSetBindingFile + "\n")
			for i := 0; i < len(objs); i += 3 {
				id := strings.TrimPrefix(objs[i]["metadata"].(map[string]any)["name"].(string), "mosc-")
				f := "policy-" + id + ".yaml"
				if err := writeObjects(filepath.Join(d, f), version, objs[i:i+3]...); err != nil {
					return nil, err
				}
				keep[f] = true
				kust.WriteString("- " + f + "\n")
			}
			if err := bundle.WriteOwnFile(filepath.Join(d, bundle.KustomizationFile), []byte(kust.String()), 0o644); err != nil {
				return nil, err
			}
			entries, err := os.ReadDir(d)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				p := filepath.Join(d, e.Name())
				if !keep[e.Name()] && strings.HasPrefix(e.Name(), "policy-") && bundle.IsOwnFile(p) {
					if err := os.Remove(p); err != nil {
						return nil, err
					}
				}
			}
			written = append(written, d)
		case EngineACMPolicyGenerator:
			files, err := writePolicyGenerator(dir, r, o, version)
			if err != nil {
				return nil, err
			}
			written = append(written, files...)
		default:
			return nil, fmt.Errorf("--for: unknown engine %q; known: %s", e, strings.Join(Engines, ", "))
		}
	}
	return written, nil
}

// writeObjects writes objects as one YAML stream with mosc's header.
func writeObjects(path, version string, objs ...map[string]any) error {
	var b strings.Builder
	b.WriteString(bundle.Header(version))
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return bundle.WriteOwnFile(path, []byte(b.String()), 0o644)
}
