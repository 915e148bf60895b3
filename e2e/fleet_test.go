package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/internal/kustomizetest"
)

// fleetCRDs are the delivery engines' published CRDs, unmodified
// (e2e/testdata/crds/*/SOURCES.md).
var fleetCRDs = []string{
	"testdata/crds/argocd/applicationset-crd.yaml",
	"testdata/crds/acm/policy.open-cluster-management.io_policies.yaml",
	"testdata/crds/acm/policy.open-cluster-management.io_placementbindings.yaml",
	"testdata/crds/acm/clusters.open-cluster-management.io_placements.yaml",
	"testdata/crds/acm/policy.open-cluster-management.io_configurationpolicies.yaml",
	"testdata/crds/acm/clusters.open-cluster-management.io_managedclustersetbindings.yaml",
}

func installFleetCRDs(ctx context.Context, t *testing.T) {
	t.Helper()
	cs, err := apiextclient.NewForConfig(env.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fleetCRDs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create CRD %s: %v", crd.Name, err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err == nil && crdEstablished(got) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CRD %s not established: %v", crd.Name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func crdEstablished(crd *apiextv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextv1.Established && c.Status == apiextv1.ConditionTrue {
			return true
		}
	}
	return false
}

const e2eFleet = `apiVersion: mosc.dev/v1alpha1
kind: Fleet
metadata:
  name: ran
spec:
  defaults:
    secrets:
      mode: placeholder
  groups:
  - name: edge
    spec:
      pool: worker
      registry:
        internal: true
        storageClass: standard
  clusters:
  - name: site-a
    openshift: "4.19.9"
    group: edge
  - name: site-b
    openshift: "4.20.15"
    group: edge
  - name: site-c
    openshift: "4.21.4"
    group: edge
    overrides:
      stacks: [doca-3.3:ovs]
  - name: site-d
    openshift: "4.20.15"
    group: edge
`

// readStream parses a YAML stream file into objects.
func readStream(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
	return out
}

var fleetResources = map[string]string{
	"ApplicationSet": "applicationsets", "Policy": "policies", "Placement": "placements", "PlacementBinding": "placementbindings",
	"ConfigurationPolicy": "configurationpolicies", "ManagedClusterSetBinding": "managedclustersetbindings",
	"ConfigMap": "configmaps", "Secret": "secrets", "PersistentVolumeClaim": "persistentvolumeclaims",
	"MachineConfig": "machineconfigs", "MachineOSConfig": "machineosconfigs", "Config": "configs",
}

// ssa applies o the way `kubectl apply --server-side` (and Argo CD's
// ServerSideApply=true) does.
func ssa(ctx context.Context, o *unstructured.Unstructured, manager string, dryRun bool) error {
	return ssaOn(ctx, env, o, manager, dryRun)
}

// ssaOn is ssa on cluster c.
func ssaOn(ctx context.Context, c *harness.Cluster, o *unstructured.Unstructured, manager string, dryRun bool) error {
	gvk := o.GroupVersionKind()
	gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: fleetResources[gvk.Kind]}
	ri := c.Clients.Dynamic.Resource(gvr)
	opts := metav1.ApplyOptions{FieldManager: manager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var err error
	if ns := o.GetNamespace(); ns != "" {
		_, err = ri.Namespace(ns).Apply(ctx, o.GetName(), o, opts)
	} else {
		_, err = ri.Apply(ctx, o.GetName(), o, opts)
	}
	return err
}

// A fleet of four clusters on three releases renders for both engines; the
// ApplicationSet, Policies, Placements and PlacementBindings are accepted
// by their real CRDs (the ConfigurationPolicies inside each Policy too);
// each cluster's overlay, built by the real kustomize, is server-side
// applied to a fresh cluster (one API server plays each cluster in turn).
func TestFleetRenderAcceptedByEngines(t *testing.T) {
	kustomize := kustomizetest.Bin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resetEnv(t)
	installFleetCRDs(ctx, t)
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "fleet.yaml"), []byte(e2eFleet), 0o644); err != nil {
		t.Fatal(err)
	}
	gitopsNS, policyNS := "e2e-gitops", "e2e-policies"
	for _, ns := range []string{gitopsNS, policyNS} {
		_, err := env.Clients.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	_, errOut, code := runMoscWith(t, moscRun{Dir: repo}, "render", "--fleet", "fleet.yaml", "-o", "fleet", "--for", "argocd,acm,acm-policygenerator",
		"--repo-url", "https://git.example.com/ran.git", "--argocd-namespace", gitopsNS, "--policy-namespace", policyNS)
	if code != 0 {
		t.Fatalf("render --fleet: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "wrote 4 clusters on 3 bases to fleet") {
		t.Errorf("stderr: %s", errOut)
	}
	// Delivery objects: real creates, validated by the published CRDs.
	var sent []string
	objs := readStream(t, filepath.Join(repo, "fleet", "argocd", "applicationset.yaml"))
	policies, _ := filepath.Glob(filepath.Join(repo, "fleet", "acm", "policy-*.yaml"))
	if len(policies) != 3 {
		t.Fatalf("ACM files %v, want one per base (3)", policies)
	}
	for _, p := range policies {
		objs = append(objs, readStream(t, p)...)
	}
	objs = append(objs, readStream(t, filepath.Join(repo, "fleet", "acm", "managedclustersetbinding.yaml"))...)
	for _, o := range objs {
		if err := ssa(ctx, o, "e2e", false); err != nil {
			t.Errorf("%s %s rejected: %v", o.GetKind(), o.GetName(), err)
			continue
		}
		sent = append(sent, o.GetKind())
		if o.GetKind() != "Policy" {
			continue
		}
		// The ConfigurationPolicies the propagator would copy to each cluster.
		tmpls, _, _ := unstructured.NestedSlice(o.Object, "spec", "policy-templates")
		for _, tp := range tmpls {
			def := &unstructured.Unstructured{Object: tp.(map[string]any)["objectDefinition"].(map[string]any)}
			def.SetNamespace(policyNS)
			if err := ssa(ctx, def, "e2e", true); err != nil {
				t.Errorf("ConfigurationPolicy %s of Policy %s rejected: %v", def.GetName(), o.GetName(), err)
			}
			sent = append(sent, def.GetKind())
		}
	}
	// The CRDs really validate: a wrong type is refused.
	bad := objs[0].DeepCopy()
	unstructured.SetNestedField(bad.Object, "not-a-list", "spec", "generators")
	if err := ssa(ctx, bad, "e2e", true); err == nil || !strings.Contains(err.Error(), "spec.generators") {
		t.Errorf("an ApplicationSet with spec.generators a string was not refused: %v", err)
	}
	if got := strings.Join(sent, ","); strings.Count(got, "ApplicationSet") != 1 || strings.Count(got, "PlacementBinding") != 3 || strings.Count(got, "ConfigurationPolicy") != 9 || strings.Count(got, "ManagedClusterSetBinding") != 1 {
		t.Errorf("accepted %s", got)
	}
	// The PolicyGenerator input, through the real generator when one is
	// built (e2e/testdata/crds/acm/SOURCES.md): its Policies, Placements
	// and PlacementBindings must pass the same CRDs.
	t.Run("policygenerator", func(t *testing.T) {
		bin := os.Getenv("MOSC_POLICYGENERATOR")
		if bin == "" {
			var err error
			if bin, err = exec.LookPath("PolicyGenerator"); err != nil {
				t.Skip("no PolicyGenerator binary ($MOSC_POLICYGENERATOR or PATH); its input is checked against the plugin's types in internal/fleet")
			}
		}
		cmd := exec.Command(bin, "acm-policygenerator/policygenerator.yaml")
		cmd.Dir = filepath.Join(repo, "fleet") // the plugin's base directory: the kustomization's
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("PolicyGenerator: %v\n%s", err, out)
		}
		f := filepath.Join(t.TempDir(), "generated.yaml")
		must(t, os.WriteFile(f, out, 0o644))
		kinds := map[string]int{}
		for _, o := range readStream(t, f) {
			if err := ssa(ctx, o, "e2e-policygenerator", false); err != nil {
				t.Errorf("generated %s %s rejected: %v", o.GetKind(), o.GetName(), err)
			}
			kinds[o.GetKind()]++
		}
		// Per base: the bundle, rollout and secrets policies on one Placement.
		if kinds["Policy"] != 9 || kinds["Placement"] != 3 || kinds["PlacementBinding"] != 3 {
			t.Errorf("generated %v", kinds)
		}
	})
	// Each cluster's overlay onto its own (fresh) cluster.
	for _, c := range []string{"site-a", "site-b", "site-c", "site-d"} {
		if err := env.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		out := kustomizetest.Build(t, kustomize, filepath.Join(repo, "fleet", "clusters", c))
		f := filepath.Join(t.TempDir(), "built.yaml")
		os.WriteFile(f, out, 0o644)
		n := 0
		for _, o := range readStream(t, f) {
			if err := ssa(ctx, o, "argocd-controller", false); err != nil {
				t.Errorf("%s: %s %s: %v", c, o.GetKind(), o.GetName(), err)
			}
			n++
		}
		mosc, err := env.Clients.Dynamic.Resource(schema.GroupVersionResource{Group: "machineconfiguration.openshift.io", Version: "v1", Resource: "machineosconfigs"}).Get(ctx, "worker", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if got, want := mosc.GetAnnotations()["mosc.dev/openshift"], map[string]string{"site-a": "4.19.9", "site-b": "4.20.15", "site-c": "4.21.4", "site-d": "4.20.15"}[c]; !strings.HasPrefix(got, strings.Join(strings.Split(want, ".")[:2], ".")) {
			t.Errorf("%s: MachineOSConfig rendered for %q, want %s", c, got, want)
		}
		t.Logf("%s: %d objects applied server-side", c, n)
	}
}

// kustomizeOrSkip is the real kustomize (hack/install-deps.sh installs it).
func kustomizeOrSkip(t *testing.T) string { return kustomizetest.Bin(t) }

// kustomizeBuild is `kustomize build dir`.
func kustomizeBuild(t *testing.T, bin, dir string) []byte { return kustomizetest.Build(t, bin, dir) }
