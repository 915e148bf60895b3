package node

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mosc-dev/mosc/internal/profile"
)

// Problem is one way a node falls short of the plan's idea of "working".
type Problem struct {
	// Check names what was checked: "package", "stock-package", "datapath",
	// "doca-initialized".
	Check   string `json:"check"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Check + ": " + p.Message }

// DefaultVerify is what "working" means when no plan is given (mosc watch
// --pool without a profile): the walkthrough's OVS-DOCA stack.
var DefaultVerify = profile.VerifyPlan{
	PackagesPresent: []string{"doca-openvswitch"},
	PackagesAbsent:  []string{"openvswitch[0-9]*"},
	DatapathType:    "doca",
	DocaInitialized: true,
}

// Verify compares a node's result with the plan and lists every problem.
func Verify(r *Result, v profile.VerifyPlan) []Problem {
	var out []Problem
	for _, name := range v.PackagesPresent {
		p, ok := r.Packages[name]
		if !ok || !p.Installed {
			out = append(out, Problem{"package", fmt.Sprintf("%s is not installed", name)})
		}
	}
	if r.EnableError != "" {
		out = append(out, Problem{"enable-doca-init", r.EnableError})
	}
	out = append(out, LibraryProblems(r)...)
	if r.OVSError != "" {
		out = append(out, Problem{"ovs", r.OVSError})
		if len(r.StockPresent) > 0 {
			out = append(out, Problem{"stock-package", fmt.Sprintf("stock package still installed: %s", strings.Join(r.StockPresent, ", "))})
		}
		return out
	}
	if len(r.StockPresent) > 0 {
		out = append(out, Problem{"stock-package", fmt.Sprintf("stock package still installed: %s (matches %s)", strings.Join(r.StockPresent, ", "), strings.Join(v.PackagesAbsent, ", "))})
	}
	if v.DatapathType != "" && !slices.Contains(r.DatapathTypes, v.DatapathType) {
		out = append(out, Problem{"datapath", fmt.Sprintf("datapath_types [%s] lacks %s", strings.Join(r.DatapathTypes, ", "), v.DatapathType)})
	}
	if v.DocaInitialized && !r.DocaInitialized {
		msg := "doca_initialized is false"
		if r.OtherConfig["doca-init"] != "true" {
			msg += " (other_config:doca-init is not set; use --enable-doca-init or the stack's doca-init MachineConfig)"
		} else {
			msg += " although other_config:doca-init=true (check hugepages and the NIC, then restart openvswitch)"
		}
		out = append(out, Problem{"doca-initialized", msg})
	}
	return out
}

// NeedsDocaInit says whether enabling doca-init could fix the node: the stack
// wants doca initialized and other_config:doca-init is not true yet.
func NeedsDocaInit(r *Result, v profile.VerifyPlan) bool {
	return r.OVSError == "" && v.DocaInitialized && !r.DocaInitialized && r.OtherConfig["doca-init"] != "true"
}

// LibraryProblems reports libraries of ovs-vswitchd the dynamic linker
// cannot find on the node: the sign of DOCA content left under /opt (which
// RHCOS links to /var/opt, and which an image update never places).
func LibraryProblems(r *Result) []Problem {
	if r.LDD == nil {
		return nil
	}
	if r.LDD.Error != "" {
		return []Problem{{"libraries", r.LDD.Error}}
	}
	if len(r.LDD.Missing) > 0 {
		return []Problem{{"libraries", fmt.Sprintf("%s links libraries the node cannot find: %s (DOCA content under /opt reaches only freshly installed nodes; the layer must relocate it to /usr/lib/opt, see docs/build.md)",
			r.LDD.Binary, strings.Join(r.LDD.Missing, ", "))}}
	}
	return nil
}
