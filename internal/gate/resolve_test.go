package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/resolve"
)

// The transaction comes from the plan: its rendered layers' package steps
// and its etc-yum-repos-d files, the repos the build enables.
func TestResolveRequest(t *testing.T) {
	p := plan(t, "4.21", "doca-3.3")
	req, err := ResolveRequest(p)
	if err != nil {
		t.Fatal(err)
	}
	if req.Arch != "x86_64" || req.ReleaseVer != "9" {
		t.Errorf("arch %q releasever %q", req.Arch, req.ReleaseVer)
	}
	var kinds []string
	for _, s := range req.Steps {
		kinds = append(kinds, string(s.Kind))
	}
	if got := strings.Join(kinds, " "); got != "install-url install upgrade-installed remove-installed replace install" {
		t.Errorf("steps %s", got)
	}
	doca := req.RepoFiles["doca.repo"]
	if !strings.Contains(doca, "[doca]\n") || !strings.Contains(doca, "baseurl=https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/x86_64/") || !strings.Contains(doca, "enabled=0") {
		t.Errorf("doca.repo:\n%s", doca)
	}
	if len(req.RepoFiles) < 2 {
		t.Errorf("repo files %v", req.RepoFiles)
	}
	// aarch64: $basearch as a node of the target arch sees it.
	s := plan(t, "4.21", "doca-3.3")
	s.Platform.RPMArch = "aarch64"
	if r, err := ResolveRequest(s); err != nil || r.Arch != "aarch64" {
		t.Errorf("aarch64: %v %q", err, r.Arch)
	}
}

func TestCheckInstallResolve(t *testing.T) {
	tgt := plan(t, "4.21", "doca-3.3")
	db := &release.RPMDB{Dir: "usr/share/rpm", Layer: 1, Layers: 3, Files: []string{"rpmdb.sqlite"}, Read: 300 << 20}
	res := func(o resolve.Outcome) *resolve.Result {
		return &resolve.Result{Installed: 512, ReleaseVer: "9", Repos: []string{"doca", "baseos"}, Removed: []string{"openvswitch3.5"},
			Replaced: []string{"libibverbs-0:2601mlnx60-1.x86_64"}, Command: "dnf --installroot $ROOT … install doca-all", Outcome: o}
	}
	in := func(o resolve.Outcome) ResolveInput {
		return ResolveInput{Image: "quay.io/x@sha256:1", Tag: "rhel-coreos", DB: db, Result: res(o)}
	}
	for _, tt := range []struct {
		name   string
		in     ResolveInput
		status Status
		msg    []string
		remedy string
	}{
		{"resolved", in(resolve.Outcome{Status: resolve.Resolved, Counts: map[string]int{"Install": 30, "Upgrade": 4}, Packages: []resolve.TxPackage{
			{Action: "Installing", Name: "doca-all", Version: "3.3.0-1.el9", Repo: "doca"}, {Action: "Upgrading", Name: "openssl-libs", Version: "1:3.5.1-3.el9", Repo: "baseos"}}}), Pass,
			[]string{"dnf resolves the layer's package transaction (removes openvswitch3.5; replaces libibverbs-0:2601mlnx60-1.x86_64) on rhel-coreos's rpm database (512 packages, /usr/share/rpm in layer 2 of 3, 300.0 MiB read) with repos doca, baseos ($basearch x86_64, $releasever 9): the build installs 34 package(s) (30 install, 4 upgrade)\nreplaces the node image's openssl-libs-1:3.5.1-3.el9 (baseos)"}, ""},
		{"nothing provides", in(resolve.Outcome{Status: resolve.Unresolvable, Problems: []resolve.Problem{
			{Text: "package doca-all-3.3.0-1.x86_64 requires doca-openvswitch, but none of the providers can be installed"},
			{Text: "nothing provides libfoo.so.3()(64bit) needed by doca-openvswitch-3.3.0040-1.el9.x86_64", Missing: "libfoo.so.3()(64bit)", NeededBy: "doca-openvswitch-3.3.0040-1.el9.x86_64"}}}), Fail,
			[]string{": nothing provides libfoo.so.3()(64bit) needed by doca-openvswitch-3.3.0040-1.el9.x86_64\npackage doca-all-3.3.0-1.x86_64 requires doca-openvswitch"},
			"libfoo.so.3()(64bit) comes from neither the target's rhel-coreos nor any enabled repository: doca-openvswitch-3.3.0040-1.el9.x86_64 was built against"},
		{"repo lacks a package", in(resolve.Outcome{Status: resolve.Unresolvable, Problems: []resolve.Problem{
			{Text: "nothing provides librte_eal.so.24()(64bit) needed by doca-openvswitch-3.3.0040-1.el9.x86_64", Missing: "librte_eal.so.24()(64bit)", NeededBy: "doca-openvswitch-3.3.0040-1.el9.x86_64"},
			{Text: "nothing provides mlnx-dpdk = 22.11-1.el9 needed by doca-openvswitch-3.3.0040-1.el9.x86_64", Missing: "mlnx-dpdk = 22.11-1.el9", NeededBy: "doca-openvswitch-3.3.0040-1.el9.x86_64"}}}), Fail,
			[]string{": nothing provides librte_eal.so.24()(64bit) needed by doca-openvswitch-3.3.0040-1.el9.x86_64\nnothing provides mlnx-dpdk"},
			"no enabled repository has mlnx-dpdk = 22.11-1.el9, which doca-openvswitch-3.3.0040-1.el9.x86_64 requires by name: the repository is incomplete"},
		{"conflict", in(resolve.Outcome{Status: resolve.Unresolvable, Problems: []resolve.Problem{{Text: "package a conflicts with b provided by b-1"}}}), Fail,
			[]string{"dnf cannot resolve the layer's package transaction", ": package a conflicts with b provided by b-1"}, "the packages conflict at the target"},
		{"no match", in(resolve.Outcome{Status: resolve.NoMatch, Unmatched: []string{"doca-all"}}), Fail,
			[]string{"dnf finds no package doca-all in any enabled repository (doca, baseos)"}, "repo-preflight"},
		{"repo error", in(resolve.Outcome{Status: resolve.RepoError, Repo: "baseos", Detail: "Curl error (6): Couldn't resolve host name"}), Fail,
			[]string{"dnf could not read repo baseos: Curl error (6): Couldn't resolve host name; this is not a dependency problem"}, "fix access to the repository"},
		{"failed step", func() ResolveInput {
			i := in(resolve.Outcome{Status: resolve.Unresolvable, Problems: []resolve.Problem{{Text: "openvswitch is needed by (installed) NetworkManager-ovs-1.52", Missing: "openvswitch", NeededBy: "NetworkManager-ovs-1.52"}}})
			i.Result.Step = &resolve.Step{Kind: resolve.RemoveInstalled, Layer: "swap-openvswitch", Command: "ovs=$(…) || rpm-ostree override remove $ovs"}
			return i
		}(), Fail, []string{`dnf cannot resolve layer swap-openvswitch's "ovs=$(…) || rpm-ostree override remove $ovs"`}, ""},
		{"no rpmdb", ResolveInput{Image: "r@sha256:2", Tag: "rhel-coreos", DBErr: fmt.Errorf("image r: %w: none", release.ErrNoRPMDB)}, Warn,
			[]string{"has no rpm database (/usr/share/rpm): it is not an RHEL CoreOS node image"}, "mosc gate --build"},
		{"registry error", ResolveInput{Image: "r@sha256:2", Tag: "rhel-coreos", DBErr: errors.New("UNAUTHORIZED")}, Fail,
			[]string{"could not read the rpm database of the target's rhel-coreos (r@sha256:2): UNAUTHORIZED; this is not a dependency problem"}, "registry access"},
		{"cannot run", ResolveInput{Image: "r", Tag: "rhel-coreos", DB: db, RunErr: errors.New("resolve: dnf: signal: killed")}, Fail,
			[]string{"the transaction could not be resolved: resolve: dnf: signal: killed"}, "mosc gate --build"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckInstallResolve(tt.in, tgt)
			if c.ID != IDInstallResolve || c.Status != tt.status {
				t.Fatalf("%s %s: %s", c.ID, c.Status, c.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(c.Message, m) {
					t.Errorf("message %q\nlacks %q", c.Message, m)
				}
			}
			if !strings.Contains(c.Remedy, tt.remedy) {
				t.Errorf("remedy %q lacks %q", c.Remedy, tt.remedy)
			}
		})
	}
}

// Without dnf and rpm on PATH the check is skipped and says what to do;
// --offline and a missing payload skip it before that.
func TestInstallResolveSkips(t *testing.T) {
	tgt := plan(t, "4.21", "doca-3.3")
	payload := &release.Payload{CoreOS: []release.CoreOS{{Tag: "rhel-coreos", Image: "r@sha256:1", RHEL: "9.6"}}}
	t.Setenv("PATH", t.TempDir())
	c := installResolveCheck(context.Background(), Options{Target: tgt}, payload)
	if c.Status != Skip || !strings.Contains(c.Message, "dnf and rpm not on PATH") || !strings.Contains(c.Remedy, "mosc gate --build") {
		t.Errorf("no dnf: %+v", c)
	}
	if c := installResolveCheck(context.Background(), Options{Target: tgt, Offline: true}, payload); c.Status != Skip || !strings.HasPrefix(c.Message, "--offline") {
		t.Errorf("offline: %+v", c)
	}
	if c := installResolveCheck(context.Background(), Options{Target: tgt}, nil); c.Status != Skip || !strings.Contains(c.Message, "see release-payload") {
		t.Errorf("no payload: %+v", c)
	}
}

// One node image and transaction resolve once per process (gate --fleet);
// another transaction, or another image, is its own entry.
func TestResolveMemoKey(t *testing.T) {
	a, err := ResolveRequest(plan(t, "4.21", "doca-3.3"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ResolveRequest(plan(t, "4.21", "doca-3.3"))
	ovs, _ := ResolveRequest(plan(t, "4.21", "doca-3.3:ovs"))
	if memoKey("img@sha256:1", a) != memoKey("img@sha256:1", b) {
		t.Error("the same plan and image: different keys")
	}
	if memoKey("img@sha256:1", a) == memoKey("img@sha256:2", a) || memoKey("img@sha256:1", a) == memoKey("img@sha256:1", ovs) {
		t.Error("another image or transaction: same key")
	}
	var m memoMap
	if m.entry("k") != m.entry("k") || m.entry("k") == m.entry("j") {
		t.Error("memo entries")
	}
}
