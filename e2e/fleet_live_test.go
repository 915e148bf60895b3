package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/fleet"
	"github.com/mosc-dev/mosc/internal/kustomizetest"
)

// fleetSite is one cluster of the live fleet test: its own API server
// (etcd, kube-apiserver, registry, fake kubelet) and simulated MCO.
type fleetSite struct {
	name, version string
	c             *harness.Cluster
	faults        sim.Faults
}

// startFleetClusters starts one harness cluster per site that has none
// (env plays the first), concurrently, each seeded at the site's release.
func startFleetClusters(t *testing.T, ctx context.Context, sites []*fleetSite) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(sites))
	for i, s := range sites {
		if s.c != nil {
			continue
		}
		wg.Add(1)
		go func(i int, s *fleetSite) {
			defer wg.Done()
			c, err := harness.Start(ctx, harness.Options{OpenShiftVersion: s.version, MasterNodes: 1, WorkerNodes: 2})
			s.c, errs[i] = c, err
		}(i, s)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start cluster %s: %v", sites[i].name, err)
		}
	}
	for _, s := range sites {
		if s.c != env {
			t.Cleanup(s.c.Stop)
		}
	}
}

// fleetKubeconfig writes one kubeconfig with a context per site, named
// after the cluster, as an admin of many clusters keeps them.
func fleetKubeconfig(t *testing.T, dir string, sites []*fleetSite) string {
	t.Helper()
	out := clientcmdapi.NewConfig()
	for _, s := range sites {
		cfg, err := clientcmd.LoadFromFile(s.c.Kubeconfig)
		must(t, err)
		ctx := cfg.Contexts[cfg.CurrentContext]
		out.Clusters[s.name] = cfg.Clusters[ctx.Cluster]
		out.AuthInfos[s.name] = cfg.AuthInfos[ctx.AuthInfo]
		out.Contexts[s.name] = &clientcmdapi.Context{Cluster: s.name, AuthInfo: s.name}
	}
	out.CurrentContext = sites[0].name
	p := filepath.Join(dir, "fleet.kubeconfig")
	must(t, clientcmd.WriteToFile(*out, p))
	return p
}

// A fleet of four clusters on three releases, three of them live on their
// own API servers: each cluster's overlay is server-side applied to its
// cluster and its push secret filled (as a site's secret tooling does),
// the simulated MCO builds and rolls out (one build fails), and status
// --fleet and gate --fleet report each cluster, read concurrently through
// one kubeconfig with a context per cluster. The fourth has no context:
// status names it, gate runs its offline checks.
func TestFleetLiveStatusAndGate(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 8*time.Minute)
	ok := sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond}
	sites := []*fleetSite{
		{name: "site-a", version: harness.DefaultOpenShiftVersion, c: env, faults: ok},
		{name: "site-b", version: "4.21.4", faults: ok},
		{name: "site-c", version: "4.20.9", faults: sim.Faults{BuildFails: true, BuildDuration: 1500 * time.Millisecond}},
	}
	startFleetClusters(t, ctx, sites)
	dir := t.TempDir()
	repoURL := docaRepo(t)
	key, _ := repoKeys.Load(repoURL)
	ref, regcfg := pushPayload(t, dir, "4.21.11", "9.6")
	dig := digestRef(t, ref)

	var inv strings.Builder
	fmt.Fprintf(&inv, `apiVersion: mosc.dev/v1alpha1
kind: Fleet
metadata:
  name: lab
spec:
  defaults:
    pool: worker
    stacks: [doca-3.3]
    secrets:
      mode: placeholder
    repos:
      mirrors:
        doca: %s
      gpgKeys:
        doca: %s
  clusters:
`, repoURL, key)
	for _, s := range sites {
		fmt.Fprintf(&inv, "  - name: %s\n    openshift: %q\n    overrides:\n      registry:\n        pushSpec: %s/mosc/os-image:latest\n", s.name, s.version, s.c.Registry.Host())
	}
	inv.WriteString("  - name: site-d\n    openshift: \"4.20.15\"\n")
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(inv.String()), 0o644))
	kubeconfig := fleetKubeconfig(t, dir, sites)

	_, errOut, code := runMoscWith(t, moscRun{Dir: dir}, "render", "--fleet", "fleet.yaml", "-o", "tree")
	if code != 0 {
		t.Fatalf("render --fleet: exit %d: %s", code, errOut)
	}
	kustomize := kustomizetest.Bin(t)
	for _, s := range sites {
		// The overlay, as Argo CD syncs it (server-side apply).
		f := filepath.Join(dir, s.name+".yaml")
		must(t, os.WriteFile(f, kustomizetest.Build(t, kustomize, filepath.Join(dir, "tree", "clusters", s.name)), 0o644))
		for _, o := range readStream(t, f) {
			if o.GetKind() == "Secret" && o.GetName() == "push-secret" {
				auth := base64.StdEncoding.EncodeToString([]byte(s.c.Registry.User() + ":" + s.c.Registry.Password()))
				cfg := `{"auths":{"` + s.c.Registry.Host() + `":{"auth":"` + auth + `"}}}`
				must(t, unstructured.SetNestedField(o.Object, base64.StdEncoding.EncodeToString([]byte(cfg)), "data", ".dockerconfigjson"))
			}
			if err := ssaOn(ctx, s.c, o, "argocd-controller", false); err != nil {
				t.Fatalf("%s: %s %s: %v", s.name, o.GetKind(), o.GetName(), err)
			}
		}
		// The cluster's pull secret can read the payload (in env's
		// registry), as a real one reads quay.io; gate uses it per cluster.
		pullSecretWithRegistryOf(t, ctx, s.c, env)
		// The update service offers the target by digest.
		cvs := s.c.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
		_, err := cvs.Patch(ctx, "version", types.MergePatchType, []byte(`{"spec":{"channel":"stable-4.21"}}`), metav1.PatchOptions{})
		must(t, err)
		must(t, s.c.SetClusterVersionStatus(ctx, map[string]any{
			"availableUpdates": []any{map[string]any{"version": "4.21.11", "image": dig}},
			"conditions": []any{
				cvCond(configv1.OperatorAvailable, configv1.ConditionTrue, "", "Done applying "+s.version),
				cvCond(configv1.OperatorProgressing, configv1.ConditionFalse, "", "Cluster version is "+s.version),
				cvCond(configv1.RetrievedUpdates, configv1.ConditionTrue, "", ""),
				cvCond(configv1.OperatorUpgradeable, configv1.ConditionTrue, "", ""),
			},
		}))
		if s.c == env {
			startSim(t, s.faults)
			continue
		}
		sm := s.c.NewSimulator(s.faults, func(f string, a ...any) { t.Logf(s.name+": "+f, a...) })
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- sm.Run(sctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s simulator: %v", s.name, err)
			}
		})
	}

	run := moscRun{Dir: dir, Env: []string{"KUBECONFIG=" + kubeconfig}, Timeout: 4 * time.Minute}
	// status --fleet until the two good clusters are rolled out and the
	// third's build has failed.
	var rep fleet.StatusReport
	var out, stderr string
	deadline := time.Now().Add(4 * time.Minute)
	for {
		out, stderr, code = runMoscWith(t, run, "status", "--fleet", "fleet.yaml", "--parallel", "3", "-o", "json")
		rep = fleet.StatusReport{}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("status --fleet -o json: %v\n%s\n%s", err, out, stderr)
		}
		if statusSettled(rep) || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if code != 1 || !strings.Contains(stderr, "2 of 4 clusters failed or could not be read: clusters site-c, site-d") {
		t.Errorf("status --fleet: exit %d, stderr %s", code, stderr)
	}
	byName := map[string]*fleet.StatusCluster{}
	for _, c := range rep.Clusters {
		byName[c.Cluster] = c
	}
	for _, s := range sites[:2] {
		c := byName[s.name]
		if c == nil || c.Error != "" || len(c.Pools) != 1 || c.OpenShift != s.version || c.Pools[0].Updated != 2+map[bool]int{true: 1}[s.c == env] || c.Pools[0].Failure != nil {
			t.Errorf("%s: status %+v", s.name, c)
		}
	}
	if c := byName["site-c"]; c == nil || len(c.Pools) != 1 || c.Pools[0].Failure == nil || c.Pools[0].Failure.Cause == nil {
		t.Errorf("site-c: status %+v, want a failed, classified build", c)
	}
	if c := byName["site-d"]; c == nil || c.Access != "none" || !strings.Contains(c.Error, "no context named after the cluster") {
		t.Errorf("site-d: status %+v", c)
	}
	out, _, _ = runMoscWith(t, run, "status", "--fleet", "fleet.yaml")
	t.Logf("mosc status --fleet fleet.yaml:\n%s", out)

	// gate --fleet, live where a context exists.
	junit := filepath.Join(dir, "gate.xml")
	// Each live cluster's payload digest comes from its ClusterVersion and
	// is read with its own pull secret; site-d (no context) has --release-image.
	out, stderr, code = runMoscWith(t, run, "gate", "--fleet", "fleet.yaml", "--to", "4.21.11", "--release-image", ref, "--registry-config", regcfg,
		"--node-checks=false", "--parallel", "2", "-o", "json", "--junit", junit)
	if code != 1 || !strings.Contains(stderr, "gate failed on 1 of 4 clusters: cluster site-c") {
		t.Errorf("gate --fleet: exit %d, stderr:\n%s", code, stderr)
	}
	var g fleet.GateReport
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatalf("gate --fleet -o json: %v\n%s", err, out)
	}
	want := map[string]struct {
		from, verdict, access string
		live                  bool
	}{
		"site-a": {"4.20.15", "pass", "context site-a", true},
		"site-b": {"4.21.4", "pass", "context site-b", true},
		"site-c": {"4.20.9", "fail", "context site-c", true},
		"site-d": {"4.20.15", "pass", "none", false},
	}
	for _, c := range g.Clusters {
		w := want[c.Cluster]
		if c.From != w.from || c.Verdict != w.verdict || c.Access != w.access || c.Live != w.live || c.To != "4.21.11" {
			t.Errorf("%s: from %s verdict %s access %q live %v to %s; want %+v (failing %v)", c.Cluster, c.From, c.Verdict, c.Access, c.Live, c.To, w, c.Failing)
		}
		checks := map[string]string{}
		for _, ch := range c.Pools[0].Checks {
			checks[ch.ID] = string(ch.Status)
		}
		switch {
		case c.Cluster == "site-c":
			// The failed build degrades the pool, and no node has the image.
			if checks["last-build"] != "fail" || strings.Join(c.Failing, ",") != "pool-health,last-build,nodes-verified" {
				t.Errorf("site-c: failing %v, checks %v", c.Failing, checks)
			}
		case c.Live:
			for _, id := range []string{"release-payload", "base-pull-secret", "repo-preflight", "cluster-upgradeable", "pool-health", "last-build", "push-token"} {
				if checks[id] != "pass" {
					t.Errorf("%s: %s = %s", c.Cluster, id, checks[id])
				}
			}
		default:
			if checks["pool-health"] != "skip" || checks["release-payload"] != "pass" {
				t.Errorf("%s (no context): checks %v", c.Cluster, checks)
			}
		}
	}
	x, err := os.ReadFile(junit)
	must(t, err)
	if n := strings.Count(string(x), "<testsuite "); n != 4 || !strings.Contains(string(x), `name="site-c: mosc gate 4.20.9 -&gt; 4.21.11"`) {
		t.Errorf("JUnit: %d suites, want one per cluster:\n%s", n, x)
	}
	out, _, _ = runMoscWith(t, run, "gate", "--fleet", "fleet.yaml", "--to", "4.21.11", "--release-image", ref, "--registry-config", regcfg, "--node-checks=false")
	t.Logf("mosc gate --fleet fleet.yaml --to 4.21.11:\n%s", out)
}

// pullSecretWithRegistryOf adds reg's test registry credentials to c's
// openshift-config/pull-secret.
func pullSecretWithRegistryOf(t *testing.T, ctx context.Context, c, reg *harness.Cluster) {
	t.Helper()
	secrets := c.Clients.Kube.CoreV1().Secrets(harness.PullSecretNamespace)
	s, err := secrets.Get(ctx, harness.PullSecretName, metav1.GetOptions{})
	must(t, err)
	var doc map[string]map[string]any
	must(t, json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &doc))
	doc["auths"][reg.Registry.Host()] = map[string]string{"auth": reg.Registry.Auth()}
	b, err := json.Marshal(doc)
	must(t, err)
	s.Data[corev1.DockerConfigJsonKey] = b
	_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
	must(t, err)
}

// statusSettled: site-a and site-b rolled out, site-c's build failed.
func statusSettled(r fleet.StatusReport) bool {
	n := 0
	for _, c := range r.Clusters {
		if len(c.Pools) != 1 {
			continue
		}
		p := c.Pools[0]
		switch c.Cluster {
		case "site-a", "site-b":
			if p.Total > 0 && p.Updated == p.Total && p.Failure == nil {
				n++
			}
		case "site-c":
			if p.Failure != nil {
				n++
			}
		}
	}
	return n == 3
}
