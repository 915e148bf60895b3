// Package images answers "which image is each node running, and which
// build made it" (`mosc status --images`) and removes the builds and
// images no longer needed (`mosc prune`).
//
// What the MCO records, per release (openshift/machine-config-operator):
//   - a node's image: annotations machineconfiguration.openshift.io/
//     currentImage and desiredImage (pkg/daemon/constants/constants.go
//     CurrentImageAnnotationKey, DesiredImageAnnotationKey; the same in
//     release-4.16 … release-4.22; empty on the stock image);
//   - a build's image: MachineOSBuild status.digestedImagePushSpec (v1,
//     4.18.20 on) or status.finalImagePullspec (v1alpha1: 4.16, 4.17,
//     4.18.0-19), pushed to spec.renderedImagePushSpec: the MachineOSConfig's
//     push spec tagged with the build's name from release-4.18
//     (pkg/controller/build/buildrequest/machineosbuild.go NewMachineOSBuild),
//     with the rendered MachineConfig's name before (release-4.17
//     build_controller.go);
//   - the current build: the MachineOSConfig's annotation
//     machineconfiguration.openshift.io/current-machine-os-build (v1; the
//     v1alpha1 MCO sets none, and the newest build of the MachineOSConfig is
//     taken) and its status.currentImagePullSpec (v1alpha1:
//     currentImagePullspec), the image the pool's nodes are to run.
package images

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
)

// Schema is the -o json schema of `mosc status --images`.
const Schema = "mosc.dev/images/v1"

// Report is every pool asked for.
type Report struct {
	Schema string `json:"schema"`
	Pools  []Pool `json:"pools"`
}

// Pool is one pool's MachineOSConfig, its builds, and its nodes' images.
type Pool struct {
	Pool string `json:"pool"`
	MOSC string `json:"machineOSConfig"`
	// API is the layering API version the cluster serves (v1, v1alpha1).
	API string `json:"api"`
	// NoMOSC: the pool has no MachineOSConfig (its nodes run the stock image).
	NoMOSC bool `json:"noMachineOSConfig,omitempty"`
	// Managed: the MachineOSConfig carries mosc's managed-by label.
	Managed bool `json:"managedByMosc"`
	// CurrentBuild is the build the MachineOSConfig's annotation names
	// (v1alpha1: the newest build).
	CurrentBuild string `json:"currentBuild,omitempty"`
	// CurrentImage is the MachineOSConfig's status.currentImagePullSpec.
	CurrentImage string  `json:"currentImage,omitempty"`
	Builds       []Build `json:"builds"`
	Nodes        []Node  `json:"nodes"`
}

// Build is one MachineOSBuild of the MachineOSConfig.
type Build struct {
	Name    string    `json:"name"`
	State   string    `json:"state"`
	Created time.Time `json:"created"`
	// RenderedConfig is the rendered MachineConfig the build is for.
	RenderedConfig string `json:"renderedConfig,omitempty"`
	// PushSpec is where the build pushes (spec.renderedImagePushSpec: the tag).
	PushSpec string `json:"pushSpec,omitempty"`
	// PushedTag is the reference the build really pushed to when it differs
	// from PushSpec: on v1alpha1 the MachineOSConfig's push spec tagged with
	// the rendered MachineConfig (release-4.17 build_controller.go).
	PushedTag string `json:"pushedTag,omitempty"`
	UID       string `json:"-"`
	// Image is what it pushed, by digest (status.digestedImagePushSpec).
	Image string `json:"image,omitempty"`
	// Current: the MachineOSConfig's current build.
	Current bool `json:"current"`
	// Target: its image is the MachineOSConfig's currentImagePullSpec.
	Target bool `json:"target"`
	// Nodes running the image (currentImage) and to run it (desiredImage).
	NodesCurrent []string `json:"nodesCurrent"`
	NodesDesired []string `json:"nodesDesired"`
	// Deleting: the build has a deletion timestamp.
	Deleting bool `json:"deleting,omitempty"`
}

// InUse says whether a node runs or is to run the build's image.
func (b Build) InUse() bool { return len(b.NodesCurrent)+len(b.NodesDesired) > 0 }

// Node is one node of the pool and the builds of its images.
type Node struct {
	Name         string `json:"name"`
	CurrentImage string `json:"currentImage,omitempty"` // "" = stock image
	DesiredImage string `json:"desiredImage,omitempty"`
	// CurrentBuild and DesiredBuild name the build that made the image
	// ("" when none of the MachineOSConfig's builds did: stock, or a build
	// already deleted).
	CurrentBuild string `json:"currentBuild,omitempty"`
	DesiredBuild string `json:"desiredBuild,omitempty"`
}

// retag puts tag on a push spec (replacing its tag); "" when spec is not
// a reference.
func retag(spec, tag string) string {
	ref, err := name.ParseReference(spec, name.WeakValidation)
	if err != nil {
		return ""
	}
	return ref.Context().Tag(tag).String()
}

// SameImage compares two digested references by digest (a registry
// reached under two names still serves one image); without digests, as
// strings.
func SameImage(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	_, da, okA := strings.Cut(a, "@")
	_, db, okB := strings.Cut(b, "@")
	if okA && okB {
		return da == db
	}
	return a == b
}

// Inventory reads one pool: its MachineOSConfig (named mosc; "" = the
// pool's name), every MachineOSBuild of it, and its nodes. Clusters serving
// only v1alpha1 are read through the dynamic client.
func Inventory(ctx context.Context, c *cluster.Clients, pool, mosc string) (Pool, error) {
	snap, err := watch.FetchWith(ctx, c.Kube, c.MachineConfig, c.Dynamic, pool, mosc)
	if err != nil {
		return Pool{}, err
	}
	api, err := watch.LayeringAPI(c.MachineConfig.Discovery())
	if err != nil {
		return Pool{}, err
	}
	return FromSnapshot(snap, api), nil
}

// FromSnapshot builds the pool's inventory from what watch reads.
func FromSnapshot(snap watch.Snapshot, api string) Pool {
	p := Pool{Pool: snap.Pool, MOSC: snap.MOSC, API: api, Builds: []Build{}, Nodes: []Node{}}
	m := snap.MOSCObj
	if m == nil {
		p.NoMOSC = true
	} else {
		p.Managed = m.Labels[profile.LabelManagedBy] == profile.LabelManagedByValue
		p.CurrentImage = string(m.Status.CurrentImagePullSpec)
		p.CurrentBuild = m.Annotations[watch.AnnotationCurrentMOSB]
	}
	var newest *mcfgv1.MachineOSBuild
	for _, b := range snap.MOSBs {
		if m == nil || (b.Labels[watch.LabelMachineOSConfig] != m.Name && b.Spec.MachineOSConfig.Name != m.Name) {
			continue
		}
		st := watch.MOSBState(b)
		pushed := ""
		if api == watch.APIv1alpha1 && b.Spec.MachineConfig.Name != "" {
			pushed = retag(string(b.Spec.RenderedImagePushSpec), b.Spec.MachineConfig.Name)
		}
		p.Builds = append(p.Builds, Build{PushedTag: pushed, UID: string(b.UID),
			Name: b.Name, State: st.State, Created: b.CreationTimestamp.Time.UTC(),
			RenderedConfig: b.Spec.MachineConfig.Name, PushSpec: string(b.Spec.RenderedImagePushSpec),
			Image: string(b.Status.DigestedImagePushSpec), Deleting: b.DeletionTimestamp != nil,
			NodesCurrent: []string{}, NodesDesired: []string{},
		})
		if newest == nil || b.CreationTimestamp.After(newest.CreationTimestamp.Time) ||
			b.CreationTimestamp.Equal(&newest.CreationTimestamp) && b.Name > newest.Name {
			newest = b
		}
	}
	if p.CurrentBuild == "" && newest != nil && api == watch.APIv1alpha1 {
		p.CurrentBuild = newest.Name
	}
	// Newest first, as a user reads a history.
	sort.Slice(p.Builds, func(i, j int) bool {
		if !p.Builds[i].Created.Equal(p.Builds[j].Created) {
			return p.Builds[i].Created.After(p.Builds[j].Created)
		}
		return p.Builds[i].Name > p.Builds[j].Name
	})
	buildOf := func(img string) string {
		for _, b := range p.Builds {
			if SameImage(b.Image, img) {
				return b.Name
			}
		}
		return ""
	}
	nodes := watch.PoolNodes(snap)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		cur, des := n.Annotations[watch.AnnotationCurrentImage], n.Annotations[watch.AnnotationDesiredImage]
		p.Nodes = append(p.Nodes, Node{Name: n.Name, CurrentImage: cur, DesiredImage: des, CurrentBuild: buildOf(cur), DesiredBuild: buildOf(des)})
	}
	for i := range p.Builds {
		b := &p.Builds[i]
		b.Current = b.Name == p.CurrentBuild
		b.Target = SameImage(b.Image, p.CurrentImage)
		for _, n := range p.Nodes {
			if SameImage(b.Image, n.CurrentImage) {
				b.NodesCurrent = append(b.NodesCurrent, n.Name)
			}
			if SameImage(b.Image, n.DesiredImage) {
				b.NodesDesired = append(b.NodesDesired, n.Name)
			}
		}
	}
	return p
}

// String is a one-line summary (errors, logs).
func (b Build) String() string {
	return fmt.Sprintf("machineosbuild/%s (%s)", b.Name, b.State)
}
