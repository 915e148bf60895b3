package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mosc-dev/mosc/internal/watch"
)

// StatusSchema is the JSON schema id of status --fleet.
const StatusSchema = "mosc.dev/status-fleet/v1"

// StatusCluster is one cluster's snapshot: a watch.Status per pool, or why
// the cluster could not be read.
type StatusCluster struct {
	Cluster   string `json:"cluster"`
	Group     string `json:"group,omitempty"`
	Access    string `json:"access"`
	OpenShift string `json:"openshift,omitempty"` // the live ClusterVersion
	// Inventory is the release the inventory gives the cluster.
	Inventory string          `json:"inventory"`
	Error     string          `json:"error,omitempty"`
	Pools     []*watch.Status `json:"pools,omitempty"`
}

// Failed says whether the cluster could not be read or a pool's rollout
// failed.
func (s *StatusCluster) Failed() bool {
	if s.Error != "" {
		return true
	}
	for _, p := range s.Pools {
		if p.Failure != nil {
			return true
		}
	}
	return false
}

// StatusReport is status --fleet's outcome.
type StatusReport struct {
	Fleet    string           `json:"fleet"`
	Clusters []*StatusCluster `json:"clusters"`
}

// Failed lists the clusters that failed (Failed).
func (r *StatusReport) Failed() []string {
	var out []string
	for _, c := range r.Clusters {
		if c.Failed() {
			out = append(out, c.Cluster)
		}
	}
	return out
}

// WriteStatusJSON writes the report as one indented JSON document.
func WriteStatusJSON(w io.Writer, r *StatusReport) error {
	doc := struct {
		Schema string `json:"schema"`
		*StatusReport
	}{StatusSchema, r}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// WriteStatusTable writes one line per cluster and pool: the live release,
// the phase, the build, how many nodes are updated, and what it waits for
// or why it failed.
func WriteStatusTable(w io.Writer, r *StatusReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tPOOL\tOPENSHIFT\tPHASE\tBUILD\tUPDATED\tDETAIL")
	for _, c := range r.Clusters {
		if c.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t%s\terror\t-\t-\t%s\n", c.Cluster, dash(c.OpenShift), firstLine(c.Error))
			continue
		}
		for _, p := range c.Pools {
			build := p.Build.State
			if p.Build.MOSB != "" {
				build = p.Build.MOSB + " " + build
			}
			detail := p.Waiting
			if f := p.Failure; f != nil {
				detail = f.Object + ": " + firstLine(f.Reason)
				if f.Cause != nil {
					detail += " (" + f.Cause.ID + ")"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", c.Cluster, p.Pool, dash(c.OpenShift), p.Phase, dash(build), p.Updated, p.Total, detail)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	failed := r.Failed()
	fmt.Fprintf(w, "\n%d clusters, %d failed", len(r.Clusters), len(failed))
	if len(failed) > 0 {
		fmt.Fprintf(w, ": %s", ClusterList(failed))
	}
	_, err := fmt.Fprintln(w)
	return err
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
