package node

import (
	"strings"
	"testing"
)

func TestParseDpctl(t *testing.T) {
	tests := []struct {
		fixture                  string
		flows, offloaded, sample int
		first                    Flow
	}{
		{"dpctl-ovn-kubernetes-vdpa.txt", 4, 4, 1, Flow{UFID: "30ae9875-d107-46a1-b8cb-cdaafd89d440", Packets: 7, Bytes: 396, Used: "2.310s", Offloaded: "yes", DP: "tc", Actions: "ct(zone=15,nat),recirc(0x440)"}},
		{"dpctl-kube-ovn-mixed.txt", 2, 1, 2, Flow{UFID: "9b0596d9-d3c6-4c88-aadb-087a81690c22", Packets: 54114480, Bytes: 81929308428, Used: "0.520s", Offloaded: "yes", DP: "tc", Actions: "enp216s0f0_0"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			d, err := ParseDpctl(readFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if d.Flows != tt.flows || d.Offloaded != tt.offloaded || len(d.Sample) != tt.sample {
				t.Fatalf("dump = %d flows, %d offloaded, %d sampled; want %d, %d, %d", d.Flows, d.Offloaded, len(d.Sample), tt.flows, tt.offloaded, tt.sample)
			}
			got := d.Sample[0]
			if !strings.HasPrefix(got.Match, "skb_priority(0/0),") {
				t.Errorf("match = %q", got.Match)
			}
			got.Match = ""
			if got != tt.first {
				t.Errorf("first flow = %+v\nwant %+v", got, tt.first)
			}
		})
	}
	// The software flow of the mixed dump, and the userspace datapath's
	// per-thread headers.
	d, err := ParseDpctl("flow-dump from the main thread:\n" + readFixture(t, "dpctl-kube-ovn-mixed.txt") + "flow-dump from pmd on cpu core: 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if sw := d.Sample[1]; sw.UFID != "" || sw.Offloaded != "" || sw.Packets != 136600676 || sw.Actions != "4" || sw.Match != "recirc_id(0),in_port(6),eth(src=4a:9a:3a:69:36:5c,dst=0e:4e:1c:6c:cc:ab),eth_type(0x0800),ipv4(frag=no)" {
		t.Errorf("software flow = %+v", sw)
	}
	if d.Share() != 0.5 {
		t.Errorf("share = %v", d.Share())
	}
	for _, bad := range []string{"packets:1, actions:drop", "in_port(1), packets:x, bytes:0, used:never, actions:drop", "in_port(1), packets:1, bytes:0, used:never"} {
		if _, err := ParseDpctl(bad); err == nil {
			t.Errorf("ParseDpctl(%q) = nil error", bad)
		}
	}
}

func TestParseDevlinkEswitch(t *testing.T) {
	es, notes, err := ParseDevlinkEswitch(readFixture(t, "devlink-eswitch.txt") + "devlink answers: Operation not supported\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Eswitch{{"pci/0000:08:00.0", "switchdev", "none", "basic"}, {"pci/0000:08:00.1", "legacy", "none", "basic"}}
	if len(es) != 2 || es[0] != want[0] || es[1] != want[1] {
		t.Errorf("eswitches = %+v", es)
	}
	if len(notes) != 1 || notes[0] != "devlink answers: Operation not supported" {
		t.Errorf("notes = %q", notes)
	}
	for _, bad := range []string{"pci/0000:08:00.0: mode", "pci/0000:08:00.0: inline-mode none"} {
		if _, _, err := ParseDevlinkEswitch(bad); err == nil {
			t.Errorf("ParseDevlinkEswitch(%q) = nil error", bad)
		}
	}
}

func TestParseLDD(t *testing.T) {
	tests := []struct {
		in      string
		rc      int
		want    LDD
		wantErr string
	}{
		{"/usr/sbin/ovs-vswitchd\n\tlibdoca_flow.so.2 => not found\nresolved 96: /lib64 /usr/lib/opt/mellanox/dpdk/lib64\n", 0,
			LDD{Binary: "/usr/sbin/ovs-vswitchd", Missing: []string{"libdoca_flow.so.2"}, Resolved: 96, Dirs: []string{"/lib64", "/usr/lib/opt/mellanox/dpdk/lib64"}}, ""},
		{"/usr/sbin/ovs-vswitchd\nresolved 0:\n", 0, LDD{Binary: "/usr/sbin/ovs-vswitchd"}, ""},
		{"ldd: /usr/sbin/ovs-vswitchd: No such file or directory", 1, LDD{Error: "ldd exited 1: ldd: /usr/sbin/ovs-vswitchd: No such file or directory"}, ""},
		{"/usr/sbin/ovs-vswitchd\n\tlibdoca_flow.so.2 => not found\n", 0, LDD{}, "no \"resolved N:\" line"},
		{"/usr/sbin/ovs-vswitchd\nresolved x: /lib64\n", 0, LDD{}, "want \"resolved N"},
		{"/usr/sbin/ovs-vswitchd\nlibc.so.6 => /lib64/libc.so.6 (0x1)\nresolved 1: /lib64\n", 0, LDD{}, "unexpected"},
	}
	for _, tt := range tests {
		got, err := ParseLDD(tt.in, tt.rc)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseLDD(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLDD(%q): %v", tt.in, err)
			continue
		}
		if got.Binary != tt.want.Binary || strings.Join(got.Missing, ",") != strings.Join(tt.want.Missing, ",") || got.Resolved != tt.want.Resolved ||
			strings.Join(got.Dirs, ",") != strings.Join(tt.want.Dirs, ",") || got.Error != tt.want.Error {
			t.Errorf("ParseLDD(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseDpctl: any dump is counted or refused, never a panic, and the
// counts stay consistent.
func FuzzParseDpctl(f *testing.F) {
	for _, fx := range []string{"dpctl-ovn-kubernetes-vdpa.txt", "dpctl-kube-ovn-mixed.txt"} {
		s := readFixture(f, fx)
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Add("ufid:x, in_port(1), packets:1, bytes:2, used:never, offloaded:partial, dp:dpdk, actions:drop\n")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDpctl(s)
		if err != nil {
			return
		}
		if d.Offloaded+d.Partial > d.Flows || d.Share() < 0 || d.Share() > 1 || len(d.Sample) > 2 {
			t.Fatalf("inconsistent dump %+v", d)
		}
	})
}

// FuzzParseDevlinkEswitch: any devlink output parses or is refused.
func FuzzParseDevlinkEswitch(f *testing.F) {
	f.Add(readFixture(f, "devlink-eswitch.txt"))
	f.Add("pci/0000:08:00.0: mode switchdev\nkernel answers: Operation not supported\n")
	f.Fuzz(func(t *testing.T, s string) {
		es, _, err := ParseDevlinkEswitch(s)
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Mode == "" || e.Dev == "" {
				t.Fatalf("incomplete eswitch %+v", e)
			}
		}
	})
}
