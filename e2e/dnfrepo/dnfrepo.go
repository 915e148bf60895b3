// Package dnfrepo builds a real DNF/YUM repository with rpmbuild and
// createrepo_c (repodata/repomd.xml, primary.xml.gz, …) and serves it over
// HTTP, for tests of mosc's repository preflight.
package dnfrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// Package is one RPM to build (an empty package with metadata only).
type Package struct {
	Name, Version, Release, Arch string // Arch default x86_64; "noarch" works
	Requires                     []string
	Provides                     []string
	Summary                      string
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9._+-]+$`)

func (p Package) validate() error {
	for field, v := range map[string]string{"Name": p.Name, "Version": p.Version, "Release": p.Release, "Arch": p.Arch} {
		if !nameRe.MatchString(v) {
			return fmt.Errorf("dnfrepo: package %q: %s %q must match %s", p.Name, field, v, nameRe)
		}
	}
	if strings.Contains(p.Version, "-") || strings.Contains(p.Release, "-") {
		return fmt.Errorf("dnfrepo: package %q: version and release cannot contain '-'", p.Name)
	}
	for _, r := range append(append([]string{}, p.Requires...), p.Provides...) {
		if strings.ContainsAny(r, "\n%") {
			return fmt.Errorf("dnfrepo: package %q: dependency %q has a newline or '%%'", p.Name, r)
		}
	}
	return nil
}

var specTmpl = template.Must(template.New("spec").Parse(`Name: {{.Name}}
Version: {{.Version}}
Release: {{.Release}}
Summary: {{if .Summary}}{{.Summary}}{{else}}mosc e2e test package {{.Name}}{{end}}
License: Apache-2.0
BuildArch: {{.Arch}}
{{range .Requires}}Requires: {{.}}
{{end}}{{range .Provides}}Provides: {{.}}
{{end}}
%description
Empty package built by mosc's end-to-end tests.

%files
`))

// Tools reports whether rpmbuild and createrepo_c are installed.
func Tools() error {
	var errs []error
	for _, t := range []string{"rpmbuild", "createrepo_c"} {
		if _, err := exec.LookPath(t); err != nil {
			errs = append(errs, fmt.Errorf("%s not found (apt-get install rpm createrepo-c; run `make deps`)", t))
		}
	}
	return errors.Join(errs...)
}

// Build writes the packages' RPMs into dir and runs createrepo_c there, so
// dir/repodata/repomd.xml lists them.
func Build(dir string, pkgs []Package) error {
	if err := Tools(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	top, err := os.MkdirTemp("", "dnfrepo-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(top)
	for _, p := range pkgs {
		if p.Arch == "" {
			p.Arch = "x86_64"
		}
		if p.Release == "" {
			p.Release = "1.el9"
		}
		if err := p.validate(); err != nil {
			return err
		}
		var spec bytes.Buffer
		if err := specTmpl.Execute(&spec, p); err != nil {
			return err
		}
		specFile := filepath.Join(top, p.Name+".spec")
		if err := os.WriteFile(specFile, spec.Bytes(), 0o644); err != nil {
			return err
		}
		args := []string{"-bb", "--quiet",
			"--define", "_topdir " + top,
			"--define", "_rpmdir " + dir,
			"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
			"--define", "_binary_payload w2.xzdio",
			"--define", "__os_install_post %{nil}",
			"--target", p.Arch,
			specFile}
		cmd := exec.Command("rpmbuild", args...)
		cmd.Env = append(os.Environ(), "HOME="+top) // ignore the user's ~/.rpmmacros
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("dnfrepo: rpmbuild %s: %w\n%s", p.Name, err, out)
		}
	}
	cmd := exec.Command("createrepo_c", "--quiet", "--no-database", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dnfrepo: createrepo_c: %w\n%s", err, out)
	}
	return nil
}

// Serve serves dir over HTTP on a free loopback port; url has no trailing slash.
func Serve(dir string) (url string, closeFn func(), err error) {
	if _, err := os.Stat(filepath.Join(dir, "repodata", "repomd.xml")); err != nil {
		return "", nil, fmt.Errorf("dnfrepo: %s is not a repository: %w", dir, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// Sign signs every RPM in dir with a new throw-away GnuPG key (rpmsign, an
// RSA header signature as rpm 4.16+ writes it), re-runs createrepo_c, and
// returns the armored public key (what a site's spec.repos.gpgKeys names).
// It needs gpg and rpmsign (hack/install-deps.sh installs both).
func Sign(dir string) ([]byte, error) {
	for _, t := range []string{"gpg", "rpmsign", "gpgconf"} {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("dnfrepo: %s not found (run `make deps`)", t)
		}
	}
	// Short path: gpg-agent's socket must fit in sun_path.
	home, err := os.MkdirTemp("", "dgpg-")
	if err != nil {
		return nil, err
	}
	defer func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		_ = os.RemoveAll(home)
	}()
	const uid = "mosc e2e dnfrepo key <dnfrepo@mosc.invalid>"
	gpg := func(args ...string) ([]byte, error) {
		return exec.Command("gpg", append([]string{"--batch", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...).CombinedOutput()
	}
	if out, err := gpg("--quick-generate-key", uid, "rsa2048", "sign", "never"); err != nil {
		return nil, fmt.Errorf("dnfrepo: gpg key generation: %w\n%s", err, out)
	}
	rpms, _ := filepath.Glob(filepath.Join(dir, "*", "*.rpm"))
	top, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
	rpms = append(rpms, top...)
	if len(rpms) == 0 {
		return nil, fmt.Errorf("dnfrepo: no RPMs under %s", dir)
	}
	gpgPath, _ := exec.LookPath("gpg")
	cmd := exec.Command("rpmsign", append([]string{"--addsign",
		"--define", "_gpg_name " + uid, "--define", "_gpg_path " + home, "--define", "__gpg " + gpgPath,
		"--define", "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''"}, rpms...)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home, "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dnfrepo: rpmsign: %w\n%s", err, out)
	}
	if out, err := exec.Command("createrepo_c", "--quiet", "--no-database", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dnfrepo: createrepo_c: %w\n%s", err, out)
	}
	pub, err := exec.Command("gpg", "--batch", "--homedir", home, "--armor", "--export", uid).Output()
	if err != nil || len(pub) == 0 {
		return nil, fmt.Errorf("dnfrepo: gpg --export: %v", err)
	}
	return pub, nil
}
