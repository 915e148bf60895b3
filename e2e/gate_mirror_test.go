package e2e

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/e2e/dnfrepo"
	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/registry"
	"github.com/mosc-dev/mosc/internal/release/releasetest"
)

// mirrorSource is where the payload says its images are: a name that does
// not resolve, as quay.io does not from a disconnected cluster.
const mirrorSource = "quay.mosc.invalid/openshift-release-dev"

var (
	gvrIDMS  = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "imagedigestmirrorsets"}
	gvrProxy = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "proxies"}
	gvrImage = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "images"}
)

// healthyCV makes ClusterVersion offer the target by ref, with nothing
// blocking the upgrade.
func healthyCV(t *testing.T, ctx context.Context, ref string) {
	t.Helper()
	cvs := env.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	_, err := cvs.Patch(ctx, "version", types.MergePatchType, []byte(`{"spec":{"channel":"stable-4.21"}}`), metav1.PatchOptions{})
	must(t, err)
	must(t, env.SetClusterVersionStatus(ctx, map[string]any{
		"availableUpdates": []any{map[string]any{"version": "4.21.11", "image": ref, "channels": []any{"stable-4.21"}}},
		"conditions": []any{
			cvCond(configv1.OperatorAvailable, configv1.ConditionTrue, "", "Done applying 4.20.15"),
			cvCond(configv1.OperatorProgressing, configv1.ConditionFalse, "", "Cluster version is 4.20.15"),
			cvCond("Failing", configv1.ConditionFalse, "", ""),
			cvCond(configv1.RetrievedUpdates, configv1.ConditionTrue, "", ""),
			cvCond("ReleaseAccepted", configv1.ConditionTrue, "PayloadLoaded", "Payload loaded version=\"4.20.15\""),
			cvCond(configv1.OperatorUpgradeable, configv1.ConditionTrue, "", ""),
		},
	}))
}

// applyYAML creates (or replaces) a cluster-scoped object from YAML.
func applyYAML(t *testing.T, ctx context.Context, gvr schema.GroupVersionResource, doc string) {
	t.Helper()
	var u unstructured.Unstructured
	must(t, yaml.Unmarshal([]byte(doc), &u.Object))
	r := env.Clients.Dynamic.Resource(gvr)
	_ = r.Delete(ctx, u.GetName(), metav1.DeleteOptions{})
	_, err := r.Create(ctx, &u, metav1.CreateOptions{})
	must(t, err)
}

// releaseIDMS is what `oc adm release mirror` tells an admin to apply:
// both payload repositories sent to the mirror.
func releaseIDMS(name, mirror, policy string) string {
	p := ""
	if policy != "" {
		p = "\n    mirrorSourcePolicy: " + policy
	}
	return `apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
metadata:
  name: ` + name + `
spec:
  imageDigestMirrors:
  - source: ` + mirrorSource + `/ocp-release
    mirrors:
    - ` + mirror + `/ocp-release` + p + `
  - source: ` + mirrorSource + `/ocp-v4.0-art-dev
    mirrors:
    - ` + mirror + `/ocp-v4.0-art-dev` + p + "\n"
}

func checkOf(r gateReport, id string) (status, msg string, details map[string]any) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status, c.Message + "\n" + c.Remedy, c.Details
		}
	}
	return "", "", nil
}

// A disconnected cluster: ClusterVersion offers the target by the digest of
// quay.io's payload (here a name that does not resolve), and the payload and
// its component images exist only in a mirror that an ImageDigestMirrorSet
// names (oc adm release mirror's output). gate reads everything — payload,
// OS images, their meta.json and extensions.json layers, the base pull
// secret's probes — where the nodes would, and names the mirror; without
// the rule it fails naming the unreachable source; NeverContactSource keeps
// it from falling back to a source that has the image; and a pipeline
// without the cluster passes the same objects with --mirror-config.
func TestGateMirrorIDMS(t *testing.T) {
	resetEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	site := gateSite(t, dir, "mosc.yaml", docaRepo(t), "")
	layerThenStop(t, ctx, site)
	clusterPullSecretWithRegistry(t, ctx)

	spec := payloadSpec("4.21.11", "9.6", e2eKernels["9.6"], "")
	spec.RefBase = mirrorSource
	mirror := env.Registry.Host() + "/ocp4"
	pushed, err := releasetest.Push(mirror, spec, remote.WithAuth(env.Registry.Authenticator()))
	must(t, err)
	inMirror := digestRef(t, pushed)
	_, dig, _ := strings.Cut(inMirror, "@")
	named := mirrorSource + "/ocp-release@" + dig
	healthyCV(t, ctx, named)
	idms := releaseIDMS("release", mirror, "")
	base := []string{"-f", site, "--node-checks=false", "--to", "4.21"}

	t.Run("read through the IDMS mirror", func(t *testing.T) {
		applyYAML(t, ctx, gvrIDMS, idms)
		r := runGate(t, 0, base...)
		if r.ReleaseImage != named || r.Verdict != "pass" {
			t.Errorf("release image %s (want the source's %s), verdict %s", r.ReleaseImage, named, r.Verdict)
		}
		expectChecks(t, r, map[string]string{"release-payload": "pass", "target-kernel": "pass", "base-pull-secret": "pass"}, map[string][]string{
			"release-payload":  {"read from mirror " + mirror + "/ocp-release (payload); mirror " + mirror + "/ocp-v4.0-art-dev (rhel-coreos, rhel-coreos-10, rhel-coreos-10-extensions, rhel-coreos-extensions)"},
			"base-pull-secret": {"(rhel-coreos from mirror " + mirror + "/ocp-v4.0-art-dev, rhel-coreos-extensions from mirror " + mirror + "/ocp-v4.0-art-dev)"},
			"target-kernel":    {"the kernel stays 5.14.0-570.62.1.el9_6.x86_64"},
		})
		_, _, d := checkOf(r, "release-payload")
		if d["from"] != inMirror || d["mirrorRules"] != float64(2) || d["mirrorSource"] != "the cluster's ImageDigestMirrorSet/release" {
			t.Errorf("release-payload details: from %v, mirrorRules %v, mirrorSource %v", d["from"], d["mirrorRules"], d["mirrorSource"])
		}
		out, _, _ := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, append([]string{"gate"}, base...)...)
		t.Logf("mosc gate -f mosc.yaml --node-checks=false --to 4.21\n%s", out)
	})

	t.Run("without the IDMS the source is unreachable", func(t *testing.T) {
		must(t, env.Clients.Dynamic.Resource(gvrIDMS).Delete(ctx, "release", metav1.DeleteOptions{}))
		r := runGate(t, 1, base...)
		expectChecks(t, r, map[string]string{"release-payload": "fail", "base-pull-secret": "skip"}, map[string][]string{
			"release-payload": {"release image " + named, "lookup quay.mosc.invalid", "a disconnected cluster reads the payload through an ImageDigestMirrorSet naming its mirror"},
		})
		_, msg, _ := checkOf(r, "release-payload")
		t.Logf("release-payload without the IDMS:\n%s", msg)
	})

	t.Run("NeverContactSource is honoured", func(t *testing.T) {
		// The payload's own repository is reachable here (the mirror repo);
		// a stricter rule sends its reads to a repository that lacks it.
		applyYAML(t, ctx, gvrIDMS, idms)
		strict := func(policy string) string {
			p := ""
			if policy != "" {
				p = "\n    mirrorSourcePolicy: " + policy
			}
			return "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: strict\nspec:\n  imageDigestMirrors:\n  - source: " + mirror + "/ocp-release\n    mirrors:\n    - " + env.Registry.Host() + "/empty/ocp-release" + p + "\n"
		}
		direct := []string{"-f", site, "--node-checks=false", "--to", "4.21.11", "--release-image", inMirror}
		applyYAML(t, ctx, gvrIDMS, strict("AllowContactingSource"))
		r := runGate(t, 0, direct...)
		_, msg, d := checkOf(r, "release-payload")
		if d["from"] != inMirror || strings.Contains(msg, "mirror "+env.Registry.Host()+"/empty") {
			t.Errorf("AllowContactingSource: the source must answer after the mirror failed: from %v\n%s", d["from"], msg)
		}
		applyYAML(t, ctx, gvrIDMS, strict("NeverContactSource"))
		r = runGate(t, 1, direct...)
		_, msg, _ = checkOf(r, "release-payload")
		t.Logf("release-payload with NeverContactSource:\n%s", msg)
		expectChecks(t, r, map[string]string{"release-payload": "fail"}, map[string][]string{
			"release-payload": {"mirror " + env.Registry.Host() + "/empty/ocp-release@" + dig + ": ", "NAME_UNKNOWN",
				"the source " + inMirror + " was not contacted: mirrorSourcePolicy NeverContactSource (ImageDigestMirrorSet/strict spec.imageDigestMirrors[0])"},
		})
		must(t, env.Clients.Dynamic.Resource(gvrIDMS).Delete(ctx, "strict", metav1.DeleteOptions{}))
	})

	t.Run("--mirror-config without a cluster", func(t *testing.T) {
		file := filepath.Join(dir, "idms.yaml")
		must(t, os.WriteFile(file, []byte(idms), 0o644))
		_, regcfg := pushPayloadSpec(t, dir, spec) // writes the registry's pull secret
		noCluster := moscRun{Timeout: 3 * time.Minute, Env: []string{"KUBECONFIG=", "HOME=" + t.TempDir()}}
		args := []string{"gate", "-o", "json", "-f", site, "--openshift", "4.20.15", "--to", "4.21.11", "--release-image", named, "--registry-config", regcfg}
		out, stderr, code := runMoscWith(t, noCluster, append(args, "--mirror-config", file)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
		}
		var r gateReport
		must(t, json.Unmarshal([]byte(out), &r))
		expectChecks(t, r, map[string]string{"release-payload": "pass", "target-kernel": "pass", "pool-health": "skip"}, map[string][]string{
			"release-payload": {"read from mirror " + mirror + "/ocp-release (payload)"},
		})
		if _, _, d := checkOf(r, "release-payload"); d["mirrorSource"] != "--mirror-config "+file {
			t.Errorf("mirrorSource = %v", d["mirrorSource"])
		}

		bad := filepath.Join(dir, "bad.yaml")
		must(t, os.WriteFile(bad, []byte(strings.Replace(idms, "    mirrors:\n", "    mirror:\n", 1)), 0o644))
		_, stderr, code = runMoscWith(t, noCluster, append(args, "--mirror-config", bad)...)
		if code != 2 || !strings.Contains(stderr, "--mirror-config "+bad+":8:5: spec.imageDigestMirrors[0].mirror: unknown field") {
			t.Errorf("bad file: exit %d\n%s", code, stderr)
		}
	})
}

// tlsServer serves h over HTTPS with cert on a free loopback port.
func tlsServer(t *testing.T, h http.Handler, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-CA subtests make handshakes fail on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// addPullSecretAuth adds credentials for host to openshift-config/pull-secret.
func addPullSecretAuth(t *testing.T, ctx context.Context, host, user, pass string) {
	t.Helper()
	secrets := env.Clients.Kube.CoreV1().Secrets(harness.PullSecretNamespace)
	s, err := secrets.Get(ctx, harness.PullSecretName, metav1.GetOptions{})
	must(t, err)
	var doc map[string]map[string]any
	must(t, json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &doc))
	doc["auths"][host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	b, err := json.Marshal(doc)
	must(t, err)
	s.Data[corev1.DockerConfigJsonKey] = b
	_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
	must(t, err)
}

func configMap(t *testing.T, ctx context.Context, name string, data map[string]string) {
	t.Helper()
	cms := env.Clients.Kube.CoreV1().ConfigMaps("openshift-config")
	_ = cms.Delete(ctx, name, metav1.DeleteOptions{})
	_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "openshift-config"}, Data: data}, metav1.CreateOptions{})
	must(t, err)
	t.Cleanup(func() { _ = cms.Delete(context.Background(), name, metav1.DeleteOptions{}) })
}

// A cluster behind a proxy with a private CA: the mirror registry
// (mirror.mosc.test) and the DOCA repository (repo.mosc.test) resolve only
// through the cluster Proxy — a real CONNECT proxy with its own name table
// — and present certificates of two test CAs: the registry's trusted only
// through image.config.openshift.io/cluster spec.additionalTrustedCA
// (keyed host..port), the repository's only through the Proxy's trustedCA
// ConfigMap. noProxy is honoured, and with no cluster Proxy the user's own
// $HTTPS_PROXY still works.
func TestGateProxyAndClusterCA(t *testing.T) {
	resetEnv(t)
	if err := dnfrepo.Tools(); err != nil {
		if isCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()

	regCA, err := harness.NewTestCA()
	must(t, err)
	repoCA, err := harness.NewTestCA()
	must(t, err)
	proxy, err := harness.StartProxy()
	must(t, err)
	t.Cleanup(proxy.Close)

	// The mirror registry, TLS from regCA.
	regCert, err := regCA.ServerCert("mirror.mosc.test")
	must(t, err)
	reg, err := registry.StartTLS("mirror-user", "mirror-pass", regCert)
	must(t, err)
	t.Cleanup(reg.Close)
	_, regPort, _ := net.SplitHostPort(reg.Host())
	regName := "mirror.mosc.test:" + regPort
	proxy.Map(regName, reg.Host())
	spec := payloadSpec("4.21.11", "9.6", e2eKernels["9.6"], "")
	spec.RefBase = mirrorSource
	push := []remote.Option{remote.WithAuth(reg.Authenticator()), remote.WithTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: regCA.Pool(), MinVersion: tls.VersionTLS12}})}
	pushed, err := releasetest.Push(reg.Host()+"/ocp4", spec, push...)
	must(t, err)
	d, err := remote.Head(mustTag(t, pushed), push...)
	must(t, err)
	named := mirrorSource + "/ocp-release@" + d.Digest.String()
	addPullSecretAuth(t, ctx, regName, "mirror-user", "mirror-pass")

	// The DOCA repository, TLS from repoCA.
	repoDir := t.TempDir()
	pkgs := []dnfrepo.Package{
		{Name: "doca-all", Version: "3.3.0", Release: "0040.el9"},
		{Name: "doca-openvswitch", Version: "3.3.0040", Release: "1.el9"},
		{Name: "libibverbs", Version: "2601mlnx61", Release: "1.2601019"},
		{Name: "rdma-core", Version: "2601mlnx61", Release: "1.2601019"},
	}
	must(t, dnfrepo.Build(repoDir, pkgs))
	key, err := dnfrepo.Sign(repoDir)
	must(t, err)
	keyFile := filepath.Join(dir, "RPM-GPG-KEY-e2e-doca")
	must(t, os.WriteFile(keyFile, key, 0o644))
	repoCert, err := repoCA.ServerCert("repo.mosc.test")
	must(t, err)
	repoAddr := tlsServer(t, http.FileServer(http.Dir(repoDir)), repoCert)
	_, repoPort, _ := net.SplitHostPort(repoAddr)
	repoName := "repo.mosc.test:" + repoPort
	proxy.Map(repoName, repoAddr)
	repoURL := "https://" + repoName + "/"
	repoKeys.Store(repoURL, keyFile)
	site := gateSite(t, dir, "mosc.yaml", repoURL, "")

	// The cluster: IDMS, Proxy (spec.trustedCA, effective values in status),
	// image.config's registry CAs.
	healthyCV(t, ctx, named)
	applyYAML(t, ctx, gvrIDMS, releaseIDMS("release", regName+"/ocp4", ""))
	configMap(t, ctx, "proxy-ca", map[string]string{"ca-bundle.crt": string(repoCA.PEM())})
	configMap(t, ctx, "registry-cas", map[string]string{"mirror.mosc.test.." + regPort: string(regCA.PEM())})
	applyYAML(t, ctx, gvrProxy, `apiVersion: config.openshift.io/v1
kind: Proxy
metadata:
  name: cluster
spec:
  httpProxy: `+proxy.URL()+`
  httpsProxy: `+proxy.URL()+`
  noProxy: .example.internal
  trustedCA:
    name: proxy-ca
`)
	noProxy := ".cluster.local,.svc,.example.internal,10.128.0.0/14,127.0.0.1,172.30.0.0/16,api-int.lab.example.internal,localhost"
	setProxyStatus := func(noProxy string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"status": map[string]any{"httpProxy": proxy.URL(), "httpsProxy": proxy.URL(), "noProxy": noProxy}})
		_, err := env.Clients.Dynamic.Resource(gvrProxy).Patch(ctx, "cluster", types.MergePatchType, b, metav1.PatchOptions{}, "status")
		must(t, err)
	}
	setProxyStatus(noProxy)
	applyYAML(t, ctx, gvrImage, "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata:\n  name: cluster\nspec:\n  additionalTrustedCA:\n    name: registry-cas\n")
	// No layered pool here: only the checks that read registries and
	// repositories are asserted (the cluster checks fail, so exit 1).
	gate := func(t *testing.T, extraEnv ...string) gateReport {
		t.Helper()
		out, stderr, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute, Env: extraEnv}, "gate", "-o", "json", "-f", site, "--node-checks=false", "--to", "4.21")
		var r gateReport
		if err := json.Unmarshal([]byte(out), &r); err != nil || code == 2 {
			t.Fatalf("mosc gate: exit %d: %v\n%s\n%s", code, err, out, stderr)
		}
		return r
	}
	readers := map[string]string{"release-payload": "pass", "target-kernel": "pass", "base-pull-secret": "pass", "repo-preflight": "pass", "repo-signatures": "pass"}

	t.Run("through the cluster Proxy, trusting the cluster's CAs", func(t *testing.T) {
		regSeen, repoSeen := proxy.Seen(regName), proxy.Seen(repoName)
		r := gate(t)
		expectChecks(t, r, readers, map[string][]string{
			"release-payload": {"read from mirror " + regName + "/ocp4/ocp-release (payload)"},
			"repo-preflight":  {"doca-3.3: " + repoURL + " has doca-all-3.3.0-0040.el9.x86_64"},
		})
		_, _, d := checkOf(r, "release-payload")
		if nw, _ := d["network"].(string); !strings.Contains(nw, "the cluster Proxy "+proxy.URL()) || !strings.Contains(nw, "CAs from openshift-config/proxy-ca") || !strings.Contains(nw, "registry CAs for "+regName+" from openshift-config/registry-cas") {
			t.Errorf("release-payload details.network = %q", nw)
		}
		_, msg, _ := checkOf(r, "repo-preflight")
		t.Logf("release-payload details.network: %s\nrepo-preflight: %s\nproxy requests: %s %d, %s %d", d["network"], msg, regName, proxy.Seen(regName), repoName, proxy.Seen(repoName))
		if proxy.Seen(regName) == regSeen || proxy.Seen(repoName) == repoSeen {
			t.Errorf("the proxy did not see the reads: registry %d→%d, repository %d→%d", regSeen, proxy.Seen(regName), repoSeen, proxy.Seen(repoName))
		}
	})

	t.Run("noProxy is honoured", func(t *testing.T) {
		setProxyStatus(noProxy + ",repo.mosc.test")
		defer setProxyStatus(noProxy)
		repoSeen := proxy.Seen(repoName)
		r := gate(t)
		expectChecks(t, r, map[string]string{"release-payload": "pass", "repo-preflight": "fail"}, map[string][]string{
			"repo-preflight": {"lookup repo.mosc.test"},
		})
		_, msg, _ := checkOf(r, "repo-preflight")
		t.Logf("repo-preflight with repo.mosc.test in noProxy:\n%s", msg)
		if proxy.Seen(repoName) != repoSeen {
			t.Errorf("a noProxy host went through the proxy")
		}
	})

	t.Run("the registry's CA comes only from image.config", func(t *testing.T) {
		_, err := env.Clients.Dynamic.Resource(gvrImage).Patch(ctx, "cluster", types.MergePatchType, []byte(`{"spec":{"additionalTrustedCA":{"name":""}}}`), metav1.PatchOptions{})
		must(t, err)
		defer func() {
			_, err := env.Clients.Dynamic.Resource(gvrImage).Patch(ctx, "cluster", types.MergePatchType, []byte(`{"spec":{"additionalTrustedCA":{"name":"registry-cas"}}}`), metav1.PatchOptions{})
			must(t, err)
		}()
		r := gate(t)
		expectChecks(t, r, map[string]string{"release-payload": "fail", "repo-preflight": "pass"}, map[string][]string{
			"release-payload": {"mirror " + regName + "/ocp4/ocp-release@", "certificate signed by unknown authority"},
		})
		_, msg, _ := checkOf(r, "release-payload")
		t.Logf("release-payload without image.config's CA:\n%s", msg)
	})

	t.Run("the repository's CA comes only from the Proxy's trustedCA", func(t *testing.T) {
		_, err := env.Clients.Dynamic.Resource(gvrProxy).Patch(ctx, "cluster", types.MergePatchType, []byte(`{"spec":{"trustedCA":{"name":""}}}`), metav1.PatchOptions{})
		must(t, err)
		r := gate(t)
		expectChecks(t, r, map[string]string{"release-payload": "pass", "repo-preflight": "fail"}, map[string][]string{
			"repo-preflight": {"certificate signed by unknown authority"},
		})
	})

	t.Run("no cluster Proxy: the environment's proxy and user-ca-bundle", func(t *testing.T) {
		must(t, env.Clients.Dynamic.Resource(gvrProxy).Delete(ctx, "cluster", metav1.DeleteOptions{}))
		configMap(t, ctx, "user-ca-bundle", map[string]string{"ca-bundle.crt": string(repoCA.PEM())})
		repoSeen := proxy.Seen(repoName)
		r := gate(t, "HTTPS_PROXY="+proxy.URL(), "NO_PROXY=")
		expectChecks(t, r, readers, map[string][]string{"release-payload": {"read from mirror " + regName}})
		if proxy.Seen(repoName) == repoSeen {
			t.Error("$HTTPS_PROXY was not used")
		}
		_, _, d := checkOf(r, "release-payload")
		if nw, _ := d["network"].(string); !strings.Contains(nw, "the environment's proxy "+proxy.URL()) || !strings.Contains(nw, "CAs from openshift-config/user-ca-bundle") {
			t.Errorf("details.network = %q", nw)
		}
	})
}

func mustTag(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	must(t, err)
	return r
}
