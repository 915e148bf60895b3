package e2e

import (
	"encoding/json"
	"testing"
	"time"
)

// TestGateLegacyPayloads: gates to 4.17 and 4.18 read payloads shaped as
// those releases' are (releasetest.LegacyLabels: coreos-assembler's
// encapsulated node image — RHEL from the 4XY.9Z build id, the kernel from
// ostree.linux, no metalayer, no com.coreos.stream — and a UBI-based
// extensions image whose extensions.json never entered the image). The
// cluster is not read (no kubeconfig): the release checks are the point.
func TestGateLegacyPayloads(t *testing.T) {
	dir := t.TempDir()
	site := gateSite(t, dir, "mosc.yaml", docaRepo(t), "")
	for _, tc := range []struct {
		from, to string
		checks   map[string]string
		msgs     map[string][]string
	}{
		{"4.16.30", "4.17.3", map[string]string{"release-payload": "pass", "target-kernel": "warn", "bundle-diff": "pass"}, map[string][]string{
			"release-payload": {"payload 4.17.3: rhel-coreos is RHEL 9.4 (417.94.202501221327-0), as profile 4.17 says"},
			"target-kernel":   {"target kernel 5.14.0-427.50.1.el9_4.x86_64; the payload's rhel-coreos-extensions has no /usr/share/rpm-ostree/extensions.json, so whether it has kernel-devel-5.14.0-427.50.1.el9_4.x86_64 is unknown"},
		}},
		// 4.17 → 4.18.25: MachineOSConfig v1alpha1 → v1 (bundle-diff fails, as before).
		{"4.17.3", "4.18.25", map[string]string{"release-payload": "pass", "target-kernel": "warn", "bundle-diff": "fail"}, map[string][]string{
			"release-payload": {"payload 4.18.25: rhel-coreos is RHEL 9.4 (418.94.202501221327-0), as profile 4.18 says"},
		}},
	} {
		t.Run(tc.from+" to "+tc.to, func(t *testing.T) {
			ref, regcfg := pushPayload(t, dir, tc.to, "9.4")
			out, stderr, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute, Env: []string{"KUBECONFIG=", "HOME=" + t.TempDir()}},
				"gate", "-f", site, "--openshift", tc.from, "--to", tc.to, "--release-image", ref, "--registry-config", regcfg, "-o", "json")
			var r gateReport
			if err := json.Unmarshal([]byte(out), &r); err != nil || code == 2 {
				t.Fatalf("exit %d: %v\n%s\n%s", code, err, out, stderr)
			}
			expectChecks(t, r, tc.checks, tc.msgs)
			for _, c := range r.Checks {
				if c.ID == "target-kernel" && c.Details["target"] != "5.14.0-427.50.1.el9_4.x86_64" {
					t.Errorf("target-kernel details: %v", c.Details)
				}
			}
		})
	}
}
