package watch

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLWJ5dGVz"
	for _, tc := range []struct{ in, secret string }{
		{`{"auths":{"quay.io":{"auth":"dXNlcjpodW50ZXIy","email":""}}}`, "dXNlcjpodW50ZXIy"},
		{"Authorization: Bearer sha256~abcdefghijklmnop", "sha256~abcdefghijklmnop"},
		{"curl https://builder:hunter2@registry.example.com/v2/", "hunter2"},
		{"token rejected: " + jwt, jwt},
		{"+ export REGISTRY_PASSWORD=hunter2", "hunter2"},
		{"password: hunter2", "hunter2"},
	} {
		out := Scrub(tc.in)
		if strings.Contains(out, tc.secret) {
			t.Errorf("Scrub(%q) = %q: secret kept", tc.in, out)
		}
	}
	// What the classifier needs stays.
	for _, keep := range []string{
		"Error: pushing image \"x\": unauthorized: authentication required",
		"GPG Keys are configured as: file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Mellanox",
		"Status code: 404 for https://linux.mellanox.com/public/repo/doca/repodata/repomd.xml (IP: 1.2.3.4)",
	} {
		if Scrub(keep) != keep {
			t.Errorf("Scrub changed %q to %q", keep, Scrub(keep))
		}
	}
}

func dataURL(s string) string { return "data:," + url.PathEscape(s) }

// The mc-M ConfigMap holds the rendered MachineConfig, with the cluster
// pull secret in /var/lib/kubelet/config.json: decoded, it is redacted.
func TestDecodeMachineConfigRedactsSecrets(t *testing.T) {
	pull := `{"auths":{"quay.io":{"auth":"c2VjcmV0LXB1bGwtdG9rZW4="}}}`
	mc := `{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineConfig","metadata":{"name":"rendered-worker-1"},
"spec":{"config":{"ignition":{"version":"3.5.0"},"storage":{"files":[
{"path":"/var/lib/kubelet/config.json","contents":{"source":"` + dataURL(pull) + `"}},
{"path":"/etc/yum.repos.d/doca.repo","contents":{"source":"` + dataURL("[doca]\nbaseurl=https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9.6/x86_64/\n") + `"}},
{"path":"/etc/mystery","contents":{"source":"data:;base64,` + base64.StdEncoding.EncodeToString([]byte("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----")) + `"}}
]}}}}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(mc))
	zw.Close()
	out, err := decodeMachineConfig(base64.StdEncoding.EncodeToString(gz.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, secret := range []string{"c2VjcmV0LXB1bGwtdG9rZW4", "MIIE", url.PathEscape(pull)} {
		if strings.Contains(s, secret) {
			t.Errorf("secret %q in the decoded MachineConfig:\n%s", secret, s)
		}
	}
	if !strings.Contains(s, "linux.mellanox.com") || !strings.Contains(s, "rendered-worker-1") {
		t.Errorf("the non-secret files were not kept:\n%s", s)
	}
}

// A directory mosc did not write, or another build's evidence (a rebuild
// reuses the MachineOSBuild's name), is never written into.
func TestPrepareDirLeavesOthersAlone(t *testing.T) {
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := prepareDir(d, "worker-abc", "uid-1"); err != nil || got != d+"-2" {
		t.Errorf("prepareDir on a user's directory: %q, %v; want %s-2", got, err, d)
	}
	own := filepath.Join(t.TempDir(), "mosc-failure-worker-abc")
	if got, err := prepareDir(own, "worker-abc", "uid-1"); err != nil || got != own {
		t.Fatalf("new directory: %q, %v", got, err)
	}
	os.WriteFile(filepath.Join(own, "README.txt"), []byte(readmeHead("worker-abc", "uid-1")+"\n"), 0o600)
	if got, err := prepareDir(own, "worker-abc", "uid-1"); err != nil || got != own {
		t.Errorf("re-saving the same build: %q, %v", got, err)
	}
	if got, err := prepareDir(own, "worker-abc", "uid-2"); err != nil || got != own+"-2" {
		t.Errorf("the rebuilt build (same name, new uid): %q, %v; want %s-2", got, err, own)
	}
}
