package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var walkthroughIfaces = []string{"bareudp", "erspan", "geneve", "gre", "gtpu", "internal", "ip6erspan", "ip6gre", "lisp", "patch", "srv6", "stt", "system", "tap", "vxlan"}

func TestParseMessageWalkthrough(t *testing.T) {
	docaPkg := map[string]Package{"doca-openvswitch": {Name: "doca-openvswitch", Installed: true, NVRAs: []string{"doca-openvswitch-3.3.0040-1.el9.x86_64"}}}
	tests := []struct {
		file string
		want Result
	}{
		{"walkthrough-before-doca-init.txt", Result{
			Node: "nvd-srv-26", Action: ActionVerify, Packages: docaPkg,
			OVSVersion: "3.3.0040", DocaVersion: "3.3.0109", DPDKVersion: "DPDK 25.11.0+doca2601",
			DatapathTypes: []string{"doca", "netdev", "system"},
			IfaceTypes:    walkthroughIfaces,
			OtherConfig:   map[string]string{"bundle-idle-timeout": "0", "ovn-chassis-idx-01916ed0-7268-43dd-8355-68fef87a1761": "", "vlan-limit": "0"},
		}},
		{"walkthrough-enable-doca-init.txt", Result{
			Node: "nvd-srv-26", Action: ActionEnableDocaInit, Packages: docaPkg,
			OVSVersion: "3.3.0040", DocaVersion: "3.3.0109", DPDKVersion: "DPDK 25.11.0+doca2601",
			DocaInitialized: true, DPDKInitialized: true,
			DatapathTypes: []string{"doca", "netdev", "system"},
			IfaceTypes:    append([]string{"bareudp", "doca", "docavdpa"}, walkthroughIfaces[1:]...),
			OtherConfig:   map[string]string{"bundle-idle-timeout": "0", "doca-init": "true", "ovn-chassis-idx-01916ed0-7268-43dd-8355-68fef87a1761": "", "vlan-limit": "0"},
		}},
		{"stock-ovs.txt", Result{
			Node: "nvd-srv-26", Action: ActionVerify,
			Packages:     map[string]Package{"doca-openvswitch": {Name: "doca-openvswitch"}},
			StockPresent: []string{"openvswitch3.5-3.5.0-19.el9fdp.x86_64"},
			OVSError:     `ovs-vsctl exited 1: ovs-vsctl: Open_vSwitch does not contain a column whose name matches "doca_version"`,
			OtherConfig:  map[string]string{},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseMessage("nvd-srv-26", readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got, cmpopts.IgnoreFields(Result{}, "Sections")); d != "" {
				t.Errorf("ParseMessage (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseMessageErrors(t *testing.T) {
	tests := []struct{ name, msg, want string }{
		{"empty", "", `lacks the "rpm" or "ovs" section (got none)`},
		{"text before header", "hello\n--- mosc:rpm rc=0 ---\n", "line 1: text before the first section header"},
		{"no ovs", "--- mosc:rpm rc=0 ---\ndoca-openvswitch-3.3.0040-1.el9.x86_64\n", `(got rpm)`},
		{"bad json", "--- mosc:rpm rc=0 ---\n--- mosc:ovs rc=0 ---\n{\"data\":", "section ovs: ovsdb json"},
		{"two rows", "--- mosc:rpm rc=0 ---\n--- mosc:ovs rc=0 ---\n{\"data\":[[\"a\"],[\"b\"]],\"headings\":[\"ovs_version\"]}", "has 2 rows"},
		{"wrong type", "--- mosc:rpm rc=0 ---\n--- mosc:ovs rc=0 ---\n{\"data\":[[\"yes\"]],\"headings\":[\"doca_initialized\"]}", "doca_initialized: yes is not a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMessage("n1", tt.msg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "node n1: ") {
				t.Errorf("error does not name the node: %v", err)
			}
		})
	}
}

func TestNVRAName(t *testing.T) {
	for in, want := range map[string]string{
		"doca-openvswitch-3.3.0040-1.el9.x86_64":                "doca-openvswitch",
		"openvswitch3.5-3.5.0-19.el9fdp.x86_64":                 "openvswitch3.5",
		"openvswitch-selinux-extra-policy-1.0-39.el9fdp.noarch": "openvswitch-selinux-extra-policy",
		"weird": "weird",
		"a-b":   "a-b",
	} {
		if got := NVRAName(in); got != want {
			t.Errorf("NVRAName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRPMQMultipleVersions(t *testing.T) {
	got := map[string]Package{}
	parseRPMQ("kernel-5.14.0-570.1.el9.x86_64\nkernel-5.14.0-570.2.el9.x86_64\npackage foo is not installed\n", got)
	want := map[string]Package{
		"kernel": {Name: "kernel", Installed: true, NVRAs: []string{"kernel-5.14.0-570.1.el9.x86_64", "kernel-5.14.0-570.2.el9.x86_64"}},
		"foo":    {Name: "foo"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

// FuzzParseMessage: any termination message (the kubelet truncates them, a
// node may print anything) is parsed or refused, never a panic.
func FuzzParseMessage(f *testing.F) {
	for _, name := range []string{"walkthrough-before-doca-init.txt", "walkthrough-enable-doca-init.txt", "stock-ovs.txt"} {
		msg := readFixture(f, name)
		f.Add(msg)
		f.Add(msg[:len(msg)/2]) // cut short, as a 4096-byte limit would
	}
	f.Add("--- mosc:rpm rc=x ---\n")
	f.Fuzz(func(t *testing.T, msg string) {
		r, err := ParseMessage("n", msg)
		if err != nil {
			return
		}
		if r.Node != "n" || r.Packages == nil || r.OtherConfig == nil {
			t.Fatalf("incomplete result %+v", r)
		}
		_ = Verify(r, DefaultVerify)
		_ = NeedsDocaInit(r, DefaultVerify)
	})
}
