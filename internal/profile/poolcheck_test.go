package profile

import (
	"strings"
	"testing"
)

func TestPoolConflicts(t *testing.T) {
	full := &Plan{OpenShift: ReleaseInfo{StockOVSGlob: "openvswitch[0-9]*"}, Stacks: []StackInfo{{Name: "doca-3.3", Variant: "full"}}, Extensions: []string{ExtensionKernelDevel}}
	ovs := &Plan{OpenShift: ReleaseInfo{StockOVSGlob: "openvswitch[0-9]*"}, Stacks: []StackInfo{{Name: "doca-3.3", Variant: "ovs"}}}
	tests := []struct {
		name string
		plan *Plan
		mcs  []PoolMachineConfig
		want []string // substrings, one per conflict; nil: none
	}{
		{"default kernel", full, []PoolMachineConfig{{Name: "00-worker", KernelType: "default"}, {Name: "99-x"}}, nil},
		{"realtime with kernel-devel", full, []PoolMachineConfig{{Name: "99-worker-rt", KernelType: "realtime"}},
			[]string{"MachineConfig 99-worker-rt sets kernelType realtime on pool worker: MCO refuses the kernel-devel extension with a non-default kernel, and doca-3.3:full builds kernel modules"}},
		{"64k-pages with kernel-devel", full, []PoolMachineConfig{{Name: "99-64k", KernelType: "64k-pages"}}, []string{"kernelType 64k-pages"}},
		{"realtime without kernel-devel", ovs, []PoolMachineConfig{{Name: "99-worker-rt", KernelType: "realtime"}}, nil},
		{"ipsec", ovs, []PoolMachineConfig{{Name: "80-ipsec-worker-extensions", Extensions: []string{"ipsec"}}},
			[]string{"MachineConfig 80-ipsec-worker-extensions enables the ipsec extension on pool worker (OVN IPsec)", "openvswitch3.5-ipsec", "openvswitch[0-9]*"}},
		{"both", full, []PoolMachineConfig{{Name: "a", KernelType: "realtime", Extensions: []string{"usbguard", "ipsec"}}}, []string{"kernelType realtime", "ipsec extension"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PoolConflicts(tt.plan, "worker", tt.mcs)
			if tt.want == nil {
				if len(got) != 0 {
					t.Errorf("got %q, want none", got)
				}
				return
			}
			all := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
		})
	}
}
