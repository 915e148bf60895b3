package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{"argument", []string{"build", "worker"}, `build takes no arguments, got "worker"`},
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
		"dnf install -y --setopt=install_weak_deps=False doca-openvswitch",
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
