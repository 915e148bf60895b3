package e2e

// Self-tests of the harness and the MCO simulator: they prove the test
// cluster behaves like the real thing where mosc depends on it.

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mosc-dev/mosc/e2e/dnfrepo"
	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
)

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// docaContainerfile is a user Containerfile in the walkthrough's shape.
const docaContainerfile = `FROM configs AS final
RUN mkdir -p /var/opt && \
    rpm-ostree override remove openvswitch3.5 && \
    dnf install -y --setopt=install_weak_deps=False doca-openvswitch && \
    dnf clean all && \
    bootc container lint`

// pushToTestRegistry creates a push secret for the test registry and returns
// a push spec there.
func pushToTestRegistry(t testing.TB, ctx context.Context, secretName string) string {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: sim.MCONamespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: env.Registry.DockerConfigJSON()},
	}
	if _, err := env.Clients.Kube.CoreV1().Secrets(sim.MCONamespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create push secret: %v", err)
	}
	return env.Registry.Host() + "/openshift-machine-config-operator/os-image:latest"
}

func newMOSC(pool, pushSpec, pushSecret, containerfile string) *mcfgv1.MachineOSConfig {
	return &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: pool},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: pool},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: mcfgv1.JobBuilder},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: pushSecret},
			RenderedImagePushSpec:   mcfgv1.ImageTagFormat(pushSpec),
			Containerfile:           []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: containerfile}},
			BaseImagePullSecret:     nil,
		},
	}
}

func createMOSC(t testing.TB, ctx context.Context, m *mcfgv1.MachineOSConfig) *mcfgv1.MachineOSConfig {
	t.Helper()
	got, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Create(ctx, m, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create MachineOSConfig %s: %v", m.Name, err)
	}
	return got
}

// waitPool waits until cond holds for the named pool.
func waitPool(t testing.TB, ctx context.Context, pool string, what string, cond func(*mcfgv1.MachineConfigPool) bool) *mcfgv1.MachineConfigPool {
	t.Helper()
	var got *mcfgv1.MachineConfigPool
	err := harness.WaitFor(ctx, env.PoolsLW(), func(ps []*mcfgv1.MachineConfigPool) (bool, string) {
		for _, p := range ps {
			if p.Name == pool {
				got = p
				return cond(p), harness.PoolSummary(p)
			}
		}
		return false, "pool " + pool + " not found"
	})
	if err != nil {
		t.Fatalf("waiting for pool %s %s: %v", pool, what, err)
	}
	return got
}

// waitMOSB waits until the MOSC's current build has condition cond True.
func waitMOSB(t testing.TB, ctx context.Context, mosc string, cond mcfgv1.BuildProgress) *mcfgv1.MachineOSBuild {
	t.Helper()
	var got *mcfgv1.MachineOSBuild
	err := harness.WaitFor(ctx, env.MOSBsLW(), func(bs []*mcfgv1.MachineOSBuild) (bool, string) {
		var states []string
		for _, b := range bs {
			if b.Labels[sim.LabelMachineOSConfig] != mosc {
				continue
			}
			states = append(states, b.Name+":"+buildState(b))
			if meta.IsStatusConditionTrue(b.Status.Conditions, string(cond)) {
				got = b
				return true, ""
			}
		}
		return false, fmt.Sprintf("MOSBs of %s: %v", mosc, states)
	})
	if err != nil {
		t.Fatalf("waiting for a %s MOSB of %s: %v", cond, mosc, err)
	}
	return got
}

func buildState(b *mcfgv1.MachineOSBuild) string {
	for _, c := range b.Status.Conditions {
		if c.Status == metav1.ConditionTrue {
			return c.Type
		}
	}
	return "none"
}

// checkBuildConditions asserts the MCO's invariant: all five conditions, at most one True.
func checkBuildConditions(t testing.TB, b *mcfgv1.MachineOSBuild) {
	t.Helper()
	want := []string{"Prepared", "Building", "Succeeded", "Failed", "Interrupted"}
	var got []string
	trues := 0
	for _, c := range b.Status.Conditions {
		got = append(got, c.Type)
		if c.Status == metav1.ConditionTrue {
			trues++
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") || trues > 1 {
		t.Errorf("MOSB %s conditions %v (%d True), want all of %v with at most one True", b.Name, got, trues, want)
	}
}

// The seeded cluster looks like a fresh OpenShift cluster.
func TestHarnessSeed(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, time.Minute)
	mc := env.Clients.MachineConfig.MachineconfigurationV1()
	for pool, n := range map[string]int{"master": 1, "worker": 3} {
		p, err := mc.MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !harness.PoolUpdated(p) || int(p.Status.MachineCount) != n {
			t.Errorf("%s", harness.PoolSummary(p))
		}
		nodes, err := env.Clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/" + pool})
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes.Items) != n {
			t.Errorf("%s nodes = %d, want %d", pool, len(nodes.Items), n)
		}
		for _, nd := range nodes.Items {
			a := nd.Annotations
			if a[sim.AnnotationCurrentConfig] != p.Spec.Configuration.Name || a[sim.AnnotationState] != sim.StateDone {
				t.Errorf("node %s annotations %v, want currentConfig %s and state Done", nd.Name, a, p.Spec.Configuration.Name)
			}
			if _, err := mc.MachineConfigNodes().Get(ctx, nd.Name, metav1.GetOptions{}); err != nil {
				t.Errorf("MachineConfigNode %s: %v", nd.Name, err)
			}
		}
	}
	ps, err := env.Clients.Kube.CoreV1().Secrets(harness.PullSecretNamespace).Get(ctx, harness.PullSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Auth, Email string } `json:"auths"`
	}
	if err := json.Unmarshal(ps.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
		t.Fatal(err)
	}
	for host, auth := range env.SeededPullSecretAuths() {
		if cfg.Auths[host].Auth != auth || cfg.Auths[host].Email == "" {
			t.Errorf("pull secret auth for %s = %+v", host, cfg.Auths[host])
		}
	}
	cv, err := env.Clients.OpenShift.ConfigV1().ClusterVersions().Get(ctx, "version", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cv.Status.Desired.Version != harness.DefaultOpenShiftVersion || len(cv.Status.History) == 0 {
		t.Errorf("ClusterVersion status = %+v", cv.Status.Desired)
	}
	rc, err := env.Clients.ImageRegistry.ImageregistryV1().Configs().Get(ctx, "cluster", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Spec.ManagementState != "Removed" {
		t.Errorf("registry managementState = %s, want Removed", rc.Spec.ManagementState)
	}
	if _, err := env.Clients.Kube.CoreV1().ServiceAccounts(sim.MCONamespace).Get(ctx, harness.BuilderSA, metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
}

// The server enforces the real CRD schemas and CEL rules.
// TestResetReleasesClaims: the API server puts kubernetes.io/pvc-protection
// on every claim and no controller manager runs here to take it off, so a
// claim deleted by one test's Reset stayed Terminating and the next test's
// create of the same name (the registry's registry-claim) failed. Reset now
// returns only once the claims are gone.
func TestResetReleasesClaims(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 2*time.Minute)
	pvcs := env.Clients.Kube.CoreV1().PersistentVolumeClaims(harness.RegistryNamespace)
	claim := func() *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "registry-claim"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	}
	created, err := pvcs.Create(ctx, claim(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(created.Finalizers, "kubernetes.io/pvc-protection") {
		t.Fatalf("the API server gave the claim finalizers %v; the premise of this test is gone", created.Finalizers)
	}
	if err := env.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pvcs.Create(ctx, claim(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("a claim of the same name after Reset: %v", err)
	}
}

func TestCRDValidationRejectsInvalidMOSC(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, time.Minute)
	valid := newMOSC("worker", "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest", "push-secret", docaContainerfile)
	tests := []struct {
		name    string
		mut     func(*mcfgv1.MachineOSConfig)
		wantErr string // "" = accepted
	}{
		{"valid", func(*mcfgv1.MachineOSConfig) {}, ""},
		{"push spec without tag", func(m *mcfgv1.MachineOSConfig) {
			m.Spec.RenderedImagePushSpec = "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image"
		}, "renderedImagePushSpec"},
		{"push spec with digest", func(m *mcfgv1.MachineOSConfig) {
			m.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat("quay.io/org/img@sha256:" + strings.Repeat("a", 64))
		}, "renderedImagePushSpec"},
		{"name differs from pool", func(m *mcfgv1.MachineOSConfig) { m.Name = "workers" }, "must match the referenced MachineConfigPool name"},
		{"containerfile over 4096 characters", func(m *mcfgv1.MachineOSConfig) {
			m.Spec.Containerfile[0].Content = "FROM configs AS final\n" + strings.Repeat("RUN true\n", 500)
		}, "4096"},
		{"builder type not Job", func(m *mcfgv1.MachineOSConfig) { m.Spec.ImageBuilder.ImageBuilderType = "PodImageBuilder" }, "imageBuilderType"},
	}
	mosc := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := valid.DeepCopy()
			tc.mut(m)
			_, err := mosc.Create(ctx, m, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("valid MOSC rejected: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want Invalid mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// TokenRequest works for the builder service account and RBAC is enforced
// for restricted users.
func TestTokenRequestAndRBAC(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, time.Minute)
	kube := env.Clients.Kube
	exp := int64(600)
	tr, err := kube.CoreV1().ServiceAccounts(sim.MCONamespace).CreateToken(ctx, harness.BuilderSA,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest: %v", err)
	}
	if tr.Status.Token == "" || tr.Status.ExpirationTimestamp.Time.Before(time.Now().Add(5*time.Minute)) {
		t.Fatalf("token status = expires %v, token empty %v", tr.Status.ExpirationTimestamp, tr.Status.Token == "")
	}
	review, err := kube.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + sim.MCONamespace + ":" + harness.BuilderSA; !review.Status.Authenticated || review.Status.User.Username != want {
		t.Fatalf("TokenReview = %+v, want authenticated as %s", review.Status, want)
	}

	for _, user := range []struct {
		name   string
		groups []string
	}{{"alice", nil}, {"mallory", []string{"ops"}}} {
		t.Run(user.name, func(t *testing.T) {
			cfg, err := env.UserRESTConfig(user.name, user.groups)
			if err != nil {
				t.Fatal(err)
			}
			uc, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = uc.CoreV1().Secrets(harness.PullSecretNamespace).Get(ctx, harness.PullSecretName, metav1.GetOptions{})
			if !apierrors.IsForbidden(err) {
				t.Fatalf("restricted user reading the pull secret: err = %v, want Forbidden", err)
			}
			// Aggregated ClusterRoles (admin, edit, view) are empty here: no
			// controller-manager aggregates them. Grant exactly what is needed.
			role := &rbacv1.Role{
				ObjectMeta: metav1.ObjectMeta{Name: "e2e-" + user.name, Namespace: harness.PullSecretNamespace, Labels: map[string]string{"mosc-e2e/test": "rbac"}},
				Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
			}
			if _, err := kube.RbacV1().Roles(harness.PullSecretNamespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			rb := &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "e2e-" + user.name, Namespace: harness.PullSecretNamespace, Labels: map[string]string{"mosc-e2e/test": "rbac"}},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
				Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user.name}},
			}
			if _, err := kube.RbacV1().RoleBindings(harness.PullSecretNamespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			// The RBAC authorizer sees the binding through its own informer:
			// allow it a moment.
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, err = uc.CoreV1().Secrets(harness.PullSecretNamespace).Get(ctx, harness.PullSecretName, metav1.GetOptions{})
				if err == nil || !apierrors.IsForbidden(err) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("after the RoleBinding: %v", err)
			}
			// Still nothing cluster-wide.
			if _, err := uc.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
				t.Fatalf("listing nodes: err = %v, want Forbidden", err)
			}
		})
	}
	// The kubeconfig file works as a user would use it.
	kc, err := env.UserKubeconfig("bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken == "" {
		t.Errorf("static user bob should authenticate by token")
	}
}

// The registry wants credentials; with them push and pull work.
func TestRegistryAuth(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	ref, err := name.ParseReference(env.Registry.Host() + "/selftest/img:v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	err = remote.Write(ref, img, remote.WithContext(ctx))
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous push: err = %v, want 401", err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(&authn.Basic{Username: "mosc-e2e", Password: "wrong"})); err == nil {
		t.Fatal("push with a wrong password succeeded")
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(env.Registry.Authenticator())); err != nil {
		t.Fatalf("authenticated push: %v", err)
	}
	want, _ := img.Digest()
	desc, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuth(env.Registry.Authenticator()))
	if err != nil {
		t.Fatalf("authenticated pull: %v", err)
	}
	if desc.Digest != want {
		t.Fatalf("pulled digest %s, pushed %s", desc.Digest, want)
	}
	if _, err := remote.Head(ref, remote.WithContext(ctx)); !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous pull: err = %v, want 401", err)
	}
}

// A DNF repository built with rpmbuild + createrepo_c lists its packages.
func TestDNFRepo(t *testing.T) {
	if err := dnfrepo.Tools(); err != nil {
		if isCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := filepath.Join(t.TempDir(), "repo")
	pkgs := []dnfrepo.Package{
		{Name: "doca-openvswitch", Version: "3.3.0040", Release: "1.el9", Arch: "x86_64", Requires: []string{"libibverbs"}},
		{Name: "libibverbs", Version: "2601mlnx61", Release: "1.2601019", Arch: "x86_64"},
		{Name: "doca-all", Version: "3.3.0", Release: "1", Arch: "noarch", Requires: []string{"doca-openvswitch >= 3.3"}},
	}
	if err := dnfrepo.Build(dir, pkgs); err != nil {
		t.Fatal(err)
	}
	url, closeFn, err := dnfrepo.Serve(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var repomd struct {
		Data []struct {
			Type     string `xml:"type,attr"`
			Location struct {
				Href string `xml:"href,attr"`
			} `xml:"location"`
		} `xml:"data"`
	}
	getXML(t, url+"/repodata/repomd.xml", false, &repomd)
	primary := ""
	for _, d := range repomd.Data {
		if d.Type == "primary" {
			primary = d.Location.Href
		}
	}
	if primary == "" {
		t.Fatalf("repomd.xml has no primary data: %+v", repomd)
	}
	var md struct {
		Packages []struct {
			Name    string `xml:"name"`
			Arch    string `xml:"arch"`
			Version struct {
				Ver string `xml:"ver,attr"`
				Rel string `xml:"rel,attr"`
			} `xml:"version"`
			Requires []struct {
				Name string `xml:"name,attr"`
			} `xml:"format>requires>entry"`
		} `xml:"package"`
	}
	getXML(t, url+"/"+primary, strings.HasSuffix(primary, ".gz"), &md)
	got := map[string]string{}
	for _, p := range md.Packages {
		var req []string
		for _, r := range p.Requires {
			req = append(req, r.Name)
		}
		got[p.Name] = fmt.Sprintf("%s-%s.%s %v", p.Version.Ver, p.Version.Rel, p.Arch, req)
	}
	want := map[string]string{
		"doca-openvswitch": "3.3.0040-1.el9.x86_64 [libibverbs]",
		"libibverbs":       "2601mlnx61-1.2601019.x86_64 []",
		"doca-all":         "3.3.0-1.noarch [doca-openvswitch]",
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("primary.xml %s = %q, want %q", n, got[n], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("primary.xml lists %v, want exactly %v", got, want)
	}
}

func getXML(t *testing.T, url string, gz bool, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	var r io.Reader = resp.Body
	if gz {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	if err := xml.NewDecoder(r).Decode(into); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
}

// The simulator builds (a real push), rolls the pool out node by node, and
// answers check pods like a node with OVS-DOCA — and every object it writes
// passes the real CRD validation on the way.
func TestSimulatorBuildRolloutAndNodeAgent(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 2*time.Minute)
	startSim(t, sim.Faults{BuildDuration: time.Second, NodeStep: 50 * time.Millisecond})
	push := pushToTestRegistry(t, ctx, "push-secret")
	createMOSC(t, ctx, newMOSC("worker", push, "push-secret", docaContainerfile))

	b := waitMOSB(t, ctx, "worker", mcfgv1.MachineOSBuildSucceeded)
	checkBuildConditions(t, b)
	if b.Status.BuildStart == nil || b.Status.BuildEnd == nil || !strings.HasPrefix(string(b.Status.DigestedImagePushSpec), env.Registry.Host()+"/openshift-machine-config-operator/os-image@sha256:") {
		t.Fatalf("MOSB status = %+v", b.Status)
	}
	ref, err := name.ParseReference(string(b.Status.DigestedImagePushSpec))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuth(env.Registry.Authenticator())); err != nil {
		t.Fatalf("the built image is not in the registry: %v", err)
	}
	pool := waitPool(t, ctx, "worker", "updated to the layered image", func(p *mcfgv1.MachineConfigPool) bool {
		return harness.PoolUpdated(p) && p.Status.MachineCount == 3
	})
	mosc, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mosc.Status.CurrentImagePullSpec != b.Status.DigestedImagePushSpec || mosc.Annotations[sim.AnnotationCurrentMOSB] != b.Name {
		t.Fatalf("MOSC status %+v annotations %v", mosc.Status, mosc.Annotations)
	}
	nodes, err := env.Clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/worker"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		a := n.Annotations
		if a[sim.AnnotationCurrentImage] != string(mosc.Status.CurrentImagePullSpec) || a[sim.AnnotationDesiredImage] != a[sim.AnnotationCurrentImage] ||
			a[sim.AnnotationCurrentConfig] != pool.Spec.Configuration.Name || a[sim.AnnotationState] != sim.StateDone || n.Spec.Unschedulable {
			t.Errorf("node %s not done: %v unschedulable=%v", n.Name, a, n.Spec.Unschedulable)
		}
		mcn, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigNodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !meta.IsStatusConditionTrue(mcn.Status.Conditions, string(mcfgv1.MachineConfigNodeUpdated)) {
			t.Errorf("MachineConfigNode %s not Updated: %+v", n.Name, mcn.Status.Conditions)
		}
	}
	// The build's objects are gone after success, as the MCO does it.
	jobs, _ := env.Clients.Kube.BatchV1().Jobs(sim.MCONamespace).List(ctx, metav1.ListOptions{})
	if len(jobs.Items) != 0 {
		t.Errorf("build jobs left after success: %d", len(jobs.Items))
	}

	// Node agent: a layered node has OVS-DOCA, doca_initialized false until doca-init.
	verify := profile.VerifyPlan{PackagesPresent: []string{"doca-openvswitch"}, PackagesAbsent: []string{"openvswitch[0-9]*"}}
	r := runCheck(t, ctx, "worker-0", node.ActionVerify, verify)
	if pk := r.Packages["doca-openvswitch"]; !pk.Installed || strings.Join(pk.NVRAs, ",") != "doca-openvswitch-3.3.0040-1.el9.x86_64" || r.DocaInitialized || len(r.StockPresent) != 0 {
		t.Errorf("layered node before doca-init: %+v", r)
	}
	r = runCheck(t, ctx, "worker-0", node.ActionEnableDocaInit, verify)
	if !r.DocaInitialized || !r.DPDKInitialized || r.DocaVersion != "3.3.0109" || r.OtherConfig["doca-init"] != "true" || !contains(r.IfaceTypes, "docavdpa") {
		t.Errorf("layered node after doca-init: %+v", r)
	}
	// A stock node (master pool, not layered) has stock OVS only.
	r = runCheck(t, ctx, "master-0", node.ActionVerify, verify)
	if r.Packages["doca-openvswitch"].Installed {
		t.Errorf("stock node reports doca-openvswitch: %+v", r.Packages)
	}
	if len(r.StockPresent) != 1 || !strings.HasPrefix(r.StockPresent[0], "openvswitch3.5-") || r.OVSError == "" {
		t.Errorf("stock node: %+v", r)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// runCheck creates mosc's check pod for a node and waits for the node agent.
func runCheck(t *testing.T, ctx context.Context, nodeName, action string, v profile.VerifyPlan) *node.Result {
	t.Helper()
	pod, err := node.BuildPod(node.PodOptions{Node: nodeName, Action: action, Verify: v})
	if err != nil {
		t.Fatal(err)
	}
	created, err := env.Clients.Kube.CoreV1().Pods(node.CheckNamespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create check pod: %v", err)
	}
	var msg string
	err = harness.WaitFor(ctx, env.PodsLW(node.CheckNamespace, node.LabelRole+"="+node.RoleNodeCheck), func(ps []*corev1.Pod) (bool, string) {
		for _, p := range ps {
			if p.UID != created.UID {
				continue
			}
			for _, cs := range p.Status.ContainerStatuses {
				if cs.Name == node.ContainerName && cs.State.Terminated != nil {
					msg = cs.State.Terminated.Message
					return p.Status.Phase == corev1.PodSucceeded, string(p.Status.Phase)
				}
			}
			return false, string(p.Status.Phase)
		}
		return false, "pod not seen"
	})
	if err != nil {
		t.Fatalf("check pod on %s: %v", nodeName, err)
	}
	// mosc deletes its pods; a graceful delete of a finished pod is immediate.
	if err := env.Clients.Kube.CoreV1().Pods(node.CheckNamespace).Delete(ctx, created.Name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete check pod: %v", err)
	}
	r, err := node.ParseMessage(nodeName, msg)
	if err != nil {
		t.Fatalf("node %s message does not parse: %v\n%s", nodeName, err, msg)
	}
	return r
}

// imageBuildRunning: the image-build container runs — a plain container of a
// Running pod before 4.20, an init container of a Pending pod from 4.20.
func imageBuildRunning(p *corev1.Pod) bool {
	for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if cs.Name == "image-build" && cs.State.Running != nil {
			return true
		}
	}
	return false
}

// Pod logs stream through the API server from the fake kubelet while the
// build runs, and end when it ends.
func TestBuildLogsFollow(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 2*time.Minute)
	startSim(t, sim.Faults{BuildDuration: 3 * time.Second, BuildFails: true})
	push := pushToTestRegistry(t, ctx, "push-secret")
	createMOSC(t, ctx, newMOSC("worker", push, "push-secret", docaContainerfile))
	var pod *corev1.Pod
	err := harness.WaitFor(ctx, env.PodsLW(sim.MCONamespace, ""), func(ps []*corev1.Pod) (bool, string) {
		for _, p := range ps {
			if strings.HasPrefix(p.Name, "build-worker-") && imageBuildRunning(p) {
				pod = p
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d pods", len(ps))
	})
	if err != nil {
		t.Fatalf("no running build pod: %v", err)
	}
	if pod.Labels["job-name"] != strings.TrimSuffix(pod.Name, pod.Name[strings.LastIndexByte(pod.Name, '-'):]) {
		t.Errorf("build pod %s labels %v", pod.Name, pod.Labels)
	}
	rc, err := env.Clients.Kube.CoreV1().Pods(sim.MCONamespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "image-build", Follow: true}).Stream(ctx)
	if err != nil {
		t.Fatalf("pods/log follow: %v", err)
	}
	defer rc.Close()
	var all strings.Builder
	buf := make([]byte, 4096)
	stateAtFirstRead := ""
	for {
		n, err := rc.Read(buf)
		if n > 0 && stateAtFirstRead == "" {
			// Streamed means: the first bytes came while the build still ran.
			cur, gerr := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSBuilds().Get(ctx, pod.Labels[sim.LabelMachineOSBuild], metav1.GetOptions{})
			if gerr != nil {
				t.Fatal(gerr)
			}
			stateAtFirstRead = buildState(cur)
		}
		all.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the log: %v", err)
		}
	}
	log := all.String()
	for _, want := range []string{"STEP 1/", "FROM configs AS final", "doca-openvswitch", "error building at STEP"} {
		if !strings.Contains(log, want) {
			t.Errorf("build log lacks %q:\n%s", want, log)
		}
	}
	if stateAtFirstRead != "Building" {
		t.Errorf("MOSB was %s when the first log bytes arrived, want Building (the log must stream)", stateAtFirstRead)
	}
	b := waitMOSB(t, ctx, "worker", mcfgv1.MachineOSBuildFailed)
	checkBuildConditions(t, b)
	waitPool(t, ctx, "worker", "ImageBuildDegraded", func(p *mcfgv1.MachineConfigPool) bool {
		for _, c := range p.Status.Conditions {
			if c.Type == mcfgv1.MachineConfigPoolImageBuildDegraded {
				return c.Status == corev1.ConditionTrue && strings.Contains(c.Message, b.Name)
			}
		}
		return false
	})
	// A failed build keeps its Job and pod, and its log stays readable.
	if _, err := env.Clients.Kube.BatchV1().Jobs(sim.MCONamespace).Get(ctx, "build-"+b.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("failed build's Job: %v", err)
	}
	again, err := env.Clients.Kube.CoreV1().Pods(sim.MCONamespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "image-build"}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(again), "error building at STEP") {
		t.Errorf("log after failure: %v %q", err, again)
	}
}

// Faults: interrupted build, degraded node, stuck node; the rebuild
// annotation; disabling layering; a MachineConfig re-rendering the pool.
func TestSimulatorFaultsAndLifecycle(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	s := startSim(t, sim.Faults{BuildInterrupted: true, NodeStep: 50 * time.Millisecond})
	push := pushToTestRegistry(t, ctx, "push-secret")
	createMOSC(t, ctx, newMOSC("worker", push, "push-secret", docaContainerfile))
	interrupted := waitMOSB(t, ctx, "worker", mcfgv1.MachineOSBuildInterrupted)
	checkBuildConditions(t, interrupted)

	// Rebuild: a new MOSB object with the same name.
	s.SetFaults(sim.Faults{DegradeNode: "worker-1", DegradeReason: "error running rpm-ostree: exit status 1", NodeStep: 50 * time.Millisecond})
	mc := env.Clients.MachineConfig.MachineconfigurationV1()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:""}}}`, sim.AnnotationRebuild)
	if _, err := mc.MachineOSConfigs().Patch(ctx, "worker", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	rebuilt := waitMOSB(t, ctx, "worker", mcfgv1.MachineOSBuildSucceeded)
	if rebuilt.UID == interrupted.UID || rebuilt.Name != interrupted.Name {
		t.Errorf("rebuild: got MOSB %s/%s, interrupted was %s/%s", rebuilt.Name, rebuilt.UID, interrupted.Name, interrupted.UID)
	}
	p := waitPool(t, ctx, "worker", "degraded by worker-1", func(p *mcfgv1.MachineConfigPool) bool {
		return p.Status.DegradedMachineCount == 1 && p.Status.UpdatedMachineCount == 1 // maxUnavailable 1: worker-0 done, worker-1 degraded
	})
	for _, ct := range []mcfgv1.MachineConfigPoolConditionType{mcfgv1.MachineConfigPoolDegraded, mcfgv1.MachineConfigPoolNodeDegraded} {
		found := false
		for _, c := range p.Status.Conditions {
			if c.Type == ct && c.Status == corev1.ConditionTrue && strings.Contains(c.Message, "rpm-ostree") {
				found = true
			}
		}
		if !found {
			t.Errorf("pool condition %s not True with the node's reason: %+v", ct, p.Status.Conditions)
		}
	}
	n, err := env.Clients.Kube.CoreV1().Nodes().Get(ctx, "worker-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Annotations[sim.AnnotationState] != sim.StateDegraded || !strings.Contains(n.Annotations[sim.AnnotationReason], "rpm-ostree") {
		t.Errorf("worker-1 annotations: %v", n.Annotations)
	}

	// With the fault gone the MCD's retry succeeds.
	s.SetFaults(sim.Faults{NodeStep: 50 * time.Millisecond})
	waitPool(t, ctx, "worker", "recovered", func(p *mcfgv1.MachineConfigPool) bool { return harness.PoolUpdated(p) })

	// A new MachineConfig re-renders the pool and, layered, builds again.
	s.SetFaults(sim.Faults{StuckNode: "worker-0", NodeStep: 50 * time.Millisecond})
	newMC := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: "50-doca-init", Labels: map[string]string{sim.LabelMCRole: "worker"}}}
	newMC.Spec.Config.Raw = []byte(`{"ignition":{"version":"3.5.0"},"systemd":{"units":[{"name":"doca-init.service","enabled":true,"contents":"[Service]\nExecStart=/usr/bin/ovs-vsctl --no-wait set Open_vSwitch . other_config:doca-init=true\n"}]}}`)
	if _, err := mc.MachineConfigs().Create(ctx, newMC, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p = waitPool(t, ctx, "worker", "re-rendered", func(p *mcfgv1.MachineConfigPool) bool {
		return p.Spec.Configuration.Name != rebuilt.Spec.MachineConfig.Name
	})
	secondName, err := s.MachineOSBuildName(ctx, mustMOSC(t, ctx), p)
	if err != nil {
		t.Fatal(err)
	}
	second := waitMOSBNamed(t, ctx, secondName, mcfgv1.MachineOSBuildSucceeded)
	if second.Spec.MachineConfig.Name != p.Spec.Configuration.Name {
		t.Errorf("second build for %s, pool renders %s", second.Spec.MachineConfig.Name, p.Spec.Configuration.Name)
	}
	// worker-0 is stuck Working with the new config: the pool never finishes.
	err = harness.WaitFor(ctx, env.NodesLW("node-role.kubernetes.io/worker"), func(ns []*corev1.Node) (bool, string) {
		for _, n := range ns {
			if n.Name == "worker-0" {
				return n.Annotations[sim.AnnotationState] == sim.StateWorking && n.Annotations[sim.AnnotationDesiredConfig] == p.Spec.Configuration.Name, fmt.Sprint(n.Annotations)
			}
		}
		return false, "no worker-0"
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // several node steps: still Working
	if n, _ := env.Clients.Kube.CoreV1().Nodes().Get(ctx, "worker-0", metav1.GetOptions{}); n.Annotations[sim.AnnotationState] != sim.StateWorking {
		t.Errorf("stuck node moved on: %v", n.Annotations)
	}

	// Disabling layering: MOSBs deleted, nodes back on the base image.
	s.SetFaults(sim.Faults{})
	if err := mc.MachineOSConfigs().Delete(ctx, "worker", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPool(t, ctx, "worker", "back on the base image", func(p *mcfgv1.MachineConfigPool) bool { return harness.PoolUpdated(p) })
	bs, err := mc.MachineOSBuilds().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs.Items) != 0 {
		t.Errorf("%d MOSBs left after the MOSC was deleted", len(bs.Items))
	}
	nodes, _ := env.Clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/worker"})
	for _, n := range nodes.Items {
		if _, ok := n.Annotations[sim.AnnotationCurrentImage]; ok {
			t.Errorf("node %s still has currentImage %s", n.Name, n.Annotations[sim.AnnotationCurrentImage])
		}
	}
}

func mustMOSC(t testing.TB, ctx context.Context) *mcfgv1.MachineOSConfig {
	t.Helper()
	m, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitMOSBNamed(t testing.TB, ctx context.Context, name string, cond mcfgv1.BuildProgress) *mcfgv1.MachineOSBuild {
	t.Helper()
	var got *mcfgv1.MachineOSBuild
	err := harness.WaitFor(ctx, env.MOSBsLW(), func(bs []*mcfgv1.MachineOSBuild) (bool, string) {
		for _, b := range bs {
			if b.Name == name {
				got = b
				return meta.IsStatusConditionTrue(b.Status.Conditions, string(cond)), buildState(b)
			}
		}
		return false, "not created"
	})
	if err != nil {
		t.Fatalf("MOSB %s %s: %v", name, cond, err)
	}
	return got
}

// The API server restarts mid-rollout; the simulator resumes and finishes.
func TestAPIServerRestartResume(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	startSim(t, sim.Faults{NodeStep: 400 * time.Millisecond})
	push := pushToTestRegistry(t, ctx, "push-secret")
	createMOSC(t, ctx, newMOSC("worker", push, "push-secret", docaContainerfile))
	waitPool(t, ctx, "worker", "updating", func(p *mcfgv1.MachineConfigPool) bool {
		return p.Status.UnavailableMachineCount > 0
	})
	if err := env.RestartAPIServer(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	waitPool(t, ctx, "worker", "updated after the restart", func(p *mcfgv1.MachineConfigPool) bool {
		return harness.PoolUpdated(p) && p.Status.UpdatedMachineCount == 3
	})
}

func isCI() bool { return ciEnv() != "" }

// Before 4.20 pools report builds with the legacy BuildPending … BuildFailed
// conditions, not ImageBuildDegraded.
func TestSimulatorLegacyBuildConditions(t *testing.T) {
	resetEnv(t) // and, in cleanup, back to the default version
	ctx := testCtx(t, 2*time.Minute)
	opts := env.Options()
	opts.OpenShiftVersion = "4.19.10"
	if err := env.ResetWith(ctx, opts); err != nil {
		t.Fatal(err)
	}
	startSim(t, sim.Faults{BuildFails: true})
	push := pushToTestRegistry(t, ctx, "push-secret")
	createMOSC(t, ctx, newMOSC("worker", push, "push-secret", docaContainerfile))
	b := waitMOSB(t, ctx, "worker", mcfgv1.MachineOSBuildFailed)
	p := waitPool(t, ctx, "worker", "BuildFailed", func(p *mcfgv1.MachineConfigPool) bool {
		for _, c := range p.Status.Conditions {
			if c.Type == mcfgv1.MachineConfigPoolBuildFailed {
				return c.Status == corev1.ConditionTrue && strings.Contains(c.Message, b.Name)
			}
		}
		return false
	})
	for _, c := range p.Status.Conditions {
		switch c.Type {
		case mcfgv1.MachineConfigPoolImageBuildDegraded:
			t.Errorf("a 4.19 pool has %s", c.Type)
		case mcfgv1.MachineConfigPoolBuildPending, mcfgv1.MachineConfigPoolBuilding, mcfgv1.MachineConfigPoolBuildSuccess, mcfgv1.MachineConfigPoolBuildInterrupted:
			if c.Status != corev1.ConditionFalse {
				t.Errorf("%s = %s, want False", c.Type, c.Status)
			}
		}
	}
}
