package resolve

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pkg is an empty RPM with dependencies only; tests build them with rpmbuild.
type pkg struct {
	name, version string
	deps          []string // spec lines: "Requires: …", "Provides: …"
	files         map[string]string
	arch          string // default x86_64
}

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"dnf", "rpm", "rpmbuild", "createrepo_c"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not on PATH (hack/install-deps.sh installs it)", tool)
			}
			t.Skipf("%s not on PATH", tool)
		}
	}
}

func buildRPMs(t *testing.T, dir string, pkgs []pkg) {
	t.Helper()
	top := t.TempDir()
	for _, p := range pkgs {
		arch := p.arch
		if arch == "" {
			arch = "x86_64"
		}
		install, list := "", ""
		if len(p.files) > 0 {
			root := filepath.Join(top, p.name+"-root")
			for path, content := range p.files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				list += path + "\n"
			}
			install = "%install\nmkdir -p %{buildroot}\ncp -a " + root + "/. %{buildroot}/\n"
		}
		spec := fmt.Sprintf("Name: %s\nVersion: %s\nRelease: 1.el9\nSummary: t\nLicense: MIT\nBuildArch: %s\n%s\n%%description\nt\n%s%%files\n%s", p.name, p.version, arch, strings.Join(p.deps, "\n"), install, list)
		f := filepath.Join(top, p.name+".spec")
		if err := os.WriteFile(f, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top, "--define", "_rpmdir "+dir,
			"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm", "--define", "__os_install_post %{nil}",
			"--define", "_dbpath "+filepath.Join(top, "db"), "--target", arch, f)
		cmd.Env = append(os.Environ(), "HOME="+top)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", p.name, err, out)
		}
	}
}

// image is an installroot whose /usr/share/rpm lists the RPMs in rpms (as
// RHCOS's does), plus extra.
func image(t *testing.T, rpms string, extra ...pkg) string {
	t.Helper()
	if len(extra) > 0 {
		more := t.TempDir()
		buildRPMs(t, more, extra)
		files, _ := filepath.Glob(filepath.Join(rpms, "*.rpm"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(more, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rpms = more
	}
	root := t.TempDir()
	db := filepath.Join(root, "usr", "share", "rpm")
	if err := os.MkdirAll(db, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(rpms, "*.rpm"))
	args := append([]string{"--dbpath", db, "-i", "--justdb", "--nodeps", "--ignorearch"}, files...)
	if out, err := exec.Command("rpm", args...).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i --justdb: %v\n%s", err, out)
	}
	return root
}

func buildRepo(t *testing.T, dir string, pkgs []pkg) {
	t.Helper()
	buildRPMs(t, dir, pkgs)
	if out, err := exec.Command("createrepo_c", "--quiet", dir).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
}

func serveRepo(t *testing.T, pkgs []pkg) string {
	t.Helper()
	dir := t.TempDir()
	buildRepo(t, dir, pkgs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

var base = []pkg{
	{name: "redhat-release", version: "9.6", deps: []string{"Provides: system-release(releasever) = 9"}},
	{name: "glibc", version: "2.34", deps: []string{"Provides: libc.so.6()(64bit)", "Provides: libc.so.6(GLIBC_2.34)(64bit)"}},
	{name: "openssl-libs", version: "3.2.2", deps: []string{"Provides: libssl.so.3()(64bit)", "Provides: libssl.so.3(OPENSSL_3.0.0)(64bit)"}},
	{name: "openvswitch3.5", version: "3.5.0", deps: []string{"Provides: openvswitch", "Requires: libssl.so.3()(64bit)"}},
	{name: "libibverbs", version: "54.0", deps: []string{"Provides: libibverbs.so.1()(64bit)", "Provides: libmlx5.so.1(MLX5_1.24)(64bit)"}},
	{name: "rdma-core", version: "54.0", deps: nil},
	{name: "unbound-libs", version: "1.16.2", deps: nil},
}

var doca = []pkg{
	{name: "doca-all", version: "3.3.0", deps: []string{"Requires: doca-openvswitch >= 3.3"}},
	{name: "doca-openvswitch", version: "3.3.0040", deps: []string{"Requires: libssl.so.3(OPENSSL_3.0.0)(64bit)", "Requires: libmlx5.so.1(MLX5_1.25)(64bit)", "Requires: libc.so.6(GLIBC_2.34)(64bit)", "Conflicts: openvswitch3.5"}},
	{name: "libibverbs", version: "2601mlnx60", deps: []string{"Provides: libibverbs.so.1()(64bit)", "Provides: libmlx5.so.1(MLX5_1.25)(64bit)", "Requires: rdma-core >= 2601mlnx60"}},
	{name: "rdma-core", version: "2601mlnx60", deps: nil},
}

var centos = []pkg{
	{name: "unbound-libs", version: "1.16.2.1", deps: nil},
	{name: "libyaml", version: "0.2.5", deps: nil},
	{name: "libyaml-devel", version: "0.2.5", deps: []string{"Requires: libyaml = 0.2.5-1.el9"}},
}

// walkthroughSteps are the package steps of the walkthrough's layers (as
// ParseSteps reads them), with the build dependencies cut down.
func walkthroughSteps() []Step {
	all := []string{"doca", "baseos"}
	return []Step{
		{Kind: Install, Packages: []string{"libyaml-devel"}, Repos: all, Options: []string{"--setopt=install_weak_deps=False"}, Layer: "build-deps"},
		{Kind: UpgradeInstalled, Packages: []string{"unbound-libs", "unbound"}, Repos: all, Layer: "build-deps"},
		{Kind: RemoveInstalled, Packages: []string{"openvswitch[0-9]*"}, Layer: "swap-openvswitch"},
		{Kind: Replace, Packages: []string{"libibverbs", "rdma-core"}, Repos: []string{"doca"}, Layer: "doca-rdma"},
		{Kind: Install, Packages: []string{"doca-all"}, Repos: all, Options: []string{"--setopt=install_weak_deps=False"}, Layer: "install"},
	}
}

func repoFiles(docaURL, baseosURL string) map[string]string {
	return map[string]string{
		"doca.repo":   "[doca]\nname=DOCA\nbaseurl=" + docaURL + "\nenabled=0\ngpgcheck=0\n",
		"centos.repo": "[baseos]\nname=CentOS Stream $releasever - BaseOS\nbaseurl=" + baseosURL + "\nenabled=0\ngpgcheck=0\n",
		"README":      "not a repo file\n",
	}
}

func run(t *testing.T, root string, files map[string]string, steps []Step) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Request{Root: root, DBDir: "usr/share/rpm", Work: t.TempDir(), RepoFiles: files, Arch: "x86_64", ReleaseVer: "9", Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRun(t *testing.T) {
	needTools(t)
	docaURL, baseosURL := serveRepo(t, doca), serveRepo(t, centos)
	baseRPMs := t.TempDir()
	buildRPMs(t, baseRPMs, base)

	t.Run("resolves", func(t *testing.T) {
		res := run(t, image(t, baseRPMs), repoFiles(docaURL, baseosURL), walkthroughSteps())
		if res.Outcome.Status != Resolved {
			t.Fatalf("outcome %+v\n%s\n%s", res.Outcome, res.Command, res.Output)
		}
		// doca-all, doca-openvswitch, libyaml-devel, libyaml; upgrades:
		// libibverbs, rdma-core (replaced), unbound-libs.
		if res.Outcome.Counts["Install"] != 4 || res.Outcome.Counts["Upgrade"] != 3 || res.Outcome.Installs() != 7 {
			t.Errorf("counts %v\n%s", res.Outcome.Counts, res.Output)
		}
		if strings.Join(res.Removed, ",") != "openvswitch3.5" || strings.Join(res.Upgrades, ",") != "unbound-libs-0:1.16.2.1-1.el9.x86_64" ||
			strings.Join(res.Replaced, ",") != "libibverbs-0:2601mlnx60-1.el9.x86_64,rdma-core-0:2601mlnx60-1.el9.x86_64" {
			t.Errorf("removed %v upgrades %v replaced %v", res.Removed, res.Upgrades, res.Replaced)
		}
		if res.Installed != len(base) || res.ReleaseVer != "9" || strings.Join(res.Repos, ",") != "doca,baseos" {
			t.Errorf("installed %d releasever %q repos %v", res.Installed, res.ReleaseVer, res.Repos)
		}
		if !strings.HasPrefix(res.Command, "dnf --installroot $ROOT ") || !strings.Contains(res.Command, "--assumeno") || !strings.Contains(res.Command, "--forcearch x86_64") ||
			!strings.HasSuffix(res.Command, " install libyaml-devel unbound-libs-0:1.16.2.1-1.el9.x86_64 libibverbs-0:2601mlnx60-1.el9.x86_64 rdma-core-0:2601mlnx60-1.el9.x86_64 doca-all") {
			t.Errorf("command %s", res.Command)
		}
	})

	t.Run("base lacks a symbol version", func(t *testing.T) {
		// Without the replace step, RHEL's libibverbs stays: it has no
		// MLX5_1.25, and no enabled repo but doca (not enabled for it) has.
		old := []Step{walkthroughSteps()[0], walkthroughSteps()[2], walkthroughSteps()[4]}
		old[0].Repos, old[2].Repos = []string{"baseos"}, []string{"baseos"}
		files := repoFiles(docaURL, baseosURL)
		// doca-all from a repo without libibverbs: the base must provide it.
		noRDMA := serveRepo(t, doca[:2])
		files["doca.repo"] = "[doca]\nname=DOCA\nbaseurl=" + noRDMA + "\nenabled=0\ngpgcheck=0\n"
		old[2].Repos = []string{"doca", "baseos"}
		res := run(t, image(t, baseRPMs), files, old)
		f := res.Outcome.First()
		if res.Outcome.Status != Unresolvable || f == nil || f.Missing != "libmlx5.so.1(MLX5_1.25)(64bit)" || f.NeededBy != "doca-openvswitch-3.3.0040-1.el9.x86_64" {
			t.Fatalf("outcome %+v\n%s", res.Outcome, res.Output)
		}
	})

	t.Run("a URL install adds its repo files", func(t *testing.T) {
		// As the epel layer's dnf install of the EPEL release package: its
		// repo file (enabled=1) serves the build dependencies after it.
		epelURL := serveRepo(t, []pkg{{name: "libunwind", version: "1.6.2"}})
		release := serveRepo(t, []pkg{{name: "epel-release", version: "9", arch: "noarch", deps: []string{"Requires: redhat-release >= 9"},
			files: map[string]string{"/etc/yum.repos.d/epel.repo": "[epel]\nname=EPEL $releasever\nbaseurl=" + epelURL + "\nenabled=1\ngpgcheck=0\n"}}})
		steps := append([]Step{{Kind: InstallURL, Packages: []string{release + "epel-release-9-1.el9.noarch.rpm"}, Layer: "epel"},
			{Kind: Install, Packages: []string{"libunwind"}, Repos: []string{"baseos"}, Layer: "build-deps"}}, walkthroughSteps()[1:]...)
		res := run(t, image(t, baseRPMs), repoFiles(docaURL, baseosURL), steps)
		if res.Outcome.Status != Resolved || !strings.Contains(res.Output, "libunwind") {
			t.Fatalf("outcome %+v\n%s\n%s", res.Outcome, res.Command, res.Output)
		}
		var epel bool
		for _, p := range res.Outcome.Packages {
			epel = epel || p.Name == "libunwind" && p.Repo == "epel"
		}
		if !epel {
			t.Errorf("libunwind not from epel: %+v", res.Outcome.Packages)
		}
	})

	t.Run("remove breaks a dependency", func(t *testing.T) {
		res := run(t, image(t, baseRPMs, pkg{name: "NetworkManager-ovs", version: "1.52.0", deps: []string{"Requires: openvswitch"}}), repoFiles(docaURL, baseosURL), walkthroughSteps())
		if res.Outcome.Status != Unresolvable || res.Step == nil || res.Step.Kind != RemoveInstalled ||
			res.Outcome.First().Missing != "openvswitch" || !strings.HasPrefix(res.Outcome.First().NeededBy, "NetworkManager-ovs-1.52.0") {
			t.Fatalf("outcome %+v step %+v\n%s", res.Outcome, res.Step, res.Output)
		}
	})

	t.Run("replace from a repo without the package", func(t *testing.T) {
		files := repoFiles(docaURL, baseosURL)
		files["doca.repo"] = "[doca]\nname=DOCA\nbaseurl=" + baseosURL + "\nenabled=0\ngpgcheck=0\n"
		res := run(t, image(t, baseRPMs), files, walkthroughSteps())
		if res.Outcome.Status != NoMatch || res.Outcome.Repo != "doca" || strings.Join(res.Outcome.Unmatched, ",") != "libibverbs,rdma-core" {
			t.Fatalf("outcome %+v\n%s", res.Outcome, res.Output)
		}
	})

	t.Run("through the cluster's proxy and with its CA", func(t *testing.T) {
		// The repositories' hosts resolve only at the proxy (as behind a
		// cluster Proxy); BaseOS is HTTPS with a certificate only the
		// cluster's trust bundle vouches for.
		docaDir, baseosDir := t.TempDir(), t.TempDir()
		buildRepo(t, docaDir, doca)
		buildRepo(t, baseosDir, centos)
		tlsRepo := httptest.NewTLSServer(http.FileServer(http.Dir(baseosDir)))
		t.Cleanup(tlsRepo.Close)
		plain := httptest.NewServer(http.FileServer(http.Dir(docaDir)))
		t.Cleanup(plain.Close)
		target, _ := url.Parse(plain.URL)
		var proxied atomic.Int32
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Proxy-Authorization") == "" {
				w.Header().Set("Proxy-Authenticate", `Basic realm="cluster proxy"`)
				http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
				return
			}
			if r.URL.Host != "doca.mirror.invalid" {
				http.Error(w, "unknown host "+r.URL.Host, http.StatusBadGateway)
				return
			}
			proxied.Add(1)
			httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
		}))
		t.Cleanup(proxy.Close)
		proxyURL := strings.Replace(proxy.URL, "http://", "http://proxy-user:Pr0xySecret@", 1)
		files := repoFiles("http://doca.mirror.invalid/", tlsRepo.URL+"/")
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsRepo.Certificate().Raw}), 0o644); err != nil {
			t.Fatal(err)
		}
		env := []string{"http_proxy=" + proxyURL, "HTTP_PROXY=" + proxyURL, "no_proxy=127.0.0.1", "NO_PROXY=127.0.0.1"}
		resolveWith := func(env []string, ca string) *Result {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, err := Run(ctx, Request{Root: image(t, baseRPMs), DBDir: "usr/share/rpm", Work: t.TempDir(), RepoFiles: files, Arch: "x86_64", ReleaseVer: "9",
				Steps: walkthroughSteps(), Env: env, CACert: ca})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if res := resolveWith(env, ca); res.Outcome.Status != Resolved || proxied.Load() == 0 {
			t.Fatalf("with the proxy and CA: outcome %+v, %d proxied requests\n%s\n%s", res.Outcome, proxied.Load(), res.Command, res.Output)
		} else if strings.Contains(fmt.Sprintf("%+v %s %s", res.Outcome, res.Command, res.Output), "Pr0xySecret") {
			t.Errorf("the proxy password is shown")
		}
		if res := resolveWith(env, ""); res.Outcome.Status != RepoError || res.Outcome.Repo != "baseos" {
			t.Errorf("without the cluster's CA: outcome %+v, want a baseos repository error\n%s", res.Outcome, res.Output)
		}
		if res := resolveWith(nil, ca); res.Outcome.Status != RepoError || res.Outcome.Repo != "doca" {
			t.Errorf("without the proxy: outcome %+v, want a doca repository error\n%s", res.Outcome, res.Output)
		}
	})

	t.Run("repo unreachable and credentials never shown", func(t *testing.T) {
		files := repoFiles(docaURL, "http://mirror-user:Sup3rSecret@127.0.0.1:9/baseos/")
		files["doca.repo"] += "username=doca-user\npassword=An0therSecret\n"
		res := run(t, image(t, baseRPMs), files, walkthroughSteps())
		if res.Outcome.Status != RepoError || res.Outcome.Repo != "baseos" || !strings.Contains(res.Outcome.Detail, "Curl error (7)") {
			t.Fatalf("outcome %+v step %+v\n%s\n%s", res.Outcome, res.Step, res.Command, res.Output)
		}
		all := fmt.Sprintf("%+v %s %s", res.Outcome, res.Command, res.Output)
		for _, s := range []string{"Sup3rSecret", "mirror-user", "An0therSecret"} {
			if strings.Contains(all, s) {
				t.Errorf("%q shown: %s", s, all)
			}
		}
	})
}
