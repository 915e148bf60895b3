package buildenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SiteOptions choose what a site file asks mosc to build.
type SiteOptions struct {
	OpenShift string // default: the Env's release
	Platform  string // default rhel9-x86_64
	Pool      string // default worker
	Stack     string // default doca-3.3
	Variant   string // default: the stack's default
	// DOCAVersion and DOCADistro pick the DOCA repo; defaults follow the
	// stack (3.3.0/rhel9, 3.2.2/rhel9, 2.9.4/rhel9.<RHEL minor>).
	DOCAVersion, DOCADistro string
	// DOCAPath replaces the DOCA mirror's URL path, e.g. a wrong distro
	// directory (negative case: dnf gets 404 for repomd.xml).
	DOCAPath string
	// NoGPGKeys leaves spec.repos.gpgKeys out (the repos' real key URLs stay).
	NoGPGKeys bool
}

// docaDefaults maps a stack to its served repo version and distro style.
func (e *Env) docaRepoFor(o SiteOptions) (string, string) {
	v, d := o.DOCAVersion, o.DOCADistro
	switch o.Stack {
	case "doca-2.9":
		if v == "" {
			v = "2.9.4"
		}
		if d == "" {
			d = "rhel" + e.Release.RHEL
		}
	case "doca-3.2":
		if v == "" {
			v = "3.2.2"
		}
	default:
		if v == "" {
			v = "3.3.0"
		}
	}
	if d == "" {
		d = "rhel9"
	}
	return v, d
}

// MirrorIDs are the repo ids a site's spec.repos.mirrors may name.
var MirrorIDs = []string{"doca", "baseos", "appstream", "crb", "epel"}

// WriteSite writes dir/mosc.yaml: the chosen plan, with spec.repos.mirrors
// pointing every repo id at the loopback repos and spec.repos.gpgKeys at a
// copy of the test key (dir/keys/RPM-GPG-KEY-mosc-e2e), gpgcheck on. It
// returns the file's path.
func (e *Env) WriteSite(t testing.TB, dir string, o SiteOptions) string {
	t.Helper()
	if o.OpenShift == "" {
		o.OpenShift = e.Release.OpenShift
	}
	if o.Platform == "" {
		o.Platform = "rhel9-x86_64"
	}
	if o.Pool == "" {
		o.Pool = "worker"
	}
	if o.Stack == "" {
		o.Stack = "doca-3.3"
	}
	v, d := e.docaRepoFor(o)
	doca := e.DOCARepoURL(v, d)
	if o.DOCAPath != "" {
		doca = e.URL + o.DOCAPath
	}
	mirrors := map[string]string{
		"doca": doca, "baseos": e.RepoURL("baseos"), "appstream": e.RepoURL("appstream"),
		"crb": e.RepoURL("crb"), "epel": e.RepoURL("epel"),
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# mosc site file written by e2e/buildenv: repos on loopback, signed with the test's key\n")
	fmt.Fprintf(&b, "apiVersion: mosc.dev/v1alpha1\nkind: Site\nmetadata:\n  name: e2e-build\nspec:\n")
	fmt.Fprintf(&b, "  openshift: %q\n  platform: %s\n  pool: %s\n  stacks:\n  - name: %s\n", o.OpenShift, o.Platform, o.Pool, o.Stack)
	if o.Variant != "" {
		fmt.Fprintf(&b, "    variant: %s\n", o.Variant)
	}
	if o.DOCAVersion != "" {
		fmt.Fprintf(&b, "    version: %s\n", o.DOCAVersion)
	}
	fmt.Fprintf(&b, "  repos:\n    gpgCheck: true\n    mirrors:\n")
	for _, id := range MirrorIDs {
		fmt.Fprintf(&b, "      %s: %s\n", id, mirrors[id])
	}
	if !o.NoGPGKeys {
		if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
			t.Fatal(err)
		}
		key, err := os.ReadFile(e.GPGKeyPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "keys", KeyFile), key, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "    gpgKeys:\n")
		for _, id := range MirrorIDs {
			fmt.Fprintf(&b, "      %s: keys/%s\n", id, KeyFile)
		}
	}
	path := filepath.Join(dir, "mosc.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
