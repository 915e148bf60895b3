package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	r := &Report{From: "4.20.15", To: "4.21.11", Pool: "worker", Stacks: []string{"doca-3.3:full"}, ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64", Started: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	r.Add(Check{ID: IDTargetProfile, Status: Pass, Message: "profile 4.21 found", Duration: 2 * time.Millisecond})
	r.Add(Check{ID: IDRepoPreflight, Status: Fail, Message: "doca-3.3: repo has no doca-openvswitch\nsecond line <&> ]]>", Remedy: "mirror it", Duration: 1500 * time.Millisecond})
	r.Add(Check{ID: IDPushToken, Status: Warn, Message: "expires in 5 day(s)", Remedy: "mosc apply"})
	r.Add(Check{ID: IDPoolHealth, Status: Skip, Message: "--offline: the cluster is not read"})
	return r
}

// The attributes the common JUnit XSD (and Jenkins, GitLab, Azure) require.
type xTestsuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     *string  `xml:"name,attr"`
	Tests    *string  `xml:"tests,attr"`
	Failures *string  `xml:"failures,attr"`
	Errors   *string  `xml:"errors,attr"`
	Skipped  *string  `xml:"skipped,attr"`
	Time     *string  `xml:"time,attr"`
	Suites   []struct {
		Name      *string `xml:"name,attr"`
		Tests     *string `xml:"tests,attr"`
		Failures  *string `xml:"failures,attr"`
		Errors    *string `xml:"errors,attr"`
		Skipped   *string `xml:"skipped,attr"`
		Time      *string `xml:"time,attr"`
		Timestamp string  `xml:"timestamp,attr"`
		Cases     []struct {
			Name      *string `xml:"name,attr"`
			Classname *string `xml:"classname,attr"`
			Time      *string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut *string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration:\n%s", b.String())
	}
	var doc xTestsuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	must := func(what string, p *string) string {
		t.Helper()
		if p == nil {
			t.Fatalf("required attribute %s missing:\n%s", what, b.String())
		}
		return *p
	}
	num := func(what string, p *string) int {
		n, err := strconv.Atoi(must(what, p))
		if err != nil {
			t.Fatalf("%s=%q is not an integer", what, *p)
		}
		return n
	}
	must("testsuites@name", doc.Name)
	if num("testsuites@tests", doc.Tests) != 4 || num("testsuites@failures", doc.Failures) != 1 || num("testsuites@errors", doc.Errors) != 0 || num("testsuites@skipped", doc.Skipped) != 1 {
		t.Errorf("testsuites counts wrong:\n%s", b.String())
	}
	if _, err := strconv.ParseFloat(must("testsuites@time", doc.Time), 64); err != nil {
		t.Error(err)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("suites = %d", len(doc.Suites))
	}
	s := doc.Suites[0]
	if must("testsuite@name", s.Name) != "mosc gate 4.20.15 -> 4.21.11" || num("testsuite@tests", s.Tests) != 4 || num("testsuite@failures", s.Failures) != 1 ||
		num("testsuite@errors", s.Errors) != 0 || num("testsuite@skipped", s.Skipped) != 1 || must("testsuite@time", s.Time) != "1.502" || s.Timestamp != "2026-11-21T12:00:00" {
		t.Errorf("testsuite attributes wrong:\n%s", b.String())
	}
	if len(s.Cases) != 4 {
		t.Fatalf("testcases = %d", len(s.Cases))
	}
	for i, c := range s.Cases {
		must("testcase@name", c.Name)
		must("testcase@classname", c.Classname)
		must("testcase@time", c.Time)
		switch i {
		case 0:
			if c.Failure != nil || c.Skipped != nil {
				t.Error("pass has failure/skipped")
			}
		case 1:
			if c.Failure == nil || c.Failure.Message != "doca-3.3: repo has no doca-openvswitch" || !strings.Contains(c.Failure.Text, "second line <&> ]]>\nremedy: mirror it") {
				t.Errorf("failure = %+v", c.Failure)
			}
		case 2:
			if c.Failure != nil || c.SystemOut == nil || !strings.Contains(*c.SystemOut, "WARNING: expires in 5 day(s)") {
				t.Errorf("warn must pass with system-out: %+v", c)
			}
		case 3:
			if c.Skipped == nil || c.Skipped.Message != "--offline: the cluster is not read" {
				t.Errorf("skipped = %+v", c.Skipped)
			}
		}
	}
}

func TestWriteTableAndJSON(t *testing.T) {
	r := sampleReport()
	var tb, jb bytes.Buffer
	if err := WriteTable(&tb, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"mosc gate: OpenShift 4.20.15 → 4.21.11, pool worker, stacks doca-3.3:full\n",
		"STATUS  CHECK           MESSAGE\n",
		"PASS    target-profile  profile 4.21 found\n",
		"FAIL    repo-preflight  doca-3.3: repo has no doca-openvswitch\n" + strings.Repeat(" ", 24) + "second line <&> ]]>\n" + strings.Repeat(" ", 24) + "→ mirror it\n",
		"SKIP    pool-health     --offline",
		"FAIL: 1 passed, 1 warnings, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
	if err := WriteJSON(&jb, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema, Verdict, From, To string
		Summary                   Summary
		Checks                    []Check
	}
	if err := json.Unmarshal(jb.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != SchemaVersion || doc.Verdict != "fail" || doc.Summary != (Summary{Pass: 1, Warn: 1, Fail: 1, Skip: 1}) || len(doc.Checks) != 4 || doc.Checks[1].Remedy != "mirror it" {
		t.Errorf("json = %+v", doc)
	}
}

func TestRunOffline(t *testing.T) {
	cur, tgt := plan(t, "4.21"), plan(t, "4.22")
	r := Run(context.Background(), Options{Catalog: catalog(t), Current: cur, CurrentVersion: "4.21.11", Target: tgt, TargetVersion: "4.22.0", Offline: true, MinTokenDays: 14})
	got := map[string]Status{}
	var ids []string
	for _, c := range r.Checks {
		got[c.ID] = c.Status
		ids = append(ids, c.ID)
	}
	want := map[string]Status{IDTargetProfile: Pass, IDStackSupport: Pass, IDBundleDiff: Pass, IDReleasePayload: Skip, IDTargetKernel: Skip, IDRepoPreflight: Skip, IDRepoSignatures: Skip, IDInstallResolve: Skip, IDClusterUpgradeable: Skip, IDBasePull: Skip, IDPoolHealth: Skip, IDPoolMachineConfigs: Skip, IDLastBuild: Skip, IDNodes: Skip, IDPushToken: Skip}
	if len(got) != len(want) {
		t.Errorf("checks = %v", ids)
	}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("%s = %s, want %s", id, got[id], s)
		}
	}
	if r.Failed() || r.Pool != "worker" || r.Stacks[0] != "doca-3.3:full" {
		t.Errorf("report = %+v", r)
	}
	// Without a cluster the live checks skip with the reason given; a
	// payload that cannot be named fails (only --offline skips it).
	r = Run(context.Background(), Options{Catalog: catalog(t), Current: cur, CurrentVersion: "4.21", Target: tgt, TargetVersion: "4.22", ClusterSkip: "no kubeconfig", Repo: noNetwork,
		ReleaseImage: "", MinTokenDays: 14})
	for _, c := range r.Checks {
		if c.ID == IDReleasePayload && (c.Status != Fail || !strings.Contains(c.Message, "--to 4.22 names no patch level") || !strings.Contains(c.Remedy, "--offline")) {
			t.Errorf("payload check = %+v", c)
		}
		if c.ID == IDPushToken && c.Message != "no kubeconfig" {
			t.Errorf("push token = %+v", c)
		}
	}
}
