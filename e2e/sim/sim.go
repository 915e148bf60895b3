// Package sim plays the Machine Config Operator (and the bits of kubelet and
// node it needs) against a real kube-apiserver, through the same typed clients
// mosc uses. It is level-triggered like the MCO: informers feed a work queue,
// every pool is reconciled from what the API says, so a restarted simulator
// or API server resumes where things stand. See doc.go in e2e/harness.
package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	configinformers "github.com/openshift/client-go/config/informers/externalversions"
	configlisters "github.com/openshift/client-go/config/listers/config/v1"
	mcfginformers "github.com/openshift/client-go/machineconfiguration/informers/externalversions"
	mcfglisters "github.com/openshift/client-go/machineconfiguration/listers/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	kubeinformers "k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/mosc-dev/mosc/e2e/kubelet"
	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/node"
)

// Faults are failures the simulator injects; change them any time with
// SetFaults. The zero value is a healthy cluster with fast steps.
type Faults struct {
	// BuildFails ends every new build Failed (pod exit 1, MOSB Failed, pool ImageBuildDegraded).
	BuildFails bool
	// BuildFailure ends every new build Failed for this cause (FailRepo404,
	// FailGPG, FailPush401 … in buildfail.go): four attempts, each pod
	// logging what the real tool prints, then the Job and MOSB Failed.
	BuildFailure string
	// BuildInterrupted ends every new build Interrupted (the build pod vanishes).
	BuildInterrupted bool
	// BuildDuration is how long a build runs; its log is streamed over it.
	BuildDuration time.Duration
	// BuildPrepare is how long the MCO takes from creating a MachineOSBuild
	// to starting its Job (it writes the build's ConfigMaps and Secrets
	// first). The MOSC's current-machine-os-build annotation and the pool's
	// build conditions lag the new build by it.
	BuildPrepare time.Duration
	// DegradeNode goes Degraded (with DegradeReason) when asked to update.
	DegradeNode   string
	DegradeReason string
	// StuckNode stays Working forever when asked to update.
	StuckNode string
	// NodeStep is the time each node state (Working, Rebooting) lasts.
	NodeStep time.Duration
	// DegradedOrder is the order of a failed build's status and the pool's
	// ImageBuildDegraded, DegradedLag apart (buildorder.go).
	DegradedOrder string
	DegradedLag   time.Duration
}

// LogSink receives container logs; the fake kubelet serves them as pods/log.
type LogSink interface {
	Append(ns, pod, container, text string)
	CloseLog(ns, pod, container string)
	Forget(ns, pod string)
}

var _ LogSink = (*kubelet.Server)(nil)

// Options configure a Simulator.
type Options struct {
	Faults Faults
	// Logs gets build pod logs (nil: dropped).
	Logs LogSink
	// RegistryHost is the test registry ("127.0.0.1:PORT"). Builds whose push
	// spec names it push a real image there with the push secret's
	// credentials from the cluster.
	RegistryHost string
	// RegistryAuth lets the test registry also play OpenShift's internal
	// registry (InternalRegistryHost): a push there is authorised like the
	// real registry does — the push secret's token must pass a TokenReview —
	// and then really pushed to RegistryHost with RegistryAuth. Nil: such
	// pushes are checked but not stored, and the digest is computed locally.
	RegistryAuth authn.Authenticator
	// Logf receives one line per simulated event (nil discards).
	Logf func(format string, args ...any)
	// RenderDelay is how long the render controller waits after a
	// MachineConfig change before it re-renders a pool (0: DefaultRenderDelay;
	// the real one waits 5 s).
	RenderDelay time.Duration
	// RegistryRollout is how long the image registry operator takes to roll
	// the registry out (0: 500 ms). See RegistryOperator.
	RegistryRollout time.Duration
}

// DefaultRenderDelay is the simulator's render delay: shorter than the
// MCO's 5 s to keep tests quick, long enough that a MachineOSConfig change
// is acted on before a MachineConfig change made right after it.
const DefaultRenderDelay = time.Second

// InternalRegistryHost is the in-cluster address of OpenShift's image registry.
const InternalRegistryHost = "image-registry.openshift-image-registry.svc:5000"

// Simulator is the fake Machine Config Operator. Create with New, run with Run.
type Simulator struct {
	c    *cluster.Clients
	opts Options
	// startMu serializes starting builds, as the MCO's work queue does.
	startMu sync.Mutex

	mu            sync.Mutex
	faults        Faults
	builds        map[string]context.CancelFunc // MOSB name → running build
	steps         map[string]time.Time          // node → when it entered its current state
	deleted       map[types.UID]bool            // MOSBs we deleted (the cache may lag)
	rejected      []string
	buildFailures map[string]int          // MOSB → consecutive errors, for back-off
	renderPending map[string]time.Time    // pool → when its MachineConfigs changed, not rendered yet
	clock         simClock                // a test's time travel (pushcred.go)
	procs         map[string]*trafficProc // traffic pod ns/name → its running iperf3 (offload.go)
	traffic       map[string]int          // node → iperf3 streams running through it
	ready         chan struct{}
	degradedEarly map[types.UID]string    // failed builds the pool reports first (buildorder.go)
	degradedHold  map[types.UID]time.Time // failed builds the pool reports late (buildorder.go)
	// ownNodes: the Nodes the node agent's own patches returned (doca-init
	// set or cleared), read instead of the lister's copy while that is
	// older (agent.go freshNode).
	ownNodes map[string]*corev1.Node

	queue workqueue.TypedRateLimitingInterface[string]

	moscs  mcfglisters.MachineOSConfigLister
	mosbs  mcfglisters.MachineOSBuildLister
	pools  mcfglisters.MachineConfigPoolLister
	mcs    mcfglisters.MachineConfigLister
	mcns   mcfglisters.MachineConfigNodeLister
	cvs    configlisters.ClusterVersionLister
	nodes  corelisters.NodeLister
	pods   corelisters.PodLister
	osimg  corelisters.ConfigMapLister // machine-config-osimageurl (upgrade.go)
	synced []cache.InformerSynced
}

// New builds a simulator over admin clients.
func New(clients *cluster.Clients, opts Options) *Simulator {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Simulator{c: clients, opts: opts, faults: opts.Faults, builds: map[string]context.CancelFunc{},
		steps: map[string]time.Time{}, deleted: map[types.UID]bool{}, buildFailures: map[string]int{}, renderPending: map[string]time.Time{}, ready: make(chan struct{}),
		procs: map[string]*trafficProc{}, traffic: map[string]int{},
		degradedEarly: map[types.UID]string{}, degradedHold: map[types.UID]time.Time{}, ownNodes: map[string]*corev1.Node{}}
}

// SetFaults replaces the injected faults; running builds read them when they end.
func (s *Simulator) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	s.enqueueAllPools()
}

func (s *Simulator) getFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// noteRejected records writes the API server refused as invalid or
// forbidden: the simulator's objects must pass the real CRD validation.
func (s *Simulator) noteRejected(err error) {
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsForbidden(err) {
		s.mu.Lock()
		if len(s.rejected) < 20 {
			s.rejected = append(s.rejected, err.Error())
		}
		s.mu.Unlock()
	}
}

// Rejected returns the simulator's writes the API server rejected as invalid
// (at most 20). A correct simulation has none; startSim fails a test otherwise.
func (s *Simulator) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejected...)
}

// legacyBuildConditions reports whether the cluster is older than 4.20, where
// pools carry BuildPending/Building/BuildSuccess/BuildFailed/BuildInterrupted
// instead of ImageBuildDegraded (FACTS.md §1).
func (s *Simulator) legacyBuildConditions() bool {
	cv, err := s.cvs.Get("version")
	if err != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(cv.Status.Desired.Version, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major == 4 && minor < 20
}

// minorVersion is the cluster's OpenShift minor (20 for 4.20.15), 0 when
// ClusterVersion is missing or unreadable.
func (s *Simulator) minorVersion() int {
	cv, err := s.cvs.Get("version")
	if err != nil {
		return 0
	}
	var major, minor int
	if _, err := fmt.Sscanf(cv.Status.Desired.Version, "%d.%d", &major, &minor); err != nil || major != 4 {
		return 0
	}
	return minor
}

// Ready is closed once the informers have synced and the simulator reacts.
func (s *Simulator) Ready() <-chan struct{} { return s.ready }

const (
	keyPool = "pool/"
	keyPod  = "pod/"
)

// Run plays the operator until ctx is done. Informers re-list and re-watch on
// their own after an API server restart.
func (s *Simulator) Run(ctx context.Context) error {
	s.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](20*time.Millisecond, 2*time.Second),
		), workqueue.TypedRateLimitingQueueConfig[string]{Name: "mco-sim"})
	defer s.queue.ShutDown()

	full, err := newClientsets(s.c.Config)
	if err != nil {
		return err
	}
	mf := mcfginformers.NewSharedInformerFactory(full.mc, 0)
	mc := mf.Machineconfiguration().V1()
	kf := kubeinformers.NewSharedInformerFactory(full.kube, 0)
	podf := kubeinformers.NewSharedInformerFactoryWithOptions(full.kube, 0, kubeinformers.WithNamespace(node.CheckNamespace))

	s.moscs, s.mosbs, s.pools, s.mcs = mc.MachineOSConfigs().Lister(), mc.MachineOSBuilds().Lister(), mc.MachineConfigPools().Lister(), mc.MachineConfigs().Lister()
	s.nodes, s.pods = kf.Core().V1().Nodes().Lister(), podf.Core().V1().Pods().Lister()
	s.mcns = mc.MachineConfigNodes().Lister()
	cf := configinformers.NewSharedInformerFactory(full.config, 0)
	s.cvs = cf.Config().V1().ClusterVersions().Lister()
	s.synced = append(s.synced, cf.Config().V1().ClusterVersions().Informer().HasSynced)
	s.synced = append(s.synced, mc.MachineConfigNodes().Informer().HasSynced)

	osf, osInf := s.osImageURLInformer(full.kube)
	handler := func(f func(obj any)) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    f,
			UpdateFunc: func(_, obj any) { f(obj) },
			DeleteFunc: func(obj any) {
				if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = d.Obj
				}
				f(obj)
			},
		}
	}
	regs := []struct {
		inf cache.SharedIndexInformer
		f   func(any)
	}{
		{mc.MachineOSConfigs().Informer(), func(o any) {
			if m, ok := o.(*mcfgv1.MachineOSConfig); ok {
				s.queue.Add(keyPool + m.Spec.MachineConfigPool.Name)
			}
		}},
		{mc.MachineOSBuilds().Informer(), func(o any) {
			if m, ok := o.(*mcfgv1.MachineOSBuild); ok {
				s.queue.Add(keyPool + m.Labels[LabelTargetPool])
			}
		}},
		{mc.MachineConfigPools().Informer(), func(o any) {
			if m, ok := o.(*mcfgv1.MachineConfigPool); ok {
				s.queue.Add(keyPool + m.Name)
			}
		}},
		{mc.MachineConfigs().Informer(), func(any) { s.enqueueAllPools() }},
		{osInf, func(any) { s.enqueueAllPools() }}, // a new release's OS images (upgrade.go)
		{kf.Core().V1().Nodes().Informer(), func(o any) {
			if n, ok := o.(*corev1.Node); ok {
				s.enqueueNodePools(n)
			}
		}},
		{podf.Core().V1().Pods().Informer(), func(o any) {
			if p, ok := o.(*corev1.Pod); ok && (p.Labels[node.LabelRole] == node.RoleNodeCheck || p.Labels[node.LabelRole] == node.RoleTraffic) {
				s.queue.Add(keyPod + p.Namespace + "/" + p.Name)
			}
		}},
	}
	for _, r := range regs {
		if _, err := r.inf.AddEventHandler(handler(r.f)); err != nil {
			return err
		}
		s.synced = append(s.synced, r.inf.HasSynced)
	}
	// MCO's image deletion with its MachineOSBuild (imagetags.go).
	if _, err := mc.MachineOSBuilds().Informer().AddEventHandler(s.mosbDeleted(ctx)); err != nil {
		return err
	}
	mf.Start(ctx.Done())
	cf.Start(ctx.Done())
	defer cf.Shutdown()
	kf.Start(ctx.Done())
	podf.Start(ctx.Done())
	osf.Start(ctx.Done())
	defer osf.Shutdown()
	defer mf.Shutdown()
	defer kf.Shutdown()
	defer podf.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return fmt.Errorf("simulator: informers did not sync: %w", ctx.Err())
	}
	close(s.ready)
	s.opts.Logf("sim: running")

	var wg sync.WaitGroup
	// The image registry operator runs beside the MCO, as on a cluster.
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = NewRegistryOperator(s.c, s.opts.RegistryRollout, s.opts.Logf).Run(ctx)
	}()
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s.processNext(ctx) {
			}
		}()
	}
	<-ctx.Done()
	s.queue.ShutDown()
	wg.Wait()
	s.mu.Lock()
	for _, cancel := range s.builds {
		cancel()
	}
	s.mu.Unlock()
	return nil
}

func (s *Simulator) processNext(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	var err error
	var after time.Duration
	switch {
	case len(key) > len(keyPool) && key[:len(keyPool)] == keyPool:
		after, err = s.reconcilePool(ctx, key[len(keyPool):])
	case len(key) > len(keyPod) && key[:len(keyPod)] == keyPod:
		after, err = s.reconcilePod(ctx, key[len(keyPod):])
	}
	if err != nil {
		if ctx.Err() == nil {
			s.opts.Logf("sim: %s: %v (retrying)", key, err)
			s.noteRejected(err)
		}
		s.queue.AddRateLimited(key)
		return true
	}
	s.queue.Forget(key)
	if after > 0 {
		s.queue.AddAfter(key, after)
	}
	return true
}

func (s *Simulator) enqueueAllPools() {
	if s.queue == nil || s.pools == nil {
		return
	}
	ps, _ := s.pools.List(labels.Everything())
	for _, p := range ps {
		s.queue.Add(keyPool + p.Name)
	}
}

func (s *Simulator) enqueueNodePools(n *corev1.Node) {
	ps, _ := s.pools.List(labels.Everything())
	for _, p := range ps {
		if selectorMatches(p.Spec.NodeSelector, n.Labels) {
			s.queue.Add(keyPool + p.Name)
		}
	}
}
