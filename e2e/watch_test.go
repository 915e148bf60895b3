package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/watch"
)

// fastFaults: a healthy cluster whose build and node steps take a moment, so
// every state is seen by the watch.
func fastFaults() sim.Faults {
	return sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 300 * time.Millisecond}
}

// layerWorkers creates what mosc apply would: a push secret and the worker
// pool's MachineOSConfig installing doca-openvswitch (typed client: these
// tests do not depend on apply).
func layerWorkers(t *testing.T, ctx context.Context) {
	t.Helper()
	push := pushToTestRegistry(t, ctx, "push-secret")
	createMOSC(t, ctx, newMOSC("worker", push, "push-secret", docaContainerfile))
}

// parseEvents reads mosc watch -o json output: one event per line.
func parseEvents(t *testing.T, out string) []watch.Event {
	t.Helper()
	var evs []watch.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e watch.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("stdout line is not a JSON event: %q: %v", sc.Text(), err)
		}
		if e.Time.IsZero() || e.Kind == "" || e.Phase == "" {
			t.Errorf("incomplete event %s", sc.Text())
		}
		evs = append(evs, e)
	}
	return evs
}

func checkPods(t *testing.T) []corev1.Pod {
	t.Helper()
	l, err := env.Clients.Kube.CoreV1().Pods(node.CheckNamespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: node.LabelRole + "=" + node.RoleNodeCheck})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func noCheckPods(t *testing.T, when string) {
	t.Helper()
	if pods := checkPods(t); len(pods) > 0 {
		var names []string
		for _, p := range pods {
			names = append(names, p.Name)
		}
		t.Errorf("%s: check pods remain: %v", when, names)
	}
}

func TestWatchHappyPathWithDocaInit(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 4*time.Minute)
	startSim(t, fastFaults())
	layerWorkers(t, ctx)

	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "-o", "json", "--enable-doca-init", "--timeout", "3m", "--stall-warning", "0")
	if code != 0 {
		t.Fatalf("mosc watch exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	evs := parseEvents(t, out)
	var build []string
	updated, verified, enabled := map[string]bool{}, map[string]bool{}, map[string]bool{}
	podsCreated, podsDeleted := 0, 0
	for _, e := range evs {
		switch e.Kind {
		case watch.KindBuild:
			if e.Fields["state"] != "" {
				build = append(build, e.Fields["state"])
			}
		case watch.KindNode:
			if e.Fields["updated"] == "true" {
				updated[strings.TrimPrefix(e.Object, "node/")] = true
			}
		case watch.KindCheck:
			if e.Fields["check"] == watch.CheckPassed {
				n := strings.TrimPrefix(e.Object, "node/")
				verified[n] = true
				enabled[n] = e.Fields["docaInitEnabled"] == "true"
				if !strings.Contains(e.Message, "doca_initialized=true") || !strings.Contains(e.Message, "doca 3.3.0109") {
					t.Errorf("check message lacks the OVS-DOCA facts: %s", e.Message)
				}
			}
		case watch.KindPod:
			switch {
			case strings.HasPrefix(e.Message, "created"):
				podsCreated++
			case strings.HasPrefix(e.Message, "deleted"):
				podsDeleted++
			}
		}
	}
	if !strings.Contains(strings.Join(build, ","), "Building") || build[len(build)-1] != watch.BuildSucceeded {
		t.Errorf("build states %v: want Building then Succeeded", build)
	}
	for _, n := range []string{"worker-0", "worker-1", "worker-2"} {
		if !updated[n] || !verified[n] || !enabled[n] {
			t.Errorf("%s: updated %v verified %v doca-init enabled %v", n, updated[n], verified[n], enabled[n])
		}
	}
	if updated["master-0"] {
		t.Error("master-0 is not in the worker pool")
	}
	// verify + enable + verify per node.
	if podsCreated != 9 || podsDeleted != 9 {
		t.Errorf("check pods created %d, deleted %d; want 9 and 9", podsCreated, podsDeleted)
	}
	last := evs[len(evs)-1]
	if last.Kind != watch.KindResult || last.Fields["result"] != "done" || last.Fields["verified"] != "3" {
		t.Errorf("last event %+v", last)
	}
	noCheckPods(t, "after success")

	// Plain output on a non-terminal: one line per change; doca-init is now
	// set, so each node needs one verify pod.
	out, stderr, code = runMosc(t, "watch", "--pool", "worker", "--timeout", "2m")
	if code != 0 {
		t.Fatalf("second mosc watch exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"verified: ovs 3.3.0040, doca 3.3.0109, doca_initialized=true", "node/worker-2 updated: os-image@sha256:", "done: 3/3 nodes of pool worker updated and verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("plain output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("plain output contains ANSI escapes")
	}
	noCheckPods(t, "after the second watch")

	// mosc status: one snapshot, no check pods.
	out, stderr, code = runMosc(t, "status", "--pool", "worker", "-o", "json")
	if code != 0 {
		t.Fatalf("mosc status exit %d\n%s\n%s", code, out, stderr)
	}
	var st watch.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status json: %v\n%s", err, out)
	}
	if st.Phase != watch.PhaseVerify || st.Updated != 3 || st.Total != 3 || st.Build.State != watch.BuildSucceeded {
		t.Errorf("status: phase %s updated %d/%d build %s", st.Phase, st.Updated, st.Total, st.Build.State)
	}
	out, _, code = runMosc(t, "status", "--pool", "worker")
	if code != 0 || !strings.Contains(out, "worker-0") || !strings.Contains(out, "Succeeded") {
		t.Errorf("mosc status table (exit %d):\n%s", code, out)
	}
}

func TestWatchBuildFailed(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	startSim(t, sim.Faults{BuildFails: true, BuildDuration: 500 * time.Millisecond})
	layerWorkers(t, ctx)
	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "--timeout", "2m")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{"machineosbuild/worker-", "Failed", "Build Failed", "last lines of the build log", "Error: Unable to find a match: doca-openvswitch"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(out, "failed: machineosbuild/worker-") {
		t.Errorf("stdout lacks the result line:\n%s", out)
	}
	// mosc status agrees and exits 1 too.
	out, _, code = runMosc(t, "status", "--pool", "worker")
	if code != 1 || !strings.Contains(out, "Failed") {
		t.Errorf("status after a failed build: exit %d\n%s", code, out)
	}
	noCheckPods(t, "after a failed build")
}

func TestWatchDegradedNode(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	f := fastFaults()
	f.DegradeNode, f.DegradeReason = "worker-1", "failed to drain node worker-1: timed out waiting for pod eviction"
	startSim(t, f)
	layerWorkers(t, ctx)
	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "-o", "json", "--timeout", "2m")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "node/worker-1: Degraded: failed to drain node worker-1") {
		t.Errorf("stderr does not name the node and its reason:\n%s", stderr)
	}
	evs := parseEvents(t, out)
	last := evs[len(evs)-1]
	if last.Kind != watch.KindResult || last.Fields["result"] != "failed" || last.Object != "node/worker-1" {
		t.Errorf("last event %+v", last)
	}
	noCheckPods(t, "after a degraded node")
}

func TestWatchStuckNodeTimesOut(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	f := fastFaults()
	f.StuckNode = "worker-2"
	startSim(t, f)
	layerWorkers(t, ctx)
	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "--timeout", "25s", "--stall-warning", "5s")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "timed out after 25s") || !strings.Contains(stderr, "node worker-2 Working") {
		t.Errorf("timeout message does not name the stuck node and state:\n%s", stderr)
	}
	if !strings.Contains(out, "stall") || !strings.Contains(out, "no progress in rollout for 5s: rollout: 2/3 updated") {
		t.Errorf("no stall warning naming the rollout:\n%s", out)
	}
	noCheckPods(t, "after a timeout")
}

// TestWatchSurvivesAPIServerRestart restarts kube-apiserver while nodes roll.
func TestWatchSurvivesAPIServerRestart(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 4*time.Minute)
	f := fastFaults()
	f.NodeStep = time.Second
	startSim(t, f)
	layerWorkers(t, ctx)

	type result struct {
		out, stderr string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, "watch", "--pool", "worker", "-o", "json", "--timeout", "3m", "--enable-doca-init")
		done <- result{o, e, c}
	}()
	// Restart once the first node is working on the new image.
	err := harness.WaitFor(ctx, env.NodesLW("node-role.kubernetes.io/worker"), func(ns []*corev1.Node) (bool, string) {
		for _, n := range ns {
			if n.Annotations[sim.AnnotationState] == "Working" && n.Annotations[sim.AnnotationDesiredImage] != "" {
				return true, ""
			}
		}
		return false, "no worker Working yet"
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.RestartAPIServer(ctx); err != nil {
		t.Fatalf("restart API server: %v", err)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.stderr)
	}
	evs := parseEvents(t, r.out)
	if last := evs[len(evs)-1]; last.Fields["result"] != "done" || last.Fields["verified"] != "3" {
		t.Errorf("last event %+v", last)
	}
	noCheckPods(t, "after the restart")
}

// TestWatchInterruptDeletesCheckPods sends SIGINT while a check pod exists.
func TestWatchInterruptDeletesCheckPods(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	f := fastFaults()
	f.StuckNode = "worker-2" // the watch would never finish on its own
	startSim(t, f)
	layerWorkers(t, ctx)

	runCtx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	var once sync.Once
	go func() {
		// Ctrl-C as soon as the first check pod exists.
		_ = harness.WaitFor(ctx, env.PodsLW(node.CheckNamespace, node.LabelRole+"="+node.RoleNodeCheck), func(ps []*corev1.Pod) (bool, string) {
			return len(ps) > 0, fmt.Sprintf("%d check pods", len(ps))
		})
		once.Do(interrupt)
	}()
	out, stderr, code := runMoscWith(t, moscRun{Ctx: runCtx, Timeout: 2 * time.Minute}, "watch", "--pool", "worker", "--timeout", "2m", "--enable-doca-init")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "interrupted; check pods deleted") || !strings.Contains(out, "interrupted: ") {
		t.Errorf("no interruption message:\nstdout:\n%s\nstderr:\n%s", out, stderr)
	}
	if !strings.Contains(out, "pod/"+node.CheckNamespace+"/mosc-check-") {
		t.Errorf("the interrupt came before any check pod:\n%s", out)
	}
	noCheckPods(t, "after an interrupt")
}
