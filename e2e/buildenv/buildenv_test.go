package buildenv_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/e2e/buildenv"
)

// repoFiles writes what MCO mounts into a build: a yum.repos.d directory (the
// etc-yum-repos-d ConfigMap) with one repo per id at baseURL(id), gpgcheck=1,
// and an rpm-gpg directory (the etc-pki-rpm-gpg Secret) with the test key.
func repoFiles(t *testing.T, env *buildenv.Env, baseURL func(id string) string) (reposDir, keysDir string) {
	return repoFilesEnabled(t, env, baseURL, 1)
}

// repoFilesEnabled is repoFiles with enabled=0 or 1 (the catalog renders
// enabled=0 and --enablerepo, so MCO's own stages see none of them).
func repoFilesEnabled(t *testing.T, env *buildenv.Env, baseURL func(id string) string, enabled int) (reposDir, keysDir string) {
	t.Helper()
	dir := t.TempDir()
	reposDir, keysDir = filepath.Join(dir, "yum.repos.d"), filepath.Join(dir, "rpm-gpg")
	for _, d := range []string{reposDir, keysDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key, err := os.ReadFile(env.GPGKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keysDir, buildenv.KeyFile), key, 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, id := range []string{"doca", "baseos", "appstream", "crb", "epel"} {
		fmt.Fprintf(&b, "[%s]\nname=%s (mosc e2e)\nbaseurl=%s\nenabled=%d\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/%s\n\n", id, id, baseURL(id), enabled, buildenv.KeyFile)
	}
	if err := os.WriteFile(filepath.Join(reposDir, "mosc.repo"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return reposDir, keysDir
}

// container is a buildah working container of an image, removed at the end.
type container struct {
	env  *buildenv.Env
	name string
}

func newContainer(t *testing.T, env *buildenv.Env, image string) *container {
	t.Helper()
	name := env.Buildah(t, "from", "--pull-never", "--quiet", image)
	// Removed by ID: names are reused (rhcos-standin-working-container is
	// the first free one), and a name another process's container took
	// after ours was gone must not be removed in its place.
	id := env.Buildah(t, "inspect", "--type", "container", "--format", "{{.ContainerID}}", name)
	t.Cleanup(func() { _ = env.Command("buildah", "rm", id).Run() })
	return &container{env: env, name: id}
}

// run runs a bash script in the container with the repo files mounted where
// MCO mounts them; it returns the combined output and whether it succeeded.
func (c *container) run(t *testing.T, repos, keys, script string) (string, bool) {
	t.Helper()
	args := []string{"run"}
	if repos != "" {
		args = append(args, "--volume", repos+":/etc/yum.repos.d", "--volume", keys+":/etc/pki/rpm-gpg")
	}
	args = append(args, c.name, "--", "bash", "-c", script)
	out, err := c.env.Command("buildah", args...).CombinedOutput()
	// buildah re-executes itself from a sealed memfd copy before it starts
	// the container (its vendored runc libcontainer/nsenter cloned_binary.c,
	// "Close_Fd sealing memfd copy"); under concurrent builds the seal can
	// fail with EBUSY before the script has run at all. That says nothing
	// about the stand-in, so try again.
	for try := 0; try < 2 && err != nil && strings.Contains(string(out), "sealing memfd copy"); try++ {
		t.Logf("buildah run: runc could not seal its memfd copy (%v); running the script again", err)
		out, err = c.env.Command("buildah", args...).CombinedOutput()
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("buildah run: %v\n%s", err, out)
		}
	}
	return string(out), err == nil
}

func (c *container) mustRun(t *testing.T, repos, keys, script string) string {
	t.Helper()
	out, ok := c.run(t, repos, keys, script)
	if !ok {
		t.Fatalf("in the stand-in: %s\nfailed:\n%s", script, out)
	}
	return out
}

func wantMatch(t *testing.T, out, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(out) {
		t.Errorf("output does not match %q:\n%s", re, out)
	}
}

// TestStandin proves the stand-in base image: RHCOS layout, the stock rpm
// database, working rpm and dnf, a clean lint.
func TestStandin(t *testing.T) {
	env := buildenv.Start(t, buildenv.Options{})
	c := newContainer(t, env, env.BaseImage)
	out := c.mustRun(t, "", "", `set -e
readlink /opt; test ! -e /var/opt && echo no-var-opt
rpm --eval '%_dbpath'
rpm -q --qf '%{NAME}-%{VERSION}-%{RELEASE}\n' openvswitch3.5 libibverbs rdma-core kernel-core unbound-libs bzip2-libs
rpm -qf /usr/sbin/ovs-vswitchd
grep -h '/var/opt' /usr/lib/tmpfiles.d/*.conf
bootc container lint --fatal-warnings
dnf --version | head -1`)
	for _, re := range []string{
		`(?m)^var/opt$`, `(?m)^no-var-opt$`, `(?m)^/usr/share/rpm$`,
		`(?m)^openvswitch3\.5-3\.5\.0-45\.el9fdp$`, `(?m)^libibverbs-54\.0-1\.el9$`, `(?m)^rdma-core-54\.0-1\.el9$`,
		`(?m)^kernel-core-5\.14\.0-570\.60\.1\.el9_6$`, `(?m)^openvswitch3\.5-3\.5\.0-45\.el9fdp\.x86_64$`,
		`(?m)^d /var/opt 0755 root root -$`, `(?m)^4\.\d+`, `Checks passed: 11`,
	} {
		wantMatch(t, out, re)
	}
	meta := c.mustRun(t, "", "", "cat /usr/share/openshift/base/meta.json")
	var m struct {
		Linux   string     `json:"ostree.linux"`
		PkgList [][]string `json:"rpmdb.pkglist"`
	}
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		t.Fatalf("meta.json: %v\n%s", err, meta)
	}
	found := false
	for _, p := range m.PkgList {
		if len(p) == 5 && p[0] == "kernel-core" && p[2]+"-"+p[3]+"."+p[4] == m.Linux {
			found = true
		}
	}
	if m.Linux != env.Release.Kernel || !found {
		t.Errorf("meta.json: ostree.linux %q, kernel-core in rpmdb.pkglist: %v (want %s)", m.Linux, found, env.Release.Kernel)
	}
}

// TestRepos proves the repos and the rpm-ostree/ostree/bootc stand-ins with
// dnf and rpm inside the stand-in.
func TestRepos(t *testing.T) {
	env := buildenv.Start(t, buildenv.Options{})
	repos, keys := repoFiles(t, env, env.RepoURL)
	c := newContainer(t, env, env.BaseImage)

	t.Run("override remove", func(t *testing.T) {
		out, ok := c.run(t, repos, keys, "rpm-ostree override remove no-such-package")
		if ok {
			t.Fatalf("override remove of an unknown package succeeded:\n%s", out)
		}
		wantMatch(t, out, `error: Package "no-such-package" not found`)
		out = c.mustRun(t, repos, keys, `ovs=$(rpm -qa --qf '%{NAME} ' 'openvswitch[0-9]*'); rpm-ostree override remove $ovs; rpm -q openvswitch3.5 || echo gone`)
		wantMatch(t, out, `(?m)^package openvswitch3\.5 is not installed$`)
	})
	t.Run("install", func(t *testing.T) {
		out, ok := c.run(t, repos, keys, "rpm-ostree install no-such-a jsoncpp no-such-b")
		if ok {
			t.Fatalf("rpm-ostree install of unknown packages succeeded:\n%s", out)
		}
		wantMatch(t, out, `error: Packages not found: no-such-a, no-such-b`)
		out = c.mustRun(t, repos, keys, "rpm-ostree install jsoncpp >/dev/null && rpm -q jsoncpp")
		wantMatch(t, out, `(?m)^jsoncpp-1\.9\.5-1\.el9\.x86_64$`)
	})
	t.Run("override replace", func(t *testing.T) {
		out, ok := c.run(t, repos, keys, "rpm-ostree override replace libibverbs --from repo=doca")
		if ok {
			t.Fatalf("--from without --experimental succeeded:\n%s", out)
		}
		wantMatch(t, out, `Must specify --experimental`)
		out, ok = c.run(t, repos, keys, "rpm-ostree override replace doca-openvswitch --experimental --from repo=doca")
		if ok {
			t.Fatalf("replacing a package that is not installed succeeded:\n%s", out)
		}
		wantMatch(t, out, `Package "doca-openvswitch" not found`)
		out, ok = c.run(t, repos, keys, "rpm-ostree override replace kernel-core --experimental --from repo=epel")
		if ok {
			t.Fatalf("replacing from a repo without the package succeeded:\n%s", out)
		}
		wantMatch(t, out, `No matches for 'kernel-core' in repo 'epel'`)
		// BaseOS has 57.0, DOCA 2601mlnx60: each replace takes its repo's.
		out = c.mustRun(t, repos, keys, "rpm-ostree override replace libibverbs rdma-core --experimental --from repo=baseos >/dev/null && rpm -q libibverbs rdma-core")
		wantMatch(t, out, `(?m)^libibverbs-57\.0-2\.el9\.x86_64$`)
		out = c.mustRun(t, repos, keys, "rpm-ostree override replace libibverbs rdma-core --experimental --from repo=doca >/dev/null && rpm -q libibverbs rdma-core")
		wantMatch(t, out, `(?m)^libibverbs-2601mlnx60-1\.2601040\.x86_64$`)
		wantMatch(t, out, `(?m)^rdma-core-2601mlnx60-1\.2601040\.x86_64$`)
	})
	t.Run("signed install and /opt", func(t *testing.T) {
		// As on RHCOS: /opt is a dangling link until /var/opt exists.
		out, ok := c.run(t, repos, keys, "dnf install -y mlnx-dpdk")
		if ok {
			t.Fatalf("installing under /opt without /var/opt succeeded:\n%s", out)
		}
		wantMatch(t, out, `failed to open dir opt of /opt/mellanox/dpdk/lib64/`)
		wantMatch(t, out, `Error unpacking rpm package mlnx-dpdk-`)
		wantMatch(t, out, `(?m)^Failed:\n  mlnx-dpdk-`)
		out = c.mustRun(t, repos, keys, `set -e
mkdir -p /var/opt
dnf install -y --setopt=install_weak_deps=False doca-openvswitch
rpm -q gpg-pubkey --qf '%{SUMMARY}\n'
rpm -qf /usr/sbin/ovs-vswitchd
rpm -q openvswitch3.5 || true
ldd /usr/sbin/ovs-vswitchd
/usr/sbin/ovs-vswitchd --version`)
		wantMatch(t, out, `(?m)^mosc e2e repository signing key <e2e@mosc\.invalid> public key$`)
		wantMatch(t, out, `(?m)^doca-openvswitch-3\.3\.0040-1\.el9\.x86_64$`)
		wantMatch(t, out, `(?m)^package openvswitch3\.5 is not installed$`)
		wantMatch(t, out, `librte_eal\.so\.24 => /opt/mellanox/dpdk/lib64/librte_eal\.so\.24`)
		wantMatch(t, out, `DPDK 22\.11\.2601\.1\.0`)
	})
	t.Run("lint", func(t *testing.T) {
		out := c.mustRun(t, "", "", "bootc container lint --no-truncate")
		wantMatch(t, out, `Lint warning: var-tmpfiles: Found content in /var missing systemd tmpfiles.d entries:`)
		wantMatch(t, out, `(?m)^  d /var/opt/mellanox 0755 root root - -$`)
		wantMatch(t, out, `Found non-directory/non-symlink files in /var:(\n  .*)*\n  var/opt/mellanox/dpdk/lib64/librte_eal\.so\.24\n`)
		out, ok := c.run(t, "", "", "bootc container lint --fatal-warnings")
		if ok {
			t.Fatalf("lint --fatal-warnings passed with /var/opt content:\n%s", out)
		}
		wantMatch(t, out, `error: Linting: Checks failed: \d+`)
		// A second kernel is fatal even without --fatal-warnings.
		out, ok = c.run(t, "", "", "mkdir -p /usr/lib/modules/6.0.0-1.x86_64 && touch /usr/lib/modules/6.0.0-1.x86_64/vmlinuz && bootc container lint")
		if ok {
			t.Fatalf("lint passed with two kernels:\n%s", out)
		}
		wantMatch(t, out, `Failed lint: kernel: Found multiple kernels`)
		c.mustRun(t, "", "", "rm -rf /usr/lib/modules/6.0.0-1.x86_64")
		// ostree container commit empties /var/cache and /tmp, not /var/opt.
		out = c.mustRun(t, "", "", `touch /tmp/x; mkdir -p /var/cache/y; ostree container commit; echo "tmp=[$(ls -A /tmp)] cache=[$(ls -A /var/cache)] opt=[$(ls -A /var/opt)]"`)
		wantMatch(t, out, `(?m)^tmp=\[\] cache=\[\] opt=\[mellanox\]$`)
	})
}

// TestNegativeFixtures proves each negative fixture fails (or misbehaves) the
// way the real repos would.
func TestNegativeFixtures(t *testing.T) {
	healthy := buildenv.Start(t, buildenv.Options{})
	c := newContainer(t, healthy, healthy.BaseImage)
	c.mustRun(t, "", "", "mkdir -p /var/opt")
	for _, tc := range []struct {
		name   string
		f      buildenv.Fixtures
		doca   string // DOCA repo path override
		script string
		fail   bool
		want   []string
	}{
		{name: "unsigned", f: buildenv.Fixtures{UnsignedPackage: true},
			script: "dnf install -y --setopt=install_weak_deps=False doca-extra", fail: true,
			want: []string{`doca-extra-3\.3\.0-1\.el9\.x86_64\.rpm is not signed`}},
		{name: "no doca-openvswitch", f: buildenv.Fixtures{NoDOCAOpenvswitch: true},
			script: "dnf install -y --setopt=install_weak_deps=False doca-openvswitch", fail: true,
			want: []string{`No match for argument: doca-openvswitch`}},
		{name: "wrong repo path", doca: buildenv.DOCARepoPath("3.3.0", "rhel9.6"),
			script: "dnf makecache --repo doca", fail: true,
			want: []string{`Status code: 404 for http://127\.0\.0\.1:\d+/public/repo/doca/3\.3\.0/rhel9\.6/x86_64/repodata/repomd\.xml`}},
		{name: "weak deps bring stock OVS back", f: buildenv.Fixtures{WeakDepOVS: true},
			script: "rpm-ostree override remove openvswitch3.5 >/dev/null && dnf install -y doca-openvswitch >/dev/null && rpm -q openvswitch3.5 doca-openvswitch",
			want:   []string{`(?m)^openvswitch3\.5-3\.5\.0-99\.el9fdp\.x86_64$`, `(?m)^doca-openvswitch-`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := healthy
			if tc.f != (buildenv.Fixtures{}) {
				env = buildenv.Start(t, buildenv.Options{Fixtures: tc.f})
			}
			repos, keys := repoFiles(t, env, func(id string) string {
				if id == "doca" && tc.doca != "" {
					return env.URL + tc.doca
				}
				return env.RepoURL(id)
			})
			out, ok := c.run(t, repos, keys, tc.script)
			if ok == tc.fail {
				t.Fatalf("%s: succeeded=%v, want %v:\n%s", tc.script, ok, !tc.fail, out)
			}
			for _, re := range tc.want {
				wantMatch(t, out, re)
			}
		})
	}
}

// TestMCOStagesBuild runs a plain `buildah build` shaped like MCO's: its own
// extract and configs stages (configs installs the kernel-devel extension
// from the extensions image, as MCO's Containerfile template does),
// then the walkthrough's RUN as the user's `FROM configs AS final`, with the
// repo files and key mounted as volumes the way MCO mounts the
// etc-yum-repos-d ConfigMap and etc-pki-rpm-gpg Secret.
func TestMCOStagesBuild(t *testing.T) {
	env := buildenv.Start(t, buildenv.Options{})
	repos, keys := repoFilesEnabled(t, env, env.RepoURL, 0)
	dir := t.TempDir()
	cf := `FROM ` + env.BaseImage + ` AS extract
FROM ` + env.BaseImage + ` AS configs
RUN --mount=type=bind,from=` + env.ExtensionsImage + `,source=/,target=/tmp/mco-extensions/os-extensions-content,bind-propagation=rshared,z \
    printf '%s\n' '[coreos-extensions]' 'enabled=1' 'metadata_expire=1m' \
	'baseurl=/tmp/mco-extensions/os-extensions-content/usr/share/rpm-ostree/extensions/' \
	'gpgcheck=0' 'skip_if_unavailable=False' > /etc/yum.repos.d/coreos-extensions.repo && \
    rpm-ostree install kernel-devel kernel-headers && \
    rm /etc/yum.repos.d/coreos-extensions.repo
RUN ostree container commit
FROM configs AS final
RUN set -eux; \
  mkdir -p /var/opt; \
  on=--enablerepo=doca,baseos,appstream,crb,epel; \
  dnf install -y --setopt=install_weak_deps=False $on libyaml-devel libpcap-devel libzip-devel libunwind jsoncpp openssl-devel; \
  dnf upgrade -y $on unbound-libs unbound bzip2-libs bzip2-devel; \
  ovs=$(rpm -qa --qf '%{NAME} ' 'openvswitch[0-9]*'); [ -z "$ovs" ] || rpm-ostree override remove $ovs; \
  ! rpm-ostree override replace libibverbs rdma-core --experimental --from repo=doca; \
  sed -i 's/^enabled=0$/enabled=1/' /etc/yum.repos.d/mosc.repo; \
  rpm-ostree override replace libibverbs rdma-core --experimental --from repo=doca; \
  dnf install -y --setopt=install_weak_deps=False doca-all; \
  dnf clean all; \
  rm -rf /etc/yum.repos.d/* /var/cache/dnf; \
  bootc container lint
`
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "localhost/mosc-e2e/selftest:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	env.RemoveImageAtEnd(t, tag)
	out, err := env.Command("buildah", "build", "--pull-never", "--layers=false",
		"--volume", repos+":/etc/yum.repos.d", "--volume", keys+":/etc/pki/rpm-gpg",
		"-f", filepath.Join(dir, "Containerfile"), "-t", tag, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("buildah build: %v\n%s", err, out)
	}
	log := string(out)
	// What the walkthrough's first real build showed (issue 9).
	wantMatch(t, log, `No match for argument: unbound`)
	wantMatch(t, log, `No matches for 'libibverbs' in repo 'doca'`) // disabled: not in rpm-ostree's sack
	wantMatch(t, log, `Installing 2 packages:`)                     // the extension, from the extensions image
	wantMatch(t, log, `Lint warning: var-tmpfiles:`)
	wantMatch(t, log, `DKMS: mlnx-ofa_kernel/3\.3\.0 installed for kernel `+regexp.QuoteMeta(env.Release.Kernel))

	c := newContainer(t, env, tag)
	got := c.mustRun(t, "", "", `rpm -qa 'openvswitch[0-9]*' | grep . || echo no-stock-ovs
rpm -qf /usr/sbin/ovs-vswitchd
rpm -q libibverbs rdma-core doca-all
ldd /usr/sbin/ovs-vswitchd
ls /usr/lib/modules/*/extra/mlnx-ofa_kernel/
ls -A /etc/yum.repos.d | wc -l`)
	for _, re := range []string{
		`(?m)^no-stock-ovs$`, `(?m)^doca-openvswitch-3\.3\.0040-1\.el9\.x86_64$`,
		`(?m)^libibverbs-2601mlnx60-`, `(?m)^doca-all-3\.3\.0-1\.el9\.x86_64$`,
		`librte_eal\.so\.24 => /opt/mellanox/dpdk/lib64/librte_eal\.so\.24`,
		`(?m)^mlx5_core\.ko$`,
	} {
		wantMatch(t, got, re)
	}
	// The mounted repo files are the build's copy, never committed.
	if n, _ := os.ReadDir(repos); len(n) != 0 {
		t.Logf("the build emptied its copy of yum.repos.d (%d entries left), as MCO's mounted copy would be", len(n))
	}
}
