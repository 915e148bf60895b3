package verify

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/report"
)

// SchemaVersion is the version of the JSON report (schema in docs/verify.md).
const SchemaVersion = "mosc.dev/verify/v1"

// Summary counts checks by status.
type Summary = report.Summary

// NodeReport is one node's checks.
type NodeReport struct {
	Node   string       `json:"node"`
	Checks []Check      `json:"checks"`
	Result *node.Result `json:"-"`
}

// Report is the outcome of mosc verify.
type Report struct {
	Pool              string       `json:"pool"`
	Stacks            []string     `json:"stacks"`
	HWOffloadExpected bool         `json:"hwOffloadExpected"`
	Image             string       `json:"image,omitempty"`
	Nodes             []NodeReport `json:"nodes"`
	// Traffic holds the throughput checks (pod network, host network).
	Traffic []Check   `json:"traffic,omitempty"`
	Summary Summary   `json:"summary"`
	Started time.Time `json:"-"`
}

func (r *Report) count() {
	r.Summary = Summary{}
	for _, n := range r.Nodes {
		for _, c := range n.Checks {
			r.Summary.Count(c.Status)
		}
	}
	for _, c := range r.Traffic {
		r.Summary.Count(c.Status)
	}
}

// Failed says whether any check failed (exit code 1).
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// Verdict is the one-line outcome.
func (r *Report) Verdict() string { return r.Summary.Verdict() }

// Failures names the failed checks, "node/check".
func (r *Report) Failures() []string {
	var out []string
	for _, n := range r.Nodes {
		for _, c := range n.Checks {
			if c.Status == Fail {
				out = append(out, n.Node+"/"+c.ID)
			}
		}
	}
	for _, c := range r.Traffic {
		if c.Status == Fail {
			out = append(out, c.ID)
		}
	}
	return out
}

func (r *Report) header() string {
	exp := "off"
	if r.HWOffloadExpected {
		exp = "on"
	}
	return fmt.Sprintf("mosc verify: pool %s, %d nodes, stacks %s, hw-offload expected %s\n", r.Pool, len(r.Nodes), strings.Join(r.Stacks, ","), exp)
}

// WriteJSON writes the report as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	return report.WriteJSON(w, SchemaVersion, r, r.Failed())
}

// WriteTable writes one row per check, grouped by node, with the remedy
// under each warning or failure, then the traffic tests and the verdict.
func WriteTable(w io.Writer, r *Report) error {
	var sb strings.Builder
	sb.WriteString(r.header() + "\n")
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATUS\tCHECK\tMESSAGE")
	row := func(first string, c Check) {
		lines := strings.Split(c.Message, "\n")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", first, strings.ToUpper(string(c.Status)), c.ID, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "\t\t\t%s\n", l)
		}
		if c.Remedy != "" && (c.Status == Warn || c.Status == Fail) {
			fmt.Fprintf(tw, "\t\t\t→ %s\n", c.Remedy)
		}
	}
	for _, n := range r.Nodes {
		for i, c := range n.Checks {
			first := ""
			if i == 0 {
				first = n.Node
			}
			row(first, c)
		}
	}
	for i, c := range r.Traffic {
		first := ""
		if i == 0 {
			first = "(pool)"
		}
		row(first, c)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&sb, "\n%s\n", r.Verdict())
	_, err := io.WriteString(w, sb.String())
	return err
}

// WritePlain writes one line per check (for logs and grep): node, status,
// check, message, and the remedy.
func WritePlain(w io.Writer, r *Report) error {
	var sb strings.Builder
	sb.WriteString(r.header())
	line := func(who string, c Check) {
		fmt.Fprintf(&sb, "%s %s %s: %s", who, c.Status, c.ID, strings.ReplaceAll(c.Message, "\n", "; "))
		if c.Remedy != "" && (c.Status == Warn || c.Status == Fail) {
			fmt.Fprintf(&sb, " (remedy: %s)", c.Remedy)
		}
		sb.WriteString("\n")
	}
	for _, n := range r.Nodes {
		for _, c := range n.Checks {
			line("node/"+n.Node, c)
		}
	}
	for _, c := range r.Traffic {
		line("pool/"+r.Pool, c)
	}
	sb.WriteString(r.Verdict() + "\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// WriteJUnit writes the report as JUnit XML (the form mosc gate writes):
// one suite per node, plus one for the traffic tests.
func WriteJUnit(w io.Writer, r *Report) error {
	var suites []report.Suite
	for _, n := range r.Nodes {
		suites = append(suites, report.Suite{Name: "node/" + n.Node, Classname: "mosc.verify.node." + n.Node, Started: r.Started, Checks: n.Checks})
	}
	if len(r.Traffic) > 0 {
		suites = append(suites, report.Suite{Name: "pool/" + r.Pool + " traffic", Classname: "mosc.verify.traffic", Started: r.Started, Checks: r.Traffic})
	}
	return report.WriteJUnit(w, "mosc verify "+r.Pool, suites)
}
