// Package gate answers, before an OpenShift upgrade, whether the On-Cluster
// Layering of OVS-DOCA will survive it: each check has an id, a status
// (pass, warn, fail, skip), a message and a remedy; the report is written as
// a table, JSON, or JUnit XML for CI systems.
package gate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Status of a check.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
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

// Check is one finding.
type Check struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Remedy says what to do when the status is warn or fail.
	Remedy string `json:"remedy,omitempty"`
	// Details carries machine-readable facts (the diff summary, packages
	// found, RHCOS labels, ...). Schema per check in docs/gate.md.
	Details  map[string]any `json:"details,omitempty"`
	Duration time.Duration  `json:"-"`
}

// SchemaVersion is the version of the JSON report.
const SchemaVersion = "mosc.dev/gate/v1"

// Summary counts checks by status.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Report is the outcome of a gate run.
type Report struct {
	From         string    `json:"from"` // current release, "4.20.15"
	To           string    `json:"to"`   // target release, "4.21.11"
	Pool         string    `json:"pool"`
	Stacks       []string  `json:"stacks"`
	ReleaseImage string    `json:"releaseImage,omitempty"`
	Checks       []Check   `json:"checks"`
	Summary      Summary   `json:"summary"`
	Started      time.Time `json:"-"`
}

// Count counts one check of status st.
func (s *Summary) Count(st Status) {
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

// Verdict is the one-line outcome of checks so counted.
func (s Summary) Verdict() string {
	v := "PASS"
	if s.Fail > 0 {
		v = "FAIL"
	}
	return fmt.Sprintf("%s: %d passed, %d warnings, %d failed, %d skipped", v, s.Pass, s.Warn, s.Fail, s.Skip)
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
	return WriteReportJSON(w, SchemaVersion, r, r.Failed())
}

// WriteReportJSON writes report as one indented JSON document with its schema
// id first and the verdict ("pass" or "fail") last; the commands that report
// checks (gate, build) share it so their JSON documents read the same.
// report must encode as a JSON object; its fields keep their order.
func WriteReportJSON(w io.Writer, schema string, report any, failed bool) error {
	body, err := marshalNoEscape(report)
	if err != nil {
		return err
	}
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("report %T does not encode as a JSON object", report)
	}
	head, err := marshalNoEscape(schema)
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	doc.WriteString(`{"schema":`)
	doc.Write(head)
	if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
		doc.WriteByte(',')
		doc.Write(inner)
	}
	doc.WriteString(`,"verdict":`)
	doc.WriteString(map[bool]string{true: `"fail"`, false: `"pass"`}[failed])
	doc.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, doc.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// marshalNoEscape is json.Marshal without HTML escaping (messages carry
// "<", ">" and "&" that a reader should see as they are).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// WriteTable writes a readable table: status, id, message, and the remedy
// under any check that is not a pass.
func WriteTable(w io.Writer, r *Report) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "mosc gate: OpenShift %s → %s, pool %s, stacks %s\n", r.From, r.To, r.Pool, strings.Join(r.Stacks, ","))
	if r.ReleaseImage != "" {
		fmt.Fprintf(&sb, "release image: %s\n", r.ReleaseImage)
	}
	sb.WriteString("\n")
	return WriteChecks(w, &sb, r.Checks, r.Verdict())
}

// WriteChecks writes head, then the checks as a table (status, id, message,
// and the remedy under any check that is not a pass), then the verdict line;
// gate and build share it so their tables read the same.
func WriteChecks(w io.Writer, head *strings.Builder, checks []Check, verdict string) error {
	tw := tabwriter.NewWriter(head, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tMESSAGE")
	for _, c := range checks {
		lines := strings.Split(c.Message, "\n")
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToUpper(string(c.Status)), c.ID, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "\t\t%s\n", l)
		}
		if c.Remedy != "" && (c.Status == Warn || c.Status == Fail) {
			fmt.Fprintf(tw, "\t\t→ %s\n", c.Remedy)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(head, "\n%s\n", verdict)
	_, err := io.WriteString(w, head.String())
	return err
}

// JUnit XML, in the form Jenkins, GitLab, GitHub Actions reporters and
// Azure Pipelines read (the common "JUnit XSD" of testsuites/testsuite/
// testcase): a failed check is a <failure>, a skipped one <skipped/>, a
// warning passes with the warning in <system-out>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr,omitempty"`
	Props     *junitProps     `xml:"properties,omitempty"`
	Cases     []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// Text is CDATA so multi-line messages stay readable in CI logs (chardata
// would escape every newline as &#xA;).
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

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML, one testcase per check.
func WriteJUnit(w io.Writer, r *Report) error {
	suite := junitSuite{
		Name: fmt.Sprintf("mosc gate %s -> %s", r.From, r.To),
		Props: &junitProps{Props: []junitProp{
			{Name: "from", Value: r.From}, {Name: "to", Value: r.To}, {Name: "pool", Value: r.Pool},
			{Name: "stacks", Value: strings.Join(r.Stacks, ",")},
		}},
	}
	if r.ReleaseImage != "" {
		suite.Props.Props = append(suite.Props.Props, junitProp{Name: "releaseImage", Value: r.ReleaseImage})
	}
	if !r.Started.IsZero() {
		suite.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	suite.Time = seconds(addJUnitCases(&suite, r, ""))
	doc := junitSuites{Name: "mosc gate", Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	return writeJUnitDoc(w, doc)
}

// addJUnitCases adds one testcase per check of r to suite (named
// prefix+id), counting failures and skips; it returns the checks' time.
func addJUnitCases(suite *junitSuite, r *Report, prefix string) time.Duration {
	var total time.Duration
	for _, c := range r.Checks {
		total += c.Duration
		tc := junitTestCase{Name: prefix + c.ID, Classname: "mosc.gate", Time: seconds(c.Duration)}
		text := c.Message
		if c.Remedy != "" {
			text += "\nremedy: " + c.Remedy
		}
		switch c.Status {
		case Fail:
			tc.Failure = &junitFailure{Message: firstLine(c.Message), Type: "fail", Text: text}
			suite.Failures++
		case Skip:
			tc.Skipped = &junitSkipped{Message: c.Message}
			suite.Skipped++
		case Warn:
			tc.SystemOut = &junitText{"WARNING: " + text}
		default:
			tc.SystemOut = &junitText{c.Message}
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, tc)
	}
	return total
}

func writeJUnitDoc(w io.Writer, doc junitSuites) error {
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

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
