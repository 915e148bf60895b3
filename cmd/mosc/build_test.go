package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/build"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/profile"
)

func TestBuildUsageErrors(t *testing.T) {
	noCluster(t)
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "pull.txt")
	if err := os.WriteFile(notJSON, []byte("secret-token-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no base image", []string{"build"}, "the base image is unknown: pass --base-image REF, or --release-image REF"},
		{"bad format", []string{"build", "--base-image", "x", "-o", "yaml"}, `-o: unknown format "yaml"; known: table, json`},
		{"push without tag", []string{"build", "--base-image", "x", "--push"}, "--push: needs --tag"},
		{"push secret without push", []string{"build", "--base-image", "x", "--push-secret", notJSON}, "--push-secret: only used with --push"},
		{"unknown stream", []string{"build", "--release-image", "quay.io/x/y:1", "--stream", "rhel-coreos-11"}, `--stream: unknown OS image tag "rhel-coreos-11"; known: rhel-coreos, rhel-coreos-10`},
		{"bad reference", []string{"build", "--base-image", "UPPER/case:ref"}, "--base-image: "},
		{"empty tag", []string{"build", "--base-image", "x", "--tag", ""}, "--tag: must not be empty"},
		{"bad plan flag", []string{"build", "--base-image", "x", "--stack", "doca-9.9"}, "doca-9.9"},
		{"pull secret not JSON", []string{"build", "--base-image", "x", "--registry-config", notJSON}, "--registry-config " + notJSON + ": not a valid dockerconfigjson document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{tt.args[0], "--openshift", "4.20"}, tt.args[1:]...)
			_, errOut, code := runCLI(t, args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
			if strings.Contains(errOut, "secret-token-value") {
				t.Errorf("a secret file's content reached stderr: %q", errOut)
			}
		})
	}
}

// Neither buildah nor podman on PATH: exit 2 with the install hint.
func TestBuildNoBuilder(t *testing.T) {
	noCluster(t)
	t.Setenv("PATH", t.TempDir())
	_, errOut, code := runCLI(t, "build", "--openshift", "4.20", "--base-image", "example.com/rhcos:1")
	if code != exitError || !strings.Contains(errOut, "needs buildah (the builder MCO uses) or podman on PATH") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// --dry-run prints the wrapper Containerfile (MCO's stages, then the
// user's) and the builder command with the build-input copies mounted.
func TestBuildDryRun(t *testing.T) {
	noCluster(t)
	out, errOut, code := runCLI(t, "build", "--openshift", "4.20", "--stack", "doca-3.3:ovs", "--pool", "worker",
		"--base-image", "example.com/rhcos@sha256:1111111111111111111111111111111111111111111111111111111111111111", "--dry-run")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"FROM example.com/rhcos@sha256:1111111111111111111111111111111111111111111111111111111111111111 AS extract\n",
		"AS configs\n",
		"LABEL machineconfigpool=worker\n",
		"\nFROM configs AS final\n",
		"dnf install -y --setopt=install_weak_deps=False --enablerepo=doca,baseos,appstream,crb doca-openvswitch",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("wrapper lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "AS configs") > strings.Index(out, "FROM configs AS final") {
		t.Error("the user's stage must follow MCO's")
	}
	for _, want := range []string{"builder command: ", " --tag localhost/mosc-build-worker:latest ", ":/etc/yum.repos.d:z,rw", "--build-arg HTTPS_PROXY="} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestBuildSchema checks build reports against the JSON Schema published in
// docs/build.md: a passing report, one with every kind of failing check,
// and a failed build (the e2e builds check real builder output too).
func TestBuildSchema(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "build.md"))
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- schema:build -->\n```json\n"
	i := strings.Index(string(doc), marker)
	if i < 0 {
		t.Fatalf("docs/build.md has no %q block", marker)
	}
	body := string(doc)[i+len(marker):]
	body = body[:strings.Index(body, "```")]
	var schema map[string]any
	if err := json.Unmarshal([]byte(body), &schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	facts := func(s string) *build.Facts { return build.ParseFacts([]byte(s)) }
	good := "@@ rpm\ndoca-all\t3.3.0-1\tx86_64\ndoca-openvswitch\t3.3.0040-1.el9\tx86_64\n@@ vswitchd\npath /usr/sbin/ovs-vswitchd\nowner doca-openvswitch\n@@ ldd\nlibc.so.6 => /lib64/libc.so.6\nrc 0\n@@ opt\nlink var/opt\n@@ var\nl /var/opt/x\n@@ tmpfiles\nL /var/opt/x - - - - /usr/lib/opt/x\n@@ lint\nok\nrc 0\n@@ du\n20\n@@ end\n"
	bad := "@@ rpm\nopenvswitch3.5\t3.5.0-1\tx86_64\n@@ vswitchd\npath /usr/sbin/ovs-vswitchd\nowner openvswitch3.5\n@@ ldd\nlibdoca.so => not found\nrc 0\n@@ opt\n@@ var\n@@ tmpfiles\n@@ lint\nLint failed\nrc 1\n@@ du\n10\n@@ end\n"
	base := facts("@@ var\n@@ du\n10\n@@ end\n")
	exp := build.Expectations{Stacks: []profile.StackInfo{{Name: "doca-3.3", Version: "3.3.0", Packages: []string{"doca-all"}}},
		Present: []string{"doca-openvswitch"}, Absent: []string{"openvswitch[0-9]*"}, LintCommand: "bootc container lint", Extensions: []string{"kernel-devel"}}
	reports := map[string]*build.Report{}
	for name, checks := range map[string][]gate.Check{
		"good": append([]gate.Check{build.BuildCheck("localhost/x:1", nil)}, build.Checks(facts(good), base, exp)...),
		"bad":  append([]gate.Check{build.BuildCheck("localhost/x:1", nil)}, build.Checks(facts(bad), base, exp)...),
		"failed build": append([]gate.Check{build.BuildCheck("localhost/x:1", build.ParseFailure([]string{
			"STEP 2/2: RUN set -eux; dnf install -y doca-all", "+ dnf install -y doca-all", "Error: Unable to find a match: doca-all",
			`Error: building at STEP "RUN set -eux; dnf install -y doca-all": exit status 1`}))}, build.SkippedInspection()...),
	} {
		r := &build.Report{Image: "localhost/x:1", BaseImage: "example.com/rhcos:1", Builder: "buildah", OpenShift: "4.20",
			Platform: "rhel9-x86_64", Pool: "worker", Stacks: []string{"doca-3.3:full"}, Differences: build.Differences}
		for _, c := range checks {
			r.Add(c)
		}
		reports[name] = r
	}
	if reports["good"].Failed() || !reports["bad"].Failed() || !reports["failed build"].Failed() {
		t.Fatal("verdicts wrong")
	}
	for name, r := range reports {
		var buf bytes.Buffer
		if err := build.WriteJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		for _, e := range validate(schema, schema, v, "$") {
			t.Errorf("%s: %s", name, e)
		}
	}
}

func TestGateBuildUsage(t *testing.T) {
	noCluster(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gate", "--openshift", "4.20", "--to", "4.21.3", "--offline", "--build"}, "--build: builds pull the target's base image; it cannot run with --offline"},
		{[]string{"gate", "--openshift", "4.20", "--to", "4.21.3", "--offline", "--base-image", "x"}, "--base-image: only used with --build"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != exitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// mosc build PATH builds manifests as they are on disk (e.g. edited in git).
func TestBuildPathDryRun(t *testing.T) {
	noCluster(t)
	dir := filepath.Join(t.TempDir(), "manifests")
	if _, errOut, code := runCLI(t, "render", "--openshift", "4.21", "--stack", "doca-3.2:ovs", "--pool", "worker", "-o", dir); code != exitOK {
		t.Fatalf("render: %s", errOut)
	}
	out, errOut, code := runCLI(t, "build", dir, "--base-image", "example.com/rhcos:4.21", "--dry-run")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "FROM example.com/rhcos:4.21 AS configs") || !strings.Contains(out, "\nFROM configs AS final\n") || !strings.Contains(out, "doca-openvswitch") {
		t.Errorf("wrapper of the manifests:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"build", dir, "--openshift", "4.20", "--base-image", "x"}, "--openshift: plan flags do not apply when building PATH"},
		{[]string{"build", filepath.Join(dir, "nope"), "--base-image", "x"}, "no such file or directory"},
		{[]string{"build", dir, dir, "--base-image", "x"}, "build takes at most one PATH, got 2"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != exitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
