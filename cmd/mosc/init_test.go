package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
)

func TestInitWritesADecodableSite(t *testing.T) {
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, s *profile.Site, p *profile.Plan)
	}{
		{"defaults", nil, func(t *testing.T, s *profile.Site, p *profile.Plan) {
			if s.Spec.OpenShift != "" || s.Spec.Pool != "worker" || s.Spec.Platform != "rhel9-x86_64" || s.Spec.Stacks[0] != (profile.StackRef{Name: "doca-3.3", Variant: "full"}) {
				t.Errorf("site %+v", s.Spec)
			}
		}},
		{"walkthrough", []string{"--openshift", "4.20.15", "--pool", "master", "--site", "sno-lab"}, func(t *testing.T, s *profile.Site, p *profile.Plan) {
			if p.OpenShift.Version != "4.20" || p.Pool != "master" || p.Site != "sno-lab" || p.Stacks[0].Packages[0] != "doca-all" || !p.RepoFiles[0].Repos[0].GPGCheck {
				t.Errorf("plan %+v", p)
			}
			// Only the deliberate master-pool warning: the example itself warns about nothing.
			if len(p.Warnings) != 1 || p.Warnings[0].Field != "spec.pool" {
				t.Errorf("warnings %v", p.Warnings)
			}
		}},
		{"z-stream kept", []string{"--openshift", "v4.18.15"}, func(t *testing.T, s *profile.Site, p *profile.Plan) {
			if s.Spec.OpenShift != "4.18.15" || p.MOSC.APIVersion != "machineconfiguration.openshift.io/v1alpha1" || p.OpenShift.ZStream != "4.18.0-4.18.19" {
				t.Errorf("site openshift %q, plan %+v %+v", s.Spec.OpenShift, p.MOSC, p.OpenShift)
			}
		}},
		{"bluefield ovs", []string{"--openshift", "4.21", "--platform", "rhel9-bluefield", "--stack", "doca-3.2:ovs"}, func(t *testing.T, s *profile.Site, p *profile.Plan) {
			if p.Pool != "dpu-worker" || p.Stacks[0].Variant != "ovs" || !p.Node.HWOffload || p.Secrets.TokenTTLSeconds != 30*24*3600 {
				t.Errorf("plan pool %s stacks %+v node %+v", p.Pool, p.Stacks, p.Node)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "mosc.yaml")
			_, errOut, code := runCLI(t, append([]string{"init", "-o", file}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(errOut, "wrote "+file) {
				t.Errorf("stderr %q", errOut)
			}
			s, err := profile.LoadSite(file)
			if err != nil {
				t.Fatalf("init output does not decode: %v", err)
			}
			var p *profile.Plan
			if s.Spec.OpenShift != "" {
				if p, err = cat.Resolve(s); err != nil {
					t.Fatalf("init output does not resolve: %v", err)
				}
			}
			tt.check(t, s, p)
		})
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mosc.yaml")
	if err := os.WriteFile(file, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "init", "-o", file)
	if code != exitError || errOut != "error: "+file+" already exists; use --force to overwrite it\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Errorf("file changed: %q", b)
	}
	if _, errOut, code := runCLI(t, "init", "-o", file, "--force", "--openshift", "4.19"); code != 0 {
		t.Fatalf("--force: exit %d %s", code, errOut)
	}
	if s, err := profile.LoadSite(file); err != nil || s.Spec.OpenShift != "4.19" {
		t.Errorf("after --force: %v %v", s, err)
	}
}

func TestInitStdoutAndBadFlags(t *testing.T) {
	out, _, code := runCLI(t, "init", "-o", "-", "--stack", "doca-2.9:ovs")
	if code != 0 || !strings.Contains(out, "  - name: doca-2.9\n    variant: ovs\n    # version: 2.9.4") {
		t.Errorf("stdout: exit %d\n%s", code, out)
	}
	if _, err := profile.DecodeSite("stdout.yaml", []byte(out)); err != nil {
		t.Errorf("stdout output does not decode: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "-o", "-", "--stack", "doca-9.9"}, `error: --stack: unknown stack "doca-9.9"; known: doca-2.9, doca-3.2, doca-3.3` + "\n"},
		{[]string{"init", "-o", "-", "--stack", "doca-3.3:tiny"}, `error: --stack: unknown variant "tiny" of stack doca-3.3; known: full, ovs` + "\n"},
		{[]string{"init", "-o", "-", "--platform", "s390x"}, `error: --platform: unknown platform "s390x"; known: rhel9-aarch64, rhel9-bluefield, rhel9-x86_64` + "\n"},
		{[]string{"init", "-o", "-", "--openshift", "4.22", "--stack", "doca-2.9"}, `error: --stack: stack doca-2.9 does not support OpenShift 4.22 (RHEL 9.8); supported releases: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21` + "\n"},
		{[]string{"init", "-o", ""}, "error: -o: must not be empty\n"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != exitError || errOut != tc.want {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}

// mosc init --fleet writes a commented inventory that decodes and whose
// example clusters resolve; plan flags that belong to clusters are refused.
func TestInitFleet(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	_, errOut, code := runCLI(t, "init", "--fleet", "-o", file, "--site", "ran", "--stack", "doca-3.2:ovs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "render it with: mosc render --fleet "+file) {
		t.Errorf("stderr %q", errOut)
	}
	f, err := profile.LoadFleet(file)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata.Name != "ran" || f.Spec.Defaults.Stacks[0] != (profile.StackRef{Name: "doca-3.2", Variant: "ovs"}) || len(f.Clusters()) != 3 {
		t.Errorf("fleet %+v", f)
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), "\n# Render it: mosc render --fleet "+file) {
		t.Errorf("no how-to comment:\n%s", data)
	}
	_, errOut, code = runCLI(t, "init", "--fleet", "-o", file)
	if code != 2 || !strings.Contains(errOut, "already exists") {
		t.Errorf("overwrite: exit %d: %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "init", "--fleet", "-o", "-", "--pool", "worker")
	if code != 2 || !strings.Contains(errOut, "--pool: not with --fleet") {
		t.Errorf("--pool: exit %d: %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "init", "--fleet", "-o", "-", "--stack", "doca-9")
	if code != 2 || !strings.Contains(errOut, "--stack: unknown stack") {
		t.Errorf("--stack: exit %d: %s", code, errOut)
	}
}
