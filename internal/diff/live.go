package diff

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mosc-dev/mosc/internal/bundle"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// FieldManager is the server-side apply field manager mosc applies with.
const FieldManager = "mosc"

// Live fetches the cluster's copy of every object of b and returns them as
// a bundle in b's order, each pruned to the fields mosc sets (see Prune).
// Objects the cluster does not have are left out, so a diff from the live
// bundle to b shows them as added: what `mosc apply` would create. Objects
// mosc created that the plan no longer renders are not looked for.
func Live(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, b *bundle.Bundle) (*bundle.Bundle, error) {
	out := &bundle.Bundle{}
	for _, o := range b.Objects {
		u := o.Content
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w (is the CRD installed?)", u.GetAPIVersion(), u.GetKind(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		live, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get %s %s %s: %w", u.GetAPIVersion(), u.GetKind(), objName(u), err)
		}
		out.Objects = append(out.Objects, bundle.Object{
			Content:  Prune(live, u, FieldManager),
			Mode:     o.Mode,
			FileName: o.FileName,
			Secret:   o.Secret,
		})
	}
	return out, nil
}

func objName(u *unstructured.Unstructured) string {
	if u.GetNamespace() != "" {
		return u.GetNamespace() + "/" + u.GetName()
	}
	return u.GetName()
}

// Prune returns live reduced to the fields mosc sets: those present in the
// rendered object, plus those the field manager owns on the cluster (from
// metadata.managedFields), so a field an earlier mosc applied and the new
// plan drops shows up as removed. Status, server-set metadata
// (uid, resourceVersion, managedFields, ...) and fields other controllers
// own fall away. The apiVersion and kind are the rendered object's.
func Prune(live, rendered *unstructured.Unstructured, manager string) *unstructured.Unstructured {
	var owned map[string]any
	for _, mf := range live.GetManagedFields() {
		if mf.Manager != manager || mf.FieldsV1 == nil || mf.Subresource != "" {
			continue
		}
		var fs map[string]any
		if json.Unmarshal(mf.FieldsV1.Raw, &fs) == nil {
			owned = mergeFields(owned, fs)
		}
	}
	obj := pruneMap(live.Object, rendered.Object, owned)
	obj["apiVersion"] = rendered.GetAPIVersion()
	obj["kind"] = rendered.GetKind()
	if md, ok := obj["metadata"].(map[string]any); ok {
		// managedFields is itself a field a manager never "owns".
		delete(md, "managedFields")
	}
	return &unstructured.Unstructured{Object: obj}
}

func mergeFields(a, b map[string]any) map[string]any {
	if a == nil {
		return b
	}
	for k, v := range b {
		if av, ok := a[k].(map[string]any); ok {
			if bv, ok := v.(map[string]any); ok {
				a[k] = mergeFields(av, bv)
				continue
			}
		}
		a[k] = v
	}
	return a
}

// pruneMap keeps the keys of live that shape has or fields (a fieldsV1
// node: "f:<key>" entries) names.
func pruneMap(live, shape, fields map[string]any) map[string]any {
	out := map[string]any{}
	for k, lv := range live {
		sv, inShape := shape[k]
		fv, inFields := fields["f:"+k]
		if !inShape && !inFields {
			continue
		}
		fm, _ := fv.(map[string]any)
		out[k] = pruneValue(lv, sv, fm)
	}
	return out
}

func pruneValue(live, shape any, fields map[string]any) any {
	switch lv := live.(type) {
	case map[string]any:
		sm, _ := shape.(map[string]any)
		if len(sm) == 0 && len(fields) == 0 {
			return lv // an atomic map, or one owned whole
		}
		return pruneMap(lv, sm, fields)
	case []any:
		sl, _ := shape.([]any)
		key := listKey(lv)
		if key == "" {
			return lv // atomic list
		}
		// Keyed list: keep items the shape has (by key) or fields names
		// ("k:{...}" entries), each pruned alike.
		byKey := map[string]map[string]any{}
		for _, e := range sl {
			if m, ok := e.(map[string]any); ok {
				if s, ok := m[key].(string); ok {
					byKey[s] = m
				}
			}
		}
		fieldItems := map[string]map[string]any{}
		for fk, fv := range fields {
			if len(fk) < 2 || fk[:2] != "k:" {
				continue
			}
			var id map[string]any
			if json.Unmarshal([]byte(fk[2:]), &id) != nil {
				continue
			}
			if s, ok := id[key].(string); ok {
				fm, _ := fv.(map[string]any)
				fieldItems[s] = fm
			}
		}
		var out []any
		for _, e := range lv {
			m := e.(map[string]any)
			s := m[key].(string)
			sm, inShape := byKey[s]
			fm, inFields := fieldItems[s]
			if !inShape && !inFields {
				continue
			}
			if sm == nil && fm == nil {
				out = append(out, m)
				continue
			}
			out = append(out, pruneMap(m, sm, fm))
		}
		return out
	}
	return live
}
