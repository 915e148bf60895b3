package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mosc-dev/mosc/internal/profile"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/mosc-dev/mosc/internal/kube"
)

// DefaultPodTimeout bounds one check pod: pulling the image on a fresh node
// plus restarting openvswitch takes well under this.
const DefaultPodTimeout = 5 * time.Minute

// Checker runs check pods. The zero value is not usable: set Kube.
type Checker struct {
	Kube      kube.Interface
	Image     string // "" = DefaultImage
	Namespace string // "" = CheckNamespace
	// PodTimeout bounds each pod from creation to termination.
	PodTimeout time.Duration
	// RunID, when set, labels every pod (LabelRun) so DeleteRun can sweep
	// them all at the end.
	RunID string
	// OnPod, when set, is told about each pod created and deleted (for
	// progress output).
	OnPod func(node, pod, action, what string)

	// enableMu makes enabling doca-init go one node at a time: restarting
	// openvswitch briefly cuts the node's network.
	enableMu sync.Mutex
}

// Outcome of checking one node, possibly after enabling doca-init.
type Outcome struct {
	Node     string    `json:"node"`
	Result   *Result   `json:"result,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
	// Enabled is true when doca-init was set on the node by this check.
	Enabled bool `json:"enabled,omitempty"`
}

// OK says the node passed.
func (o *Outcome) OK() bool { return o.Result != nil && len(o.Problems) == 0 }

// CheckNode verifies a node and, when enable is true and doca-init is the
// missing piece, enables it (one node at a time across the Checker) and
// verifies again.
func (c *Checker) CheckNode(ctx context.Context, nodeName string, v profile.VerifyPlan, enable bool) (*Outcome, error) {
	r, err := c.Run(ctx, nodeName, ActionVerify, v)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Node: nodeName, Result: r, Problems: Verify(r, v)}
	if len(out.Problems) == 0 || !enable || !NeedsDocaInit(r, v) {
		return out, nil
	}
	c.enableMu.Lock()
	defer c.enableMu.Unlock()
	if _, err := c.Run(ctx, nodeName, ActionEnableDocaInit, v); err != nil {
		return nil, err
	}
	r, err = c.Run(ctx, nodeName, ActionVerify, v)
	if err != nil {
		return nil, err
	}
	return &Outcome{Node: nodeName, Result: r, Problems: Verify(r, v), Enabled: true}, nil
}

// Run creates one check pod on the node, waits (by watch) for it to
// terminate, parses its termination message and always deletes the pod, also
// when ctx is cancelled (Ctrl-C) or times out.
func (c *Checker) Run(ctx context.Context, nodeName, action string, v profile.VerifyPlan) (res *Result, err error) {
	pod, err := BuildPod(PodOptions{Node: nodeName, Action: action, Image: c.Image, Namespace: c.Namespace, Verify: v})
	if err != nil {
		return nil, err
	}
	return c.runPod(ctx, nodeName, action, pod)
}

// runPod runs a pod BuildPod made (Run, ClearNode).
func (c *Checker) runPod(ctx context.Context, nodeName, action string, pod *corev1.Pod) (res *Result, err error) {
	if c.Image != "" {
		pod.Spec.Containers[0].Image = c.Image
	}
	if c.Namespace != "" {
		pod.Namespace = c.Namespace
	}
	timeout := c.PodTimeout
	if timeout <= 0 {
		timeout = DefaultPodTimeout
	}
	if c.RunID != "" {
		pod.Labels[LabelRun] = c.RunID
	}
	pods := c.Kube.CoreV1().Pods(pod.Namespace)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("node %s: %w", nodeName, err)
	}
	// Not ctx: a create cancelled in flight may still be carried out by the
	// server, and then only its answer tells which pod to delete.
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	created, err := pods.Create(cctx, pod, metav1.CreateOptions{})
	ccancel()
	if err != nil {
		return nil, fmt.Errorf("node %s: creating check pod in %s: %w", nodeName, pod.Namespace, err)
	}
	c.notify(nodeName, created.Name, action, "created")
	defer func() {
		// A fresh context: ctx may be the cancelled one.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		derr := DeletePod(dctx, c.Kube, created.Namespace, created.Name)
		c.notify(nodeName, created.Name, action, "deleted")
		if derr != nil && err == nil {
			err = fmt.Errorf("node %s: deleting check pod %s/%s: %w", nodeName, created.Namespace, created.Name, derr)
		}
	}()

	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	final, err := waitTerminated(wctx, c.Kube, created)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("node %s: check pod %s/%s: %w", nodeName, created.Namespace, created.Name, context.Cause(ctx))
		}
		if wctx.Err() != nil {
			return nil, fmt.Errorf("node %s: check pod %s/%s did not finish within %s (last phase %s)", nodeName, created.Namespace, created.Name, timeout, lastPhase(final, created))
		}
		return nil, fmt.Errorf("node %s: check pod %s/%s: %w", nodeName, created.Namespace, created.Name, err)
	}
	msg, ok := terminationMessage(final)
	if !ok {
		return nil, fmt.Errorf("node %s: check pod %s/%s ended (%s) without a termination message from container %q", nodeName, created.Namespace, created.Name, final.Status.Phase, ContainerName)
	}
	if secs, err := SplitSections(msg); err == nil && len(secs) == 1 && secs[0].Name == SectionLog {
		// Before the deferred delete: a deleted pod's log is gone.
		if msg, err = PodLog(wctx, c.Kube, created.Namespace, created.Name, ContainerName); err != nil {
			return nil, fmt.Errorf("node %s: check pod %s/%s: reading its log: %w", nodeName, created.Namespace, created.Name, err)
		}
	}
	r, err := ParseMessage(nodeName, msg)
	if err != nil {
		return nil, err
	}
	r.Action = action
	return r, nil
}

func (c *Checker) notify(node, pod, action, what string) {
	if c.OnPod != nil {
		c.OnPod(node, pod, action, what)
	}
}

// DeletePod deletes a check pod at once; a pod already gone is fine.
func DeletePod(ctx context.Context, kube kube.Interface, ns, name string) error {
	var zero int64
	bg := metav1.DeletePropagationBackground
	err := kube.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero, PropagationPolicy: &bg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// DeleteRun deletes every check pod of a run: the sweep after the per-pod
// deletes, for a pod whose create answer was lost.
func DeleteRun(ctx context.Context, kube kube.Interface, ns, runID string) error {
	var zero int64
	bg := metav1.DeletePropagationBackground
	return kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero, PropagationPolicy: &bg},
		metav1.ListOptions{LabelSelector: LabelRun + "=" + runID})
}

// MaxLogBytes bounds a pod log read: a busy node's flow dump is a few MB.
const MaxLogBytes = 32 << 20

// PodLog reads a container's whole log (up to MaxLogBytes).
func PodLog(ctx context.Context, kube kube.Interface, ns, pod, container string) (string, error) {
	limit := int64(MaxLogBytes)
	b, err := kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, LimitBytes: &limit}).DoRaw(ctx)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// waitTerminated watches the pod until its check container has terminated.
func waitTerminated(ctx context.Context, kube kube.Interface, pod *corev1.Pod) (*corev1.Pod, error) {
	return WaitPod(ctx, kube, pod, func(p *corev1.Pod) bool {
		if _, ok := terminatedState(p); ok {
			return true
		}
		return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
	})
}

// WaitPod watches the pod (list+watch, resuming after dropped watches) until
// done says so. A pod deleted meanwhile, or one whose container cannot start
// (image pull, bad config), is an error.
func WaitPod(ctx context.Context, kube kube.Interface, pod *corev1.Pod, done func(*corev1.Pod) bool) (*corev1.Pod, error) {
	sel := fields.OneTermEqualSelector("metadata.name", pod.Name).String()
	pods := kube.CoreV1().Pods(pod.Namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return pods.Watch(ctx, o)
		},
	}
	last := pod
	var failure error
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || p.Name != pod.Name {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("deleted before it finished")
		}
		last = p
		if done(p) {
			return true, nil
		}
		if reason, bad := stuckReason(p); bad {
			failure = fmt.Errorf("cannot start: %s", reason)
			return true, nil
		}
		return false, nil
	})
	if failure != nil {
		return last, failure
	}
	return last, err
}

// stuckReason reports container states that will not resolve by waiting.
func stuckReason(p *corev1.Pod) (string, bool) {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError":
				return fmt.Sprintf("%s: %s", w.Reason, w.Message), true
			}
		}
	}
	return "", false
}

func terminatedState(p *corev1.Pod) (*corev1.ContainerStateTerminated, bool) {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == ContainerName && cs.State.Terminated != nil {
			return cs.State.Terminated, true
		}
	}
	return nil, false
}

func terminationMessage(p *corev1.Pod) (string, bool) {
	t, ok := terminatedState(p)
	if !ok || t.Message == "" {
		return "", false
	}
	return t.Message, true
}

func lastPhase(p, fallback *corev1.Pod) string {
	if p == nil {
		p = fallback
	}
	if p.Status.Phase == "" {
		return "Pending (not yet started on the node)"
	}
	return string(p.Status.Phase)
}

var imageStreams = schema.GroupVersionResource{Group: "image.openshift.io", Version: "v1", Resource: "imagestreams"}

// ResolveImage picks the check pod image as `oc debug node` does: the
// cluster's own `openshift/tools:latest` image stream (its image is in the
// release payload, so the global pull secret already covers it), else
// DefaultImage. dyn may be nil.
func ResolveImage(ctx context.Context, dyn dynamic.Interface) string {
	if dyn == nil {
		return DefaultImage
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	is, err := dyn.Resource(imageStreams).Namespace("openshift").Get(ctx, "tools", metav1.GetOptions{})
	if err != nil {
		return DefaultImage
	}
	tags, _, _ := unstructured.NestedSlice(is.Object, "status", "tags")
	for _, t := range tags {
		tm, ok := t.(map[string]any)
		if !ok || tm["tag"] != "latest" {
			continue
		}
		items, _, _ := unstructured.NestedSlice(tm, "items")
		if len(items) == 0 {
			continue
		}
		if im, ok := items[0].(map[string]any); ok {
			if ref, ok := im["dockerImageReference"].(string); ok && ref != "" {
				return ref
			}
		}
	}
	return DefaultImage
}
