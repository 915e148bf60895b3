package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func selectorMatches(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return s.Matches(labels.Set(l))
}

// target is what every node of a pool should run.
type target struct {
	config string
	image  string // "" = the base image (no layering)
	// hold is set while a layered pool waits for its build: the MCO rolls out
	// a new rendered config only together with the image built from it.
	hold bool
}

// reconcilePool renders the pool, drives its build and rolls nodes forward.
// It returns how long to wait before the next step is due.
func (s *Simulator) reconcilePool(ctx context.Context, name string) (time.Duration, error) {
	pool, err := s.pools.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	changed, renderIn, err := s.render(ctx, pool)
	if err != nil || changed {
		return 0, err // the pool update comes back as an event
	}
	tgt, buildCond, err := s.reconcileBuild(ctx, pool)
	if err != nil {
		return 0, err
	}
	nodes, err := s.nodes.List(labels.Everything())
	if err != nil {
		return 0, err
	}
	var members []*corev1.Node
	for _, n := range nodes {
		if selectorMatches(pool.Spec.NodeSelector, n.Labels) {
			members = append(members, n)
		}
	}
	sort.Slice(members, func(i, j int) bool { return nodeLess(members[i].Name, members[j].Name) })
	after, err := s.rollout(ctx, pool, members, tgt)
	if err != nil {
		return 0, err
	}
	if renderIn > 0 && (after == 0 || renderIn < after) {
		after = renderIn
	}
	return after, s.updatePoolStatus(ctx, pool, members, tgt, buildCond)
}

// nodeLess orders worker-2 before worker-10, as people read them.
func nodeLess(a, b string) bool {
	ia, ib := strings.LastIndexByte(a, '-'), strings.LastIndexByte(b, '-')
	if ia > 0 && ib > 0 && a[:ia] == b[:ib] {
		na, ea := strconv.Atoi(a[ia+1:])
		nb, eb := strconv.Atoi(b[ib+1:])
		if ea == nil && eb == nil {
			return na < nb
		}
	}
	return a < b
}

// render plays the render controller: a pool's spec.configuration names the
// rendered MachineConfig of its current source MachineConfigs. Like the real
// one it renders renderDelay after the MachineConfigs change, not at once
// (openshift/machine-config-operator, release-4.16 … release-4.22,
// pkg/controller/render/render_controller.go: renderDelay = 5 * time.Second,
// enqueueDefault → enqueueAfter(pool, renderDelay)), while the node and build
// controllers act on a MachineOSConfig change at once: so deleting a
// MachineOSConfig and then a MachineConfig rolls every node twice unless the
// pool is paused in between. It returns how long until a pending render is due.
func (s *Simulator) render(ctx context.Context, pool *mcfgv1.MachineConfigPool) (bool, time.Duration, error) {
	all, err := s.mcs.List(labels.Everything())
	if err != nil {
		return false, 0, err
	}
	sources := SourceConfigs(pool, all)
	if len(sources) == 0 {
		return false, 0, nil
	}
	base, ext, rel, err := s.osImages(ctx)
	if err != nil {
		return false, 0, err
	}
	want := RenderedConfigName(pool.Name, sources, base, ext)
	s.mu.Lock()
	if pool.Spec.Configuration.Name == want {
		delete(s.renderPending, pool.Name)
		s.mu.Unlock()
		return false, 0, s.syncReleaseAnnotation(ctx, want, rel)
	}
	delay := s.opts.RenderDelay
	if delay == 0 {
		delay = DefaultRenderDelay
	}
	since, ok := s.renderPending[pool.Name]
	if !ok {
		since = time.Now()
		s.renderPending[pool.Name] = since
	}
	left := delay - time.Since(since)
	if left > 0 {
		s.mu.Unlock()
		return false, left, nil
	}
	delete(s.renderPending, pool.Name)
	s.mu.Unlock()
	sort.Slice(sources, func(i, j int) bool { return sources[i].Name < sources[j].Name })
	var refs []corev1.ObjectReference
	for _, mc := range sources {
		refs = append(refs, corev1.ObjectReference{Kind: "MachineConfig", APIVersion: "machineconfiguration.openshift.io/v1", Name: mc.Name})
	}
	// Nobody here interprets a rendered config's content; it carries the
	// last source's spec and names all sources in an annotation (the node
	// agent reads them to see whether doca-init is set at boot).
	last := sources[len(sources)-1].Spec
	rmc := &mcfgv1.MachineConfig{
		ObjectMeta: metav1.ObjectMeta{Name: want, Annotations: map[string]string{
			"machineconfiguration.openshift.io/generated-by-controller-version": "e2e-sim",
			"sim.mosc.dev/sources": mustJSON(refNames(refs)),
		}},
		Spec: *last.DeepCopy(),
	}
	// The render controller stamps the release and its OS images (from the
	// controller config; here the osimageurl ConfigMap the harness seeds).
	if cv, err := s.cvs.Get("version"); err == nil && cv.Status.Desired.Version != "" {
		rmc.Annotations[AnnotationReleaseImageVersion] = cv.Status.Desired.Version
	}
	if rel != "" {
		rmc.Annotations[AnnotationReleaseImageVersion] = rel
	}
	if base != "" {
		rmc.Spec.OSImageURL, rmc.Spec.BaseOSExtensionsContainerImage = base, ext
	}
	if _, err := s.c.MachineConfig.MachineconfigurationV1().MachineConfigs().Create(ctx, rmc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return false, 0, fmt.Errorf("create rendered MachineConfig %s: %w", want, err)
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"configuration": mcfgv1.MachineConfigPoolStatusConfiguration{
		ObjectReference: corev1.ObjectReference{Kind: "MachineConfig", APIVersion: "machineconfiguration.openshift.io/v1", Name: want},
		Source:          refs,
	}}})
	if _, err := s.c.MachineConfig.MachineconfigurationV1().MachineConfigPools().Patch(ctx, pool.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return false, 0, fmt.Errorf("update pool %s configuration: %w", pool.Name, err)
	}
	s.opts.Logf("sim: pool %s rendered %s", pool.Name, want)
	return true, 0, nil
}

func refNames(refs []corev1.ObjectReference) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// maxUnavailable resolves spec.maxUnavailable (default 1, at least 1).
func maxUnavailable(pool *mcfgv1.MachineConfigPool, n int) int {
	mu := intstr.FromInt32(1)
	if pool.Spec.MaxUnavailable != nil {
		mu = *pool.Spec.MaxUnavailable
	}
	v, err := intstr.GetScaledValueFromIntOrPercent(&mu, n, false)
	if err != nil || v < 1 {
		v = 1
	}
	return v
}

type nodeView struct {
	n                                       *corev1.Node
	current, desired, state, curImg, desImg string
}

func view(n *corev1.Node) nodeView {
	a := n.Annotations
	return nodeView{n: n, current: a[AnnotationCurrentConfig], desired: a[AnnotationDesiredConfig], state: a[AnnotationState],
		curImg: a[AnnotationCurrentImage], desImg: a[AnnotationDesiredImage]}
}

func (v nodeView) updated(t target) bool {
	return v.current == t.config && v.desired == t.config && v.state == StateDone && v.curImg == t.image && v.desImg == t.image
}

func (v nodeView) inProgress() bool {
	return v.state == StateWorking || v.state == StateRebooting || (v.state == StateDone && (v.current != v.desired || v.curImg != v.desImg))
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// rollout moves nodes one state at a time, at most maxUnavailable at once.
func (s *Simulator) rollout(ctx context.Context, pool *mcfgv1.MachineConfigPool, members []*corev1.Node, t target) (time.Duration, error) {
	f := s.getFaults()
	now := time.Now()
	var wait time.Duration
	due := func(n string) bool {
		s.mu.Lock()
		at, ok := s.steps[n]
		if !ok {
			at = now
			s.steps[n] = now
		}
		s.mu.Unlock()
		if left := f.NodeStep - now.Sub(at); left > 0 {
			if wait == 0 || left < wait {
				wait = left
			}
			return false
		}
		return true
	}
	// Node writes of one step go out in parallel, as every node's MCD acts
	// on its own; a 1000-node pool moves 100 nodes at a time at 10%.
	var jobs []func() error
	unavailable := 0
	for _, n := range members {
		v := view(n)
		if v.inProgress() || v.state == StateDegraded || v.state == "Unreconcilable" || n.Spec.Unschedulable || !nodeReady(n) {
			unavailable++
		}
	}
	stranded := s.strandedRegistry(ctx, members)
	for _, n := range members {
		v := view(n)
		switch {
		case v.state == StateWorking && n.Name == f.StuckNode:
			// stays Working: the MCD is stuck (e.g. a drain that never ends)
		case v.state == StateWorking && n.Name == f.DegradeNode:
			if due(n.Name) {
				reason := f.DegradeReason
				if reason == "" {
					reason = fmt.Sprintf("failed to update OS to %s: error running rpm-ostree rebase: exit status 1", v.desImg)
				}
				jobs = append(jobs, func() error { return s.setNodeState(ctx, pool, n, StateDegraded, reason, nil, nil) })
			}
		case v.state == StateWorking && stranded(n, v.desImg) != "":
			// Drained, and the registry's node-local volume is here (registrystorage.go).
			if due(n.Name) {
				reason := stranded(n, v.desImg)
				jobs = append(jobs, func() error { return s.setNodeState(ctx, pool, n, StateDegraded, reason, nil, nil) })
			}
		case v.state == StateDegraded && n.Name != f.DegradeNode && v.desired != "" && stranded(n, v.desImg) == "":
			// The MCD retries a degraded update; with the fault gone it proceeds.
			if due(n.Name) {
				jobs = append(jobs, func() error { return s.setNodeState(ctx, pool, n, StateWorking, "", nil, nil) })
			}
		case v.state == StateDone && (v.current != v.desired || v.curImg != v.desImg):
			// Desired changed under a Done node (e.g. an admin cleared a
			// Degraded state): the MCD starts the update.
			if due(n.Name) {
				jobs = append(jobs, func() error { return s.setNodeState(ctx, pool, n, StateWorking, "", nil, nil) })
			}
		case v.state == StateWorking:
			if due(n.Name) {
				jobs = append(jobs, func() error { return s.setNodeState(ctx, pool, n, StateRebooting, "", nil, boolp(false)) })
			}
		case v.state == StateRebooting:
			if due(n.Name) {
				extra := map[string]*string{AnnotationCurrentConfig: &v.desired, AnnotationCurrentImage: strp(v.desImg)}
				os, docaInit := s.osAfterReboot(pool, v.desImg, v.desired)
				extra[AnnotationSimOS] = &os
				if docaInit {
					extra[AnnotationSimDocaInit] = strp("true")
				}
				jobs = append(jobs, func() error { return s.setNodeState(ctx, pool, n, StateDone, "", extra, boolp(true)) })
			}
		}
	}
	if err := runParallel(ctx, jobs); err != nil {
		return 0, err
	}
	jobs = nil
	if pool.Spec.Paused || t.hold {
		return wait, nil
	}
	limit := maxUnavailable(pool, len(members))
	for _, n := range members {
		if unavailable >= limit {
			break
		}
		v := view(n)
		if v.updated(t) || v.inProgress() || v.state == StateDegraded {
			continue
		}
		if v.desired == t.config && v.desImg == t.image && v.state != StateDone {
			continue
		}
		extra := map[string]*string{AnnotationDesiredConfig: &t.config, AnnotationDesiredImage: strp(t.image)}
		jobs = append(jobs, func() error { return s.setNodeState(ctx, pool, n, StateWorking, "", extra, nil) })
		unavailable++
		if f.NodeStep > 0 && (wait == 0 || f.NodeStep < wait) {
			wait = f.NodeStep
		}
	}
	return wait, runParallel(ctx, jobs)
}

func boolp(b bool) *bool { return &b }

// strp returns nil for "" so the annotation is removed (base image).
func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// setNodeState writes the MCD's annotations (a merge patch, like the daemon),
// cordons during the update, flips Ready around the reboot, and mirrors the
// state in the node's MachineConfigNode.
func (s *Simulator) setNodeState(ctx context.Context, pool *mcfgv1.MachineConfigPool, n *corev1.Node, state, reason string, extra map[string]*string, ready *bool) error {
	ann := map[string]any{AnnotationState: state, AnnotationReason: reason}
	for k, v := range extra {
		if v == nil {
			ann[k] = nil
		} else {
			ann[k] = *v
		}
	}
	patch := map[string]any{"metadata": map[string]any{"annotations": ann}}
	switch state {
	case StateWorking:
		patch["spec"] = map[string]any{"unschedulable": true}
	case StateDone:
		patch["spec"] = map[string]any{"unschedulable": nil}
	}
	b, _ := json.Marshal(patch)
	updated, err := s.c.Kube.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, b, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("node %s → %s: %w", n.Name, state, err)
	}
	if ready != nil {
		if err := s.setReady(ctx, updated, *ready); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.steps[n.Name] = time.Now()
	s.mu.Unlock()
	s.opts.Logf("sim: node %s %s %s", n.Name, state, reason)
	v := view(updated)
	return s.updateMCN(ctx, pool.Name, n.Name, v.current, v.desired, state, reason)
}

func (s *Simulator) setReady(ctx context.Context, n *corev1.Node, ready bool) error {
	now := metav1.Now()
	cond := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
	bootID := n.Status.NodeInfo.BootID
	if !ready {
		cond.Status, cond.Reason, cond.Message = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
	} else {
		// A new boot ID is what a real reboot leaves behind.
		k := 0
		fmt.Sscanf(bootID, "boot-%d", &k)
		bootID = fmt.Sprintf("boot-%d", k+1)
	}
	patch := map[string]any{"status": map[string]any{
		"conditions": []corev1.NodeCondition{cond},
		"nodeInfo":   map[string]any{"bootID": bootID},
	}}
	b, _ := json.Marshal(patch)
	_, err := s.c.Kube.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, b, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("node %s Ready=%v: %w", n.Name, ready, err)
	}
	return nil
}

// updateMCN mirrors a node's state in its MachineConfigNode with merge
// patches computed from the informer's copy (no read before write).
func (s *Simulator) updateMCN(ctx context.Context, pool, name, current, desired, state, reason string) error {
	mcns := s.c.MachineConfig.MachineconfigurationV1().MachineConfigNodes()
	mcn, err := s.mcns.Get(name)
	if apierrors.IsNotFound(err) {
		mcn, err = mcns.Create(ctx, &mcfgv1.MachineConfigNode{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: mcfgv1.MachineConfigNodeSpec{
			Node: mcfgv1.MCOObjectReference{Name: name}, Pool: mcfgv1.MCOObjectReference{Name: pool},
			ConfigVersion: mcfgv1.MachineConfigNodeSpecMachineConfigVersion{Desired: desired}}}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			mcn, err = mcns.Get(ctx, name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("MachineConfigNode %s: %w", name, err)
	}
	mcn = mcn.DeepCopy()
	if mcn.Spec.ConfigVersion.Desired != desired && desired != "" {
		patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"configVersion": map[string]any{"desired": desired}}})
		if mcn, err = mcns.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("MachineConfigNode %s: %w", name, err)
		}
	}
	st := MCNStatus(mcn, current, desired, state, reason, time.Now())
	patch, _ := json.Marshal(map[string]any{"status": st})
	if _, err := mcns.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("MachineConfigNode %s status: %w", name, err)
	}
	return nil
}

// MCNStatus is the MachineConfigNode status the MCD reports for a node state.
func MCNStatus(mcn *mcfgv1.MachineConfigNode, current, desired, state, reason string, now time.Time) mcfgv1.MachineConfigNodeStatus {
	st := mcn.Status.DeepCopy()
	st.ObservedGeneration = mcn.Generation
	if current == "" {
		current = desired
	}
	st.ConfigVersion = &mcfgv1.MachineConfigNodeStatusMachineConfigVersion{Current: current, Desired: desired}
	type c struct {
		t      mcfgv1.StateProgress
		status bool
		reason string
		msg    string
	}
	var conds []c
	working, rebooting, done, degraded := state == StateWorking, state == StateRebooting, state == StateDone, state == StateDegraded
	conds = append(conds,
		c{mcfgv1.MachineConfigNodeUpdatePrepared, working, "NodeUpdatePrepared", "Update is being prepared"},
		c{mcfgv1.MachineConfigNodeUpdateExecuted, rebooting, "NodeUpdateExecuted", "Update executed: OS image and files applied"},
		c{mcfgv1.MachineConfigNodeUpdatePostActionComplete, false, "NodeUpdatePostActionComplete", "Post-update action completed"},
		c{mcfgv1.MachineConfigNodeUpdateComplete, false, "NodeUpdateComplete", "Update complete"},
		c{mcfgv1.MachineConfigNodeUpdated, done && current == desired, "NodeUpdated", "Node " + mcn.Name + " updated to " + desired},
		c{mcfgv1.MachineConfigNodeUpdateDrained, working, "NodeDrained", "Node drained"},
		c{mcfgv1.MachineConfigNodeUpdateCordoned, working || rebooting, "NodeCordoned", "Node cordoned"},
		c{mcfgv1.MachineConfigNodeUpdateRebooted, rebooting, "NodeRebooting", "Node is rebooting"},
		c{mcfgv1.MachineConfigNodeNodeDegraded, degraded, "NodeDegraded", reason},
	)
	for _, x := range conds {
		s := metav1.ConditionFalse
		if x.status {
			s = metav1.ConditionTrue
		}
		msg := x.msg
		if msg == "" {
			msg = string(x.t)
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: string(x.t), Status: s, Reason: x.reason, Message: msg,
			LastTransitionTime: metav1.NewTime(now), ObservedGeneration: mcn.Generation})
	}
	return *st
}

// updatePoolStatus computes counts and conditions as the MCO's node
// controller does.
func (s *Simulator) updatePoolStatus(ctx context.Context, pool *mcfgv1.MachineConfigPool, members []*corev1.Node, t target, buildCond *buildCondition) error {
	var updated, ready, unavailable, degraded int32
	var degradedMsgs []string
	for _, n := range members {
		v := view(n)
		isUpdated := v.updated(t)
		isDegraded := v.state == StateDegraded || v.state == "Unreconcilable"
		isUnavailable := v.inProgress() || isDegraded || n.Spec.Unschedulable || !nodeReady(n)
		if isUpdated {
			updated++
			if !isUnavailable {
				ready++
			}
		}
		if isUnavailable {
			unavailable++
		}
		if isDegraded {
			degraded++
			degradedMsgs = append(degradedMsgs, fmt.Sprintf("Node %s is reporting: %q", n.Name, n.Annotations[AnnotationReason]))
		}
	}
	total := int32(len(members))
	st := pool.Status.DeepCopy()
	st.ObservedGeneration = pool.Generation
	st.MachineCount, st.UpdatedMachineCount, st.ReadyMachineCount = total, updated, ready
	st.UnavailableMachineCount, st.DegradedMachineCount = unavailable, degraded
	if st.CertExpirys == nil {
		st.CertExpirys = []mcfgv1.CertExpiry{}
	}
	allUpdated := updated == total && !t.hold
	if allUpdated {
		st.Configuration = pool.Spec.Configuration
	}
	set := func(ct mcfgv1.MachineConfigPoolConditionType, on bool, reason, msg string) {
		status := corev1.ConditionFalse
		if on {
			status = corev1.ConditionTrue
		}
		for i := range st.Conditions {
			if st.Conditions[i].Type == ct {
				if st.Conditions[i].Status != status {
					st.Conditions[i].LastTransitionTime = metav1.Now()
				}
				st.Conditions[i].Status, st.Conditions[i].Reason, st.Conditions[i].Message = status, reason, msg
				return
			}
		}
		st.Conditions = append(st.Conditions, mcfgv1.MachineConfigPoolCondition{Type: ct, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()})
	}
	nodeDegraded := degraded > 0
	ndReason, ndMsg := "", ""
	if nodeDegraded {
		ndReason = fmt.Sprintf("%d nodes are reporting degraded status on sync", degraded)
		ndMsg = strings.Join(degradedMsgs, ", ")
	}
	set(mcfgv1.MachineConfigPoolNodeDegraded, nodeDegraded, ndReason, ndMsg)
	set(mcfgv1.MachineConfigPoolRenderDegraded, false, "", "")
	set(mcfgv1.MachineConfigPoolDegraded, nodeDegraded, ndReason, ndMsg)
	// As the MCO's node controller: Updating is simply "not all updated".
	if allUpdated {
		set(mcfgv1.MachineConfigPoolUpdated, true, "", "All nodes are updated with MachineConfig "+pool.Spec.Configuration.Name)
		set(mcfgv1.MachineConfigPoolUpdating, false, "", "")
	} else {
		set(mcfgv1.MachineConfigPoolUpdated, false, "", "")
		set(mcfgv1.MachineConfigPoolUpdating, true, "", "All nodes are updating to MachineConfig "+pool.Spec.Configuration.Name)
	}
	switch {
	case buildCond == nil:
	case s.legacyBuildConditions():
		// 4.18–4.19: one condition per build state, only on layered pools.
		if buildCond.stage != buildNone {
			for ct, stage := range map[mcfgv1.MachineConfigPoolConditionType]string{
				mcfgv1.MachineConfigPoolBuildPending: buildPending, mcfgv1.MachineConfigPoolBuilding: buildRunning,
				mcfgv1.MachineConfigPoolBuildSuccess: buildSucceeded, mcfgv1.MachineConfigPoolBuildFailed: buildFailed,
				mcfgv1.MachineConfigPoolBuildInterrupted: buildInterrupted,
			} {
				on := buildCond.stage == stage
				msg := ""
				if on {
					msg = buildCond.message
				}
				set(ct, on, "", msg)
			}
		}
	default:
		set(mcfgv1.MachineConfigPoolImageBuildDegraded, buildCond.degraded, buildCond.reason, buildCond.message)
	}
	if apiequality.Semantic.DeepEqual(*st, pool.Status) {
		return nil
	}
	// A merge patch of the whole computed status: the informer's copy may be
	// a write behind, and the status is recomputed from scratch anyway.
	patch, _ := json.Marshal(map[string]any{"status": st})
	if _, err := s.c.MachineConfig.MachineconfigurationV1().MachineConfigPools().Patch(ctx, pool.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("pool %s status: %w", pool.Name, err)
	}
	return nil
}

// runParallel runs jobs on up to 16 goroutines and joins their errors.
func runParallel(ctx context.Context, jobs []func() error) error {
	if len(jobs) == 0 {
		return nil
	}
	sem := make(chan struct{}, 16)
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		go func() {
			defer func() { <-sem }()
			errs <- j()
		}()
	}
	var all []error
	for range jobs {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}
