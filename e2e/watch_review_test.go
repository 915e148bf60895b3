package e2e

// End-to-end tests of issue 10's watch findings (3, 4, 7, 11, 12 and the
// Interrupted note): each fails on the mosc before its fix.

import (
	"context"
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
)

// watchRules are what docs/watch.md#permissions lists, without
// machineosbuilds (granted separately, so a test can withhold or revoke it).
var watchRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"machineconfiguration.openshift.io"}, Resources: []string{"machineosconfigs", "machineconfigpools", "machineconfignodes"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "create", "delete", "deletecollection"}},
	{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
}

var mosbRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"machineconfiguration.openshift.io"}, Resources: []string{"machineosbuilds"}, Verbs: []string{"get", "list", "watch"}},
}

// Finding 12: a forbidden list used to leave watch's informers retrying until
// --timeout with nothing on the screen. The preflight names every missing
// right at once, before anything starts (exit 2).
func TestWatchRestrictedUserPreflight(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	startSim(t, fastFaults())
	layerWorkers(t, ctx)
	grant(t, "carol", "mosc-e2e-watch-most", watchRules)
	kc, err := env.UserKubeconfig("carol", nil)
	must(t, err)

	start := time.Now()
	out, stderr, code := runMosc(t, "watch", "--kubeconfig", kc, "--pool", "worker", "--timeout", "90s", "--logs")
	if code != 2 {
		t.Fatalf("restricted watch: exit %d after %s, want 2\nstdout:\n%s\nstderr:\n%s", code, time.Since(start).Round(time.Second), out, stderr)
	}
	for _, want := range []string{
		"carol may not do 2 thing(s)",
		"list machineosbuilds.machineconfiguration.openshift.io (cluster-scoped)",
		"watch machineosbuilds.machineconfiguration.openshift.io (cluster-scoped)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("watch stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "machineconfigpools") {
		t.Errorf("watch stderr lists a granted right:\n%s", stderr)
	}
	noCheckPods(t, "after a refused watch")

	out, stderr, code = runMosc(t, "status", "--kubeconfig", kc, "--pool", "worker")
	if code != 2 || !strings.Contains(stderr, "carol may not do 1 thing(s)") ||
		!strings.Contains(stderr, "list machineosbuilds.machineconfiguration.openshift.io (cluster-scoped)") {
		t.Errorf("restricted status: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}

	// With every right, the same user follows the rollout to the end.
	grant(t, "carol", "mosc-e2e-watch-mosb", mosbRules)
	out, stderr, code = runMosc(t, "watch", "--kubeconfig", kc, "--pool", "worker", "--timeout", "90s", "--enable-doca-init")
	if code != 0 {
		t.Fatalf("watch with all rights: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}

// Finding 12, during a watch: the right to list MachineOSBuilds is revoked
// and the API server restarts, so the informer must list again and gets 403.
// Before, it retried forever and the watch ended at --timeout (exit 1).
func TestWatchForbiddenDuringWatch(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 4*time.Minute)
	f := fastFaults()
	f.BuildDuration = 40 * time.Second
	startSim(t, f)
	layerWorkers(t, ctx)
	grant(t, "carol", "mosc-e2e-watch-most", watchRules)
	grant(t, "carol", "mosc-e2e-watch-mosb", mosbRules)
	kc, err := env.UserKubeconfig("carol", nil)
	must(t, err)

	type result struct {
		out, stderr string
		code        int
		took        time.Duration
	}
	done := make(chan result, 1)
	shown := newLines()
	go func() {
		start := time.Now()
		o, e, c := runMoscWith(t, moscRun{Timeout: 3 * time.Minute, Stdout: shown}, "watch", "--kubeconfig", kc, "--pool", "worker", "-o", "json", "--timeout", "150s")
		done <- result{o, e, c, time.Since(start)}
	}()
	// The watch has synced and shows the build running (not a fixed wait:
	// under load a watch can take seconds to start).
	shown.waitFor(t, ctx, "the build Building", func(l string) bool {
		return strings.Contains(l, `"kind":"build"`) && strings.Contains(l, `"state":"Building"`)
	})
	must(t, env.Clients.Kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), "mosc-e2e-watch-mosb-carol", metav1.DeleteOptions{}))
	if err := env.RestartAPIServer(ctx); err != nil {
		t.Fatalf("restart API server: %v", err)
	}
	r := <-done
	if r.code != 2 {
		t.Fatalf("exit %d after %s, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.took.Round(time.Second), r.out, r.stderr)
	}
	if !strings.Contains(r.stderr, "forbidden: cannot list/watch machineosbuilds.machineconfiguration.openshift.io") {
		t.Errorf("stderr does not name the denied list:\n%s", r.stderr)
	}
	evs := parseEvents(t, r.out)
	if last := evs[len(evs)-1]; last.Fields["result"] != "forbidden" {
		t.Errorf("last event %+v", last)
	}
	noCheckPods(t, "after a forbidden watch")
}

// resetEnvVersion reseeds the cluster as OpenShift version (the simulator
// follows the release's behaviour); resetEnv's cleanup restores the default.
func resetEnvVersion(t *testing.T, ctx context.Context, version string) {
	t.Helper()
	resetEnv(t)
	opts := env.Options()
	opts.OpenShiftVersion = version
	if err := env.ResetWith(ctx, opts); err != nil {
		t.Fatal(err)
	}
}

// Finding 7: from 4.20 image-build is an init container of the build pod;
// watch --logs waited for it among the containers and streamed nothing.
func TestWatchLogsPerRelease(t *testing.T) {
	for _, tc := range []struct {
		version  string
		initCont bool
	}{{"4.19.10", false}, {"4.20.15", true}, {"4.22.3", true}} {
		t.Run(tc.version, func(t *testing.T) {
			ctx := testCtx(t, 3*time.Minute)
			resetEnvVersion(t, ctx, tc.version)
			startSim(t, sim.Faults{BuildFails: true, BuildDuration: 3 * time.Second})
			layerWorkers(t, ctx)
			out, stderr, code := runMosc(t, "watch", "--pool", "worker", "--timeout", "90s", "--logs")
			if code != 1 {
				t.Fatalf("exit %d, want 1 (build fails)\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			// Streamed lines carry the build-log prefix; the failure's tail does not.
			for _, want := range []string{"build-log | STEP 1/", "build-log | Error: Unable to find a match: doca-openvswitch"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks the streamed %q:\n%s", want, stderr)
				}
			}
			pods, err := env.Clients.Kube.CoreV1().Pods(sim.MCONamespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name"})
			must(t, err)
			if len(pods.Items) != 1 {
				t.Fatalf("%d build pods, want the failed one", len(pods.Items))
			}
			p := pods.Items[0]
			isInit := len(p.Spec.InitContainers) == 1 && p.Spec.InitContainers[0].Name == "image-build"
			if isInit != tc.initCont {
				t.Errorf("build pod on %s: init containers %v, containers %v", tc.version, p.Spec.InitContainers, p.Spec.Containers)
			}
		})
	}
}

// setContainerfile changes the MOSC's spec as a user editing it would.
func setContainerfile(t *testing.T, ctx context.Context, content string) {
	t.Helper()
	m := mustMOSC(t, ctx)
	m.Spec.Containerfile = []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: content}}
	if _, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Update(ctx, m, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitBuilding waits for a MOSB of the worker MOSC other than not to be Building.
func waitBuilding(t *testing.T, ctx context.Context, not string) *mcfgv1.MachineOSBuild {
	t.Helper()
	var got *mcfgv1.MachineOSBuild
	err := harness.WaitFor(ctx, env.MOSBsLW(), func(bs []*mcfgv1.MachineOSBuild) (bool, string) {
		for _, b := range bs {
			if b.Name != not && meta.IsStatusConditionTrue(b.Status.Conditions, string(mcfgv1.MachineOSBuilding)) {
				got = b
				return true, ""
			}
		}
		return false, "no new MachineOSBuild Building"
	})
	must(t, err)
	return got
}

// Finding 3: after a failed build the user fixes the cause and applies
// again. The MCO moves current-machine-os-build, and clears
// ImageBuildDegraded, only once the new build's Job exists; until then
// apply --wait read the old failure and exited 1.
func TestApplyWaitRetryAfterFailedBuild(t *testing.T) {
	resetCluster(t)
	f := sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond, BuildFails: true, BuildPrepare: 3 * time.Second}
	s := startSim(t, f)
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "wait", "--stack", "doca-3.2", "--wait", "--timeout", "90s")
	if code != 1 || !strings.Contains(errOut, "rollout of pool worker failed") {
		t.Fatalf("apply --wait with a failing build: exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The fix: another stack (a new Containerfile), and the build works.
	f.BuildFails = false
	s.SetFaults(f)
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "wait", "--wait", "--timeout", "2m")
	if code != 0 || !strings.Contains(out, "done: 3/3 nodes of pool worker updated and verified") {
		t.Fatalf("apply --wait after the fix: exit %d; want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// Finding 4: before 4.21 the MCO sets observedGeneration only with a new
// currentImagePullSpec. A spec changed and reverted during the build goes
// back to the finished build, whose image the MOSC already has: the
// generation is never observed, and a watch waiting for it timed out on a
// healthy pool. From 4.21 the annotation move updates it too.
func TestWatchSpecRevertedDuringBuild(t *testing.T) {
	for _, version := range []string{"4.20.15", "4.21.4"} {
		t.Run(version, func(t *testing.T) {
			ctx := testCtx(t, 4*time.Minute)
			resetEnvVersion(t, ctx, version)
			f := fastFaults()
			s := startSim(t, f)
			layerWorkers(t, ctx)
			first := waitMOSB(t, ctx, "worker", mcfgv1.MachineOSBuildSucceeded)
			waitPool(t, ctx, "worker", "rolled out", func(p *mcfgv1.MachineConfigPool) bool { return harness.PoolUpdated(p) })

			f.BuildDuration = time.Minute
			s.SetFaults(f)
			setContainerfile(t, ctx, docaContainerfile+"RUN echo changed\n")
			waitBuilding(t, ctx, first.Name)
			setContainerfile(t, ctx, docaContainerfile) // reverted
			m := mustMOSC(t, ctx)
			waitMOSCAnnotation(t, ctx, first.Name)

			out, stderr, code := runMosc(t, "watch", "--pool", "worker", "--timeout", "40s", "--enable-doca-init")
			if code != 0 {
				m = mustMOSC(t, ctx)
				t.Fatalf("watch after the revert: exit %d (MOSC generation %d, observed %d)\nstdout:\n%s\nstderr:\n%s", code, m.Generation, m.Status.ObservedGeneration, out, stderr)
			}
			if !strings.Contains(out, "machineosbuild/"+first.Name) {
				t.Errorf("watch did not follow the reused build %s:\n%s", first.Name, out)
			}
			if m = mustMOSC(t, ctx); version == "4.20.15" && m.Status.ObservedGeneration >= m.Generation {
				t.Errorf("on 4.20 the simulator observed generation %d (MCO release-4.20 leaves it at the build's)", m.Generation)
			}
		})
	}
}

func waitMOSCAnnotation(t *testing.T, ctx context.Context, mosb string) {
	t.Helper()
	err := harness.WaitFor(ctx, env.MOSCsLW(), func(ms []*mcfgv1.MachineOSConfig) (bool, string) {
		for _, m := range ms {
			if m.Name == "worker" {
				return m.Annotations[sim.AnnotationCurrentMOSB] == mosb, "current build " + m.Annotations[sim.AnnotationCurrentMOSB]
			}
		}
		return false, "no MOSC worker"
	})
	must(t, err)
}

// The Interrupted note: a spec change during a build makes the MCO stop the
// running build (Interrupted, then deleted) before it moves the annotation
// to the new one. The watch must follow the new build, not fail on the old.
func TestWatchSpecChangedDuringBuild(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 4*time.Minute)
	f := fastFaults()
	f.BuildDuration = 20 * time.Second
	f.BuildPrepare = 2 * time.Second
	startSim(t, f)
	layerWorkers(t, ctx)

	type result struct {
		out, stderr string
		code        int
	}
	done := make(chan result, 1)
	shown := newLines()
	go func() {
		o, e, c := runMoscWith(t, moscRun{Timeout: 3 * time.Minute, Stdout: shown}, "watch", "--pool", "worker", "-o", "json", "--timeout", "150s", "--enable-doca-init")
		done <- result{o, e, c}
	}()
	old := waitBuilding(t, ctx, "")
	shown.waitFor(t, ctx, "the first build Building", func(l string) bool { // the watch follows the first build
		return strings.Contains(l, `"object":"machineosbuild/`+old.Name+`"`) && strings.Contains(l, `"state":"Building"`)
	})
	setContainerfile(t, ctx, docaContainerfile+"RUN echo second\n")
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.stderr)
	}
	evs := parseEvents(t, r.out)
	sawInterrupted := false
	for _, e := range evs {
		if e.Object == "machineosbuild/"+old.Name && e.Fields["state"] == "Interrupted" {
			sawInterrupted = true
		}
	}
	if last := evs[len(evs)-1]; last.Fields["result"] != "done" || last.Object == "machineosbuild/"+old.Name {
		t.Errorf("last event %+v", last)
	}
	t.Logf("old build %s seen Interrupted by the watch: %v", old.Name, sawInterrupted)
}

// Finding 11: the default --timeout is derived from the pool (60m build +
// 30m per wave of maxUnavailable nodes + 15m verify), no longer a fixed
// 90 minutes that a 3-node rollout at 20 minutes a node outlasts.
func TestWatchDefaultTimeoutIsDerived(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	startSim(t, fastFaults())
	layerWorkers(t, ctx)
	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "-o", "json", "--enable-doca-init")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	evs := parseEvents(t, out)
	if e := evs[0]; e.Kind != "phase" || e.Fields["timeout"] != "2h45m0s" ||
		!strings.Contains(e.Message, "derived for 3 node(s) at maxUnavailable 1: 1h0m0s build + 3 wave(s) × 30m0s + 15m0s verify") {
		t.Errorf("first event does not give the derived timeout: %+v", e)
	}
}
