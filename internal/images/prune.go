package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
)

// Who deletes a build's image when its MachineOSBuild goes
// (openshift/machine-config-operator):
//   - v1 (release-4.18 … release-4.22): the MCO.
//     pkg/controller/build/reconciler.go DeleteMachineOSBuild →
//     deleteBuilderForMachineOSBuild → deleteMOSBImage: unless a node of the
//     pool has the build's status.digestedImagePushSpec as its currentImage
//     or desiredImage, it deletes spec.renderedImagePushSpec (the tag
//     <push spec>:<build name>): the ImageStreamTag on the internal
//     registry, else the image through skopeo (4.18, 4.19:
//     pkg/daemon/image-inspect.go DeleteImage) or pkg/controller/build/
//     imagepruner (4.20 on). So prune deletes only the MachineOSBuild.
//   - v1alpha1 (4.16, 4.17, 4.18.0-19; release-4.17
//     pkg/controller/build/build_controller.go): nothing deletes images;
//     every build of a pool pushes <push spec>:<rendered MachineConfig>.
//     prune deletes the image itself: the manifest by the build's digest
//     (status.finalImagePullspec) through the registry API, which also
//     drops the tags pointing at it; on the internal registry the
//     ImageStreamTag <namespace>/<name>:<rendered MachineConfig>, when it
//     still points at that digest.

// MCODeletesImages says whether the MCO deletes a build's image with its
// MachineOSBuild on a cluster serving this layering API.
func MCODeletesImages(api string) bool { return api == watch.APIv1 }

// Decision is what prune does with one build, and why.
type Decision struct {
	Build  Build  `json:"build"`
	Delete bool   `json:"delete"`
	Reason string `json:"reason"`
}

// Decide sorts the pool's builds (newest first, as Inventory lists them):
// never deletable are the current build, the build of the
// MachineOSConfig's currentImagePullSpec, any build a node runs or is
// updating to, and builds still running; of the other succeeded builds the
// keep newest stay; the rest go, and so do failed and interrupted builds
// (they pushed no image; the MCO deletes them itself at the next build).
func Decide(p Pool, keep int) []Decision {
	out := make([]Decision, 0, len(p.Builds))
	kept := 0
	for _, b := range p.Builds {
		d := Decision{Build: b}
		var why []string
		if b.Current {
			why = append(why, "the MachineOSConfig's current build")
		}
		if b.Target {
			why = append(why, "its image is the MachineOSConfig's currentImagePullSpec")
		}
		if len(b.NodesCurrent) > 0 {
			why = append(why, "node(s) "+strings.Join(b.NodesCurrent, ", ")+" run its image")
		}
		var want []string
		for _, n := range b.NodesDesired {
			if !contains(b.NodesCurrent, n) {
				want = append(want, n)
			}
		}
		if len(want) > 0 {
			why = append(why, "node(s) "+strings.Join(want, ", ")+" are updating to its image")
		}
		switch {
		case b.Deleting:
			d.Reason = "already being deleted"
		case len(why) > 0:
			d.Reason = strings.Join(why, "; ")
		case b.State != watch.BuildSucceeded && b.State != watch.BuildFailed && b.State != watch.BuildInterrupted:
			d.Reason = "still building (" + b.State + ")"
		case b.State != watch.BuildSucceeded:
			d.Delete, d.Reason = true, b.State+", not current: it pushed no image"
		case kept < keep:
			kept++
			d.Reason = fmt.Sprintf("one of the %d newest builds not in use (--keep %d)", keep, keep)
		default:
			d.Delete, d.Reason = true, fmt.Sprintf("older than the %d newest builds not in use; no node runs or wants its image", keep)
		}
		out = append(out, d)
	}
	return out
}

// PruneOptions are the knobs of `mosc prune`.
type PruneOptions struct {
	Pool string
	// Keep is how many succeeded builds not in use stay, newest first.
	Keep int
	// Yes acts; without it prune only says what it would do.
	Yes bool
	// Log gets what stays and why, and the registry notes.
	Out, Log io.Writer
	// Registry reads and deletes images (nil: go-containerregistry's
	// remote with the MachineOSConfig's push secret).
	Registry Registry
}

// PruneResult is what prune found and did.
type PruneResult struct {
	Schema    string     `json:"schema"`
	Pool      Pool       `json:"pool"`
	Keep      int        `json:"keep"`
	DryRun    bool       `json:"dryRun"`
	Decisions []Decision `json:"decisions"`
	// MCODeletesImages: the cluster's MCO deletes each build's image with its
	// MachineOSBuild (v1); otherwise prune deleted them (v1alpha1).
	MCODeletesImages bool `json:"mcoDeletesImages"`
	// Freed is what the deleted images alone hold, in bytes (their
	// manifests, configs and layers no remaining build's image shares), as
	// the registry's manifests say; -1 when the registry could not be read.
	Freed int64 `json:"freedBytes"`
	// Unmeasured lists images whose size the registry did not tell, and why.
	Unmeasured []string `json:"unmeasured,omitempty"`
	// Failed lists what could not be deleted.
	Failed []string `json:"failed,omitempty"`
}

// PruneSchema is the -o json schema of `mosc prune`.
const PruneSchema = "mosc.dev/prune/v1"

// ErrNotOurs: the pool's MachineOSConfig was not created by mosc.
var ErrNotOurs = errors.New("not created by mosc")

// Prune removes the pool's builds Decide marks, and their images.
func Prune(ctx context.Context, c *cluster.Clients, o PruneOptions) (*PruneResult, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Keep < 0 {
		return nil, fmt.Errorf("--keep %d: want 0 or more", o.Keep)
	}
	api, err := watch.LayeringAPI(c.MachineConfig.Discovery())
	if err != nil {
		return nil, err
	}
	if err := cluster.CheckPermissions(ctx, c, PruneNeeds(api, o.Yes)); err != nil {
		return nil, err
	}
	mosc, err := findMOSC(ctx, c, api, o.Pool)
	if err != nil {
		return nil, err
	}
	if mosc == nil {
		return nil, fmt.Errorf("pool %s has no MachineOSConfig: nothing to prune (the MCO deletes the builds of a deleted MachineOSConfig itself)", o.Pool)
	}
	if mosc.GetLabels()[profile.LabelManagedBy] != profile.LabelManagedByValue {
		return nil, fmt.Errorf("machineosconfig/%s (pool %s) is %w (no label %s=%s): prune deletes only the builds of mosc's MachineOSConfigs",
			mosc.GetName(), o.Pool, ErrNotOurs, profile.LabelManagedBy, profile.LabelManagedByValue)
	}
	p, err := Inventory(ctx, c, o.Pool, mosc.GetName())
	if err != nil {
		return nil, err
	}
	res := &PruneResult{Schema: PruneSchema, Pool: p, Keep: o.Keep, DryRun: !o.Yes, MCODeletesImages: MCODeletesImages(api)}
	res.Decisions = Decide(p, o.Keep)

	reg := o.Registry
	if reg == nil {
		reg = &remoteRegistry{auth: pushAuth(ctx, c, mosc, api)}
	}
	res.Freed, res.Unmeasured = measure(ctx, reg, res.Decisions)

	for _, d := range res.Decisions {
		if !d.Delete {
			fmt.Fprintf(o.Log, "machineosbuild/%s kept: %s\n", d.Build.Name, d.Reason)
		}
	}
	suffix := ""
	if !o.Yes {
		suffix = " (dry run)"
	}
	for _, d := range res.Decisions {
		if !d.Delete {
			continue
		}
		b := d.Build
		if o.Yes {
			if err := deleteBuild(ctx, c, api, b.Name, types.UID(b.UID)); err != nil {
				res.Failed = append(res.Failed, fmt.Sprintf("machineosbuild/%s: %v", b.Name, err))
				continue
			}
		}
		fmt.Fprintf(o.Out, "machineosbuild/%s deleted%s\n", b.Name, suffix)
		if b.Image == "" {
			continue
		}
		if res.MCODeletesImages {
			fmt.Fprintf(o.Log, "machineosbuild/%s: the MCO deletes its image %s (%s) unless a node uses it\n", b.Name, b.Tag(), watch.ShortenImageRefs(b.Image))
			continue
		}
		if !o.Yes {
			fmt.Fprintf(o.Out, "%s deleted%s\n", imageTarget(b), suffix)
			continue
		}
		what, err := reg.Delete(ctx, c, b)
		if err != nil {
			res.Failed = append(res.Failed, fmt.Sprintf("image %s (machineosbuild/%s): %v", b.Image, b.Name, err))
			continue
		}
		fmt.Fprintln(o.Out, what)
	}
	switch {
	case res.Freed > 0:
		fmt.Fprintf(o.Log, "registry space: %s in blobs only the deleted images use (the registry frees it when it garbage-collects its blobs)\n", humanBytes(res.Freed))
	case res.Freed == 0 && len(res.Unmeasured) == 0 && countDeletes(res.Decisions) > 0:
		fmt.Fprintln(o.Log, "registry space: none freed (the deleted images share every blob with the builds that stay, or pushed none)")
	}
	for _, u := range res.Unmeasured {
		fmt.Fprintf(o.Log, "registry space not known: %s\n", u)
	}
	if countDeletes(res.Decisions) == 0 {
		fmt.Fprintf(o.Log, "nothing to prune for pool %s: %d build(s), all kept\n", o.Pool, len(res.Decisions))
	} else if !o.Yes {
		fmt.Fprintln(o.Log, "dry run: nothing was deleted; re-run with --yes to delete")
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("prune failed for %d object(s):\n  %s", len(res.Failed), strings.Join(res.Failed, "\n  "))
	}
	return res, nil
}

func countDeletes(ds []Decision) int {
	n := 0
	for _, d := range ds {
		if d.Delete {
			n++
		}
	}
	return n
}

// Tag is the image reference the build pushed to: its push spec on v1 (the
// MCO tags it with the build's name); the MachineOSConfig's push spec
// tagged with the rendered MachineConfig on v1alpha1.
func (b Build) Tag() string {
	if b.PushedTag != "" {
		return b.PushedTag
	}
	return b.PushSpec
}

var (
	gvrMOSCv1 = schema.GroupVersionResource{Group: cluster.MachineConfigGroup, Version: watch.APIv1, Resource: "machineosconfigs"}
	gvrMOSBv1 = schema.GroupVersionResource{Group: cluster.MachineConfigGroup, Version: watch.APIv1, Resource: "machineosbuilds"}
)

func moscGVR(api string) schema.GroupVersionResource {
	if api == watch.APIv1alpha1 {
		return watch.GVRMachineOSConfigV1alpha1
	}
	return gvrMOSCv1
}

func mosbGVR(api string) schema.GroupVersionResource {
	if api == watch.APIv1alpha1 {
		return watch.GVRMachineOSBuildV1alpha1
	}
	return gvrMOSBv1
}

// findMOSC is the MachineOSConfig of pool (spec.machineConfigPool.name), nil
// when there is none.
func findMOSC(ctx context.Context, c *cluster.Clients, api, pool string) (*unstructured.Unstructured, error) {
	list, err := c.Dynamic.Resource(moscGVR(api)).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing machineosconfigs: %w", err)
	}
	for i := range list.Items {
		if p, _, _ := unstructured.NestedString(list.Items[i].Object, "spec", "machineConfigPool", "name"); p == pool {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// MOSCName is the name of pool's MachineOSConfig ("" when there is none).
func MOSCName(ctx context.Context, c *cluster.Clients, pool string) (string, error) {
	api, err := watch.LayeringAPI(c.MachineConfig.Discovery())
	if err != nil {
		return "", err
	}
	m, err := findMOSC(ctx, c, api, pool)
	if m == nil || err != nil {
		return "", err
	}
	return m.GetName(), nil
}

// deleteBuild deletes a build with its UID as precondition, so a build the
// MCO re-created under the same name (a rebuild) since prune read it stays.
func deleteBuild(ctx context.Context, c *cluster.Clients, api, name string, uid types.UID) error {
	opts := metav1.DeleteOptions{}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	err := c.Dynamic.Resource(mosbGVR(api)).Delete(ctx, name, opts)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		return fmt.Errorf("the MCO re-created it since prune read it (a rebuild): left alone")
	}
	return err
}

// humanBytes is 1.5 MiB, 512 B.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// PruneNeeds lists the permissions prune checks first: reading the pools,
// nodes and builds, and with yes deleting builds. (On v1alpha1 it also
// deletes ImageStreamTags in the push spec's namespace; a refusal there is
// reported per image.)
func PruneNeeds(api string, yes bool) []cluster.Permission {
	g := mcfgv1.GroupName
	ps := []cluster.Permission{
		{Verb: "list", Group: g, Resource: "machineconfigpools"},
		{Verb: "list", Group: g, Resource: "machineosconfigs"},
		{Verb: "list", Group: g, Resource: "machineosbuilds"},
		{Verb: "list", Resource: "nodes"},
	}
	if yes {
		ps = append(ps, cluster.Permission{Verb: "delete", Group: g, Resource: "machineosbuilds"})
	}
	return ps
}
