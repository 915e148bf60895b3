package build

import (
	"fmt"
	"io"
	"strings"

	"github.com/mosc-dev/mosc/internal/report"
)

// IDGateBuild is mosc gate --build's check: this build on the target release.
const IDGateBuild = "layer-build"

// SchemaVersion is the version of the JSON report (schema in docs/build.md).
const SchemaVersion = "mosc.dev/build/v1"

// Report is the outcome of mosc build: the build, then the inspection.
type Report struct {
	Image           string         `json:"image"`
	BaseImage       string         `json:"baseImage"`
	ExtensionsImage string         `json:"extensionsImage,omitempty"`
	Builder         string         `json:"builder"`
	OpenShift       string         `json:"openshift"`
	Platform        string         `json:"platform"`
	Pool            string         `json:"pool"`
	Stacks          []string       `json:"stacks"`
	Pushed          bool           `json:"pushed"`
	Differences     []string       `json:"differences"`
	Checks          []report.Check `json:"checks"`
	Summary         report.Summary `json:"summary"`
}

// Add appends a check and counts it.
func (r *Report) Add(c report.Check) {
	r.Checks = append(r.Checks, c)
	r.Summary.Count(c.Status)
}

// Failed says whether the build or a check failed (exit code 1).
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// FailedIDs lists the failed checks.
func (r *Report) FailedIDs() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == report.Fail {
			out = append(out, c.ID)
		}
	}
	return out
}

// BuildCheck is the build step as a check: pass, or fail with the step, the
// failing command and the last lines of its output.
func BuildCheck(image string, err error) report.Check {
	c := report.Check{ID: IDBuild}
	if err == nil {
		c.Status, c.Message = report.Pass, "built "+image
		return c
	}
	c.Status, c.Message = report.Fail, err.Error()
	c.Remedy = "fix the step named above; the cluster's build would fail at the same step"
	if f, ok := err.(*Failure); ok {
		c.Details = map[string]any{"step": f.Step, "command": f.Command, "output": nonNil(f.Tail), "builder": f.Builder}
	}
	return c
}

// SkippedInspection marks every inspection check skipped after a failed build.
func SkippedInspection() []report.Check {
	var out []report.Check
	for _, id := range []string{IDStockOVS, IDStackPackages, IDVswitchdOwner, IDVswitchdLibs, IDVarContent, IDExtensions, IDLint, IDLayerSize} {
		out = append(out, report.Check{ID: id, Status: report.Skip, Message: "the build failed: no image to inspect"})
	}
	return out
}

// Verdict is the one-line outcome.
func (r *Report) Verdict() string { return r.Summary.Verdict() }

// WriteJSON writes the report as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	return report.WriteJSON(w, SchemaVersion, r, r.Failed())
}

// WriteTable writes the checks as gate does: status, id, message, and the
// remedy under any check that did not pass.
func WriteTable(w io.Writer, r *Report) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "mosc build: OpenShift %s, %s, pool %s, stacks %s\n", r.OpenShift, r.Platform, r.Pool, strings.Join(r.Stacks, ","))
	fmt.Fprintf(&sb, "image: %s (%s, base %s)\n\n", r.Image, r.Builder, r.BaseImage)
	return report.WriteChecks(w, &sb, r.Checks, r.Verdict())
}
