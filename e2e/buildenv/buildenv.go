// Package buildenv is mosc's end-to-end build harness: an RHCOS stand-in base
// image and signed RPM repositories on loopback HTTP, so `mosc build` and the
// catalog's Containerfiles run for real with buildah, dnf and rpm, offline
// and without privileges CI lacks (vfs storage, chroot isolation).
//
// The stand-in (built from Debian packages with mmdebstrap, cached by content
// hash under ${XDG_CACHE_HOME:-~/.cache}/mosc/buildenv) has RHCOS's layout
// (/opt -> var/opt, rpmdb in /usr/share/rpm, tmpfiles.d, ostree/composefs
// files, /usr/share/openshift/base/meta.json), stock RPMs (openvswitch3.5,
// libibverbs, rdma-core, kernel, ...) and rpm-ostree/ostree/bootc stand-ins
// for the calls mosc renders. docs/e2e.md describes each piece and its
// upstream source.
package buildenv

import (
	"embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

//go:embed assets
var assets embed.FS

// Options selects the stand-in and the repositories.
type Options struct {
	// OpenShift is the release the base image imitates (RHEL minor, kernel,
	// stock OVS package); default "4.20".
	OpenShift string
	// Fixtures are the negative cases the repos carry; zero is healthy.
	Fixtures Fixtures
}

// Env is a running harness: the base image in the harness's storage and the
// repositories served on 127.0.0.1.
type Env struct {
	// BaseImage is the stand-in's reference (for `mosc build --base-image`).
	BaseImage string
	// ExtensionsImage stands in for the payload's rhel-coreos-extensions
	// image (for `mosc build --extensions-image`): the repo at
	// /usr/share/rpm-ostree/extensions/ has kernel-devel and kernel-headers
	// matching the stand-in's kernel.
	ExtensionsImage string
	// Release is what the stand-in imitates.
	Release Release
	// Env is os.Environ() plus buildah's own knobs: CONTAINERS_STORAGE_CONF
	// (vfs driver, graphroot in the cache), CONTAINERS_REGISTRIES_CONF (no
	// remote search) and BUILDAH_ISOLATION=chroot. Run buildah or mosc with it.
	Env []string
	// URL is the base of the repos with the chosen fixture applied:
	// ServerURL, or ServerURL/fixtures/<name> (no trailing slash).
	URL string
	// ServerURL is http://127.0.0.1:PORT; ServerURL + a path is always the
	// healthy tree.
	ServerURL string
	// GPGKeyPath is the armored public key every signed package verifies with.
	GPGKeyPath string
	// RepoDir is the served tree (read-only for tests).
	RepoDir string

	cache  string
	debian string // the stand-in's Debian base image
	logf   func(string, ...any)
}

// Tools lists what the harness needs on PATH.
var Tools = []string{"buildah", "mmdebstrap", "gpg", "gpgconf", "rpmbuild", "rpmsign", "rpmkeys", "createrepo_c", "gcc"}

// MissingTools names the tools not on PATH, with the install hint.
func MissingTools() error {
	var miss []string
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			miss = append(miss, t)
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("not on PATH: %s (run `make deps`, i.e. hack/install-deps.sh)", strings.Join(miss, ", "))
}

// CacheDir is ${XDG_CACHE_HOME:-~/.cache}/mosc/buildenv.
func CacheDir() (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "mosc", "buildenv"), nil
}

// Start builds or reuses the stand-in and the repos and serves them until the
// test ends. A missing tool skips the test, or fails it when $CI is set.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skipf("buildenv: the stand-in is x86_64 only (GOARCH=%s)", runtime.GOARCH)
	}
	if err := MissingTools(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("buildenv: %v (CI is set, so this is a failure)", err)
		}
		t.Skipf("buildenv: %v", err)
	}
	if opts.OpenShift == "" {
		opts.OpenShift = "4.20"
	}
	rel, err := LookupRelease(opts.OpenShift)
	if err != nil {
		t.Fatal(err)
	}
	if n := opts.Fixtures.count(); n > 1 {
		t.Fatalf("buildenv: one negative fixture at a time, not %s", opts.Fixtures)
	}
	e, err := newEnv(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	e.Release = rel
	// One builder at a time per cache (several test binaries may start at once).
	unlock, err := lockFile(filepath.Join(e.cache, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.holdStorage(); err != nil {
		unlock()
		t.Fatal(err)
	}
	start := time.Now()
	e.BaseImage, err = e.ensureStandin(rel)
	if err == nil {
		e.logf("buildenv: base image %s ready in %s", e.BaseImage, time.Since(start).Round(time.Millisecond))
		start = time.Now()
		e.RepoDir, err = e.ensureRepos()
		e.logf("buildenv: repos ready in %s", time.Since(start).Round(time.Millisecond))
	}
	if err == nil {
		e.ExtensionsImage, err = e.ensureExtensions(rel, e.RepoDir)
	}
	if err == nil {
		for _, ref := range []string{e.BaseImage, e.ExtensionsImage, e.debian} {
			e.touch(ref)
		}
	}
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	e.GPGKeyPath = filepath.Join(e.RepoDir, "keys", KeyFile)
	url, stop, err := serve(e.RepoDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	e.ServerURL, e.URL = url, url
	if name := opts.Fixtures.String(); name != "healthy" {
		e.URL = url + "/fixtures/" + name
	}
	return e
}

func newEnv(logf func(string, ...any)) (*Env, error) {
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	store := filepath.Join(cache, "containers")
	for _, d := range []string{filepath.Join(store, "graph"), filepath.Join(store, "run"), filepath.Join(cache, "repos")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(store, "storage.conf")
	storage := fmt.Sprintf("# written by mosc e2e/buildenv\n[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(store, "graph"), filepath.Join(store, "run"))
	if err := writeIfChanged(conf, storage); err != nil {
		return nil, err
	}
	reg := filepath.Join(store, "registries.conf")
	if err := writeIfChanged(reg, "# written by mosc e2e/buildenv: no remote search\nunqualified-search-registries = []\n"); err != nil {
		return nil, err
	}
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF", "BUILDAH_ISOLATION", "STORAGE_DRIVER":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "CONTAINERS_STORAGE_CONF="+conf, "CONTAINERS_REGISTRIES_CONF="+reg, "BUILDAH_ISOLATION=chroot")
	return &Env{Env: env, cache: cache, logf: logf}, nil
}

func writeIfChanged(path, content string) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		return nil
	}
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// ensureRepos returns the cached repo tree, building it (with a newly
// generated signing key) when absent.
func (e *Env) ensureRepos() (string, error) {
	parts := []any{"repos", allRepos(Fixtures{}, elfs{}), docaRepos}
	for _, n := range FixtureNames {
		parts = append(parts, n, allRepos(fixtureByName(n), elfs{}))
	}
	dir := filepath.Join(e.cache, "repos", contentHash(repoAssets, parts...))
	if _, err := os.Stat(filepath.Join(dir, "keys", KeyFile)); err == nil {
		return dir, nil
	}
	if err := buildTree(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// serve serves dir on a free loopback port. /fixtures/<name>/<path> is the
// fixture's file where it has one, else the healthy tree's <path>.
func serve(dir string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	files := http.FileServer(http.Dir(dir))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/fixtures/"); ok {
			name, p, _ := strings.Cut(rest, "/")
			if _, err := os.Stat(filepath.Join(dir, "fixtures", name, filepath.FromSlash(path.Clean("/"+p)))); err != nil {
				r2 := r.Clone(r.Context())
				r2.URL.Path = "/" + p
				files.ServeHTTP(w, r2)
				return
			}
		}
		files.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// RepoURL is the loopback baseurl of a mosc repo id: doca (the default
// version of stack "doca-3.3"; see DOCARepoURL for others), baseos,
// appstream, crb, epel, or rhcos-extensions (this release's kernel-devel).
func (e *Env) RepoURL(id string) string {
	switch id {
	case "doca":
		return e.DOCARepoURL("3.3.0", "rhel9")
	case "baseos":
		return e.URL + BaseOSPath
	case "appstream":
		return e.URL + AppStreamPath
	case "crb":
		return e.URL + CRBPath
	case "epel":
		return e.URL + EPELPath
	case "rhcos-extensions":
		return e.URL + ExtensionsRepoPath(e.Release.RHEL)
	}
	panic("buildenv: unknown repo id " + id)
}

// DOCARepoURL is the loopback baseurl of a DOCA repo: version "3.3.0" and
// distro "rhel9", or "2.9.4" and "rhel9.6" (DOCA <= 3.1 has per-minor dirs).
func (e *Env) DOCARepoURL(version, distro string) string {
	return e.URL + DOCARepoPath(version, distro)
}

// Buildah runs buildah with the harness environment and returns its combined
// output; it fails the test on error.
func (e *Env) Buildah(t testing.TB, args ...string) string {
	t.Helper()
	out, err := e.buildahOut(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Command is exec.Command with the harness environment.
func (e *Env) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = e.Env
	return cmd
}
