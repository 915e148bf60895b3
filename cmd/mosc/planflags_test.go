package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/profile"
)

// resolveWithFlags runs a throwaway command that only resolves the plan.
func resolveWithFlags(t *testing.T, clusterVersion string, args ...string) (*profile.Plan, string, int) {
	t.Helper()
	var plan *profile.Plan
	app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	app.Commands = []*cli.Command{{
		Name:  "resolve",
		Flags: planFlags(),
		Action: func(c *cli.Context) error {
			p, _, _, err := resolvePlan(c, clusterVersion)
			plan = p
			return err
		},
	}}
	var errb bytes.Buffer
	app.ErrWriter = &errb
	err := app.Run(append([]string{"mosc", "resolve"}, args...))
	code := 0
	if err != nil {
		code = exitError
		if ee, ok := err.(*exitErr); ok {
			code = ee.code
		}
		return nil, err.Error(), code
	}
	return plan, errb.String(), code
}

func TestResolvePlanFlags(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "mosc.yaml")
	doc := "apiVersion: mosc.dev/v1alpha1\nkind: Site\nspec:\n  openshift: \"4.19\"\n  pool: worker\n  stacks: [doca-3.2]\n"
	if err := os.WriteFile(site, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	p, msg, code := resolveWithFlags(t, "", "-f", site)
	if code != 0 || p.OpenShift.Version != "4.19" || p.Pool != "worker" || p.Stacks[0].Name != "doca-3.2" {
		t.Fatalf("file only: exit %d %s %+v", code, msg, p)
	}
	// Flags beat the file.
	p, msg, code = resolveWithFlags(t, "", "-f", site, "--openshift", "4.21.2", "--pool", "master", "--stack", "doca-3.3:ovs", "--stack", "", "--internal-registry")
	if code != exitError || msg != "--stack: must not be empty" {
		t.Errorf("empty --stack: exit %d %q", code, msg)
	}
	p, msg, code = resolveWithFlags(t, "", "-f", site, "--openshift", "4.21.2", "--pool", "master", "--stack", "doca-3.3:ovs", "--internal-registry", "--storage-class", "lvms-vg1", "--registry-size", "50Gi", "--secrets", "placeholder", "--site", "lab", "--push-spec", "quay.io/x/y:z")
	if code != 0 {
		t.Fatalf("flags: exit %d %s", code, msg)
	}
	if p.OpenShift.Version != "4.21" || p.Pool != "master" || p.Stacks[0].Name != "doca-3.3" || p.Stacks[0].Variant != "ovs" ||
		p.Registry == nil || p.Registry.StorageClass != "lvms-vg1" || p.Registry.Size != "50Gi" || p.Secrets.Mode != profile.SecretsPlaceholder || p.Site != "lab" || p.MOSC.PushSpec != "quay.io/x/y:z" {
		t.Errorf("flags not applied: %+v", p)
	}
	// --internal-registry=false beats a file that enables it.
	on := strings.Replace(doc, "  pool: worker\n", "  pool: worker\n  registry: {internal: true}\n", 1)
	if err := os.WriteFile(site, []byte(on), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, msg, _ := resolveWithFlags(t, "", "-f", site, "--internal-registry=false"); p == nil || p.Registry != nil {
		t.Errorf("--internal-registry=false: %v %s", p, msg)
	}

	// The cluster's version fills in only when nothing else set the release.
	if p, msg, _ := resolveWithFlags(t, "4.20.15"); p == nil || p.OpenShift.Version != "4.20" {
		t.Errorf("cluster version: %v %s", p, msg)
	}
	if p, msg, _ := resolveWithFlags(t, "4.20.15", "-f", site); p == nil || p.OpenShift.Version != "4.19" {
		t.Errorf("file beats cluster version: %v %s", p, msg)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--openshift: OpenShift release not set: pass --openshift (e.g. --openshift 4.20) or set spec.openshift in the site file; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22"},
		{[]string{"--openshift", "4.20", "--pool", ""}, "--pool: must not be empty"},
		{[]string{"--openshift", "4.20", "--pool", "x", "--site", ""}, "--site: must not be empty"},
		{[]string{"-f", filepath.Join(dir, "missing.yaml")}, filepath.Join(dir, "missing.yaml") + ": reading site file: no such file or directory"},
		{[]string{"--openshift", "4.22", "--stack", "doca-2.9"}, "--stack: stack doca-2.9 does not support OpenShift 4.22 (RHEL 9.8); supported releases: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21"},
		{[]string{"--openshift", "4.20", "--profiles", filepath.Join(dir, "nope")}, filepath.Join(dir, "nope") + ": profiles directory: no such file or directory"},
	} {
		_, msg, code := resolveWithFlags(t, "", tc.args...)
		if code != exitError || msg != tc.want {
			t.Errorf("%v: exit %d\n got %q\nwant %q", tc.args, code, msg, tc.want)
		}
	}
}
