package buildenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/template"
)

// File is one file of a package: literal content, a file built elsewhere
// (From, e.g. an ELF compiled by the harness), or a symlink.
type File struct {
	Content string
	From    string // path on the host, copied in
	Link    string // symlink target
	Mode    os.FileMode
}

// Package is one RPM the harness builds with rpmbuild.
type Package struct {
	Name, Version, Release, Arch string // Arch default x86_64
	Epoch                        int
	Requires, Provides           []string
	Recommends, Conflicts        []string
	Obsoletes                    []string
	Files                        map[string]File // absolute path -> file
	Post                         string          // %post shell script
	PostLdconfig                 bool            // %post -p /sbin/ldconfig
	Unsigned                     bool            // left unsigned on purpose (negative fixture)
	Summary                      string
}

// NEVRA is name-[epoch:]version-release.arch.
func (p Package) NEVRA() string {
	e := ""
	if p.Epoch > 0 {
		e = fmt.Sprintf("%d:", p.Epoch)
	}
	return fmt.Sprintf("%s-%s%s-%s.%s", p.Name, e, p.Version, p.Release, p.arch())
}

// NVR is name-version-release, what `rpm -q --qf '%{NAME}-%{VERSION}-%{RELEASE}'` prints.
func (p Package) NVR() string { return p.Name + "-" + p.Version + "-" + p.Release }

func (p Package) arch() string {
	if p.Arch == "" {
		return "x86_64"
	}
	return p.Arch
}

func (p Package) fileName() string {
	return fmt.Sprintf("%s-%s-%s.%s.rpm", p.Name, p.Version, p.Release, p.arch())
}

var (
	nameRe = regexp.MustCompile(`^[A-Za-z0-9._+-]+$`)
	verRe  = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)
)

func (p Package) validate() error {
	if !nameRe.MatchString(p.Name) || !verRe.MatchString(p.Version) || !verRe.MatchString(p.Release) || !nameRe.MatchString(p.arch()) {
		return fmt.Errorf("buildenv: package %q: bad name, version %q, release %q or arch", p.Name, p.Version, p.Release)
	}
	for _, l := range [][]string{p.Requires, p.Provides, p.Recommends, p.Conflicts, p.Obsoletes} {
		for _, r := range l {
			if strings.ContainsAny(r, "\n%") {
				return fmt.Errorf("buildenv: package %q: dependency %q has a newline or '%%'", p.Name, r)
			}
		}
	}
	for path, f := range p.Files {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \n%\"") {
			return fmt.Errorf("buildenv: package %q: file path %q must be absolute, without spaces, quotes or %%", p.Name, path)
		}
		if strings.ContainsAny(f.Link, "\n") {
			return fmt.Errorf("buildenv: package %q: link %q", p.Name, f.Link)
		}
	}
	return nil
}

// The spec installs a tree the harness prepared (root), so rpmbuild needs no
// sources; no automatic dependencies (the files run against Debian's libc,
// which is not in the rpm database) and no stripping or debuginfo.
var specTmpl = template.Must(template.New("spec").Parse(`Name: {{.P.Name}}
{{if .P.Epoch}}Epoch: {{.P.Epoch}}
{{end}}Version: {{.P.Version}}
Release: {{.P.Release}}
Summary: {{if .P.Summary}}{{.P.Summary}}{{else}}mosc e2e stand-in for {{.P.Name}}{{end}}
License: Apache-2.0
BuildArch: {{.Arch}}
AutoReqProv: no
{{range .P.Requires}}Requires: {{.}}
{{end}}{{range .P.Provides}}Provides: {{.}}
{{end}}{{range .P.Recommends}}Recommends: {{.}}
{{end}}{{range .P.Conflicts}}Conflicts: {{.}}
{{end}}{{range .P.Obsoletes}}Obsoletes: {{.}}
{{end}}
%description
Stand-in package built by mosc's end-to-end build harness (e2e/buildenv).

%install
mkdir -p %{buildroot}
cp -a {{.Root}}/. %{buildroot}/
{{if .P.PostLdconfig}}
%post -p /sbin/ldconfig
{{else if .P.Post}}
%post
{{.P.Post}}
{{end}}
%files
{{range .Paths}}"{{.}}"
{{end}}`))

// buildRPMs builds pkgs into outDir (file names from Package.fileName), two
// rpmbuild processes at a time.
func buildRPMs(outDir string, pkgs []Package) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	top, err := os.MkdirTemp("", "buildenv-rpmbuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(top)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 2)
	)
	for i, p := range pkgs {
		if err := p.validate(); err != nil {
			return err
		}
		wg.Add(1)
		go func(i int, p Package) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := buildRPM(filepath.Join(top, fmt.Sprint(i)), outDir, p); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(i, p)
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func buildRPM(top, outDir string, p Package) error {
	root := filepath.Join(top, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	paths := make([]string, 0, len(p.Files))
	for path, f := range p.Files {
		dst := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		switch {
		case f.Link != "":
			if err := os.Symlink(f.Link, dst); err != nil {
				return err
			}
		case f.From != "":
			b, err := os.ReadFile(f.From)
			if err != nil {
				return err
			}
			if err := os.WriteFile(dst, b, mode); err != nil {
				return err
			}
		default:
			if err := os.WriteFile(dst, []byte(f.Content), mode); err != nil {
				return err
			}
		}
		if err := os.Chmod(dst, mode); err != nil && f.Link == "" {
			return err
		}
		paths = append(paths, path)
	}
	sort.Strings(paths)
	var spec bytes.Buffer
	if err := specTmpl.Execute(&spec, map[string]any{"P": p, "Arch": p.arch(), "Root": root, "Paths": paths}); err != nil {
		return err
	}
	specFile := filepath.Join(top, p.Name+".spec")
	if err := os.WriteFile(specFile, spec.Bytes(), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("rpmbuild", "-bb", "--quiet",
		"--define", "_topdir "+top,
		"--define", "_rpmdir "+outDir,
		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
		"--define", "_binary_payload w2.xzdio",
		"--define", "__os_install_post %{nil}",
		"--define", "debug_package %{nil}",
		"--define", "_build_id_links none",
		"--define", "_dbpath "+filepath.Join(top, "rpmdb"),
		"--target", p.arch(),
		specFile)
	cmd.Env = append(os.Environ(), "HOME="+top) // ignore the user's ~/.rpmmacros
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("buildenv: rpmbuild %s: %w\n%s\n--- spec ---\n%s", p.Name, err, out, spec.String())
	}
	return nil
}
