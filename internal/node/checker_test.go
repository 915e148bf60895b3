package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
)

// fakeNode plays the kubelet for check pods on a fake clientset: it
// terminates each created pod with the termination message answer(pod).
type fakeNode struct {
	kube    *fake.Clientset
	mu      sync.Mutex
	created []*corev1.Pod
	n       int
}

func newFakeNode(t *testing.T, answer func(p *corev1.Pod) (msg string, ok bool)) *fakeNode {
	f := &fakeNode{kube: fake.NewClientset()}
	// The fake tracker does not implement generateName.
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		f.mu.Lock()
		f.n++
		p.Name = fmt.Sprintf("%s%d", p.GenerateName, f.n)
		f.created = append(f.created, p.DeepCopy())
		f.mu.Unlock()
		if msg, ok := answer(p); ok {
			go func(p *corev1.Pod) {
				q := p.DeepCopy()
				q.Status.Phase = corev1.PodSucceeded
				q.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Message: msg}}}}
				// The fake watch does not replay from a resourceVersion, so one
				// update made before the checker's watch is up would be lost
				// (under load, 50 ms is not enough): report until the pod is
				// deleted, as a kubelet keeps its status current.
				// NotFound before the first success: the create has not reached
				// the tracker yet.
				pods := f.kube.CoreV1().Pods(q.Namespace)
				created := false
				for range 400 {
					time.Sleep(25 * time.Millisecond)
					_, err := pods.UpdateStatus(context.Background(), q, metav1.UpdateOptions{})
					if err == nil {
						created = true
					} else if created && apierrors.IsNotFound(err) {
						return
					}
				}
			}(p.DeepCopy()) // the tracker mutates p once the reactor returns
		}
		return false, nil, nil
	})
	return f
}

func (f *fakeNode) remaining(t *testing.T) int {
	l, err := f.kube.CoreV1().Pods(CheckNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func TestCheckNodeEnablesDocaInit(t *testing.T) {
	before, after := readFixture(t, "walkthrough-before-doca-init.txt"), readFixture(t, "walkthrough-enable-doca-init.txt")
	enabled := false
	var mu sync.Mutex
	f := newFakeNode(t, func(p *corev1.Pod) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if p.Annotations[AnnotationAction] == ActionEnableDocaInit {
			enabled = true
		}
		if enabled {
			return after, true
		}
		return before, true
	})
	var events []string
	c := &Checker{Kube: kubetest.Kube(f.kube), OnPod: func(node, pod, action, what string) { events = append(events, action+" "+what) }}
	out, err := c.CheckNode(context.Background(), "n1", DefaultVerify, true)
	if err != nil {
		t.Fatal(err)
	}
	if !out.OK() || !out.Enabled || !out.Result.DocaInitialized {
		t.Errorf("outcome = %+v", out)
	}
	want := "verify created,verify deleted,enable-doca-init created,enable-doca-init deleted,verify created,verify deleted"
	if got := strings.Join(events, ","); got != want {
		t.Errorf("pods:\n got %s\nwant %s", got, want)
	}
	if n := f.remaining(t); n != 0 {
		t.Errorf("%d check pods remain", n)
	}

	// Without --enable-doca-init the problem is reported, nothing is changed.
	enabled = false
	out, err = (&Checker{Kube: kubetest.Kube(f.kube)}).CheckNode(context.Background(), "n2", DefaultVerify, false)
	if err != nil {
		t.Fatal(err)
	}
	if out.OK() || out.Enabled || len(out.Problems) != 1 || out.Problems[0].Check != "doca-initialized" {
		t.Errorf("outcome = %+v", out)
	}
}

func TestRunDeletesPodOnCancelAndTimeout(t *testing.T) {
	f := newFakeNode(t, func(*corev1.Pod) (string, bool) { return "", false }) // never finishes

	c := &Checker{Kube: kubetest.Kube(f.kube), PodTimeout: 50 * time.Millisecond}
	_, err := c.Run(context.Background(), "n1", ActionVerify, DefaultVerify)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 50ms") || !strings.Contains(err.Error(), "node n1") {
		t.Errorf("timeout err = %v", err)
	}
	if n := f.remaining(t); n != 0 {
		t.Errorf("after timeout: %d check pods remain", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(30 * time.Millisecond); cancel() }()
	_, err = (&Checker{Kube: kubetest.Kube(f.kube)}).Run(ctx, "n1", ActionVerify, DefaultVerify)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancel err = %v", err)
	}
	if n := f.remaining(t); n != 0 {
		t.Errorf("after cancel: %d check pods remain", n)
	}
}

func TestRunImagePullFailsFast(t *testing.T) {
	f := newFakeNode(t, func(*corev1.Pod) (string, bool) { return "", false })
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}}}
		return false, nil, nil
	})
	_, err := (&Checker{Kube: kubetest.Kube(f.kube)}).Run(context.Background(), "n1", ActionVerify, DefaultVerify)
	if err == nil || !strings.Contains(err.Error(), "cannot start: ImagePullBackOff") {
		t.Errorf("err = %v", err)
	}
	if n := f.remaining(t); n != 0 {
		t.Errorf("%d check pods remain", n)
	}
}
