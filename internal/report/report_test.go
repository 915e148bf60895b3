package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestWriteJSONOrderAndEscaping(t *testing.T) {
	doc := struct {
		Pool   string  `json:"pool"`
		Checks []Check `json:"checks"`
	}{"worker", []Check{{ID: "a", Status: Warn, Message: "x < y && z", Duration: time.Second}}}
	var b bytes.Buffer
	if err := WriteJSON(&b, "mosc.dev/test/v1", doc, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "{\n  \"schema\": \"mosc.dev/test/v1\",\n  \"pool\"") || !strings.HasSuffix(out, "\"verdict\": \"fail\"\n}\n") {
		t.Errorf("schema must come first and verdict last:\n%s", out)
	}
	if !strings.Contains(out, "x < y && z") {
		t.Errorf("messages must not be HTML-escaped:\n%s", out)
	}
	if strings.Contains(out, "Duration") || strings.Contains(out, "duration") {
		t.Errorf("a check's duration is not part of the JSON:\n%s", out)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := WriteJSON(&b, "s", []string{"x"}, false); err == nil {
		t.Error("a report that is not a JSON object must be refused")
	}
}

func TestWriteJUnit(t *testing.T) {
	checks := []Check{
		{ID: "p", Status: Pass, Message: "fine", Duration: 1500 * time.Millisecond},
		{ID: "w", Status: Warn, Message: "careful", Remedy: "look"},
		{ID: "f", Status: Fail, Message: "broken\nsecond line", Remedy: "fix it", Duration: 250 * time.Millisecond},
		{ID: "s", Status: Skip, Message: "not asked"},
	}
	type suiteWant struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Out string `xml:"system-out"`
		} `xml:"testcase"`
	}
	type docWant struct {
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Time     string      `xml:"time,attr"`
		Suites   []suiteWant `xml:"testsuite"`
	}
	for _, tt := range []struct {
		name               string
		suites             []Suite
		tests, fail, skips int
		time               string
	}{
		{"one timed suite", []Suite{{Name: "gate", Classname: "mosc.gate", Timed: true, Checks: checks}}, 4, 1, 1, "1.750"},
		{"two untimed suites", []Suite{{Name: "node/a", Checks: checks[:2]}, {Name: "node/b", Checks: checks[2:]}}, 4, 1, 1, ""},
		{"mixed: no document time", []Suite{{Name: "a", Timed: true, Checks: checks[:1]}, {Name: "b", Checks: checks[1:]}}, 4, 1, 1, ""},
		{"no suites", nil, 0, 0, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteJUnit(&b, "doc", tt.suites); err != nil {
				t.Fatal(err)
			}
			var got docWant
			if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatalf("not XML: %v\n%s", err, b.String())
			}
			if got.Tests != tt.tests || got.Failures != tt.fail || got.Skipped != tt.skips || got.Time != tt.time {
				t.Errorf("document counts %d/%d/%d time %q, want %d/%d/%d time %q", got.Tests, got.Failures, got.Skipped, got.Time, tt.tests, tt.fail, tt.skips, tt.time)
			}
			if len(got.Suites) != len(tt.suites) {
				t.Fatalf("%d suites, want %d", len(got.Suites), len(tt.suites))
			}
			for i, s := range got.Suites {
				if (s.Time != "") != tt.suites[i].Timed {
					t.Errorf("suite %s: time %q, timed %v", s.Name, s.Time, tt.suites[i].Timed)
				}
				for _, c := range s.Cases {
					switch c.Name {
					case "f":
						if c.Failure == nil || c.Failure.Message != "broken" || !strings.Contains(c.Failure.Text, "second line\nremedy: fix it") {
							t.Errorf("failure case: %+v", c.Failure)
						}
					case "w":
						if c.Out != "WARNING: careful\nremedy: look" {
							t.Errorf("warning case system-out %q", c.Out)
						}
					}
				}
			}
			if strings.Contains(b.String(), "&#xA;") {
				t.Error("multi-line messages must stay CDATA, not escaped newlines")
			}
		})
	}
}
