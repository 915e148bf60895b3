package gate

import (
	"io"
	"time"
)

// JUnitSuite is one test suite of a JUnit document with several suites
// (gate --fleet: one per cluster). Its Reports are the gate runs of the
// suite (one per pool); with more than one, each testcase is named
// "<pool>/<check id>".
type JUnitSuite struct {
	Name string
	// Props are the suite's properties, in order (name, value).
	Props   [][2]string
	Reports []*Report
}

// WriteJUnitSuites writes suites as one JUnit XML document named name, in
// the form WriteJUnit uses for a single report.
func WriteJUnitSuites(w io.Writer, name string, suites []JUnitSuite) error {
	doc := junitSuites{Name: name}
	var total time.Duration
	for _, s := range suites {
		js := junitSuite{Name: s.Name, Props: &junitProps{}}
		var suiteTime time.Duration
		for _, p := range s.Props {
			js.Props.Props = append(js.Props.Props, junitProp{Name: p[0], Value: p[1]})
		}
		for _, r := range s.Reports {
			if js.Timestamp == "" && !r.Started.IsZero() {
				js.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
			}
			prefix := ""
			if len(s.Reports) > 1 {
				prefix = r.Pool + "/"
			}
			d := addJUnitCases(&js, r, prefix)
			suiteTime += d
		}
		js.Time = seconds(suiteTime)
		total += suiteTime
		doc.Tests += js.Tests
		doc.Failures += js.Failures
		doc.Skipped += js.Skipped
		doc.Suites = append(doc.Suites, js)
	}
	doc.Time = seconds(total)
	return writeJUnitDoc(w, doc)
}
