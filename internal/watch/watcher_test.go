package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	mcfgfake "github.com/openshift/client-go/machineconfiguration/clientset/versioned/fake"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/mosc-dev/mosc/internal/node"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
)

// recView records events (thread-safe).
type recView struct {
	mu  sync.Mutex
	evs []Event
}

func (v *recView) Event(e Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.evs = append(v.evs, e)
}
func (v *recView) Status(*Status, time.Duration) {}
func (v *recView) Log(string)                    {}
func (v *recView) Close()                        {}

func (v *recView) find(kind, field, value string) []Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []Event
	for _, e := range v.evs {
		if e.Kind == kind && (field == "" || e.Fields[field] == value) {
			out = append(out, e)
		}
	}
	return out
}

// fakeCluster is a rolled-out worker pool on fake clientsets whose check pods
// answer like the walkthrough's node (doca-init off until enabled).
type fakeCluster struct {
	kube    *kubefake.Clientset
	mc      *mcfgfake.Clientset
	mu      sync.Mutex
	docaOn  map[string]bool
	n       int
	silent  bool           // check pods never finish
	ovsDown map[string]int // answers "database connection failed" this many times
	created int
}

func newFakeCluster(t *testing.T, nodes int, mutate func(*world)) *fakeCluster {
	w := newWorld()
	w.build("Succeeded", t0)
	w.mosc.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(newImage)
	for _, n := range w.nodes {
		if strings.HasPrefix(n.Name, "worker") {
			n.Annotations[AnnotationCurrentImage], n.Annotations[AnnotationDesiredImage] = newImage, newImage
		}
	}
	for i := 2; i < nodes; i++ {
		n := w.nodes[0].DeepCopy()
		n.Name = fmt.Sprintf("worker-%d", i)
		w.nodes = append(w.nodes, n)
	}
	if mutate != nil {
		mutate(w)
	}
	var mcObjs, kubeObjs []runtime.Object
	mcObjs = append(mcObjs, w.mosc)
	for _, b := range w.mosbs {
		mcObjs = append(mcObjs, b)
	}
	for _, p := range w.pools {
		mcObjs = append(mcObjs, p)
	}
	for _, n := range w.nodes {
		kubeObjs = append(kubeObjs, n)
	}
	before, err := os.ReadFile("../node/testdata/walkthrough-before-doca-init.txt")
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile("../node/testdata/walkthrough-enable-doca-init.txt")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCluster{kube: kubefake.NewClientset(kubeObjs...), mc: mcfgfake.NewClientset(mcObjs...), docaOn: map[string]bool{}, ovsDown: map[string]int{}}
	f.mc.Resources = []*metav1.APIResourceList{{GroupVersion: mcfgv1.GroupVersion.String(), APIResources: []metav1.APIResource{{Name: "machineosconfigs"}}}}
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.n++
		f.created++
		p.Name = fmt.Sprintf("%s%d", p.GenerateName, f.n)
		if f.silent {
			return false, nil, nil
		}
		if p.Annotations[node.AnnotationAction] == node.ActionEnableDocaInit {
			f.docaOn[p.Spec.NodeName] = true
		}
		msg := string(before)
		if f.docaOn[p.Spec.NodeName] {
			msg = string(after)
		}
		if f.ovsDown[p.Spec.NodeName] > 0 {
			f.ovsDown[p.Spec.NodeName]--
			msg = "--- mosc:rpm rc=0 ---\ndoca-openvswitch-3.3.0040-1.el9.x86_64\n--- mosc:rpm-absent rc=0 ---\n--- mosc:ovs rc=1 ---\n" +
				"ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (No such file or directory)\n"
		}
		go func(p *corev1.Pod) {
			q := p.DeepCopy()
			q.Status.Phase = corev1.PodSucceeded
			q.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: node.ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Message: msg}}}}
			// The fake clientset's watch does not replay from a resourceVersion,
			// so an update made before the checker's watch is up would be lost
			// (under load, a fixed delay is not enough): report until the pod
			// is deleted, as a kubelet keeps its status current. Errors other
			// than NotFound mean the create has not reached the tracker yet.
			created := false
			for range 400 {
				time.Sleep(25 * time.Millisecond)
				_, err := f.kube.CoreV1().Pods(q.Namespace).UpdateStatus(context.Background(), q, metav1.UpdateOptions{})
				if err == nil {
					created = true
				} else if created && apierrors.IsNotFound(err) {
					return
				}
			}
		}(p.DeepCopy()) // the tracker mutates p once the reactor returns
		return false, nil, nil
	})
	return f
}

func (f *fakeCluster) checkPodsLeft(t *testing.T) int {
	l, err := f.kube.CoreV1().Pods(node.CheckNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func (f *fakeCluster) watcher(v View, o Options) *Watcher {
	o.Pool = "worker"
	o.Verify = node.DefaultVerify
	o.CheckImage = "quay.io/test/tools:1"
	return &Watcher{Kube: kubetest.Kube(f.kube), MachineConfig: kubetest.MachineConfig(f.mc), View: v, Opts: o}
}

func TestRunVerifiesAndEnablesDocaInit(t *testing.T) {
	f := newFakeCluster(t, 3, nil)
	v := &recView{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a bound, not a timing: -race on a loaded CI machine is slow
	defer cancel()
	st, err := f.watcher(v, Options{EnableDocaInit: true, CheckParallel: 2}).Run(ctx)
	if err != nil {
		for _, e := range v.evs {
			t.Log(FormatEvent(e))
		}
		t.Fatalf("Run: %v", err)
	}
	if !st.Done() || st.Verified != 3 {
		t.Fatalf("status %s, verified %d", st.Phase, st.Verified)
	}
	passed := v.find(KindCheck, "check", CheckPassed)
	if len(passed) != 3 {
		t.Errorf("%d passed checks, want 3", len(passed))
	}
	for _, e := range passed {
		if e.Fields["docaInitEnabled"] != "true" {
			t.Errorf("%s: doca-init not enabled: %+v", e.Object, e)
		}
	}
	if n := len(v.find(KindCheck, "check", CheckEnabling)); n != 3 {
		t.Errorf("%d enabling events, want 3", n)
	}
	if f.created != 9 {
		t.Errorf("%d check pods, want 9 (verify, enable, verify per node)", f.created)
	}
	if n := f.checkPodsLeft(t); n != 0 {
		t.Errorf("%d check pods left", n)
	}
	res := v.find(KindResult, "result", "done")
	if len(res) != 1 || !strings.Contains(res[0].Message, "done: 3/3 nodes of pool worker updated and verified") {
		t.Errorf("result events %+v", res)
	}
}

func TestRunFailsOnVerificationWithoutDocaInit(t *testing.T) {
	f := newFakeCluster(t, 2, nil)
	v := &recView{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a bound, not a timing: -race under load is slow
	defer cancel()
	_, err := f.watcher(v, Options{}).Run(ctx)
	var fail *Failure
	if !errors.As(err, &fail) || fail.Phase != PhaseVerify || !strings.Contains(fail.Reason, "doca_initialized is false") {
		t.Fatalf("err = %v", err)
	}
	if n := f.checkPodsLeft(t); n != 0 {
		t.Errorf("%d check pods left", n)
	}
}

func TestRunDegradedNode(t *testing.T) {
	f := newFakeCluster(t, 2, func(w *world) {
		w.node("worker-1", map[string]string{AnnotationState: NodeDegraded, AnnotationReason: "unexpected on-disk state"})
	})
	_, err := f.watcher(&recView{}, Options{}).Run(context.Background())
	var fail *Failure
	if !errors.As(err, &fail) || fail.Object != "node/worker-1" || !strings.Contains(fail.Reason, "unexpected on-disk state") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunTimeoutAndInterruptDeleteCheckPods(t *testing.T) {
	f := newFakeCluster(t, 2, func(w *world) {
		w.node("worker-1", map[string]string{AnnotationState: NodeWorking, AnnotationCurrentImage: oldImage})
	})
	f.silent = true // check pods hang
	v := &recView{}
	_, err := f.watcher(v, Options{Timeout: 300 * time.Millisecond}).Run(context.Background())
	var te *TimeoutError
	if !errors.As(err, &te) || !strings.Contains(te.Stuck, "node worker-1 Working") || !strings.Contains(te.Stuck, "node worker-0 check running") {
		t.Fatalf("err = %v", err)
	}
	if n := f.checkPodsLeft(t); n != 0 {
		t.Errorf("after timeout: %d check pods left", n)
	}
	if len(v.find(KindPod, "action", node.ActionVerify)) != 2 {
		t.Errorf("want a created and a deleted pod event: %+v", v.find(KindPod, "", ""))
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	_, err = f.watcher(&recView{}, Options{}).Run(ctx)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v", err)
	}
	if n := f.checkPodsLeft(t); n != 0 {
		t.Errorf("after interrupt: %d check pods left", n)
	}
}

func TestRunUnknownPool(t *testing.T) {
	f := newFakeCluster(t, 2, nil)
	w := f.watcher(&recView{}, Options{})
	w.Opts.Pool = "gpu"
	if _, err := w.Run(context.Background()); err == nil || !strings.Contains(err.Error(), `machineconfigpool "gpu" not found`) {
		t.Fatalf("err = %v", err)
	}
}

func TestFetchAndStatusTable(t *testing.T) {
	f := newFakeCluster(t, 3, func(w *world) {
		w.node("worker-2", map[string]string{AnnotationState: NodeWorking, AnnotationCurrentImage: oldImage, AnnotationReason: ""})
		w.pools[1].Status = mcfgv1.MachineConfigPoolStatus{MachineCount: 3, UpdatedMachineCount: 2, ReadyMachineCount: 2, UnavailableMachineCount: 1,
			Conditions: []mcfgv1.MachineConfigPoolCondition{{Type: "Updated", Status: corev1.ConditionFalse}, {Type: "Updating", Status: corev1.ConditionTrue}}}
	})
	snap, err := Fetch(context.Background(), kubetest.Kube(f.kube), kubetest.MachineConfig(f.mc), "worker", "")
	if err != nil {
		t.Fatal(err)
	}
	st := Evaluate(snap)
	ForStatus(&st)
	if st.Phase != PhaseRollout || st.Updated != 2 || st.Total != 3 {
		t.Errorf("phase %s, updated %d/%d", st.Phase, st.Updated, st.Total)
	}
	var b strings.Builder
	if err := WriteStatusTable(&b, &st, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	golden(t, "status-table.golden", b.String())

	if _, err := Fetch(context.Background(), kubetest.Kube(f.kube), kubetest.MachineConfig(f.mc), "gpu", ""); err == nil || !strings.Contains(err.Error(), `machineconfigpool "gpu" not found`) {
		t.Errorf("unknown pool: %v", err)
	}
}

func TestRequireMOSC(t *testing.T) {
	f := newFakeCluster(t, 2, nil)
	f.mc.Resources = []*metav1.APIResourceList{{GroupVersion: mcfgv1.GroupVersion.String(), APIResources: []metav1.APIResource{{Name: "machineconfigpools"}}}}
	_, err := f.watcher(&recView{}, Options{}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "serves no machineosconfigs") || !strings.Contains(err.Error(), "TechPreviewNoUpgrade") {
		t.Fatalf("Run on a cluster without On-Cluster Layering: %v", err)
	}
	if _, err := Fetch(context.Background(), kubetest.Kube(f.kube), kubetest.MachineConfig(f.mc), "worker", ""); err == nil || !strings.Contains(err.Error(), "machineosconfigs") {
		t.Fatalf("Fetch on a 4.17-like API: %v", err)
	}
}

func TestRunRetriesWhileOVSStarts(t *testing.T) {
	f := newFakeCluster(t, 2, nil)
	f.ovsDown["worker-1"] = 1
	v := &recView{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a bound, not a timing: -race under load is slow
	defer cancel()
	st, err := f.watcher(v, Options{EnableDocaInit: true, CheckBackoff: 10 * time.Millisecond}).Run(ctx)
	if err != nil || !st.Done() {
		t.Fatalf("Run: %v", err)
	}
	retried := v.find(KindCheck, "check", CheckError)
	if len(retried) != 1 || retried[0].Object != "node/worker-1" || !strings.Contains(retried[0].Message, "database connection failed") {
		t.Errorf("retry events %+v", retried)
	}

	// One that never comes up fails after the last attempt, naming the error.
	f = newFakeCluster(t, 2, nil)
	f.ovsDown["worker-0"] = 100
	_, err = f.watcher(&recView{}, Options{EnableDocaInit: true, CheckBackoff: 10 * time.Millisecond}).Run(ctx)
	var fail *Failure
	if !errors.As(err, &fail) || fail.Object != "node/worker-0" || !strings.Contains(fail.Reason, "database connection failed") {
		t.Fatalf("err = %v", err)
	}
}

// A forbidden LIST used to leave the informer retrying until --timeout; a
// forbidden check pod was retried as if the node were at fault.
func TestRunFailsFastOnForbidden(t *testing.T) {
	f := newFakeCluster(t, 2, nil)
	f.mc.PrependReactor("list", "machineosbuilds", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(mcfgv1.Resource("machineosbuilds"), "", errors.New(`User "bob" cannot list resource "machineosbuilds"`))
	})
	f.kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		r.Status.Allowed = r.Spec.ResourceAttributes.Resource != "machineosbuilds"
		return true, r, nil
	})
	v := &recView{}
	start := time.Now()
	_, err := f.watcher(v, Options{Timeout: time.Minute, ForbiddenGrace: time.Millisecond}).Run(context.Background())
	var fe *ForbiddenError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "list/watch machineosbuilds.machineconfiguration.openshift.io") || !strings.Contains(err.Error(), `User "bob" cannot list`) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("took %s: the watch waited for the timeout", time.Since(start))
	}

	f = newFakeCluster(t, 2, nil)
	f.kube.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "", errors.New("unable to validate against any security context constraint"))
	})
	v = &recView{}
	_, err = f.watcher(v, Options{Timeout: time.Minute, CheckBackoff: 10 * time.Millisecond}).Run(context.Background())
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "run a check pod on node worker-") || !strings.Contains(err.Error(), "security context constraint") {
		t.Fatalf("err = %v", err)
	}
	if res := v.find(KindResult, "result", "forbidden"); len(res) != 1 {
		t.Errorf("result events %+v", v.find(KindResult, "", ""))
	}
}

// TestRunNamesBuildCauseWhenPoolReportsFirst: the pool's ImageBuildDegraded
// names the followed build while the watch's copy of the build still says
// Building (the two kinds come through separate watches). The failure is
// the build's, never the pool's: found by reading the build (the API server
// has its Failed status first), or once the build's own update arrives, or,
// when neither happens within the grace, explained from the build as it is.
func TestRunNamesBuildCauseWhenPoolReportsFirst(t *testing.T) {
	poolFirst := func(w *world) {
		w.build("Building", t0)
		w.mosc.Status.CurrentImagePullSpec = ""
		w.pools[1].Status.Conditions = []mcfgv1.MachineConfigPoolCondition{
			{Type: "Degraded", Status: corev1.ConditionTrue, Message: "Custom OS image build failed"},
			{Type: "ImageBuildDegraded", Status: corev1.ConditionTrue, Reason: "BuildFailed",
				Message: "Failed to build OS image for pool worker (MachineOSBuild: " + mosbName + "): Failed: Failed: Build Failed"}}
	}
	failed := func() *mcfgv1.MachineOSBuild {
		w := newWorld()
		w.build("Failed", t0)
		return w.mosbs[0]
	}
	for _, tc := range []struct {
		name string
		// how the build's Failed status shows: "get" (a direct read has it,
		// the informer not), "watch" (its update arrives later), "never"
		arrives   string
		waitEv    bool // the wait is announced
		reasonHas string
	}{
		{"read from the API server", "get", false, "Failed: Build Failed: exit status 1"},
		{"update arrives later", "watch", true, "Failed: Build Failed: exit status 1"},
		{"never within the grace", "never", true, "its own status still Building after 1.5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCluster(t, 2, poolFirst)
			switch tc.arrives {
			case "get":
				f.mc.PrependReactor("get", "machineosbuilds", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, failed(), nil
				})
			case "watch":
				time.AfterFunc(1500*time.Millisecond, func() {
					b := failed()
					cur, err := f.mc.MachineconfigurationV1().MachineOSBuilds().Get(context.Background(), mosbName, metav1.GetOptions{})
					if err != nil {
						t.Error(err)
						return
					}
					b.ResourceVersion = cur.ResourceVersion
					if _, err := f.mc.MachineconfigurationV1().MachineOSBuilds().UpdateStatus(context.Background(), b, metav1.UpdateOptions{}); err != nil {
						t.Error(err)
					}
				})
			}
			v := &recView{}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a bound, not a timing
			defer cancel()
			grace := time.Minute
			if tc.arrives == "never" {
				grace = 1500 * time.Millisecond
			}
			_, err := f.watcher(v, Options{BuildStatusGrace: grace}).Run(ctx)
			var fail *Failure
			if !errors.As(err, &fail) {
				t.Fatalf("err = %v", err)
			}
			if fail.Phase != PhaseBuild || fail.Object != "machineosbuild/"+mosbName || !strings.Contains(fail.Reason, tc.reasonHas) {
				t.Errorf("failure %+v, want the build's, reason ~ %q", *fail, tc.reasonHas)
			}
			if fail.Cause == nil || fail.Cause.ID == "" {
				t.Errorf("no cause: %+v", *fail)
			}
			if len(v.find(KindBuild, "cause", fail.Cause.ID)) != 1 {
				t.Errorf("no build event naming the cause")
			}
			if got := len(v.find(KindBuild, "poolReports", "ImageBuildDegraded")) == 1; got != tc.waitEv {
				t.Errorf("wait announced: %t, want %t", got, tc.waitEv)
			}
			res := v.find(KindResult, "result", "failed")
			if len(res) != 1 || res[0].Object != "machineosbuild/"+mosbName {
				t.Errorf("result %+v", res)
			}
			if t.Failed() {
				for _, e := range v.evs {
					t.Log(FormatEvent(e))
				}
			}
		})
	}
}
