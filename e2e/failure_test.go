package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/watch"
)

// TestWatchSavesFailedBuildEvidence (issue 13): for each simulated cause the
// build fails after the Job's four attempts; mosc watch classifies it (-o
// json build event and result), saves ./mosc-failure-<mosb>/ with the
// listed files, and no secret of the cluster is in any of them.
func TestWatchSavesFailedBuildEvidence(t *testing.T) {
	for _, tc := range []struct {
		fault, cause string
		details      map[string]string
	}{
		{sim.FailRepo404, watch.CauseRepoUnreachable, map[string]string{"repo": "doca", "status": "404",
			"url": "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9.6/x86_64/repodata/repomd.xml"}},
		{sim.FailGPG, watch.CauseGPG, map[string]string{"package": "doca-openvswitch-3.3.0040-1.el9.x86_64", "key": "file:///etc/pki/rpm-gpg/GPG-KEY-Mellanox.pub"}},
		{sim.FailPush401, watch.CausePushDenied, map[string]string{"status": "401"}},
		{sim.FailLint, watch.CauseLint, map[string]string{"check": "var-tmpfiles"}},
		{sim.FailBasePull, watch.CauseBasePullDenied, map[string]string{"registry": "quay.io"}},
		{sim.FailDisk, watch.CauseDisk, map[string]string{"filesystem": "/"}},
		{sim.FailConflict, watch.CausePackage, map[string]string{"package": "doca-openvswitch-3.3.0040-1.el9.x86_64"}},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			resetEnv(t)
			ctx := testCtx(t, 3*time.Minute)
			startSim(t, sim.Faults{BuildFailure: tc.fault})
			layerWorkers(t, ctx)
			work := t.TempDir()
			out, stderr, code := runMoscWith(t, moscRun{Env: []string{"KUBECONFIG=" + env.Kubeconfig}, Dir: work},
				"watch", "--pool", "worker", "-o", "json", "--timeout", "90s")
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			evs := parseEvents(t, out)
			var cause *watch.Event
			for i := range evs {
				if evs[i].Kind == watch.KindBuild && evs[i].Fields["cause"] != "" {
					cause = &evs[i]
				}
			}
			if cause == nil {
				t.Fatalf("no build event with a cause:\n%s", out)
			}
			if cause.Fields["cause"] != tc.cause || cause.Fields["remedy"] == "" {
				t.Errorf("cause event %+v, want cause %s with a remedy", cause, tc.cause)
			}
			for k, v := range tc.details {
				if cause.Fields["detail."+k] != v {
					t.Errorf("detail.%s = %q, want %q", k, cause.Fields["detail."+k], v)
				}
			}
			last := evs[len(evs)-1]
			if last.Fields["result"] != "failed" || last.Fields["cause"] != tc.cause || last.Fields["evidence"] == "" {
				t.Errorf("result event %+v", last)
			}
			if !strings.Contains(stderr, "cause "+tc.cause) || !strings.Contains(stderr, "remedy: ") {
				t.Errorf("stderr does not name the cause and remedy:\n%s", stderr)
			}
			mosb := strings.TrimPrefix(cause.Object, "machineosbuild/")
			dir := filepath.Join(work, "mosc-failure-"+mosb)
			if last.Fields["evidence"] != watch.DefaultFailureDir(mosb) {
				t.Errorf("evidence %q, want %q", last.Fields["evidence"], watch.DefaultFailureDir(mosb))
			}
			checkEvidence(t, dir, mosb, tc.cause, 4)
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr)
			}
		})
	}
}

// checkEvidence: the listed files, every attempt's log, the right cause, and
// no secret value of the cluster anywhere in the directory.
func checkEvidence(t *testing.T, dir, mosb, cause string, attempts int) {
	t.Helper()
	var files []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", rel, fi.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("evidence directory: %v", err)
	}
	sort.Strings(files)
	readme, _ := os.ReadFile(filepath.Join(dir, "README.txt"))
	t.Logf("%s:\n%s", dir, readme)
	for _, want := range []string{"README.txt", "cause.json", "machineosbuild.yaml", "machineosconfig.yaml", "Containerfile",
		"machineconfig.json", "configmaps/containerfile-" + mosb + ".yaml", "configmaps/mc-" + mosb + ".yaml", "job.yaml", "events.txt"} {
		if !slices.Contains(files, want) {
			t.Errorf("evidence lacks %s", want)
		}
	}
	var pods, logs int
	for _, f := range files {
		if strings.HasPrefix(f, "pods/build-"+mosb+"-") {
			pods++
		}
		if strings.HasPrefix(f, "logs/attempt-") && strings.HasSuffix(f, "-image-build.log") {
			logs++
		}
	}
	if pods != attempts || logs != attempts {
		t.Errorf("%d pod statuses and %d image-build logs, want %d of each (one per attempt)", pods, logs, attempts)
	}
	var c watch.Cause
	b, err := os.ReadFile(filepath.Join(dir, "cause.json"))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID != cause {
		t.Errorf("cause.json: %v, cause %q, want %q", err, c.ID, cause)
	}
	events, _ := os.ReadFile(filepath.Join(dir, "events.txt"))
	if !strings.Contains(string(events), "BackoffLimitExceeded") || !strings.Contains(string(events), "SuccessfulCreate") {
		t.Errorf("events.txt lacks the Job's events:\n%s", events)
	}
	job, _ := os.ReadFile(filepath.Join(dir, "job.yaml"))
	if !strings.Contains(string(job), fmt.Sprintf("failed: %d", attempts)) {
		t.Errorf("job.yaml does not show %d failed pods:\n%s", attempts, job)
	}
	mc, _ := os.ReadFile(filepath.Join(dir, "machineconfig.json"))
	if !strings.Contains(string(mc), "/var/lib/kubelet/config.json") || !strings.Contains(string(mc), "redacted") {
		t.Errorf("machineconfig.json does not show the pull secret file redacted")
	}
	for _, s := range clusterSecretValues(t) {
		for _, f := range files {
			data, _ := os.ReadFile(filepath.Join(dir, f))
			if strings.Contains(string(data), s) {
				t.Errorf("%s contains secret data (%d bytes starting %q)", f, len(s), s[:4])
			}
		}
	}
}

// clusterSecretValues are the values of every Secret the build could see
// (the pull secret, push secrets, MCO's copies), raw, base64 and, for
// docker configs, each auth and its password.
func clusterSecretValues(t *testing.T) []string {
	t.Helper()
	var out []string
	add := func(s string) {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	for _, ns := range []string{harness.PullSecretNamespace, sim.MCONamespace} {
		list, err := env.Clients.Kube.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range list.Items {
			for _, v := range sec.Data {
				add(string(v))
				add(base64.StdEncoding.EncodeToString(v))
				var cfg struct {
					Auths map[string]struct {
						Auth, Password string
					} `json:"auths"`
				}
				if json.Unmarshal(v, &cfg) == nil {
					for _, a := range cfg.Auths {
						add(a.Auth)
						add(a.Password)
						if raw, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
							if _, pw, ok := strings.Cut(string(raw), ":"); ok {
								add(pw)
							}
						}
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the cluster has no secret values to look for")
	}
	return out
}

// TestStatusExplainsFailedBuild: the MCO deletes a failed build's pods with
// its MachineOSBuild (a rebuild here), so only what was saved before
// survives; the rebuild reuses the build's name, and its evidence goes to
// a new directory. mosc status classifies the new failure, and with
// --save-failure saves it.
func TestStatusExplainsFailedBuild(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	startSim(t, sim.Faults{BuildFailure: sim.FailGPG})
	layerWorkers(t, ctx)
	work := t.TempDir()
	run := moscRun{Env: []string{"KUBECONFIG=" + env.Kubeconfig}, Dir: work}
	out, stderr, code := runMoscWith(t, run, "watch", "--pool", "worker", "-o", "plain", "--timeout", "90s")
	if code != 1 || !strings.Contains(out, "evidence saved to mosc-failure-worker-") {
		t.Fatalf("watch: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	t.Logf("mosc watch --pool worker (GPG failure):\nstdout:\n%s\nstderr:\n%s", out, stderr)
	mosbs, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSBuilds().List(ctx, metav1.ListOptions{})
	if err != nil || len(mosbs.Items) != 1 {
		t.Fatalf("MachineOSBuilds: %v, %d", err, len(mosbs.Items))
	}
	first, firstUID := mosbs.Items[0].Name, mosbs.Items[0].UID
	firstDir := filepath.Join(work, watch.DefaultFailureDir(first))
	savedPods, _ := os.ReadDir(filepath.Join(firstDir, "pods"))
	if len(savedPods) != 4 {
		t.Fatalf("%d pod statuses saved, want 4", len(savedPods))
	}
	// A rebuild: the MCO deletes the failed MachineOSBuild, its Job and pods.
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:""}}}`, sim.AnnotationRebuild)
	if _, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Patch(ctx, "worker", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFailedBuild(t, ctx, firstUID)
	for _, p := range savedPods {
		name := strings.TrimSuffix(p.Name(), ".yaml")
		if _, err := env.Clients.Kube.CoreV1().Pods(sim.MCONamespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			t.Errorf("pod %s of the first build still exists after the rebuild", name)
		}
	}
	checkEvidence(t, firstDir, first, watch.CauseGPG, 4)

	// The rebuild fails again (the fault stays): status explains it.
	out, stderr, code = runMoscWith(t, run, "status", "--pool", "worker")
	if code != 1 || !strings.Contains(out, "CAUSE") || !strings.Contains(out, watch.CauseGPG) || !strings.Contains(out, "REMEDY") {
		t.Errorf("status: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	t.Logf("mosc status --pool worker (GPG failure):\n%s", out)
	saved := filepath.Join(work, "status-evidence")
	out, stderr, code = runMoscWith(t, run, "status", "--pool", "worker", "-o", "json", "--save-failure", saved)
	var st watch.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 1 || st.Failure == nil || st.Failure.Cause == nil ||
		st.Failure.Cause.ID != watch.CauseGPG || st.Failure.Evidence != saved {
		t.Fatalf("status -o json --save-failure: exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	checkEvidence(t, saved, st.Build.MOSB, watch.CauseGPG, 4)
	// watch again: same MachineOSBuild name, new build: a new directory.
	out, stderr, code = runMoscWith(t, run, "watch", "--pool", "worker", "-o", "plain", "--timeout", "90s")
	if code != 1 || !strings.Contains(out, "evidence saved to "+watch.DefaultFailureDir(first)+"-2") {
		t.Errorf("second watch: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	again, _ := os.ReadDir(filepath.Join(firstDir, "pods"))
	if len(again) != 4 || again[0].Name() != savedPods[0].Name() {
		t.Errorf("the first build's evidence was overwritten")
	}
}

func waitFailedBuild(t *testing.T, ctx context.Context, not types.UID) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		list, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSBuilds().List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, b := range list.Items {
				for _, c := range b.Status.Conditions {
					if b.UID != not && c.Type == "Failed" && c.Status == metav1.ConditionTrue {
						return
					}
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("no new failed MachineOSBuild after the rebuild")
}

// TestWatchNamesBuildCauseInEitherOrder: a failed build shows twice, as the
// MachineOSBuild's Failed status and the pool's ImageBuildDegraded, and mosc
// watch may see either first (sim buildorder.go: the MCO writes the build
// first, but each kind has its own watch). Each order is played with the
// watch started between the two writes; either way watch names the build's
// cause (base-pull-denied once failed as "the pool is degraded" with none).
func TestWatchNamesBuildCauseInEitherOrder(t *testing.T) {
	const lag = 10 * time.Second // the window the watch starts in
	for _, order := range []string{sim.OrderPoolFirst, sim.OrderBuildFirst} {
		t.Run(order, func(t *testing.T) {
			resetEnv(t)
			ctx := testCtx(t, 3*time.Minute)
			startSim(t, sim.Faults{BuildFailure: sim.FailBasePull, DegradedOrder: order, DegradedLag: lag})
			layerWorkers(t, ctx)
			// Wait for the first of the two writes, then watch.
			first := func() bool {
				pool, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, "worker", metav1.GetOptions{})
				if err != nil {
					return false
				}
				degraded := false
				for _, c := range pool.Status.Conditions {
					if c.Type == "ImageBuildDegraded" && c.Status == "True" {
						degraded = true
					}
				}
				failed := false
				mosbs, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSBuilds().List(ctx, metav1.ListOptions{})
				if err == nil {
					for _, b := range mosbs.Items {
						for _, c := range b.Status.Conditions {
							if c.Type == "Failed" && c.Status == metav1.ConditionTrue {
								failed = true
							}
						}
					}
				}
				if order == sim.OrderPoolFirst {
					return degraded && !failed
				}
				return failed && !degraded
			}
			for !first() {
				select {
				case <-ctx.Done():
					t.Fatalf("the first write (%s) never showed alone", order)
				case <-time.After(100 * time.Millisecond):
				}
			}
			work := t.TempDir()
			out, stderr, code := runMoscWith(t, moscRun{Dir: work}, "watch", "--pool", "worker", "-o", "json", "--timeout", "90s")
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			evs := parseEvents(t, out)
			waited := false
			var causes []watch.Event
			for _, e := range evs {
				if e.Kind == watch.KindBuild && e.Fields["poolReports"] == "ImageBuildDegraded" {
					waited = true
				}
				if e.Kind == watch.KindBuild && e.Fields["cause"] != "" {
					causes = append(causes, e)
				}
			}
			// Pool first: watch saw the pool's word alone and waited for the build's.
			if waited != (order == sim.OrderPoolFirst) {
				t.Errorf("waited for the build's own status: %t, want %t", waited, order == sim.OrderPoolFirst)
			}
			if len(causes) != 1 || causes[0].Fields["cause"] != watch.CauseBasePullDenied || causes[0].Fields["detail.registry"] != "quay.io" {
				t.Errorf("cause events %+v, want one base-pull-denied naming quay.io", causes)
			}
			last := evs[len(evs)-1]
			if last.Fields["result"] != "failed" || !strings.HasPrefix(last.Object, "machineosbuild/") || last.Fields["cause"] != watch.CauseBasePullDenied {
				t.Errorf("result event %+v, want the build's failure with its cause", last)
			}
			if strings.Contains(stderr, "machineconfigpool/worker: ") || !strings.Contains(stderr, "cause "+watch.CauseBasePullDenied) {
				t.Errorf("stderr blames the pool or lacks the cause:\n%s", stderr)
			}
			t.Logf("mosc watch --pool worker -o json (%s):\nstdout:\n%s\nstderr:\n%s", order, out, stderr)
		})
	}
}
