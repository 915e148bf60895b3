// Package gate answers, before an OpenShift upgrade, whether the On-Cluster
// Layering of OVS-DOCA will survive it: each check has an id, a status
// (pass, warn, fail, skip), a message and a remedy; the report is written as
// a table, JSON, or JUnit XML for CI systems.
package gate

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/report"
)

// Status of a check; gate, build and verify share it (internal/report).
type Status = report.Status

const (
	Pass = report.Pass
	Warn = report.Warn
	Fail = report.Fail
	Skip = report.Skip
)

// Check ids, stable for pipelines (JSON and JUnit use them).
const (
	IDTargetProfile  = "target-profile"
	IDStackSupport   = "stack-support"
	IDBundleDiff     = "bundle-diff"
	IDReleasePayload = "release-payload"
	IDRepoPreflight  = "repo-preflight"
	IDPoolHealth     = "pool-health"
	IDLastBuild      = "last-build"
	IDNodes          = "nodes-verified"
	IDPushToken      = "push-token"
	// IDPoolMachineConfigs: the pool's kernelType and extensions allow the
	// target plan (kernel-devel, ipsec).
	IDPoolMachineConfigs = "pool-machineconfigs"
)

// Check is one finding. Details carry machine-readable facts (the diff
// summary, packages found, RHCOS labels, ...): schema per check in
// docs/gate.md.
type Check = report.Check

// SchemaVersion is the version of the JSON report.
const SchemaVersion = "mosc.dev/gate/v1"

// Summary counts checks by status.
type Summary = report.Summary

// Report is the outcome of a gate run.
type Report struct {
	From         string   `json:"from"` // current release, "4.20.15"
	To           string   `json:"to"`   // target release, "4.21.11"
	Pool         string   `json:"pool"`
	Stacks       []string `json:"stacks"`
	ReleaseImage string   `json:"releaseImage,omitempty"`
	// Via and ViaReleaseImage name the intermediate release of a two-hop
	// (EUS-to-EUS) upgrade and its payload (hops.go).
	Via             string    `json:"via,omitempty"`
	ViaReleaseImage string    `json:"viaReleaseImage,omitempty"`
	Checks          []Check   `json:"checks"`
	Summary         Summary   `json:"summary"`
	Started         time.Time `json:"-"`

	// Payload is the target's payload as release-payload resolved and read
	// it (--release-image, else ClusterVersion's offer, else the tag of a
	// full --to); nil when it was not read. Stream is the OS stream the
	// pool uses in it. gate --build builds on exactly these images.
	Payload *release.Payload `json:"-"`
	Stream  string           `json:"-"`
}

// Add appends a check and counts it.
func (r *Report) Add(c Check) {
	r.Checks = append(r.Checks, c)
	r.Summary.Count(c.Status)
}

// Failed says whether any check failed (exit code 1).
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// Verdict is the one-line outcome.
func (r *Report) Verdict() string { return r.Summary.Verdict() }

// WriteJSON writes the report as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	return report.WriteJSON(w, SchemaVersion, r, r.Failed())
}

// WriteTable writes a readable table: status, id, message, and the remedy
// under any check that is not a pass.
func WriteTable(w io.Writer, r *Report) error {
	var sb strings.Builder
	path := r.From + " → " + r.To
	if r.Via != "" {
		path = r.From + " → " + r.Via + " → " + r.To
	}
	fmt.Fprintf(&sb, "mosc gate: OpenShift %s, pool %s, stacks %s\n", path, r.Pool, strings.Join(r.Stacks, ","))
	if r.ViaReleaseImage != "" {
		fmt.Fprintf(&sb, "release image (%s): %s\n", r.Via, r.ViaReleaseImage)
	}
	if r.ReleaseImage != "" && r.Via != "" {
		fmt.Fprintf(&sb, "release image (%s): %s\n", r.To, r.ReleaseImage)
	} else if r.ReleaseImage != "" {
		fmt.Fprintf(&sb, "release image: %s\n", r.ReleaseImage)
	}
	sb.WriteString("\n")
	return report.WriteChecks(w, &sb, r.Checks, r.Verdict())
}

// WriteJUnit writes the report as JUnit XML, one testcase per check.
func WriteJUnit(w io.Writer, r *Report) error {
	return report.WriteJUnit(w, "mosc gate", []report.Suite{r.JUnitSuite()})
}

// JUnitSuite is the report as one JUnit suite (gate --fleet writes one per
// cluster).
func (r *Report) JUnitSuite() report.Suite {
	s := report.Suite{
		Name:      fmt.Sprintf("mosc gate %s -> %s", r.From, r.To),
		Classname: "mosc.gate",
		Props:     [][2]string{{"from", r.From}, {"to", r.To}, {"pool", r.Pool}, {"stacks", strings.Join(r.Stacks, ",")}},
		Started:   r.Started,
		Timed:     true,
		Checks:    r.Checks,
	}
	if r.ReleaseImage != "" {
		s.Props = append(s.Props, [2]string{"releaseImage", r.ReleaseImage})
	}
	if r.Via != "" {
		s.Name = fmt.Sprintf("mosc gate %s -> %s -> %s", r.From, r.Via, r.To)
		s.Props = append(s.Props, [2]string{"via", r.Via})
		if r.ViaReleaseImage != "" {
			s.Props = append(s.Props, [2]string{"viaReleaseImage", r.ViaReleaseImage})
		}
	}
	return s
}
