// Package watch follows a MachineOSConfig from its MachineOSBuild through the
// pool's rollout to verified OVS-DOCA on every node. The model is a pure
// function of object snapshots (Evaluate), changes between two evaluations
// are Events (Diff), and a Watcher feeds snapshots from informers.
package watch

import (
	"fmt"
	"sort"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// Annotations and labels the Machine Config Operator sets (FACTS.md §1).
const (
	AnnotationCurrentMOSB   = "machineconfiguration.openshift.io/current-machine-os-build"
	AnnotationCurrentConfig = "machineconfiguration.openshift.io/currentConfig"
	AnnotationDesiredConfig = "machineconfiguration.openshift.io/desiredConfig"
	AnnotationState         = "machineconfiguration.openshift.io/state"
	AnnotationReason        = "machineconfiguration.openshift.io/reason"
	AnnotationCurrentImage  = "machineconfiguration.openshift.io/currentImage"
	AnnotationDesiredImage  = "machineconfiguration.openshift.io/desiredImage"
	LabelMachineOSConfig    = "machineconfiguration.openshift.io/machine-os-config"
	// LabelJobName is set by the Job controller on a Job's pods.
	LabelJobName = "job-name"
	// BuildContainer is the build pod's buildah container.
	BuildContainer = "image-build"
	MCONamespace   = "openshift-machine-config-operator"
)

// Node states of the machine-config daemon.
const (
	NodeDone           = "Done"
	NodeWorking        = "Working"
	NodeRebooting      = "Rebooting"
	NodeDegraded       = "Degraded"
	NodeUnreconcilable = "Unreconcilable"
)

// Phase of the whole rollout.
type Phase string

const (
	PhaseBuild   Phase = "build"
	PhaseRollout Phase = "rollout"
	PhaseVerify  Phase = "verify"
	PhaseDone    Phase = "done"
	PhaseFailed  Phase = "failed"
)

// Build states: the True one of the MOSB's five conditions, or a waiting state.
const (
	BuildNoMOSC       = "NoMachineOSConfig"
	BuildWaiting      = "Waiting" // no MOSB for the current spec yet
	BuildPending      = "Pending" // MOSB exists, no condition True yet
	BuildPrepared     = "Prepared"
	BuildBuilding     = "Building"
	BuildSucceeded    = "Succeeded"
	BuildFailed       = "Failed"
	BuildInterrupted  = "Interrupted"
	buildConditionSet = "Prepared,Building,Succeeded,Failed,Interrupted"
)

// Check states of a node's on-node verification.
const (
	CheckNone     = ""         // node not updated yet
	CheckPending  = "pending"  // updated, check not started
	CheckRunning  = "running"  // check pod(s) in flight
	CheckEnabling = "enabling" // setting doca-init and restarting openvswitch
	CheckPassed   = "passed"
	CheckFailed   = "failed" // the node is not working as the plan says
	CheckError    = "error"  // the check could not run (retried)
)

// Snapshot is everything the model looks at, as read from the API (listers).
type Snapshot struct {
	Pool string // MachineConfigPool name
	MOSC string // MachineOSConfig name (== Pool for v1)

	MOSCObj   *mcfgv1.MachineOSConfig
	MOSBs     []*mcfgv1.MachineOSBuild
	Pools     []*mcfgv1.MachineConfigPool // all pools: node membership depends on them
	Nodes     []*corev1.Node              // candidate nodes (may include other pools')
	MCNs      map[string]*mcfgv1.MachineConfigNode
	BuildPods []*corev1.Pod
	// Checks are the verification results the watcher keeps, by node.
	Checks map[string]CheckState
	// ExpectedMOSBs are the names the MCO gives the MachineOSBuild for the
	// MOSC's current spec (MachineOSBuildName, by each release's inputs that
	// could be read); empty when none could be computed, and the build is
	// then found from the annotation.
	ExpectedMOSBs []string
}

// CheckState is one node's verification state.
type CheckState struct {
	State string `json:"state"`
	// Image is the node's currentImage when it was checked; a node that later
	// boots another image is checked again.
	Image    string   `json:"image,omitempty"`
	Problems []string `json:"problems,omitempty"`
	Message  string   `json:"message,omitempty"`
	Enabled  bool     `json:"docaInitEnabled,omitempty"`
	Attempts int      `json:"-"`
}

// Status is the model's view of the rollout at one moment.
type Status struct {
	Pool  string `json:"pool"`
	MOSC  string `json:"machineOSConfig"`
	Phase Phase  `json:"phase"`
	// Waiting says, in words, what the current phase waits for.
	Waiting string `json:"waiting,omitempty"`

	Build BuildStatus `json:"build"`
	// TargetImage is the MOSC's status.currentImagePullSpec once it points
	// at the current build's image ("" before).
	TargetImage string       `json:"targetImage,omitempty"`
	PoolStatus  PoolStatus   `json:"poolStatus"`
	Nodes       []NodeStatus `json:"nodes"`

	Total    int `json:"total"`
	Updated  int `json:"updated"`
	Verified int `json:"verified"`

	// Failure is set when the rollout cannot succeed (build failed, node or
	// pool degraded, a node failed verification).
	Failure *Failure `json:"failure,omitempty"`

	// PushCredential is mosc status's verdict on the secret the
	// MachineOSConfig pushes with (watch leaves it nil): every later build
	// pushes with it, so an expired one stalls the next upgrade.
	PushCredential *PushCredential `json:"pushCredential,omitempty"`
}

// PushCredential describes a push secret without its contents: what kind
// of credential it holds and until when it works.
type PushCredential struct {
	Secret string `json:"secret"`
	// Kind: service-account-token, token, managed or unknown
	// (cluster.PushCredential); "" when the secret could not be read.
	Kind        string     `json:"kind,omitempty"`
	Registry    string     `json:"registry,omitempty"`
	Expiry      *time.Time `json:"expiry,omitempty"`
	TokenSecret string     `json:"tokenSecret,omitempty"`
	// Verdict is ok, warn or fail, as gate's push-token check judges it;
	// error when the secret could not be read (Message says why).
	Verdict string `json:"verdict"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
}

// Failure says why a rollout failed, naming the object.
type Failure struct {
	Phase  Phase  `json:"phase"`
	Object string `json:"object"`
	Reason string `json:"reason"`
	// LogTail is the end of the build log (build failures only).
	LogTail []string `json:"logTail,omitempty"`
	// Cause classifies a build failure (Classify), with a remedy.
	Cause *Cause `json:"cause,omitempty"`
	// Evidence is the directory the failed build's evidence was saved to.
	Evidence string `json:"evidence,omitempty"`
	// PoolOnly: the pool's ImageBuildDegraded names the followed build as
	// failed, but the build's own status read here does not say so yet
	// (poolReportsBuildFailed); Watcher waits a bounded time for it.
	PoolOnly bool `json:"-"`
}

func (f *Failure) Error() string {
	s := f.Object + ": " + f.Reason
	if f.Cause != nil {
		s += "\n" + f.Cause.String() + "\nremedy: " + f.Cause.Remedy
	}
	if f.Evidence != "" {
		s += "\nevidence saved to " + f.Evidence
	}
	if len(f.LogTail) > 0 {
		s += "\nlast lines of the build log:\n  " + strings.Join(f.LogTail, "\n  ")
	}
	return s
}

// BuildStatus follows the MachineOSBuild for the MOSC's current spec.
type BuildStatus struct {
	MOSB    string     `json:"machineOSBuild,omitempty"`
	State   string     `json:"state"`
	Reason  string     `json:"reason,omitempty"`
	Message string     `json:"message,omitempty"`
	Start   *time.Time `json:"start,omitempty"`
	End     *time.Time `json:"end,omitempty"`
	Image   string     `json:"image,omitempty"` // digestedImagePushSpec
	Job     string     `json:"job,omitempty"`
	Pod     string     `json:"pod,omitempty"`
	// PodRunning is true once the build container has started (logs exist).
	PodRunning bool `json:"-"`
	// Created is the MachineOSBuild's creationTimestamp (a rebuild reuses
	// the name: this tells the builds apart).
	Created time.Time `json:"-"`
}

// Duration of the build so far (or in all, once ended).
func (b BuildStatus) Duration(now time.Time) time.Duration {
	if b.Start == nil {
		return 0
	}
	end := now
	if b.End != nil {
		end = *b.End
	}
	return end.Sub(*b.Start).Round(time.Second)
}

// PoolStatus is the MachineConfigPool's status.
type PoolStatus struct {
	Name        string `json:"name"`
	Config      string `json:"config,omitempty"`
	Machines    int32  `json:"machineCount"`
	Updated     int32  `json:"updatedMachineCount"`
	Ready       int32  `json:"readyMachineCount"`
	Unavailable int32  `json:"unavailableMachineCount"`
	Degraded    int32  `json:"degradedMachineCount"`
	// Conditions holds Updated, Updating, Degraded, NodeDegraded,
	// RenderDegraded and ImageBuildDegraded as "True"/"False" (absent: "").
	Conditions map[string]string `json:"conditions,omitempty"`
	// Messages of the True degraded conditions.
	Messages map[string]string `json:"messages,omitempty"`
	// Since is each condition's lastTransitionTime.
	Since map[string]time.Time `json:"-"`
}

// Pool condition types that fail a rollout when True.
var poolDegradedConditions = []string{"Degraded", "NodeDegraded", "RenderDegraded", "ImageBuildDegraded"}

// PoolConditionTypes are shown, in order.
var PoolConditionTypes = []string{"Updated", "Updating", "Degraded", "ImageBuildDegraded"}

// NodeStatus is one node of the pool.
type NodeStatus struct {
	Name          string `json:"name"`
	State         string `json:"state"`
	Reason        string `json:"reason,omitempty"`
	CurrentConfig string `json:"currentConfig,omitempty"`
	DesiredConfig string `json:"desiredConfig,omitempty"`
	CurrentImage  string `json:"currentImage,omitempty"`
	DesiredImage  string `json:"desiredImage,omitempty"`
	// MCN lists the True conditions of the node's MachineConfigNode.
	MCN []string `json:"machineConfigNode,omitempty"`
	// Updated is the FACTS.md §1 rule: configs and images all equal the
	// targets, state Done.
	Updated bool `json:"updated"`
	// Waiting says why a node is not updated yet.
	Waiting string     `json:"waiting,omitempty"`
	Check   CheckState `json:"check"`
}

// InFlight says whether a node is being worked on (shown in the live table).
func (n NodeStatus) InFlight() bool {
	if n.Updated {
		return n.Check.State != CheckPassed
	}
	return n.State != NodeDone || n.DesiredImage != n.CurrentImage || n.DesiredConfig != n.CurrentConfig
}

// Done says the rollout finished: every node updated and verified.
func (s *Status) Done() bool { return s.Phase == PhaseDone }

// NodeDoneInput is what the node-done rule looks at.
type NodeDoneInput struct {
	CurrentConfig, DesiredConfig, PoolConfig string
	State                                    string
	CurrentImage, DesiredImage, TargetImage  string
}

// NodeUpdated applies FACTS.md §1: a layered node is done when currentConfig
// == desiredConfig == the pool's spec config, state == Done, and
// currentImage == desiredImage == the MOSC's status.currentImagePullSpec.
// The second result says what is still missing.
func NodeUpdated(in NodeDoneInput) (bool, string) {
	switch {
	case in.TargetImage == "":
		return false, "no built image yet"
	case in.State != NodeDone:
		if in.State == "" {
			return false, "no machine-config daemon state"
		}
		return false, "state " + in.State
	case in.DesiredImage != in.TargetImage:
		return false, "desiredImage is not the new image yet"
	case in.CurrentImage != in.DesiredImage:
		return false, "currentImage differs from desiredImage"
	case in.PoolConfig != "" && in.DesiredConfig != in.PoolConfig:
		return false, "desiredConfig " + in.DesiredConfig + " is not the pool's " + in.PoolConfig
	case in.CurrentConfig != in.DesiredConfig:
		return false, "currentConfig differs from desiredConfig"
	}
	return true, ""
}

// Evaluate computes the Status of a snapshot.
func Evaluate(s Snapshot) Status {
	st := Status{Pool: s.Pool, MOSC: s.MOSC, Phase: PhaseBuild}
	pool := findPool(s.Pools, s.Pool)
	if pool != nil {
		st.PoolStatus = poolStatus(pool)
	} else {
		st.PoolStatus = PoolStatus{Name: s.Pool}
	}
	st.Build = buildStatus(s, pool)
	target := ""
	if s.MOSCObj != nil && st.Build.State == BuildSucceeded {
		cur := string(s.MOSCObj.Status.CurrentImagePullSpec)
		// The MOSC may still point at the previous build's image for a moment.
		if st.Build.Image == "" || cur == st.Build.Image {
			target = cur
		}
	}
	st.TargetImage = target
	poolConfig := ""
	if pool != nil {
		poolConfig = pool.Spec.Configuration.Name
	}

	for _, n := range poolNodes(s.Nodes, s.Pools, pool) {
		ns := nodeStatus(n, s.MCNs[n.Name])
		ns.Updated, ns.Waiting = NodeUpdated(NodeDoneInput{
			CurrentConfig: ns.CurrentConfig, DesiredConfig: ns.DesiredConfig, PoolConfig: poolConfig,
			State: ns.State, CurrentImage: ns.CurrentImage, DesiredImage: ns.DesiredImage, TargetImage: target,
		})
		if ns.Updated {
			st.Updated++
			c, ok := s.Checks[n.Name]
			if ok && c.Image == ns.CurrentImage {
				ns.Check = c
			} else {
				ns.Check = CheckState{State: CheckPending, Image: ns.CurrentImage}
			}
			if ns.Check.State == CheckPassed {
				st.Verified++
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Name < st.Nodes[j].Name })
	st.Total = len(st.Nodes)

	st.Failure = failure(s, &st)
	switch {
	case st.Failure != nil:
		st.Phase = PhaseFailed
	case st.Build.State != BuildSucceeded || target == "":
		st.Phase = PhaseBuild
		st.Waiting = buildWaiting(st.Build, target)
	case st.Updated < st.Total:
		st.Phase = PhaseRollout
		st.Waiting = fmt.Sprintf("%d of %d nodes updated", st.Updated, st.Total)
	case st.Verified < st.Total:
		st.Phase = PhaseVerify
		st.Waiting = fmt.Sprintf("%d of %d nodes verified", st.Verified, st.Total)
	default:
		st.Phase = PhaseDone
	}
	return st
}

func buildWaiting(b BuildStatus, target string) string {
	switch b.State {
	case BuildNoMOSC, BuildWaiting:
		return b.Message
	case BuildSucceeded:
		if target == "" {
			return "MachineOSConfig status.currentImagePullSpec does not point at " + b.Image + " yet"
		}
	}
	if b.MOSB != "" {
		return "MachineOSBuild " + b.MOSB + " " + b.State
	}
	return b.State
}

func failure(s Snapshot, st *Status) *Failure {
	switch st.Build.State {
	case BuildFailed, BuildInterrupted:
		reason := withMessage(st.Build.State, st.Build.Message)
		if st.Build.Reason != "" && st.Build.Reason != st.Build.State {
			reason += " (reason " + st.Build.Reason + ")"
		}
		return &Failure{Phase: PhaseBuild, Object: "machineosbuild/" + st.Build.MOSB, Reason: reason}
	}
	for _, n := range st.Nodes {
		if n.State == NodeDegraded || n.State == NodeUnreconcilable {
			r := n.Reason
			if r == "" {
				r = "(no reason annotation)"
			}
			return &Failure{Phase: PhaseRollout, Object: "node/" + n.Name, Reason: n.State + ": " + r}
		}
		for _, c := range n.MCN {
			if c == string(mcfgv1.MachineConfigNodeNodeDegraded) {
				msg := ""
				if mcn := s.MCNs[n.Name]; mcn != nil {
					if cond := meta.FindStatusCondition(mcn.Status.Conditions, c); cond != nil {
						msg = cond.Message
					}
				}
				return &Failure{Phase: PhaseRollout, Object: "node/" + n.Name, Reason: "MachineConfigNode NodeDegraded: " + msg}
			}
		}
		if n.Check.State == CheckFailed {
			return &Failure{Phase: PhaseVerify, Object: "node/" + n.Name, Reason: "verification failed: " + strings.Join(n.Check.Problems, "; ")}
		}
	}
	for _, t := range poolDegradedConditions {
		// ImageBuildDegraded stays True for the failed build until the MCO
		// has started the next one: when the build waited for is known by
		// name, only a message naming it fails the rollout (its own Failed
		// condition does anyway).
		if t == "ImageBuildDegraded" && len(s.ExpectedMOSBs) > 0 && !mentionsAny(st.PoolStatus.Messages[t], s.ExpectedMOSBs) {
			continue
		}
		if t == "ImageBuildDegraded" && staleForBuild(st.PoolStatus.Since[t], st.Build) {
			continue
		}
		if st.PoolStatus.Conditions[t] != "True" {
			continue
		}
		if t == "Degraded" && buildOnlyDegraded(st.PoolStatus) {
			continue // ImageBuildDegraded, below, says which build
		}
		if t == "ImageBuildDegraded" && poolReportsBuildFailed(st.PoolStatus.Messages[t], st.Build) {
			return &Failure{Phase: PhaseBuild, Object: "machineosbuild/" + st.Build.MOSB, PoolOnly: true,
				Reason: fmt.Sprintf("machineconfigpool/%s %s: %s", st.Pool, t, st.PoolStatus.Messages[t])}
		}
		return &Failure{Phase: PhaseRollout, Object: "machineconfigpool/" + st.Pool, Reason: t + ": " + st.PoolStatus.Messages[t]}
	}
	return nil
}

// buildOnlyDegraded: the pool's aggregate Degraded condition stands only
// for a failed build. The node controller sets it True with the message
// "Custom OS image build failed" when ImageBuildDegraded is True and no node
// is degraded (openshift/machine-config-operator, release-4.20 …
// release-4.22, pkg/controller/node/status.go calculateStatus), one sync
// after the build controller, and clears it a sync after a new build
// starts: judged by itself it names no build, may be stale, and would hide
// the build's cause.
func buildOnlyDegraded(p PoolStatus) bool {
	if p.Conditions["NodeDegraded"] == "True" || p.Conditions["RenderDegraded"] == "True" {
		return false
	}
	return p.Messages["Degraded"] == "Custom OS image build failed" || p.Conditions["ImageBuildDegraded"] == "True"
}

// degradedBuildRE finds the build the MCO names in ImageBuildDegraded:
// "Failed to build OS image for pool P (MachineOSBuild: NAME): ERR"
// (openshift/machine-config-operator, release-4.20 … release-4.22,
// pkg/controller/build/reconciler.go syncBuildFailureStatus).
var degradedBuildRE = lazyre.New(`\(MachineOSBuild: ([^)\s]+)\)`)

// poolReportsBuildFailed: ImageBuildDegraded names the followed build while
// its own status, as read here, is not Failed yet. The MCO writes the
// MachineOSBuild's Failed status first and sets the pool condition from it
// (release-4.20 … 4.22 reconciler.go: the Job's status goes to the MOSB in
// setStatusOnMachineOSBuildIfNeeded; the MOSB update then reaches
// updateMachineOSBuild, which calls syncBuildFailureStatus from 4.20 and
// updateImageBuildDegradedCondition from 4.21), but a watcher reads each
// kind through its own watch, with no order across kinds: the pool's
// update can arrive first. So this is a build failure whose cause is the
// build's, not the pool's.
func poolReportsBuildFailed(msg string, b BuildStatus) bool {
	m := degradedBuildRE.FindStringSubmatch(msg)
	return m != nil && b.MOSB != "" && m[1] == b.MOSB && !BuildEnded(b.State)
}

// staleForBuild: ImageBuildDegraded turned True before the followed build
// existed, so it is about an earlier build — one a rebuild deleted and
// created again under the same name. The MCO sets the condition False when
// it starts a build (release-4.20 … 4.22 reconciler.go startBuild:
// initializeBuildDegradedCondition, 4.21+ through
// updateImageBuildDegradedCondition; node/status.go clears it too while a
// build runs), so a failure of this build turns it True again, later than
// the build's creation; until the clear arrives the stale condition is not
// this build's. (Seconds resolution: a build cannot fail within the second
// it was created.)
// While the watch still waits for the build (Waiting: not created yet,
// or one being replaced) the condition is an earlier build's by definition.
func staleForBuild(since time.Time, b BuildStatus) bool {
	if b.MOSB != "" && b.State == BuildWaiting {
		return true
	}
	return b.MOSB != "" && !since.IsZero() && !b.Created.IsZero() && since.Before(b.Created)
}

// BuildEnded reports whether a build state is final.
func BuildEnded(state string) bool {
	return state == BuildSucceeded || state == BuildFailed || state == BuildInterrupted
}

func mentionsAny(msg string, names []string) bool {
	for _, n := range names {
		if strings.Contains(msg, n) {
			return true
		}
	}
	return false
}

// withMessage appends a condition message to its state, unless the message
// already starts with it (the MCO writes "Failed: Build Failed: …").
func withMessage(state, msg string) string {
	switch {
	case msg == "":
		return state
	case strings.HasPrefix(msg, state):
		return msg
	}
	return state + ": " + msg
}

func findPool(pools []*mcfgv1.MachineConfigPool, name string) *mcfgv1.MachineConfigPool {
	for _, p := range pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func poolStatus(p *mcfgv1.MachineConfigPool) PoolStatus {
	ps := PoolStatus{
		Name: p.Name, Config: p.Spec.Configuration.Name,
		Machines: p.Status.MachineCount, Updated: p.Status.UpdatedMachineCount, Ready: p.Status.ReadyMachineCount,
		Unavailable: p.Status.UnavailableMachineCount, Degraded: p.Status.DegradedMachineCount,
		Conditions: map[string]string{}, Messages: map[string]string{}, Since: map[string]time.Time{},
	}
	for _, c := range p.Status.Conditions {
		ps.Conditions[string(c.Type)] = string(c.Status)
		ps.Since[string(c.Type)] = c.LastTransitionTime.Time
		if c.Status == corev1.ConditionTrue && c.Message != "" {
			ps.Messages[string(c.Type)] = c.Message
		}
	}
	return ps
}

// buildStatus finds the MachineOSBuild for the MOSC's current spec: the one
// the MOSC's current-machine-os-build annotation names, else the newest one
// labelled with the MOSC; one built for another rendered config than the
// pool's is stale (MCO has yet to start the new build).
func buildStatus(s Snapshot, pool *mcfgv1.MachineConfigPool) BuildStatus {
	if s.MOSCObj == nil {
		// Never applied, or removed: then the pool's nodes run, or are
		// reverting to, the stock image.
		return BuildStatus{State: BuildNoMOSC, Message: "no MachineOSConfig " + s.MOSC + ": layering is not enabled on this pool (its nodes run, or revert to, the stock image)"}
	}
	mosc := s.MOSCObj
	if len(s.ExpectedMOSBs) > 0 {
		return expectedBuildStatus(s, mosc)
	}
	var mosb *mcfgv1.MachineOSBuild
	if name := mosc.Annotations[AnnotationCurrentMOSB]; name != "" {
		for _, b := range s.MOSBs {
			if b.Name == name {
				mosb = b
			}
		}
	}
	if mosb == nil {
		for _, b := range s.MOSBs {
			if b.Labels[LabelMachineOSConfig] != mosc.Name && b.Spec.MachineOSConfig.Name != mosc.Name {
				continue
			}
			if mosb == nil || b.CreationTimestamp.After(mosb.CreationTimestamp.Time) ||
				b.CreationTimestamp.Equal(&mosb.CreationTimestamp) && b.Name > mosb.Name {
				mosb = b
			}
		}
	}
	if mosb == nil {
		return BuildStatus{State: BuildWaiting, Message: "no MachineOSBuild for MachineOSConfig " + mosc.Name + " yet"}
	}
	// A build superseded by a newer spec shows Interrupted while the
	// annotation still names it (the MCO stops it before it moves the
	// annotation): not a failure of what is being waited for.
	if superseded(mosb, mosc, s.MOSBs) {
		return BuildStatus{State: BuildWaiting, MOSB: mosb.Name,
			Message: fmt.Sprintf("MachineOSBuild %s was interrupted by a newer spec; waiting for the operator to start the new build", mosb.Name)}
	}
	if pool != nil && pool.Spec.Configuration.Name != "" && mosb.Spec.MachineConfig.Name != "" &&
		mosb.Spec.MachineConfig.Name != pool.Spec.Configuration.Name {
		return BuildStatus{State: BuildWaiting, MOSB: mosb.Name,
			Message: fmt.Sprintf("MachineOSBuild %s is for %s; waiting for a build of the pool's %s", mosb.Name, mosb.Spec.MachineConfig.Name, pool.Spec.Configuration.Name)}
	}
	b := buildState(mosb)
	// Right after a spec change the annotation still names the previous,
	// finished build; a MOSC whose observedGeneration lags is not done.
	if og := mosc.Status.ObservedGeneration; b.State == BuildSucceeded && og != 0 && og < mosc.Generation {
		return BuildStatus{State: BuildWaiting, MOSB: mosb.Name,
			// Either the new build has finished and the operator has not yet
			// recorded it on the MOSC, or the annotation still names the old
			// one: say what is known rather than "not built".
			Message: fmt.Sprintf("MachineOSBuild %s Succeeded; waiting for the operator to observe MachineOSConfig %s generation %d (observed %d) and record its build",
				mosb.Name, mosc.Name, mosc.Generation, og)}
	}
	return buildDetails(s, mosb, b)
}

// buildDetails fills in times, Job and pod of the chosen build.
func buildDetails(s Snapshot, mosb *mcfgv1.MachineOSBuild, b BuildStatus) BuildStatus {
	if mosb.Status.BuildStart != nil {
		t := mosb.Status.BuildStart.Time
		b.Start = &t
	}
	if mosb.Status.BuildEnd != nil {
		t := mosb.Status.BuildEnd.Time
		b.End = &t
	}
	b.Job = "build-" + mosb.Name
	podName := ""
	if j := mosb.Status.Builder; j != nil && j.Job != nil && j.Job.Name != "" {
		b.Job = j.Job.Name
		if j.Job.Resource == "pods" {
			// v1alpha1 (PodImageBuilder): a bare Pod, found by its name.
			podName, b.Job = j.Job.Name, ""
		}
	}
	var pod *corev1.Pod
	for _, p := range s.BuildPods {
		match := p.Labels[LabelJobName] == b.Job
		if podName != "" {
			match = p.Name == podName
		}
		if match && p.DeletionTimestamp == nil &&
			(pod == nil || p.CreationTimestamp.After(pod.CreationTimestamp.Time)) {
			pod = p
		}
	}
	if pod != nil {
		b.Pod = pod.Name
		// image-build is a container of the build pod before 4.20 and an
		// init container from 4.20 (openshift/machine-config-operator,
		// release-4.20, pkg/controller/build/buildrequest/buildrequest.go),
		// where the pod stays Pending while it builds. pods/log serves
		// either by name.
		for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
			if cs.Name == BuildContainer && (cs.State.Running != nil || cs.State.Terminated != nil) {
				b.PodRunning = true
			}
		}
	}
	return b
}

// buildState reads the True condition of a MOSB; a final one wins.
func buildState(mosb *mcfgv1.MachineOSBuild) BuildStatus {
	b := BuildStatus{MOSB: mosb.Name, State: BuildPending, Image: string(mosb.Status.DigestedImagePushSpec), Created: mosb.CreationTimestamp.Time}
	for _, t := range strings.Split(buildConditionSet, ",") {
		if c := meta.FindStatusCondition(mosb.Status.Conditions, t); c != nil && c.Status == metav1.ConditionTrue {
			b.State, b.Reason, b.Message = t, c.Reason, c.Message
		}
	}
	for _, t := range []string{BuildSucceeded, BuildFailed, BuildInterrupted} {
		if c := meta.FindStatusCondition(mosb.Status.Conditions, t); c != nil && c.Status == metav1.ConditionTrue {
			b.State, b.Reason, b.Message = t, c.Reason, c.Message
		}
	}
	return b
}

// superseded: an Interrupted build that is being deleted, or that a newer
// build of the same MOSC or a newer MOSC generation replaces.
func superseded(mosb *mcfgv1.MachineOSBuild, mosc *mcfgv1.MachineOSConfig, all []*mcfgv1.MachineOSBuild) bool {
	if !meta.IsStatusConditionTrue(mosb.Status.Conditions, BuildInterrupted) {
		return false
	}
	if mosb.DeletionTimestamp != nil {
		return true
	}
	if og := mosc.Status.ObservedGeneration; og != 0 && og < mosc.Generation {
		return true
	}
	for _, b := range all {
		if b.Name != mosb.Name && (b.Labels[LabelMachineOSConfig] == mosc.Name || b.Spec.MachineOSConfig.Name == mosc.Name) &&
			b.CreationTimestamp.After(mosb.CreationTimestamp.Time) {
			return true
		}
	}
	return false
}

// expectedBuildStatus follows the MOSB with the name the MCO computes for
// the current spec: neither the annotation (moved only once the new build's
// Job exists) nor observedGeneration (before 4.21 moved only when
// currentImagePullSpec changes, so a spec reverted during a build leaves it
// behind for good) is needed.
func expectedBuildStatus(s Snapshot, mosc *mcfgv1.MachineOSConfig) BuildStatus {
	var mosb *mcfgv1.MachineOSBuild
	for _, b := range s.MOSBs {
		for _, n := range s.ExpectedMOSBs {
			if b.Name == n && (mosb == nil || b.CreationTimestamp.After(mosb.CreationTimestamp.Time)) {
				mosb = b
			}
		}
	}
	if mosb == nil {
		return BuildStatus{State: BuildWaiting, MOSB: s.ExpectedMOSBs[0],
			Message: fmt.Sprintf("waiting for the operator to create MachineOSBuild %s for MachineOSConfig %s generation %d", s.ExpectedMOSBs[0], mosc.Name, mosc.Generation)}
	}
	b := buildState(mosb)
	if b.State == BuildInterrupted && mosb.DeletionTimestamp != nil {
		// Being deleted: the MCO stops a build it replaces and creates it anew
		// when the spec returns to it.
		return BuildStatus{State: BuildWaiting, MOSB: mosb.Name,
			Message: fmt.Sprintf("MachineOSBuild %s was interrupted and is being deleted; waiting for the operator to build it again", mosb.Name)}
	}
	return buildDetails(s, mosb, b)
}

// poolNodes picks the pool's nodes the way the MCO does: the pool's
// nodeSelector matches, and a node matched by master and another pool
// belongs to master, by a custom pool and worker to the custom pool.
func poolNodes(nodes []*corev1.Node, pools []*mcfgv1.MachineConfigPool, pool *mcfgv1.MachineConfigPool) []*corev1.Node {
	if pool == nil {
		return nil
	}
	sel, err := selectorOf(pool)
	if err != nil {
		return nil
	}
	sels := make([]poolSelector, 0, len(pools))
	for _, p := range pools {
		if s, err := selectorOf(p); err == nil {
			sels = append(sels, poolSelector{p.Name, s})
		}
	}
	var out []*corev1.Node
	for _, n := range nodes {
		if !sel.Matches(labels.Set(n.Labels)) {
			continue
		}
		if owner := ownerPool(n, sels); owner != "" && owner != pool.Name {
			continue
		}
		out = append(out, n)
	}
	return out
}

func selectorOf(p *mcfgv1.MachineConfigPool) (labels.Selector, error) {
	if p.Spec.NodeSelector == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(p.Spec.NodeSelector)
}

// ownerPool resolves a node matched by several pools.
type poolSelector struct {
	name string
	sel  labels.Selector
}

func ownerPool(n *corev1.Node, pools []poolSelector) string {
	var matched []string
	for _, p := range pools {
		if p.sel.Matches(labels.Set(n.Labels)) {
			matched = append(matched, p.name)
		}
	}
	if len(matched) <= 1 {
		return ""
	}
	for _, m := range matched {
		if m == "master" {
			return m
		}
	}
	var custom []string
	for _, m := range matched {
		if m != "worker" {
			custom = append(custom, m)
		}
	}
	if len(custom) == 1 {
		return custom[0]
	}
	return "" // ambiguous: the MCO reports an error; show the node in every pool
}

func nodeStatus(n *corev1.Node, mcn *mcfgv1.MachineConfigNode) NodeStatus {
	a := n.Annotations
	ns := NodeStatus{
		Name: n.Name, State: a[AnnotationState], Reason: a[AnnotationReason],
		CurrentConfig: a[AnnotationCurrentConfig], DesiredConfig: a[AnnotationDesiredConfig],
		CurrentImage: a[AnnotationCurrentImage], DesiredImage: a[AnnotationDesiredImage],
	}
	if mcn != nil {
		for _, c := range mcn.Status.Conditions {
			if c.Status == metav1.ConditionTrue {
				ns.MCN = append(ns.MCN, c.Type)
			}
		}
		sort.Strings(ns.MCN)
	}
	return ns
}
