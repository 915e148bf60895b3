package node

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stockOVSJSON is `ovs-vsctl --format=json --columns=StockOVSColumns list
// Open_vSwitch` on a stock RHCOS 9.6 node (openvswitch3.5), with extra
// other_config pairs.
func stockOVSJSON(extra string) string {
	return `{"data":[["3.5.2-19.el9fdp",false,["set",["netdev","system"]],["set",["erspan","geneve","gre","internal","system","tap","vxlan"]],["map",[["bundle-idle-timeout","0"]` + extra + `,["vlan-limit","0"]]]]],"headings":["ovs_version","dpdk_initialized","datapath_types","iface_types","other_config"]}`
}

// TestClearAgainstFakeHost runs the pod's real script for ActionClearOVS
// with fake chroot, rpm, ovs-vsctl and systemctl: the keys are removed in
// one ovs-vsctl call, openvswitch is restarted because hw-offload went, and
// the stock check passes; left alone, the keys are findings.
func TestClearAgainstFakeHost(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	cleared := filepath.Join(dir, "cleared")
	restarted := filepath.Join(dir, "restarted")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("chroot", `[ "$1" = /host ] || exit 9
shift; exec "$@"
`)
	write("rpm", `case "$1" in
-q) shift; for p in "$@"; do echo "package $p is not installed"; done; exit $#;;
-qa) [ "$2" = 'openvswitch[0-9]*' ] && echo openvswitch3.5-3.5.0-19.el9fdp.x86_64;;
esac
`)
	write("systemctl", `[ "$*" = "restart openvswitch" ] || exit 5
touch `+restarted+`
`)
	write("ovs-vsctl", `case "$*" in
"--no-wait remove Open_vSwitch . other_config doca-init hw-offload") touch `+cleared+`;;
"--format=json --columns=`+StockOVSColumns+` list Open_vSwitch") if [ -e `+cleared+` ]; then cat <<'J'
`+stockOVSJSON("")+`
J
else cat <<'J'
`+stockOVSJSON(`,["doca-init","true"],["hw-offload","true"]`)+`
J
fi;;
*) echo "ovs-vsctl: unexpected $*" >&2; exit 7;;
esac
`)
	keys := []string{"doca-init", "hw-offload"}
	run := func(o PodOptions) *Result {
		t.Helper()
		p, err := BuildPod(o)
		if err != nil {
			t.Fatal(err)
		}
		c := p.Spec.Containers[0]
		msgFile := filepath.Join(dir, "termination-log")
		cmd := exec.Command(c.Command[0], c.Command[1:]...)
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "MOSC_TERMINATION_LOG=" + msgFile}
		for _, e := range c.Env {
			cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("script: %v\n%s", err, out)
		}
		msg, err := os.ReadFile(msgFile)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseMessage("n1", string(msg))
		if err != nil {
			t.Fatalf("%v\n%s", err, msg)
		}
		return r
	}
	// Before: a plain verify pod with the stock columns is what the reverted
	// node shows; the keys mosc set are still there.
	r := run(PodOptions{Node: "n1", Action: ActionClearOVS, Verify: DefaultVerify, ClearKeys: []string{"unrelated"}})
	if s, ok := r.Section(SectionClear); !ok || s.RC != 7 {
		t.Fatalf("clear of an unexpected key: section %+v", s)
	}
	p := StockProblems(r, DefaultVerify, keys)
	if len(p) != 3 || p[0].Check != "clear" || p[1].Check != "other-config" || p[2].Check != "other-config" {
		t.Errorf("before: problems %v", p)
	}

	r = run(PodOptions{Node: "n1", Action: ActionClearOVS, Verify: DefaultVerify, ClearKeys: keys, Restart: NeedsRestart(keys)})
	if s, ok := r.Section(SectionClear); !ok || s.RC != 0 {
		t.Fatalf("clear: section %+v", s)
	}
	if _, err := os.Stat(restarted); err != nil {
		t.Errorf("openvswitch not restarted after hw-offload was removed")
	}
	if p := StockProblems(r, DefaultVerify, keys); len(p) != 0 {
		t.Errorf("after: problems %v", p)
	}
	if r.OVSVersion != "3.5.2-19.el9fdp" || len(r.StockPresent) != 1 {
		t.Errorf("stock result: %+v", r)
	}
}

func TestClearOptionsRefuseBadKeys(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{nil, "without other_config keys"},
		{[]string{"doca-init; reboot"}, `"doca-init; reboot" has characters outside`},
		{[]string{"$(id)"}, "characters outside"},
	} {
		_, err := BuildPod(PodOptions{Node: "n1", Action: ActionClearOVS, Verify: DefaultVerify, ClearKeys: tc.keys})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("keys %q: err %v, want %q", tc.keys, err, tc.want)
		}
	}
	if NeedsRestart([]string{"doca-init"}) || !NeedsRestart([]string{"doca-init", "hw-offload"}) {
		t.Error("NeedsRestart: only keys other than doca-init need a restart")
	}
}
