package verify

import (
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
)

// healthy is a DPU node of the walkthrough with offload on and working.
func healthy() *node.Result {
	return &node.Result{
		Node:            "n1",
		Packages:        map[string]node.Package{"doca-openvswitch": {Name: "doca-openvswitch", Installed: true, NVRAs: []string{"doca-openvswitch-3.3.0040-1.el9.x86_64"}}},
		OVSVersion:      "3.3.0040",
		DocaVersion:     "3.3.0109",
		DocaInitialized: true, DPDKInitialized: true, DPDKVersion: "DPDK 25.11.0+doca2601",
		DatapathTypes: []string{"doca", "netdev", "system"},
		OtherConfig:   map[string]string{"doca-init": "true", "hw-offload": "true"},
		LDD:           &node.LDD{Binary: "/usr/sbin/ovs-vswitchd", Resolved: 96, Dirs: []string{"/lib64", "/usr/lib/opt/mellanox/dpdk/lib64"}},
		Bridges:       []node.Bridge{{Name: "br-ex", DatapathType: "netdev"}, {Name: "br-int", DatapathType: "netdev"}},
		Eswitches:     []node.Eswitch{{Dev: "pci/0000:03:00.0", Mode: "switchdev", InlineMode: "none", EncapMode: "basic"}},
		Flows:         &node.FlowDump{Flows: 4, Offloaded: 3},
	}
}

func expectOn() Expect {
	return Expect{Verify: node.DefaultVerify, HWOffload: true, Stacks: []profile.StackInfo{{Name: "doca-3.3", Version: "3.3.0"}}}
}

func status(cs []Check, id string) (Status, string) {
	for _, c := range cs {
		if c.ID == id {
			return c.Status, c.Message + " → " + c.Remedy
		}
	}
	return "", "(no check " + id + ")"
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *node.Result, e *Expect) *node.FlowDump
		id     string
		want   Status
		text   string // in message or remedy
	}{
		{"healthy", nil, IDOffloadFlows, Pass, "3 of 4 datapath flows offloaded (75%)"},
		{"offload off", func(r *node.Result, _ *Expect) *node.FlowDump { delete(r.OtherConfig, "hw-offload"); return nil }, IDHWOffload, Fail, "hw-offload is off"},
		{"offload on, not planned", func(_ *node.Result, e *Expect) *node.FlowDump { e.HWOffload = false; return nil }, IDHWOffload, Warn, "plan has it off"},
		{"offload off, as planned", func(r *node.Result, e *Expect) *node.FlowDump {
			e.HWOffload = false
			delete(r.OtherConfig, "hw-offload")
			return nil
		}, IDHWOffload, Pass, "as planned"},
		{"eswitch legacy", func(r *node.Result, _ *Expect) *node.FlowDump { r.Eswitches[0].Mode = "legacy"; return nil }, IDEswitch, Fail, "switchdev not enabled"},
		{"eswitch not needed", func(r *node.Result, e *Expect) *node.FlowDump {
			e.HWOffload = false
			r.Eswitches[0].Mode = "legacy"
			return nil
		}, IDEswitch, Skip, "legacy"},
		{"no eswitch", func(r *node.Result, _ *Expect) *node.FlowDump { r.Eswitches = nil; return nil }, IDEswitch, Warn, "no NVIDIA"},
		{"zero offloaded flows", func(r *node.Result, _ *Expect) *node.FlowDump { r.Flows.Offloaded = 0; return nil }, IDOffloadFlows, Fail, "NAT"},
		{"no flows", func(r *node.Result, _ *Expect) *node.FlowDump { r.Flows = &node.FlowDump{}; return nil }, IDOffloadFlows, Warn, "--throughput"},
		{"traffic offloaded", func(*node.Result, *Expect) *node.FlowDump { return &node.FlowDump{Flows: 12, Offloaded: 11} }, IDOffloadFlows, Pass, "+8 offloaded flows"},
		{"traffic not offloaded", func(*node.Result, *Expect) *node.FlowDump { return &node.FlowDump{Flows: 12, Offloaded: 3} }, IDOffloadFlows, Fail, "added no offloaded flow"},
		{"library missing", func(r *node.Result, _ *Expect) *node.FlowDump {
			r.LDD.Missing = []string{"libdoca_flow.so.2"}
			return nil
		}, IDLibraries, Fail, "libdoca_flow.so.2"},
		{"libraries", nil, IDLibraries, Pass, "96 libraries of /usr/sbin/ovs-vswitchd resolve"},
		{"old doca", func(r *node.Result, _ *Expect) *node.FlowDump {
			r.Packages["doca-openvswitch"] = node.Package{Name: "doca-openvswitch", Installed: true, NVRAs: []string{"doca-openvswitch-2.9.1-1.el9.x86_64"}}
			return nil
		}, IDDocaVersion, Fail, "does not belong to the plan's stack doca-3.3 (3.3.0)"},
		{"doca version", nil, IDDocaVersion, Pass, "3.3.0040 matches stack doca-3.3"},
		{"kernel bridge", func(r *node.Result, _ *Expect) *node.FlowDump { r.Bridges[1].DatapathType = ""; return nil }, IDDatapath, Warn, "br-int on the kernel datapath"},
		{"no doca datapath", func(r *node.Result, _ *Expect) *node.FlowDump {
			r.DatapathTypes = []string{"netdev", "system"}
			return nil
		}, IDDatapath, Fail, "lacks doca"},
		{"doca not initialized", func(r *node.Result, _ *Expect) *node.FlowDump {
			r.DocaInitialized = false
			delete(r.OtherConfig, "doca-init")
			return nil
		}, IDDocaInitialized, Fail, "--enable-doca-init"},
		{"dpdk not initialized", func(r *node.Result, _ *Expect) *node.FlowDump { r.DPDKInitialized = false; return nil }, IDDPDKInitialized, Fail, "hugepages"},
		{"stock node", func(r *node.Result, _ *Expect) *node.FlowDump {
			r.Packages = map[string]node.Package{"doca-openvswitch": {Name: "doca-openvswitch"}}
			r.StockPresent = []string{"openvswitch3.5-3.5.0-19.el9fdp.x86_64"}
			r.OVSError = "ovs-vsctl exited 1: no doca_version column"
			return nil
		}, IDPackages, Fail, "doca-openvswitch is not installed; stock package still installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, e := healthy(), expectOn()
			var during *node.FlowDump
			if tt.change != nil {
				during = tt.change(r, &e)
			}
			cs := Evaluate(r, e, during)
			st, text := status(cs, tt.id)
			if st != tt.want || !strings.Contains(text, tt.text) {
				t.Errorf("%s = %s %q, want %s containing %q", tt.id, st, text, tt.want, tt.text)
			}
			if len(cs) != 10 {
				t.Errorf("%d checks, want 10: %+v", len(cs), cs)
			}
			for _, c := range cs {
				if (c.Status == Fail || c.Status == Warn) && c.Remedy == "" {
					t.Errorf("%s %s without a remedy: %s", c.ID, c.Status, c.Message)
				}
			}
		})
	}
}
