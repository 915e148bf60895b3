package node

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// Result is what a check pod found on one node.
type Result struct {
	Node string `json:"node"`
	// Action is the pod's action (ActionVerify or ActionEnableDocaInit).
	Action string `json:"action,omitempty"`

	// Packages maps each queried package name to what rpm reported.
	Packages map[string]Package `json:"packages"`
	// StockPresent lists installed NVRAs matching a must-be-absent glob.
	StockPresent []string `json:"stockPresent,omitempty"`

	OVSVersion      string            `json:"ovsVersion"`
	DocaVersion     string            `json:"docaVersion"`
	DocaInitialized bool              `json:"docaInitialized"`
	DPDKInitialized bool              `json:"dpdkInitialized"`
	DPDKVersion     string            `json:"dpdkVersion"`
	DatapathTypes   []string          `json:"datapathTypes"`
	IfaceTypes      []string          `json:"ifaceTypes"`
	OtherConfig     map[string]string `json:"otherConfig"`

	// OVSError is set when ovs-vsctl failed (stock OVS has no doca_* columns;
	// ovsdb-server down); the OVS fields are then empty.
	OVSError string `json:"ovsError,omitempty"`
	// EnableError is set when enabling doca-init failed on the node.
	EnableError string `json:"enableError,omitempty"`

	// LDD is what the dynamic linker makes of ovs-vswitchd (nil: not reported).
	LDD *LDD `json:"ldd,omitempty"`
	// ActionInspect only: the bridges, the NICs' eswitches and the datapath
	// flows; each *Error is set when that command failed on the node.
	Bridges      []Bridge  `json:"bridges,omitempty"`
	BridgesError string    `json:"bridgesError,omitempty"`
	Eswitches    []Eswitch `json:"eswitches,omitempty"`
	// EswitchNotes are devlink's complaints about devices without an eswitch.
	EswitchNotes []string  `json:"eswitchNotes,omitempty"`
	Flows        *FlowDump `json:"flows,omitempty"`
	FlowsError   string    `json:"flowsError,omitempty"`

	// Sections keeps each command's exit code and raw output.
	Sections []Section `json:"-"`
}

// Package is one `rpm -q` answer.
type Package struct {
	Name      string `json:"name"`
	Installed bool   `json:"installed"`
	// NVRAs of the installed package (rpm prints one line per installed version).
	NVRAs []string `json:"nvras,omitempty"`
}

// Section is one command's output in the termination message.
type Section struct {
	Name   string
	RC     int
	Output string
}

// Section returns the first section with that name.
func (r *Result) Section(name string) (Section, bool) {
	for _, s := range r.Sections {
		if s.Name == name {
			return s, true
		}
	}
	return Section{}, false
}

var (
	sectionHeader = lazyre.New(`^--- mosc:([a-z0-9-]+) rc=(-?[0-9]+) ---$`)
	notInstalled  = lazyre.New(`^package (\S+) is not installed$`)
)

// SplitSections splits a termination message into its sections. Text before
// the first header is an error: the script always starts with a header.
func SplitSections(msg string) ([]Section, error) {
	var out []Section
	var cur *Section
	var body []string
	flush := func() {
		if cur != nil {
			cur.Output = strings.TrimRight(strings.Join(body, "\n"), "\n")
			out = append(out, *cur)
		}
	}
	for i, line := range strings.Split(msg, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if m := sectionHeader.FindStringSubmatch(line); m != nil {
			flush()
			rc, err := strconv.Atoi(m[2])
			if err != nil {
				return nil, fmt.Errorf("termination message line %d: bad exit code %q", i+1, m[2])
			}
			cur = &Section{Name: m[1], RC: rc}
			body = nil
			continue
		}
		if cur == nil {
			if strings.TrimSpace(line) == "" {
				continue
			}
			return nil, fmt.Errorf("termination message line %d: text before the first section header: %q", i+1, truncate(line, 80))
		}
		body = append(body, line)
	}
	flush()
	return out, nil
}

// ParseMessage turns a check pod's termination message into a Result.
func ParseMessage(nodeName, msg string) (*Result, error) {
	secs, err := SplitSections(msg)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", nodeName, err)
	}
	r := &Result{Node: nodeName, Packages: map[string]Package{}, OtherConfig: map[string]string{}, Sections: secs}
	var sawOVS, sawRPM bool
	for _, s := range secs {
		switch s.Name {
		case SectionRPM:
			sawRPM = true
			parseRPMQ(s.Output, r.Packages)
		case SectionRPMAbsent:
			for _, l := range strings.Split(s.Output, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					r.StockPresent = append(r.StockPresent, l)
				}
			}
		case SectionOVS:
			sawOVS = true
			if s.RC != 0 {
				// A finding, not a parse error: stock OVS lacks the doca_* columns,
				// and a stopped ovsdb-server refuses the connection.
				r.OVSError = fmt.Sprintf("ovs-vsctl exited %d: %s", s.RC, truncate(s.Output, 300))
				continue
			}
			if err := r.parseOVS(s.Output); err != nil {
				return nil, fmt.Errorf("node %s: section %s: %w", nodeName, s.Name, err)
			}
		case SectionLDD:
			l, err := ParseLDD(s.Output, s.RC)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", nodeName, err)
			}
			r.LDD = l
		case SectionBridges:
			r.Action = ActionInspect
			if s.RC != 0 {
				r.BridgesError = fmt.Sprintf("ovs-vsctl list Bridge exited %d: %s", s.RC, truncate(s.Output, 300))
				continue
			}
			bs, err := ParseBridges(s.Output)
			if err != nil {
				return nil, fmt.Errorf("node %s: section %s: %w", nodeName, s.Name, err)
			}
			r.Bridges = bs
		case SectionDevlink:
			es, notes, err := ParseDevlinkEswitch(s.Output)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", nodeName, err)
			}
			r.Eswitches, r.EswitchNotes = es, notes
		case SectionDpctl:
			if s.RC != 0 {
				r.FlowsError = fmt.Sprintf("ovs-appctl dpctl/dump-flows exited %d: %s", s.RC, truncate(s.Output, 300))
				continue
			}
			d, err := ParseDpctl(s.Output)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", nodeName, err)
			}
			r.Flows = d
		case SectionEnable:
			r.Action = ActionEnableDocaInit
			if s.RC != 0 {
				r.EnableError = fmt.Sprintf("enabling doca-init exited %d: %s", s.RC, truncate(s.Output, 300))
			}
		}
	}
	if !sawRPM || !sawOVS {
		return nil, fmt.Errorf("node %s: termination message lacks the %q or %q section (got %s)", nodeName, SectionRPM, SectionOVS, sectionNames(secs))
	}
	if r.Action == "" {
		r.Action = ActionVerify
	}
	sort.Strings(r.StockPresent)
	return r, nil
}

func sectionNames(secs []Section) string {
	if len(secs) == 0 {
		return "none"
	}
	names := make([]string, len(secs))
	for i, s := range secs {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// parseRPMQ reads `rpm -q NAME...` output: an NVRA per installed version, or
// "package NAME is not installed".
func parseRPMQ(out string, into map[string]Package) {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if m := notInstalled.FindStringSubmatch(l); m != nil {
			if _, ok := into[m[1]]; !ok {
				into[m[1]] = Package{Name: m[1]}
			}
			continue
		}
		name := NVRAName(l)
		p := into[name]
		p.Name, p.Installed = name, true
		p.NVRAs = append(p.NVRAs, l)
		into[name] = p
	}
}

// NVRAName returns the package name of name-version-release.arch.
// "doca-openvswitch-3.3.0040-1.el9.x86_64" → "doca-openvswitch".
func NVRAName(nvra string) string {
	s := nvra
	for range 2 {
		i := strings.LastIndexByte(s, '-')
		if i <= 0 {
			return nvra
		}
		s = s[:i]
	}
	return s
}

func (r *Result) parseOVS(out string) error {
	t, err := DecodeOVSTable([]byte(out))
	if err != nil {
		return err
	}
	if len(t.Rows) != 1 {
		return fmt.Errorf("Open_vSwitch table has %d rows, want 1", len(t.Rows))
	}
	row := t.Rows[0]
	str := func(col string, dst *string) error {
		v, ok := row[col]
		if !ok {
			return nil // column absent: the OVS build does not have it (e.g. stock OVS lacks doca_*)
		}
		s, err := v.String()
		if err != nil {
			return fmt.Errorf("%s: %w", col, err)
		}
		*dst = s
		return nil
	}
	boolean := func(col string, dst *bool) error {
		v, ok := row[col]
		if !ok {
			return nil
		}
		b, err := v.Bool()
		if err != nil {
			return fmt.Errorf("%s: %w", col, err)
		}
		*dst = b
		return nil
	}
	set := func(col string, dst *[]string) error {
		v, ok := row[col]
		if !ok {
			return nil
		}
		s, err := v.Strings()
		if err != nil {
			return fmt.Errorf("%s: %w", col, err)
		}
		*dst = s
		return nil
	}
	for _, f := range []func() error{
		func() error { return str("ovs_version", &r.OVSVersion) },
		func() error { return str("doca_version", &r.DocaVersion) },
		func() error { return boolean("doca_initialized", &r.DocaInitialized) },
		func() error { return boolean("dpdk_initialized", &r.DPDKInitialized) },
		func() error { return str("dpdk_version", &r.DPDKVersion) },
		func() error { return set("datapath_types", &r.DatapathTypes) },
		func() error { return set("iface_types", &r.IfaceTypes) },
	} {
		if err := f(); err != nil {
			return err
		}
	}
	if v, ok := row["other_config"]; ok {
		m, err := v.StringMap()
		if err != nil {
			return fmt.Errorf("other_config: %w", err)
		}
		r.OtherConfig = m
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
