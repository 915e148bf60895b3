package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/kube"
)

// rebootCounter counts, per node, how often the simulated MCD takes it into
// state Rebooting, from a watch on the Nodes.
type rebootCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func countReboots(ctx context.Context, t *testing.T) *rebootCounter {
	t.Helper()
	rc := &rebootCounter{counts: map[string]int{}}
	// An informer, not a bare watch: it lists, then watches from that
	// resourceVersion and re-watches on errors.
	inf := kube.NewInformer(env.Clients.Kube.CoreV1().Nodes(), &corev1.Node{}, nil)
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(o, n any) {
		on, ok1 := o.(*corev1.Node)
		nn, ok2 := n.(*corev1.Node)
		if !ok1 || !ok2 {
			return
		}
		if nn.Annotations[sim.AnnotationState] == sim.StateRebooting && on.Annotations[sim.AnnotationState] != sim.StateRebooting {
			rc.mu.Lock()
			rc.counts[nn.Name]++
			rc.mu.Unlock()
		}
	}})
	must(t, err)
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("node informer did not sync")
	}
	return rc
}

func (rc *rebootCounter) get() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.counts {
		out[k] = v
	}
	return out
}

// waitPoolReverted waits until every worker runs the pool's rendered config
// on the base image, the rendered config no longer has mosc's MachineConfig.
func waitPoolReverted(t *testing.T, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		pool, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, "worker", metav1.GetOptions{})
		must(t, err)
		nodes, err := env.Clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/worker"})
		must(t, err)
		done := len(pool.Spec.Configuration.Source) > 0
		for _, s := range pool.Spec.Configuration.Source {
			if strings.HasPrefix(s.Name, "99-mosc-") {
				done = false
			}
		}
		var states []string
		for _, n := range nodes.Items {
			a := n.Annotations
			ok := a[sim.AnnotationState] == sim.StateDone && a[sim.AnnotationCurrentConfig] == pool.Spec.Configuration.Name &&
				a[sim.AnnotationDesiredConfig] == pool.Spec.Configuration.Name && a[sim.AnnotationCurrentImage] == "" && a[sim.AnnotationDesiredImage] == ""
			done = done && ok
			states = append(states, n.Name+"="+a[sim.AnnotationState]+"/"+a[sim.AnnotationCurrentConfig]+"/"+a[sim.AnnotationCurrentImage])
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool worker did not revert within %v: paused=%v config=%s nodes=%v", timeout, pool.Spec.Paused, pool.Spec.Configuration.Name, states)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRemoveRevertsEachNodeOnce: remove deletes the MachineOSConfig and the
// doca-init MachineConfig; the MCO acts on the first at once and renders the
// second 5 s later (the simulator does the same, with its render delay), so
// without a pause each node reboots twice. remove pauses the pool, deletes,
// waits for the render and unpauses: one reboot per node (issue 10
// finding 10). A pool the user had paused stays paused.
func TestRemoveRevertsEachNodeOnce(t *testing.T) {
	resetCluster(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 100 * time.Millisecond})
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s")
	if code != 0 {
		t.Fatalf("apply --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := countReboots(ctx, t)

	out, errOut, code = runMosc(t, "remove", "--site", "lab")
	if code != 0 {
		t.Fatalf("remove: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"machineconfigpool/worker paused while mosc deletes its MachineOSConfig and MachineConfigs, so each node updates once", "machineconfigpool/worker unpaused"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("remove stderr lacks %q:\n%s", want, errOut)
		}
	}
	waitPoolReverted(t, 60*time.Second)
	time.Sleep(500 * time.Millisecond) // a second round would have started by now
	waitPoolReverted(t, 60*time.Second)
	got := rc.get()
	for _, n := range []string{"worker-0", "worker-1", "worker-2"} {
		if got[n] != 1 {
			t.Errorf("%s rebooted %d times during remove; want 1 (all: %v)", n, got[n], got)
		}
	}
	pool, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, "worker", metav1.GetOptions{})
	must(t, err)
	if pool.Spec.Paused {
		t.Errorf("remove left pool worker paused")
	}

	// A pool the user paused stays paused, and nothing reboots while it is.
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s")
	if code != 0 {
		t.Fatalf("apply --wait again: exit %d\n%s\n%s", code, out, errOut)
	}
	_, err = env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{})
	must(t, err)
	rc2 := countReboots(ctx, t)
	out, errOut, code = runMosc(t, "remove", "--site", "lab")
	if code != 0 {
		t.Fatalf("remove on a paused pool: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "machineconfigpool/worker stays paused, as it was before") || strings.Contains(errOut, "worker unpaused") {
		t.Errorf("remove on a paused pool:\n%s", errOut)
	}
	time.Sleep(2 * sim.DefaultRenderDelay)
	pool, err = env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, "worker", metav1.GetOptions{})
	must(t, err)
	if !pool.Spec.Paused {
		t.Errorf("remove unpaused a pool the user had paused")
	}
	if n := rc2.get(); len(n) != 0 {
		t.Errorf("nodes rebooted while the pool was paused: %v", n)
	}
	_, err = env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":false}}`), metav1.PatchOptions{})
	must(t, err)
	waitPoolReverted(t, 60*time.Second)
	for n, c := range rc2.get() {
		if c != 1 {
			t.Errorf("%s rebooted %d times after the user unpaused; want 1", n, c)
		}
	}
}
