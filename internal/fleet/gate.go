package fleet

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/report"
)

// GateSchema is the JSON schema id of gate --fleet's report.
const GateSchema = "mosc.dev/gate-fleet/v1"

// IDClusterAccess is the check a fleet gate adds when a cluster that has a
// context cannot be read (unreachable, unauthorized, API not served): the
// cluster fails, the others still run.
const IDClusterAccess = "cluster-access"

// GateCluster is one cluster's gate: a report per pool.
type GateCluster struct {
	Cluster string `json:"cluster"`
	Group   string `json:"group,omitempty"`
	Base    string `json:"base"`
	From    string `json:"from"`
	To      string `json:"to"`
	// Access is how the cluster was read: "context site-a", a kubeconfig
	// file, "offline" (--offline) or "none" (no context for it: its cluster
	// checks are skipped, saying why).
	Access  string         `json:"access"`
	Live    bool           `json:"live"`
	Verdict string         `json:"verdict"` // pass or fail
	Failing []string       `json:"failing,omitempty"`
	Summary gate.Summary   `json:"summary"`
	Pools   []*gate.Report `json:"pools"`
}

// GateReport is gate --fleet's outcome.
type GateReport struct {
	Fleet    string         `json:"fleet"`
	To       string         `json:"to"`
	Clusters []*GateCluster `json:"clusters"`
	Summary  struct {
		Clusters int `json:"clusters"`
		Pass     int `json:"pass"`
		Fail     int `json:"fail"`
	} `json:"summary"`
}

// Finish sets a cluster's verdict, failing checks and summary from its
// pools' reports.
func (g *GateCluster) Finish() {
	g.Summary, g.Failing = gate.Summary{}, nil
	for _, r := range g.Pools {
		for _, c := range r.Checks {
			g.Summary.Count(c.Status)
			if c.Status == gate.Fail {
				id := c.ID
				if len(g.Pools) > 1 {
					id = r.Pool + "/" + id
				}
				g.Failing = append(g.Failing, id)
			}
		}
	}
	g.Verdict = "pass"
	if g.Summary.Fail > 0 {
		g.Verdict = "fail"
	}
}

// Add appends a finished cluster and counts it.
func (r *GateReport) Add(g *GateCluster) {
	r.Clusters = append(r.Clusters, g)
	r.Summary.Clusters++
	if g.Verdict == "fail" {
		r.Summary.Fail++
	} else {
		r.Summary.Pass++
	}
}

// Failed lists the failing clusters.
func (r *GateReport) Failed() []string {
	var out []string
	for _, g := range r.Clusters {
		if g.Verdict == "fail" {
			out = append(out, g.Cluster)
		}
	}
	return out
}

// WriteGateJSON writes the report as one JSON document (schema GateSchema;
// each pool's report is gate's own, docs/gate.md).
func WriteGateJSON(w io.Writer, r *GateReport) error {
	return report.WriteJSON(w, GateSchema, r, len(r.Failed()) > 0)
}

// WriteGateJUnit writes one JUnit test suite per cluster, one testcase per
// check (named <pool>/<check> when the cluster layers several pools).
func WriteGateJUnit(w io.Writer, r *GateReport) error {
	suites := make([]report.Suite, 0, len(r.Clusters))
	for _, g := range r.Clusters {
		s := report.Suite{
			Name:      fmt.Sprintf("%s: mosc gate %s -> %s", g.Cluster, g.From, g.To),
			Classname: "mosc.gate",
			Props:     [][2]string{{"cluster", g.Cluster}, {"base", g.Base}, {"from", g.From}, {"to", g.To}, {"access", g.Access}},
			Timed:     true,
		}
		if g.Group != "" {
			s.Props = append(s.Props, [2]string{"group", g.Group})
		}
		for _, p := range g.Pools {
			if s.Started.IsZero() {
				s.Started = p.Started
			}
			for _, c := range p.Checks {
				if len(g.Pools) > 1 {
					c.ID = p.Pool + "/" + c.ID
				}
				s.Checks = append(s.Checks, c)
			}
		}
		suites = append(suites, s)
	}
	return report.WriteJUnit(w, "mosc gate --fleet "+r.Fleet, suites)
}

// WriteGateTable writes the summary table (cluster, from → to, pools,
// access, verdict, failing checks), then each failing check with its
// message and remedy, grouped by cluster, and a last line naming the
// failing clusters.
func WriteGateTable(w io.Writer, r *GateReport) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "mosc gate --fleet %s: %d clusters → %s\n\n", r.Fleet, len(r.Clusters), r.To)
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tFROM\tTO\tPOOLS\tACCESS\tVERDICT\tFAILING CHECKS")
	for _, g := range r.Clusters {
		var pools []string
		for _, p := range g.Pools {
			pools = append(pools, p.Pool)
		}
		failing := strings.Join(g.Failing, ", ")
		if failing == "" {
			failing = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Cluster, g.From, g.To, strings.Join(pools, ","), g.Access, strings.ToUpper(g.Verdict), failing)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, g := range r.Clusters {
		if g.Verdict != "fail" {
			continue
		}
		fmt.Fprintf(&sb, "\n%s:\n", g.Cluster)
		for _, p := range g.Pools {
			for _, c := range p.Checks {
				if c.Status != gate.Fail {
					continue
				}
				id := c.ID
				if len(g.Pools) > 1 {
					id = p.Pool + "/" + id
				}
				lines := strings.Split(c.Message, "\n")
				fmt.Fprintf(&sb, "  FAIL %s: %s\n", id, lines[0])
				for _, l := range lines[1:] {
					fmt.Fprintf(&sb, "       %s\n", l)
				}
				if c.Remedy != "" {
					fmt.Fprintf(&sb, "       → %s\n", c.Remedy)
				}
			}
		}
	}
	fmt.Fprintf(&sb, "\n%d passed, %d failed", r.Summary.Pass, r.Summary.Fail)
	if f := r.Failed(); len(f) > 0 {
		fmt.Fprintf(&sb, ": %s", ClusterList(f))
	}
	sb.WriteString("\n")
	_, err := io.WriteString(w, sb.String())
	return err
}
