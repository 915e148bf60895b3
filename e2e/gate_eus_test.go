package e2e

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestGateEUS: an EUS-to-EUS update, 4.18.25 → 4.19 → 4.20.8, as the
// documented procedure runs it (openshift-docs,
// modules/updating-eus-to-eus-upgrade-cli.adoc): channel eus-4.20, worker
// pools paused, the control plane through 4.19 to 4.20. A 4.18.25 cluster
// in that channel is offered 4.19.z (availableUpdates); 4.20.8 is not
// offered until the cluster runs 4.19, so its payload is --release-image.
// The payloads are real-shaped 4.19/4.20 ones (RHEL 9.6 RHCOS labels,
// meta.json with the kernel, extensions.json with kernel-devel; the art
// images behind the cluster's pull secret). mosc gate --to 4.20.8 gates
// both hops; then the 4.19 hop is offered a payload whose extensions lack
// the new kernel's kernel-devel, and the failure names the hop.
func TestGateEUS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	resetEnvVersion(t, ctx, "4.18.25")
	dir := t.TempDir()
	site := gateSite(t, dir, "mosc.yaml", docaRepo(t), "")
	layerThenStop(t, ctx, site)
	ref19, _ := pushPayload(t, dir, "4.19.15", "9.6")
	ref20, _ := pushPayload(t, dir, "4.20.8", "9.6")
	dig19, dig20 := digestRef(t, ref19), digestRef(t, ref20)
	t.Cleanup(env.Registry.AllowAnonymousPull("openshift-release-dev/ocp-release"))
	clusterPullSecretWithRegistry(t, ctx)

	cvs := env.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	_, err := cvs.Patch(ctx, "version", types.MergePatchType, []byte(`{"spec":{"channel":"eus-4.20"}}`), metav1.PatchOptions{})
	must(t, err)
	must(t, env.SetClusterVersionStatus(ctx, map[string]any{
		"availableUpdates": []any{map[string]any{"version": "4.19.15", "image": dig19, "channels": []any{"eus-4.20", "stable-4.19", "stable-4.20"}}},
		"conditions": []any{
			cvCond(configv1.OperatorAvailable, configv1.ConditionTrue, "", "Done applying 4.18.25"),
			cvCond(configv1.OperatorProgressing, configv1.ConditionFalse, "", "Cluster version is 4.18.25"),
			cvCond("Failing", configv1.ConditionFalse, "", ""),
			cvCond(configv1.RetrievedUpdates, configv1.ConditionTrue, "", ""),
			cvCond("ReleaseAccepted", configv1.ConditionTrue, "PayloadLoaded", "Payload loaded version=\"4.18.25\""),
			cvCond(configv1.OperatorUpgradeable, configv1.ConditionTrue, "", ""),
		},
	}))
	args := []string{"-f", site, "--to", "4.20.8", "--release-image", dig20, "--node-checks=false"}
	hopOf := func(r gateReport, id string) any {
		for _, c := range r.Checks {
			if c.ID == id {
				return c.Details["hop"]
			}
		}
		return nil
	}

	t.Run("unpaused: both hops gated, the pool told to pause", func(t *testing.T) {
		r := runGate(t, 0, args...)
		if r.From != "4.18.25" || r.Via != "4.19.15" || r.To != "4.20.8" || r.ViaReleaseImage != dig19 || r.ReleaseImage != dig20 {
			t.Errorf("report header: %s → %s → %s, images %s %s", r.From, r.Via, r.To, r.ViaReleaseImage, r.ReleaseImage)
		}
		expectChecks(t, r, map[string]string{
			"upgrade-path": "pass", "target-profile@4.19": "pass", "stack-support@4.19": "pass", "release-payload@4.19": "pass", "target-kernel@4.19": "pass", "base-pull-secret@4.19": "pass",
			"target-profile": "pass", "stack-support": "pass", "release-payload": "pass", "target-kernel": "pass", "base-pull-secret": "pass",
			"cluster-upgradeable": "pass", "pool-health": "pass",
		}, map[string][]string{
			"upgrade-path":         {"EUS-to-EUS update 4.18.25 → 4.19.15 → 4.20.8", "a failed 4.20 build makes pool worker Degraded (ImageBuildDegraded)"},
			"release-payload@4.19": {"payload 4.19.15: rhel-coreos is RHEL 9.6", "(from ClusterVersion availableUpdates; --via 4.19 resolved to 4.19.15, the newest offered)"},
			"release-payload":      {"payload 4.20.8: rhel-coreos is RHEL 9.6"},
			"cluster-upgradeable":  {"4.18.25 → 4.19.15 (minor upgrade): Upgradeable", "4.19.15 is a recommended update (availableUpdates, channel eus-4.20)", "gate that hop again there (mosc gate --to 4.20.8)"},
			"pool-health":          {"pool worker is Updated", "for the EUS-to-EUS update, pause it before oc adm upgrade"},
		})
		if h := hopOf(r, "release-payload@4.19"); h != "4.18.25 → 4.19.15" {
			t.Errorf("release-payload@4.19 hop %v", h)
		}
		if h := hopOf(r, "release-payload"); h != "4.19.15 → 4.20.8" {
			t.Errorf("release-payload hop %v", h)
		}
	})

	_, err = env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{})
	must(t, err)

	t.Run("paused for the EUS update", func(t *testing.T) {
		junit := filepath.Join(t.TempDir(), "gate.xml")
		r := runGate(t, 0, append(args, "--junit", junit)...)
		expectChecks(t, r, map[string]string{"pool-health": "pass", "cluster-upgradeable": "pass"}, map[string][]string{
			"pool-health":         {"pool worker is paused, as the EUS-to-EUS update 4.18.25 → 4.19.15 → 4.20.8 has it", "take 4.20's when unpaused"},
			"cluster-upgradeable": {"paused pool(s) worker"},
		})
		b, err := os.ReadFile(junit)
		must(t, err)
		var doc struct {
			Suites []struct {
				Name  string `xml:"name,attr"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Cases []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		must(t, xml.Unmarshal(b, &doc))
		names := map[string]bool{}
		for _, c := range doc.Suites[0].Cases {
			names[c.Name] = true
		}
		if doc.Suites[0].Name != "mosc gate 4.18.25 -> 4.19.15 -> 4.20.8" || !names["release-payload@4.19"] || !names["release-payload"] || !names["upgrade-path"] || len(names) != len(r.Checks) {
			t.Errorf("junit: suite %q, cases %v\n%s", doc.Suites[0].Name, names, b)
		}
		// The table, as a pipeline log shows it (docs/gate.md's EUS example).
		out, _, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, append([]string{"gate"}, args...)...)
		if code != 0 || !strings.Contains(out, "mosc gate: OpenShift 4.18.25 → 4.19.15 → 4.20.8, pool worker") ||
			!strings.Contains(out, "release image (4.19.15): "+dig19) || !strings.Contains(out, "PASS    release-payload@4.19") {
			t.Errorf("gate table: exit %d\n%s", code, out)
		}
		t.Logf("mosc gate --to 4.20.8 (EUS, table):\n%s", out)
	})

	t.Run("the second hop's payload cannot be named", func(t *testing.T) {
		// 4.20 is not offered at 4.18: a minor --to without --release-image
		// leaves the last hop without a payload.
		r := runGate(t, 1, "-f", site, "--to", "4.20", "--node-checks=false")
		expectChecks(t, r, map[string]string{"release-payload@4.19": "pass", "release-payload": "fail", "target-kernel": "skip"}, map[string][]string{
			"release-payload": {"--to 4.20 names no patch level, no --release-image was given and the cluster's ClusterVersion offers no 4.20 update"},
		})
		if h := hopOf(r, "release-payload"); h != "4.19.15 → 4.20" {
			t.Errorf("release-payload hop %v", h)
		}
	})

	t.Run("one hop broken", func(t *testing.T) {
		// 4.19.16 is offered too (the newest, so --to 4.20's first hop takes
		// it); its rhel-coreos runs a new kernel, and its extensions image
		// carries no kernel-devel: the DKMS build at the 4.19 hop fails.
		const k = "5.14.0-570.70.1.el9_6"
		ref, _ := pushPayloadKernel(t, dir, "4.19.16", "9.6", k, "-")
		dig16 := digestRef(t, ref)
		must(t, env.SetClusterVersionStatus(ctx, map[string]any{"availableUpdates": []any{
			map[string]any{"version": "4.19.15", "image": dig19}, map[string]any{"version": "4.19.16", "image": dig16}}}))
		_, stderr, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, append([]string{"gate", "-o", "json"}, args...)...)
		if code != 1 || !strings.Contains(stderr, "gate failed: target-kernel@4.19") {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		r := runGate(t, 1, args...)
		expectChecks(t, r, map[string]string{"release-payload@4.19": "pass", "target-kernel@4.19": "fail", "target-kernel": "pass", "release-payload": "pass"}, map[string][]string{
			"target-kernel@4.19": {"target kernel " + k + ".x86_64, but the payload's rhel-coreos-extensions has no kernel-devel"},
		})
		if r.Via != "4.19.16" || r.ViaReleaseImage != dig16 {
			t.Errorf("via %s %s", r.Via, r.ViaReleaseImage)
		}
		// --via names the good hop; --via-release-image a payload outright.
		r = runGate(t, 0, append(args, "--via", "4.19.15")...)
		if r.Via != "4.19.15" || r.ViaReleaseImage != dig19 {
			t.Errorf("--via 4.19.15: via %s %s", r.Via, r.ViaReleaseImage)
		}
		r = runGate(t, 1, append(args, "--via", "4.19.16", "--via-release-image", dig16)...)
		expectChecks(t, r, map[string]string{"target-kernel@4.19": "fail"}, map[string][]string{"release-payload@4.19": {"payload 4.19.16"}})
		for _, c := range r.Checks {
			if c.ID == "release-payload@4.19" && c.Details["source"] != "--via-release-image" {
				t.Errorf("release-payload@4.19 source %v", c.Details["source"])
			}
		}
	})
}
