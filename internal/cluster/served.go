package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/mosc-dev/mosc/internal/profile"

	"github.com/mosc-dev/mosc/internal/kube"
	"github.com/mosc-dev/mosc/internal/lazyre"
)

// MachineConfigGroup is the API group of MachineOSConfig and MachineOSBuild.
const MachineConfigGroup = "machineconfiguration.openshift.io"

// ServedMOSCVersions asks discovery which versions of
// machineconfiguration.openshift.io serve machineosconfigs: ["v1"] from
// 4.18.20, ["v1alpha1"] on 4.16, 4.17 and 4.18.0-19 with TechPreviewNoUpgrade,
// none where On-Cluster Layering is not enabled. The order is the group's
// (preferred first).
func ServedMOSCVersions(d kube.DiscoveryInterface) ([]string, error) {
	groups, err := d.ServerGroups()
	if err != nil {
		return nil, fmt.Errorf("discovery of API groups: %w", err)
	}
	var out []string
	for _, g := range groups.Groups {
		if g.Name != MachineConfigGroup {
			continue
		}
		for _, v := range g.Versions {
			rl, err := d.ServerResourcesForGroupVersion(v.GroupVersion)
			if apierrors.IsNotFound(err) {
				continue // the version vanished between the two calls (a CRD swap)
			}
			if err != nil {
				return nil, fmt.Errorf("discovery of %s: %w", v.GroupVersion, err)
			}
			for _, r := range rl.APIResources {
				if r.Name == "machineosconfigs" {
					out = append(out, v.Version)
				}
			}
		}
	}
	return out, nil
}

// APIMismatchError says the plan's MachineOSConfig version is not one the
// API server serves: the profile (or the version given) is wrong for this
// cluster. Nothing has been written when it is returned.
type APIMismatchError struct {
	// Plan is the plan's MachineOSConfig version ("v1") and the release the
	// plan is for ("4.18.20+").
	PlanAPI, PlanRelease string
	// Served are the versions the API server serves machineosconfigs in.
	Served []string
	// ClusterVersion is ClusterVersion's version ("" when unknown), and
	// ClusterSpan what the catalog says that version has ("4.18.0-4.18.19:
	// MachineOSConfig v1alpha1, ...").
	ClusterVersion, ClusterSpan string
}

func (e *APIMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the plan is for OpenShift %s and renders MachineOSConfig %s, but the API server ", e.PlanRelease, e.PlanAPI)
	if len(e.Served) == 0 {
		b.WriteString("serves no machineosconfigs (On-Cluster Layering is not enabled: before 4.18.20 it needs featureSet TechPreviewNoUpgrade)")
	} else {
		fmt.Fprintf(&b, "serves machineosconfigs only in %s", strings.Join(e.Served, ", "))
	}
	if e.ClusterVersion != "" {
		fmt.Fprintf(&b, "; the cluster runs OpenShift %s", e.ClusterVersion)
		if e.ClusterSpan != "" {
			fmt.Fprintf(&b, " (%s)", e.ClusterSpan)
		}
	}
	b.WriteString("; nothing was changed: drop --openshift / spec.openshift to use the cluster's version, or give the cluster's full version (e.g. --openshift ")
	if e.ClusterVersion != "" {
		b.WriteString(e.ClusterVersion)
	} else {
		b.WriteString("4.18.15")
	}
	b.WriteString(")")
	return b.String()
}

// CheckServedAPI cross-checks the plan with the cluster: the MachineOSConfig
// version the plan renders must be one the API server serves. cat and
// clusterVersion (may be "") only make the error name what the catalog says
// about the cluster's own version. It returns the served versions too.
func CheckServedAPI(d kube.DiscoveryInterface, cat *profile.Catalog, plan *profile.Plan, clusterVersion string) ([]string, error) {
	served, err := ServedMOSCVersions(d)
	if err != nil {
		return nil, err
	}
	want := apiVersionOnly(plan.MOSC.APIVersion)
	if want == "" {
		want = apiVersionOnly(plan.OpenShift.MOSCAPIVersion)
	}
	if want == "" {
		return served, errors.New("the plan names no MachineOSConfig API version")
	}
	for _, v := range served {
		if v == want {
			return served, nil
		}
	}
	e := &APIMismatchError{PlanAPI: want, PlanRelease: plan.OpenShift.Label(), Served: served, ClusterVersion: clusterVersion}
	if cat != nil && clusterVersion != "" {
		if span, err := cat.Span(clusterVersion); err == nil {
			e.ClusterSpan = fmt.Sprintf("the catalog's %s: %s", span, span.Describe())
		}
	}
	sort.Strings(e.Served)
	return served, e
}

// apiVersionOnly: "machineconfiguration.openshift.io/v1alpha1" → "v1alpha1".
func apiVersionOnly(gv string) string {
	if i := strings.LastIndex(gv, "/"); i >= 0 {
		return gv[i+1:]
	}
	return gv
}

// PoolStreamError refuses a pool that runs another OS image stream than the
// RHEL major the plan layers (RHEL 10 pools of 4.21+, docs/profiles.md).
type PoolStreamError struct {
	Pool, Stream, Field, RHELMajor string
}

func (e *PoolStreamError) Error() string {
	return fmt.Sprintf("machineconfigpool %s uses OS image stream %q (%s): mosc layers the default RHEL %s stream only; "+
		"RHEL 10 pools are not supported (the catalog has no rhel10 platforms, and the pinned MachineConfigPool API has no osImageStream field): "+
		"layer a RHEL %s pool, or remove spec.osImageStream from pool %s; nothing was changed", e.Pool, e.Stream, e.Field, e.RHELMajor, e.RHELMajor, e.Pool)
}

var poolGVR = schema.GroupVersionResource{Group: MachineConfigGroup, Version: "v1", Resource: "machineconfigpools"}

// CheckPoolStream reads the pool's spec.osImageStream.name and
// status.osImageStream.name (OSStreams feature gate, openshift/api
// release-4.21+ machineconfiguration/v1 types.go; the pinned typed client
// drops them, so the dynamic client reads them) and refuses a stream whose
// RHEL major is not rhelMajor ("rhel-10" on a RHEL 9 plan). Stream names
// are the OS image's io.openshift.os.streamclass label ("rhel-9",
// "rhel-10": machine-config-operator release-4.21 pkg/osimagestream). A
// missing pool, or one the user may not read, is left to the pool and
// permission checks.
func CheckPoolStream(ctx context.Context, dyn dynamic.Interface, pool, rhelMajor string) error {
	u, err := dyn.Resource(poolGVR).Get(ctx, pool, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return nil // the pool and permission checks name these
	}
	if err != nil {
		return fmt.Errorf("machineconfigpool %s: %w", pool, err)
	}
	for _, f := range [][]string{{"spec", "osImageStream", "name"}, {"status", "osImageStream", "name"}} {
		name, _, _ := unstructured.NestedString(u.Object, f...)
		if name == "" {
			continue
		}
		m := streamMajorRE.FindStringSubmatch(name)
		if m == nil || m[1] != rhelMajor {
			return &PoolStreamError{Pool: pool, Stream: name, Field: strings.Join(f, "."), RHELMajor: rhelMajor}
		}
	}
	return nil
}

var streamMajorRE = lazyre.New(`^rhel-(\d+)(\.\d+)?$`)
