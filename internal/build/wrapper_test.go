package build

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./internal/build -update rewrites it):\n%s", name, got)
	}
}

// renderInputs renders a plan from the embedded catalog and collects its
// build inputs, as mosc build does.
func renderInputs(t *testing.T, o profile.Overrides, gpgKey string) (*Inputs, *profile.Plan) {
	t.Helper()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	site := profile.NewSite()
	if gpgKey != "" {
		dir := t.TempDir()
		key := filepath.Join(dir, "KEY")
		if err := os.WriteFile(key, []byte(gpgKey), 0o644); err != nil {
			t.Fatal(err)
		}
		site.Spec.Repos.GPGKeys = map[string]string{"doca": key}
	}
	site.Override(o)
	plan, err := cat.Resolve(site)
	if err != nil {
		t.Fatal(err)
	}
	res, err := render.Render(plan, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := FromBundle(res.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	return in, plan
}

// TestWrapperGolden: the generated wrapper Containerfile, one per release
// API shape (v1alpha1 4.17, v1 4.20) and each stack variant.
func TestWrapperGolden(t *testing.T) {
	cases := []struct {
		name string
		o    profile.Overrides
		ext  string
	}{
		{"wrapper-4.20-doca-3.3-full.Containerfile", profile.Overrides{OpenShift: "4.20", Stacks: []string{"doca-3.3:full"}, Pool: "worker"}, ""},
		{"wrapper-4.22-doca-3.3-ovs-extensions.Containerfile", profile.Overrides{OpenShift: "4.22", Stacks: []string{"doca-3.3:ovs"}, Pool: "worker"}, "quay.io/example/extensions@sha256:0000000000000000000000000000000000000000000000000000000000000000"},
		{"wrapper-4.17-doca-2.9-full.Containerfile", profile.Overrides{OpenShift: "4.17", Stacks: []string{"doca-2.9"}, Pool: "worker"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := renderInputs(t, tc.o, "")
			if tc.ext != "" {
				// An extension MachineConfig, as a kernel-devel variant renders it.
				in.MachineConfigs = append(in.MachineConfigs, &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfig",
					"metadata": map[string]any{"name": "99-worker-ext"},
					"spec":     map[string]any{"extensions": []any{"kernel-devel"}},
				}})
			}
			p, err := Prepare(t.TempDir(), in, "quay.io/example/rhcos@sha256:1111111111111111111111111111111111111111111111111111111111111111", tc.ext)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.Containerfile, "\nFROM configs AS final\n") {
				t.Errorf("the user's stage is missing:\n%s", p.Containerfile)
			}
			golden(t, tc.name, []byte(p.Containerfile))
		})
	}
}

// TestPrepareContext: the context holds MCO's gzip+base64 MachineConfig,
// the files ignition-apply would write, and copies of the build inputs.
func TestPrepareContext(t *testing.T) {
	in, plan := renderInputs(t, profile.Overrides{OpenShift: "4.20", Pool: "worker"}, testKey)
	work := t.TempDir()
	p, err := Prepare(work, in, "example.com/base:1", "")
	if err != nil {
		t.Fatal(err)
	}
	// The MachineConfig decodes the way MCO's extract stage decodes it.
	enc, err := os.ReadFile(filepath.Join(p.Dir, contextMachineConfig))
	if err != nil {
		t.Fatal(err)
	}
	gz, err := base64.StdEncoding.DecodeString(string(enc))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	var mc map[string]any
	if err := json.Unmarshal(raw, &mc); err != nil {
		t.Fatal(err)
	}
	units, _, _ := unstructured.NestedSlice(mc, "spec", "config", "systemd", "units")
	if len(units) != 1 || units[0].(map[string]any)["name"] != "mosc-doca-init.service" {
		t.Errorf("merged MachineConfig units = %v, want the doca-init unit", units)
	}
	// The unit and its enablement link, as ignition-apply writes them.
	unit := filepath.Join(p.Dir, contextRootfs, "etc/systemd/system/mosc-doca-init.service")
	if b, err := os.ReadFile(unit); err != nil || !strings.Contains(string(b), "doca-init=true") {
		t.Errorf("unit file: %v %q", err, b)
	}
	link := filepath.Join(p.Dir, contextRootfs, "etc/systemd/system/ovs-vswitchd.service.wants/mosc-doca-init.service")
	if target, err := os.Readlink(link); err != nil || target != "/etc/systemd/system/mosc-doca-init.service" {
		t.Errorf("wants link: %q %v", target, err)
	}
	// Copies, never the originals: one file per ConfigMap/Secret key.
	if p.ReposDir == "" || p.KeysDir == "" {
		t.Fatalf("repos %q keys %q: want both copies", p.ReposDir, p.KeysDir)
	}
	for _, rf := range plan.RepoFiles {
		if _, err := os.Stat(filepath.Join(p.ReposDir, rf.FileName)); err != nil {
			t.Error(err)
		}
	}
	keys, _ := os.ReadDir(p.KeysDir)
	if len(keys) != len(plan.GPGKeys) || len(keys) == 0 {
		t.Errorf("keys dir has %d files, plan %d keys", len(keys), len(plan.GPGKeys))
	}
	if !strings.HasPrefix(p.ReposDir, work) || !strings.HasPrefix(p.KeysDir, work) {
		t.Errorf("copies outside the work dir: %s %s", p.ReposDir, p.KeysDir)
	}
}

func TestWriteRootfsRefusesBadInput(t *testing.T) {
	cases := map[string]map[string]any{
		"relative path": {"storage": map[string]any{"files": []any{map[string]any{"path": "etc/x"}}}},
		"dotdot":        {"storage": map[string]any{"files": []any{map[string]any{"path": "/etc/../../x"}}}},
		"remote source": {"storage": map[string]any{"files": []any{map[string]any{"path": "/etc/x", "contents": map[string]any{"source": "https://example.com/x"}}}}},
		"unit slash":    {"systemd": map[string]any{"units": []any{map[string]any{"name": "../x.service", "contents": "x"}}}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			doc := map[string]any{"spec": map[string]any{"config": cfg}}
			if err := writeRootfs(t.TempDir(), doc); err == nil {
				t.Error("accepted")
			}
		})
	}
	// A good data URL file lands with its mode.
	dir := t.TempDir()
	doc := map[string]any{"spec": map[string]any{"config": map[string]any{"storage": map[string]any{"files": []any{
		map[string]any{"path": "/etc/mosc/x.conf", "mode": int64(0o600), "contents": map[string]any{"source": "data:,a%20b"}},
		map[string]any{"path": "/etc/mosc/y", "contents": map[string]any{"source": "data:text/plain;base64,aGk="}},
	}}}}}
	if err := writeRootfs(dir, doc); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "etc/mosc/x.conf")); string(b) != "a b" {
		t.Errorf("x.conf = %q", b)
	}
	if st, _ := os.Stat(filepath.Join(dir, "etc/mosc/x.conf")); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("x.conf mode = %v", st)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "etc/mosc/y")); string(b) != "hi" {
		t.Errorf("y = %q", b)
	}
}

func TestWantedBy(t *testing.T) {
	got := wantedBy("[Unit]\nWantedBy=nope\n[Install]\nWantedBy=a.service b.target\nRequiredBy = c.service\n")
	if strings.Join(got, ",") != "a.service,b.target,c.service" {
		t.Errorf("wantedBy = %v", got)
	}
}

// testKey is a real armored public key (generated for these tests).
const testKey = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEawya1xYJKwYBBAHaRw8BAQdAVLuq/SXPVMrNa2fUiBxGQdnvw4ira2unl3oo
uB/ftwq0GW1vc2MgdGVzdCA8dGVzdEBtb3NjLmRldj6IkAQTFggAOBYhBLFa1Bh8
r7YK6XEZV1nHzda0GzafBQJrDJrXAhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4BAheA
AAoJEFnHzda0GzafVf8BAL412AbwbeldGduWKNVt+CQRwDIemXBV9P8LsST+mG5d
AP9yxaXhgqY39EJ3dqVtaPvQKzncaXb9l08NjUh6tS0JCg==
=8UpD
-----END PGP PUBLIC KEY BLOCK-----
`
