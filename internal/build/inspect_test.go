package build

import (
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/report"
)

// builtOutput is what the inspection script prints in a good layered image.
const builtOutput = `@@ rpm
doca-all	3.3.0-1.el9	x86_64
doca-openvswitch	3.3.0040-1.el9	x86_64
libibverbs	2501mlnx56-1.el9	x86_64
@@ vswitchd
path /usr/sbin/ovs-vswitchd
owner doca-openvswitch
@@ ldd
linux-vdso.so.1 (0x00007ffd)
librte_eal.so.25 => /usr/lib/opt/mellanox/dpdk/lib64/librte_eal.so.25 (0x00007f)
libc.so.6 => /lib64/libc.so.6 (0x00007f)
rc 0
@@ opt
link var/opt
@@ var
d /var/opt
d /var/lib
d /var/lib/rpm
f /var/lib/rpm/rpmdb.sqlite
l /var/opt/mellanox
@@ tmpfiles
# comment
L /var/opt/mellanox - - - - /usr/lib/opt/mellanox
d /var/lib/ipsec 0700 root root -
@@ lint
Checks passed: 9
rc 0
@@ du
1500000
@@ end
`

const baseOutput = `@@ opt
link var/opt
@@ var
d /var/opt
d /var/lib
d /var/lib/rpm
f /var/lib/rpm/rpmdb.sqlite
@@ du
1000000
@@ end
`

var expect = Expectations{
	Stacks:      []profile.StackInfo{{Name: "doca-3.3", Version: "3.3.0", Variant: "full", Packages: []string{"doca-all"}}},
	Present:     []string{"doca-openvswitch"},
	Absent:      []string{"openvswitch[0-9]*"},
	LintCommand: "bootc container lint",
}

func statuses(cs []report.Check) map[string]report.Status {
	m := map[string]report.Status{}
	for _, c := range cs {
		m[c.ID] = c.Status
	}
	return m
}

func TestChecksGoodImage(t *testing.T) {
	built, base := ParseFacts([]byte(builtOutput)), ParseFacts([]byte(baseOutput))
	if !built.Complete || !base.Complete {
		t.Fatal("script output not complete")
	}
	cs := Checks(built, base, expect)
	for _, c := range cs {
		if c.Status != report.Pass {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Message)
		}
	}
	if got := cs[len(cs)-1].Details["layerBytes"]; got != int64(500000*1024) {
		t.Errorf("layerBytes = %v", got)
	}
}

// TestChecksBadImages: each way a layer goes wrong fails its check, with
// the package, path or library named.
func TestChecksBadImages(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(string) string
		id       string
		status   report.Status
		contains string
	}{
		{"stock OVS back through weak deps", func(s string) string {
			return strings.Replace(s, "@@ rpm\n", "@@ rpm\nopenvswitch3.5\t3.5.0-1.el9\tx86_64\n", 1)
		}, IDStockOVS, report.Fail, "openvswitch3.5-3.5.0-1.el9"},
		{"doca-all missing", func(s string) string {
			return strings.Replace(s, "doca-all\t3.3.0-1.el9\tx86_64\n", "", 1)
		}, IDStackPackages, report.Fail, "not installed: doca-all"},
		{"wrong DOCA version", func(s string) string {
			return strings.Replace(s, "doca-all\t3.3.0-1", "doca-all\t3.2.0-1", 1)
		}, IDStackPackages, report.Fail, "doca-all-3.2.0-1.el9 (stack doca-3.3 is DOCA 3.3.0)"},
		{"vswitchd owned by stock package", func(s string) string {
			return strings.Replace(s, "owner doca-openvswitch", "owner openvswitch3.5", 1)
		}, IDVswitchdOwner, report.Fail, "belongs to openvswitch3.5"},
		{"no vswitchd", func(s string) string {
			return strings.Replace(strings.Replace(s, "path /usr/sbin/ovs-vswitchd\n", "", 1), "owner doca-openvswitch\n", "", 1)
		}, IDVswitchdOwner, report.Fail, "no ovs-vswitchd"},
		{"library not found", func(s string) string {
			return strings.Replace(s, "librte_eal.so.25 => /usr/lib/opt/mellanox/dpdk/lib64/librte_eal.so.25 (0x00007f)", "librte_eal.so.25 => not found", 1)
		}, IDVswitchdLibs, report.Fail, "librte_eal.so.25"},
		{"content under /var/opt", func(s string) string {
			return strings.Replace(strings.Replace(s, "l /var/opt/mellanox\n", "d /var/opt/mellanox\nd /var/opt/mellanox/dpdk\nf /var/opt/mellanox/dpdk/librte_eal.so.25\n", 1), "L /var/opt/mellanox - - - - /usr/lib/opt/mellanox\n", "", 1)
		}, IDVarContent, report.Fail, "/var/opt/mellanox/dpdk/librte_eal.so.25"},
		{"state under /var/lib", func(s string) string {
			return strings.Replace(s, "@@ tmpfiles\n", "f /var/lib/dnf/history.sqlite\n@@ tmpfiles\n", 1)
		}, IDVarContent, report.Warn, "/var/lib/dnf/history.sqlite"},
		{"lint fails", func(s string) string {
			return strings.Replace(s, "Checks passed: 9\nrc 0", "Lint failed: var-tmpfiles\nrc 1", 1)
		}, IDLint, report.Fail, "Lint failed: var-tmpfiles"},
		{"lint passes with a warning", func(s string) string {
			return strings.Replace(s, "Checks passed: 9\nrc 0", "Lint warning: var-tmpfiles: Found content in /var missing systemd tmpfiles.d entries\nChecks passed: 8\nWarnings: 1\nrc 0", 1)
		}, IDLint, report.Warn, "Lint warning: var-tmpfiles"},
		{"static vswitchd", func(s string) string {
			i, j := strings.Index(s, "@@ ldd\n"), strings.Index(s, "@@ opt\n")
			return s[:i] + "@@ ldd\n\tnot a dynamic executable\nrc 1\n" + s[j:]
		}, IDVswitchdLibs, report.Skip, "not a dynamic executable"},
	}
	base := ParseFacts([]byte(baseOutput))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := Checks(ParseFacts([]byte(tc.edit(builtOutput))), base, expect)
			for _, c := range cs {
				if c.ID != tc.id {
					continue
				}
				if c.Status != tc.status || !strings.Contains(c.Message, tc.contains) {
					t.Errorf("%s: %s %q; want %s containing %q", c.ID, c.Status, c.Message, tc.status, tc.contains)
				}
				if c.Status == report.Fail && c.Remedy == "" {
					t.Errorf("%s fails without a remedy", c.ID)
				}
				return
			}
			t.Errorf("no check %s", tc.id)
		})
	}
}

func TestExtensionsCheck(t *testing.T) {
	e := expect
	e.Extensions = []string{"kernel-devel"}
	if c := extensionsCheck(nil, e); c.Status != report.Warn || !strings.Contains(c.Message, "kernel-devel") {
		t.Errorf("no image: %s %s", c.Status, c.Message)
	}
	e.ExtensionsImage = "quay.io/x/ext:1"
	pk := func(kv ...string) *Facts {
		f := &Facts{Packages: map[string]Package{}}
		for i := 0; i < len(kv); i += 2 {
			f.Packages[kv[i]] = Package{Name: kv[i], Version: kv[i+1], Arch: "x86_64"}
		}
		return f
	}
	const k = "5.14.0-570.el9_6"
	for _, tc := range []struct {
		name   string
		facts  *Facts
		exts   []string
		status report.Status
		want   string
	}{
		{"matching headers", pk("kernel-core", k, "kernel-devel", k, "kernel-headers", k), []string{"kernel-devel"}, report.Pass, "kernel-devel matches the kernel (kernel-core " + k + ")"},
		{"CentOS headers", pk("kernel-core", k, "kernel-devel", "5.14.0-630.el9", "kernel-headers", "5.14.0-630.el9"), []string{"kernel-devel"}, report.Fail, "kernel-devel 5.14.0-630.el9 does not match the image's kernel (kernel-core " + k + ")"},
		{"headers missing", pk("kernel-core", k, "kernel-devel", k), []string{"kernel-devel"}, report.Fail, "did not install: kernel-headers"},
		{"no kernel package", pk("kernel-devel", k, "kernel-headers", k), []string{"kernel-devel"}, report.Warn, "no kernel package"},
		{"other extension", pk("usbguard", "1.1-1"), []string{"usbguard"}, report.Pass, "installed from quay.io/x/ext:1: usbguard-1.1-1"},
		{"unknown extension", pk(), []string{"kernel-devel", "nope"}, report.Fail, "invalid extensions found: nope"},
	} {
		e.Extensions = tc.exts
		if c := extensionsCheck(tc.facts, e); c.Status != tc.status || !strings.Contains(c.Message, tc.want) {
			t.Errorf("%s: %s %q, want %s %q", tc.name, c.Status, c.Message, tc.status, tc.want)
		}
	}
	if _, err := ExtensionPackages([]string{"kernel-devel", "kerberos"}); err != nil {
		t.Error(err)
	}
	if p, _ := ExtensionPackages([]string{"kernel-devel"}); strings.Join(p, " ") != "kernel-devel kernel-headers" {
		t.Errorf("kernel-devel packages %v", p)
	}
}

func TestParseFactsIncomplete(t *testing.T) {
	f := ParseFacts([]byte("@@ rpm\nbash\t5.2-1\tx86_64\n"))
	if f.Complete || f.Packages["bash"].Version != "5.2-1" {
		t.Errorf("complete=%v packages=%v", f.Complete, f.Packages)
	}
}

func TestScriptHasLint(t *testing.T) {
	s := Script("bootc container lint")
	if !strings.Contains(s, "\nbootc container lint\necho \"rc $?\"") || strings.Contains(s, "LINT") {
		t.Errorf("lint not substituted:\n%s", s)
	}
}

func FuzzParseFacts(f *testing.F) {
	f.Add([]byte(builtOutput))
	f.Add([]byte(baseOutput))
	f.Fuzz(func(t *testing.T, b []byte) {
		facts := ParseFacts(b)
		_ = Checks(facts, facts, expect)
	})
}
