package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The order in which a client sees a failed build's two writes
// (Faults.DegradedOrder).
//
// The MCO writes the MachineOSBuild's Failed status first: the Job's status
// reaches the build in setStatusOnMachineOSBuildIfNeeded, and that update,
// through the build controller's MachineOSBuild informer, reaches
// updateMachineOSBuild, which sets the pool's ImageBuildDegraded
// (openshift/machine-config-operator, release-4.20,
// pkg/controller/build/reconciler.go syncBuildFailureStatus; release-4.21
// and release-4.22 updateImageBuildDegradedCondition, which also runs when a
// build starts and when the MachineOSConfig changes, always from a build
// status already written). The node controller then sets the pool's
// aggregate Degraded, "Custom OS image build failed"
// (pkg/controller/node/status.go, release-4.20 … 4.22).
//
// A client watches each kind on its own watch, and the API server orders
// events only within one resource (Kubernetes API concepts, "Efficient
// detection of changes"): mosc watch can see the pool's update first. The
// simulator writes the two in the chosen order with DegradedLag between
// them, so a test decides which one the client sees first.
const (
	// OrderAsOperator ("") writes the build, then the pool at once.
	OrderAsOperator = ""
	// OrderBuildFirst holds the pool's ImageBuildDegraded back by
	// DegradedLag after the build's Failed status.
	OrderBuildFirst = "build-first"
	// OrderPoolFirst writes the pool's ImageBuildDegraded, naming the build,
	// and the build's Failed status DegradedLag later.
	OrderPoolFirst = "pool-first"
)

// DefaultDegradedLag is the gap between the two writes when
// Faults.DegradedLag is 0.
const DefaultDegradedLag = 5 * time.Second

func (f Faults) degradedLag() time.Duration {
	if f.DegradedLag > 0 {
		return f.DegradedLag
	}
	return DefaultDegradedLag
}

// poolDegradedMessage is the MCO's ImageBuildDegraded message
// (syncBuildFailureStatus; the build error is getBuildErrorFromMOSB's
// "REASON: MESSAGE" of the Failed condition, release-4.20 helpers.go).
func poolDegradedMessage(pool, mosb, reason, msg string) string {
	return fmt.Sprintf("Failed to build OS image for pool %s (MachineOSBuild: %s): %s: %s", pool, mosb, reason, msg)
}

// beforeBuildFailed runs before finishMOSB writes a Failed status. For
// OrderPoolFirst it makes the pool report the failure, waits until the API
// server has it, then the lag; for OrderBuildFirst it starts the pool's hold.
func (s *Simulator) beforeBuildFailed(ctx context.Context, b *mcfgv1.MachineOSBuild, reason, msg string) error {
	f := s.getFaults()
	pool := b.Labels[LabelTargetPool]
	switch f.DegradedOrder {
	case OrderBuildFirst:
		s.mu.Lock()
		s.degradedHold[b.UID] = time.Now().Add(f.degradedLag())
		s.mu.Unlock()
	case OrderPoolFirst:
		s.mu.Lock()
		s.degradedEarly[b.UID] = poolDegradedMessage(pool, b.Name, reason, msg)
		s.mu.Unlock()
		s.queue.Add(keyPool + pool)
		deadline := time.Now().Add(time.Minute)
		for !s.poolReports(ctx, pool, b.Name) {
			if time.Now().After(deadline) {
				return fmt.Errorf("pool %s does not report MachineOSBuild %s failed after a minute", pool, b.Name)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		s.opts.Logf("sim: pool %s ImageBuildDegraded names MOSB %s; its Failed status follows in %s", pool, b.Name, f.degradedLag())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.degradedLag()):
		}
	}
	return nil
}

// poolReports reads the pool from the API server: ImageBuildDegraded True
// naming the build.
func (s *Simulator) poolReports(ctx context.Context, pool, mosb string) bool {
	p, err := s.c.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
	if err != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == mcfgv1.MachineConfigPoolImageBuildDegraded && c.Status == corev1.ConditionTrue && strings.Contains(c.Message, "(MachineOSBuild: "+mosb+")") {
			return true
		}
	}
	return false
}

// By the build's UID: a rebuild reuses the name.

// earlyDegraded is the pool condition of a build OrderPoolFirst reports
// failed before its status says so (nil: none).
func (s *Simulator) earlyDegraded(mosb types.UID) *buildCondition {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, ok := s.degradedEarly[mosb]
	if !ok {
		return nil
	}
	return &buildCondition{stage: buildFailed, degraded: true, reason: "BuildFailed", message: msg}
}

// degradedHeld says how much longer OrderBuildFirst keeps a failed build
// out of the pool's conditions (0: not held).
func (s *Simulator) degradedHeld(mosb types.UID) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.degradedHold[mosb]
	if !ok {
		return 0
	}
	if d := time.Until(until); d > 0 {
		return d
	}
	delete(s.degradedHold, mosb)
	return 0
}
