package gate

import (
	"context"
	"fmt"
	"sort"
	"strings"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/watch"
)

// Check ids of mosc gate --after: the other side of an upgrade.
const (
	IDAfterRelease = "after-release"
	IDAfterBuild   = "after-build"
	IDAfterRollout = "after-rollout"
)

// What --after reads (machine-config-operator, release-4.20):
//   - install/0000_80_machine-config_05_osimageurl.yaml: the ConfigMap the
//     cluster-version operator applies with each release, naming its OS
//     images and releaseVersion (watch.OSImageURLConfigMap);
//   - pkg/controller/common/constants.go ReleaseImageVersionAnnotationKey,
//     which the render controller copies from the controller config onto
//     each rendered MachineConfig, also over an existing one when the
//     release renders the same config (render_controller.go
//     syncGeneratedMachineConfig → ApplyMachineConfig);
//   - the MachineOSBuild name, which hashes that ConfigMap (4.18–4.21) or
//     the rendered config's OS images and release (4.22+): the build for the
//     new release is known by name (watch.MachineOSBuildName).
var (
	osImageURLConfigMap           = watch.OSImageURLConfigMap
	mcoNamespace                  = watch.MCONamespace
	annotationReleaseImageVersion = watch.AnnotationReleaseImageVersion
)

// AfterState is what gate --after reads.
type AfterState struct {
	Pool           string
	MOSCName       string
	ClusterVersion *configv1.ClusterVersion
	// OSImageURL is the machine-config-osimageurl ConfigMap's data (nil: absent).
	OSImageURL map[string]string
	MCP        *mcfgv1.MachineConfigPool
	// Rendered is the pool's spec.configuration MachineConfig.
	Rendered *mcfgv1.MachineConfig
	MOSC     *mcfgv1.MachineOSConfig
	MOSBs    []mcfgv1.MachineOSBuild
	Nodes    []corev1.Node
}

// ReadAfterState reads everything EvaluateAfter needs. Not-found objects
// stay nil; other errors are returned.
func ReadAfterState(ctx context.Context, cl *Cluster, pool, moscName string) (AfterState, error) {
	st := AfterState{Pool: pool, MOSCName: moscName}
	cv, err := cl.Config.ConfigV1().ClusterVersions().Get(ctx, "version", metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return st, fmt.Errorf("reading ClusterVersion version: %w", err)
	}
	if err == nil {
		st.ClusterVersion = cv
	}
	cm, err := cl.Kube.CoreV1().ConfigMaps(mcoNamespace).Get(ctx, osImageURLConfigMap, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return st, fmt.Errorf("reading ConfigMap %s/%s: %w", mcoNamespace, osImageURLConfigMap, err)
	}
	if err == nil {
		st.OSImageURL = cm.Data
		if st.OSImageURL == nil {
			st.OSImageURL = map[string]string{}
		}
	}
	mc := cl.MachineConfig.MachineconfigurationV1()
	mcp, err := mc.MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
	if err != nil {
		return st, fmt.Errorf("reading MachineConfigPool %s: %w", pool, err)
	}
	st.MCP = mcp
	if name := mcp.Spec.Configuration.Name; name != "" {
		r, err := mc.MachineConfigs().Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return st, fmt.Errorf("reading MachineConfig %s: %w", name, err)
		}
		if err == nil {
			st.Rendered = r
		}
	}
	mosc, err := mc.MachineOSConfigs().Get(ctx, moscName, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return st, fmt.Errorf("reading MachineOSConfig %s: %w", moscName, err)
	}
	if err == nil {
		st.MOSC = mosc
		list, err := mc.MachineOSBuilds().List(ctx, metav1.ListOptions{})
		if err != nil {
			return st, fmt.Errorf("listing MachineOSBuilds: %w", err)
		}
		st.MOSBs = list.Items
	}
	sel, err := metav1.LabelSelectorAsSelector(mcp.Spec.NodeSelector)
	if err != nil {
		return st, fmt.Errorf("pool %s: bad nodeSelector: %w", pool, err)
	}
	nodes, err := cl.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return st, fmt.Errorf("listing the nodes of pool %s: %w", pool, err)
	}
	st.Nodes = nodes.Items
	return st, nil
}

// AfterResult is EvaluateAfter's verdict at one moment. A check whose
// Status is "" is still pending: its Message says what it waits for.
type AfterResult struct {
	Target  string // the release followed (ClusterVersion's desired, matching --to)
	From    string // the release before it (ClusterVersion history)
	Release Check
	Build   Check
	Rollout Check
	// Build is the MachineOSBuild for the target's rendered config ("" before).
	MOSB string
	// Settled: nothing changes any more without someone acting (all passed,
	// or a failure the cluster does not recover from on its own).
	Settled bool
}

// Checks returns the three checks, pending ones made failures with why.
func (r AfterResult) Checks(why string) []Check {
	var out []Check
	for _, c := range []Check{r.Release, r.Build, r.Rollout} {
		if c.Status == "" {
			c.Status = Fail
			c.Message = "not reached " + why + ": " + c.Message
			if c.Remedy == "" {
				c.Remedy = "follow it with mosc gate --after again (or mosc watch); oc adm upgrade and oc get mcp show where it stands"
			}
		}
		out = append(out, c)
	}
	return out
}

// Waiting says what the first pending check waits for ("" when none).
func (r AfterResult) Waiting() string {
	for _, c := range []Check{r.Release, r.Build, r.Rollout} {
		if c.Status == "" {
			return c.ID + ": " + c.Message
		}
	}
	return ""
}

// ReleaseReached: the pool's rendered config is for the target release,
// so the build and rollout that follow are the upgrade's.
func (r AfterResult) ReleaseReached() bool { return r.Release.Status == Pass }

// BuildDone: the target's build ended (either way).
func (r AfterResult) BuildDone() bool { return r.Build.Status != "" }

// versionMatches: target "" takes any; "4.21" any 4.21.z; else equal.
func versionMatches(v, target string) bool {
	switch {
	case target == "":
		return v != ""
	case strings.Count(target, ".") == 1:
		return minorOf(v) == target
	}
	return v == target
}

// EvaluateAfter judges the upgrade's effect on the layered pool: the
// release reached the pool (ClusterVersion, the MCO's OS images, the
// pool's rendered config), the MachineOSBuild for the new base image
// Succeeded, and every node runs its image. target is --to ("" = the
// ClusterVersion's desired release).
func EvaluateAfter(target string, st AfterState) AfterResult {
	res := AfterResult{
		Release: Check{ID: IDAfterRelease},
		Build:   Check{ID: IDAfterBuild, Message: "waits for " + IDAfterRelease},
		Rollout: Check{ID: IDAfterRollout, Message: "waits for " + IDAfterBuild},
	}
	pool := st.Pool
	cv := st.ClusterVersion
	if cv == nil {
		res.Release.Status, res.Release.Message = Fail, "no ClusterVersion version: is this an OpenShift cluster?"
		res.Release.Remedy = "point --kubeconfig at the OpenShift cluster"
		res.Build.Status, res.Rollout.Status = Skip, Skip
		res.Settled = true
		return res
	}
	desired := cv.Status.Desired.Version
	res.Target = desired
	var hist *configv1.UpdateHistory
	for i := range cv.Status.History {
		h := &cv.Status.History[i]
		if h.Version == desired && hist == nil {
			hist = h
			if i+1 < len(cv.Status.History) {
				res.From = cv.Status.History[i+1].Version
			}
		}
	}
	completed := hist != nil && hist.State == configv1.CompletedUpdate
	if !versionMatches(desired, target) {
		res.Target, res.From = target, desired
		res.Release.Message = fmt.Sprintf("ClusterVersion's desired release is %s, not %s: the upgrade has not started (oc adm upgrade --to %s starts it)", orNone(desired), target, target)
		return res
	}
	histText := "no history entry"
	if hist != nil {
		histText = string(hist.State)
		if res.From != "" {
			histText += ", from " + res.From
		}
	}
	rel := st.OSImageURL["releaseVersion"]
	if rel != desired {
		res.Release.Message = fmt.Sprintf("ClusterVersion %s (%s), but the Machine Config Operator's OS images are still %s's (ConfigMap %s/%s releaseVersion): the cluster-version operator has not reached it yet",
			desired, histText, orNone(rel), mcoNamespace, osImageURLConfigMap)
		return res
	}
	if st.Rendered == nil {
		res.Release.Message = fmt.Sprintf("pool %s has no rendered MachineConfig yet", pool)
		return res
	}
	if v := st.Rendered.Annotations[annotationReleaseImageVersion]; v != desired {
		res.Release.Message = fmt.Sprintf("ClusterVersion %s (%s); pool %s's rendered config %s is still for %s: the render controller has not rendered the new release's config",
			desired, histText, pool, st.Rendered.Name, orNone(v))
		return res
	}
	res.Release.Status = Pass
	res.Release.Message = fmt.Sprintf("ClusterVersion %s (%s); the Machine Config Operator's OS images are %s's (rhel-coreos %s); pool %s renders %s for it",
		desired, histText, desired, orNone(st.OSImageURL["baseOSContainerImage"]), pool, st.Rendered.Name)
	if st.Rendered.Spec.OSImageURL != "" {
		res.Release.Message += " (osImageURL " + st.Rendered.Spec.OSImageURL + ")"
	}
	res.Release.Details = map[string]any{"version": desired, "from": res.From, "state": histText,
		"baseOSContainerImage": st.OSImageURL["baseOSContainerImage"], "renderedConfig": st.Rendered.Name, "osImageURL": st.Rendered.Spec.OSImageURL}

	// The build for the new rendered config.
	res.Build.Message = ""
	if st.MOSC == nil {
		res.Build.Status = Fail
		res.Build.Message = fmt.Sprintf("no MachineOSConfig %s: pool %s is not layered, so the upgrade builds nothing for it", st.MOSCName, pool)
		res.Build.Remedy = "mosc apply to layer it again (if mosc remove took it off for the upgrade)"
		res.Rollout.Status, res.Rollout.Message = Skip, "no layered build to roll out"
		res.Settled = true
		return res
	}
	b := buildFor(st.MOSC, st.MOSBs, st.Rendered.Name, expectedBuilds(st))
	if b == nil {
		res.Build.Message = fmt.Sprintf("the Machine Config Operator has not created the MachineOSBuild for %s (release %s's base image) yet", st.Rendered.Name, desired)
		return res
	}
	res.MOSB = b.Name
	state, cond := buildState(*b)
	res.Build.Details = map[string]any{"machineOSBuild": b.Name, "state": state, "renderedConfig": st.Rendered.Name, "image": string(b.Status.DigestedImagePushSpec)}
	staysOn := fmt.Sprintf("pool %s stays on its previous layered image", pool)
	if img := string(st.MOSC.Status.CurrentImagePullSpec); img != "" {
		staysOn += " " + img
	}
	switch state {
	case "Succeeded":
		res.Build.Status = Pass
		res.Build.Message = fmt.Sprintf("MachineOSBuild %s (release %s's rendered config %s) Succeeded: %s", b.Name, desired, st.Rendered.Name, b.Status.DigestedImagePushSpec)
	case "Failed", "Interrupted":
		res.Build.Status = Fail
		res.Build.Message = fmt.Sprintf("MachineOSBuild %s (release %s's rendered config %s) %s", b.Name, desired, st.Rendered.Name, state)
		if cond != nil && cond.Message != "" {
			// The MCO writes "Failed: Build Failed: …".
			res.Build.Message += ": " + strings.TrimPrefix(strings.TrimPrefix(oneLine(cond.Message), state), ": ")
		}
		// The MCO's build Job has spent its attempts (backoffLimit 3); the
		// MCO starts no other build for the same inputs until asked
		// (machine-config-operator, release-4.20,
		// pkg/controller/build/reconciler.go; the rebuild annotation,
		// pkg/controller/build/constants/constants.go).
		res.Build.Message += fmt.Sprintf("\nthe Machine Config Operator does not retry it: %s until a rebuild is asked for", staysOn)
		if completed {
			res.Build.Message += fmt.Sprintf("\nClusterVersion reports %s Completed all the same: the cluster-version operator does not wait for a layered pool's build (OCPBUGS-73800)", desired)
		}
		res.Build.Remedy = fmt.Sprintf("fix the cause (mosc status --pool %s shows the build log and cause), then mosc rebuild --pool %s and mosc gate --after again", pool, pool)
		res.Rollout.Status, res.Rollout.Message = Fail, fmt.Sprintf("%s: the build for %s failed (see %s)", staysOn, desired, IDAfterBuild)
		res.Rollout.Remedy = res.Build.Remedy
		res.Settled = true
		return res
	default:
		res.Build.Message = fmt.Sprintf("MachineOSBuild %s is %s", b.Name, orNone(state))
		return res
	}

	// The rollout of the new image.
	res.Rollout.Message = ""
	image := string(b.Status.DigestedImagePushSpec)
	mcp := st.MCP
	if mcp.Spec.Paused {
		res.Rollout.Status = Fail
		res.Rollout.Message = fmt.Sprintf("pool %s is paused (spec.paused): the build for %s Succeeded, but its nodes take no new config or image until it is unpaused, and the cluster-version operator does not wait for it", pool, desired)
		res.Rollout.Remedy = fmt.Sprintf("unpause it (oc patch mcp %s --type merge -p '{\"spec\":{\"paused\":false}}') and run mosc gate --after again; on an EUS-to-EUS upgrade, after the final hop", pool)
		res.Settled = true
		return res
	}
	if got := string(st.MOSC.Status.CurrentImagePullSpec); got != image {
		res.Rollout.Message = fmt.Sprintf("MachineOSConfig %s does not point at %s yet (status.currentImagePullSpec %s)", st.MOSC.Name, image, orNone(got))
		return res
	}
	done, degraded := 0, []string{}
	var waiting []string
	for _, n := range st.Nodes {
		a := n.Annotations
		if a[annState] == "Degraded" || a[annState] == "Unreconcilable" {
			degraded = append(degraded, fmt.Sprintf("%s: %s (%s)", n.Name, a[annState], orNone(a[annReason])))
			continue
		}
		if a[annCurrentConfig] == st.Rendered.Name && a[annDesiredConfig] == st.Rendered.Name && a[annCurrentImage] == image && a[annDesiredImage] == image && a[annState] == nodeStateDone {
			done++
		} else {
			waiting = append(waiting, n.Name)
		}
	}
	if len(degraded) > 0 {
		res.Rollout.Status = Fail
		res.Rollout.Message = fmt.Sprintf("%d/%d nodes of pool %s run %s's layered image; degraded:\n%s", done, len(st.Nodes), pool, desired, strings.Join(degraded, "\n"))
		res.Rollout.Remedy = fmt.Sprintf("mosc status --pool %s; oc describe node; the pool finishes once the node recovers", pool)
		res.Settled = true
		return res
	}
	res.Rollout.Details = map[string]any{"image": image, "renderedConfig": st.Rendered.Name, "nodes": len(st.Nodes), "updated": done}
	updated := poolCondTrue(mcp, "Updated") && mcp.Status.Configuration.Name == st.Rendered.Name && mcp.Status.UpdatedMachineCount == mcp.Status.MachineCount
	if len(waiting) > 0 || !updated {
		res.Rollout.Message = fmt.Sprintf("%d/%d nodes of pool %s run %s's layered image", done, len(st.Nodes), pool, desired)
		if len(waiting) > 0 {
			res.Rollout.Message += " (waiting: " + strings.Join(waiting, ", ") + ")"
		}
		return res
	}
	res.Rollout.Status = Pass
	res.Rollout.Message = fmt.Sprintf("pool %s is Updated: %d/%d nodes run release %s's layered image %s (rendered %s)", pool, done, len(st.Nodes), desired, image, st.Rendered.Name)
	res.Settled = true
	return res
}

// expectedBuilds are the names the MCO gives the build for the pool's
// rendered config at this release: from the ConfigMap (4.18–4.21) and from
// the rendered config (4.22+). Either input carries the new release, so a
// build for the previous release with the same rendered config (a release
// with unchanged OS images) never matches.
func expectedBuilds(st AfterState) []string {
	var names []string
	if img, err := watch.OSImageURLFromConfigMap(st.OSImageURL); err == nil {
		if n, err := watch.MachineOSBuildName(st.MOSC, st.MCP, img); err == nil {
			names = append(names, n)
		}
	}
	if img, err := watch.OSImageURLFromRenderedConfig(st.Rendered); err == nil {
		if n, err := watch.MachineOSBuildName(st.MOSC, st.MCP, img); err == nil {
			names = append(names, n)
		}
	}
	return names
}

// buildFor is the MOSC's MachineOSBuild for a rendered config: the one of
// the expected names; when no name could be computed, the one the MOSC's
// current-machine-os-build names if it is for that config, else the newest.
func buildFor(mosc *mcfgv1.MachineOSConfig, builds []mcfgv1.MachineOSBuild, rendered string, expected []string) *mcfgv1.MachineOSBuild {
	var mine []mcfgv1.MachineOSBuild
	for _, b := range builds {
		if (b.Spec.MachineOSConfig.Name == mosc.Name || b.Labels[labelMOSBConfig] == mosc.Name) && b.Spec.MachineConfig.Name == rendered && b.DeletionTimestamp == nil {
			mine = append(mine, b)
		}
	}
	if len(expected) > 0 {
		for i := range mine {
			for _, n := range expected {
				if mine[i].Name == n {
					return &mine[i]
				}
			}
		}
		return nil
	}
	if len(mine) == 0 {
		return nil
	}
	sort.Slice(mine, func(i, j int) bool {
		ti, tj := mine[i].CreationTimestamp, mine[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return tj.Before(&ti)
		}
		return mine[i].Name > mine[j].Name
	})
	for i := range mine {
		if mine[i].Name == mosc.Annotations[annCurrentMOSB] {
			return &mine[i]
		}
	}
	return &mine[0]
}
