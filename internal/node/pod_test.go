package node

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestBuildPod(t *testing.T) {
	p, err := BuildPod(PodOptions{Node: "master-0.example.com", Action: ActionEnableDocaInit, Verify: DefaultVerify})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Spec
	c := s.Containers[0]
	switch {
	case s.NodeName != "master-0.example.com":
		t.Errorf("nodeName = %q", s.NodeName)
	case !s.HostPID || !s.HostNetwork:
		t.Error("not hostPID/hostNetwork")
	case s.RestartPolicy != corev1.RestartPolicyNever:
		t.Errorf("restartPolicy = %s", s.RestartPolicy)
	case len(s.Tolerations) != 1 || s.Tolerations[0].Operator != corev1.TolerationOpExists || s.Tolerations[0].Key != "":
		t.Errorf("tolerations = %+v, want one that tolerates every taint", s.Tolerations)
	case c.Name != ContainerName || c.SecurityContext == nil || !*c.SecurityContext.Privileged:
		t.Errorf("container %q not privileged", c.Name)
	case c.Image != DefaultImage:
		t.Errorf("image = %q", c.Image)
	case c.TerminationMessagePolicy != corev1.TerminationMessageReadFile:
		t.Errorf("terminationMessagePolicy = %s", c.TerminationMessagePolicy)
	case p.Namespace != CheckNamespace || p.Labels[LabelRole] != RoleNodeCheck || p.Annotations[AnnotationAction] != ActionEnableDocaInit:
		t.Errorf("metadata = %+v", p.ObjectMeta)
	case !strings.HasPrefix(p.GenerateName, "mosc-check-master-0-example-com-"):
		t.Errorf("generateName = %q", p.GenerateName)
	case s.Volumes[0].HostPath == nil || s.Volumes[0].HostPath.Path != "/":
		t.Error("host root not mounted")
	}

	long := strings.Repeat("n", 200)
	p, err = BuildPod(PodOptions{Node: long, Action: ActionVerify, Verify: DefaultVerify, Image: "quay.io/x/tools:1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.GenerateName) > 58 || len(p.Labels[LabelNode]) > 63 || p.Spec.Containers[0].Image != "quay.io/x/tools:1" {
		t.Errorf("long node name: generateName %d chars, label %d chars", len(p.GenerateName), len(p.Labels[LabelNode]))
	}
}

func TestBuildPodErrors(t *testing.T) {
	bad := DefaultVerify
	bad.PackagesPresent = []string{"doca; rm -rf /"}
	tests := []struct {
		name string
		o    PodOptions
		want string
	}{
		{"no node", PodOptions{Action: ActionVerify, Verify: DefaultVerify}, "no node name"},
		{"bad action", PodOptions{Node: "n", Action: "reboot", Verify: DefaultVerify}, `unknown action "reboot"`},
		{"nothing to look for", PodOptions{Node: "n", Action: ActionVerify}, "packagesPresent is empty"},
		{"shell in name", PodOptions{Node: "n", Action: ActionVerify, Verify: bad}, `"doca; rm -rf /"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildPod(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestScriptAgainstFakeHost runs the pod's real script with fake chroot,
// rpm, ovs-vsctl and systemctl that answer like the walkthrough's node, and
// parses what it wrote: script and parser must agree on the protocol.
func TestScriptAgainstFakeHost(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "doca-init")
	before := ovsJSON(t, "walkthrough-before-doca-init.txt")
	after := ovsJSON(t, "walkthrough-enable-doca-init.txt")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("chroot", `[ "$1" = /host ] || { echo "chroot: want /host, got $1" >&2; exit 9; }
shift; exec "$@"
`)
	write("rpm", `case "$1" in
-q) shift; for p in "$@"; do case "$p" in doca-openvswitch) echo doca-openvswitch-3.3.0040-1.el9.x86_64;; *) echo "package $p is not installed"; rc=1;; esac; done; exit ${rc:-0};;
-qa) case "$2" in 'openvswitch[0-9]*') ;; *) echo "unexpected glob $2" >&2; exit 3;; esac;;
esac
`)
	write("systemctl", `[ "$*" = "restart openvswitch" ] || exit 5
`)
	// ldd prints what the test put in ldd.out (real captured ldd output).
	lddOut := filepath.Join(dir, "ldd.out")
	setLDD := func(fixture string) {
		if err := os.WriteFile(lddOut, []byte(readFixture(t, fixture)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setLDD("ldd-resolved.txt")
	write("ldd", `[ "$1" = /usr/sbin/ovs-vswitchd ] || { echo "ldd: $1: No such file or directory"; exit 1; }
cat `+lddOut+`
`)
	write("ovs-appctl", `[ "$*" = "dpctl/dump-flows -m" ] || exit 4
cat <<'F'
`+readFixture(t, "dpctl-kube-ovn-mixed.txt")+`F
`)
	write("ovs-vsctl", `case "$*" in
"--no-wait set Open_vSwitch . other_config:doca-init=true") touch `+state+`;;
"--format=json --columns=`+OVSColumns+` list Open_vSwitch") if [ -e `+state+` ]; then cat <<'J'
`+after+`
J
else cat <<'J'
`+before+`
J
fi;;
"--format=json --columns=name,datapath_type list Bridge") echo '{"data":[["br-ex","netdev"],["br-int",""]],"headings":["name","datapath_type"]}';;
*) echo "ovs-vsctl: unexpected $*" >&2; exit 7;;
esac
`)
	run := func(action string) *Result {
		t.Helper()
		p, err := BuildPod(PodOptions{Node: "n1", Action: action, Verify: DefaultVerify})
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
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("script: %v\n%s%s", err, stdout.String(), stderr.String())
		}
		msg, err := os.ReadFile(msgFile)
		if err != nil {
			t.Fatal(err)
		}
		if action == ActionInspect {
			if string(msg) != "--- mosc:log rc=0 ---\n" {
				t.Errorf("inspect termination message = %q, want only the log marker", msg)
			}
			msg = []byte(stdout.String())
		}
		if len(msg) > 4096 {
			t.Errorf("termination message is %d bytes, over the kubelet's 4096", len(msg))
		}
		r, err := ParseMessage("n1", string(msg))
		if err != nil {
			t.Fatalf("%v\n%s", err, msg)
		}
		return r
	}
	r := run(ActionVerify)
	if p := Verify(r, DefaultVerify); len(p) != 1 || p[0].Check != "doca-initialized" || !NeedsDocaInit(r, DefaultVerify) {
		t.Errorf("before doca-init: problems %v", p)
	}
	r = run(ActionEnableDocaInit)
	if r.Action != ActionEnableDocaInit || r.EnableError != "" {
		t.Errorf("enable: action %q, error %q", r.Action, r.EnableError)
	}
	if p := Verify(r, DefaultVerify); len(p) != 0 {
		t.Errorf("after doca-init: problems %v", p)
	}
	if r.LDD == nil || r.LDD.Binary != "/usr/sbin/ovs-vswitchd" || r.LDD.Resolved != 5 || len(r.LDD.Missing) != 0 || strings.Join(r.LDD.Dirs, " ") != "/lib/x86_64-linux-gnu" {
		t.Errorf("ldd = %+v", r.LDD)
	}

	// A library left under /opt: ldd says "not found", the check names it.
	setLDD("ldd-not-found.txt")
	r = run(ActionVerify)
	if p := LibraryProblems(r); len(p) != 1 || !strings.Contains(p[0].Message, "libdoca_flow.so.2") {
		t.Errorf("missing library: problems %v (ldd %+v)", p, r.LDD)
	}

	// mosc verify's inspection: everything on stdout, bridges, flows.
	setLDD("ldd-resolved.txt")
	r = run(ActionInspect)
	if r.Action != ActionInspect || len(r.Bridges) != 2 || r.Bridges[0] != (Bridge{"br-ex", "netdev"}) || r.Bridges[1].DatapathType != "" {
		t.Errorf("inspect: action %q bridges %+v", r.Action, r.Bridges)
	}
	if r.Flows == nil || r.Flows.Flows != 2 || r.Flows.Offloaded != 1 || r.FlowsError != "" {
		t.Errorf("inspect flows = %+v (%s)", r.Flows, r.FlowsError)
	}
}

func ovsJSON(t *testing.T, fixture string) string {
	secs, err := SplitSections(readFixture(t, fixture))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.Name == SectionOVS {
			return s.Output
		}
	}
	t.Fatalf("%s has no ovs section", fixture)
	return ""
}
