package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mosc-dev/mosc/internal/profile"
)

// LabelMCRole is the role label mosc's MachineConfigs carry: the pool they
// are rendered for (render/objects.go RoleLabels).
const LabelMCRole = "machineconfiguration.openshift.io/role"

// Build inputs the MCO mounts into the build of every MachineOSConfig on the
// cluster, whatever its pool (openshift/machine-config-operator,
// release-4.18 … release-4.22, pkg/controller/build/buildrequest/
// buildrequest.go: "If the etc-yum-repos-d ConfigMap is found, mount it
// into the build pod", and the same for the etc-pki-rpm-gpg Secret).
func sharedBuildInput(key string) bool {
	switch key {
	case "configmap/etc-yum-repos-d", "secret/etc-pki-rpm-gpg":
		return true
	}
	return false
}

// moscUse is one MachineOSConfig that stays on the cluster, and the secrets
// its spec names.
type moscUse struct {
	ref     string // machineosconfig.machineconfiguration.openshift.io/NAME
	pool    string
	secrets map[string]string // secret name → the field naming it
}

// remainingMOSCs lists every MachineOSConfig on the cluster (any site, mosc's
// or not) except the ones of pool, and the secrets each spec names: what
// another pool still uses must stay.
func remainingMOSCs(ctx context.Context, c *Clients, kinds []RemoveKind, pool string) ([]moscUse, error) {
	var out []moscUse
	for _, k := range kinds {
		if !k.MOSC {
			continue
		}
		list, err := c.Dynamic.Resource(k.GVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", refOf(nil, k.GVR), err)
		}
		for i := range list.Items {
			it := &list.Items[i]
			if it.GetDeletionTimestamp() != nil || moscPool(it) == pool {
				continue
			}
			u := moscUse{ref: refOf(it, k.GVR), pool: moscPool(it), secrets: map[string]string{}}
			for _, f := range [][]string{
				{"spec", "renderedImagePushSecret", "name"},
				{"spec", "baseImagePullSecret", "name"},
				{"spec", "buildInputs", "renderedImagePushSecret", "name"},
				{"spec", "buildInputs", "baseImagePullSecret", "name"},
				{"spec", "buildOutputs", "currentImagePullSecret", "name"},
			} {
				if n, _, _ := unstructured.NestedString(it.Object, f...); n != "" {
					u.secrets[n] = strings.Join(f, ".")
				}
			}
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref < out[j].ref })
	return out, nil
}

func moscPool(u *unstructured.Unstructured) string {
	p, _, _ := unstructured.NestedString(u.Object, "spec", "machineConfigPool", "name")
	return p
}

// poolScope sorts the site's objects for `remove --pool`: what belongs to
// the pool (its MachineOSConfig, the MachineConfigs rendered for it), what
// is shared and unused by any other MachineOSConfig (deleted too), and what
// stays, with the reason. Objects of the site's other pools are left out.
type poolScope struct {
	pool   string
	remain []moscUse
}

// decide says whether one object of the site goes with the pool; when it
// stays and is worth mentioning, why.
func (s poolScope) decide(obj *unstructured.Unstructured, k RemoveKind) (remove bool, keptWhy string) {
	switch {
	case k.MOSC:
		return moscPool(obj) == s.pool, ""
	case k.GVR.Resource == "machineconfigs":
		return obj.GetLabels()[LabelMCRole] == s.pool, ""
	}
	if len(s.remain) == 0 {
		return true, ""
	}
	others := make([]string, 0, len(s.remain))
	for _, m := range s.remain {
		others = append(others, m.ref)
	}
	if k.Registry {
		return false, fmt.Sprintf("the internal registry stays for %s", strings.Join(others, ", "))
	}
	kind := strings.TrimSuffix(k.GVR.Resource, "s")
	if k.GVR.Resource == "secrets" {
		for _, m := range s.remain {
			if f, ok := m.secrets[obj.GetName()]; ok {
				return false, fmt.Sprintf("%s (pool %s) names it in %s", m.ref, m.pool, f)
			}
			// mosc's builder token Secret: deleting it revokes the token the
			// push secret of that MachineOSConfig carries (pushcred.go).
			if ps := obj.GetAnnotations()[AnnotationTokenFor]; ps != "" {
				if f, ok := m.secrets[ps]; ok {
					return false, fmt.Sprintf("secret %s carries its token, and %s (pool %s) names that in %s", ps, m.ref, m.pool, f)
				}
			}
		}
	}
	if sharedBuildInput(kind + "/" + obj.GetName()) {
		return false, fmt.Sprintf("the MCO mounts it into the build of every MachineOSConfig, and %s remains", strings.Join(others, ", "))
	}
	if k.GVR.Resource == "secrets" {
		return true, ""
	}
	// Another build input of the site: the site's other pools render it too.
	return false, fmt.Sprintf("a build input of site %s, and %s remains", obj.GetLabels()[profile.LabelSite], strings.Join(others, ", "))
}

// PoolObject is one labelled object of a site that belongs to a pool: its
// MachineOSConfig or MachineConfigs, or a shared object no other
// MachineOSConfig uses.
type PoolObject struct {
	Obj *unstructured.Unstructured
	GVR schema.GroupVersionResource
	// Ref is the object as mosc prints it (refOf), e.g.
	// "machineconfig.machineconfiguration.openshift.io/99-mosc-worker-doca-init".
	Ref string
}

// PoolObjects lists the site's objects (registry ones aside) that belong to
// pool by remove --pool's attribution (poolScope.decide): the pool's
// MachineOSConfig (spec.machineConfigPool.name) and MachineConfigs (role
// label), and the shared objects (repo ConfigMap, GPG and push Secrets)
// only when no other MachineOSConfig on the cluster uses them. Objects of
// the site's other pools, and shared ones they use, are not the pool's: a
// plan for this pool that lacks them has not left them behind. Kinds the
// caller may not list are skipped.
func PoolObjects(ctx context.Context, c *Clients, mapper meta.RESTMapper, site, pool string) ([]PoolObject, error) {
	if mapper == nil {
		mapper = NewMapper(c)
	}
	kinds, err := servedKinds(mapper)
	if err != nil {
		return nil, err
	}
	sel, err := siteSelector(site)
	if err != nil {
		return nil, err
	}
	remain, err := remainingMOSCs(ctx, c, kinds, pool)
	if apierrors.IsForbidden(err) {
		// Without the list, every other pool might use anything shared:
		// claim only what is certainly the pool's.
		remain, err = []moscUse{{ref: "another MachineOSConfig (machineosconfigs cannot be listed)"}}, nil
	}
	if err != nil {
		return nil, err
	}
	scope := poolScope{pool: pool, remain: remain}
	var out []PoolObject
	for _, k := range kinds {
		if k.Registry {
			continue
		}
		list, err := c.Dynamic.Resource(k.GVR).Namespace(k.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if apierrors.IsForbidden(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", refOf(nil, k.GVR), err)
		}
		for i := range list.Items {
			it := &list.Items[i]
			if it.GetDeletionTimestamp() != nil || it.GetNamespace() == PullSecretNamespace ||
				it.GetLabels()[profile.LabelManagedBy] != profile.LabelManagedByValue {
				continue
			}
			if mine, _ := scope.decide(it, k); mine {
				out = append(out, PoolObject{Obj: it, GVR: k.GVR, Ref: refOf(it, k.GVR)})
			}
		}
	}
	return out, nil
}
