package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mosc-dev/mosc/internal/profile"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// The internal image registry (FACTS.md §1, §4 step 1).
const (
	RegistryNamespace  = "openshift-image-registry"
	RegistryConfigName = "cluster"
	// RegistryRecordName is the ConfigMap where mosc records the registry
	// Config fields it is about to change, so `mosc remove --registry` can
	// put them back.
	RegistryRecordName = "mosc-registry-previous"
	registryRecordKey  = "spec.json"
)

var registryGVR = schema.GroupVersionResource{Group: "imageregistry.operator.openshift.io", Version: "v1", Resource: "configs"}

// registrySpecKeys are the spec fields the enablement patch touches.
var registrySpecKeys = []string{"managementState", "storage", "rolloutStrategy", "replicas", "defaultRoute"}

// storageTypes are the mutually exclusive storage back-ends of the registry
// Config; the operator refuses a Config with more than one.
var storageTypes = []string{"emptyDir", "s3", "gcs", "swift", "pvc", "azure", "ibmcos", "oss"}

// RegistryPatch is the JSON merge patch that enables the registry on the PVC.
// It is built as a map on purpose: the typed Config has no omitempty on
// replicas, so a marshalled struct would send fields the site never set.
// current is the live spec; any other storage back-end in it is removed
// (nulled), since the operator accepts only one.
func RegistryPatch(r *profile.RegistryPlan, current map[string]any) (map[string]any, []string) {
	storage := map[string]any{"pvc": map[string]any{"claim": r.ClaimName}}
	var dropped []string
	if cur, ok := current["storage"].(map[string]any); ok {
		for _, t := range storageTypes {
			if _, has := cur[t]; has && t != "pvc" {
				storage[t] = nil
				dropped = append(dropped, t)
			}
		}
	}
	spec := map[string]any{
		"managementState": "Managed",
		"storage":         storage,
		"replicas":        r.Replicas,
		"defaultRoute":    r.DefaultRoute,
	}
	if r.RolloutStrategy != "" {
		spec["rolloutStrategy"] = r.RolloutStrategy
	}
	return map[string]any{"spec": spec}, dropped
}

// RegistryRecord holds the previous values of registrySpecKeys; a key absent
// from the live spec is absent here too.
type RegistryRecord map[string]json.RawMessage

// recordOf takes the fields the patch will change from the live spec.
func recordOf(spec map[string]any) (RegistryRecord, error) {
	rec := RegistryRecord{}
	for _, k := range registrySpecKeys {
		v, ok := spec[k]
		if !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		rec[k] = b
	}
	return rec, nil
}

// RestorePatch is the merge patch that puts the recorded fields back: keys
// that were absent become null (removed), storage back-ends added since are
// nulled, and the recorded ones restored.
func RestorePatch(rec RegistryRecord, current map[string]any) (map[string]any, error) {
	spec := map[string]any{}
	for _, k := range registrySpecKeys {
		raw, ok := rec[k]
		if !ok {
			spec[k] = nil
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%s/%s: %s: %w", RegistryNamespace, RegistryRecordName, k, err)
		}
		spec[k] = v
	}
	if prev, ok := spec["storage"].(map[string]any); ok {
		if cur, ok := current["storage"].(map[string]any); ok {
			for k := range cur {
				if _, was := prev[k]; !was {
					prev[k] = nil
				}
			}
		}
	}
	return map[string]any{"spec": spec}, nil
}

// RegistryPVC is the claim the registry stores images on, as the walkthrough
// creates it (annotation imageregistry.openshift.io: "true").
func RegistryPVC(r *profile.RegistryPlan, site string) *unstructured.Unstructured {
	spec := map[string]any{
		"accessModes": []any{r.AccessMode},
		"volumeMode":  "Filesystem",
		"resources":   map[string]any{"requests": map[string]any{"storage": r.Size}},
	}
	if r.StorageClass != "" {
		spec["storageClassName"] = r.StorageClass
	}
	labels := map[string]any{}
	for k, v := range Labels(site) {
		labels[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "PersistentVolumeClaim",
		"metadata": map[string]any{
			"name":        r.ClaimName,
			"namespace":   RegistryNamespace,
			"labels":      labels,
			"annotations": map[string]any{"imageregistry.openshift.io": "true"},
		},
		"spec": spec,
	}}
}

// enableRegistry records the previous registry settings (once: a later
// apply must not overwrite them with mosc's own), then merge-patches the
// Config. It returns the per-object results.
func (a *Applier) enableRegistry(ctx context.Context, r *profile.RegistryPlan, site string) ([]Result, error) {
	cfgClient := a.c.Dynamic.Resource(registryGVR)
	live, err := cfgClient.Get(ctx, RegistryConfigName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("configs.%s/%s: %w", registryGVR.Group, RegistryConfigName, err)
	}
	spec, _, _ := unstructured.NestedMap(live.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	var results []Result

	// The record is written before the patch, so an interrupted apply still
	// leaves the way back.
	cms := a.c.Kube.CoreV1().ConfigMaps(RegistryNamespace)
	if _, err := cms.Get(ctx, RegistryRecordName, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		rec, err := recordOf(spec)
		if err != nil {
			return nil, err
		}
		data, _ := json.Marshal(rec)
		cm := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": RegistryRecordName, "namespace": RegistryNamespace, "labels": toAny(Labels(site)),
				"annotations": map[string]any{"mosc.dev/description": "registry Config fields before mosc enabled the registry; restored by `mosc remove --registry`"}},
			"data": map[string]any{registryRecordKey: string(data)},
		}}
		res, err := a.applyObject(ctx, cm, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"})
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	} else if err != nil {
		return nil, fmt.Errorf("configmap %s/%s: %w", RegistryNamespace, RegistryRecordName, err)
	}

	patch, dropped := RegistryPatch(r, spec)
	if len(dropped) > 0 {
		fmt.Fprintf(a.opts.Log, "warning: the image registry used storage %v; mosc replaces it with pvc %q (the operator allows one)\n", dropped, r.ClaimName)
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return nil, err
	}
	res, err := a.mergePatch(ctx, live, registryGVR, body)
	if err != nil {
		return nil, err
	}
	return append(results, res), nil
}

// WaitRegistryAvailable waits, through a watch, until the registry Config is
// ready (RegistryReady: Managed, Available=True for a reason other than
// Removed, the latest generation observed), or the timeout passes. waiting is called
// once if the registry is not available yet (to say so).
func WaitRegistryAvailable(ctx context.Context, c *Clients, timeout time.Duration, waiting func()) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := c.Dynamic.Resource(registryGVR)
	sel := fields.OneTermEqualSelector("metadata.name", RegistryConfigName).String()
	last := "no Available condition yet"
	available := func(u *unstructured.Unstructured) bool {
		ok, state := RegistryReady(u)
		last = state
		return ok
	}
	timedOut := func() error {
		if errors.Is(ctx.Err(), context.Canceled) {
			return fmt.Errorf("interrupted while waiting for the image registry (%s)", last)
		}
		return fmt.Errorf("the image registry did not become available within %v (%s); raise --registry-timeout, or skip the wait with --wait-registry=false", timeout, last)
	}
	told := false
	// A watch ends now and then (server timeouts); each round starts from a
	// fresh read, so no change is missed in between.
	for {
		u, err := res.Get(ctx, RegistryConfigName, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return timedOut()
			}
			return fmt.Errorf("waiting for the image registry: %w", err)
		}
		if available(u) {
			return nil
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		w, err := res.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: u.GetResourceVersion()})
		if err != nil {
			if ctx.Err() != nil {
				return timedOut()
			}
			return fmt.Errorf("waiting for the image registry: %w", err)
		}
		done, err := func() (bool, error) {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return false, timedOut()
				case ev, ok := <-w.ResultChan():
					if !ok {
						return false, nil
					}
					switch ev.Type {
					case watch.Deleted:
						return false, fmt.Errorf("configs.%s/%s was deleted", registryGVR.Group, RegistryConfigName)
					case watch.Error:
						return false, nil // e.g. resourceVersion too old: read again
					}
					if u, ok := ev.Object.(*unstructured.Unstructured); ok && available(u) {
						return true, nil
					}
				}
			}
		}()
		if err != nil || done {
			return err
		}
	}
}

// condition reads status.conditions[type=t] of an unstructured object.
func condition(u *unstructured.Unstructured, t string) (status, reason, message string, found bool) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != t {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return s, r, msg, true
	}
	return "", "", "", false
}

// restoreRegistry puts back the recorded registry Config fields.
func restoreRegistry(ctx context.Context, c *Clients, dryRun DryRun) (bool, error) {
	cm, err := c.Kube.CoreV1().ConfigMaps(RegistryNamespace).Get(ctx, RegistryRecordName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("configmap %s/%s: %w", RegistryNamespace, RegistryRecordName, err)
	}
	var rec RegistryRecord
	if err := json.Unmarshal([]byte(cm.Data[registryRecordKey]), &rec); err != nil {
		return false, fmt.Errorf("configmap %s/%s: %s: %w", RegistryNamespace, RegistryRecordName, registryRecordKey, err)
	}
	live, err := c.Dynamic.Resource(registryGVR).Get(ctx, RegistryConfigName, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("configs.%s/%s: %w", registryGVR.Group, RegistryConfigName, err)
	}
	spec, _, _ := unstructured.NestedMap(live.Object, "spec")
	patch, err := RestorePatch(rec, spec)
	if err != nil {
		return false, err
	}
	if dryRun == DryRunClient {
		return true, nil
	}
	body, _ := json.Marshal(patch)
	if _, err := c.Dynamic.Resource(registryGVR).Patch(ctx, RegistryConfigName, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: FieldManager, DryRun: dryRun.opts()}); err != nil {
		return false, fmt.Errorf("restoring configs.%s/%s: %w", registryGVR.Group, RegistryConfigName, err)
	}
	return true, nil
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
