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

// TestValidatePoolKernel: validate PATH refuses, offline, a directory whose
// MachineConfigs give a pool the kernel-devel extension (mosc's full
// variant) and a non-default kernelType, as apply and gate refuse it on the
// cluster (issue 11 finding 4), naming the file, line and kernelType; and
// the ipsec extension on a pool mosc layers (finding 5).
func TestValidatePoolKernel(t *testing.T) {
	mc := func(name, pool, spec string) string {
		return "apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata:\n  name: " + name +
			"\n  labels:\n    machineconfiguration.openshift.io/role: " + pool + "\nspec:\n" + spec
	}
	for _, tc := range []struct {
		name, stack, file, doc string
		code                   int
		want                   string
	}{
		{"realtime with kernel-devel", "doca-3.3:full", "99-worker-realtime.yaml", mc("99-worker-realtime", "worker", "  kernelType: realtime\n"), exitFailure,
			"99-worker-realtime.yaml:8:3: MachineConfig/99-worker-realtime: spec.kernelType: kernelType realtime on pool worker, and MachineConfig/99-mosc-worker-extensions installs the kernel-devel extension: MCO refuses kernel-devel with a non-default kernel"},
		{"64k-pages with kernel-devel", "doca-3.2:full", "99-worker-64k.yaml", mc("99-worker-64k", "worker", "  kernelType: 64k-pages\n"), exitFailure,
			"kernelType 64k-pages on pool worker"},
		{"realtime on another pool", "doca-3.3:full", "99-infra-rt.yaml", mc("99-infra-rt", "infra", "  kernelType: realtime\n"), 0, ""},
		{"default kernelType", "doca-3.3:full", "99-worker-kernel.yaml", mc("99-worker-kernel", "worker", "  kernelType: default\n"), 0, ""},
		{"realtime with the ovs variant", "doca-3.3:ovs", "99-worker-realtime.yaml", mc("99-worker-realtime", "worker", "  kernelType: realtime\n"), 0, ""},
		{"ipsec on the layered pool", "doca-3.3:ovs", "80-ipsec-worker.yaml", mc("80-ipsec-worker", "worker", "  extensions:\n  - ipsec\n"), exitFailure,
			"80-ipsec-worker.yaml:8:3: MachineConfig/80-ipsec-worker: spec.extensions: the ipsec extension on pool worker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, errOut, code := runCLI(t, "render", "--openshift", "4.20", "--stack", tc.stack, "-o", dir); code != 0 {
				t.Fatalf("render: %s", errOut)
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			// As in a GitOps directory: the pool's own MachineConfig is one
			// more resource of the kustomization.
			k := filepath.Join(dir, "kustomization.yaml")
			kb, err := os.ReadFile(k)
			if err != nil || !strings.Contains(string(kb), "resources:\n") {
				t.Fatalf("%s: %v\n%s", k, err, kb)
			}
			if err := os.WriteFile(k, []byte(strings.Replace(string(kb), "resources:\n", "resources:\n- "+tc.file+"\n", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runCLI(t, "validate", dir)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant: %s", code, tc.code, out, errOut, tc.want)
			}
		})
	}
}
