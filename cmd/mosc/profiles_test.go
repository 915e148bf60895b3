package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
)

func TestProfilesList(t *testing.T) {
	out, errOut, code := runCLI(t, "profiles", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1+7+3+3 || !strings.HasPrefix(lines[0], "KIND") || strings.Contains(lines[0], "SOURCE") {
		t.Fatalf("list output:\n%s", out)
	}
	for _, want := range []string{
		"OCL GA; doca-2.9, doca-3.2, doca-3.3",
		"OCL GA; doca-3.3",
		"OpenShift 4.16-4.21; 3 platform(s)",
		"OpenShift 4.16-4.22; 3 platform(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}

	out, _, code = runCLI(t, "profiles", "list", "-o", "json")
	var rows []profileRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 13 {
		t.Fatalf("json list: exit %d\n%s", code, out)
	}
	if r := rows[4]; r.Kind != "OpenShiftRelease" || r.Name != "4.20" || r.Source != "embedded" || !strings.HasPrefix(r.Summary, "RHEL 9.6") {
		t.Errorf("row 4 = %+v", r)
	}

	if _, errOut, code := runCLI(t, "profiles", "list", "-o", "wide"); code != exitError || !strings.Contains(errOut, `--output: unknown format "wide"; known: table, json`) {
		t.Errorf("bad -o: exit %d %s", code, errOut)
	}
}

func TestProfilesOverrideDir(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../profiles/openshift/4.22.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), `name: "4.22"`, `name: "4.23"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "4.23.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "profiles", "list", "--profiles", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "SOURCE") || !strings.Contains(out, filepath.Join(dir, "4.23.yaml")) {
		t.Errorf("override not listed with its source:\n%s", out)
	}
	// No stack lists 4.23 in its support matrix yet.
	if !strings.Contains(out, "unsupported") {
		t.Errorf("4.23 should show as unsupported:\n%s", out)
	}

	bad := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: mosc.dev/v1alpha1\nkind: Platform\nmetadata: {name: x}\nspec: {rpmArch: s390x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "profiles", "list", "--profiles", dir)
	if code != exitError || !strings.Contains(errOut, bad+":4:7: spec.rhelMajor: missing required field \"rhelMajor\"") {
		t.Errorf("broken override: exit %d\n%s", code, errOut)
	}
}

func TestProfilesShow(t *testing.T) {
	out, errOut, code := runCLI(t, "profiles", "show", "doca-2.9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "# Stack doca-2.9: profiles/stack/doca-2.9.yaml (embedded)\n") {
		t.Errorf("header:\n%s", out)
	}
	for _, want := range []string{
		"# OpenShift \\ platform  rhel9-aarch64  rhel9-bluefield  rhel9-x86_64\n",
		"# 4.20                  yes*           yes*             yes\n",
		"# 4.22                  no             no               no\n",
		"# no: stack doca-2.9 does not support OpenShift 4.22 (RHEL 9.8); supported releases: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// The output is still a valid profile: save it, edit it, use it with --profiles.
	if _, err := profile.DecodeProfile("shown.yaml", []byte(out)); err != nil {
		t.Errorf("show output does not decode as a profile: %v", err)
	}

	out, _, code = runCLI(t, "profiles", "show", "4.20.15")
	if code != 0 || !strings.HasPrefix(out, "# OpenShiftRelease 4.20: profiles/openshift/4.20.yaml (embedded)\n") || !strings.Contains(out, "# doca-3.3          yes*           yes*             yes\n") {
		t.Errorf("show 4.20.15: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, "profiles", "show", "rhel9-bluefield")
	if code != 0 || !strings.Contains(out, "dpu: true") || !strings.Contains(out, "# stack \\ OpenShift  4.16") {
		t.Errorf("show platform: exit %d\n%s", code, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"profiles", "show", "doca-9.9"}, `error: unknown profile "doca-9.9"; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22, rhel9-aarch64, rhel9-bluefield, rhel9-x86_64, doca-2.9, doca-3.2, doca-3.3`},
		{[]string{"profiles", "show"}, "error: show needs exactly one profile NAME"},
		{[]string{"profiles", "show", "--profiles", "/nonexistent/dir", "doca-3.3"}, "error: /nonexistent/dir: profiles directory: no such file or directory"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != exitError || !strings.HasPrefix(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want prefix %q", tc.args, code, errOut, tc.want)
		}
	}
}

// docs/profiles.md carries the support matrix; it must be the one the
// catalog produces, so the docs cannot rot.
func TestDocsMatrixIsCurrent(t *testing.T) {
	out, errOut, code := runCLI(t, "profiles", "matrix")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	doc, err := os.ReadFile("../../docs/profiles.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```\n$ mosc profiles matrix\n"+out+"```\n") {
		t.Errorf("docs/profiles.md does not contain the current `mosc profiles matrix` output:\n%s", out)
	}
}

// Issue 11 finding 7: show -o json carries the sources, and the matrix marks
// profiles with UNVERIFIED facts.
func TestProfilesSources(t *testing.T) {
	out, errOut, code := runCLI(t, "profiles", "show", "doca-3.3", "-o", "json")
	var shown []struct {
		Name    string
		Facts   []string
		Sources []struct {
			Facts      []string
			URL, Read  string
			Unverified string
		}
		Unverified, Uncovered []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || len(shown) != 1 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	s := shown[0]
	if s.Name != "doca-3.3" || len(s.Facts) == 0 || len(s.Uncovered) != 0 || !slices.Contains(s.Unverified, "spec.version") {
		t.Errorf("show -o json: %+v", s)
	}
	cited := false
	for _, src := range s.Sources {
		if src.URL == "https://docs.nvidia.com/doca/archive/3-2-1/general-support/index.html" && src.Read == "2026-11-29" && slices.Contains(src.Facts, "spec.variants.kernelModules") {
			cited = true
		}
	}
	if !cited {
		t.Errorf("the DKMS source is not shown: %+v", s.Sources)
	}
	if _, errOut, code := runCLI(t, "profiles", "show", "doca-3.3", "-o", "xml"); code != exitError || !strings.Contains(errOut, `unknown format "xml"`) {
		t.Errorf("-o xml: exit %d %s", code, errOut)
	}
	m, _, _ := runCLI(t, "profiles", "matrix")
	for _, want := range []string{"rhel9-x86_64?:\n", "  doca-2.9?  ", "?: UNVERIFIED facts", "  doca-2.9: spec.version, spec.versions, spec.lts, spec.repo.url", "spec.repo.unsigned"} {
		if !strings.Contains(m, want) {
			t.Errorf("matrix lacks %q:\n%s", want, m)
		}
	}
}
