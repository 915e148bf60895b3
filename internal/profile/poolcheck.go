package profile

import (
	"fmt"
	"slices"
	"strings"
)

// PoolMachineConfig is what one of a pool's MachineConfigs says that decides
// whether a plan can layer that pool.
type PoolMachineConfig struct {
	Name       string
	KernelType string // "", "default", "realtime", "64k-pages"
	Extensions []string
}

// ExtensionIPsec is the RHCOS extension OVN IPsec needs.
const ExtensionIPsec = "ipsec"

// PoolConflicts says why the plan must not layer a pool with these
// MachineConfigs (empty: none), naming the MachineConfig and the value:
//   - kernel-devel with a non-default kernelType: MCO refuses the
//     combination and the pool degrades (machine-config-operator
//     pkg/controller/common/helpers.go, "installing kernel-devel extension is
//     not supported with kernelType").
//   - the ipsec extension: OVN IPsec drives the host's Open vSwitch, which
//     mosc replaces with doca-openvswitch; no IPsec counterpart of it is
//     known (no doca-openvswitch-ipsec in the DOCA docs or repos we read),
//     and from MCO release-4.23 (commit 098552cd) the extension also
//     installs openvswitch3.5-ipsec, which the stock-OVS removal glob
//     matches: the build would remove it and IPsec would stop, silently.
func PoolConflicts(p *Plan, pool string, mcs []PoolMachineConfig) []string {
	var out []string
	kernelDevel := slices.Contains(p.Extensions, ExtensionKernelDevel)
	for _, mc := range mcs {
		if kernelDevel && mc.KernelType != "" && mc.KernelType != "default" {
			out = append(out, fmt.Sprintf("MachineConfig %s sets kernelType %s on pool %s: MCO refuses the kernel-devel extension with a non-default kernel, and %s builds kernel modules (it needs kernel-devel); use the ovs variant (NIC drivers from the NVIDIA Network Operator) or the default kernel",
				mc.Name, mc.KernelType, pool, stackNames(p)))
		}
		if slices.Contains(mc.Extensions, ExtensionIPsec) {
			out = append(out, fmt.Sprintf("MachineConfig %s enables the ipsec extension on pool %s (OVN IPsec): mosc replaces the host's Open vSwitch with doca-openvswitch, which has no IPsec counterpart, and the removal glob %s matches openvswitch3.5-ipsec, which the extension installs from MCO 4.23; layering this pool would stop IPsec without a word, so mosc refuses",
				mc.Name, pool, p.OpenShift.StockOVSGlob))
		}
	}
	return out
}

func stackNames(p *Plan) string {
	var names []string
	for _, s := range p.Stacks {
		n := s.Name
		if s.Variant != "" {
			n += ":" + s.Variant
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}
