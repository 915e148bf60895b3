package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/mosc-dev/mosc/internal/profile"
)

// The MCO's rebuild request and its record of the current build
// (openshift/machine-config-operator, release-4.18 … release-4.22,
// pkg/controller/build/constants/constants.go:
// RebuildMachineOSConfigAnnotationKey, CurrentMachineOSBuildAnnotationKey).
// release-4.16 and release-4.17 (MachineOSConfig v1alpha1,
// pkg/controller/build/build_controller.go) have no rebuild annotation.
const (
	AnnotationRebuild     = "machineconfiguration.openshift.io/rebuild"
	AnnotationCurrentMOSB = "machineconfiguration.openshift.io/current-machine-os-build"
)

// ErrRebuildUnsupported: the cluster's MCO has no rebuild annotation.
var ErrRebuildUnsupported = errors.New("rebuild is not supported on this cluster")

// ErrNothingToRebuild: no MachineOSConfig, or no build of it yet.
var ErrNothingToRebuild = errors.New("nothing to rebuild")

// RebuildOptions are the knobs of Rebuild.
type RebuildOptions struct {
	MOSC string
	// API is the MachineOSConfig version the cluster serves ("v1" or
	// "v1alpha1"); only v1's MCO knows the rebuild annotation.
	API    string
	DryRun DryRun
	Out    io.Writer
	Log    io.Writer
	// Timeout bounds the wait for the MCO to delete the current build
	// (default 2 minutes).
	Timeout time.Duration
}

// RebuildResult says what Rebuild asked for.
type RebuildResult struct {
	// Replaced is the MachineOSBuild the MCO deletes and builds again
	// (same name, new UID).
	Replaced string
	// Pending is true when the annotation was already there: a rebuild
	// requested earlier that the MCO has not acted on yet.
	Pending bool
}

// Rebuild asks the MCO for a new build of the MachineOSConfig's current
// MachineOSBuild the way it supports it: the rebuild annotation. The MCO
// (release-4.18 … release-4.22, pkg/controller/build/reconciler.go
// rebuildMachineOSConfig) then deletes the build named in the
// current-machine-os-build annotation, creates it again for the current
// spec, and removes the annotation when the new build starts
// (updateMachineOSConfigStatus). Rebuild returns once the old build is gone,
// so that a watch started next follows the new one.
func Rebuild(ctx context.Context, c *Clients, o RebuildOptions) (*RebuildResult, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.API != "" && o.API != "v1" {
		return nil, fmt.Errorf("%w: the cluster serves MachineOSConfig %s (OpenShift 4.16, 4.17 or an early 4.18 with TechPreviewNoUpgrade), whose Machine Config Operator has no rebuild annotation "+
			"(it came with release-4.18's build controller, annotation %s); to build again, change the MachineOSConfig's spec (mosc apply with a changed plan) or delete and re-apply it",
			ErrRebuildUnsupported, o.API, AnnotationRebuild)
	}
	moscs := c.MachineConfig.MachineconfigurationV1().MachineOSConfigs()
	mosc, err := moscs.Get(ctx, o.MOSC, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: no MachineOSConfig %s (mosc apply creates it, and the MCO builds it then)", ErrNothingToRebuild, o.MOSC)
	}
	if err != nil {
		return nil, fmt.Errorf("reading machineosconfig %s: %w", o.MOSC, err)
	}
	current := mosc.Annotations[AnnotationCurrentMOSB]
	if current == "" {
		// rebuildMachineOSConfig: "does not have current build annotation
		// (...) set, skipping rebuild".
		return nil, fmt.Errorf("%w: MachineOSConfig %s has no build yet (no %s annotation), and the MCO ignores a rebuild request then; the first build starts on its own (mosc watch follows it)",
			ErrNothingToRebuild, o.MOSC, AnnotationCurrentMOSB)
	}
	res := &RebuildResult{Replaced: current}
	old, err := c.MachineConfig.MachineconfigurationV1().MachineOSBuilds().Get(ctx, current, metav1.GetOptions{})
	var oldUID types.UID
	switch {
	case apierrors.IsNotFound(err):
		// Already gone (deleted by hand, or a rebuild in flight): the MCO
		// ignores the annotation then ("cannot rebuild ...: not found"), and
		// its sync makes the build anew.
		fmt.Fprintf(o.Log, "machineosbuild/%s is gone already: the MCO builds it again on its next sync\n", current)
	case err != nil:
		return nil, fmt.Errorf("reading machineosbuild %s: %w", current, err)
	default:
		oldUID = old.UID
	}
	if _, ok := mosc.Annotations[AnnotationRebuild]; ok {
		res.Pending = true
		fmt.Fprintf(o.Log, "machineosconfig/%s already asks for a rebuild (annotation %s); waiting for the MCO\n", o.MOSC, AnnotationRebuild)
	} else if o.DryRun != DryRunClient {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:""}}}`, AnnotationRebuild)
		po := metav1.PatchOptions{FieldManager: FieldManager, DryRun: o.DryRun.opts()}
		if _, err := moscs.Patch(ctx, o.MOSC, types.MergePatchType, []byte(patch), po); err != nil {
			return nil, fmt.Errorf("annotating machineosconfig %s for a rebuild: %w", o.MOSC, err)
		}
	}
	if !res.Pending {
		fmt.Fprintln(o.Out, Result{Ref: "machineosconfig/" + o.MOSC, Action: "annotated " + AnnotationRebuild, DryRun: o.DryRun}.String())
	}
	if o.DryRun != DryRunNone || oldUID == "" {
		return res, nil
	}
	fmt.Fprintf(o.Log, "waiting for the MCO to replace machineosbuild/%s\n", current)
	if err := waitMOSBReplaced(ctx, c, current, oldUID, o.Timeout); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Log, "machineosbuild/%s deleted by the MCO; it builds it again\n", current)
	return res, nil
}

// waitMOSBReplaced watches the MachineOSBuild until the object with uid is
// gone (deleted, or replaced by one of the same name).
func waitMOSBReplaced(ctx context.Context, c *Clients, name string, uid types.UID, timeout time.Duration) error {
	mosbs := c.MachineConfig.MachineconfigurationV1().MachineOSBuilds()
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return mosbs.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return mosbs.Watch(ctx, o)
		},
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	gone := func(store cache.Store) (bool, error) {
		for _, o := range store.List() {
			if b, ok := o.(*mcfgv1.MachineOSBuild); ok && b.UID == uid && b.DeletionTimestamp == nil {
				return false, nil
			}
		}
		return true, nil
	}
	_, err := watchtools.UntilWithSync(wctx, lw, &mcfgv1.MachineOSBuild{}, gone, func(ev watch.Event) (bool, error) {
		b, ok := ev.Object.(*mcfgv1.MachineOSBuild)
		if !ok {
			return false, nil
		}
		return ev.Type == watch.Deleted && b.UID == uid || b.UID != uid || b.DeletionTimestamp != nil, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the MCO did not act on the rebuild request within %s (machineosbuild/%s is still there): is the machine-os-builder pod running in %s?", timeout, name, profile.MCONamespace)
	}
	return nil
}
