package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/watch"
)

// Tools says whether dnf and rpm are on PATH.
func Tools() error {
	var miss []string
	for _, t := range []string{"dnf", "rpm"} {
		if _, err := exec.LookPath(t); err != nil {
			miss = append(miss, t)
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("%s not on PATH", strings.Join(miss, " and "))
	}
	return nil
}

// Request is one resolution.
type Request struct {
	// Root is the installroot; the node image's rpm database is already in
	// Root/DBDir (release.FetchRPMDB writes it there).
	Root  string
	DBDir string
	// Work holds what is not the image's: HOME (with the %_dbpath macro),
	// dnf.conf and dnf's metadata cache.
	Work string
	// RepoFiles are the etc-yum-repos-d ConfigMap's files (name → content),
	// written to Root/etc/yum.repos.d as the MCO mounts them into the build;
	// GPGKeys the etc-pki-rpm-gpg Secret's (Root/etc/pki/rpm-gpg).
	RepoFiles map[string]string
	GPGKeys   map[string]string
	// Arch is the target's RPM arch (--forcearch: $basearch as the build
	// on a node of that arch sees it).
	Arch string
	// ReleaseVer is passed as --releasever only when the rpm database does
	// not say (no package provides system-release(releasever)).
	ReleaseVer string
	Steps      []Step
	// Env is more environment for dnf and rpm, after this process's own:
	// the cluster Proxy's HTTP(S)_PROXY/NO_PROXY (mirrors.Network.Env),
	// which the build pod uses too.
	Env []string
	// CACert is a PEM bundle dnf trusts for every repository (dnf.conf
	// sslcacert): the system CAs plus the cluster's trust bundle; "" keeps
	// the system's.
	CACert string
}

// Result is what the resolution found.
type Result struct {
	// Installed counts the base image's packages.
	Installed int `json:"installedPackages"`
	// ReleaseVer is $releasever: what the image's system-release says, or
	// the fallback passed.
	ReleaseVer string `json:"releasever"`
	// Removed, Upgrades and Replaced are what the remove, upgrade and
	// replace steps turned into (names; name-epoch:version-release.arch).
	Removed  []string `json:"removed,omitempty"`
	Upgrades []string `json:"upgrades,omitempty"`
	Replaced []string `json:"replaced,omitempty"`
	// Repos are the repositories the transaction enables.
	Repos []string `json:"repos"`
	// Step is the step that failed before the final transaction ("" when
	// the final transaction ran).
	Step    *Step  `json:"failedStep,omitempty"`
	Command string `json:"command"`
	Outcome Outcome
	// Output is dnf's (or rpm's) output, credentials redacted, at most its
	// last 60 lines.
	Output string `json:"output,omitempty"`
}

// Run resolves the steps: the remove steps are applied to the copy of the
// rpm database (rpm -e --justdb, which refuses to break a dependency, as
// rpm-ostree override remove does), the URL installs are really installed
// into the installroot (the EPEL release package writes its repo files),
// the upgrade and replace steps are turned into exact package versions
// (dnf repoquery), and everything installed is then resolved as one
// transaction: dnf install --assumeno. The error is for a resolution that
// could not run at all; a dependency or repository problem is in
// Result.Outcome.
func Run(ctx context.Context, req Request) (*Result, error) {
	if req.DBDir == "" {
		return nil, errors.New("resolve: no rpm database directory")
	}
	// dnf splits list options (reposdir) at commas and blanks.
	for _, d := range []string{req.Root, req.Work} {
		if strings.ContainsAny(d, ", \t\n") {
			return nil, fmt.Errorf("resolve: %q has a comma or a blank, which dnf's reposdir option cannot hold (set TMPDIR to another directory)", d)
		}
	}
	for _, d := range []string{filepath.Join(req.Work, "home"), filepath.Join(req.Root, "etc", "yum.repos.d"), filepath.Join(req.Root, "etc", "pki", "rpm-gpg")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// rpm and dnf find the database through %_dbpath: the image's own
	// (RHCOS: /usr/share/rpm), whatever this machine's rpm defaults to.
	if err := os.WriteFile(filepath.Join(req.Work, "home", ".rpmmacros"), []byte("%_dbpath /"+req.DBDir+"\n"), 0o644); err != nil {
		return nil, err
	}
	// RHEL 9's /etc/dnf/dnf.conf (dnf-data), not this machine's.
	conf := "[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\n"
	if req.CACert != "" {
		// A [main] option is every repository's default (dnf.conf(5)).
		conf += "sslcacert=" + req.CACert + "\n"
	}
	if err := os.WriteFile(filepath.Join(req.Work, "dnf.conf"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	var secrets []string
	for name, content := range req.RepoFiles {
		if strings.ContainsAny(name, "/\\") || !strings.HasSuffix(name, ".repo") {
			continue // the MCO mounts every key; dnf reads only *.repo
		}
		secrets = append(secrets, repoSecrets(content)...)
		// Repo files may hold credentials: 0600, as on the build pod's copy.
		if err := os.WriteFile(filepath.Join(req.Root, "etc", "yum.repos.d", name), []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	for name, k := range req.GPGKeys {
		if strings.ContainsAny(name, "/\\") {
			continue
		}
		if err := os.WriteFile(filepath.Join(req.Root, "etc", "pki", "rpm-gpg", name), []byte(k), 0o644); err != nil {
			return nil, err
		}
	}
	secrets = append(secrets, envSecrets(req.Env)...)
	r := &runner{req: req, secrets: secrets}
	res := &Result{}

	qa, err := r.rpm(ctx, "-qa", "--qf", "%{NAME}\n")
	if err != nil {
		return nil, fmt.Errorf("resolve: rpm -qa in the image's database: %w", err)
	}
	for _, n := range strings.Fields(qa) {
		if n != "gpg-pubkey" {
			res.Installed++
		}
	}
	if res.Installed == 0 {
		return nil, fmt.Errorf("resolve: the image's rpm database (/%s) lists no package", req.DBDir)
	}
	if out, err := r.rpm(ctx, "-q", "--whatprovides", "system-release(releasever)", "--qf", "%{NAME}\n"); err != nil || strings.TrimSpace(out) == "" {
		if req.ReleaseVer == "" {
			return nil, errors.New("resolve: the image's rpm database has no system-release(releasever) and no fallback was given")
		}
		r.releasever = req.ReleaseVer
		res.ReleaseVer = req.ReleaseVer
	} else if v, err := r.rpm(ctx, "-q", "--whatprovides", "system-release(releasever)", "--provides"); err == nil {
		res.ReleaseVer = providedVersion(v, "system-release(releasever)")
	}

	// The repos the build's dnf commands enable (every repo file of
	// etc-yum-repos-d ships enabled=0), plus override replace's.
	seen := map[string]bool{}
	for _, s := range req.Steps {
		if s.Kind == RemoveInstalled {
			continue
		}
		for _, id := range s.Repos {
			if !seen[id] {
				seen[id] = true
				res.Repos = append(res.Repos, id)
			}
		}
	}
	var specs, opts []string
	addSpec := func(s string) {
		for _, x := range specs {
			if x == s {
				return
			}
		}
		specs = append(specs, s)
	}
	for i := range req.Steps {
		s := req.Steps[i]
		switch s.Kind {
		case InstallURL:
			args := append(r.dnfBase(s.Repos), "-y", "--setopt=tsflags=noscripts", "install")
			out, code, err := r.dnf(ctx, append(args, s.Packages...)...)
			if err != nil {
				return nil, err
			}
			o := Parse(out)
			if code != 0 || o.Status != Resolved {
				if o.Status == Resolved {
					o.Status, o.Detail = Failed, lastLines(strings.Split(out, "\n"), 5)
				}
				return r.fail(res, &s, o, out, args), nil
			}
		case RemoveInstalled:
			names, err := r.installed(ctx, s.Packages)
			if err != nil {
				return nil, err
			}
			if len(names) == 0 {
				continue
			}
			args := append([]string{"-e", "--justdb", "--noscripts", "--notriggers"}, names...)
			out, err := r.rpm(ctx, args...)
			if err != nil {
				return r.fail(res, &s, parseRPMErase(out), out, append([]string{"rpm"}, args...)), nil
			}
			res.Removed = append(res.Removed, names...)
		case UpgradeInstalled:
			names, err := r.installed(ctx, s.Packages)
			if err != nil {
				return nil, err
			}
			if len(names) == 0 {
				continue
			}
			args := append(r.dnfBase(s.Repos), "repoquery", "--upgrades", "--latest-limit=1", "--arch", r.req.Arch+",noarch", "--qf", nevraFormat)
			out, code, err := r.dnf(ctx, append(args, names...)...)
			if err != nil {
				return nil, err
			}
			if code != 0 {
				return r.fail(res, &s, Parse(out), out, args), nil
			}
			for _, n := range nevras(out) {
				res.Upgrades = append(res.Upgrades, n)
				addSpec(n)
			}
		case Replace:
			args := append(r.dnfBase(nil), "repoquery", "--repo="+s.Repos[0], "--latest-limit=1", "--arch", r.req.Arch+",noarch", "--qf", nevraFormat)
			out, code, err := r.dnf(ctx, append(args, s.Packages...)...)
			if err != nil {
				return nil, err
			}
			if code != 0 {
				return r.fail(res, &s, Parse(out), out, args), nil
			}
			found := nevras(out)
			var missing []string
			for _, p := range s.Packages {
				ok := false
				for _, n := range found {
					if nameOf(n) == p {
						ok = true
					}
				}
				if !ok {
					missing = append(missing, p)
				}
			}
			if len(missing) > 0 {
				o := Outcome{Status: NoMatch, Unmatched: missing, Repo: s.Repos[0]}
				return r.fail(res, &s, o, out, args), nil
			}
			for _, n := range found {
				res.Replaced = append(res.Replaced, n)
				addSpec(n)
			}
		case Install:
			for _, p := range s.Packages {
				addSpec(p)
			}
			for _, o := range s.Options {
				if !contains(opts, o) {
					opts = append(opts, o)
				}
			}
		}
	}
	if len(specs) == 0 {
		return nil, errors.New("resolve: the layers install no package")
	}
	args := append(r.dnfBase(res.Repos), "--assumeno")
	args = append(args, opts...)
	if !contains(opts, "--setopt=install_weak_deps=False") {
		args = append(args, "--setopt=install_weak_deps=False")
	}
	args = append(args, "install")
	out, _, err := r.dnf(ctx, append(args, specs...)...)
	if err != nil {
		return nil, err
	}
	res.Command = r.show(append([]string{"dnf"}, append(args, specs...)...))
	res.Outcome = r.scrubOutcome(Parse(out))
	res.Output = r.tail(out)
	return res, nil
}

// nevraFormat is dnf repoquery's --qf for an installable spec.
const nevraFormat = "%{name}-%{epoch}:%{version}-%{release}.%{arch}"

var nevraLine = lazyre.New(`^[A-Za-z0-9._+-]+-\d+:[A-Za-z0-9._+~^]+-[A-Za-z0-9._+~^]+\.[A-Za-z0-9_]+$`)

func nevras(out string) []string {
	var r []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); nevraLine.MatchString(l) && !contains(r, l) {
			r = append(r, l)
		}
	}
	sort.Strings(r)
	return r
}

// nameOf is the name of name-epoch:version-release.arch.
func nameOf(nevra string) string {
	i := strings.LastIndex(nevra, "-")
	if i < 0 {
		return nevra
	}
	j := strings.LastIndex(nevra[:i], "-")
	if j < 0 {
		return nevra
	}
	return nevra[:j]
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// providedVersion reads "NAME = VERSION" from rpm --provides output.
func providedVersion(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+" = "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

var rpmNeeded = lazyre.New(`^\s*(.+?) is needed by \(installed\) (\S+)$`)

// parseRPMErase reads rpm -e's "error: Failed dependencies:" list.
func parseRPMErase(out string) Outcome {
	o := Outcome{Status: Unresolvable}
	for _, l := range strings.Split(out, "\n") {
		if m := rpmNeeded.FindStringSubmatch(l); m != nil {
			o.Problems = append(o.Problems, Problem{Text: strings.TrimSpace(l), Missing: m[1], NeededBy: m[2]})
		}
	}
	if len(o.Problems) == 0 {
		o.Status, o.Detail = Failed, lastLines(strings.Split(out, "\n"), 5)
	}
	return o
}

type runner struct {
	req        Request
	secrets    []string
	releasever string
}

func (r *runner) env() []string {
	env := []string{"HOME=" + filepath.Join(r.req.Work, "home"), "LC_ALL=C.UTF-8", "LANG=C.UTF-8"}
	for _, k := range []string{"PATH", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	// exec uses the last value of a repeated key: the cluster's proxy wins.
	return append(env, r.req.Env...)
}

// envSecrets are the passwords of proxy URLs in env (KEY=URL), which dnf
// may echo in an error.
func envSecrets(env []string) []string {
	var out []string
	for _, kv := range env {
		_, v, _ := strings.Cut(kv, "=")
		if u, err := url.Parse(v); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				out = append(out, pw)
			}
		}
	}
	return out
}

func (r *runner) rpm(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "rpm", append([]string{"--root", r.req.Root}, args...)...)
	cmd.Env = r.env()
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return filterRPMNoise(b.String()), err
}

// Debian's rpm warns on every use ("RPM should not be used directly …").
func filterRPMNoise(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "rpm: RPM should not be used directly") || strings.HasPrefix(l, "rpm: However assuming you know") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// installed are the installed package names matching rpm -qa patterns (what
// the layers' $(rpm -qa --qf '%{NAME} ' …) guard expands to).
func (r *runner) installed(ctx context.Context, patterns []string) ([]string, error) {
	out, err := r.rpm(ctx, append([]string{"-qa", "--qf", "%{NAME}\n"}, patterns...)...)
	if err != nil && strings.TrimSpace(out) != "" {
		return nil, fmt.Errorf("resolve: rpm -qa %s: %v: %s", strings.Join(patterns, " "), err, strings.TrimSpace(out))
	}
	var names []string
	for _, n := range strings.Fields(out) {
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	return names, nil
}

func (r *runner) dnfBase(repos []string) []string {
	a := []string{"--installroot", r.req.Root, "--config", filepath.Join(r.req.Work, "dnf.conf"), "--noplugins",
		"--setopt=reposdir=" + filepath.Join(r.req.Root, "etc", "yum.repos.d"),
		"--setopt=cachedir=" + filepath.Join(r.req.Work, "cache"),
		"--forcearch", r.req.Arch}
	if r.releasever != "" {
		a = append(a, "--releasever", r.releasever)
	}
	if len(repos) > 0 {
		a = append(a, "--enablerepo="+strings.Join(repos, ","))
	}
	return a
}

// dnf runs dnf; a non-zero exit is not an error (--assumeno exits 1), only
// failing to run it is.
func (r *runner) dnf(ctx context.Context, args ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, "dnf", args...)
	cmd.Env = r.env()
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return b.String(), ee.ExitCode(), nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("resolve: dnf: %w", ctx.Err())
		}
		return "", 0, fmt.Errorf("resolve: dnf: %w", err)
	}
	return b.String(), 0, nil
}

func (r *runner) fail(res *Result, s *Step, o Outcome, out string, args []string) *Result {
	st := *s
	res.Step = &st
	res.Outcome = r.scrubOutcome(o)
	res.Output = r.tail(out)
	cmd := args
	if len(args) == 0 || args[0] != "rpm" {
		cmd = append([]string{"dnf"}, args...)
	}
	res.Command = r.show(cmd)
	return res
}

// show is a command line for the report: the temporary directories named
// by their role, credentials redacted.
func (r *runner) show(args []string) string {
	return r.clean(strings.Join(args, " "))
}

func (r *runner) clean(s string) string {
	s = strings.ReplaceAll(s, r.req.Work, "$WORK")
	s = strings.ReplaceAll(s, r.req.Root, "$ROOT")
	return r.scrub(s)
}

func (r *runner) tail(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	return r.clean(strings.Join(lines, "\n"))
}

func (r *runner) scrubOutcome(o Outcome) Outcome {
	o.Detail = r.clean(o.Detail)
	for i := range o.Problems {
		o.Problems[i].Text = r.clean(o.Problems[i].Text)
	}
	return o
}

// scrub removes the repo files' credentials (the values themselves, then
// anything credential-shaped) from text dnf printed.
func (r *runner) scrub(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, "<redacted>")
	}
	return watch.Scrub(s)
}

var (
	repoCredKey = lazyre.New(`(?i)^\s*(password|username|proxy_password|proxy_username)\s*=\s*(\S.*?)\s*$`)
	urlUserinfo = lazyre.New(`://([^/\s@]+)@`)
)

// repoSecrets are the credentials of a repo file: password=, username=,
// proxy credentials and URL user-info, each also URL-unescaped as dnf may
// print it.
func repoSecrets(content string) []string {
	var out []string
	for _, l := range strings.Split(content, "\n") {
		if m := repoCredKey.FindStringSubmatch(l); m != nil && len(m[2]) >= 3 {
			out = append(out, m[2])
		}
		for _, m := range urlUserinfo.FindAllStringSubmatch(l, -1) {
			out = append(out, m[1])
			if _, pw, ok := strings.Cut(m[1], ":"); ok && len(pw) >= 3 {
				out = append(out, pw)
			}
		}
	}
	// Longest first, so a password inside user:password goes with it.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
