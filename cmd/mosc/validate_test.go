package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidatePlan(t *testing.T) {
	out, errOut, code := runCLI(t, "validate", "--openshift", "4.20", "--stack", "doca-3.3:ovs")
	if code != 0 || out != "valid: plan, 3 objects\n" || errOut != "" {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	// The master pool is a warning; --strict makes it fatal.
	_, errOut, code = runCLI(t, "validate", "--openshift", "4.20", "--pool", "master")
	if code != 0 || !strings.Contains(errOut, "warning: --pool:") {
		t.Errorf("master: exit %d, %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "validate", "--strict", "--openshift", "4.20", "--pool", "master")
	if code != exitFailure || !strings.Contains(errOut, "error: 1 warning(s) and --strict") {
		t.Errorf("--strict master: exit %d, %s", code, errOut)
	}
	// Invalid input fails the check (exit 1), naming the flag.
	_, errOut, code = runCLI(t, "validate", "--openshift", "4.20", "--push-spec", "quay.io/x/y")
	if code != exitFailure || !strings.Contains(errOut, "--push-spec: ") {
		t.Errorf("bad push spec: exit %d, %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "validate", "-f", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitError || !strings.Contains(errOut, "-f: ") {
		t.Errorf("missing site file: exit %d, %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "validate", "--openshift", "4.22", "--stack", "doca-3.2")
	if code != exitFailure || !strings.Contains(errOut, "does not support OpenShift 4.22") {
		t.Errorf("unsupported: exit %d, %s", code, errOut)
	}
}

func TestValidatePath(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, "render", "--openshift", "4.19", "-o", dir); code != 0 {
		t.Fatalf("render: %s", errOut)
	}
	mosc := filepath.Join(dir, "50-machineosconfig-worker.yaml")
	good, _ := os.ReadFile(mosc)
	for _, tc := range []struct {
		name, from, to, want string
	}{
		// @renderedImagePushSpec: is replaced by the file:line:col of that key.
		{"tagless push spec", "os-image:latest", "os-image", `@renderedImagePushSpec: MachineOSConfig/worker: spec.renderedImagePushSpec: "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image" has no tag`},
		{"located in the Containerfile", "FROM configs AS final", "FROM configs AS base", `@content: MachineOSConfig/worker: spec.containerFile[0].content: line 1`},
		{"unknown field located", "renderedImagePushSpec:", "renderedImagePushspec:", `@renderedImagePushspec: MachineOSConfig: unknown field "spec.renderedImagePushspec"`},
		{"name != pool", "  name: worker\nspec:", "  name: infra\nspec:", `MachineOSConfig/infra: metadata.name: MachineOSConfig name "infra" must equal its pool "worker"`},
		{"later stage", "      FROM configs AS final\n", "      FROM configs AS final\n      FROM scratch\n", `line 2: "FROM scratch" starts a later stage`},
		{"no FROM configs", "FROM configs AS final", "FROM configs AS base", `must start with "FROM configs AS final"`},
		{"unknown field", "renderedImagePushSpec:", "renderedImagePushspec:", `unknown field "spec.renderedImagePushspec"`},
		{"no NoArch entry", "containerfileArch: NoArch", "containerfileArch: AMD64", "want exactly one NoArch Containerfile entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			if bad == string(good) {
				t.Fatalf("%q not in %s", tc.from, mosc)
			}
			os.WriteFile(mosc, []byte(bad), 0o644)
			defer os.WriteFile(mosc, good, 0o644)
			want := tc.want
			if key, rest, ok := strings.Cut(want, ": "); ok && strings.HasPrefix(key, "@") {
				// Findings point at the field's key: file:line:column.
				for i, l := range strings.Split(bad, "\n") {
					if c := strings.Index(l, key[1:]+":"); c >= 0 {
						want = fmt.Sprintf("%s:%d:%d: %s", mosc, i+1, c+1, rest)
						break
					}
				}
			}
			_, errOut, code := runCLI(t, "validate", dir)
			if code != exitFailure || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr:\n%s\nwant: %s", code, errOut, want)
			}
		})
	}
	out, _, code := runCLI(t, "validate", "--strict", dir)
	if code != 0 || !strings.Contains(out, "valid: "+dir+", 4 objects") {
		t.Errorf("restored dir: exit %d %s", code, out)
	}
	// A single file works too; a missing path is a usage error.
	if _, errOut, code := runCLI(t, "validate", mosc); code != 0 {
		t.Errorf("single file: %s", errOut)
	}
	if _, _, code := runCLI(t, "validate", filepath.Join(dir, "nope")); code != exitError {
		t.Errorf("missing path: exit %d, want 2", code)
	}
	if _, errOut, code := runCLI(t, "validate", "--pool", "x", dir); code != exitError || !strings.Contains(errOut, "--pool: plan flags do not apply") {
		t.Errorf("flags with PATH: exit %d %s", code, errOut)
	}
}
