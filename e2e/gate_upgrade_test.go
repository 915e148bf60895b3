package e2e

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
)

// layerThenStop applies the site with the simulator running, waits until
// the worker pool runs the layered image, and stops the simulator, so the
// pool conditions a test writes stay as written.
func layerThenStop(t *testing.T, ctx context.Context, site string) {
	t.Helper()
	s := env.NewSimulator(sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond}, t.Logf)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(sctx) }()
	stopped := false
	halt := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		if err := <-done; err != nil {
			t.Errorf("simulator: %v", err)
		}
		for _, r := range s.Rejected() {
			t.Errorf("the API server rejected a simulator write: %s", r)
		}
	}
	t.Cleanup(halt)
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("simulator stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("simulator not ready after 30s")
	}
	if out, stderr, code := runMosc(t, "apply", "-f", site); code != 0 {
		t.Fatalf("mosc apply: exit %d\n%s\n%s", code, out, stderr)
	}
	waitLayered(t, ctx)
	halt()
}

// digestRef turns a pushed payload tag into the pull spec ClusterVersion
// offers: the same repository by digest.
func digestRef(t *testing.T, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	must(t, err)
	d, err := remote.Head(r, remote.WithAuth(env.Registry.Authenticator()))
	must(t, err)
	return r.Context().String() + "@" + d.Digest.String()
}

// clusterPullSecretWithRegistry adds the test registry's credentials to
// openshift-config/pull-secret, as a real pull secret holds quay.io's.
func clusterPullSecretWithRegistry(t *testing.T, ctx context.Context) {
	t.Helper()
	pullSecretWithRegistryOf(t, ctx, env, env)
}

func cvCond(t configv1.ClusterStatusConditionType, st configv1.ConditionStatus, reason, msg string) map[string]any {
	return map[string]any{"type": string(t), "status": string(st), "reason": reason, "message": msg, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}
}

// The cluster's side of an upgrade, as the cluster-version operator sees
// it: ClusterVersion offering 4.21.11 (recommended) and 4.21.12
// (conditional, with a risk) by digest; the payload repository public but
// its component images (ocp-v4.0-art-dev) behind the pull secret the
// cluster holds; then Upgradeable=False, a missing admin-ack, a Degraded
// pool other than the gated one, a paused worker pool and
// TechPreviewNoUpgrade. The simulator layers the worker pool, then stops:
// the pools keep the state the test gives them.
func TestGateUpgrade(t *testing.T) {
	resetEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	site := gateSite(t, dir, "mosc.yaml", docaRepo(t), "")
	layerThenStop(t, ctx, site)
	ref11, _ := pushPayload(t, dir, "4.21.11", "9.6")
	ref12, _ := pushPayload(t, dir, "4.21.12", "9.6")
	dig11, dig12 := digestRef(t, ref11), digestRef(t, ref12)
	t.Cleanup(env.Registry.AllowAnonymousPull("openshift-release-dev/ocp-release"))
	clusterPullSecretWithRegistry(t, ctx)

	cvs := env.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	_, err := cvs.Patch(ctx, "version", types.MergePatchType, []byte(`{"spec":{"channel":"stable-4.21"}}`), metav1.PatchOptions{})
	must(t, err)
	healthy := []any{
		cvCond(configv1.OperatorAvailable, configv1.ConditionTrue, "", "Done applying 4.20.15"),
		cvCond(configv1.OperatorProgressing, configv1.ConditionFalse, "", "Cluster version is 4.20.15"),
		cvCond(configv1.OperatorDegraded, configv1.ConditionFalse, "", ""),
		cvCond("Failing", configv1.ConditionFalse, "", ""),
		cvCond(configv1.RetrievedUpdates, configv1.ConditionTrue, "", ""),
		cvCond("ReleaseAccepted", configv1.ConditionTrue, "PayloadLoaded", "Payload loaded version=\"4.20.15\""),
		cvCond(configv1.OperatorUpgradeable, configv1.ConditionTrue, "", ""),
	}
	must(t, env.SetClusterVersionStatus(ctx, map[string]any{
		"availableUpdates": []any{map[string]any{"version": "4.21.11", "image": dig11, "channels": []any{"stable-4.21", "fast-4.21"}}},
		"conditionalUpdates": []any{map[string]any{
			"release": map[string]any{"version": "4.21.12", "image": dig12},
			"risks": []any{map[string]any{"name": "OVNKubeMasterRestart", "message": "ovnkube-node may restart on nodes with many OVS ports.", "url": "https://issues.redhat.com/browse/OCPBUGS-00001",
				"matchingRules": []any{map[string]any{"type": "Always"}}}},
			"conditions": []any{map[string]any{"type": "Recommended", "status": "False", "reason": "OVNKubeMasterRestart", "message": "ovnkube-node may restart on nodes with many OVS ports.", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}},
		}},
		"conditions": healthy,
	}))

	base := []string{"-f", site, "--node-checks=false"}

	t.Run("payload and credentials from the cluster", func(t *testing.T) {
		r := runGate(t, 0, append(base, "--to", "4.21")...)
		if r.To != "4.21.11" || r.ReleaseImage != dig11 || r.From != "4.20.15" {
			t.Errorf("report header: to %s, image %s, from %s", r.To, r.ReleaseImage, r.From)
		}
		expectChecks(t, r, map[string]string{"release-payload": "pass", "cluster-upgradeable": "pass", "base-pull-secret": "pass", "pool-health": "pass"}, map[string][]string{
			"base-pull-secret":    {"openshift-config/pull-secret can read the target's rhel-coreos and rhel-coreos-extensions"},
			"release-payload":     {"payload 4.21.11: rhel-coreos (stream rhel-9) is RHEL 9.6", "(from ClusterVersion availableUpdates; --to 4.21 resolved to 4.21.11, the newest offered)"},
			"cluster-upgradeable": {"4.20.15 → 4.21.11 (minor upgrade): Upgradeable", "4.21.11 is a recommended update (availableUpdates, channel stable-4.21): " + dig11},
		})
		for _, c := range r.Checks {
			if c.ID == "release-payload" && c.Details["credentials"] != "the cluster's pull secret (openshift-config/pull-secret)" {
				t.Errorf("credentials: %v", c.Details["credentials"])
			}
		}
		out, _, code := runMoscWith(t, moscRun{}, append([]string{"gate"}, append(base, "--to", "4.21")...)...)
		t.Logf("mosc gate --to 4.21 (exit %d):\n%s", code, out)
	})

	t.Run("a frozen copy of the pull secret", func(t *testing.T) {
		// A base image pull secret copied before the cluster pull secret
		// gained the payload registry's credentials (the simulator is
		// stopped: the MachineOSConfig change starts no build).
		frozen := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "frozen-pull-secret", Namespace: mcoNS}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("old:token")) + `"}}}`)}}
		_, err := env.Clients.Kube.CoreV1().Secrets(mcoNS).Create(ctx, frozen, metav1.CreateOptions{})
		must(t, err)
		moscs := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs()
		_, err = moscs.Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"baseImagePullSecret":{"name":"frozen-pull-secret"}}}`), metav1.PatchOptions{})
		must(t, err)
		defer func() {
			_, err := moscs.Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"baseImagePullSecret":null}}`), metav1.PatchOptions{})
			must(t, err)
		}()
		r := runGate(t, 1, append(base, "--to", "4.21.11")...)
		expectChecks(t, r, map[string]string{"base-pull-secret": "fail", "release-payload": "pass"}, map[string][]string{
			"base-pull-secret": {"with openshift-machine-config-operator/frozen-pull-secret the layered build cannot pull the target's base images", "rhel-coreos " + env.Registry.Host(), "401 Unauthorized", "rhel-coreos-extensions"},
		})
	})

	t.Run("component images need the pull secret", func(t *testing.T) {
		anon := filepath.Join(t.TempDir(), "no-auths.json")
		must(t, os.WriteFile(anon, []byte(`{"auths":{}}`), 0o600))
		r := runGate(t, 1, append(base, "--to", "4.21.11", "--registry-config", anon)...)
		// The public payload is read; its rhel-coreos (ocp-v4.0-art-dev) is not.
		expectChecks(t, r, map[string]string{"release-payload": "fail"}, map[string][]string{
			"release-payload": {"rhel-coreos image " + env.Registry.Host() + "/openshift-release-dev/ocp-v4.0-art-dev@sha256:", "UNAUTHORIZED", "credentials: --registry-config " + anon},
		})
	})

	t.Run("conditional update", func(t *testing.T) {
		r := runGate(t, 0, append(base, "--to", "4.21.12")...)
		if r.ReleaseImage != dig12 {
			t.Errorf("release image %s, want %s", r.ReleaseImage, dig12)
		}
		expectChecks(t, r, map[string]string{"release-payload": "pass", "cluster-upgradeable": "warn"}, map[string][]string{
			"release-payload":     {"(from ClusterVersion conditionalUpdates)"},
			"cluster-upgradeable": {"4.21.12 is a conditional update, not recommended for this cluster (OVNKubeMasterRestart)", "https://issues.redhat.com/browse/OCPBUGS-00001", "oc adm upgrade --to 4.21.12 --allow-not-recommended"},
		})
	})

	t.Run("not offered", func(t *testing.T) {
		r := runGate(t, 1, append(base, "--to", "4.21.10")...)
		expectChecks(t, r, map[string]string{"cluster-upgradeable": "fail", "release-payload": "fail"}, map[string][]string{
			"cluster-upgradeable": {"4.21.10 is not offered to this cluster in channel stable-4.21 (offered: 4.21.11, 4.21.12 (conditional))"},
			"release-payload":     {"derived from --to (the cluster does not offer it)"},
		})
	})

	t.Run("the target kernel", func(t *testing.T) {
		// The payload's rhel-coreos meta.json names a newer kernel than the
		// nodes run (5.14.0-570.62.1.el9_6); its extensions carry the
		// matching kernel-devel, then none.
		const k = "5.14.0-570.70.1.el9_6"
		ref, _ := pushPayloadKernel(t, dir, "4.21.14", "9.6", k, "")
		r := runGate(t, 1, append(base, "--to", "4.21.14", "--release-image", digestRef(t, ref))...) // not offered: cluster-upgradeable fails
		expectChecks(t, r, map[string]string{"target-kernel": "warn", "release-payload": "pass"}, map[string][]string{
			"target-kernel": {"the kernel changes 5.14.0-570.62.1.el9_6.x86_64 → " + k + ".x86_64: doca-3.3:full builds kernel modules (DKMS) in the layer build",
				"kernel-devel-" + k + ".x86_64 is in rhel-coreos-extensions", "mosc gate --build"},
		})
		ref, _ = pushPayloadKernel(t, dir, "4.21.15", "9.6", k, "-")
		r = runGate(t, 1, append(base, "--to", "4.21.15", "--release-image", digestRef(t, ref))...)
		expectChecks(t, r, map[string]string{"target-kernel": "fail"}, map[string][]string{
			"target-kernel": {"target kernel " + k + ".x86_64, but the payload's rhel-coreos-extensions has no kernel-devel"},
		})
	})

	t.Run("a minor without an offer fails", func(t *testing.T) {
		must(t, env.SetClusterVersionStatus(ctx, map[string]any{"availableUpdates": []any{}, "conditionalUpdates": nil}))
		defer func() {
			must(t, env.SetClusterVersionStatus(ctx, map[string]any{"availableUpdates": []any{map[string]any{"version": "4.21.11", "image": dig11}}}))
		}()
		r := runGate(t, 1, append(base, "--to", "4.21")...)
		expectChecks(t, r, map[string]string{"release-payload": "fail", "cluster-upgradeable": "fail"}, map[string][]string{
			"release-payload": {"--to 4.21 names no patch level, no --release-image was given and the cluster's ClusterVersion offers no 4.21 update"},
		})
	})

	t.Run("blocked", func(t *testing.T) {
		blocked := append([]any{}, healthy[:6]...)
		blocked = append(blocked, cvCond(configv1.OperatorUpgradeable, configv1.ConditionFalse, "AdminAckRequired", "Kubernetes 1.34 and therefore OpenShift 4.21 remove several APIs which require admin consideration."))
		must(t, env.SetClusterVersionStatus(ctx, map[string]any{"conditions": blocked}))
		kube := env.Clients.Kube.CoreV1()
		gates, err := kube.ConfigMaps(harness.AdminGatesNamespace).Get(ctx, harness.AdminGatesName, metav1.GetOptions{})
		must(t, err)
		const ack = "ack-4.20-kube-1.34-api-removals-in-4.21"
		gates.Data = map[string]string{ack: "Kubernetes 1.34 and therefore OpenShift 4.21 remove several APIs which require admin consideration. Please see the knowledge article https://access.redhat.com/articles/7112216 for details and instructions.",
			"ack-4.19-kube-1.33-api-removals-in-4.20": "an older gate: not for 4.20"}
		_, err = kube.ConfigMaps(harness.AdminGatesNamespace).Update(ctx, gates, metav1.UpdateOptions{})
		must(t, err)
		mc := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools()
		master, err := mc.Get(ctx, "master", metav1.GetOptions{})
		must(t, err)
		master.Status.Conditions = append(master.Status.Conditions, mcfgv1.MachineConfigPoolCondition{Type: mcfgv1.MachineConfigPoolDegraded, Status: corev1.ConditionTrue,
			Reason: "1 nodes are reporting degraded status on sync", Message: `Node master-0 is reporting: "unexpected on-disk state"`, LastTransitionTime: metav1.Now()})
		_, err = mc.UpdateStatus(ctx, master, metav1.UpdateOptions{})
		must(t, err)
		_, err = mc.Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{})
		must(t, err)

		r := runGate(t, 1, append(base, "--to", "4.21.11")...)
		expectChecks(t, r, map[string]string{"cluster-upgradeable": "fail", "pool-health": "warn"}, map[string][]string{
			"cluster-upgradeable": {"would refuse 4.20.15 → 4.21.11",
				"ClusterVersion Upgradeable=False (AdminAckRequired)",
				"admin-ack " + ack + " is not given",
				"pool master is Degraded: the Machine Config Operator reports Upgradeable=False (DegradedPool)",
				"paused pool(s) worker",
				`oc -n openshift-config patch configmap admin-acks --type=merge --patch '{"data":{"` + ack + `":"true"}}'`},
			"pool-health": {"pool worker is paused (spec.paused", "oc patch mcp worker"},
		})
		_, msg := r.status("cluster-upgradeable")
		if strings.Contains(msg, "ack-4.19") {
			t.Errorf("a gate for another minor counted: %s", msg)
		}
		out, _, _ := runMoscWith(t, moscRun{}, append([]string{"gate"}, append(base, "--to", "4.21.11")...)...)
		t.Logf("mosc gate, blocked:\n%s", out)

		// The remedy, as given: the ack is taken.
		acks, err := kube.ConfigMaps(harness.AdminAcksNamespace).Get(ctx, harness.AdminAcksName, metav1.GetOptions{})
		must(t, err)
		_, err = kube.ConfigMaps(harness.AdminAcksNamespace).Patch(ctx, acks.Name, types.MergePatchType, []byte(`{"data":{"`+ack+`":"true"}}`), metav1.PatchOptions{})
		must(t, err)
		r = runGate(t, 1, append(base, "--to", "4.21.11")...)
		if _, msg := r.status("cluster-upgradeable"); strings.Contains(msg, "admin-ack") {
			t.Errorf("ack given, still reported: %s", msg)
		}
		// A patch update within 4.20 is not blocked by Upgradeable=False.
		must(t, env.SetClusterVersionStatus(ctx, map[string]any{"availableUpdates": []any{map[string]any{"version": "4.20.16", "image": dig11}, map[string]any{"version": "4.21.11", "image": dig11}}}))
		r = runGate(t, 1, append(base, "--to", "4.20.16")...) // the payload is 4.21's: release-payload fails
		expectChecks(t, r, map[string]string{"cluster-upgradeable": "warn"}, map[string][]string{"cluster-upgradeable": {"(blocks minor upgrades only)"}})
	})

	t.Run("TechPreviewNoUpgrade", func(t *testing.T) {
		fgs := env.Clients.OpenShift.ConfigV1().FeatureGates()
		fg, err := fgs.Get(ctx, "cluster", metav1.GetOptions{})
		must(t, err)
		fg.Spec.FeatureSet = configv1.TechPreviewNoUpgrade
		fg, err = fgs.Update(ctx, fg, metav1.UpdateOptions{})
		must(t, err)
		// The API server itself refuses to take it back.
		fg.Spec.FeatureSet = configv1.Default
		if _, err := fgs.Update(ctx, fg, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "featureSet") {
			t.Errorf("unsetting TechPreviewNoUpgrade: %v", err)
		}
		r := runGate(t, 1, append(base, "--to", "4.21.11")...)
		expectChecks(t, r, map[string]string{"cluster-upgradeable": "fail"}, map[string][]string{
			"cluster-upgradeable": {"FeatureGate cluster has featureSet TechPreviewNoUpgrade, which can never be unset", "install a new cluster at 4.18.20+"},
		})
	})
}
