package gate

import (
	"context"
	"strings"
	"testing"

	mcfgfake "github.com/openshift/client-go/machineconfiguration/clientset/versioned/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
)

func TestEUSPath(t *testing.T) {
	for _, tt := range []struct {
		cur, tgt, via string
		ok            bool
	}{
		{"4.18.25", "4.20.8", "4.19", true},
		{"4.18", "4.20", "4.19", true},
		{"4.20.15", "4.22.0-ec.3", "4.21", true},
		{"4.19.3", "4.21.11", "", false}, // odd minors are not EUS releases
		{"4.18.25", "4.19.15", "", false},
		{"4.18.25", "4.22.1", "", false},
		{"4.18.25", "5.0.1", "", false},
		{"x", "4.20", "", false},
	} {
		via, ok := EUSPath(tt.cur, tt.tgt)
		if via != tt.via || ok != tt.ok {
			t.Errorf("EUSPath(%s, %s) = %q %v, want %q %v", tt.cur, tt.tgt, via, ok, tt.via, tt.ok)
		}
	}
}

func TestValidateVia(t *testing.T) {
	for _, tt := range []struct{ cur, via, tgt, err string }{
		{"4.18.25", "4.19", "4.20.8", ""},
		{"4.18.25", "4.19.15", "4.20", ""},
		{"4.19.3", "4.20.1", "4.21.11", ""}, // not EUS: allowed, upgrade-path warns
		{"4.18.25", "4.20", "4.20.8", "4.20 is not the minor between 4.18.25 and 4.20.8"},
		{"4.18.25", "4.19", "4.21.1", "4.19 is not the minor between"},
		{"4.18.25", "4.19", "4.19.30", "is not the minor between"},
		{"4.18.25", "four", "4.20", `"four" is not a release`},
	} {
		err := ValidateVia(tt.cur, tt.via, tt.tgt)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ValidateVia(%s, %s, %s) = %v, want %q", tt.cur, tt.via, tt.tgt, err, tt.err)
		}
	}
}

// An EUS-to-EUS run gates both hops: the first hop's checks carry
// @4.19, every per-hop check says its hop, upgrade-path comes first, and a
// paused worker pool is the procedure, not a warning.
func TestRunTwoHops(t *testing.T) {
	cur, via, tgt := plan(t, "4.18"), plan(t, "4.19"), plan(t, "4.20")
	r := Run(context.Background(), Options{Catalog: catalog(t), Current: cur, CurrentVersion: "4.18.25", Target: tgt, TargetVersion: "4.20.8",
		Via: &Hop{Version: "4.19.15", Plan: via}, Offline: true, Repo: noNetwork})
	if r.Via != "4.19.15" || r.Checks[0].ID != IDUpgradePath || r.Checks[0].Status != Pass {
		t.Fatalf("via %q, first check %+v", r.Via, r.Checks[0])
	}
	ids := map[string]Check{}
	for _, c := range r.Checks {
		ids[c.ID] = c
	}
	for _, id := range []string{IDTargetProfile, IDStackSupport, IDBundleDiff, IDReleasePayload, IDTargetKernel, IDInstallResolve, IDBasePull} {
		first, ok := ids[id+"@4.19"]
		if !ok {
			t.Errorf("no %s@4.19", id)
			continue
		}
		if first.Details["hop"] != "4.18.25 → 4.19.15" {
			t.Errorf("%s@4.19 hop %v", id, first.Details["hop"])
		}
		if ids[id].Details["hop"] != "4.19.15 → 4.20.8" {
			t.Errorf("%s hop %v", id, ids[id].Details["hop"])
		}
	}
	if c := ids[IDTargetProfile]; c.Status != Pass || c.Details["current"] != "4.19.15" {
		t.Errorf("the last hop's target-profile: %+v", c)
	}
	// 4.18 (RHEL 9.4) → 4.19 (RHEL 9.6) changes the Containerfile; 4.19 → 4.20 does not.
	if ids[IDBundleDiff+"@4.19"].Status != Warn || ids[IDBundleDiff].Status != Pass {
		t.Errorf("bundle-diff@4.19 %s, bundle-diff %s", ids[IDBundleDiff+"@4.19"].Status, ids[IDBundleDiff].Status)
	}
	var sum Summary
	for _, c := range r.Checks {
		sum.Count(c.Status)
	}
	if sum != r.Summary || len(r.Checks) != 23 {
		t.Errorf("summary %+v, counted %+v over %d checks", r.Summary, sum, len(r.Checks))
	}
	for _, m := range []string{"EUS-to-EUS update 4.18.25 → 4.19.15 → 4.20.8", "a failed 4.19 build leaves pool worker's conditions as they were",
		"a failed 4.20 build makes pool worker Degraded (ImageBuildDegraded)"} {
		if !strings.Contains(r.Checks[0].Message, m) {
			t.Errorf("upgrade-path lacks %q:\n%s", m, r.Checks[0].Message)
		}
	}

	// 4.20 → 4.22 through 4.21: a failed 4.21 build blocks the second hop.
	r = Run(context.Background(), Options{Catalog: catalog(t), Current: plan(t, "4.20"), CurrentVersion: "4.20.15", Target: plan(t, "4.22"), TargetVersion: "4.22.1",
		Via: &Hop{Version: "4.21.11", Plan: plan(t, "4.21")}, Offline: true, Repo: noNetwork})
	if !strings.Contains(r.Checks[0].Message, "a failed 4.21 build makes pool worker Degraded (ImageBuildDegraded) and the MCO reports Upgradeable=False: the cluster-version operator refuses the hop to 4.22") {
		t.Errorf("upgrade-path 4.20 → 4.22:\n%s", r.Checks[0].Message)
	}

	// Not an EUS path: upgrade-path warns; a paused pool keeps its warning.
	paused := pool(map[string]string{"Updated": "True"}, 2, 2, 0)
	paused.Spec.Paused = true
	cl := &Cluster{Kube: kubetest.Kube(kubefake.NewSimpleClientset()), MachineConfig: kubetest.MachineConfig(mcfgfake.NewSimpleClientset(paused))}
	r = Run(context.Background(), Options{Catalog: catalog(t), Current: plan(t, "4.19"), CurrentVersion: "4.19.3", Target: plan(t, "4.21"), TargetVersion: "4.21.11",
		Via: &Hop{Version: "4.20.15", Plan: plan(t, "4.20")}, Cluster: cl, Repo: noNetwork, MinTokenDays: 14})
	for _, c := range r.Checks {
		switch c.ID {
		case IDUpgradePath:
			if c.Status != Warn || !strings.Contains(c.Message, "is not an EUS-to-EUS path") {
				t.Errorf("upgrade-path: %s %s", c.Status, c.Message)
			}
		case IDPoolHealth:
			if c.Status != Warn {
				t.Errorf("pool-health off an EUS path: %s %s", c.Status, c.Message)
			}
		}
	}
}

// On an EUS path a paused pool passes and says why; an unpaused one is
// told to pause.
func TestEUSPoolHealth(t *testing.T) {
	o := Options{Current: plan(t, "4.18")}
	r := &Report{From: "4.18.25", Via: "4.19.15", To: "4.20.8"}
	paused := pool(map[string]string{"Updated": "True"}, 3, 3, 0)
	paused.Spec.Paused = true
	c := CheckPoolHealth("worker", paused, nil)
	eusPoolHealth(o, r, &c)
	if c.Status != Pass || !strings.Contains(c.Message, "pool worker is paused, as the EUS-to-EUS update 4.18.25 → 4.19.15 → 4.20.8 has it") ||
		!strings.Contains(c.Message, "3/3 machines updated, 0 degraded") || c.Details["eus"] != true {
		t.Errorf("paused: %s %s", c.Status, c.Message)
	}
	c = CheckPoolHealth("worker", pool(map[string]string{"Updated": "True"}, 3, 3, 0), nil)
	eusPoolHealth(o, r, &c)
	if c.Status != Pass || !strings.Contains(c.Message, "pause it before oc adm upgrade") {
		t.Errorf("unpaused: %s %s", c.Status, c.Message)
	}
	deg := pool(map[string]string{"Degraded": "True", "NodeDegraded": "True"}, 1, 3, 1)
	deg.Spec.Paused = true
	c = CheckPoolHealth("worker", deg, nil)
	eusPoolHealth(o, r, &c)
	if c.Status != Fail {
		t.Errorf("a degraded paused pool must still fail: %s %s", c.Status, c.Message)
	}
}
