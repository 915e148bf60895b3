package watch

import (
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDeriveTimeout(t *testing.T) {
	pool := func(n int32, mu *intstr.IntOrString) *mcfgv1.MachineConfigPool {
		p := &mcfgv1.MachineConfigPool{}
		p.Status.MachineCount = n
		p.Spec.MaxUnavailable = mu
		return p
	}
	i := func(v int) *intstr.IntOrString { x := intstr.FromInt32(int32(v)); return &x }
	pct := func(v string) *intstr.IntOrString { x := intstr.FromString(v); return &x }
	for _, tt := range []struct {
		name   string
		pool   *mcfgv1.MachineConfigPool
		mu     int
		waves  int
		budget time.Duration
	}{
		// The case: 3 workers one at a time need up to 40 + 3×20
		// minutes; the old 90-minute default was shorter than that.
		{"3 nodes, default maxUnavailable 1", pool(3, nil), 1, 3, 165 * time.Minute},
		{"SNO", pool(1, nil), 1, 1, 105 * time.Minute},
		{"1000 nodes at 10%", pool(1000, pct("10%")), 100, 10, 375 * time.Minute},
		{"5% of 10 rounds down to 0, then 1", pool(10, pct("5%")), 1, 10, 375 * time.Minute},
		{"maxUnavailable 2 of 5", pool(5, i(2)), 2, 3, 165 * time.Minute},
		{"empty pool", pool(0, nil), 1, 1, 105 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := DeriveTimeout(tt.pool, 0)
			if got.MaxUnavailable != tt.mu || got.Waves != tt.waves || got.Total != tt.budget {
				t.Errorf("DeriveTimeout = %+v; want maxUnavailable %d, %d waves, %s", got, tt.mu, tt.waves, tt.budget)
			}
		})
	}
	// Any real rollout fits: 40-minute build, 20 minutes per wave.
	for _, n := range []int32{1, 2, 3, 10, 100, 1000} {
		at := DeriveTimeout(pool(n, nil), 0)
		if worst := 40*time.Minute + time.Duration(at.Waves)*20*time.Minute; at.Total <= worst {
			t.Errorf("%d nodes: %s is not above the slow real rollout %s", n, at.Total, worst)
		}
	}
}

func TestAutoTimeoutMessage(t *testing.T) {
	at := DeriveTimeout(&mcfgv1.MachineConfigPool{}, 2)
	te := &TimeoutError{After: at.Total, Derived: at.String(), Stuck: "rollout: 1/2 updated"}
	want := "timed out after 2h15m0s (2h15m0s, derived for 2 node(s) at maxUnavailable 1: 1h0m0s build + 2 wave(s) × 30m0s + 15m0s verify; set --timeout to change it): rollout: 1/2 updated"
	if te.Error() != want {
		t.Errorf("message:\n%s\nwant\n%s", te.Error(), want)
	}
}
