package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gate --fleet --offline: every cluster of the test fleet is gated (the
// multi-pool core-1 once per pool), JSON and JUnit carry one entry per
// cluster, and a stack that does not support the target fails its
// clusters, named in the exit error.
func TestGateFleetOffline(t *testing.T) {
	dir := t.TempDir()
	junit := filepath.Join(dir, "gate.xml")
	out, errOut, code := runCLI(t, "gate", "--fleet", testFleet, "--to", "4.21.11", "--offline", "-o", "json", "--junit", junit)
	var rep struct {
		Schema, Verdict string
		Clusters        []struct {
			Cluster, From, To, Access, Verdict string
			Failing                            []string
			Pools                              []struct{ Pool string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, %v: %s\n%s", code, err, errOut, out)
	}
	if rep.Schema != "mosc.dev/gate-fleet/v1" || len(rep.Clusters) != 4 {
		t.Fatalf("report: %+v", rep)
	}
	pools := map[string]string{}
	for _, c := range rep.Clusters {
		var ps []string
		for _, p := range c.Pools {
			ps = append(ps, p.Pool)
		}
		pools[c.Cluster] = c.From + " " + strings.Join(ps, ",") + " " + c.Access
	}
	if pools["core-1"] != "4.19.9 worker,dpu-worker offline" || pools["sno-west-1"] != "4.21.4 master offline" {
		t.Errorf("clusters: %v", pools)
	}
	// Every stack of the test fleet supports 4.21: all pass.
	for _, c := range rep.Clusters {
		if c.Verdict != "pass" || c.To != "4.21.11" {
			t.Errorf("%s: %s → %s %s %v", c.Cluster, c.From, c.To, c.Verdict, c.Failing)
		}
	}
	if code != 0 || rep.Verdict != "pass" {
		t.Errorf("exit %d, verdict %s: %s", code, rep.Verdict, errOut)
	}
	x, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x, &doc); err != nil || len(doc.Suites) != 4 {
		t.Fatalf("junit: %v, %d suites\n%s", err, len(doc.Suites), x)
	}
	for _, s := range doc.Suites {
		if strings.HasPrefix(s.Name, "core-1:") && (len(s.Cases) < 2 || s.Cases[0].Name != "worker/target-profile") {
			t.Errorf("core-1's suite names cases by pool: %+v", s.Cases[:1])
		}
	}

	// doca-3.2 (group core) does not support 4.22: core-1 fails, per pool,
	// and is named.
	out, errOut, code = runCLI(t, "gate", "--fleet", testFleet, "--to", "4.22.0", "--offline")
	if code != 1 || !strings.Contains(out, "core-1      4.19.9   4.22.0  worker,dpu-worker  offline  FAIL     worker/stack-support, dpu-worker/stack-support") ||
		!strings.Contains(out, "3 passed, 1 failed: cluster core-1") || !strings.Contains(errOut, "gate failed on 1 of 4 clusters: cluster core-1") {
		t.Errorf("--to 4.22.0: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("gate --fleet --to 4.22.0 --offline:\n%s", out)
}

// The fleet forms refuse what they cannot take.
func TestFleetFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"gate", "--fleet", testFleet, "--to", "4.21.11", "--context", "x"}, "--context: each cluster's context is the one named after it"},
		{[]string{"gate", "--fleet", testFleet, "--to", "4.21.11", "--build"}, "--build: not with --fleet"},
		{[]string{"gate", "--fleet", testFleet, "--to", "4.21.11", "--parallel", "0"}, "--parallel: must be at least 1"},
		{[]string{"gate", "--fleet", testFleet, "--to", "4.21.11", "--openshift", "4.20"}, "--openshift: not with --fleet"},
		{[]string{"gate", "--openshift", "4.20", "--to", "4.21.11", "--parallel", "2", "--offline"}, "--parallel: only with --fleet"},
		{[]string{"status", "--fleet", testFleet, "--save-failure", "x"}, "--save-failure: not with --fleet"},
		{[]string{"diff", "--fleet", testFleet}, "--fleet: nothing to compare with"},
		{[]string{"diff", "--from-fleet", testFleet}, "need --fleet FILE"},
		{[]string{"diff", "--fleet", testFleet, "--from-tree", "x", "--from-fleet", testFleet}, "--from-tree is a rendered tree"},
		{[]string{"diff", "--fleet", testFleet, "--from-fleet", testFleet, "--to", "4.21"}, "--to: not with --fleet"},
		{[]string{"diff", "--fleet", testFleet, "--from-tree", "nope"}, "--from-tree: nope: not a tree of mosc render --fleet"},
	} {
		_, errOut, code := runCLI(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, errOut, tt.want)
		}
	}
}

// diff --fleet against the tree the same inventory rendered: no change,
// exit 0; against an edited inventory: exit 1 and the change grouped.
func TestDiffFleet(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	if _, errOut, code := runCLI(t, "render", "--fleet", testFleet, "-o", tree); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := runCLI(t, "diff", "--fleet", testFleet, "--from-tree", tree)
	if code != 0 || !strings.Contains(out, "0 clusters changed, 4 unchanged") {
		t.Errorf("same: exit %d\n%s\n%s", code, out, errOut)
	}
	b, _ := os.ReadFile(testFleet)
	edited := filepath.Join(filepath.Dir(testFleet), "edited-fleet-test.yaml")
	if err := os.WriteFile(edited, []byte(strings.ReplaceAll(string(b), `"4.20.15"`, `"4.21.4"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(edited)
	out, errOut, code = runCLI(t, "diff", "--fleet", edited, "--from-fleet", testFleet)
	if code != 1 || !strings.Contains(out, "\n2 clusters: MachineOSConfig master ") || !strings.Contains(out, "2 clusters changed, 2 unchanged") {
		t.Errorf("edited: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "diff", "--fleet", edited, "--from-tree", tree, "-o", "json")
	if code != 1 || !strings.Contains(out, `"schema": "mosc.dev/diff-fleet/v1"`) {
		t.Errorf("json: exit %d\n%s", code, out)
	}
}
