package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/dnfrepo"
	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release/releasetest"
)

var updateGateGolden = flag.Bool("update-gate-golden", false, "rewrite cmd/mosc/testdata/diff/live-*.txt from the live cluster")

// gateReport is mosc gate -o json (schema mosc.dev/gate/v1).
type gateReport struct {
	Schema, Verdict, From, To, Pool, ReleaseImage string
	Via, ViaReleaseImage                          string
	Checks                                        []struct {
		ID, Status, Message, Remedy string
		Details                     map[string]any
	}
}

func (r gateReport) status(id string) (string, string) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status, c.Message + "\n" + c.Remedy
		}
	}
	return "", ""
}

// docaRepo builds and serves a real DNF repository (rpmbuild + createrepo_c)
// with the DOCA packages; without lists names to leave out.
func docaRepo(t *testing.T, without ...string) string {
	t.Helper()
	if err := dnfrepo.Tools(); err != nil {
		if isCI() { // CI installs rpm and createrepo-c (make deps): missing is a failure
			t.Fatal(err)
		}
		t.Skip(err)
	}
	pkgs := []dnfrepo.Package{
		{Name: "doca-all", Version: "3.3.0", Release: "0040.el9"},
		{Name: "doca-openvswitch", Version: "3.3.0040", Release: "1.el9"},
		{Name: "libibverbs", Version: "2601mlnx61", Release: "1.2601019"},
		{Name: "rdma-core", Version: "2601mlnx61", Release: "1.2601019"},
		{Name: "doca-repo-key", Version: "1.0", Release: "1", Arch: "noarch"},
	}
	var keep []dnfrepo.Package
	for _, p := range pkgs {
		skip := false
		for _, w := range without {
			if p.Name == w && p.Arch == "" {
				skip = true
			}
		}
		if !skip {
			keep = append(keep, p)
		}
	}
	dir := t.TempDir()
	if err := dnfrepo.Build(dir, keep); err != nil {
		t.Fatal(err)
	}
	// Signed, as NVIDIA's are: gate's repo-signatures verifies the headers
	// against the key the site names (gateSite adds it).
	key, err := dnfrepo.Sign(dir)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "RPM-GPG-KEY-e2e-doca")
	must(t, os.WriteFile(keyFile, key, 0o644))
	url, closeFn, err := dnfrepo.Serve(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	repoKeys.Store(url+"/", keyFile)
	return url + "/"
}

// repoKeys maps a docaRepo URL to its signing key's file.
var repoKeys sync.Map

// gateSite writes a site file whose DOCA repository is mirrored at repoURL.
func gateSite(t *testing.T, dir, name, repoURL string, extra string) string {
	t.Helper()
	f := filepath.Join(dir, name)
	site := `apiVersion: mosc.dev/v1alpha1
kind: Site
metadata:
  name: lab
spec:
  pool: worker
  stacks:
  - name: doca-3.3
` + extra + `  repos:
    mirrors:
      doca: ` + repoURL + "\n"
	if key, ok := repoKeys.Load(repoURL); ok {
		site += "    gpgKeys:\n      doca: " + key.(string) + "\n"
	}
	must(t, os.WriteFile(f, []byte(site), 0o644))
	return f
}

// pushPayload pushes a synthetic 4.21.11 release payload (a real manifest
// whose release-manifests layer names rhel-coreos images carrying RHCOS
// labels) to the harness registry and writes a registry config for it.
func pushPayload(t *testing.T, dir, version, rhel string) (ref, registryConfig string) {
	t.Helper()
	return pushPayloadKernel(t, dir, version, rhel, e2eKernels[rhel], "")
}

// e2eKernels are the kernels of the payloads' rhel-coreos (meta.json): the
// 9.6 one is the seeded nodes' (harness: nodeInfo.kernelVersion).
var e2eKernels = map[string]string{"9.4": "5.14.0-427.50.1.el9_4", "9.6": "5.14.0-570.62.1.el9_6", "9.8": "5.14.0-687.5.1.el9_8"}

// pushPayloadKernel pushes a payload whose rhel-coreos runs kernel and whose
// extensions carry kernelDevel ("" = the same, "-" = none).
func pushPayloadKernel(t *testing.T, dir, version, rhel, kernel, kernelDevel string) (ref, registryConfig string) {
	t.Helper()
	return pushPayloadSpec(t, dir, payloadSpec(version, rhel, kernel, kernelDevel))
}

// payloadSpec is a payload shaped as a real one of its release: from 4.21
// the OS images carry io.openshift.os.streamclass (rhel-9, rhel-10) and the
// extensions images are UBI-based (UBI labels, stream class, no
// ostree.linux); before, RHCOS labels on all three.
func payloadSpec(version, rhel, kernel, kernelDevel string) releasetest.Spec {
	coreos := map[string]map[string]string{
		"rhel-coreos":            releasetest.Labels(rhel, "20251110-1"),
		"rhel-coreos-extensions": releasetest.Labels(rhel, "20251110-1"),
		"rhel-coreos-10":         releasetest.Labels("10.2", "20251112-0"),
	}
	m, _ := profile.MinorVersion(version)
	if len(m) == 4 && m <= "4.18" {
		// 4.16–4.18: coreos-assembler's node image (the kernel in
		// ostree.linux, no metalayer) and a UBI extensions image without
		// extensions.json (releasetest.LegacyLabels).
		return releasetest.Spec{
			Version: version,
			Index:   true,
			CoreOS: map[string]map[string]string{
				"rhel-coreos":            releasetest.LegacyLabels(m, rhel, "202501221327-0", kernel+".x86_64"),
				"rhel-coreos-extensions": releasetest.LegacyExtensionsLabels(m, rhel, "202501221327-0"),
			},
			OtherTags: []string{"cli", "machine-config-operator", "ovn-kubernetes", "tools"},
		}
	}
	if len(m) == 4 && m >= "4.21" {
		coreos = map[string]map[string]string{
			"rhel-coreos":               releasetest.StreamLabels(rhel, "20251110-1", "rhel-9"),
			"rhel-coreos-extensions":    releasetest.ExtensionsLabels(rhel, "rhel-9"),
			"rhel-coreos-10":            releasetest.StreamLabels("10.2", "20251112-0", "rhel-10"),
			"rhel-coreos-10-extensions": releasetest.ExtensionsLabels("10.1", "rhel-10"),
		}
	}
	return releasetest.Spec{
		Kernel:      map[string]string{"rhel-coreos": kernel, "rhel-coreos-10": "6.12.0-55.12.1.el10_0"},
		KernelDevel: kernelDevel,
		Version:     version,
		Index:       true,
		CoreOS:      coreos,
		OtherTags:   []string{"cli", "machine-config-operator", "ovn-kubernetes", "tools"},
	}
}

func pushPayloadSpec(t *testing.T, dir string, spec releasetest.Spec) (ref, registryConfig string) {
	t.Helper()
	ref, err := releasetest.Push(env.Registry.Host()+"/openshift-release-dev", spec, remote.WithAuth(env.Registry.Authenticator()))
	if err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(env.Registry.User() + ":" + env.Registry.Password()))
	registryConfig = filepath.Join(dir, "pull-secret.json")
	must(t, os.WriteFile(registryConfig, []byte(`{"auths":{"`+env.Registry.Host()+`":{"auth":"`+auth+`"}}}`), 0o600))
	return ref, registryConfig
}

func runGate(t *testing.T, wantCode int, args ...string) gateReport {
	t.Helper()
	out, stderr, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, append([]string{"gate", "-o", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("mosc gate %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out, stderr)
	}
	var r gateReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("gate -o json: %v\n%s", err, out)
	}
	return r
}

func expectChecks(t *testing.T, r gateReport, want map[string]string, msgs map[string][]string) {
	t.Helper()
	for id, st := range want {
		got, msg := r.status(id)
		if got != st {
			t.Errorf("%s = %s, want %s: %s", id, got, st, msg)
		}
	}
	for id, ms := range msgs {
		_, msg := r.status(id)
		for _, m := range ms {
			if !strings.Contains(msg, m) {
				t.Errorf("%s lacks %q: %s", id, m, msg)
			}
		}
	}
}

func waitWorkers(t *testing.T, ctx context.Context, what string, cond func(p *mcfgv1.MachineConfigPool) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err := harness.WaitFor(ctx, env.PoolsLW(), func(ps []*mcfgv1.MachineConfigPool) (bool, string) {
		for _, p := range ps {
			if p.Name == "worker" {
				return cond(p), harness.PoolSummary(p)
			}
		}
		return false, "no worker pool"
	})
	if err != nil {
		t.Fatalf("waiting for the worker pool to be %s: %v", what, err)
	}
}

// waitLayered waits until the worker pool runs the layered image: the
// MachineOSConfig has an image, every worker is Done on it, and the pool is
// Updated. (The pool alone is Updated before the simulator reacts to apply.)
func waitLayered(t *testing.T, ctx context.Context) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	image := ""
	err := harness.WaitFor(wctx, env.MOSCsLW(), func(ms []*mcfgv1.MachineOSConfig) (bool, string) {
		for _, m := range ms {
			if m.Name == "worker" && m.Status.CurrentImagePullSpec != "" {
				image = string(m.Status.CurrentImagePullSpec)
				return true, image
			}
		}
		return false, "no image on MachineOSConfig worker yet"
	})
	if err != nil {
		t.Fatalf("waiting for the layered image: %v", err)
	}
	err = harness.WaitFor(wctx, env.NodesLW("node-role.kubernetes.io/worker"), func(ns []*corev1.Node) (bool, string) {
		done := 0
		for _, n := range ns {
			a := n.Annotations
			if a["machineconfiguration.openshift.io/currentImage"] == image && a["machineconfiguration.openshift.io/state"] == "Done" {
				done++
			}
		}
		return len(ns) == 3 && done == 3, fmt.Sprintf("%d/%d workers on %s", done, len(ns), image)
	})
	if err != nil {
		t.Fatalf("waiting for the workers: %v", err)
	}
	waitWorkers(t, ctx, "Updated on the layered image", func(p *mcfgv1.MachineConfigPool) bool {
		return harness.PoolUpdated(p) && p.Status.UpdatedMachineCount == 3
	})
}

func poolCondition(p *mcfgv1.MachineConfigPool, t string) bool {
	for _, c := range p.Status.Conditions {
		if string(c.Type) == t && c.Status == "True" {
			return true
		}
	}
	return false
}

// The gate end to end: a layered worker pool on the real API server with
// the simulated MCO, a synthetic 4.21.11 payload in the registry, real DNF
// repositories; then an expiring token, a repo lacking doca-openvswitch, a
// payload whose RHEL disagrees with the profile and a Degraded pool.
func TestGate(t *testing.T) {
	resetEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// Builds last over a second: MOSB buildStart/buildEnd have one-second
	// resolution and the CRD requires buildEnd after buildStart.
	faults := sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond}
	s := startSim(t, faults)
	dir := t.TempDir()
	full := docaRepo(t)
	lacking := docaRepo(t, "doca-openvswitch")
	site := gateSite(t, dir, "mosc.yaml", full, "")
	ref, regcfg := pushPayload(t, dir, "4.21.11", "9.6")
	// The cluster offers the target by digest, as the update service does in
	// channel stable-4.21, and its pull secret can read the payload: gate
	// needs neither --release-image nor --registry-config.
	dig := digestRef(t, ref)
	clusterPullSecretWithRegistry(t, ctx)
	cvs := env.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	_, err := cvs.Patch(ctx, "version", types.MergePatchType, []byte(`{"spec":{"channel":"stable-4.21"}}`), metav1.PatchOptions{})
	must(t, err)
	must(t, env.SetClusterVersionStatus(ctx, map[string]any{
		"availableUpdates": []any{map[string]any{"version": "4.21.11", "image": dig}},
		"conditions": []any{
			cvCond(configv1.OperatorAvailable, configv1.ConditionTrue, "", "Done applying 4.20.15"),
			cvCond(configv1.OperatorProgressing, configv1.ConditionFalse, "", "Cluster version is 4.20.15"),
			cvCond(configv1.RetrievedUpdates, configv1.ConditionTrue, "", ""),
			cvCond(configv1.OperatorUpgradeable, configv1.ConditionTrue, "", ""),
		},
	}))

	if out, stderr, code := runMosc(t, "apply", "-f", site); code != 0 {
		t.Fatalf("mosc apply: exit %d\n%s\n%s", code, out, stderr)
	}
	waitLayered(t, ctx)

	gateArgs := []string{"-f", site, "--to", "4.21.11"}

	t.Run("healthy", func(t *testing.T) {
		junit := filepath.Join(t.TempDir(), "gate.xml")
		r := runGate(t, 0, append(gateArgs, "--junit", junit)...)
		if r.Schema != "mosc.dev/gate/v1" || r.Verdict != "pass" || r.From != "4.20.15" || r.To != "4.21.11" || r.ReleaseImage != dig {
			t.Errorf("report header: %+v", r)
		}
		expectChecks(t, r, map[string]string{
			"target-profile": "pass", "stack-support": "pass", "bundle-diff": "pass", "release-payload": "pass", "target-kernel": "pass",
			// The synthetic payload's rhel-coreos has no rpm database:
			// install-resolve warns (TestGateResolve resolves against a real one).
			"repo-preflight": "pass", "repo-signatures": "pass", "install-resolve": "warn", "cluster-upgradeable": "pass", "base-pull-secret": "pass", "pool-health": "pass", "last-build": "pass", "nodes-verified": "pass", "push-token": "pass",
		}, map[string][]string{
			"repo-signatures": {"doca-3.3: " + full + ": 4 packages (the closure of doca-all, doca-openvswitch, libibverbs, rdma-core), header signatures verified with key "},
			"release-payload": {"payload 4.21.11: rhel-coreos (stream rhel-9) is RHEL 9.6 (9.6.20251110-1), as profile 4.21 says (rhel-coreos-10 is RHEL 10.2; the default stream is rhel-9)"},
			"repo-preflight":  {"doca-openvswitch-3.3.0040-1.el9.x86_64", "libibverbs-2601mlnx61-1.2601019.x86_64", "rdma-core-2601mlnx61-1.2601019.x86_64"},
			"nodes-verified":  {"3/3 nodes of pool worker run the layered image and verify OVS-DOCA on the node"},
			"target-kernel":   {"the kernel stays 5.14.0-570.62.1.el9_6.x86_64; doca-3.3:full builds kernel modules (DKMS) in the layer build"},
			"last-build":      {"Succeeded"},
			"push-token":      {"secret push-secret: a service-account token from secret mosc-builder-token; it does not expire"},
		})
		b, err := os.ReadFile(junit)
		must(t, err)
		var doc struct {
			XMLName  xml.Name `xml:"testsuites"`
			Tests    int      `xml:"tests,attr"`
			Failures int      `xml:"failures,attr"`
			Suites   []struct {
				Cases []struct {
					Name    string    `xml:"name,attr"`
					Failure *struct{} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil || doc.Tests != 15 || doc.Failures != 0 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 15 {
			t.Errorf("junit: %v %+v\n%s", err, doc, b)
		}
		// The table, as a pipeline log shows it.
		out, _, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, append([]string{"gate"}, gateArgs...)...)
		if code != 0 || !strings.Contains(out, "PASS    nodes-verified       3/3 nodes of pool worker") || !strings.HasSuffix(out, "PASS: 14 passed, 1 warnings, 0 failed, 0 skipped\n") {
			t.Errorf("gate table: exit %d\n%s", code, out)
		}
		t.Logf("mosc gate (table):\n%s", out)
		// The README's gate example is this run, as written: no
		// --release-image, no --registry-config.
		docExample(t, "README.md", "$ mosc gate -f mosc.yaml --to 4.21.11\n", out)
		docExample(t, "docs/gate.md", "$ mosc gate -f mosc.yaml --to 4.21.11\n", out)
		// No check pod is left behind.
		pods, err := env.Clients.Kube.CoreV1().Pods("openshift-machine-config-operator").List(ctx, metav1.ListOptions{LabelSelector: "mosc.dev/role=node-check"})
		must(t, err)
		if len(pods.Items) != 0 {
			t.Errorf("%d check pods left", len(pods.Items))
		}
	})

	t.Run("offline", func(t *testing.T) {
		r := runGate(t, 0, append(gateArgs, "--offline", "--openshift", "4.20.15")...)
		expectChecks(t, r, map[string]string{"release-payload": "skip", "repo-preflight": "skip", "pool-health": "skip", "push-token": "skip", "stack-support": "pass"}, nil)
		if r.From != "4.20.15" {
			t.Errorf("offline: current release is --openshift, got %q", r.From)
		}
	})

	t.Run("repo lacks doca-openvswitch", func(t *testing.T) {
		bad := gateSite(t, dir, "lacking.yaml", lacking, "")
		r := runGate(t, 1, "-f", bad, "--to", "4.21.11", "--release-image", ref, "--registry-config", regcfg, "--node-checks=false")
		expectChecks(t, r, map[string]string{"repo-preflight": "fail", "pool-health": "pass"}, map[string][]string{
			"repo-preflight": {lacking + " has no doca-openvswitch for x86_64"},
		})
	})

	t.Run("payload RHEL disagrees with the profile", func(t *testing.T) {
		// Tagged apart from the good 4.21.11 payload; its metadata says 4.21.11.
		spec := payloadSpec("4.21.11", "9.8", e2eKernels["9.8"], "")
		spec.Tag = "4.21.11-rhel98-x86_64"
		ref98, _ := pushPayloadSpec(t, dir, spec)
		r := runGate(t, 1, "-f", site, "--to", "4.21.11", "--release-image", ref98, "--registry-config", regcfg, "--node-checks=false")
		expectChecks(t, r, map[string]string{"release-payload": "fail"}, map[string][]string{
			"release-payload": {"rhel-coreos (stream rhel-9) is RHEL 9.8", "profile 4.21 says RHEL 9.6"},
		})
	})

	t.Run("payload needs credentials", func(t *testing.T) {
		// --registry-config replaces the cluster's pull secret.
		anon := filepath.Join(t.TempDir(), "no-auths.json")
		must(t, os.WriteFile(anon, []byte(`{"auths":{}}`), 0o600))
		r := runGate(t, 1, "-f", site, "--to", "4.21.11", "--release-image", ref, "--registry-config", anon, "--node-checks=false")
		expectChecks(t, r, map[string]string{"release-payload": "fail"}, map[string][]string{"release-payload": {"UNAUTHORIZED", "--registry-config", "credentials: --registry-config " + anon}})
	})

	t.Run("expiring token", func(t *testing.T) {
		if out, stderr, code := runMosc(t, "apply", "-f", site, "--token-ttl", "120h", "--rotate-token"); code != 0 {
			t.Fatalf("mosc apply --token-ttl 120h: exit %d\n%s\n%s", code, out, stderr)
		}
		r := runGate(t, 0, append(gateArgs, "--node-checks=false")...)
		expectChecks(t, r, map[string]string{"push-token": "warn", "pool-health": "pass"}, map[string][]string{
			"push-token": {"expires in 4 day(s)", "--min-token-days 14", "mosc apply"},
		})
		// A smaller threshold passes.
		r = runGate(t, 0, append(gateArgs, "--node-checks=false", "--min-token-days", "3")...)
		expectChecks(t, r, map[string]string{"push-token": "pass"}, nil)
		out, _, _ := runMoscWith(t, moscRun{}, append([]string{"gate"}, gateArgs...)...)
		if strings.Contains(out, "eyJ") {
			t.Error("the token reached stdout")
		}
	})

	t.Run("live diff", func(t *testing.T) {
		out, stderr, code := runMosc(t, "diff", "--live", "-f", site)
		if code != 0 {
			t.Fatalf("diff --live right after apply: exit %d\n%s\n%s", code, out, stderr)
		}
		if !strings.HasSuffix(out, "0 changed, 0 added, 0 removed, 5 unchanged\n") {
			t.Errorf("diff --live:\n%s", out)
		}
		// Fields other managers own are not mosc's business...
		cms := env.Clients.Kube.CoreV1().ConfigMaps(mcoNS)
		cm, err := cms.Get(ctx, "etc-yum-repos-d", metav1.GetOptions{})
		must(t, err)
		cm.Annotations = map[string]string{"example.com/owner": "platform-team"}
		cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		must(t, err)
		if out, stderr, code := runMosc(t, "diff", "--live", "-f", site); code != 0 {
			t.Errorf("another manager's annotation shows in diff --live: exit %d\n%s\n%s", code, out, stderr)
		}
		// ...but a hand edit of a field mosc set is drift.
		cm.Data["doca.repo"] = strings.Replace(cm.Data["doca.repo"], "gpgcheck=1", "gpgcheck=0", 1)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		must(t, err)
		out, _, code = runMosc(t, "diff", "--live", "-f", site)
		if code != 1 || !strings.Contains(out, "~ data[\"doca.repo\"]:\n") || !strings.Contains(out, "-gpgcheck=0\n") || !strings.Contains(out, "+gpgcheck=1\n") {
			t.Errorf("hand edit not shown by diff --live: exit %d\n%s", code, out)
		}
		// Server-side apply reports the hand edit as a conflict; take it back.
		if out, stderr, code := runMosc(t, "apply", "-f", site, "--force-conflicts"); code != 0 {
			t.Fatalf("re-apply: exit %d\n%s\n%s", code, out, stderr)
		}

		ovs := gateSite(t, dir, "ovs.yaml", full, "    variant: ovs\n")
		out, stderr, code = runMosc(t, "diff", "--live", "-f", ovs)
		if code != 1 {
			t.Fatalf("diff --live against the ovs variant: exit %d\n%s\n%s", code, out, stderr)
		}
		liveGolden(t, "live-full-to-ovs.txt", out)
		out, _, code = runMosc(t, "diff", "--live", "-f", ovs, "-o", "json")
		var doc map[string]any
		if code != 1 || json.Unmarshal([]byte(out), &doc) != nil || doc["schema"] != "mosc.dev/diff/v1" {
			t.Errorf("diff --live -o json: exit %d\n%s", code, out)
		}
	})

	t.Run("degraded pool", func(t *testing.T) {
		f := faults
		f.DegradeNode, f.DegradeReason = "worker-1", "unexpected on-disk state validating against rendered-worker"
		s.SetFaults(f)
		ovs := gateSite(t, dir, "ovs.yaml", full, "    variant: ovs\n")
		if out, stderr, code := runMosc(t, "apply", "-f", ovs); code != 0 {
			t.Fatalf("mosc apply (ovs variant): exit %d\n%s\n%s", code, out, stderr)
		}
		waitWorkers(t, ctx, "Degraded", func(p *mcfgv1.MachineConfigPool) bool { return poolCondition(p, "Degraded") })
		r := runGate(t, 1, "-f", ovs, "--to", "4.21.11", "--release-image", ref, "--registry-config", regcfg, "--node-checks=false")
		expectChecks(t, r, map[string]string{"pool-health": "fail", "cluster-upgradeable": "fail", "nodes-verified": "fail", "repo-preflight": "pass"}, map[string][]string{
			"pool-health":         {"pool worker is degraded", "oc describe mcp worker"},
			"cluster-upgradeable": {"pool worker is Degraded: the Machine Config Operator reports Upgradeable=False (DegradedPool)"},
			"nodes-verified":      {"worker-1: state Degraded"},
		})
		out, _, _ := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, "gate", "-f", ovs, "--to", "4.21.11", "--release-image", ref, "--registry-config", regcfg, "--node-checks=false")
		t.Logf("mosc gate (table):\n%s", out)
	})
}

var (
	liveHost = regexp.MustCompile(`live cluster https://127\.0\.0\.1:\d+`)
	// The build-inputs fingerprint hashes the repo files, which name the
	// test repository's random port.
	inputsHash = regexp.MustCompile(`(# mosc build inputs \([^)]*\): sha256:)[0-9a-f]+`)
)

// docExample compares the fenced example of file (README.md, docs/...)
// that starts with cmdLine with out (registry ports, digests, key ids and
// build names pinned); -update-gate-golden writes out there instead.
func docExample(t *testing.T, file, cmdLine, out string) {
	t.Helper()
	path := filepath.Join("..", filepath.FromSlash(file))
	b, err := os.ReadFile(path)
	must(t, err)
	doc := string(b)
	start := strings.Index(doc, "```\n"+cmdLine)
	if start < 0 {
		t.Fatalf("%s has no example starting %q", file, cmdLine)
	}
	start += len("```\n") + len(cmdLine)
	end := start + strings.Index(doc[start:], "```\n")
	if *updateGateGolden {
		must(t, os.WriteFile(path, []byte(doc[:start]+out+doc[end:]), 0o644))
		return
	}
	pin := func(s string) string {
		for _, r := range readmePins {
			s = r[0].(*regexp.Regexp).ReplaceAllString(s, r[1].(string))
		}
		return s
	}
	if d := cmp.Diff(pin(doc[start:end]), pin(out)); d != "" {
		t.Errorf("%s's example %q is not what the command prints now (go test ./e2e -run 'TestGate$' -update-gate-golden rewrites it) (-doc +now):\n%s", file, strings.TrimSpace(cmdLine), d)
	}
}

var readmePins = [][2]any{
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:DIGEST"},
	{regexp.MustCompile(`key [0-9A-F]{16}`), "key KEYID"},
	{regexp.MustCompile(`worker-[0-9a-f]{32}`), "worker-HASH"},
}

// liveGolden compares a live diff with cmd/mosc/testdata/diff/NAME, with the
// API server's address pinned.
func liveGolden(t *testing.T, name, got string) {
	t.Helper()
	got = liveHost.ReplaceAllString(got, "live cluster https://127.0.0.1:PORT")
	got = inputsHash.ReplaceAllString(got, "${1}HASH")
	path := filepath.Join("..", "cmd", "mosc", "testdata", "diff", name)
	if *updateGateGolden {
		must(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./e2e -run TestGate -update-gate-golden)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}
