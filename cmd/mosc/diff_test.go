package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"diff/openshift-4.20-4.21.txt", []string{"--openshift", "4.20", "--to", "4.21"}},
		{"diff/openshift-4.21-4.22.txt", []string{"--openshift", "4.21", "--to", "4.22"}},
		{"diff/openshift-4.21-4.22.json", []string{"--openshift", "4.21", "--to", "4.22", "-o", "json"}},
		{"diff/openshift-4.18-4.19.txt", []string{"--openshift", "4.18.20", "--to", "4.19"}},
		// 4.18.20 brought On-Cluster Layering v1 (openshift/api PR #2316):
		// the whole MachineOSConfig changes shape.
		{"diff/openshift-4.18.15-4.18.20.txt", []string{"--openshift", "4.18.15", "--to", "4.18.20"}},
		{"diff/openshift-4.17-4.18.json", []string{"--openshift", "4.17", "--to", "4.18", "-o", "json"}},
		{"diff/doca-3.2-3.3.txt", []string{"--openshift", "4.21", "--stack", "doca-3.2", "--to-stack", "doca-3.3"}},
		{"diff/doca-3.3-full-ovs.txt", []string{"--openshift", "4.21", "--to-stack", "doca-3.3:ovs"}},
		{"diff/platform-x86_64-aarch64.txt", []string{"--openshift", "4.21", "--platform", "rhel9-x86_64", "--to-platform", "rhel9-aarch64"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"diff"}, tt.args...)...)
			if code != exitFailure {
				t.Fatalf("exit %d, want 1 (differences); stderr:\n%s", code, errOut)
			}
			if strings.HasSuffix(tt.golden, ".json") {
				var doc map[string]any
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestDiffSame(t *testing.T) {
	out, errOut, code := runCLI(t, "diff", "--openshift", "4.21", "--to", "4.21")
	if code != exitOK || !strings.HasSuffix(out, "0 changed, 0 added, 0 removed, 4 unchanged\n") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestDiffDirectories(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, r := range []struct{ dir, version string }{{a, "4.18"}, {b, "4.19"}} {
		if _, errOut, code := runCLI(t, "render", "--openshift", r.version, "-o", r.dir); code != 0 {
			t.Fatalf("render: %s", errOut)
		}
	}
	out, errOut, code := runCLI(t, "diff", a, b)
	if code != exitFailure {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"--- " + a + "\n+++ " + b + "\n", "~ spec.containerFile[NoArch].content:\n", "-  ostree container commit\n", "+  bootc container lint\n", "1 changed, 0 added, 0 removed, 3 unchanged\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The same text as the diff of the two plans, apart from the side names.
	planOut, _, _ := runCLI(t, "diff", "--openshift", "4.18", "--to", "4.19")
	body := func(s string) string { return s[strings.Index(s, "\n\n"):] }
	if body(out) != body(planOut) {
		t.Errorf("directory diff differs from plan diff:\n%s\n---\n%s", out, planOut)
	}
	if out, _, code := runCLI(t, "diff", a, a); code != exitOK || !strings.Contains(out, "4 unchanged") {
		t.Errorf("same directory: exit %d\n%s", code, out)
	}
}

func TestDiffErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing to compare", []string{"diff", "--openshift", "4.21"}, "nothing to compare"},
		{"bad output", []string{"diff", "--openshift", "4.21", "--to", "4.22", "-o", "yaml"}, `-o: unknown format "yaml"`},
		{"unknown target", []string{"diff", "--openshift", "4.21", "--to", "4.99"}, `to side: --openshift: unknown OpenShift release "4.99"`},
		{"unknown stack", []string{"diff", "--openshift", "4.21", "--to-stack", "doca-9"}, "doca-9"},
		{"empty --to", []string{"diff", "--openshift", "4.21", "--to", ""}, "--to: must not be empty"},
		{"one directory", []string{"diff", "x"}, "two directories"},
		{"dirs and --to", []string{"diff", "--to", "4.21", "a", "b"}, "cannot be combined"},
		{"--live and --to", []string{"diff", "--live", "--to", "4.21"}, "--live compares the cluster"},
		{"missing directory", []string{"diff", "/nonexistent/a", "/nonexistent/b"}, "/nonexistent/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, tt.args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// TestDocsExamples runs the offline examples of docs/gate.md ("$ mosc …"
// lines in plain fenced blocks, followed by their output) and compares the
// output, so the documentation cannot rot. Examples that need a cluster, a
// site file or a registry are covered by e2e/gate_test.go instead.
func TestDocsExamples(t *testing.T) {
	noCluster(t)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "gate.md"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, block := range strings.Split(string(doc), "```\n")[1:] {
		if !strings.HasPrefix(block, "$ mosc ") {
			continue
		}
		for _, ex := range strings.Split(block, "\n$ ")[0:] {
			ex = strings.TrimPrefix(ex, "$ ")
			cmdLine, want, _ := strings.Cut(ex, "\n")
			if strings.Contains(cmdLine, "…") || strings.Contains(cmdLine, " -f ") || strings.Contains(cmdLine, "--live") || strings.Contains(cmdLine, ";") {
				continue
			}
			args := strings.Fields(cmdLine)[1:]
			out, errOut, code := runCLI(t, args...)
			if code == exitError {
				t.Errorf("%s: exit 2: %s", cmdLine, errOut)
				continue
			}
			if got := out + errOut; got != want {
				t.Errorf("docs/gate.md example %q is stale:\n%s", cmdLine, cmp.Diff(want, got))
			}
			ran++
		}
	}
	if ran < 5 {
		t.Errorf("ran %d examples from docs/gate.md, want at least 5", ran)
	}
}
