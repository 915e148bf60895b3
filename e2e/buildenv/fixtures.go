package buildenv

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Fixtures selects the negative cases the repositories carry. The zero value
// is the healthy set.
type Fixtures struct {
	// UnsignedPackage leaves doca-extra (required by doca-all) unsigned in
	// every DOCA repo: under gpgcheck=1 dnf refuses it (issue 11 finding 3).
	UnsignedPackage bool
	// NoDOCAOpenvswitch drops doca-openvswitch from every DOCA repo.
	NoDOCAOpenvswitch bool
	// WeakDepOVS puts the stock OVS (openvswitch3.5, which provides
	// "openvswitch") in AppStream, so doca-openvswitch's Recommends brings it
	// back unless weak dependencies are off.
	WeakDepOVS bool
	// NoMLNXDPDK drops mlnx-dpdk from every DOCA repo: a transitive
	// dependency (doca-all -> doca-openvswitch -> mlnx-dpdk = V) is missing.
	NoMLNXDPDK bool
}

func (f Fixtures) count() int {
	n := 0
	for _, b := range []bool{f.UnsignedPackage, f.NoDOCAOpenvswitch, f.WeakDepOVS, f.NoMLNXDPDK} {
		if b {
			n++
		}
	}
	return n
}

// String is the fixture's name (FixtureNames), or "healthy".
func (f Fixtures) String() string {
	var s []string
	if f.UnsignedPackage {
		s = append(s, "unsigned")
	}
	if f.NoDOCAOpenvswitch {
		s = append(s, "no-doca-openvswitch")
	}
	if f.WeakDepOVS {
		s = append(s, "weakdep-ovs")
	}
	if f.NoMLNXDPDK {
		s = append(s, "no-mlnx-dpdk")
	}
	if len(s) == 0 {
		return "healthy"
	}
	return strings.Join(s, ",")
}

// Release describes the RHCOS a stand-in base image imitates; the values
// follow profiles/openshift/<release>.yaml (rhel, kernelFamily,
// openvswitch.packages) and FACTS.md §1.
type Release struct {
	OpenShift string // "4.20"
	RHEL      string // "9.6"
	Kernel    string // uname -r: 5.14.0-570.60.1.el9_6.x86_64
	StockOVS  string // openvswitch3.5
}

var releases = map[string]Release{
	"4.16": {"4.16", "9.4", "5.14.0-427.100.1.el9_4.x86_64", "openvswitch3.3"},
	"4.17": {"4.17", "9.4", "5.14.0-427.100.1.el9_4.x86_64", "openvswitch3.5"},
	"4.18": {"4.18", "9.4", "5.14.0-427.100.1.el9_4.x86_64", "openvswitch3.5"},
	"4.19": {"4.19", "9.6", "5.14.0-570.60.1.el9_6.x86_64", "openvswitch3.5"},
	"4.20": {"4.20", "9.6", "5.14.0-570.60.1.el9_6.x86_64", "openvswitch3.5"},
	"4.21": {"4.21", "9.6", "5.14.0-570.60.1.el9_6.x86_64", "openvswitch3.5"},
	"4.22": {"4.22", "9.8", "5.14.0-687.10.1.el9_8.x86_64", "openvswitch3.5"},
}

// LookupRelease returns the stand-in facts for an OpenShift minor ("4.20" or "4.20.15").
func LookupRelease(v string) (Release, error) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		if r, ok := releases[parts[0]+"."+parts[1]]; ok {
			return r, nil
		}
	}
	var known []string
	for k := range releases {
		known = append(known, k)
	}
	sort.Strings(known)
	return Release{}, fmt.Errorf("buildenv: no stand-in for OpenShift %q; known: %s", v, strings.Join(known, ", "))
}

// kernelVR splits uname -r into the kernel package's version and release.
func (r Release) kernelVR() (string, string) {
	k := strings.TrimSuffix(r.Kernel, ".x86_64")
	i := strings.Index(k, "-")
	return k[:i], k[i+1:]
}

// Stock OVS as RHCOS ships it (fast-datapath build).
func stockOVS(name, release string) Package {
	return Package{Name: name, Version: "3.5.0", Release: release,
		Provides: []string{"openvswitch"},
		Files: map[string]File{
			"/usr/sbin/ovs-vswitchd":                 {Content: "#!/bin/sh\necho 'ovs-vswitchd (Open vSwitch) 3.5.0 (stock RHCOS stand-in)'\n", Mode: 0o755},
			"/usr/share/openvswitch/scripts/ovs-ctl": {Content: "#!/bin/sh\nexit 0\n", Mode: 0o755},
		}}
}

// rdma is rdma-core and libibverbs. libibverbs carries libmlx5, whose
// symbol versions (MLX5_1.0 … mlx5) are what DOCA's packages need: RHEL's
// stop at MLX5_1.24, DOCA's add MLX5_1.25 (mlx5 is the last version node of
// the library's version script, rdma-core providers/mlx5/libmlx5.map).
func rdma(version, release string, lib string, mlx5 []string) []Package {
	prov := []string{"libibverbs.so.1()(64bit)", "libibverbs.so.1(IBVERBS_1.0)(64bit)", "libibverbs.so.1(IBVERBS_1.1)(64bit)", "libmlx5.so.1()(64bit)"}
	for _, v := range mlx5 {
		prov = append(prov, "libmlx5.so.1("+v+")(64bit)")
	}
	return []Package{
		{Name: "rdma-core", Version: version, Release: release,
			Files: map[string]File{"/etc/rdma/rdma.conf": {Content: "# rdma-core " + version + "\n"}}},
		{Name: "libibverbs", Version: version, Release: release,
			Requires: []string{"rdma-core = " + version + "-" + release, "libc.so.6(GLIBC_2.34)(64bit)"},
			Provides: prov,
			Files:    map[string]File{"/usr/lib64/libibverbs.so.1": {Content: lib + "\n"}}},
	}
}

// mlx5Versions are libmlx5's symbol versions up to MLX5_1.<last>.
func mlx5Versions(last int) []string {
	v := []string{"MLX5_1.0"}
	for i := 1; i <= last; i++ {
		v = append(v, fmt.Sprintf("MLX5_1.%d", i))
	}
	return v
}

// Real-shaped provides of the base image's libraries: sonames with the
// symbol versions rpm's elfdeps generates for them (glibc GLIBC_*, OpenSSL
// OPENSSL_3.*.0, libnuma libnuma_1.*), so the DOCA packages' Requires
// resolve only against the base image's rpm database (gate install-resolve).
var (
	glibcProvides   = []string{"/sbin/ldconfig", "/usr/sbin/ldconfig", "libc.so.6()(64bit)", "libc.so.6(GLIBC_2.2.5)(64bit)", "libc.so.6(GLIBC_2.28)(64bit)", "libc.so.6(GLIBC_2.34)(64bit)"}
	opensslProvides = []string{"libssl.so.3()(64bit)", "libssl.so.3(OPENSSL_3.0.0)(64bit)", "libcrypto.so.3()(64bit)", "libcrypto.so.3(OPENSSL_3.0.0)(64bit)"}
)

// NumactlLibs is the base image's numactl-libs; libnuma's symbol versions go
// up to libnuma_1.<last> (2.0.19 ships libnuma_1.7; an older base, e.g.
// numactl 2.0.14, stops at libnuma_1.5).
func NumactlLibs(version string, last int) Package {
	prov := []string{"libnuma.so.1()(64bit)"}
	for i := 1; i <= last; i++ {
		prov = append(prov, fmt.Sprintf("libnuma.so.1(libnuma_1.%d)(64bit)", i))
	}
	return Package{Name: "numactl-libs", Version: version, Release: "1.el9", Provides: prov, Requires: []string{"libc.so.6(GLIBC_2.34)(64bit)"},
		Files: map[string]File{"/usr/lib64/libnuma.so.1": {Content: "numactl-libs " + version + "\n"}}}
}

func kernelDevel(version, release string) []Package {
	kver := version + "-" + release + ".x86_64"
	return []Package{
		{Name: "kernel-devel", Version: version, Release: release,
			Files: map[string]File{"/usr/src/kernels/" + kver + "/Makefile": {Content: "# kernel-devel " + kver + "\n"}}},
		{Name: "kernel-headers", Version: version, Release: release,
			Files: map[string]File{"/usr/include/linux/mosc-kernel-headers.h": {Content: "/* " + kver + " */\n"}}},
	}
}

// stockPackages are the base image's rpm database (installed, not in a repo).
func stockPackages(r Release) []Package {
	kv, kr := r.kernelVR()
	pk := []Package{
		// Debian provides these files; the packages only tell rpm they exist.
		{Name: "bash", Version: "5.1.8", Release: "9.el9", Provides: []string{"/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash"}},
		{Name: "glibc", Version: "2.34", Release: "168.el9_6", Provides: glibcProvides},
		{Name: "redhat-release", Version: r.RHEL, Release: "0.1.el9", Arch: "x86_64",
			Provides: []string{"system-release(releasever) = 9", "system-release = " + r.RHEL},
			Files:    map[string]File{"/etc/redhat-release": {Content: "Red Hat Enterprise Linux release " + r.RHEL + " (Plow)\n"}}},
		{Name: "kernel-core", Version: kv, Release: kr,
			Files: map[string]File{"/usr/lib/modules/" + r.Kernel + "/vmlinuz": {Content: "stand-in kernel " + r.Kernel + "\n"}}},
		{Name: "kernel-modules", Version: kv, Release: kr, Requires: []string{"kernel-core = " + kv + "-" + kr},
			Files: map[string]File{"/usr/lib/modules/" + r.Kernel + "/modules.builtin": {Content: "\n"}}},
		{Name: "kernel", Version: kv, Release: kr, Requires: []string{"kernel-modules = " + kv + "-" + kr}},
		stockOVS(r.StockOVS, "45.el9fdp"),
		{Name: "unbound-libs", Version: "1.16.2", Release: "18.el9_6", Provides: []string{"libunbound.so.8()(64bit)"}, Files: map[string]File{"/usr/lib64/libunbound.so.8": {Content: "1.16.2-18\n"}}},
		{Name: "bzip2-libs", Version: "1.0.8", Release: "10.el9_5", Provides: []string{"libbz2.so.1()(64bit)"}, Files: map[string]File{"/usr/lib64/libbz2.so.1": {Content: "1.0.8-10\n"}}},
		{Name: "openssl-libs", Epoch: 1, Version: "3.2.2", Release: "6.el9_5", Provides: opensslProvides, Files: map[string]File{"/usr/lib64/libssl.so.3": {Content: "3.2.2-6\n"}}},
		// Only the base image has these (no stand-in repo carries them):
		// what DOCA needs from them must come from the target's RHCOS.
		NumactlLibs("2.0.19", 7),
		{Name: "libcap-ng", Version: "0.8.2", Release: "7.el9", Provides: []string{"libcap-ng.so.0()(64bit)"},
			Files: map[string]File{"/usr/lib64/libcap-ng.so.0": {Content: "libcap-ng 0.8.2\n"}}},
		// Debian's rootfs has no ip; rpm only learns the file exists (a
		// file provide, as bash's /bin/sh).
		{Name: "iproute", Version: "6.11.0", Release: "1.el9", Provides: []string{"/usr/sbin/ip"}},
	}
	return append(pk, rdma("54.0", "1.el9", "RHEL libibverbs 54.0 (no MLX5_1.25.1)", mlx5Versions(24))...)
}

// stackVersions are the DOCA repos served: stack version -> distro dirs and
// the versions of what the repo carries.
type docaRepo struct {
	Version       string   // 3.3.0
	Distros       []string // rhel9, or rhel9.2 rhel9.4 rhel9.6 (<= 3.1: per RHEL minor)
	OVS           string   // doca-openvswitch version
	RDMA          string   // libibverbs/rdma-core version
	RDMARelease   string
	DPDK          string
	DKMS          bool // from 3.2, drivers ship as DKMS source
	SDKLibVersion string
}

var docaRepos = []docaRepo{
	{Version: "2.9.4", Distros: []string{"rhel9.2", "rhel9.4", "rhel9.6"}, OVS: "2.9.4006", RDMA: "2410mlnx54", RDMARelease: "1.2410068", DPDK: "22.11.2410.1.0", SDKLibVersion: "2"},
	{Version: "3.2.2", Distros: []string{"rhel9"}, OVS: "3.2.2005", RDMA: "2510mlnx59", RDMARelease: "1.2510055", DPDK: "22.11.2510.1.0", DKMS: true, SDKLibVersion: "3"},
	{Version: "3.3.0", Distros: []string{"rhel9"}, OVS: "3.3.0040", RDMA: "2601mlnx60", RDMARelease: "1.2601040", DPDK: "22.11.2601.1.0", DKMS: true, SDKLibVersion: "3"},
}

// DOCARepoPath is the URL path of a DOCA repo, as on linux.mellanox.com:
// /public/repo/doca/<version>/<distro>/<docaArch>/.
func DOCARepoPath(version, distro string) string {
	return path.Join("/public/repo/doca", version, distro, "x86_64") + "/"
}

// repoSet is every repository the harness serves: URL path -> packages.
type repoSet map[string][]Package

// elfs are the compiled stand-in binaries: ovs-vswitchd and librte_eal per
// DPDK version, paths on the host.
type elfs struct {
	vswitchd map[string]string // doca-openvswitch version -> file
	librte   map[string]string // DPDK version -> file
}

func docaPackages(d docaRepo, f Fixtures, bins elfs) []Package {
	const dpdkLib = "/opt/mellanox/dpdk/lib64/librte_eal.so.24"
	rel := "1.el9"
	pk := []Package{
		{Name: "mlnx-dpdk", Version: d.DPDK, Release: rel, PostLdconfig: true,
			// DPDK links libnuma and DOCA's libibverbs/libmlx5 (rte_net_mlx5).
			Provides: []string{"librte_eal.so.24()(64bit)", "librte_eal.so.24(DPDK_24)(64bit)"},
			Requires: []string{"libnuma.so.1()(64bit)", "libnuma.so.1(libnuma_1.6)(64bit)", "libibverbs.so.1(IBVERBS_1.1)(64bit)", "libmlx5.so.1(MLX5_1.25)(64bit)", "libc.so.6(GLIBC_2.34)(64bit)"},
			Files: map[string]File{
				dpdkLib:                            {From: bins.librte[d.DPDK], Mode: 0o755},
				"/etc/ld.so.conf.d/mlnx-dpdk.conf": {Content: "/opt/mellanox/dpdk/lib64\n"},
			}},
		{Name: "doca-sdk-common", Version: d.Version, Release: rel,
			Provides: []string{"libdoca_common.so." + d.SDKLibVersion + "()(64bit)"},
			Files:    map[string]File{"/opt/mellanox/doca/lib/x86_64-linux-gnu/libdoca_common.so." + d.SDKLibVersion: {Content: "DOCA " + d.Version + " common\n"}}},
		{Name: "doca-extra", Version: d.Version, Release: rel, Unsigned: f.UnsignedPackage,
			Files: map[string]File{"/opt/mellanox/doca/tools/doca-extra": {Content: "#!/bin/sh\necho doca-extra " + d.Version + "\n", Mode: 0o755}}},
	}
	if f.NoMLNXDPDK {
		pk = pk[1:]
	}
	if !f.NoDOCAOpenvswitch {
		pk = append(pk, Package{Name: "doca-openvswitch", Version: d.OVS, Release: rel,
			// As rpmbuild's elfdeps and NVIDIA's spec write them: sonames with
			// symbol versions, a file, versioned packages.
			Requires: []string{"mlnx-dpdk = " + d.DPDK + "-" + rel,
				"libibverbs >= " + d.RDMA, "rdma-core >= " + d.RDMA,
				"libyaml", "libpcap", "libzip", "libunwind", "jsoncpp",
				"librte_eal.so.24()(64bit)", "libdoca_common.so." + d.SDKLibVersion + "()(64bit)",
				"libssl.so.3()(64bit)", "libssl.so.3(OPENSSL_3.0.0)(64bit)", "libcrypto.so.3(OPENSSL_3.0.0)(64bit)",
				"libcap-ng.so.0()(64bit)", "libunbound.so.8()(64bit)", "libc.so.6(GLIBC_2.34)(64bit)",
				"/usr/sbin/ip"},
			// As NVIDIA's: the stock OVS is a weak dependency.
			Recommends: []string{"openvswitch"},
			Files: map[string]File{
				"/usr/sbin/ovs-vswitchd": {From: bins.vswitchd[d.OVS], Mode: 0o755},
				"/usr/bin/ovs-vsctl":     {Content: "#!/bin/sh\necho 'ovs-vsctl (Open vSwitch) " + d.OVS + "-doca'\n", Mode: 0o755},
			}})
	}
	all := []string{"doca-openvswitch", "doca-sdk-common", "doca-extra"}
	if d.DKMS {
		// DKMS builds the NIC drivers in %post for every kernel with a vmlinuz,
		// and only where that kernel's headers are installed: CentOS Stream's
		// kernel-devel does not match the RHCOS kernel (issue 11 finding 4).
		all = append(all, "mlnx-ofa_kernel-dkms")
		pk = append(pk, Package{Name: "mlnx-ofa_kernel-dkms", Version: d.Version, Release: rel,
			Requires: []string{"kernel-devel"},
			Files:    map[string]File{"/usr/src/mlnx-ofa_kernel-" + d.Version + "/dkms.conf": {Content: "PACKAGE_NAME=mlnx-ofa_kernel\n"}},
			Post: `for v in /usr/lib/modules/*/vmlinuz; do
  [ -e "$v" ] || continue
  k=$(basename "$(dirname "$v")")
  if [ -d "/usr/src/kernels/$k" ]; then
    mkdir -p "/usr/lib/modules/$k/extra/mlnx-ofa_kernel"
    echo "mlx5_core for $k" > "/usr/lib/modules/$k/extra/mlnx-ofa_kernel/mlx5_core.ko"
    echo "DKMS: mlnx-ofa_kernel/` + d.Version + ` installed for kernel $k"
  else
    echo "Error! Your kernel headers for kernel $k cannot be found at /lib/modules/$k/build or /lib/modules/$k/source." >&2
  fi
done`})
	}
	pk = append(pk, Package{Name: "doca-all", Version: d.Version, Release: rel, Requires: all})
	return append(pk, rdma(d.RDMA, d.RDMARelease, "DOCA libibverbs "+d.RDMA+" (MLX5_1.25.1)", mlx5Versions(25))...)
}

// CentOS Stream 9 and EPEL 9 stand-ins: the build dependencies the layers
// install, with their real dependency chains (devel -> libs at the same
// version; openssl-devel pulls a newer openssl-libs than RHCOS has).
func streamPackages(f Fixtures) (baseos, appstream, crb, epel []Package) {
	baseos = []Package{
		{Name: "unbound-libs", Version: "1.16.2", Release: "21.el9", Provides: []string{"libunbound.so.8()(64bit)"}, Files: map[string]File{"/usr/lib64/libunbound.so.8": {Content: "1.16.2-21\n"}}},
		{Name: "bzip2-libs", Version: "1.0.8", Release: "11.el9", Provides: []string{"libbz2.so.1()(64bit)"}, Files: map[string]File{"/usr/lib64/libbz2.so.1": {Content: "1.0.8-11\n"}}},
		{Name: "bzip2", Version: "1.0.8", Release: "11.el9", Requires: []string{"bzip2-libs = 1.0.8-11.el9"}},
		{Name: "bzip2-devel", Version: "1.0.8", Release: "11.el9", Requires: []string{"bzip2-libs = 1.0.8-11.el9"}},
		{Name: "openssl-libs", Epoch: 1, Version: "3.5.1", Release: "3.el9", Provides: opensslProvides, Files: map[string]File{"/usr/lib64/libssl.so.3": {Content: "3.5.1-3\n"}}},
		{Name: "libyaml", Version: "0.2.5", Release: "7.el9"},
		{Name: "libpcap", Epoch: 14, Version: "1.10.0", Release: "4.el9"},
	}
	baseos = append(baseos, rdma("57.0", "2.el9", "CentOS Stream libibverbs 57.0", mlx5Versions(24))...)
	appstream = []Package{
		{Name: "unbound", Version: "1.16.2", Release: "21.el9", Requires: []string{"unbound-libs = 1.16.2-21.el9"}},
		{Name: "openssl-devel", Epoch: 1, Version: "3.5.1", Release: "3.el9", Requires: []string{"openssl-libs = 1:3.5.1-3.el9"}},
		{Name: "libzip", Version: "1.7.3", Release: "8.el9"},
		{Name: "jsoncpp", Version: "1.9.5", Release: "1.el9"},
	}
	// CentOS Stream's kernel, newer than and different from any RHCOS kernel.
	appstream = append(appstream, kernelDevel("5.14.0", "630.el9")...)
	if f.WeakDepOVS {
		// No /usr/sbin/ovs-vswitchd: it would conflict with doca-openvswitch's and
		// fail the transaction; here the stock package silently comes back.
		ovs := stockOVS("openvswitch3.5", "99.el9fdp")
		delete(ovs.Files, "/usr/sbin/ovs-vswitchd")
		appstream = append(appstream, ovs)
	}
	crb = []Package{
		{Name: "libyaml-devel", Version: "0.2.5", Release: "7.el9", Requires: []string{"libyaml = 0.2.5-7.el9"}},
		{Name: "libpcap-devel", Epoch: 14, Version: "1.10.0", Release: "4.el9", Requires: []string{"libpcap = 14:1.10.0-4.el9"}},
		{Name: "libzip-devel", Version: "1.7.3", Release: "8.el9", Requires: []string{"libzip = 1.7.3-8.el9"}},
	}
	epel = []Package{
		{Name: "libunwind", Version: "1.6.2", Release: "1.el9"},
		{Name: "epel-release", Version: "9", Release: "9.el9", Arch: "noarch"},
	}
	return
}

// Repo URL paths, as on the real mirrors (profiles/platform/rhel9-x86_64.yaml).
const (
	BaseOSPath     = "/9-stream/BaseOS/x86_64/os/"
	AppStreamPath  = "/9-stream/AppStream/x86_64/os/"
	CRBPath        = "/9-stream/CRB/x86_64/os/"
	EPELPath       = "/epel/9/Everything/x86_64/"
	extensionsPath = "/rhcos-extensions/" // + rhel + "/x86_64/"
)

// ExtensionsRepoPath is the stand-in for the RHCOS extensions image's repo of
// one RHEL minor: kernel-devel and kernel-headers matching that RHCOS kernel,
// what MCO installs in its configs stage for `extensions: [kernel-devel]`.
func ExtensionsRepoPath(rhel string) string { return extensionsPath + rhel + "/x86_64/" }

func allRepos(f Fixtures, bins elfs) repoSet {
	rs := repoSet{}
	for _, d := range docaRepos {
		for _, distro := range d.Distros {
			rs[DOCARepoPath(d.Version, distro)] = docaPackages(d, f, bins)
		}
	}
	b, a, c, e := streamPackages(f)
	rs[BaseOSPath], rs[AppStreamPath], rs[CRBPath], rs[EPELPath] = b, a, c, e
	seen := map[string]bool{}
	for _, r := range releases {
		if seen[r.RHEL] {
			continue
		}
		seen[r.RHEL] = true
		kv, kr := r.kernelVR()
		rs[ExtensionsRepoPath(r.RHEL)] = kernelDevel(kv, kr)
	}
	return rs
}
