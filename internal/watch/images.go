package watch

import (
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
)

// MOSBState is the state of one MachineOSBuild (its True condition, a final
// one winning), with its image: what `mosc status --images` lists for every
// build, not only the one the rollout follows.
func MOSBState(mosb *mcfgv1.MachineOSBuild) BuildStatus { return buildState(mosb) }

// PoolNodes are the snapshot pool's nodes, resolved as the MCO does (a node
// matched by master and another pool is master's, by a custom pool and
// worker the custom pool's).
func PoolNodes(s Snapshot) []*corev1.Node {
	return poolNodes(s.Nodes, s.Pools, findPool(s.Pools, s.Pool))
}
