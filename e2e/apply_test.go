package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	operatorv1 "github.com/openshift/api/operator/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/cluster"
)

// The walkthrough's objects (FACTS.md §4), as mosc names them on stdout.
const (
	refPVC       = "persistentvolumeclaim/registry-claim"
	refRecord    = "configmap/mosc-registry-previous"
	refRegistry  = "config.imageregistry.operator.openshift.io/cluster"
	refPush      = "secret/push-secret"
	refPullPush  = "secret/pull-and-push-secret"
	refRepos     = "configmap/etc-yum-repos-d"
	refMOSC      = "machineosconfig.machineconfiguration.openshift.io/master"
	mcoNS        = "openshift-machine-config-operator"
	registryNS   = "openshift-image-registry"
	internalHost = "image-registry.openshift-image-registry.svc:5000"
)

// walkthroughArgs is the walkthrough as flags: SNO master pool, internal
// registry on a 100Gi lvms-vg1 claim; the OpenShift release comes from the
// cluster's ClusterVersion. Its push credential is the walkthrough's minted
// token (--push-credential token); apply's default, a service-account token
// Secret, is TestPushCredentialOutlivesAMonth's.
var walkthroughArgs = []string{"--pool", "master", "--internal-registry", "--storage-class", "lvms-vg1", "--site", "lab", "--push-credential", "token"}

// resetCluster gives the test a fresh cluster and leaves one behind (what
// apply creates would otherwise meet the next test, which may assume none).
// The cleanup runs after the test's simulator has stopped (cleanups run last
// registered first).
func resetCluster(t *testing.T) {
	t.Helper()
	fresh := func() {
		releasePVCs(t)
		resetEnv(t)
		releasePVCs(t)
	}
	fresh()
	t.Cleanup(fresh)
}

// releasePVCs plays the controller manager's pvc-protection controller: the
// registry claims are used by no pod here, so their finalizer goes, and a
// deleted claim really disappears.
func releasePVCs(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	pvcs := env.Clients.Kube.CoreV1().PersistentVolumeClaims(registryNS)
	list, err := pvcs.List(ctx, metav1.ListOptions{})
	must(t, err)
	for _, p := range list.Items {
		if len(p.Finalizers) == 0 {
			continue
		}
		_, err := pvcs.Patch(ctx, p.Name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
}

// snapshot records what apply and remove may touch: resourceVersion of
// every object of those kinds, and the registry Config's spec (its content,
// since remove --registry restores it by a patch).
func snapshot(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := env.Clients
	s := map[string]string{}
	add := func(key, v string) { s[key] = v }
	moscs, err := c.MachineConfig.MachineconfigurationV1().MachineOSConfigs().List(ctx, metav1.ListOptions{})
	must(t, err)
	for _, o := range moscs.Items {
		add("mosc/"+o.Name, o.ResourceVersion)
	}
	mcs, err := c.MachineConfig.MachineconfigurationV1().MachineConfigs().List(ctx, metav1.ListOptions{})
	must(t, err)
	for _, o := range mcs.Items {
		add("machineconfig/"+o.Name, o.ResourceVersion)
	}
	for _, ns := range []string{mcoNS, registryNS, "openshift-config"} {
		cms, err := c.Kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, o := range cms.Items {
			add("configmap/"+ns+"/"+o.Name, o.ResourceVersion)
		}
		secs, err := c.Kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, o := range secs.Items {
			add("secret/"+ns+"/"+o.Name, o.ResourceVersion)
		}
		pvcs, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, o := range pvcs.Items {
			add("pvc/"+ns+"/"+o.Name, o.ResourceVersion)
		}
	}
	cfg, err := c.ImageRegistry.ImageregistryV1().Configs().Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)
	spec, _ := json.Marshal(cfg.Spec)
	add("registry-config-spec", string(spec))
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// actions maps each ref on stdout to its action ("created", "unchanged (server dry run)").
func actions(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		ref, act, ok := strings.Cut(l, " ")
		if !ok {
			t.Fatalf("unexpected output line %q", l)
		}
		m[ref] = act
	}
	return m
}

// runRegistryOperator plays the image registry operator (sim.RegistryOperator)
// until the test ends, with a rollout slow enough that mosc is waiting by
// then. (It once stopped after a fixed minute, which under load could pass
// before mosc, built on first use, had even patched the registry: apply then
// waited out --registry-timeout for a generation nobody would observe.)
func runRegistryOperator(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sim.NewRegistryOperator(env.Clients, 2*time.Second, t.Logf).Run(ctx); err != nil {
			t.Errorf("registry operator: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// pushToken returns the builder token in the push secret.
func pushToken(t *testing.T) string {
	t.Helper()
	s, err := env.Clients.Kube.CoreV1().Secrets(mcoNS).Get(context.Background(), "push-secret", metav1.GetOptions{})
	must(t, err)
	var dc struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	must(t, json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &dc))
	raw, err := base64.StdEncoding.DecodeString(dc.Auths[internalHost].Auth)
	must(t, err)
	user, tok, ok := strings.Cut(string(raw), ":")
	if !ok || user != "builder" || tok == "" {
		t.Fatalf("push secret auth for %s is not builder:<token>", internalHost)
	}
	return tok
}

// noSecretsIn fails if any output holds the token or its encodings.
func noSecretsIn(t *testing.T, token string, outputs ...string) {
	t.Helper()
	needles := []string{token, base64.StdEncoding.EncodeToString([]byte("builder:" + token))}
	if parts := strings.Split(token, "."); len(parts) == 3 {
		needles = append(needles, parts[2]) // the signature alone is secret enough
	}
	for i, o := range outputs {
		for _, n := range needles {
			if strings.Contains(o, n) {
				t.Fatalf("output %d contains the builder token (or its auth encoding)", i)
			}
		}
	}
}

func TestApplyWalkthrough(t *testing.T) {
	resetCluster(t)
	ctx := context.Background()
	c := env.Clients
	before := snapshot(t)
	var outputs []string

	runRegistryOperator(t)

	out, errOut, code := runMosc(t, append([]string{"apply", "--registry-timeout", "3m"}, walkthroughArgs...)...)
	outputs = append(outputs, out, errOut)
	if code != 0 {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	got := actions(t, out)
	for _, ref := range []string{refPVC, refRecord, refPush, refRepos, refMOSC} {
		if got[ref] != "created" {
			t.Errorf("%s: %q; want created\nstdout:\n%s", ref, got[ref], out)
		}
	}
	// v1: no merged copy of the cluster pull secret (issue 10 finding 5).
	if _, ok := got[refPullPush]; ok {
		t.Errorf("apply wrote %s on a v1 cluster:\n%s", refPullPush, out)
	}
	if got[refRegistry] != "configured" {
		t.Errorf("%s: %q; want configured", refRegistry, got[refRegistry])
	}
	if !strings.Contains(errOut, "the image registry is available (after") {
		t.Errorf("apply did not wait for the registry:\n%s", errOut)
	}
	for ref, act := range got {
		if act != "created" && ref != refRegistry {
			t.Errorf("%s %s on a fresh cluster", ref, act)
		}
	}

	// The objects are the walkthrough's, accepted by the real CRDs.
	mosc, err := c.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(ctx, "master", metav1.GetOptions{})
	must(t, err)
	if mosc.Spec.MachineConfigPool.Name != "master" || mosc.Spec.RenderedImagePushSecret.Name != "push-secret" ||
		mosc.Spec.BaseImagePullSecret != nil ||
		mosc.Spec.RenderedImagePushSpec != internalHost+"/openshift-machine-config-operator/os-image:latest" ||
		string(mosc.Spec.ImageBuilder.ImageBuilderType) != "Job" {
		t.Errorf("MachineOSConfig spec = %+v", mosc.Spec)
	}
	if len(mosc.Spec.Containerfile) != 1 || !strings.HasPrefix(mosc.Spec.Containerfile[0].Content, "FROM configs AS final") {
		t.Errorf("Containerfile = %+v", mosc.Spec.Containerfile)
	}
	if mosc.Labels["app.kubernetes.io/managed-by"] != "mosc" || mosc.Labels["mosc.dev/site"] != "lab" {
		t.Errorf("MOSC labels = %v", mosc.Labels)
	}
	pvc, err := c.Kube.CoreV1().PersistentVolumeClaims(registryNS).Get(ctx, "registry-claim", metav1.GetOptions{})
	must(t, err)
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "lvms-vg1" || pvc.Spec.Resources.Requests.Storage().String() != "100Gi" {
		t.Errorf("PVC spec = %+v", pvc.Spec)
	}
	cfg, err := c.ImageRegistry.ImageregistryV1().Configs().Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)
	if cfg.Spec.ManagementState != operatorv1.Managed || cfg.Spec.Storage.PVC == nil || cfg.Spec.Storage.PVC.Claim != "registry-claim" ||
		cfg.Spec.RolloutStrategy != "Recreate" || cfg.Spec.Replicas != 1 || !cfg.Spec.DefaultRoute {
		t.Errorf("registry Config spec = %+v", cfg.Spec)
	}
	if cfg.Spec.HTTPSecret == "" {
		t.Errorf("the merge patch lost a field it does not own (httpSecret)")
	}

	// The token: minted through TokenRequest, 30 days by default, expiry reported.
	tok := pushToken(t)
	exp, err := cluster.TokenExpiry(tok)
	must(t, err)
	if d := time.Until(exp); d < 30*24*time.Hour-time.Hour || d > 30*24*time.Hour+time.Hour {
		t.Errorf("token lifetime %v; want 30 days", d)
	}
	if !strings.Contains(errOut, "valid until "+exp.Format(time.RFC3339)) {
		t.Errorf("stderr does not report the real expiry %s:\n%s", exp.Format(time.RFC3339), errOut)
	}

	// No merged pull secret: the MCO pulls the base image with its own
	// copy of the cluster pull secret, which follows rotations.
	if _, err := c.Kube.CoreV1().Secrets(mcoNS).Get(ctx, "pull-and-push-secret", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pull-and-push-secret on a v1 cluster: %v", err)
	}
	for _, n := range []string{"push-secret"} {
		s, err := c.Kube.CoreV1().Secrets(mcoNS).Get(ctx, n, metav1.GetOptions{})
		must(t, err)
		if s.Labels["app.kubernetes.io/managed-by"] != "mosc" || s.Labels["mosc.dev/site"] != "lab" {
			t.Errorf("%s labels = %v", n, s.Labels)
		}
	}
	pull, err := c.Kube.CoreV1().Secrets("openshift-config").Get(ctx, "pull-secret", metav1.GetOptions{})
	must(t, err)
	if before["secret/openshift-config/pull-secret"] != pull.ResourceVersion {
		t.Errorf("the cluster pull secret was changed")
	}

	// A second apply changes nothing.
	applied := snapshot(t)
	out, errOut, code = runMosc(t, append([]string{"apply", "--registry-timeout", "3m"}, walkthroughArgs...)...)
	outputs = append(outputs, out, errOut)
	if code != 0 {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for ref, act := range actions(t, out) {
		if act != "unchanged" {
			t.Errorf("second apply: %s %s; want unchanged", ref, act)
		}
	}
	if len(actions(t, out)) != len(got)-1 { // the registry record is written once
		t.Errorf("second apply printed %d objects, first %d", len(actions(t, out)), len(got))
	}
	if d := cmp.Diff(applied, snapshot(t)); d != "" {
		t.Errorf("second apply changed the cluster (-before +after):\n%s", d)
	}
	if !strings.Contains(errOut, "keeping the builder token") {
		t.Errorf("second apply did not keep the token:\n%s", errOut)
	}

	// Dry runs change nothing, whatever they would do.
	for _, mode := range []string{"server", "client"} {
		out, errOut, code = runMosc(t, append([]string{"apply", "--dry-run=" + mode, "--rotate-token"}, walkthroughArgs...)...)
		outputs = append(outputs, out, errOut)
		if code != 0 {
			t.Fatalf("apply --dry-run=%s: exit %d\n%s\n%s", mode, code, out, errOut)
		}
		if !strings.Contains(errOut, "TokenRequest API has no dry-run") {
			t.Errorf("--dry-run=%s --rotate-token does not say the token is not minted:\n%s", mode, errOut)
		}
		if d := cmp.Diff(applied, snapshot(t)); d != "" {
			t.Errorf("apply --dry-run=%s changed the cluster (-before +after):\n%s", mode, d)
		}
		// A new token would change both secrets; nothing else would change.
		suffix := map[string]string{"server": " (server dry run)", "client": " (dry run)"}[mode]
		for ref, act := range actions(t, out) {
			want := "unchanged" + suffix
			if ref == refPush || ref == refPullPush {
				want = "configured" + suffix
			}
			if act != want {
				t.Errorf("apply --dry-run=%s --rotate-token: %s %q; want %q", mode, ref, act, want)
			}
		}
	}

	// --rotate-token mints a new token: the push secret changes, nothing else.
	out, errOut, code = runMosc(t, append([]string{"apply", "--rotate-token", "--token-ttl", "1h"}, walkthroughArgs...)...)
	outputs = append(outputs, out, errOut)
	if code != 0 {
		t.Fatalf("apply --rotate-token: exit %d\n%s\n%s", code, out, errOut)
	}
	a := actions(t, out)
	if a[refPush] != "configured" || a[refMOSC] != "unchanged" {
		t.Errorf("apply --rotate-token: %v", a)
	}
	tok2 := pushToken(t)
	if tok2 == tok {
		t.Errorf("--rotate-token kept the old token")
	}

	// No command ever printed a token.
	for _, tk := range []string{tok, tok2} {
		noSecretsIn(t, tk, outputs...)
	}

	// remove's dry runs list what would go and change nothing.
	rotated := snapshot(t)
	for _, mode := range []string{"client", "server"} {
		out, errOut, code = runMosc(t, "remove", "--site", "lab", "--registry", "--dry-run="+mode)
		suffix := map[string]string{"server": " (server dry run)", "client": " (dry run)"}[mode]
		if code != 0 || !strings.HasPrefix(out, refMOSC+" deleted"+suffix+"\n") || !strings.Contains(out, refRegistry+" restored"+suffix) {
			t.Errorf("remove --dry-run=%s: exit %d\n%s\n%s", mode, code, out, errOut)
		}
		if d := cmp.Diff(rotated, snapshot(t)); d != "" {
			t.Errorf("remove --dry-run=%s changed the cluster (-before +after):\n%s", mode, d)
		}
	}

	// remove: the MOSC first, then the rest; the registry stays.
	out, errOut, code = runMosc(t, "remove", "--site", "lab")
	noSecretsIn(t, tok2, out, errOut)
	if code != 0 {
		t.Fatalf("remove: exit %d\n%s\n%s", code, out, errOut)
	}
	rm := strings.Split(strings.TrimSpace(out), "\n")
	if rm[0] != refMOSC+" deleted" {
		t.Errorf("remove did not delete the MachineOSConfig first:\n%s", out)
	}
	if strings.Contains(out, refPVC) || !strings.Contains(errOut, "the image registry stays enabled") {
		t.Errorf("remove without --registry touched the registry:\n%s\n%s", out, errOut)
	}
	if _, err := c.Kube.CoreV1().PersistentVolumeClaims(registryNS).Get(ctx, "registry-claim", metav1.GetOptions{}); err != nil {
		t.Errorf("registry PVC: %v", err)
	}
	// remove --registry restores the registry Config and deletes the claim:
	// the cluster is as it was before the first apply.
	out, errOut, code = runMosc(t, "remove", "--site", "lab", "--registry")
	if code != 0 {
		t.Fatalf("remove --registry: exit %d\n%s\n%s", code, out, errOut)
	}
	if want := []string{refRegistry + " restored", refPVC + " deleted", refRecord + " deleted"}; cmp.Diff(want, strings.Split(strings.TrimSpace(out), "\n")) != "" {
		t.Errorf("remove --registry:\n%s\nwant %v", out, want)
	}
	// The claim waits for its protection finalizer (the registry pod may
	// still use it): apply refuses to "apply" an object being deleted.
	out, errOut, code = runMosc(t, append([]string{"apply", "--wait-registry=false"}, walkthroughArgs...)...)
	if code != 1 || !strings.Contains(errOut, refPVC+" is being deleted (finalizers: kubernetes.io/pvc-protection)") || out != "" {
		t.Errorf("apply over a terminating claim: exit %d\n%s\n%s", code, out, errOut)
	}
	releasePVCs(t)
	if d := cmp.Diff(before, snapshot(t)); d != "" {
		t.Errorf("apply + remove --registry did not leave the cluster as before (-before +after):\n%s", d)
	}
	out, errOut, code = runMosc(t, "remove", "--site", "lab")
	if code != 0 || out != "" || strings.TrimSpace(errOut) != "nothing to remove: no mosc objects of site lab" {
		t.Errorf("remove again: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestApplyDryRunOnFreshCluster(t *testing.T) {
	resetCluster(t)
	before := snapshot(t)
	for _, mode := range []string{"client", "server"} {
		out, errOut, code := runMosc(t, append([]string{"apply", "--dry-run=" + mode}, walkthroughArgs...)...)
		if code != 0 {
			t.Fatalf("apply --dry-run=%s: exit %d\n%s\n%s", mode, code, out, errOut)
		}
		suffix := " (dry run)"
		if mode == "server" {
			suffix = " (server dry run)"
		}
		for ref, act := range actions(t, out) {
			want := "created" + suffix
			if ref == refRegistry {
				want = "configured" + suffix
			}
			if act != want {
				t.Errorf("--dry-run=%s: %s %q; want %q", mode, ref, act, want)
			}
		}
		if !strings.Contains(errOut, "a new builder token would be minted") {
			t.Errorf("--dry-run=%s does not say a token would be minted:\n%s", mode, errOut)
		}
		if d := cmp.Diff(before, snapshot(t)); d != "" {
			t.Fatalf("apply --dry-run=%s changed the cluster (-before +after):\n%s", mode, d)
		}
	}
	// remove on a cluster without mosc objects is a no-op.
	out, errOut, code := runMosc(t, "remove", "--dry-run=server")
	if code != 0 || out != "" || !strings.Contains(errOut, "nothing to remove") {
		t.Fatalf("remove on a clean cluster: exit %d\n%s\n%s", code, out, errOut)
	}
}

// grant gives a user a cluster role (labelled so Reset removes the binding).
func grant(t *testing.T, user, role string, rules []rbacv1.PolicyRule) {
	t.Helper()
	ctx := context.Background()
	rbac := env.Clients.Kube.RbacV1()
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role}, Rules: rules}
	if _, err := rbac.ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		_, err = rbac.ClusterRoles().Update(ctx, cr, metav1.UpdateOptions{})
		must(t, err)
	} else {
		must(t, err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role + "-" + user, Labels: map[string]string{"mosc-e2e/test": "apply"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}},
	}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func TestApplyRestrictedUser(t *testing.T) {
	resetCluster(t)
	// bob may read pools and write ConfigMaps, nothing else mosc needs.
	grant(t, "bob", "mosc-e2e-partial", []rbacv1.PolicyRule{
		{APIGroups: []string{"machineconfiguration.openshift.io"}, Resources: []string{"machineconfigpools"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "create", "patch"}},
	})
	kc, err := env.UserKubeconfig("bob", nil)
	must(t, err)
	before := snapshot(t)
	out, errOut, code := runMosc(t, append([]string{"apply", "--kubeconfig", kc, "--openshift", "4.20"}, walkthroughArgs...)...)
	if code != 2 {
		t.Fatalf("restricted apply: exit %d; want 2\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"bob may not do",
		"nothing was changed",
		`create secrets "push-secret" in namespace openshift-machine-config-operator`,
		`create machineosconfigs.machineconfiguration.openshift.io "master" (cluster-scoped)`,
		`create serviceaccounts/token "builder" in namespace openshift-machine-config-operator`,
		`get secrets "pull-secret" in namespace openshift-config`,
		`patch configs.imageregistry.operator.openshift.io "cluster" (cluster-scoped)`,
		`create persistentvolumeclaims "registry-claim" in namespace openshift-image-registry`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, granted := range []string{"machineconfigpools", `configmaps "etc-yum-repos-d"`} {
		if strings.Contains(errOut, granted) {
			t.Errorf("stderr lists the granted %s:\n%s", granted, errOut)
		}
	}
	if out != "" {
		t.Errorf("stdout: %s", out)
	}
	if d := cmp.Diff(before, snapshot(t)); d != "" {
		t.Errorf("a refused apply changed the cluster (-before +after):\n%s", d)
	}
	// remove lists what it lacks too.
	_, errOut, code = runMosc(t, "remove", "--kubeconfig", kc, "--site", "lab")
	if code != 2 || !strings.Contains(errOut, "delete machineosconfigs.machineconfiguration.openshift.io") {
		t.Errorf("restricted remove: exit %d\n%s", code, errOut)
	}
}

func TestApplyBadInputChangesNothing(t *testing.T) {
	resetCluster(t)
	dir := t.TempDir()
	badSite := filepath.Join(dir, "mosc.yaml")
	must(t, os.WriteFile(badSite, []byte("apiVersion: mosc.dev/v1alpha1\nkind: Site\nmetadata:\n  name: lab\nspec:\n  pool: master\n  registy:\n    internal: true\n"), 0o600))
	otherAuth := filepath.Join(dir, "auth.json")
	must(t, os.WriteFile(otherAuth, []byte(`{"auths":{"docker.io":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("u:p"))+`"}}}`), 0o600))
	extSite := filepath.Join(dir, "ext.yaml")
	must(t, os.WriteFile(extSite, []byte("apiVersion: mosc.dev/v1alpha1\nkind: Site\nmetadata:\n  name: lab\nspec:\n  pool: master\n  registry:\n    pushSpec: quay.io/acme/os-image:latest\n  secrets:\n    pushAuthFile: auth.json\n"), 0o600))
	before := snapshot(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"site file push auth without the host", []string{"apply", "-f", extSite}, []string{extSite + ": spec.secrets.pushAuthFile " + otherAuth, `no auth for the push registry "quay.io"`}},
		{"site file typo", []string{"apply", "-f", badSite}, []string{badSite + ":7:3", "registy"}},
		{"push spec without tag", []string{"apply", "--pool", "master", "--push-spec", "quay.io/acme/os-image"}, []string{"--push-spec", "no tag"}},
		{"push auth without the host", []string{"apply", "--pool", "master", "--push-spec", "quay.io/acme/os-image:latest", "--push-auth", otherAuth}, []string{"--push-auth " + otherAuth, `"quay.io"`}},
		{"external registry without credentials", []string{"apply", "--pool", "master", "--push-spec", "quay.io/acme/os-image:latest"}, []string{"--push-auth FILE"}},
		{"unknown pool", []string{"apply", "--pool", "gpu"}, []string{`machineconfigpool "gpu" not found`, "master, worker"}},
		{"version mismatch", []string{"apply", "--pool", "master", "--openshift", "4.21"}, []string{"runs OpenShift 4.20.15", "--force"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runMosc(t, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d; want 2\n%s\n%s", code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if d := cmp.Diff(before, snapshot(t)); d != "" {
				t.Fatalf("bad input changed the cluster (-before +after):\n%s", d)
			}
		})
	}
}

func TestApplyConflictAndExternalRegistry(t *testing.T) {
	resetCluster(t)
	ctx := context.Background()
	kube := env.Clients.Kube
	dir := t.TempDir()
	// External registry: credentials from a file; quay.io clashes with the
	// cluster pull secret's entry, which the push auth replaces in the merge.
	robot := base64.StdEncoding.EncodeToString([]byte("acme+robot:robot-password-123"))
	authFile := filepath.Join(dir, "push.json")
	must(t, os.WriteFile(authFile, []byte(`{"auths":{"quay.io":{"auth":"`+robot+`"},"docker.io":{"auth":"eDp5"}}}`), 0o600))
	args := []string{"apply", "--pool", "worker", "--site", "ext", "--push-spec", "quay.io/acme/os-image:4.20", "--push-auth", authFile}
	out, errOut, code := runMosc(t, args...)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, robot) || strings.Contains(out+errOut, "robot-password-123") {
		t.Fatalf("output holds the push credentials")
	}
	if strings.Contains(errOut, "minted") {
		t.Errorf("stderr:\n%s", errOut)
	}
	push, err := kube.CoreV1().Secrets(mcoNS).Get(ctx, "push-secret", metav1.GetOptions{})
	must(t, err)
	if want := `{"auths":{"quay.io":{"auth":"` + robot + `"}}}`; string(push.Data[corev1.DockerConfigJsonKey]) != want {
		t.Errorf("push secret = %s; want only the quay.io entry of the file", push.Data[corev1.DockerConfigJsonKey])
	}
	// v1: no merged copy (the MCO uses the cluster pull secret for the base
	// image); MergePullSecret's clash handling is for v1alpha1 (unit tests).
	if _, err := kube.CoreV1().Secrets(mcoNS).Get(ctx, "pull-and-push-secret", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pull-and-push-secret on a v1 cluster: %v", err)
	}

	// Someone edits a field mosc owns: apply names them and stops.
	cm, err := kube.CoreV1().ConfigMaps(mcoNS).Get(ctx, "etc-yum-repos-d", metav1.GetOptions{})
	must(t, err)
	var key string
	for k := range cm.Data {
		key = k
		break
	}
	cm.Data[key] = "# edited by hand\n"
	_, err = kube.CoreV1().ConfigMaps(mcoNS).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	must(t, err)
	out, errOut, code = runMosc(t, args...)
	if code != 1 {
		t.Fatalf("apply over an edit: exit %d; want 1\n%s\n%s", code, out, errOut)
	}
	if want := fmt.Sprintf(`configmap/etc-yum-repos-d: conflict: field manager "kubectl-edit" owns .data.%s`, key); !strings.Contains(errOut, want) || !strings.Contains(errOut, "--force-conflicts") {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if strings.Contains(out, refMOSC) {
		t.Errorf("apply went on past the conflict:\n%s", out)
	}
	out, errOut, code = runMosc(t, append(args, "--force-conflicts")...)
	if code != 0 || actions(t, out)[refRepos] != "configured" {
		t.Fatalf("apply --force-conflicts: exit %d\n%s\n%s", code, out, errOut)
	}
	cm, err = kube.CoreV1().ConfigMaps(mcoNS).Get(ctx, "etc-yum-repos-d", metav1.GetOptions{})
	must(t, err)
	if cm.Data[key] == "# edited by hand\n" {
		t.Errorf("--force-conflicts did not restore %s", key)
	}

	// Two sites: remove needs --site; then removes only its own.
	out, errOut, code = runMosc(t, append([]string{"apply", "--push-spec", "quay.io/acme/os-image:master", "--push-auth", authFile}, walkthroughArgs[:2]...)...)
	if code != 0 {
		t.Fatalf("apply master: exit %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = runMosc(t, "remove")
	if code != 2 || !strings.Contains(errOut, "several sites") || !strings.Contains(errOut, "default, ext") {
		t.Fatalf("remove without --site: exit %d\n%s", code, errOut)
	}
}

func TestApplyRegistryWait(t *testing.T) {
	resetCluster(t)
	// The seed is a bare-metal cluster's registry as its operator reports
	// it: Removed, and Available=True reason Removed. Nothing plays the
	// operator here, so after mosc's patch its status stays that of the
	// previous generation: the wait must not take it for a working registry
	// (issue 10 finding 6) — it times out, names the state and the ways out.
	out, errOut, code := runMosc(t, append([]string{"apply", "--registry-timeout", "2s"}, walkthroughArgs...)...)
	if code != 1 || !strings.Contains(errOut, "did not become available within 2s (the operator has not observed generation") ||
		!strings.Contains(errOut, "Available=True Removed: The registry is removed)") || !strings.Contains(errOut, "--wait-registry=false") {
		t.Fatalf("apply with a Removed registry's status: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, refMOSC) || strings.Contains(out, refPush) {
		t.Errorf("apply went on past the registry wait:\n%s", out)
	}
	// The operator observed the spec but the registry has no replicas yet.
	ctx := context.Background()
	cfgs := env.Clients.ImageRegistry.ImageregistryV1().Configs()
	go func() {
		time.Sleep(time.Second)
		cfg, err := cfgs.Get(ctx, "cluster", metav1.GetOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		cfg.Status.ObservedGeneration = cfg.Generation
		cfg.Status.Conditions = []operatorv1.OperatorCondition{{Type: "Available", Status: operatorv1.ConditionFalse, Reason: "NoReplicasAvailable", Message: "The deployment does not have available replicas", LastTransitionTime: metav1.Now()}}
		if _, err := cfgs.UpdateStatus(ctx, cfg, metav1.UpdateOptions{}); err != nil {
			t.Error(err)
		}
	}()
	out, errOut, code = runMosc(t, append([]string{"apply", "--registry-timeout", "4s"}, walkthroughArgs...)...)
	if code != 1 || !strings.Contains(errOut, "(Available=False NoReplicasAvailable: The deployment does not have available replicas)") {
		t.Fatalf("apply with an unavailable registry: exit %d\n%s\n%s", code, out, errOut)
	}
	// Ctrl-C ends the wait cleanly.
	ictx, interrupt := context.WithCancel(ctx)
	time.AfterFunc(5*time.Second, interrupt) // well after the preflight, even on a loaded machine
	out, errOut, code = runMoscWith(t, moscRun{Ctx: ictx}, append([]string{"apply", "--registry-timeout", "1m"}, walkthroughArgs...)...)
	if code != 1 || !strings.Contains(errOut, "interrupted while waiting for the image registry (Available=False NoReplicasAvailable") {
		t.Fatalf("apply interrupted in the registry wait: exit %d\n%s\n%s", code, out, errOut)
	}
	// Skipping the wait applies the rest.
	out, errOut, code = runMosc(t, append([]string{"apply", "--wait-registry=false"}, walkthroughArgs...)...)
	if code != 0 || actions(t, out)[refMOSC] != "created" {
		t.Fatalf("apply --wait-registry=false: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestApplyWaitHandsOverToWatch(t *testing.T) {
	resetCluster(t)
	// No simulator: nothing builds, so the watch that apply hands over to
	// times out, naming the phase it is stuck in, with watch's exit code.
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "wait", "--wait", "--timeout", "3s")
	if code != 1 {
		t.Fatalf("apply --wait: exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "machineosconfig.machineconfiguration.openshift.io/worker created") {
		t.Errorf("apply --wait did not apply first:\n%s", out)
	}
	// The watch waits for the MachineOSBuild by the name the MCO will give it.
	if !strings.Contains(errOut, "timed out after 3s: build: waiting for the operator to create MachineOSBuild worker-") {
		t.Errorf("apply --wait did not time out as watch does:\n%s\n%s", out, errOut)
	}
	// Dry runs have nothing to follow.
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "wait", "--wait", "--dry-run=server")
	if code != 0 || !strings.Contains(errOut, "--wait: nothing to follow in a dry run") {
		t.Errorf("apply --wait --dry-run=server: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestApplyAdoptsWalkthrough: a cluster set up by hand as in the walkthrough
// (oc create token --duration=900 days, oc create secret, jq merge, oc
// create -f) is taken over only when asked, and then belongs to mosc.
func TestApplyAdoptsWalkthrough(t *testing.T) {
	resetCluster(t)
	ctx := context.Background()
	c := env.Clients
	byHand := metav1.CreateOptions{FieldManager: "kubectl-create"}
	days900 := int64(900 * 24 * 3600)
	tr, err := c.Kube.CoreV1().ServiceAccounts(mcoNS).CreateToken(ctx, "builder", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &days900}}, metav1.CreateOptions{})
	must(t, err)
	oldToken := tr.Status.Token
	auth := base64.StdEncoding.EncodeToString([]byte("builder:" + oldToken))
	push := `{"auths":{"` + internalHost + `":{"username":"builder","password":"` + oldToken + `","auth":"` + auth + `"}}}`
	pull, err := c.Kube.CoreV1().Secrets("openshift-config").Get(ctx, "pull-secret", metav1.GetOptions{})
	must(t, err)
	var merged map[string]map[string]any
	must(t, json.Unmarshal(pull.Data[corev1.DockerConfigJsonKey], &merged))
	merged["auths"][internalHost] = map[string]string{"username": "builder", "password": oldToken, "auth": auth}
	mergedJSON, _ := json.Marshal(merged)
	for name, data := range map[string][]byte{"push-secret": []byte(push), "pull-and-push-secret": mergedJSON} {
		_, err := c.Kube.CoreV1().Secrets(mcoNS).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mcoNS},
			Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: data}}, byHand)
		must(t, err)
	}
	_, err = c.Kube.CoreV1().ConfigMaps(mcoNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "etc-yum-repos-d", Namespace: mcoNS},
		Data: map[string]string{"doca.repo": "[doca]\nname=DOCA Online Repo\nbaseurl=https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/x86_64/\nenabled=1\ngpgcheck=0\n"}}, byHand)
	must(t, err)
	_, err = c.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Create(ctx, &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "master"},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "master"},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: mcfgv1.JobBuilder},
			BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: "pull-and-push-secret"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push-secret"},
			RenderedImagePushSpec:   mcfgv1.ImageTagFormat(internalHost + "/openshift-machine-config-operator/os-image:latest"),
			Containerfile:           []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "FROM configs AS final\nRUN dnf install doca-all -y && bootc container lint"}},
		},
	}, byHand)
	must(t, err)
	before := snapshot(t)

	// The default push credential: the conflict is found before the token
	// Secret is created, so nothing changes.
	out, errOut, code := runMosc(t, "apply", "--pool", "master", "--site", "lab")
	if code != 1 || !strings.Contains(errOut, `secret/push-secret: conflict: field manager "kubectl-create" owns`) {
		t.Fatalf("apply over a hand-made setup: exit %d; want 1 naming kubectl-create\n%s\n%s", code, out, errOut)
	}
	if d := cmp.Diff(before, snapshot(t)); d != "" {
		t.Errorf("a conflicting apply changed the cluster (-before +after):\n%s", d)
	}

	// The walkthrough's minted token, bounded by --token-ttl from here on.
	args := []string{"apply", "--pool", "master", "--site", "lab", "--push-credential", "token"}
	out, errOut, code = runMosc(t, args...)
	if code != 1 || !strings.Contains(errOut, `secret/push-secret: conflict: field manager "kubectl-create" owns`) {
		t.Fatalf("apply over a hand-made setup: exit %d; want 1 naming kubectl-create\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "longer than --token-ttl 30d") {
		t.Errorf("the 900-day token was not replaced:\n%s", errOut)
	}
	if d := cmp.Diff(before, snapshot(t)); d != "" {
		t.Errorf("a conflicting apply changed the cluster (-before +after):\n%s", d)
	}
	noSecretsIn(t, oldToken, out, errOut)

	// Taking over changes the MachineOSConfig and adds a MachineConfig of a
	// layered pool: apply pauses the pool and waits for the MCO to render, so
	// from here the MCO must run, as on a real cluster.
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond})
	out, errOut, code = runMosc(t, append(args, "--force-conflicts")...)
	if code != 0 {
		t.Fatalf("apply --force-conflicts: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, ref := range []string{refPush, refRepos, refMOSC} {
		if a := actions(t, out)[ref]; a != "configured" {
			t.Errorf("%s %q; want configured", ref, a)
		}
	}
	if !strings.Contains(errOut, "machineconfigpool/master paused while mosc writes its MachineConfigs and MachineOSConfig") || !strings.Contains(errOut, "machineconfigpool/master unpaused") {
		t.Errorf("apply changing the MachineOSConfig and a MachineConfig did not pause the pool:\n%s", errOut)
	}
	newToken := pushToken(t)
	if newToken == oldToken {
		t.Errorf("the 900-day token is still in the push secret")
	}
	exp, err := cluster.TokenExpiry(newToken)
	must(t, err)
	if time.Until(exp) > 31*24*time.Hour {
		t.Errorf("new token expires %v", exp)
	}
	noSecretsIn(t, oldToken, out, errOut)
	noSecretsIn(t, newToken, out, errOut)

	// From now on mosc owns them: unchanged, and remove takes them away.
	out, errOut, code = runMosc(t, args...)
	if code != 0 {
		t.Fatalf("apply after adoption: exit %d\n%s\n%s", code, out, errOut)
	}
	for ref, act := range actions(t, out) {
		if act != "unchanged" {
			t.Errorf("apply after adoption: %s %s", ref, act)
		}
	}
	out, errOut, code = runMosc(t, "remove", "--site", "lab")
	if code != 0 || !strings.Contains(out, refMOSC+" deleted") || !strings.Contains(out, refPush+" deleted") {
		t.Fatalf("remove after adoption: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestApplyWaitRollout(t *testing.T) {
	resetCluster(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond}) // builds under 1s trip the CRD rule buildEnd > buildStart (second precision)
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "wait", "--wait", "--timeout", "90s")
	if code != 0 {
		t.Fatalf("apply --wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	applied := strings.Index(out, refMOSC[:len(refMOSC)-len("master")]+"worker created")
	done := strings.Index(out, "done: 3/3 nodes of pool worker updated and verified")
	if applied < 0 || done < applied {
		t.Fatalf("apply --wait: want the apply lines, then watch to the end:\n%s", out)
	}
	noSecretsIn(t, pushToken(t), out, errOut)
}

func TestApplyWaitBuildFails(t *testing.T) {
	resetCluster(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, BuildFails: true})
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "wait", "--wait", "--timeout", "90s")
	if code != 1 || !strings.Contains(errOut, "rollout of pool worker failed") {
		t.Fatalf("apply --wait with a failing build: exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// apply names what an earlier apply of the same pool left behind (here the
// kernel-devel extensions MachineConfig the ovs variant no longer renders),
// and nothing of the site's other pools: a second pool is another plan, not
// a leftover (issue 13: apply once named every object of the site's other
// pool). diff --live shows the same leftover as removed.
func TestApplyNamesLeftovers(t *testing.T) {
	resetCluster(t)
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "lab")
	if code != 0 {
		t.Fatalf("apply worker: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(errOut, "not in this plan") {
		t.Errorf("fresh apply warns about leftovers:\n%s", errOut)
	}
	// The pool moves to the ovs variant: the full variant's extensions
	// MachineConfig stays (apply never deletes) and is named, alone.
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--stack", "doca-3.3:ovs")
	transcript(t, []string{"apply", "--pool", "worker", "--site", "lab", "--stack", "doca-3.3:ovs"}, out, errOut)
	if code != 0 {
		t.Fatalf("apply worker ovs: exit %d\n%s\n%s", code, out, errOut)
	}
	ext := "machineconfig.machineconfiguration.openshift.io/99-mosc-worker-extensions"
	if !strings.Contains(errOut, "warning: "+ext+" (site lab) is not in this plan any more") || strings.Count(errOut, "not in this plan") != 1 {
		t.Errorf("apply worker ovs: want exactly %s named:\n%s", ext, errOut)
	}
	if _, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigs().Get(context.Background(), "99-mosc-worker-extensions", metav1.GetOptions{}); err != nil {
		t.Errorf("apply deleted the old MachineConfig: %v", err)
	}
	// A second pool of the site: nothing of worker's is "left behind".
	out, errOut, code = runMosc(t, "apply", "--pool", "master", "--site", "lab")
	transcript(t, []string{"apply", "--pool", "master", "--site", "lab"}, out, errOut)
	if code != 0 {
		t.Fatalf("apply master: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(errOut, "not in this plan") {
		t.Errorf("apply master names the worker pool's objects as leftovers:\n%s", errOut)
	}
	// diff --live: the leftover shows as removed; master's objects and the
	// shared ones master uses are not worker's.
	out, errOut, code = runMosc(t, "diff", "--live", "--pool", "worker", "--site", "lab", "--stack", "doca-3.3:ovs")
	transcript(t, []string{"diff", "--live", "--pool", "worker", "--site", "lab", "--stack", "doca-3.3:ovs"}, out, errOut)
	if code != 1 || !strings.Contains(out, "\n- machineconfiguration.openshift.io/v1 MachineConfig 99-mosc-worker-extensions\n") ||
		!strings.Contains(out, "0 changed, 0 added, 1 removed,") || strings.Contains(out, "master") {
		t.Errorf("diff --live worker ovs: exit %d, want the extensions MachineConfig removed and nothing else\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runMosc(t, "diff", "--live", "--pool", "master", "--site", "lab")
	if code != 0 || !strings.Contains(out, "0 changed, 0 added, 0 removed,") {
		t.Errorf("diff --live master: exit %d, want no difference\n%s\n%s", code, out, errOut)
	}
}

// The registry PVC's storage class is immutable: a second apply asking for
// another one is refused before any write, naming both classes and the remedy.
func TestApplyRefusesStorageClassChange(t *testing.T) {
	resetCluster(t)
	_, errOut, code := runMosc(t, "apply", "--wait-registry=false", "--internal-registry", "--storage-class", "lvms-vg1", "--site", "lab")
	if code != 0 {
		t.Fatalf("first apply: exit %d\n%s", code, errOut)
	}
	ctx := context.Background()
	before, err := env.Clients.Kube.CoreV1().PersistentVolumeClaims("openshift-image-registry").Get(ctx, "registry-claim", metav1.GetOptions{})
	must(t, err)
	out, errOut, code := runMosc(t, "apply", "--wait-registry=false", "--internal-registry", "--storage-class", "gp3-csi", "--site", "lab")
	if code != 2 || !strings.Contains(errOut, "exists with storage class lvms-vg1; its storage class cannot change to gp3-csi") ||
		!strings.Contains(errOut, "--storage-class lvms-vg1") {
		t.Errorf("storage class change: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	after, err := env.Clients.Kube.CoreV1().PersistentVolumeClaims("openshift-image-registry").Get(ctx, "registry-claim", metav1.GetOptions{})
	must(t, err)
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the refused apply changed the PVC (resourceVersion %s -> %s)", before.ResourceVersion, after.ResourceVersion)
	}
}
