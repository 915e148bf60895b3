// Package verify answers whether OVS-DOCA works on a pool's nodes — not only
// that the package is installed, but that traffic is offloaded: per node
// configuration checks, offloaded datapath flows, and with a throughput test
// iperf3 between two nodes (mosc verify, docs/verify.md).
package verify

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/report"
)

// Status of a check, as gate and build report it (internal/report).
type Status = report.Status

const (
	Pass = report.Pass
	Warn = report.Warn
	Fail = report.Fail
	Skip = report.Skip
)

// Check ids, stable for pipelines (JSON and JUnit use them).
const (
	IDCheckPod        = "check-pod"
	IDPackages        = "packages"
	IDOVS             = "ovs"
	IDDocaInitialized = "doca-initialized"
	IDDPDKInitialized = "dpdk-initialized"
	IDHWOffload       = "hw-offload"
	IDDatapath        = "datapath"
	IDDocaVersion     = "doca-version"
	IDEswitch         = "eswitch"
	IDLibraries       = "libraries"
	IDOffloadFlows    = "offload-flows"
	IDThroughput      = "throughput"
	IDThroughputHost  = "throughput-host"
)

// Check is one finding.
type Check = report.Check

// Expect is what the plan says a working node looks like.
type Expect struct {
	Verify profile.VerifyPlan
	// HWOffload: other_config:hw-offload=true is expected (plan Node.HWOffload:
	// on for rhel9-bluefield, as the site chose for hosts).
	HWOffload bool
	// Stacks are the plan's stacks (name, DOCA version).
	Stacks []profile.StackInfo
}

// ExpectFromPlan reads the expectations from a plan.
func ExpectFromPlan(p *profile.Plan) Expect {
	return Expect{Verify: p.Verify, HWOffload: p.Node.HWOffload, Stacks: p.Stacks}
}

const (
	remedyDocaInit = "mosc watch --pool POOL --enable-doca-init sets other_config:doca-init=true (one node at a time); the stack's doca-init MachineConfig keeps it across reboots"
	remedyOffload  = "set spec.node.hwOffload: true in the site file and run mosc apply (the stack's MachineConfig sets other_config:hw-offload=true), or on the node: ovs-vsctl set Open_vSwitch . other_config:hw-offload=true && systemctl restart openvswitch"
	remedyEswitch  = "switchdev not enabled: set eSwitchMode: switchdev in the SR-IOV Network Operator's SriovNetworkNodePolicy, or in the NVIDIA Network Operator's configuration; by hand: devlink dev eswitch set DEV mode switchdev (with the VFs unbound)"
	remedyFlows    = "flows not offloaded: see the OVS-DOCA offload limits (NAT and some ACL/conntrack matches stay in software); ovs-appctl dpctl/dump-flows -m on the node shows dp:ovs for each software flow, and ovs-vswitchd's log says why an offload was refused"
)

// Evaluate judges one node's inspection. before is the node's flow dump
// before any traffic test (r.Flows); during, when not nil, is the dump taken
// while iperf3 ran through the node.
func Evaluate(r *node.Result, e Expect, during *node.FlowDump) []Check {
	var out []Check
	add := func(c Check) { out = append(out, c) }
	problems := node.Verify(r, e.Verify)
	has := func(kind string) []string {
		var m []string
		for _, p := range problems {
			if p.Check == kind {
				m = append(m, p.Message)
			}
		}
		return m
	}

	// packages
	if m := append(has("package"), has("stock-package")...); len(m) > 0 {
		add(Check{ID: IDPackages, Status: Fail, Message: strings.Join(m, "; "),
			Remedy: "the node does not run the layered image: mosc status --pool POOL shows its image; mosc watch follows the rollout"})
	} else {
		var nvras []string
		for _, n := range e.Verify.PackagesPresent {
			nvras = append(nvras, r.Packages[n].NVRAs...)
		}
		add(Check{ID: IDPackages, Status: Pass, Message: fmt.Sprintf("%s installed; no stock package matches %s", strings.Join(nvras, ", "), strings.Join(e.Verify.PackagesAbsent, ", "))})
	}
	add(librariesCheck(r))

	if r.OVSError != "" {
		add(Check{ID: IDOVS, Status: Fail, Message: r.OVSError, Remedy: "ovs-vsctl does not answer with OVS-DOCA's columns: openvswitch is stopped or the node runs stock OVS"})
		for _, id := range []string{IDDocaInitialized, IDDPDKInitialized, IDHWOffload, IDDatapath, IDDocaVersion, IDEswitch, IDOffloadFlows} {
			add(Check{ID: id, Status: Skip, Message: "ovs-vsctl failed (see ovs)"})
		}
		return out
	}
	add(Check{ID: IDOVS, Status: Pass, Message: fmt.Sprintf("ovs-vsctl answers: ovs_version %s, doca_version %s", r.OVSVersion, r.DocaVersion)})

	// doca_initialized / dpdk_initialized
	if e.Verify.DocaInitialized {
		if r.DocaInitialized {
			add(Check{ID: IDDocaInitialized, Status: Pass, Message: fmt.Sprintf("doca_initialized=true (DOCA %s)", r.DocaVersion)})
		} else {
			msg := strings.Join(has("doca-initialized"), "; ")
			add(Check{ID: IDDocaInitialized, Status: Fail, Message: msg, Remedy: remedyDocaInit})
		}
		if r.DPDKInitialized {
			add(Check{ID: IDDPDKInitialized, Status: Pass, Message: fmt.Sprintf("dpdk_initialized=true (%s)", r.DPDKVersion)})
		} else {
			add(Check{ID: IDDPDKInitialized, Status: Fail, Message: "dpdk_initialized is false: OVS-DOCA did not start its DPDK layer",
				Remedy: "check the node's hugepages (spec.node.hugepages) and ovs-vswitchd's log (journalctl -u ovs-vswitchd), then restart openvswitch"})
		}
	} else {
		add(Check{ID: IDDocaInitialized, Status: Skip, Message: fmt.Sprintf("the plan does not expect DOCA initialized (doca_initialized=%t)", r.DocaInitialized)})
		add(Check{ID: IDDPDKInitialized, Status: Skip, Message: fmt.Sprintf("the plan does not expect DOCA initialized (dpdk_initialized=%t)", r.DPDKInitialized)})
	}

	// hw-offload
	on := r.OtherConfig["hw-offload"] == "true"
	switch {
	case e.HWOffload && on:
		add(Check{ID: IDHWOffload, Status: Pass, Message: "other_config:hw-offload=true, as planned"})
	case e.HWOffload:
		add(Check{ID: IDHWOffload, Status: Fail, Message: fmt.Sprintf("hw-offload is off (other_config:hw-offload=%q) but the plan expects it on", r.OtherConfig["hw-offload"]), Remedy: remedyOffload})
	case on:
		add(Check{ID: IDHWOffload, Status: Warn, Message: "other_config:hw-offload=true although the plan has it off (spec.node.hwOffload)",
			Remedy: "set spec.node.hwOffload: true if the site wants offload, so mosc's plan and checks agree; otherwise remove the setting on the node"})
	default:
		add(Check{ID: IDHWOffload, Status: Pass, Message: "hw-offload is off, as planned (spec.node.hwOffload: false)"})
	}

	// datapath types and the bridges' datapaths
	add(datapathCheck(r, e))
	add(versionCheck(r, e))
	add(eswitchCheck(r, e))
	add(flowsCheck(r, e, during))
	return out
}

func librariesCheck(r *node.Result) Check {
	c := Check{ID: IDLibraries}
	switch {
	case r.LDD == nil:
		c.Status, c.Message = Skip, "the check pod did not report ovs-vswitchd's libraries"
	case len(node.LibraryProblems(r)) > 0:
		c.Status, c.Message = Fail, node.LibraryProblems(r)[0].Message
		c.Remedy = "rebuild with a layer that relocates /opt content into /usr (mosc render/apply from this version; mosc build inspects it), then let the pool roll out"
		c.Details = map[string]any{"missing": r.LDD.Missing}
	default:
		c.Status, c.Message = Pass, fmt.Sprintf("%d libraries of %s resolve (%s)", r.LDD.Resolved, r.LDD.Binary, strings.Join(r.LDD.Dirs, " "))
	}
	return c
}

func datapathCheck(r *node.Result, e Expect) Check {
	c := Check{ID: IDDatapath}
	var bridges []string
	var kernel []string
	for _, b := range r.Bridges {
		dp := b.DatapathType
		if dp == "" {
			dp = "system"
		}
		bridges = append(bridges, b.Name+"="+dp)
		if dp == "system" {
			kernel = append(kernel, b.Name)
		}
	}
	sort.Strings(bridges)
	desc := fmt.Sprintf("datapath_types [%s]; bridges %s", strings.Join(r.DatapathTypes, ", "), strings.Join(bridges, " "))
	if len(bridges) == 0 {
		desc = fmt.Sprintf("datapath_types [%s]; no bridges", strings.Join(r.DatapathTypes, ", "))
	}
	if r.BridgesError != "" {
		desc += "; " + r.BridgesError
	}
	c.Details = map[string]any{"datapathTypes": r.DatapathTypes, "bridges": r.Bridges}
	switch {
	case e.Verify.DatapathType != "" && !slices.Contains(r.DatapathTypes, e.Verify.DatapathType):
		c.Status, c.Message = Fail, fmt.Sprintf("%s: lacks %s", desc, e.Verify.DatapathType)
		c.Remedy = "ovs-vswitchd is not the OVS-DOCA build: check packages and that openvswitch was restarted after the update"
	case e.HWOffload && len(kernel) > 0:
		sort.Strings(kernel)
		c.Status, c.Message = Warn, fmt.Sprintf("%s: %s on the kernel datapath, which OVS-DOCA does not offload", desc, strings.Join(kernel, ", "))
		c.Remedy = "OVS-DOCA offloads netdev bridges: ovs-vsctl set open . external-ids:ovn-bridge-datapath-type=netdev for br-int (ovn-org/ovn-kubernetes docs/features/hardware-offload/ovs-doca.md)"
	default:
		c.Status, c.Message = Pass, desc
	}
	return c
}

// versionCheck compares the installed doca-openvswitch with the plan's stack
// at major.minor: 3.3.0040 belongs to DOCA 3.3.x.
func versionCheck(r *node.Result, e Expect) Check {
	c := Check{ID: IDDocaVersion}
	var installed string
	for _, nvra := range r.Packages["doca-openvswitch"].NVRAs {
		installed = nvraVersion(nvra)
	}
	if installed == "" {
		c.Status, c.Message = Skip, "doca-openvswitch is not installed (see packages)"
		return c
	}
	var want []string
	for _, s := range e.Stacks {
		if s.Version == "" {
			continue
		}
		want = append(want, s.Name+" ("+s.Version+")")
		if majorMinor(s.Version) == majorMinor(installed) {
			c.Status, c.Message = Pass, fmt.Sprintf("doca-openvswitch %s matches stack %s (DOCA %s, ovs_version %s)", installed, s.Name, s.Version, r.OVSVersion)
			return c
		}
	}
	if len(want) == 0 {
		c.Status, c.Message = Skip, fmt.Sprintf("doca-openvswitch %s installed; the plan names no stack version", installed)
		return c
	}
	c.Status = Fail
	c.Message = fmt.Sprintf("doca-openvswitch %s does not belong to the plan's stack %s", installed, strings.Join(want, ", "))
	c.Remedy = "the node runs another layered image than the plan's: mosc status --pool POOL --images, then mosc apply and mosc watch"
	return c
}

func nvraVersion(nvra string) string {
	s := strings.TrimPrefix(nvra, node.NVRAName(nvra)+"-")
	v, _, _ := strings.Cut(s, "-")
	return v
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

func eswitchCheck(r *node.Result, e Expect) Check {
	c := Check{ID: IDEswitch}
	var modes, legacy []string
	for _, es := range r.Eswitches {
		modes = append(modes, es.Dev+" "+es.Mode)
		if es.Mode != "switchdev" {
			legacy = append(legacy, es.Dev+" ("+es.Mode+")")
		}
	}
	if len(r.Eswitches) > 0 {
		c.Details = map[string]any{"eswitches": r.Eswitches}
	}
	switch {
	case !e.HWOffload:
		c.Status = Skip
		c.Message = "hw-offload is not expected: the eswitch mode does not matter"
		if len(modes) > 0 {
			c.Message += " (" + strings.Join(modes, ", ") + ")"
		}
	case len(r.Eswitches) == 0:
		c.Status, c.Message = Warn, "no NVIDIA (mlx5_core) physical function with an eswitch found on the node (devlink)"
		if len(r.EswitchNotes) > 0 {
			c.Message += ": " + strings.Join(r.EswitchNotes, "; ")
		}
		c.Remedy = "offload needs a ConnectX/BlueField port in switchdev mode; check lspci and the mlx5_core driver"
	case len(legacy) > 0:
		c.Status, c.Message = Fail, "eswitch not in switchdev mode: "+strings.Join(legacy, ", ")
		c.Remedy = remedyEswitch
	default:
		c.Status, c.Message = Pass, "switchdev: "+strings.Join(modes, ", ")
	}
	return c
}

func flowsCheck(r *node.Result, e Expect, during *node.FlowDump) Check {
	c := Check{ID: IDOffloadFlows}
	before := r.Flows
	switch {
	case !e.HWOffload:
		c.Status, c.Message = Skip, "hw-offload is not expected: flows stay in software"
		if before != nil {
			c.Message += fmt.Sprintf(" (%d datapath flows, %d offloaded)", before.Flows, before.Offloaded)
		}
		return c
	case r.FlowsError != "":
		c.Status, c.Message, c.Remedy = Fail, r.FlowsError, "ovs-appctl cannot reach ovs-vswitchd: is openvswitch running?"
		return c
	case before == nil:
		c.Status, c.Message = Skip, "the check pod did not report datapath flows"
		return c
	}
	c.Details = map[string]any{"before": before}
	if during != nil {
		c.Details["during"] = during
		delta := during.Offloaded - before.Offloaded
		c.Details["offloadedDelta"] = delta
		if delta <= 0 {
			c.Status = Fail
			c.Message = fmt.Sprintf("the traffic test added no offloaded flow (offloaded %d before, %d during; %d flows during)", before.Offloaded, during.Offloaded, during.Flows)
			c.Remedy = remedyFlows
			return c
		}
		c.Status = Pass
		c.Message = fmt.Sprintf("+%d offloaded flows during the traffic test (%d of %d offloaded, %.0f%%)", delta, during.Offloaded, during.Flows, 100*during.Share())
		return c
	}
	switch {
	case before.Flows == 0:
		c.Status, c.Message = Warn, "no datapath flows on the node now: nothing shows whether traffic is offloaded"
		c.Remedy = "run mosc verify --throughput to send traffic through the node"
	case before.Offloaded == 0:
		c.Status, c.Message = Fail, fmt.Sprintf("none of %d datapath flows is offloaded", before.Flows)
		c.Remedy = remedyFlows
	default:
		c.Status, c.Message = Pass, fmt.Sprintf("%d of %d datapath flows offloaded (%.0f%%)", before.Offloaded, before.Flows, 100*before.Share())
	}
	return c
}
