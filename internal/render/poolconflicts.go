package render

import (
	"fmt"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
)

// poolConflicts is the offline side of the check apply and gate make
// against the cluster (profile.PoolConflicts, issue 11 findings 4 and 5):
// within the bundle (mosc's output plus whatever MachineConfigs sit next to
// it, e.g. in a GitOps directory), a pool whose MachineConfigs install the
// kernel-devel extension and set a non-default kernelType, or enable the
// ipsec extension on a pool mosc layers. MCO merges every MachineConfig of a
// pool and any non-default kernelType wins (machine-config-operator
// pkg/controller/common/helpers.go MergeMachineConfigs); with kernel-devel
// it refuses the merge and the pool degrades ("installing kernel-devel
// extension is not supported with kernelType"). The finding is placed on
// the kernelType (or extensions) field, so validate PATH names file:line.
func poolConflicts(b *bundle.Bundle) []*Finding {
	type mcInfo struct {
		obj        string
		kernelType string
		extensions []string
	}
	pools := map[string][]mcInfo{}
	layered := map[string]bool{}
	for _, o := range b.Objects {
		u := o.Content
		switch u.GroupVersionKind() {
		case bundle.GVKMachineOSConfig, bundle.GVKMachineOSConfigV1alpha1:
			if pool, _, _ := unstructured.NestedString(u.Object, "spec", "machineConfigPool", "name"); pool != "" {
				layered[pool] = true
			}
		case bundle.GVKMachineConfig:
			pool := u.GetLabels()[LabelMCPRole]
			if pool == "" {
				continue
			}
			kt, _, _ := unstructured.NestedString(u.Object, "spec", "kernelType")
			ext, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "extensions")
			pools[pool] = append(pools[pool], mcInfo{obj: u.GetKind() + "/" + u.GetName(), kernelType: kt, extensions: ext})
		}
	}
	names := make([]string, 0, len(pools))
	for p := range pools {
		names = append(names, p)
	}
	sort.Strings(names)
	var out []*Finding
	for _, pool := range names {
		mcs := pools[pool]
		var devel []string
		for _, mc := range mcs {
			if slices.Contains(mc.extensions, profile.ExtensionKernelDevel) {
				devel = append(devel, mc.obj)
			}
		}
		for _, mc := range mcs {
			if len(devel) > 0 && mc.kernelType != "" && mc.kernelType != "default" {
				out = append(out, &Finding{Object: mc.obj, Field: "spec.kernelType", Setting: SettingPool,
					Message: fmt.Sprintf("kernelType %s on pool %s, and %s installs the %s extension: MCO refuses kernel-devel with a non-default kernel and the pool degrades; a stack variant that builds kernel modules needs the default kernel, so use the ovs variant (NIC drivers from the NVIDIA Network Operator) or drop the kernelType",
						mc.kernelType, pool, joinObjects(devel), profile.ExtensionKernelDevel)})
			}
			if layered[pool] && slices.Contains(mc.extensions, profile.ExtensionIPsec) {
				out = append(out, &Finding{Object: mc.obj, Field: "spec.extensions", Setting: SettingPool,
					Message: fmt.Sprintf("the ipsec extension on pool %s, which a MachineOSConfig here layers with doca-openvswitch: OVN IPsec needs the host's openvswitch3.5-ipsec, which the layer's stock OVS removal takes away; mosc refuses this pool (see mosc apply)", pool)})
			}
		}
	}
	return out
}

func joinObjects(objs []string) string {
	if len(objs) == 1 {
		return objs[0]
	}
	return fmt.Sprintf("%s (and %d more)", objs[0], len(objs)-1)
}
