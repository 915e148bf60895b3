// Package report holds what every mosc command that runs checks shares
// (gate, build, verify): the check and its status, the count of statuses, and
// the JSON, table and JUnit writers, so that their reports read the same and a
// pipeline parses them the same way.
package report

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

// Check is one finding.
type Check struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Remedy says what to do when the status is warn or fail.
	Remedy string `json:"remedy,omitempty"`
	// Details carries machine-readable facts; each command documents its
	// schema per check.
	Details  map[string]any `json:"details,omitempty"`
	Duration time.Duration  `json:"-"`
}

// Summary counts checks by status.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
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

// WriteJSON writes doc as one indented JSON document with its schema id
// first and the verdict ("pass" or "fail") last. doc must encode as a JSON
// object; its fields keep their order.
func WriteJSON(w io.Writer, schema string, doc any, failed bool) error {
	body, err := marshalNoEscape(doc)
	if err != nil {
		return err
	}
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("report %T does not encode as a JSON object", doc)
	}
	head, err := marshalNoEscape(schema)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(`{"schema":`)
	b.Write(head)
	if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
		b.WriteByte(',')
		b.Write(inner)
	}
	b.WriteString(`,"verdict":`)
	b.WriteString(map[bool]string{true: `"fail"`, false: `"pass"`}[failed])
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
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

// WriteChecks writes head, then the checks as a table (status, id, message,
// and the remedy under any check that is not a pass), then the verdict line.
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

// Suite is one JUnit testsuite: its checks become testcases of Classname.
type Suite struct {
	Name      string
	Classname string
	// Props become <properties>, in order (name, value pairs).
	Props   [][2]string
	Started time.Time
	// Timed writes time attributes, from each check's Duration.
	Timed  bool
	Checks []Check
}

// JUnit XML, in the form Jenkins, GitLab, GitHub Actions reporters and Azure
// Pipelines read (the common "JUnit XSD" of testsuites/testsuite/testcase): a
// failed check is a <failure>, a skipped one <skipped/>, a warning passes with
// the warning in <system-out>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr,omitempty"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Props     *junitProps `xml:"properties,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr,omitempty"`
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

// WriteJUnit writes suites as one JUnit XML document named name. When every
// suite is Timed, the document carries their total time too.
func WriteJUnit(w io.Writer, name string, suites []Suite) error {
	doc := junitSuites{Name: name}
	timed := len(suites) > 0
	var total time.Duration
	for _, in := range suites {
		s := junitSuite{Name: in.Name}
		if len(in.Props) > 0 {
			s.Props = &junitProps{}
			for _, p := range in.Props {
				s.Props.Props = append(s.Props.Props, junitProp{Name: p[0], Value: p[1]})
			}
		}
		if !in.Started.IsZero() {
			s.Timestamp = in.Started.UTC().Format("2006-01-02T15:04:05")
		}
		var suiteTime time.Duration
		for _, c := range in.Checks {
			tc := junitCase{Name: c.ID, Classname: in.Classname}
			if in.Timed {
				tc.Time = seconds(c.Duration)
				suiteTime += c.Duration
			}
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
		if in.Timed {
			s.Time = seconds(suiteTime)
			total += suiteTime
		} else {
			timed = false
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if timed {
		doc.Time = seconds(total)
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
