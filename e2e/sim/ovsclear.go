package sim

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// clearOVS plays `ovs-vsctl --no-wait remove Open_vSwitch . other_config
// KEY...` on the node (the clear-ovs check pod, internal/node/clear.go).
// The simulated database holds doca-init (AnnotationSimDocaInit) besides
// the stock keys; removing a key that is not there is no error, as in
// ovs-vsctl ("remove" of an absent map key changes nothing: openvswitch/ovs,
// branch-3.5, lib/db-ctl-base.c cmd_remove, which deletes only keys it
// finds). The Open
// vSwitch database survives reboots (it lives in /etc/openvswitch/conf.db),
// so a node reverted to the stock image still has doca-init until this.
func (s *Simulator) clearOVS(ctx context.Context, nd *corev1.Node, keys []string) (string, int, error) {
	if len(keys) == 0 {
		return "ovs-vsctl: 'remove' command requires at least 4 arguments\n", 1, nil
	}
	if slices.Contains(keys, "doca-init") && nd.Annotations[AnnotationSimDocaInit] != "" {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, AnnotationSimDocaInit)
		patched, err := s.c.Kube.CoreV1().Nodes().Patch(ctx, nd.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			return "", 0, fmt.Errorf("node %s: clear doca-init: %w", nd.Name, err)
		}
		s.wroteNode(patched)
		s.opts.Logf("sim: node %s other_config:doca-init removed", nd.Name)
	}
	return "", 0, nil
}
