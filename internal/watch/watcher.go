package watch

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	mcfglisters "github.com/openshift/client-go/machineconfiguration/listers/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"

	"github.com/mosc-dev/mosc/internal/kube"
)

// Options of a watch.
type Options struct {
	Pool string
	MOSC string // "" = Pool
	// Verify says what "working" means on a node.
	Verify         profile.VerifyPlan
	EnableDocaInit bool
	// CheckImage runs the check pods ("" = the cluster's tools image, else
	// node.DefaultImage).
	CheckImage      string
	CheckParallel   int           // verification pods at once (default 4)
	CheckPodTimeout time.Duration // per check pod (default node.DefaultPodTimeout)
	// CheckBackoff is the wait before retrying a check that could not run,
	// times the attempt number (default 5s).
	CheckBackoff time.Duration
	// Timeout bounds the whole watch (0: none, unless AutoTimeout).
	Timeout time.Duration
	// AutoTimeout derives Timeout, when 0, from the pool (DeriveTimeout).
	AutoTimeout bool
	// StallWarning warns when a phase makes no progress for this long (0: never).
	StallWarning time.Duration
	// Logs follows the build pod's image-build container.
	Logs bool
	// ForbiddenGrace is how long a LIST/WATCH may keep answering 403 before
	// the watch ends (default DefaultForbiddenGrace).
	ForbiddenGrace time.Duration
	// SaveFailure names the directory where a failed or interrupted build's
	// evidence is saved (SaveFailure), given the MachineOSBuild's name; nil:
	// not saved (the cause is still classified).
	SaveFailure func(mosb string) string
	// BuildStatusGrace bounds the wait for a build's own Failed status once
	// the pool's ImageBuildDegraded names it (default
	// DefaultBuildStatusGrace); the build is then read from the API server
	// each second. After it the failure is explained from the build's Job
	// and pods as they are.
	BuildStatusGrace time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// DefaultBuildStatusGrace: the MCO writes the build's status before the
// pool's condition (model.go poolReportsBuildFailed), so a direct read
// normally finds it at once; the grace only covers an API server too
// loaded to answer.
const DefaultBuildStatusGrace = time.Minute

// Watcher follows one pool's layered rollout.
type Watcher struct {
	Kube          kube.Interface
	MachineConfig kube.MachineConfigInterface
	Dynamic       dynamic.Interface // optional: finds the cluster's tools image
	Opts          Options
	View          View
}

// ErrInterrupted is returned when the context is cancelled (Ctrl-C).
var ErrInterrupted = errors.New("interrupted")

// TimeoutError says what was still in flight when --timeout fired.
type TimeoutError struct {
	After time.Duration
	Stuck string
	// Derived says how the timeout was derived ("" when given).
	Derived string
}

func (e *TimeoutError) Error() string {
	if e.Derived != "" {
		return fmt.Sprintf("timed out after %s (%s): %s", e.After, e.Derived, e.Stuck)
	}
	return fmt.Sprintf("timed out after %s: %s", e.After, e.Stuck)
}

const maxCheckAttempts = 3

type checkUpdate struct {
	node  string
	state CheckState
}

// Run watches until every node is updated and verified (nil), the rollout
// fails (*Failure), the timeout fires (*TimeoutError) or ctx is cancelled
// (ErrInterrupted). Check pods are deleted before it returns.
func (w *Watcher) Run(ctx context.Context) (*Status, error) {
	o := w.Opts
	if o.MOSC == "" {
		o.MOSC = o.Pool
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckParallel <= 0 {
		o.CheckParallel = 4
	}
	if o.CheckBackoff <= 0 {
		o.CheckBackoff = 5 * time.Second
	}
	if o.ForbiddenGrace <= 0 {
		o.ForbiddenGrace = DefaultForbiddenGrace
	}
	if o.BuildStatusGrace <= 0 {
		o.BuildStatusGrace = DefaultBuildStatusGrace
	}
	start := o.Now()
	pool, err := w.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, o.Pool, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("machineconfigpool %q not found (--pool)", o.Pool)
		}
		return nil, fmt.Errorf("reading machineconfigpool %s: %w", o.Pool, err)
	}
	derived := ""
	if o.Timeout == 0 && o.AutoTimeout {
		at := DeriveTimeout(pool, 0)
		o.Timeout, derived = at.Total, at.String()
	}
	nodeSel, err := selectorOf(pool)
	if err != nil {
		return nil, fmt.Errorf("machineconfigpool %s: spec.nodeSelector: %w", o.Pool, err)
	}
	api, err := LayeringAPI(w.MachineConfig.Discovery())
	if err != nil {
		return nil, err
	}
	if api == APIv1alpha1 && w.Dynamic == nil {
		return nil, fmt.Errorf("the cluster serves machineosconfigs only in %s/%s, which needs the dynamic client", mcfgv1.GroupName, APIv1alpha1)
	}
	hasMCN := hasResource(w.MachineConfig.Discovery(), mcfgv1.GroupVersion.String(), "machineconfignodes")

	// Informers relist and rewatch on their own after a dropped watch or an
	// API server restart; MOSB conditions are immutable once final, so a
	// relist never misses a terminal state.
	stop := make(chan struct{})
	defer close(stop)
	// One informer per kind, as client-go's informer factories would build
	// them (package kube: the factories link every clientset).
	mc := w.MachineConfig.MachineconfigurationV1()
	// Nodes: their metadata only (labels and the daemon's annotations are
	// all the model reads; slim.go), which spares decoding, and holding
	// during the first LIST, every node's status.
	nodeInf := kube.NewMetadataInformer(w.Kube.CoreV1().Nodes(), &corev1.Node{}, func(lo *metav1.ListOptions) {
		lo.LabelSelector = nodeSel.String()
	})
	// Build pods: the Job's (v1), or the bare Pod of v1alpha1's PodImageBuilder.
	podSel := LabelJobName
	if api == APIv1alpha1 {
		podSel = LabelEphemeralBuildObject
	}
	podInf := kube.NewInformer(w.Kube.CoreV1().Pods(MCONamespace), &corev1.Pod{}, func(lo *metav1.ListOptions) { lo.LabelSelector = podSel })
	poolInf := kube.NewInformer(mc.MachineConfigPools(), &mcfgv1.MachineConfigPool{}, nil)

	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	var moscInf, mosbInf cache.SharedIndexInformer
	if api == APIv1alpha1 {
		// Converted to the v1 types as they enter the cache (v1alpha1.go).
		moscInf, mosbInf = kube.NewDynamicInformer(w.Dynamic, GVRMachineOSConfigV1alpha1), kube.NewDynamicInformer(w.Dynamic, GVRMachineOSBuildV1alpha1)
		for _, inf := range []cache.SharedIndexInformer{moscInf, mosbInf} {
			if err := inf.SetTransform(convertV1alpha1); err != nil {
				return nil, err
			}
		}
	} else {
		moscInf = kube.NewInformer(mc.MachineOSConfigs(), &mcfgv1.MachineOSConfig{}, nil)
		mosbInf = kube.NewInformer(mc.MachineOSBuilds(), &mcfgv1.MachineOSBuild{}, nil)
	}
	infs := []cache.SharedIndexInformer{moscInf, mosbInf, poolInf, nodeInf, podInf}
	infRes := []informerResource{{mcfgGroup, "machineosconfigs", ""}, {mcfgGroup, "machineosbuilds", ""},
		{mcfgGroup, "machineconfigpools", ""}, {"", "nodes", ""}, {"", "pods", MCONamespace}}
	var mcnInf cache.SharedIndexInformer
	if hasMCN {
		mcnInf = kube.NewInformer(mc.MachineConfigNodes(), &mcfgv1.MachineConfigNode{}, nil)
		infs = append(infs, mcnInf)
		infRes = append(infRes, informerResource{mcfgGroup, "machineconfignodes", ""})
	}
	// A reflector retries a forbidden LIST forever (and the cache never
	// syncs): a 403 that lasts, and that a SelfSubjectAccessReview confirms,
	// ends the watch naming what was denied. (Right after an API server
	// restart its RBAC cache is cold and briefly denies everything.)
	denied := make(chan error, 8)
	for i, inf := range infs {
		// Keep only what the model reads (slim.go): a 1000-node pool's
		// Nodes and MachineConfigNodes carry managed fields, image lists
		// and condition messages worth megabytes. (The v1alpha1 informers
		// have their converting transform, which slims too.)
		if api == APIv1 || (inf != moscInf && inf != mosbInf) {
			_ = inf.SetTransform(slim)
		}
		if _, err := inf.AddEventHandler(h); err != nil {
			return nil, err
		}
		fw := &forbiddenWatch{res: infRes[i], grace: o.ForbiddenGrace, kube: w.Kube, denied: denied, now: o.Now}
		_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) { fw.report(ctx, err) })
	}
	for _, inf := range infs {
		go inf.Run(stop)
	}
	synced := make([]cache.InformerSynced, len(infs))
	for i, inf := range infs {
		synced[i] = inf.HasSynced
	}

	var timeoutC <-chan time.Time
	if o.Timeout > 0 {
		t := time.NewTimer(o.Timeout)
		defer t.Stop()
		timeoutC = t.C
	}
	syncCtx, syncCancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-timeoutC:
		case <-syncCtx.Done():
		}
		syncCancel()
	}()
	syncDone := make(chan bool, 1)
	go func() { syncDone <- cache.WaitForCacheSync(syncCtx.Done(), synced...) }()
	select {
	case ok := <-syncDone:
		if !ok {
			syncCancel()
			if ctx.Err() != nil {
				return nil, ErrInterrupted
			}
			return nil, &TimeoutError{After: o.Timeout, Derived: derived, Stuck: "could not list MachineOSConfigs, MachineOSBuilds, pools and nodes from the API server"}
		}
	case err := <-denied:
		syncCancel()
		<-syncDone
		return nil, err
	}
	syncCancel()

	image := o.CheckImage
	if image == "" {
		image = node.ResolveImage(ctx, w.Dynamic)
	}
	updates := make(chan checkUpdate, 64)
	podEvents := make(chan Event, 64)
	runID := newRunID()
	checker := &node.Checker{Kube: w.Kube, Image: image, PodTimeout: o.CheckPodTimeout, RunID: runID,
		OnPod: func(nodeName, pod, action, what string) {
			if action == node.ActionEnableDocaInit && what == "created" {
				updates <- checkUpdate{node: nodeName, state: CheckState{State: CheckEnabling}}
			}
			podEvents <- Event{Kind: KindPod, Object: "pod/" + node.CheckNamespace + "/" + pod, Message: what + " (" + action + " on node " + nodeName + ")",
				Fields: map[string]string{"node": nodeName, "action": action}}
		}}
	checkCtx, checkCancel := context.WithCancel(context.Background())
	var checks sync.WaitGroup
	sem := make(chan struct{}, o.CheckParallel)
	// Whatever ends the watch, the check pods go first.
	defer func() {
		checkCancel()
		checks.Wait()
	}()

	logLines := make(chan string, 256)
	followed := map[string]bool{}
	logCtx, logCancel := context.WithCancel(ctx)
	defer logCancel()

	lists := listers{
		pool: mcfglisters.NewMachineConfigPoolLister(poolInf.GetIndexer()),
		node: corelisters.NewNodeLister(nodeInf.GetIndexer()), pod: corelisters.NewPodLister(podInf.GetIndexer()),
	}
	if api == APIv1alpha1 {
		lists.mosc, lists.mosb = convertedMOSCs{moscInf.GetIndexer()}, convertedMOSBs{mosbInf.GetIndexer()}
	} else {
		lists.mosc, lists.mosb = mcfglisters.NewMachineOSConfigLister(moscInf.GetIndexer()), mcfglisters.NewMachineOSBuildLister(mosbInf.GetIndexer())
	}
	if hasMCN {
		lists.mcn = mcfglisters.NewMachineConfigNodeLister(mcnInf.GetIndexer())
	}
	checkStates := map[string]CheckState{}
	running := map[string]bool{}
	var prev *Status
	var cur Status
	lastProgress := o.Now()
	stallTicker := time.NewTicker(time.Second)
	defer stallTicker.Stop()

	emit := func(evs []Event) {
		for _, e := range evs {
			w.View.Event(e)
		}
	}
	namer := &mosbNamer{kube: w.Kube, mc: w.MachineConfig}
	namerWarned := false
	// While the pool says the followed build failed and its own status here
	// does not yet, the build is read from the API server directly (ended
	// builds are immutable, so a fresher ended copy replaces the cached one).
	confirm := buildConfirm{fresh: map[string]*mcfgv1.MachineOSBuild{}}
	evaluate := func() {
		snap := lists.snapshot(o.Pool, o.MOSC)
		snap.Checks = checkStates
		if api == APIv1 {
			// The MOSB name hash is v1's (4.18.20+); v1alpha1 follows the annotation.
			snap.ExpectedMOSBs = namer.Expected(ctx, snap.MOSCObj, findPool(snap.Pools, o.Pool))
		}
		if namer.Problem != "" && !namerWarned {
			namerWarned = true
			w.View.Event(Event{Time: o.Now(), Phase: PhaseBuild, Kind: KindBuild, Object: "machineosconfig/" + o.MOSC,
				Message: "cannot compute the MachineOSBuild name the operator will use (" + namer.Problem + "); following the current-machine-os-build annotation, which lags a new build"})
		}
		confirm.apply(&snap)
		cur = Evaluate(snap)
		if f := cur.Failure; f != nil && f.PoolOnly {
			if confirm.refresh(ctx, w.MachineConfig, api, cur.Build.MOSB, o.Now()) {
				confirm.apply(&snap)
				cur = Evaluate(snap)
			}
		}
		if f := cur.Failure; f != nil && f.PoolOnly {
			now := o.Now()
			if confirm.until.IsZero() {
				confirm.until = now.Add(o.BuildStatusGrace)
				w.View.Event(Event{Time: now, Phase: PhaseBuild, Kind: KindBuild, Object: f.Object,
					Message: fmt.Sprintf("%s; its own status here is still %s: waiting up to %s for it, to name the build's cause", f.Reason, cur.Build.State, o.BuildStatusGrace),
					Fields:  map[string]string{"state": cur.Build.State, "poolReports": "ImageBuildDegraded"}})
			}
			if now.Before(confirm.until) {
				cur.Failure, cur.Phase = nil, PhaseBuild
				cur.Waiting = "MachineOSBuild " + cur.Build.MOSB + " failed by the pool's ImageBuildDegraded; waiting for its own status"
			} else {
				f.Reason += fmt.Sprintf(" (its own status still %s after %s)", cur.Build.State, o.BuildStatusGrace)
			}
		} else {
			confirm.until = time.Time{}
		}
		now := o.Now()
		evs := Diff(prev, &cur, now)
		if len(evs) > 0 {
			lastProgress = now
		}
		emit(evs)
		last := cur // Evaluate builds fresh slices, so a copy is a snapshot
		prev = &last
		w.View.Status(&cur, now.Sub(start))

		// Verify each node as it finishes, with a bounded number of pods.
		for _, n := range cur.Nodes {
			if !n.Updated || running[n.Name] || n.Check.State != CheckPending && n.Check.State != CheckError {
				continue
			}
			if n.Check.State == CheckError && n.Check.Attempts >= maxCheckAttempts {
				continue
			}
			running[n.Name] = true
			attempts := checkStates[n.Name].Attempts
			if checkStates[n.Name].Image != n.CurrentImage {
				attempts = 0
			}
			checkStates[n.Name] = CheckState{State: CheckRunning, Image: n.CurrentImage, Attempts: attempts}
			checks.Add(1)
			go func(name, img string, attempts int) {
				defer checks.Done()
				select {
				case sem <- struct{}{}:
				case <-checkCtx.Done():
					return
				}
				defer func() { <-sem }()
				if attempts > 0 {
					select { // back off before retrying a check that could not run
					case <-time.After(time.Duration(attempts) * o.CheckBackoff):
					case <-checkCtx.Done():
						return
					}
				}
				out, err := checker.CheckNode(checkCtx, name, o.Verify, o.EnableDocaInit)
				st := CheckState{Image: img, Attempts: attempts + 1}
				switch {
				case err != nil && checkCtx.Err() != nil:
					return
				case forbidden(err) && st.Attempts >= maxCheckAttempts:
					// Not the node's fault (RBAC, or an SCC refused the pod):
					// the watch ends naming the denial.
					select {
					case denied <- &ForbiddenError{What: "run a check pod on node " + name, Err: err}:
					default:
					}
					return
				case err != nil:
					st.State, st.Message = CheckError, err.Error()
					if st.Attempts >= maxCheckAttempts {
						st.State, st.Problems = CheckFailed, []string{fmt.Sprintf("check pod failed %d times: %v", st.Attempts, err)}
					}
				case out.OK():
					st.State, st.Enabled = CheckPassed, out.Enabled
					st.Message = resultSummary(out.Result)
				case ovsNotUpYet(out) && st.Attempts < maxCheckAttempts:
					// Right after the reboot ovsdb-server may still be starting:
					// the packages are right, ask again after a back-off.
					st.State, st.Enabled = CheckError, out.Enabled
					st.Message = "ovs-vsctl did not answer yet: " + out.Result.OVSError
				default:
					st.State, st.Enabled = CheckFailed, out.Enabled
					for _, p := range out.Problems {
						st.Problems = append(st.Problems, p.String())
					}
				}
				updates <- checkUpdate{node: name, state: st}
			}(n.Name, n.CurrentImage, attempts)
		}
		if o.Logs && cur.Build.Pod != "" && cur.Build.PodRunning && !followed[cur.Build.Pod] {
			followed[cur.Build.Pod] = true
			go w.followLog(logCtx, cur.Build.Pod, logLines)
		}
	}

	finish := func(err error) (*Status, error) {
		// Stop the checks (their pods are deleted) before the final event.
		checkCancel()
		waited := make(chan struct{})
		go func() { checks.Wait(); close(waited) }()
		showPod := func(e Event) {
			e.Time, e.Phase = o.Now(), cur.Phase
			w.View.Event(e)
		}
	drain: // the check goroutines may still report while they clean up
		for {
			select {
			case e := <-podEvents:
				showPod(e)
			case <-updates:
			case <-waited:
				break drain
			}
		}
		for len(podEvents) > 0 {
			showPod(<-podEvents)
		}
		sweepCtx, sweepCancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := node.DeleteRun(sweepCtx, w.Kube, node.CheckNamespace, runID); err != nil {
			w.View.Event(Event{Time: o.Now(), Phase: cur.Phase, Kind: KindPod, Message: fmt.Sprintf("could not sweep check pods labelled %s=%s: %v", node.LabelRun, runID, err)})
		}
		sweepCancel()
		logCancel()
		res := Event{Time: o.Now(), Phase: cur.Phase, Kind: KindResult, Fields: map[string]string{
			"total": fmt.Sprint(cur.Total), "updated": fmt.Sprint(cur.Updated), "verified": fmt.Sprint(cur.Verified),
			"elapsed": o.Now().Sub(start).Round(time.Second).String()}}
		var f *Failure
		var te *TimeoutError
		var fe *ForbiddenError
		switch {
		case err == nil:
			res.Fields["result"] = "done"
			res.Message = fmt.Sprintf("done: %d/%d nodes of pool %s updated and verified in %s", cur.Verified, cur.Total, o.Pool, res.Fields["elapsed"])
		case errors.As(err, &f):
			res.Fields["result"] = "failed"
			res.Object = f.Object
			res.Message = "failed: " + f.Reason
			if len(f.LogTail) > 0 {
				res.Fields["logTail"] = strings.Join(f.LogTail, "\n")
			}
			if f.Cause != nil {
				res.Fields["cause"], res.Fields["remedy"] = f.Cause.ID, f.Cause.Remedy
				res.Message += "; " + f.Cause.String()
			}
			if f.Evidence != "" {
				res.Fields["evidence"] = f.Evidence
			}
		case errors.As(err, &te):
			res.Fields["result"] = "timeout"
			res.Message = te.Error()
		case errors.As(err, &fe):
			res.Fields["result"] = "forbidden"
			res.Message = fe.Error()
		default:
			res.Fields["result"] = "interrupted"
			res.Message = "interrupted: " + describeStuck(&cur)
		}
		w.View.Event(res)
		w.View.Status(&cur, o.Now().Sub(start))
		w.View.Close()
		return &cur, err
	}

	if derived != "" {
		w.View.Event(Event{Time: o.Now(), Phase: PhaseBuild, Kind: KindPhase, Message: "timeout " + derived,
			Fields: map[string]string{"timeout": o.Timeout.String()}})
	}
	evaluate()
	for {
		if cur.Failure != nil {
			f := *cur.Failure
			if f.Phase == PhaseBuild {
				f.LogTail = w.buildLogTail(cur.Build)
				w.explainBuildFailure(&f, cur.Build, o)
			}
			return finish(&f)
		}
		if cur.Done() {
			return finish(nil)
		}
		select {
		case <-ctx.Done():
			return finish(ErrInterrupted)
		case <-timeoutC:
			return finish(&TimeoutError{After: o.Timeout, Derived: derived, Stuck: describeStuck(&cur)})
		case <-changed:
			evaluate()
		case err := <-denied:
			return finish(err)
		case u := <-updates:
			delete(running, u.node)
			if u.state.State == CheckEnabling {
				running[u.node] = true
				c := checkStates[u.node]
				c.State = CheckEnabling
				checkStates[u.node] = c
			} else {
				checkStates[u.node] = u.state
				if u.state.State == CheckError {
					notify() // retried (after a back-off in the check goroutine)
				}
			}
			evaluate()
		case e := <-podEvents:
			e.Time, e.Phase = o.Now(), cur.Phase
			w.View.Event(e)
		case l := <-logLines:
			w.View.Log(l)
		case <-stallTicker.C:
			if !confirm.until.IsZero() {
				evaluate() // reads the build again, or ends the grace
			}
			now := o.Now()
			if o.StallWarning > 0 && now.Sub(lastProgress) >= o.StallWarning {
				lastProgress = now
				w.View.Event(Event{Time: now, Phase: cur.Phase, Kind: KindStall,
					Message: fmt.Sprintf("no progress in %s for %s: %s", cur.Phase, o.StallWarning, describeStuck(&cur))})
			}
			w.View.Status(&cur, now.Sub(start))
		}
	}
}

// buildConfirm holds ended MachineOSBuilds read from the API server while
// the pool's ImageBuildDegraded is ahead of the informer's copy.
type buildConfirm struct {
	fresh    map[string]*mcfgv1.MachineOSBuild
	until    time.Time // end of the grace; zero when not waiting
	lastRead time.Time
}

// apply puts the fresher ended copies into a snapshot.
func (c *buildConfirm) apply(s *Snapshot) {
	if len(c.fresh) == 0 {
		return
	}
	out := make([]*mcfgv1.MachineOSBuild, len(s.MOSBs))
	for i, b := range s.MOSBs {
		out[i] = b
		if f := c.fresh[b.Name]; f != nil && f.UID == b.UID && !BuildEnded(buildState(b).State) {
			out[i] = f
		}
	}
	s.MOSBs = out
}

// refresh reads the build from the API server, at most once a second, and
// keeps it when it has ended; true when it did.
func (c *buildConfirm) refresh(ctx context.Context, mc kube.MachineConfigInterface, api, name string, now time.Time) bool {
	if api != APIv1 || name == "" || now.Sub(c.lastRead) < time.Second {
		return false // ImageBuildDegraded exists from 4.20 only (v1)
	}
	c.lastRead = now
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := mc.MachineconfigurationV1().MachineOSBuilds().Get(rctx, name, metav1.GetOptions{})
	if err != nil || !BuildEnded(buildState(b).State) {
		return false
	}
	c.fresh[name] = b
	return true
}

func newRunID() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprintf("%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b)
}

// ovsNotUpYet: the stack's packages are in place but ovs-vsctl failed, which
// is what a node shows while openvswitch is still starting.
func ovsNotUpYet(out *node.Outcome) bool {
	if out.Result == nil || out.Result.OVSError == "" {
		return false
	}
	for _, p := range out.Problems {
		if p.Check != "ovs" {
			return false
		}
	}
	return true
}

func resultSummary(r *node.Result) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("ovs %s, doca %s, doca_initialized=%t, dpdk_initialized=%t, datapath_types [%s]",
		r.OVSVersion, r.DocaVersion, r.DocaInitialized, r.DPDKInitialized, strings.Join(r.DatapathTypes, ", "))
}

// describeStuck names what the rollout waits for, for timeouts and stalls.
func describeStuck(st *Status) string {
	switch st.Phase {
	case PhaseBuild:
		s := st.Waiting
		if st.Build.Start != nil && st.Build.End == nil {
			s += fmt.Sprintf(" for %s", st.Build.Duration(time.Now()))
		}
		return "build: " + s
	case PhaseRollout, PhaseVerify:
		var parts []string
		for _, n := range st.Nodes {
			switch {
			case !n.Updated:
				p := "node " + n.Name + " " + orUnknown(n.State)
				if n.Reason != "" {
					p += " (" + n.Reason + ")"
				}
				if n.Waiting != "" && n.Waiting != "state "+n.State {
					p += ": " + n.Waiting
				}
				parts = append(parts, p)
			case n.Check.State != CheckPassed:
				parts = append(parts, "node "+n.Name+" check "+n.Check.State)
			}
		}
		if len(parts) > 5 {
			parts = append(parts[:5], fmt.Sprintf("and %d more", len(parts)-5))
		}
		return fmt.Sprintf("%s: %d/%d updated, %d verified; %s", st.Phase, st.Updated, st.Total, st.Verified, strings.Join(parts, "; "))
	}
	return string(st.Phase)
}

func orUnknown(s string) string {
	if s == "" {
		return "(no state)"
	}
	return s
}

// explainBuildFailure saves the failed build's evidence (when asked) before
// the MCO deletes it, classifies the cause and shows it with its remedy.
func (w *Watcher) explainBuildFailure(f *Failure, b BuildStatus, o Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cause Cause
	if o.SaveFailure != nil && b.MOSB != "" {
		dir := o.SaveFailure(b.MOSB)
		ev, err := SaveFailure(ctx, w.Kube, w.MachineConfig, dir, b, o.MOSC, o.Pool)
		if err != nil {
			w.View.Event(Event{Time: o.Now(), Phase: PhaseFailed, Kind: KindBuild, Object: "machineosbuild/" + b.MOSB,
				Message: "could not save the failed build's evidence: " + err.Error(), Fields: map[string]string{"evidenceError": err.Error()}})
		}
		if ev != nil {
			cause = ev.Cause
			if err == nil {
				f.Evidence = ev.Dir
				msg := fmt.Sprintf("evidence saved to %s (%d files, %d build attempt(s))", ev.Dir, len(ev.Files), ev.Attempts)
				if len(ev.Missing) > 0 {
					msg += fmt.Sprintf("; %d item(s) could not be read, see README.txt", len(ev.Missing))
				}
				w.View.Event(Event{Time: o.Now(), Phase: PhaseFailed, Kind: KindBuild, Object: "machineosbuild/" + b.MOSB, Message: msg,
					Fields: map[string]string{"evidence": ev.Dir, "files": fmt.Sprint(len(ev.Files)), "attempts": fmt.Sprint(ev.Attempts)}})
			}
		}
	}
	if cause.ID == "" {
		cause = ClassifyBuild(ctx, w.Kube, b, o.Pool)
	}
	f.Cause = &cause
	w.View.Event(CauseEvent(o.Now(), "machineosbuild/"+b.MOSB, cause))
}

// CauseEvent is the build event naming a failure's cause and remedy;
// fields.cause is the Cause ID, fields.detail.* what the log names.
func CauseEvent(now time.Time, object string, c Cause) Event {
	f := map[string]string{"cause": c.ID, "summary": c.Summary, "remedy": c.Remedy}
	for k, v := range c.Details {
		f["detail."+k] = v
	}
	if len(c.LogTail) > 0 {
		f["logTail"] = strings.Join(c.LogTail, "\n")
	}
	return Event{Time: now, Phase: PhaseFailed, Kind: KindBuild, Object: object, Message: c.String() + "; remedy: " + c.Remedy, Fields: f}
}

// LogTailLines is how much of a failed build's log is shown.
const LogTailLines = 20

func (w *Watcher) buildLogTail(b BuildStatus) []string {
	if b.Pod == "" {
		return []string{"(no build pod found for job " + b.Job + ")"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n := int64(LogTailLines)
	raw, err := w.Kube.CoreV1().Pods(MCONamespace).GetLogs(b.Pod, &corev1.PodLogOptions{Container: BuildContainer, TailLines: &n}).DoRaw(ctx)
	if err != nil {
		return []string{fmt.Sprintf("(build log of pod %s unavailable: %v)", b.Pod, err)}
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > LogTailLines {
		lines = lines[len(lines)-LogTailLines:]
	}
	return lines
}

// followLog streams the build container's log; a stream cut by an API server
// restart is reopened and the lines already shown are skipped.
func (w *Watcher) followLog(ctx context.Context, pod string, out chan<- string) {
	seen := 0
	for attempt := 0; ctx.Err() == nil && attempt < 20; attempt++ {
		rc, err := w.Kube.CoreV1().Pods(MCONamespace).GetLogs(pod, &corev1.PodLogOptions{Container: BuildContainer, Follow: true}).Stream(ctx)
		if err != nil {
			if apierrors.IsNotFound(err) {
				return
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
			continue
		}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		i := 0
		for sc.Scan() {
			i++
			if i <= seen {
				continue
			}
			seen = i
			select {
			case out <- sc.Text():
			case <-ctx.Done():
				rc.Close()
				return
			}
		}
		err = sc.Err()
		rc.Close()
		if err == nil {
			return // the container ended: EOF
		}
	}
}

type listers struct {
	mosc interface {
		Get(string) (*mcfgv1.MachineOSConfig, error)
	}
	mosb interface {
		List(labels.Selector) ([]*mcfgv1.MachineOSBuild, error)
	}
	pool interface {
		List(labels.Selector) ([]*mcfgv1.MachineConfigPool, error)
	}
	mcn interface {
		List(labels.Selector) ([]*mcfgv1.MachineConfigNode, error)
	}
	node interface {
		List(labels.Selector) ([]*corev1.Node, error)
	}
	pod interface {
		List(labels.Selector) ([]*corev1.Pod, error)
	}
}

func (l listers) snapshot(pool, mosc string) Snapshot {
	s := Snapshot{Pool: pool, MOSC: mosc, MCNs: map[string]*mcfgv1.MachineConfigNode{}}
	if m, err := l.mosc.Get(mosc); err == nil {
		s.MOSCObj = m
	}
	s.MOSBs, _ = l.mosb.List(labels.Everything())
	s.Pools, _ = l.pool.List(labels.Everything())
	s.Nodes, _ = l.node.List(labels.Everything())
	s.BuildPods, _ = l.pod.List(labels.Everything())
	if l.mcn != nil {
		mcns, _ := l.mcn.List(labels.Everything())
		for _, m := range mcns {
			s.MCNs[m.Name] = m
		}
	}
	return s
}

// requireMOSC fails early on clusters without the v1 layering API (4.16 and
// 4.17 serve only v1alpha1), where the informers would never sync. When
// discovery itself fails, the informers get their chance.
func requireMOSC(d kube.DiscoveryInterface) error {
	if d == nil {
		return nil
	}
	rl, err := d.ServerResourcesForGroupVersion(mcfgv1.GroupVersion.String())
	if err != nil && !apierrors.IsNotFound(err) {
		return nil
	}
	if rl != nil {
		for _, r := range rl.APIResources {
			if r.Name == "machineosconfigs" {
				return nil
			}
		}
	}
	return fmt.Errorf("the cluster does not serve %s machineosconfigs: On-Cluster Layering v1 needs OpenShift 4.18.20 or later (4.16, 4.17 and 4.18.0-19 have only v1alpha1, which needs the dynamic client)", mcfgv1.GroupVersion)
}

func hasResource(d kube.DiscoveryInterface, gv, resource string) bool {
	if d == nil {
		return false
	}
	rl, err := d.ServerResourcesForGroupVersion(gv)
	if err != nil {
		return false
	}
	for _, r := range rl.APIResources {
		if r.Name == resource {
			return true
		}
	}
	return false
}
