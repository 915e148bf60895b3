package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/termtest"
	"github.com/mosc-dev/mosc/internal/watch"
)

// fastFaults: a healthy cluster whose build and node steps take a moment, so
// every state is seen by the watch.
func fastFaults() sim.Faults {
	return sim.Faults{BuildDuration: 3 * time.Second, NodeStep: 300 * time.Millisecond}
}

// layerWorkers creates what mosc apply would: a push secret and the worker
// pool's MachineOSConfig installing doca-openvswitch (typed client: these
// tests do not depend on apply).
func layerWorkers(t testing.TB, ctx context.Context) {
	t.Helper()
	buildMosc(t) // before the build starts, so the watch sees it from the start
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
	t.Logf("mosc watch --pool worker -o json --enable-doca-init:\n%s", out)
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
	t.Logf("mosc watch --pool worker:\n%s", out)
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
	t.Logf("mosc status --pool worker:\n%s", out)
	if code != 0 || !strings.Contains(out, "worker-0") || !strings.Contains(out, "Succeeded") {
		t.Errorf("mosc status table (exit %d):\n%s", code, out)
	}
}

func TestWatchBuildFailed(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, 3*time.Minute)
	startSim(t, sim.Faults{BuildFails: true, BuildDuration: 3 * time.Second})
	layerWorkers(t, ctx)
	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "--timeout", "40s", "--logs")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	t.Logf("mosc watch --pool worker --logs (build fails):\nstdout:\n%s\nstderr:\n%s", out, stderr)
	for _, want := range []string{"machineosbuild/worker-", "Failed", "Build Failed", "last lines of the build log", "Error: Unable to find a match: doca-openvswitch"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(out, "result machineosbuild/worker-") {
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
	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "-o", "json", "--timeout", "2m", "--enable-doca-init")
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
	out, stderr, code := runMosc(t, "watch", "--pool", "worker", "--timeout", "25s", "--stall-warning", "5s", "--enable-doca-init")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	t.Logf("mosc watch (stuck node):\nstdout:\n%s\nstderr:\n%s", out, stderr)
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
	if strings.Contains(r.stderr, "reflector") || strings.Contains(r.stderr, "Failed to watch") {
		t.Errorf("client-go noise on stderr:\n%s", r.stderr)
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

// countingProxy is a reverse proxy in front of the API server that counts
// mosc's requests by verb and resource; it authenticates as the admin, so
// the mosc under test gets a kubeconfig with no credentials of its own.
type countingProxy struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int
	total  int
}

func newCountingProxy(b testing.TB) *countingProxy {
	rt, err := rest.TransportFor(env.RESTConfig)
	if err != nil {
		b.Fatal(err)
	}
	target, err := url.Parse(env.Server)
	if err != nil {
		b.Fatal(err)
	}
	p := &countingProxy{counts: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Authorization") // the admin transport adds its own
			p.count(r.In)
		},
		Transport:     rt,
		FlushInterval: -1, // stream watches and followed logs at once
		// Watches end with a cancelled context when mosc exits: not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.srv = httptest.NewTLSServer(rp)
	b.Cleanup(p.srv.Close)
	return p
}

func (p *countingProxy) count(r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// /api/v1/[namespaces/NS/]RES[/NAME[/SUB]] or /apis/G/V/...
	i := 2
	if len(segs) > 0 && segs[0] == "apis" {
		i = 3
	}
	if i+1 < len(segs) && segs[i] == "namespaces" && len(segs) > i+2 {
		i += 2
	}
	res, named := "(discovery)", false
	if i < len(segs) {
		res = segs[i]
		named = i+1 < len(segs)
		if i+2 < len(segs) {
			res += "/" + segs[i+2]
		}
	}
	verb := r.Method
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Get("watch") == "true":
		verb = "WATCH"
	case r.Method == http.MethodGet && !named && res != "(discovery)":
		verb = "LIST"
	}
	p.mu.Lock()
	p.counts[verb+" "+res]++
	p.total++
	p.mu.Unlock()
}

func (p *countingProxy) snapshot() (int, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		c[k] = v
	}
	return p.total, c
}

func (p *countingProxy) kubeconfig(b testing.TB) string {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.srv.URL, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	cfg.CurrentContext = "proxy"
	path := filepath.Join(b.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkWatch1000Nodes follows a simulated rollout of a 1000-node worker
// pool with `mosc watch -o json` as a subprocess behind a counting proxy,
// and reports: API requests (in all, per node, and during an idle minute of
// waiting — proportional to changes, not time), peak RSS of the mosc process,
// and the delay from a node's change on the API server to its event on
// mosc's output. Figures go to docs/watch.md; nothing here asserts a time.
func BenchmarkWatch1000Nodes(b *testing.B) {
	const workers = 1000
	for range b.N {
		b.StopTimer()
		ctx := testCtx(b, 30*time.Minute)
		if err := env.ResetWith(ctx, harness.Options{WorkerNodes: workers, MaxUnavailable: "10%"}); err != nil {
			b.Fatalf("reset with %d workers: %v", workers, err)
		}
		b.Cleanup(func() {
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			if err := env.Reset(rctx); err != nil {
				b.Errorf("reset back: %v", err)
			}
		})
		startSim(b, sim.Faults{BuildDuration: 2 * time.Second, NodeStep: 50 * time.Millisecond})
		proxy := newCountingProxy(b)

		// When each node really finished, seen by a watch of our own.
		var mu sync.Mutex
		doneAt := map[string]time.Time{}
		var target atomic.Value
		target.Store("")
		inf := cache.NewSharedIndexInformer(env.NodesLW("node-role.kubernetes.io/worker"), &corev1.Node{}, 0, cache.Indexers{})
		record := func(o any) {
			n, ok := o.(*corev1.Node)
			img, _ := target.Load().(string)
			if !ok || img == "" || n.Annotations[sim.AnnotationState] != "Done" || n.Annotations[sim.AnnotationCurrentImage] != img {
				return
			}
			mu.Lock()
			if _, seen := doneAt[n.Name]; !seen {
				doneAt[n.Name] = time.Now()
			}
			mu.Unlock()
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: record, UpdateFunc: func(_, o any) { record(o) }}); err != nil {
			b.Fatal(err)
		}
		stopInf := make(chan struct{})
		go inf.Run(stopInf)

		bin := buildMosc(b)
		// The collector's trace (stderr) says what the heap was at each GC:
		// the peak RSS follows it.
		benchEnv := []string{"KUBECONFIG=" + proxy.kubeconfig(b), "GODEBUG=gctrace=1"}
		// MOSC_BENCH_ENV="GOGC=50 GOMEMLIMIT=24MiB": settings for the mosc
		// process alone (not the API server's or this test's Go runtimes),
		// to measure what a heap target would cost.
		benchEnv = append(benchEnv, strings.Fields(os.Getenv("MOSC_BENCH_ENV"))...)
		if dir := os.Getenv("MOSC_BENCH_MEMPROFILE"); dir != "" {
			// Heap profiles at the live heap's peak (internal/watch/memprof.go).
			bin = buildMoscTags(b, "mosc_memprof")
			benchEnv = append(benchEnv, "MOSC_MEMPROFILE="+dir)
		}
		cmd := exec.Command(bin, "watch", "--pool", "worker", "--wait-for-mosc", "-o", "json", "--timeout", "25m", "--stall-warning", "0", "--enable-doca-init", "--check-parallel", "8")
		cmd.Env = append(os.Environ(), benchEnv...)
		loadBefore := loadAverage()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b.StartTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		hwm := pollHWM(cmd.Process.Pid)
		type line struct {
			at time.Time
			ev watch.Event
		}
		lines := make(chan line, 4096)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var e watch.Event
				if json.Unmarshal(sc.Bytes(), &e) == nil {
					lines <- line{time.Now(), e}
				}
			}
		}()
		// The first event means the informers synced; then a minute of
		// waiting for a MachineOSConfig that does not exist yet.
		first, ok := <-lines
		if !ok {
			b.Fatalf("mosc watch printed nothing: %s", stderr.String())
		}
		syncedAfter := time.Since(start)
		atSync, _ := proxy.snapshot()
		idle := time.Minute
		time.Sleep(idle)
		afterIdle, _ := proxy.snapshot()

		layerWorkers(b, ctx)
		var evs []line
		evs = append(evs, first)
		for l := range lines {
			if l.ev.Kind == watch.KindBuild && l.ev.Fields["image"] != "" && strings.HasPrefix(l.ev.Object, "machineosconfig/") {
				target.Store(l.ev.Fields["image"])
			}
			evs = append(evs, l)
		}
		rss := hwm() // KiB; before Wait reaps the process (its pid is then free)
		err = cmd.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		close(stopInf)
		if err != nil {
			b.Fatalf("mosc watch: %v\n%s", err, stderr.String())
		}
		total, counts := proxy.snapshot()

		// Delay: our watch saw the node done → mosc printed it updated.
		var delays []time.Duration
		mu.Lock()
		counted := map[string]bool{}
		for _, l := range evs {
			name := strings.TrimPrefix(l.ev.Object, "node/")
			if l.ev.Kind == watch.KindNode && l.ev.Fields["updated"] == "true" && !counted[name] {
				counted[name] = true // the first line saying so; later ones are MCN changes
				if t0, ok := doneAt[name]; ok {
					delays = append(delays, l.at.Sub(t0))
				}
			}
		}
		mu.Unlock()
		sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
		pct := func(p float64) time.Duration {
			if len(delays) == 0 {
				return 0
			}
			return delays[min(len(delays)-1, int(p*float64(len(delays))))]
		}
		// Not wait4's ru_maxrss: os/exec starts the child with
		// clone(CLONE_VM|CLONE_VFORK), and Linux's exec records the old
		// mm's high-water mark — this test process's — in the new
		// program's maxrss (fs/exec.c exec_mmap), so that figure is
		// max(this process at the fork, mosc).
		var rusageMax int64
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rusageMax = ru.Maxrss
		}
		changes := 0
		for _, l := range evs {
			if l.ev.Kind != watch.KindPod {
				changes++
			}
		}
		b.ReportMetric(float64(total), "requests")
		b.ReportMetric(float64(total)/workers, "requests/node")
		b.ReportMetric(float64(afterIdle-atSync), "requests-idle-minute")
		b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "delay-p50-ms")
		b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "delay-p99-ms")
		b.ReportMetric(float64(len(evs)), "events")
		gcs := parseGCTrace(stderr.String())
		b.ReportMetric(gcs.peakHeap, "peak-heap-MiB")
		b.ReportMetric(gcs.peakLive, "peak-live-heap-MiB")
		b.ReportMetric(float64(gcs.cycles), "gc-cycles")
		b.ReportMetric(gcs.cpuPercent, "gc-cpu-%")

		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var sb strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&sb, "  %-45s %d\n", k, counts[k])
		}
		summary := fmt.Sprintf("%d workers: synced after %s, done after %s (including the %s idle wait); %d events (%d without pod events), %d requests (%d during the idle minute); peak RSS %.1f MiB; heap at GC: peak %.1f MiB, live at most %.1f MiB over %d cycles (GC %.0f%% of the CPU time); mosc env %q; delay p50 %s p99 %s max %s over %d nodes; load average %s before, %s after\nrequests by verb and resource:\n%s",
			workers, syncedAfter.Round(time.Millisecond), elapsed.Round(time.Second), idle, len(evs), changes, total, afterIdle-atSync, float64(rss)/1024,
			gcs.peakHeap, gcs.peakLive, gcs.cycles, gcs.cpuPercent, benchEnv[1:], pct(0.5), pct(0.99), pct(1), len(delays), loadBefore, loadAverage(), sb.String())
		summary += fmt.Sprintf("(wait4 ru_maxrss, which includes this test process at the fork: %.1f MiB)\n", float64(rusageMax)/1024)
		b.Log(summary) // testing keeps only a benchmark log's first 10 lines: the simulator's come first
		if dir := os.Getenv("MOSC_BENCH_OUT"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(summary), 0o644)
			_ = os.WriteFile(filepath.Join(dir, "mosc-stderr.txt"), stderr.Bytes(), 0o644)
		}
	}
}

// gcTrace sums up a GODEBUG=gctrace=1 trace: the largest heap a
// collection ended with (its second figure, "4->5->2 MB": start, end, live)
// and the largest live heap, in MiB.
type gcTrace struct {
	peakHeap, peakLive float64
	cycles             int
	cpuPercent         float64 // of the process's time, in GC, at the last cycle
}

func parseGCTrace(stderr string) gcTrace {
	var t gcTrace
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(l, "gc ") {
			continue
		}
		// gc 12 @3.4s 1%: 0.1+2+0.01 ms clock, ..., 4->5->2 MB, 5 MB goal, ...
		var n int
		var at string
		var pct float64
		if c, _ := fmt.Sscanf(l, "gc %d %s %f%%:", &n, &at, &pct); c == 3 {
			t.cpuPercent = pct
		}
		for _, f := range strings.Split(l, ", ") {
			var start, end, live float64
			if n, _ := fmt.Sscanf(f, "%f->%f->%f MB", &start, &end, &live); n == 3 {
				t.cycles++
				t.peakHeap = max(t.peakHeap, start, end)
				t.peakLive = max(t.peakLive, live)
			}
		}
	}
	return t
}

// pollHWM follows the peak resident set (VmHWM) of process pid from
// /proc until it exits; the returned func waits for the exit and gives the
// last value read, in KiB (call it before Wait, so the pid is not reused
// meanwhile). VmHWM only grows, so the last read before the exit is the
// peak up to 10 ms before it (the process then only prints its result and
// exits).
func pollHWM(pid int) func() int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				return
			}
			found := false
			for _, l := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					var kb int64
					if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
						peak.Store(max(peak.Load(), kb))
						found = true
					}
				}
			}
			if !found { // a zombie: its memory is gone
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() int64 {
		<-done
		return peak.Load()
	}
}

// loadAverage is the 1-, 5- and 15-minute load average, for the log.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// TestWatchLiveViewOnATerminal runs mosc under a pseudo-terminal (util-linux
// script) of 80 and 140 columns: the live view redraws with ANSI escapes,
// ends with the result line, and, replayed on a terminal model with
// scrollback (internal/termtest), no line wraps and no line of the view's
// block is left in the scrollback (issue 13: a wrapped footer left stale
// copies). Event lines may repeat (a node's same state at the same second).
func TestWatchLiveViewOnATerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) to give mosc a terminal")
	}
	for _, cols := range []int{80, 140} {
		t.Run(fmt.Sprintf("%d-columns", cols), func(t *testing.T) {
			resetEnv(t)
			ctx := testCtx(t, 3*time.Minute)
			startSim(t, fastFaults())
			layerWorkers(t, ctx)
			bin := buildMosc(t)
			const rows = 40
			cmd := exec.CommandContext(ctx, scriptBin, "-qec", fmt.Sprintf("stty cols %d rows %d; %s watch --pool worker --timeout 2m --enable-doca-init", cols, rows, bin), "/dev/null")
			cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig, "TERM=xterm")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("mosc watch on a terminal: %v\n%q", err, out)
			}
			s := string(out)
			for _, want := range []string{"\x1b[", "pool worker ── elapsed", "verified, ", "done: 3/3 nodes of pool worker updated and verified"} {
				if !strings.Contains(s, want) {
					t.Errorf("terminal output lacks %q", want)
				}
			}
			if strings.Contains(s, "pod/"+node.CheckNamespace) {
				t.Error("the live view shows check pod lines (too chatty for a terminal)")
			}
			scr := termtest.New(cols, rows)
			scr.Write(out)
			if scr.Wrapped != 0 {
				t.Errorf("the terminal wrapped %d line(s)", scr.Wrapped)
			}
			results := 0
			for _, l := range scr.Lines() {
				// The view's own lines: its header, progress bar and table.
				if strings.HasPrefix(l, "── ") || strings.HasPrefix(l, "[") || strings.HasPrefix(l, "  NODE ") {
					t.Errorf("a line of the live view is left in the scrollback: %q", l)
				}
				if utf8.RuneCountInString(l) >= cols {
					t.Errorf("a line of %d columns: %q", utf8.RuneCountInString(l), l)
				}
				if strings.Contains(l, "result - done: 3/3 nodes") {
					results++
				}
			}
			if results != 1 {
				t.Errorf("the result line appears %d times", results)
			}
			if t.Failed() {
				t.Logf("the terminal after mosc watch (%d columns):\n%s", cols, strings.Join(scr.Lines(), "\n"))
			}
			noCheckPods(t, "after the live view")
		})
	}
}

// With no MachineOSConfig (never applied, or removed) watch has nothing to
// follow: it says so at once instead of waiting for --timeout; with
// --wait-for-mosc (a GitOps sync still to come) it waits.
func TestWatchWithoutMachineOSConfig(t *testing.T) {
	resetEnv(t)
	_, stderr, code := runMosc(t, "watch", "--pool", "worker", "--timeout", "2m")
	if code != 2 || !strings.Contains(stderr, "no MachineOSConfig worker") || !strings.Contains(stderr, "--wait-for-mosc") {
		t.Errorf("watch without a MOSC: exit %d, stderr:\n%s", code, stderr)
	}
	_, stderr, code = runMosc(t, "watch", "--pool", "worker", "--wait-for-mosc", "--timeout", "3s", "-o", "plain")
	if code != 1 || !strings.Contains(stderr, "timed out") {
		t.Errorf("watch --wait-for-mosc: exit %d, stderr:\n%s", code, stderr)
	}
}
