package verify

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mosc-dev/mosc/internal/node"
)

// SchemaVersion is the version of the JSON report (schema in docs/verify.md).
const SchemaVersion = "mosc.dev/verify/v1"

// Summary counts checks by status.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

func (s *Summary) add(st Status) {
	switch st {
	case Pass:
		s.Pass++
	case Warn:
		s.Warn++
	case Fail:
		s.Fail++
	case Skip:
		s.Skip++
	}
}

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
			r.Summary.add(c.Status)
		}
	}
	for _, c := range r.Traffic {
		r.Summary.add(c.Status)
	}
}

// Failed says whether any check failed (exit code 1).
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// Verdict is the one-line outcome.
func (r *Report) Verdict() string {
	v := "PASS"
	if r.Failed() {
		v = "FAIL"
	}
	s := r.Summary
	return fmt.Sprintf("%s: %d passed, %d warnings, %d failed, %d skipped", v, s.Pass, s.Warn, s.Fail, s.Skip)
}

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
	doc := struct {
		Schema string `json:"schema"`
		*Report
		Verdict string `json:"verdict"`
	}{SchemaVersion, r, map[bool]string{true: "fail", false: "pass"}[r.Failed()]}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
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

// JUnit XML in the common testsuites/testsuite/testcase form CI reporters
// read (as mosc gate writes it): one suite per node plus one for traffic, a
// failed check is a <failure>, a skipped one <skipped/>, a warning passes
// with the warning in <system-out>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report) error {
	doc := junitSuites{Name: "mosc verify " + r.Pool}
	ts := ""
	if !r.Started.IsZero() {
		ts = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	suite := func(name, class string, checks []Check) {
		s := junitSuite{Name: name, Timestamp: ts}
		for _, c := range checks {
			tc := junitCase{Name: c.ID, Classname: class}
			text := c.Message
			if c.Remedy != "" {
				text += "\nremedy: " + c.Remedy
			}
			switch c.Status {
			case Fail:
				first, _, _ := strings.Cut(c.Message, "\n")
				tc.Failure = &junitFailure{Message: first, Type: "fail", Text: text}
				s.Failures++
			case Skip:
				tc.Skipped = &junitSkipped{Message: c.Message}
				s.Skipped++
			case Warn:
				tc.SystemOut = &junitText{"WARNING: " + text}
			default:
				tc.SystemOut = &junitText{c.Message}
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	for _, n := range r.Nodes {
		suite("node/"+n.Node, "mosc.verify.node."+n.Node, n.Checks)
	}
	if len(r.Traffic) > 0 {
		suite("pool/"+r.Pool+" traffic", "mosc.verify.traffic", r.Traffic)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
