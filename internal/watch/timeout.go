package watch

import (
	"fmt"
	"math"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Allowances of the derived --timeout (docs/watch.md, "Timeout"): a real
// layered build takes 20–40 minutes and each node 10–20 minutes (drain,
// image pull, reboot) at maxUnavailable 1 (issue 10, finding 11). Each is
// the upper figure with half again as margin.
const (
	BuildAllowance  = 60 * time.Minute
	WaveAllowance   = 30 * time.Minute
	VerifyAllowance = 15 * time.Minute
)

// AutoTimeout is a timeout the pool's size and maxUnavailable derive.
type AutoTimeout struct {
	Nodes, MaxUnavailable, Waves int
	Total                        time.Duration
}

func (a AutoTimeout) String() string {
	return fmt.Sprintf("%s, derived for %d node(s) at maxUnavailable %d: %s build + %d wave(s) × %s + %s verify; set --timeout to change it",
		a.Total, a.Nodes, a.MaxUnavailable, BuildAllowance, a.Waves, WaveAllowance, VerifyAllowance)
}

// DeriveTimeout: the nodes update maxUnavailable at a time, so the rollout
// takes ceil(nodes / maxUnavailable) waves. maxUnavailable resolves as the
// MCO's node controller does (openshift/machine-config-operator,
// release-4.20, pkg/controller/node/node_controller.go maxUnavailable: a
// percentage of the pool's nodes rounded down, default 1, at least 1).
func DeriveTimeout(pool *mcfgv1.MachineConfigPool, nodes int) AutoTimeout {
	if n := int(pool.Status.MachineCount); n > nodes {
		nodes = n
	}
	nodes = max(nodes, 1)
	mu := 1
	if pool.Spec.MaxUnavailable != nil {
		if v, err := intstr.GetScaledValueFromIntOrPercent(pool.Spec.MaxUnavailable, nodes, false); err == nil {
			mu = v
		}
	}
	mu = max(mu, 1)
	waves := int(math.Ceil(float64(nodes) / float64(mu)))
	return AutoTimeout{Nodes: nodes, MaxUnavailable: mu, Waves: waves,
		Total: BuildAllowance + time.Duration(waves)*WaveAllowance + VerifyAllowance}
}
