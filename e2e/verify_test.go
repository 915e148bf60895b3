package e2e

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/jsonschema"
	"github.com/mosc-dev/mosc/internal/node"
)

// verifyReport is mosc verify -o json (schema mosc.dev/verify/v1).
type verifyReport struct {
	Schema, Verdict, Pool string
	HWOffloadExpected     bool
	Nodes                 []struct {
		Node   string
		Checks []verifyCheck
	}
	Traffic []verifyCheck
}

type verifyCheck struct {
	ID, Status, Message, Remedy string
	Details                     map[string]any
}

func (r verifyReport) check(nodeName, id string) verifyCheck {
	for _, n := range r.Nodes {
		if n.Node != nodeName {
			continue
		}
		for _, c := range n.Checks {
			if c.ID == id {
				return c
			}
		}
	}
	for _, c := range r.Traffic {
		if nodeName == "" && c.ID == id {
			return c
		}
	}
	return verifyCheck{Status: "(missing)"}
}

// verifySite writes a site file for pool worker with hw-offload expected.
func verifySite(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "mosc.yaml")
	must(t, os.WriteFile(f, []byte(`apiVersion: mosc.dev/v1alpha1
kind: Site
metadata:
  name: lab
spec:
  pool: worker
  stacks:
  - name: doca-3.3
  node:
    hwOffload: true
`), 0o644))
	return f
}

// layerVerifyWorkers makes the worker nodes what a finished rollout leaves: the
// OVS-DOCA image, doca-init set, hw-offload on; extra sets per-node
// simulator annotations (an empty value removes one).
func layerVerifyWorkers(t *testing.T, ctx context.Context, extra map[string]map[string]string) {
	t.Helper()
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("worker-%d", i)
		ann := map[string]any{sim.AnnotationSimOS: "layered-doca", sim.AnnotationSimDocaInit: "true", sim.AnnotationSimHWOffload: "true",
			sim.AnnotationSimEswitch: nil, sim.AnnotationSimOffloadFlows: nil, sim.AnnotationSimLDDMissing: nil}
		for k, v := range extra[name] {
			ann[k] = v
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
		if _, err := env.Clients.Kube.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func verifySchema(t *testing.T) map[string]any {
	t.Helper()
	doc, err := os.ReadFile("../docs/verify.md")
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.FromMarkdown(doc, "verify")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runVerify(t *testing.T, o moscRun, wantCode int, args ...string) (verifyReport, string) {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	out, stderr, code := runMoscWith(t, o, append([]string{"verify", "-o", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("mosc verify %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out, stderr)
	}
	var doc any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("verify -o json: %v\n%s", err, out)
	}
	if errs := jsonschema.Validate(verifySchema(t), doc); len(errs) > 0 {
		t.Errorf("verify -o json does not match docs/verify.md's schema:\n%s", strings.Join(errs, "\n"))
	}
	var r verifyReport
	must(t, json.Unmarshal([]byte(out), &r))
	return r, stderr
}

// noVerifyPods: every check and iperf3 pod is gone.
func noVerifyPods(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, role := range []string{node.RoleNodeCheck, node.RoleTraffic} {
		list, err := env.Clients.Kube.CoreV1().Pods(node.CheckNamespace).List(ctx, metav1.ListOptions{LabelSelector: node.LabelRole + "=" + role})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Items {
			t.Errorf("pod %s (%s) left behind", p.Name, role)
		}
	}
}

// A passing verify with a real iperf3 run between two nodes' pods: the
// numbers come from iperf3 itself, the offloaded flows rise while it runs,
// and the JSON and JUnit reports validate.
func TestVerifyThroughput(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 4*time.Minute)
	startSim(t, sim.Faults{})
	layerVerifyWorkers(t, ctx, nil)
	site := verifySite(t)
	junit := filepath.Join(t.TempDir(), "verify.xml")
	r, stderr := runVerify(t, moscRun{}, 0, "-f", site, "--throughput", "--duration", "2s", "--parallel", "2", "--host-network", "--min-gbps", "0.01", "--junit", junit)
	if r.Schema != "mosc.dev/verify/v1" || r.Verdict != "pass" || r.Pool != "worker" || !r.HWOffloadExpected || len(r.Nodes) != 3 {
		t.Fatalf("report: %+v", r)
	}
	for _, n := range r.Nodes {
		for _, c := range n.Checks {
			if c.Status != "pass" {
				t.Errorf("%s %s = %s: %s", n.Node, c.ID, c.Status, c.Message)
			}
		}
	}
	tp := r.check("", "throughput")
	if tp.Status != "pass" || !strings.Contains(tp.Message, "worker-1 → worker-0 (pod network)") || !strings.Contains(tp.Message, "offloaded flows during the test: worker-0 +4 (6 of 6), worker-1 +4 (6 of 6)") {
		t.Fatalf("throughput: %+v", tp)
	}
	ip, _ := tp.Details["iperf3"].(map[string]any)
	if gbps, _ := tp.Details["gbps"].(float64); gbps <= 0 || ip["version"] == nil || ip["streams"] != float64(2) || ip["receivedBitsPerSecond"].(float64) <= 0 {
		t.Errorf("throughput details are not a real iperf3 report: %v", tp.Details)
	}
	if host := r.check("", "throughput-host"); host.Status != "pass" || !strings.Contains(host.Message, "(host network)") {
		t.Errorf("throughput-host: %+v", host)
	}
	for _, n := range []string{"worker-0", "worker-1"} {
		f := r.check(n, "offload-flows")
		if delta, _ := f.Details["offloadedDelta"].(float64); delta != 4 { // 2 streams, a flow each way
			t.Errorf("%s offload-flows: delta %v: %+v", n, f.Details["offloadedDelta"], f)
		}
	}
	if f := r.check("worker-2", "offload-flows"); f.Details["during"] != nil {
		t.Errorf("worker-2 carried no traffic but has a during count: %+v", f)
	}
	if !strings.Contains(stderr, "created (iperf3 server on node worker-0, pod network)") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}

	var ju struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(junit)
	must(t, err)
	must(t, xml.Unmarshal(b, &ju))
	if ju.Failures != 0 || len(ju.Suites) != 4 || ju.Tests != 3*10+2 || ju.Suites[3].Name != "pool/worker traffic" {
		t.Errorf("junit: %d tests, %d failures, %d suites\n%s", ju.Tests, ju.Failures, len(ju.Suites), b)
	}
	noVerifyPods(t, ctx)
	docOutput(t, "verify-throughput.txt", "-f", site, "--throughput", "--duration", "3s", "--parallel", "2", "--host-network")

	// --min-gbps above what loopback iperf3 reaches gates the exit code.
	r, _ = runVerify(t, moscRun{}, 1, "-f", site, "--throughput", "--duration", "1s", "--min-gbps", "100000")
	if tp := r.check("", "throughput"); tp.Status != "fail" || !strings.Contains(tp.Message, "below --min-gbps 100000") || !strings.Contains(tp.Remedy, "20.4 Gbit/s") {
		t.Errorf("min-gbps: %+v", tp)
	}
	noVerifyPods(t, ctx)
}

// Each cause of "installed but not offloading" gives its check a fail with
// the remedy that fixes it.
func TestVerifyFailureCauses(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 4*time.Minute)
	startSim(t, sim.Faults{})
	site := verifySite(t)
	tests := []struct {
		name   string
		ann    map[string]string
		check  string
		status string
		remedy string
	}{
		{"offload off", map[string]string{sim.AnnotationSimHWOffload: "false"}, "hw-offload", "fail", "spec.node.hwOffload: true"},
		{"zero offloaded flows", map[string]string{sim.AnnotationSimOffloadFlows: "0"}, "offload-flows", "fail", "NAT"},
		{"eswitch legacy", map[string]string{sim.AnnotationSimEswitch: "legacy"}, "eswitch", "fail", "SriovNetworkNodePolicy"},
		{"library under /opt", map[string]string{sim.AnnotationSimLDDMissing: "libdoca_flow.so.2"}, "libraries", "fail", "relocates /opt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layerVerifyWorkers(t, ctx, map[string]map[string]string{"worker-1": tt.ann})
			r, _ := runVerify(t, moscRun{}, 1, "-f", site, "--check-timeout", "1m")
			c := r.check("worker-1", tt.check)
			if c.Status != tt.status || !strings.Contains(c.Remedy, tt.remedy) {
				t.Errorf("worker-1 %s = %s %q, remedy %q; want %s with %q", tt.check, c.Status, c.Message, c.Remedy, tt.status, tt.remedy)
			}
			if c := r.check("worker-0", tt.check); c.Status != "pass" {
				t.Errorf("worker-0 %s = %s: %s", tt.check, c.Status, c.Message)
			}
			if tt.check == "eswitch" {
				docOutput(t, "verify-eswitch-legacy.txt", "-f", site, "-o", "plain")
			}
			noVerifyPods(t, ctx)
		})
	}
	// Offload not expected (the default plan for hosts): hw-offload off passes,
	// eswitch and flows are skipped.
	layerVerifyWorkers(t, ctx, map[string]map[string]string{"worker-0": {sim.AnnotationSimHWOffload: "false"}})
	r, _ := runVerify(t, moscRun{}, 0, "--pool", "worker", "--stack", "doca-3.3")
	if c := r.check("worker-0", "hw-offload"); c.Status != "pass" || r.HWOffloadExpected {
		t.Errorf("hw-offload not expected: %+v", c)
	}
	if c := r.check("worker-0", "eswitch"); c.Status != "skip" {
		t.Errorf("eswitch not expected: %+v", c)
	}
}

// Ctrl-C in the middle of the traffic test deletes every pod mosc created
// (check pods and iperf3 pods), and exits 1.
func TestVerifyInterrupt(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	startSim(t, sim.Faults{})
	layerVerifyWorkers(t, ctx, nil)
	site := verifySite(t)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// Interrupt once the iperf3 client runs.
		_ = harness.WaitFor(runCtx, env.PodsLW(node.CheckNamespace, node.LabelRole+"="+node.RoleTraffic), func(ps []*corev1.Pod) (bool, string) {
			for _, p := range ps {
				if p.Labels["mosc.dev/traffic"] == "client" && p.Status.Phase == corev1.PodRunning {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d traffic pods", len(ps))
		})
		cancel()
	}()
	out, stderr, code := runMoscWith(t, moscRun{Ctx: runCtx, Timeout: 2 * time.Minute}, "verify", "-f", site, "--throughput", "--duration", "60s")
	if code != 1 || !strings.Contains(stderr, "interrupted; check pods deleted") {
		t.Fatalf("exit %d, want 1 on Ctrl-C\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "iperf3 client on node worker-1") {
		t.Fatalf("interrupted before the client started:\n%s", stderr)
	}
	noVerifyPods(t, ctx)
}

// mosc gate --verify runs the quick verify on the pool and sums it up as one
// check naming each failed node/check.
func TestGateVerify(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 4*time.Minute)
	startSim(t, sim.Faults{})
	site := gateSite(t, t.TempDir(), "mosc.yaml", docaRepo(t), "  node:\n    hwOffload: true\n")
	args := []string{"-f", site, "--to", "4.21", "--verify", "--node-timeout", "1m"}

	layerVerifyWorkers(t, ctx, nil)
	r := runGate(t, 1, args...) // no MachineOSConfig here: last-build fails
	if st, msg := r.status("verify"); st != "pass" || !strings.Contains(msg, "3 nodes of pool worker verified (hw-offload expected on)") {
		t.Errorf("verify = %s: %s", st, msg)
	}

	layerVerifyWorkers(t, ctx, map[string]map[string]string{"worker-2": {sim.AnnotationSimEswitch: "legacy"}})
	r = runGate(t, 1, args...)
	if st, msg := r.status("verify"); st != "fail" || !strings.Contains(msg, "worker-2/eswitch: eswitch not in switchdev mode") || !strings.Contains(msg, "mosc verify --pool worker") {
		t.Errorf("verify = %s: %s", st, msg)
	}
	noVerifyPods(t, ctx)
}

// docOutput saves real mosc verify output for docs/verify.md when
// MOSC_VERIFY_DOCS names a directory (stdout; the command line first).
func docOutput(t *testing.T, name string, args ...string) {
	dir := os.Getenv("MOSC_VERIFY_DOCS")
	if dir == "" {
		return
	}
	out, stderr, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, append([]string{"verify"}, args...)...)
	text := "$ mosc verify " + strings.Join(args, " ") + "\n" + out + fmt.Sprintf("$ echo $?\n%d\n", code)
	must(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, strings.TrimSuffix(name, ".txt")+".stderr"), []byte(stderr), 0o644))
}
