package node

import (
	"fmt"
	"strconv"
	"strings"
)

// LDD is the reduced `ldd ovs-vswitchd` of SectionLDD.
type LDD struct {
	Binary string `json:"binary"`
	// Missing are the libraries the dynamic linker cannot find ("not found").
	Missing []string `json:"missing,omitempty"`
	// Resolved counts the libraries found; Dirs are where, in order of first use.
	Resolved int      `json:"resolved"`
	Dirs     []string `json:"dirs,omitempty"`
	// Error is ldd's own output when it failed (no such binary, not dynamic).
	Error string `json:"error,omitempty"`
}

// ParseLDD reads SectionLDD. rc is ldd's exit code.
//
// The lines it keeps are glibc ldd's, e.g. (ldd(1), glibc elf/ldd.bash.in and
// rtld's trace output):
//
//	libdoca_flow.so.2 => not found
//	libc.so.6 => /lib64/libc.so.6 (0x00007f4a1c000000)
func ParseLDD(out string, rc int) (*LDD, error) {
	l := &LDD{}
	if rc != 0 {
		l.Error = fmt.Sprintf("ldd exited %d: %s", rc, truncate(out, 200))
		return l, nil
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("ldd section: want the binary, the missing libraries and a resolved line, got %d lines", len(lines))
	}
	l.Binary = strings.TrimSpace(lines[0])
	sawResolved := false
	for i, line := range lines[1:] {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasSuffix(line, "=> not found"):
			name := strings.TrimSpace(strings.TrimSuffix(line, "=> not found"))
			if name == "" || strings.ContainsAny(name, " \t") {
				return nil, fmt.Errorf("ldd section line %d: bad library name in %q", i+2, truncate(line, 80))
			}
			l.Missing = append(l.Missing, name)
		case strings.HasPrefix(line, "resolved "):
			head, dirs, ok := strings.Cut(strings.TrimPrefix(line, "resolved "), ":")
			n, err := strconv.Atoi(head)
			if !ok || err != nil || n < 0 {
				return nil, fmt.Errorf("ldd section line %d: want \"resolved N: DIR...\", got %q", i+2, truncate(line, 80))
			}
			l.Resolved, l.Dirs, sawResolved = n, strings.Fields(dirs), true
		default:
			return nil, fmt.Errorf("ldd section line %d: unexpected %q", i+2, truncate(line, 80))
		}
	}
	if !sawResolved {
		return nil, fmt.Errorf("ldd section: no \"resolved N:\" line (message cut short?)")
	}
	return l, nil
}

// Bridge is one OVS bridge and the datapath it runs on ("" = system, the
// kernel datapath; netdev = userspace, which OVS-DOCA uses).
type Bridge struct {
	Name         string `json:"name"`
	DatapathType string `json:"datapathType"`
}

// ParseBridges reads `ovs-vsctl --format=json --columns=name,datapath_type list Bridge`.
func ParseBridges(out string) ([]Bridge, error) {
	t, err := DecodeOVSTable([]byte(out))
	if err != nil {
		return nil, err
	}
	var bs []Bridge
	for i, row := range t.Rows {
		var b Bridge
		if v, ok := row["name"]; ok {
			if b.Name, err = v.String(); err != nil {
				return nil, fmt.Errorf("Bridge row %d name: %w", i, err)
			}
		}
		if v, ok := row["datapath_type"]; ok {
			if b.DatapathType, err = v.String(); err != nil {
				return nil, fmt.Errorf("Bridge row %d datapath_type: %w", i, err)
			}
		}
		bs = append(bs, b)
	}
	return bs, nil
}

// Eswitch is one `devlink dev eswitch show` answer.
type Eswitch struct {
	Dev        string `json:"dev"`
	Mode       string `json:"mode"`
	InlineMode string `json:"inlineMode,omitempty"`
	EncapMode  string `json:"encapMode,omitempty"`
}

// ParseDevlinkEswitch reads `devlink dev eswitch show DEV` lines as iproute2
// prints them, e.g. (Linux Documentation/networking/devlink/devlink-eswitch-attr.rst):
//
//	pci/0000:08:00.0: mode switchdev inline-mode none encap-mode basic
//
// Error lines (a device without an eswitch: "devlink answers: Operation not
// supported") are returned in errs, not failed on.
func ParseDevlinkEswitch(out string) (es []Eswitch, errs []string, err error) {
	for i, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		dev, rest, ok := strings.Cut(line, ": ")
		if !ok || !strings.Contains(dev, "/") || strings.ContainsAny(dev, " \t") {
			errs = append(errs, truncate(line, 120))
			continue
		}
		f := strings.Fields(rest)
		if len(f)%2 != 0 {
			return nil, nil, fmt.Errorf("devlink line %d: attributes are not name/value pairs: %q", i+1, truncate(line, 120))
		}
		e := Eswitch{Dev: dev}
		for j := 0; j < len(f); j += 2 {
			switch f[j] {
			case "mode":
				e.Mode = f[j+1]
			case "inline-mode":
				e.InlineMode = f[j+1]
			case "encap-mode", "encap":
				e.EncapMode = f[j+1]
			}
		}
		if e.Mode == "" {
			return nil, nil, fmt.Errorf("devlink line %d: no mode in %q", i+1, truncate(line, 120))
		}
		es = append(es, e)
	}
	return es, errs, nil
}

// Flow is one datapath flow of `ovs-appctl dpctl/dump-flows -m`.
type Flow struct {
	UFID    string `json:"ufid,omitempty"`
	Match   string `json:"match"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	Used    string `json:"used,omitempty"`
	// Offloaded is "yes", "partial" or "" (in software).
	Offloaded string `json:"offloaded,omitempty"`
	// DP is the datapath holding the flow: ovs, tc, doca, dpdk.
	DP      string `json:"dp,omitempty"`
	Actions string `json:"actions"`
}

// FlowDump counts a dump.
type FlowDump struct {
	Flows     int `json:"flows"`
	Offloaded int `json:"offloaded"`
	Partial   int `json:"partial,omitempty"`
	// Sample keeps the first offloaded and first software flow, for the report.
	Sample []Flow `json:"sample,omitempty"`
}

// Share is the fraction of flows offloaded (0 with no flows).
func (d *FlowDump) Share() float64 {
	if d == nil || d.Flows == 0 {
		return 0
	}
	return float64(d.Offloaded) / float64(d.Flows)
}

// ParseFlow reads one flow line. Formats, from upstream OVS
// (lib/dpif.c format_dpif_flow: "ufid:..., " with -m, the match, then
// ", packets:N, bytes:N, used:T[, flags:F][, offloaded:yes][, dp:DP], actions:A")
// and captured in ovn-org/ovn-kubernetes docs/features/hardware-offload/:
//
//	ufid:30ae9875-…, skb_priority(0/0),…,tcp(src=0/0,dst=57426), packets:7, bytes:396, used:2.310s, offloaded:yes, dp:tc, actions:ct(zone=15,nat),recirc(0x440)
//	recirc_id(0),in_port(6),eth(…),eth_type(0x0800),ipv4(frag=no), packets:136600676, bytes:206813409172, used:0.170s, actions:4
func ParseFlow(line string) (Flow, error) {
	var f Flow
	s := strings.TrimSpace(line)
	if strings.HasPrefix(s, "ufid:") {
		u, rest, ok := strings.Cut(s, ", ")
		if !ok {
			return f, fmt.Errorf("ufid without a match: %q", truncate(s, 80))
		}
		f.UFID, s = strings.TrimPrefix(u, "ufid:"), rest
	}
	// The match itself never contains ", " (its fields are joined by ","),
	// and actions come last and may contain anything.
	i := strings.Index(s, ", packets:")
	if i < 0 {
		return f, fmt.Errorf("no packets: field in %q", truncate(s, 80))
	}
	f.Match, s = s[:i], s[i+2:]
	a := strings.Index(s, "actions:")
	if a < 0 {
		return f, fmt.Errorf("no actions: field in %q", truncate(s, 80))
	}
	f.Actions = s[a+len("actions:"):]
	for _, kv := range strings.Split(strings.TrimSuffix(strings.TrimSpace(s[:a]), ","), ", ") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), ":")
		if !ok {
			return f, fmt.Errorf("stat %q is not key:value", truncate(kv, 40))
		}
		var err error
		switch k {
		case "packets":
			f.Packets, err = strconv.ParseUint(v, 10, 64)
		case "bytes":
			f.Bytes, err = strconv.ParseUint(v, 10, 64)
		case "used":
			f.Used = v
		case "offloaded":
			f.Offloaded = v
		case "dp":
			f.DP = v
		}
		if err != nil {
			return f, fmt.Errorf("%s: %w", k, err)
		}
	}
	if f.Match == "" {
		return f, fmt.Errorf("empty match in %q", truncate(line, 80))
	}
	return f, nil
}

// ParseDpctl counts the flows of a `dpctl/dump-flows -m` output. The
// userspace datapath prefixes each thread's flows with "flow-dump from ..."
// lines; those are skipped.
func ParseDpctl(out string) (*FlowDump, error) {
	d := &FlowDump{}
	var haveHW, haveSW bool
	for i, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "flow-dump from") {
			continue
		}
		f, err := ParseFlow(line)
		if err != nil {
			return nil, fmt.Errorf("dpctl line %d: %w", i+1, err)
		}
		d.Flows++
		switch f.Offloaded {
		case "yes":
			d.Offloaded++
			if !haveHW {
				d.Sample, haveHW = append(d.Sample, f), true
			}
		case "partial":
			d.Partial++
		default:
			if !haveSW {
				d.Sample, haveSW = append(d.Sample, f), true
			}
		}
	}
	return d, nil
}
