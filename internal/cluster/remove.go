package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mosc-dev/mosc/internal/profile"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
)

// ErrSeveralSites: remove without a site found objects of more than one.
var ErrSeveralSites = errors.New("objects of several sites are on this cluster")

// RemoveKind is one kind of object `mosc remove` looks for (by label only).
type RemoveKind struct {
	GVR       schema.GroupVersionResource
	Namespace string // "" for cluster-scoped kinds
	// MOSC kinds are deleted first, so the pool reverts before its inputs go.
	MOSC bool
	// Registry kinds are touched only with --registry.
	Registry bool
}

// RemoveKinds are every kind apply creates. Only objects carrying both mosc
// labels are ever deleted; the cluster pull secret (openshift-config) is in
// no namespace listed here.
var RemoveKinds = []RemoveKind{
	{GVR: schema.GroupVersionResource{Group: "machineconfiguration.openshift.io", Version: "v1", Resource: "machineosconfigs"}, MOSC: true},
	{GVR: schema.GroupVersionResource{Group: "machineconfiguration.openshift.io", Version: "v1alpha1", Resource: "machineosconfigs"}, MOSC: true},
	{GVR: schema.GroupVersionResource{Group: "machineconfiguration.openshift.io", Version: "v1", Resource: "machineconfigs"}},
	{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Namespace: profile.MCONamespace},
	{GVR: schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, Namespace: profile.MCONamespace},
	{GVR: schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, Namespace: RegistryNamespace, Registry: true},
	{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Namespace: RegistryNamespace, Registry: true},
}

// RemoveOptions are the knobs of `mosc remove`.
type RemoveOptions struct {
	// Site selects one site's objects; empty means the only site found.
	Site string
	// Pool limits remove to one pool of the site: its MachineOSConfig and
	// MachineConfigs, and the shared objects no other MachineOSConfig uses.
	Pool     string
	Registry bool
	DryRun   DryRun
	Out, Log io.Writer
	// RenderTimeout bounds the wait for the pools to be re-rendered without
	// the deleted MachineConfigs before they are unpaused (default
	// DefaultRenderTimeout).
	RenderTimeout time.Duration
}

// servedKinds drops the kinds the cluster does not serve (v1alpha1 MOSC on
// 4.18+, v1 on 4.16/4.17).
func servedKinds(mapper meta.RESTMapper) ([]RemoveKind, error) {
	var out []RemoveKind
	for _, k := range RemoveKinds {
		_, err := mapper.KindFor(k.GVR)
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("discovering %s: %w", k.GVR, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// Remove deletes what apply created for one site: the MachineOSConfig first
// (the pool reverts to the stock image), then the other labelled objects;
// the registry Config is restored and its PVC deleted only with Registry.
func Remove(ctx context.Context, c *Clients, mapper meta.RESTMapper, o RemoveOptions) ([]Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.RenderTimeout == 0 {
		o.RenderTimeout = DefaultRenderTimeout
	}
	if mapper == nil {
		mapper = NewMapper(c)
	}
	kinds, err := servedKinds(mapper)
	if err != nil {
		return nil, err
	}
	if err := CheckPermissions(ctx, c, RemoveNeeds(kinds, o.Registry)); err != nil {
		return nil, err
	}
	sel, err := siteSelector(o.Site)
	if err != nil {
		return nil, err
	}
	type found struct {
		obj  unstructured.Unstructured
		kind RemoveKind
	}
	var objs []found
	sites := map[string]bool{}
	for _, k := range kinds {
		list, err := c.Dynamic.Resource(k.GVR).Namespace(k.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", refOf(nil, k.GVR), err)
		}
		for _, it := range list.Items {
			// Belt and braces: the selector already demands both labels.
			if it.GetNamespace() == PullSecretNamespace || it.GetLabels()[profile.LabelManagedBy] != profile.LabelManagedByValue {
				continue
			}
			// Already being deleted (e.g. a PVC held by its protection finalizer).
			if it.GetDeletionTimestamp() != nil {
				continue
			}
			sites[it.GetLabels()[profile.LabelSite]] = true
			objs = append(objs, found{obj: it, kind: k})
		}
	}
	if o.Site == "" && len(sites) > 1 {
		names := make([]string, 0, len(sites))
		for s := range sites {
			names = append(names, s)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w (%s): choose one with --site", ErrSeveralSites, strings.Join(names, ", "))
	}
	var kept []string
	if o.Pool != "" {
		remain, err := remainingMOSCs(ctx, c, kinds, o.Pool)
		if err != nil {
			return nil, err
		}
		scope := poolScope{pool: o.Pool, remain: remain}
		var mine []found
		owned := false
		for _, f := range objs {
			rm, why := scope.decide(&f.obj, f.kind)
			if rm {
				mine = append(mine, f)
				owned = owned || f.kind.MOSC || f.kind.GVR.Resource == "machineconfigs"
			} else if why != "" {
				kept = append(kept, fmt.Sprintf("%s stays: %s", refOf(&f.obj, f.kind.GVR), why))
			}
		}
		if !owned {
			// Nothing of the pool: its shared objects are not ours to judge.
			mine, kept = nil, nil
		}
		objs = mine
	}
	// MOSC first, then the rest in a stable order; registry objects last.
	sort.SliceStable(objs, func(i, j int) bool {
		rank := func(f found) int {
			switch {
			case f.kind.MOSC:
				return 0
			case f.kind.Registry:
				return 2
			}
			return 1
		}
		return rank(objs[i]) < rank(objs[j])
	})

	var results []Result
	emit := func(r Result) {
		fmt.Fprintln(o.Out, r.String())
		results = append(results, r)
	}
	// Pause the pools whose MachineOSConfig or MachineConfigs go, so each
	// node reverts once (see pause.go); unpause whatever happens next.
	ros := make([]removeObj, len(objs))
	for i := range objs {
		ros[i] = removeObj{obj: &objs[i].obj, kind: objs[i].kind}
	}
	hold, gone, err := pauseForRemove(ctx, c, ros, o)
	if err != nil {
		if hold != nil {
			if rerr := hold.release(ctx); rerr != nil {
				err = fmt.Errorf("%w; %v", err, rerr)
			}
		}
		return nil, err
	}
	released := false
	release := func(waitRender bool) error {
		if released {
			return nil
		}
		released = true
		var werr error
		if waitRender {
			werr = hold.waitRendered(ctx, gone, nil, o.RenderTimeout)
			if werr != nil {
				werr = fmt.Errorf("%w; the pool is unpaused anyway, so its nodes may update twice", werr)
			}
		}
		if rerr := hold.release(ctx); rerr != nil {
			if werr != nil {
				return fmt.Errorf("%v; %w", werr, rerr)
			}
			return rerr
		}
		return werr
	}
	defer func() { _ = release(false) }()
	var registryKept []string
	restored := false
	for _, f := range objs {
		ref := refOf(&f.obj, f.kind.GVR)
		if f.kind.Registry && !released {
			if err := release(true); err != nil {
				return results, err
			}
		}
		if f.kind.Registry {
			if !o.Registry {
				registryKept = append(registryKept, ref)
				continue
			}
			if !restored {
				ok, err := restoreRegistry(ctx, c, o.DryRun)
				if err != nil {
					return results, err
				}
				if !ok {
					return results, fmt.Errorf("no record of the registry settings before mosc (configmap %s/%s): the registry Config is left as it is, and %s with it", RegistryNamespace, RegistryRecordName, ref)
				}
				emit(Result{Ref: refOf(nil, registryGVR) + "/" + RegistryConfigName, Action: "restored", DryRun: o.DryRun})
				restored = true
			}
		}
		if o.DryRun != DryRunClient {
			err := c.Dynamic.Resource(f.kind.GVR).Namespace(f.obj.GetNamespace()).Delete(ctx, f.obj.GetName(),
				metav1.DeleteOptions{DryRun: o.DryRun.opts()})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return results, fmt.Errorf("deleting %s: %w", ref, err)
			}
		}
		emit(Result{Ref: ref, Action: "deleted", DryRun: o.DryRun})
	}
	if err := release(true); err != nil {
		return results, err
	}
	for _, k := range kept {
		fmt.Fprintln(o.Log, k)
	}
	if len(results) == 0 {
		// As kubectl's "No resources found": say so, on stderr.
		what := "no objects labelled " + sel
		if o.Site != "" {
			what = "no mosc objects of site " + o.Site
		}
		if o.Pool != "" {
			what += " for pool " + o.Pool
		}
		fmt.Fprintf(o.Log, "nothing to remove: %s\n", what)
	}
	if len(registryKept) > 0 {
		fmt.Fprintf(o.Log, "the image registry stays enabled (%s kept); `mosc remove --registry` reverts it\n", strings.Join(registryKept, ", "))
	}
	tokenSecret, push := false, false
	for _, r := range results {
		tokenSecret = tokenSecret || r.Ref == "secret/"+BuilderTokenSecret
		push = push || strings.HasPrefix(r.Ref, "secret/")
	}
	switch {
	case tokenSecret:
		// The API server accepts its token only while it exists (pushcred.go).
		fmt.Fprintf(o.Log, "the token of secret %s is revoked with it; builder tokens minted with --push-credential token stay valid until they expire (bound tokens cannot be revoked one by one)\n", BuilderTokenSecret)
	case push:
		fmt.Fprintln(o.Log, "builder tokens already minted stay valid until they expire (bound tokens cannot be revoked one by one)")
	}
	return results, nil
}

// removeObj is one object remove found, with its kind.
type removeObj struct {
	obj  *unstructured.Unstructured
	kind RemoveKind
}

// pauseForRemove pauses the pools of the MachineOSConfigs and
// MachineConfigs about to be deleted and returns, per pool, the
// MachineConfigs whose deletion the render controller must see before the
// pool is unpaused.
func pauseForRemove(ctx context.Context, c *Clients, objs []removeObj, o RemoveOptions) (*poolHold, map[string][]string, error) {
	gone := map[string][]string{}
	affected := map[string]bool{}
	var poolList []mcfgv1.MachineConfigPool
	listed := false
	for _, f := range objs {
		switch {
		case f.kind.MOSC:
			if p, _, _ := unstructured.NestedString(f.obj.Object, "spec", "machineConfigPool", "name"); p != "" {
				affected[p] = true
			}
		case f.kind.GVR.Resource == "machineconfigs":
			if !listed {
				l, err := c.MachineConfig.MachineconfigurationV1().MachineConfigPools().List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, nil, fmt.Errorf("listing machineconfigpools: %w", err)
				}
				poolList, listed = l.Items, true
			}
			for _, p := range poolsOfMachineConfig(poolList, f.obj.GetLabels()) {
				affected[p] = true
				gone[p] = append(gone[p], f.obj.GetName())
			}
		}
	}
	if len(affected) == 0 {
		return &poolHold{c: c, log: o.Log, dry: o.DryRun}, gone, nil
	}
	names := make([]string, 0, len(affected))
	for p := range affected {
		names = append(names, p)
	}
	sort.Strings(names)
	h, err := holdPools(ctx, c, names, o.DryRun, o.Log, "deletes its MachineOSConfig and MachineConfigs")
	return h, gone, err
}

// siteSelector demands both labels: managed-by=mosc and the site label (one
// value, or present with any value).
func siteSelector(site string) (string, error) {
	managed, err := labels.NewRequirement(profile.LabelManagedBy, selection.Equals, []string{profile.LabelManagedByValue})
	if err != nil {
		return "", err
	}
	var s *labels.Requirement
	if site == "" {
		s, err = labels.NewRequirement(profile.LabelSite, selection.Exists, nil)
	} else {
		s, err = labels.NewRequirement(profile.LabelSite, selection.Equals, []string{site})
	}
	if err != nil {
		return "", fmt.Errorf("--site %q: %w", site, err)
	}
	return labels.NewSelector().Add(*managed, *s).String(), nil
}

// Leftovers lists the site's objects (registry ones aside) that are not in
// applied, e.g. the MachineOSConfig of a pool the plan no longer targets.
// apply does not prune them; it names them. Kinds the caller may not list
// are skipped: this is advice, not a check.
func Leftovers(ctx context.Context, c *Clients, mapper meta.RESTMapper, site string, applied []Result) ([]string, error) {
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
	have := map[string]bool{}
	for _, r := range applied {
		have[r.Ref] = true
	}
	var out []string
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
			if ref := refOf(it, k.GVR); !have[ref] && it.GetDeletionTimestamp() == nil {
				out = append(out, ref)
			}
		}
	}
	return out, nil
}
