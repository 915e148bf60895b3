package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/mosc-dev/mosc/internal/jsonschema"
	"github.com/mosc-dev/mosc/internal/release/releasetest"
)

// noCluster makes sure no kubeconfig is found, so cluster checks skip.
func noCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
}

// fakeRepo serves repodata for packages "name-version-release.arch".
func fakeRepo(t *testing.T, nevras ...string) string {
	t.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" packages=\"%d\">\n", len(nevras))
	for _, n := range nevras {
		i := strings.LastIndex(n, ".")
		rest, arch := n[:i], n[i+1:]
		parts := strings.Split(rest, "-")
		name := strings.Join(parts[:len(parts)-2], "-")
		fmt.Fprintf(&sb, "<package type=\"rpm\"><name>%s</name><arch>%s</arch><version epoch=\"0\" ver=\"%s\" rel=\"%s.el9\"/></package>\n", name, arch, parts[len(parts)-2], parts[len(parts)-1])
	}
	sb.WriteString("</metadata>\n")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(sb.String()))
	w.Close()
	sum := sha256.Sum256(gz.Bytes())
	repomd := fmt.Sprintf(`<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision><data type="primary"><checksum type="sha256">%s</checksum><location href="repodata/p-primary.xml.gz"/><size>%d</size></data></repomd>`, hex.EncodeToString(sum[:]), gz.Len())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doca/repodata/repomd.xml":
			io.WriteString(w, repomd)
		case "/doca/repodata/p-primary.xml.gz":
			w.Write(gz.Bytes())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/doca/"
}

func siteWithMirror(t *testing.T, mirror string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "mosc.yaml")
	// The fake repo has metadata only, no package files to read signatures
	// from (repo-signatures is tested with real signed RPMs in
	// internal/repo and e2e): gpgcheck off, which that check warns about.
	site := "apiVersion: mosc.dev/v1alpha1\nkind: Site\nmetadata:\n  name: lab\nspec:\n  openshift: \"4.21\"\n  pool: worker\n  stacks:\n  - name: doca-3.3\n  repos:\n    gpgCheck: false\n    mirrors:\n      doca: " + mirror + "\n"
	if err := os.WriteFile(f, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// kernels are real RHCOS kernels of each RHEL minor (the payload's meta.json).
var kernels = map[string]string{"9.6": "5.14.0-570.42.1.el9_6", "9.8": "5.14.0-687.5.1.el9_8"}

func payload(t *testing.T, version, rhel string) string {
	t.Helper()
	return payloadWith(t, version, rhel, "")
}

// payloadWith pushes a payload whose extensions carry kernel-devel of
// kernelDevel ("" = the node image's kernel, "-" = none).
func payloadWith(t *testing.T, version, rhel, kernelDevel string) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref, err := releasetest.Push(strings.TrimPrefix(srv.URL, "http://")+"/openshift-release-dev", releasetest.Spec{
		Version: version,
		CoreOS: map[string]map[string]string{
			"rhel-coreos":            releasetest.Labels(rhel, "20251110-1"),
			"rhel-coreos-extensions": releasetest.Labels(rhel, "20251110-1"),
			"rhel-coreos-10":         releasetest.Labels("10.2", "20251112-0"),
		},
		OtherTags:   []string{"cli", "machine-config-operator", "ovn-kubernetes"},
		Kernel:      map[string]string{"rhel-coreos": kernels[rhel], "rhel-coreos-10": "6.12.0-55.12.1.el10_0"},
		KernelDevel: kernelDevel,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

var allPackages = []string{"doca-all-3.3.0-0040.x86_64", "doca-openvswitch-3.3.0040-1.x86_64", "libibverbs-2501mlnx56-1.x86_64", "rdma-core-2501mlnx56-1.x86_64"}

func TestGateNetworkChecks(t *testing.T) {
	noCluster(t)
	good := fakeRepo(t, allPackages...)
	noOVS := fakeRepo(t, allPackages[0], allPackages[2], allPackages[3], "doca-openvswitch-3.3.0040-1.aarch64")
	ref := payload(t, "4.22.0", "9.8")
	wrongRHEL := payload(t, "4.22.0", "9.6")
	oldDevel := payloadWith(t, "4.22.0", "9.8", "5.14.0-687.3.1.el9_8")
	junit := filepath.Join(t.TempDir(), "gate.xml")

	tests := []struct {
		name     string
		args     []string
		code     int
		statuses map[string]string
		want     []string
	}{
		{
			name:     "all good",
			args:     []string{"-f", siteWithMirror(t, good), "--to", "4.22.0", "--release-image", ref, "--junit", junit},
			code:     exitOK,
			statuses: map[string]string{"target-profile": "PASS", "stack-support": "PASS", "bundle-diff": "PASS", "release-payload": "PASS", "repo-preflight": "PASS", "repo-signatures": "WARN", "install-resolve": "WARN", "target-kernel": "PASS", "pool-health": "SKIP", "push-token": "SKIP"},
			want:     []string{"payload 4.22.0: rhel-coreos is RHEL 9.8 (9.8.20251110-1), as profile 4.22 says (rhel-coreos-10 is RHEL 10.2", "has doca-all-3.3.0-0040.el9.x86_64, doca-openvswitch-3.3.0040-1.el9.x86_64, libibverbs", "repo doca has gpgcheck=0: nothing it serves is verified", "target kernel 5.14.0-687.5.1.el9_8.x86_64 (the nodes' kernel is not read without the cluster); doca-3.3:full builds kernel modules (DKMS) in the layer build", "no cluster configured", "has no rpm database (/usr/share/rpm): it is not an RHEL CoreOS node image", "PASS: 6 passed, 2 warnings, 0 failed, 7 skipped"},
		},
		{
			name:     "repo lacks doca-openvswitch for x86_64",
			args:     []string{"-f", siteWithMirror(t, noOVS), "--to", "4.22.0", "--release-image", ref},
			code:     exitFailure,
			statuses: map[string]string{"repo-preflight": "FAIL", "release-payload": "PASS"},
			want:     []string{"has no doca-openvswitch for x86_64 (of 4 packages)"},
		},
		{
			name:     "extensions carry kernel-devel of another kernel",
			args:     []string{"-f", siteWithMirror(t, good), "--to", "4.22.0", "--release-image", oldDevel},
			code:     exitFailure,
			statuses: map[string]string{"target-kernel": "FAIL", "release-payload": "PASS"},
			want:     []string{"target kernel 5.14.0-687.5.1.el9_8.x86_64, but the payload's rhel-coreos-extensions has kernel-devel-5.14.0-687.3.1.el9_8.x86_64: doca-3.3:full builds kernel modules (DKMS) in the layer build, and DKMS would build them for another kernel"},
		},
		{
			name:     "payload RHEL differs from the profile",
			args:     []string{"-f", siteWithMirror(t, good), "--to", "4.22.0", "--release-image", wrongRHEL},
			code:     exitFailure,
			statuses: map[string]string{"release-payload": "FAIL"},
			want:     []string{"rhel-coreos is RHEL 9.6 (com.coreos.stream=rhel-9.6), but profile 4.22 says RHEL 9.8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"gate"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.code, out, errOut)
			}
			for id, st := range tt.statuses {
				if !strings.Contains(out, "\n"+st+strings.Repeat(" ", 8-len(st))+id) {
					t.Errorf("%s is not %s:\n%s", id, st, out)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if code == exitFailure && !strings.Contains(errOut, "gate failed: ") {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}

	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Tests   int      `xml:"tests,attr"`
		Skipped int      `xml:"skipped,attr"`
		Suites  []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Tests != 15 || doc.Skipped != 7 || len(doc.Suites[0].Cases) != 15 {
		t.Errorf("junit: %v %+v\n%s", err, doc, b)
	}
}

func TestGateOfflineJSON(t *testing.T) {
	noCluster(t)
	out, errOut, code := runCLI(t, "gate", "--openshift", "4.17", "--to", "4.18", "--offline", "-o", "json")
	if code != exitFailure {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Schema, Verdict, From, To string
		Checks                    []struct {
			ID, Status, Message, Remedy string
			Details                     map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "mosc.dev/gate/v1" || doc.Verdict != "fail" || doc.From != "4.17" || doc.To != "4.18" || len(doc.Checks) != 15 {
		t.Errorf("doc = %+v", doc)
	}
	for _, c := range doc.Checks {
		if c.ID == "bundle-diff" && (c.Status != "fail" || !strings.Contains(c.Remedy, "can never be unset") || strings.Contains(c.Remedy, "mosc remove")) {
			t.Errorf("bundle-diff = %+v", c)
		}
		if c.ID == "release-payload" && c.Status != "skip" {
			t.Errorf("payload = %+v", c)
		}
	}
}

func TestGateErrors(t *testing.T) {
	noCluster(t)
	dead, deadServer := deadKubeconfig(t) // from apply_test.go
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no --to", []string{"gate", "--openshift", "4.21"}, "--to: the target release is required"},
		{"bad --to", []string{"gate", "--openshift", "4.21", "--to", "latest"}, `--to: invalid OpenShift version "latest"`},
		{"bad -o", []string{"gate", "--openshift", "4.21", "--to", "4.22", "-o", "xml"}, `-o: unknown format "xml"`},
		{"no current release", []string{"gate", "--to", "4.22"}, "the current release is unknown"},
		{"no current release offline", []string{"gate", "--to", "4.22", "--offline"}, "with --offline the cluster is not read"},
		{"missing kubeconfig", []string{"gate", "--openshift", "4.21", "--to", "4.22", "--kubeconfig", "/nonexistent/kubeconfig"}, "/nonexistent/kubeconfig"},
		{"bad registry config", []string{"gate", "--openshift", "4.21", "--to", "4.22", "--registry-config", "/nonexistent/auth.json"}, "--registry-config"},
		{"negative token days", []string{"gate", "--openshift", "4.21", "--to", "4.22", "--min-token-days", "-1"}, "--min-token-days"},
		{"argument", []string{"gate", "--to", "4.22", "4.21"}, "gate takes no arguments"},
		{"unreachable cluster", []string{"gate", "--openshift", "4.21", "--to", "4.22", "--kubeconfig", dead}, "cannot reach the API server at " + deadServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, tt.args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// TestDocsSchemas checks real gate and diff output against the JSON Schemas
// published in docs/gate.md, so the documentation cannot drift from the code.
func TestDocsSchemas(t *testing.T) {
	noCluster(t)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "gate.md"))
	if err != nil {
		t.Fatal(err)
	}
	schema := func(name string) map[string]any {
		t.Helper()
		marker := "<!-- schema:" + name + " -->\n```json\n"
		i := strings.Index(string(doc), marker)
		if i < 0 {
			t.Fatalf("docs/gate.md has no %q block", marker)
		}
		body := string(doc)[i+len(marker):]
		body = body[:strings.Index(body, "```")]
		var s map[string]any
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		return s
	}
	gateSchema, diffSchema := schema("gate"), schema("diff")

	good := fakeRepo(t, allPackages...)
	ref := payload(t, "4.22.0", "9.8")
	outputs := []struct {
		schema map[string]any
		args   []string
	}{
		{gateSchema, []string{"gate", "-f", siteWithMirror(t, good), "--to", "4.22.0", "--release-image", ref, "-o", "json"}},
		{gateSchema, []string{"gate", "--openshift", "4.17", "--to", "4.18", "--offline", "-o", "json"}},
		{gateSchema, []string{"gate", "--openshift", "4.18.25", "--to", "4.20.8", "--offline", "-o", "json"}},
		{gateSchema, []string{"gate", "--openshift", "4.21", "--stack", "doca-2.9", "--to", "4.22", "--offline", "-o", "json"}},
		{diffSchema, []string{"diff", "--openshift", "4.17", "--to", "4.18", "-o", "json"}},
		{diffSchema, []string{"diff", "--openshift", "4.21", "--to-stack", "doca-3.3:ovs", "--to-platform", "rhel9-aarch64", "-o", "json"}},
		{diffSchema, []string{"diff", "--openshift", "4.21", "--to", "4.21", "-o", "json"}},
	}
	for _, o := range outputs {
		out, errOut, code := runCLI(t, o.args...)
		if code == exitError {
			t.Fatalf("%v: %s", o.args, errOut)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %v", o.args, err)
		}
		for _, e := range validate(o.schema, o.schema, v, "$") {
			t.Errorf("%v: %s", o.args, e)
		}
	}
	// The validator itself rejects what it should.
	bad := map[string]any{"schema": "mosc.dev/gate/v1", "from": "4.20", "to": "4.21", "pool": "worker", "stacks": []any{}, "summary": map[string]any{"pass": 1.0, "warn": 0.0, "fail": 0.0, "skip": 0.0}, "verdict": "maybe", "checks": []any{map[string]any{"id": "x", "status": "pass"}}, "extra": true}
	if errs := validate(gateSchema, gateSchema, bad, "$"); len(errs) != 4 {
		t.Errorf("validator found %d problems in a bad report, want 4 (extra property, verdict, check id, check message): %v", len(errs), errs)
	}
}

// validate checks v against a schema of docs/*.md (internal/jsonschema).
func validate(root, _ map[string]any, v any, _ string) []string {
	return jsonschema.Validate(root, v)
}
