package cluster

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mosc-dev/mosc/internal/profile"
)

func jsonMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// mergePatch applies an RFC 7386 merge patch (the server's semantics) so the
// test can check enable followed by restore.
func mergePatch(target, patch map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range target {
		out[k] = v
	}
	for k, pv := range patch {
		if pv == nil {
			delete(out, k)
			continue
		}
		pm, pok := pv.(map[string]any)
		tm, tok := out[k].(map[string]any)
		if pok {
			if !tok {
				tm = map[string]any{}
			}
			out[k] = mergePatch(tm, pm)
			continue
		}
		out[k] = pv
	}
	return out
}

func TestRegistryPatch(t *testing.T) {
	r := &profile.RegistryPlan{ClaimName: "registry-claim", Replicas: 1, RolloutStrategy: "Recreate", DefaultRoute: true}
	got, dropped := RegistryPatch(r, jsonMap(t, `{"managementState":"Removed","storage":{}}`))
	want := jsonMap(t, `{"spec":{"managementState":"Managed","storage":{"pvc":{"claim":"registry-claim"}},"rolloutStrategy":"Recreate","replicas":1,"defaultRoute":true}}`)
	b, _ := json.Marshal(got)
	if d := cmp.Diff(want, jsonMap(t, string(b))); d != "" {
		t.Fatalf("patch (-want +got):\n%s", d)
	}
	if len(dropped) != 0 {
		t.Fatalf("dropped = %v", dropped)
	}
	// Replicas 0 and defaultRoute false are sent explicitly (a map, not the struct).
	got, dropped = RegistryPatch(&profile.RegistryPlan{ClaimName: "c"}, jsonMap(t, `{"storage":{"emptyDir":{},"managementState":"Managed"}}`))
	b, _ = json.Marshal(got)
	want = jsonMap(t, `{"spec":{"managementState":"Managed","storage":{"pvc":{"claim":"c"},"emptyDir":null},"replicas":0,"defaultRoute":false}}`)
	if d := cmp.Diff(want, jsonMap(t, string(b))); d != "" {
		t.Fatalf("patch (-want +got):\n%s", d)
	}
	if len(dropped) != 1 || dropped[0] != "emptyDir" {
		t.Fatalf("dropped = %v", dropped)
	}
}

// TestRegistryRoundTrip: record, enable, restore gives back the spec as it was.
func TestRegistryRoundTrip(t *testing.T) {
	r := &profile.RegistryPlan{ClaimName: "registry-claim", Replicas: 1, RolloutStrategy: "Recreate", DefaultRoute: true}
	for name, before := range map[string]string{
		"fresh bare metal": `{"managementState":"Removed","logLevel":"Normal","operatorLogLevel":"Normal","replicas":0,"storage":{}}`,
		"emptyDir":         `{"managementState":"Managed","replicas":2,"rolloutStrategy":"RollingUpdate","storage":{"emptyDir":{}},"httpSecret":"x"}`,
		"no fields":        `{}`,
		"other pvc":        `{"managementState":"Managed","replicas":1,"storage":{"pvc":{"claim":"old"},"managementState":"Unmanaged"},"defaultRoute":false}`,
	} {
		t.Run(name, func(t *testing.T) {
			spec := jsonMap(t, before)
			rec, err := recordOf(spec)
			if err != nil {
				t.Fatal(err)
			}
			// The record survives a trip through the ConfigMap.
			b, _ := json.Marshal(rec)
			var back RegistryRecord
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			en, _ := RegistryPatch(r, spec)
			enabled := mergePatch(map[string]any{"spec": spec}, roundTrip(t, en))["spec"].(map[string]any)
			if enabled["managementState"] != "Managed" {
				t.Fatalf("enabled = %v", enabled)
			}
			re, err := RestorePatch(back, enabled)
			if err != nil {
				t.Fatal(err)
			}
			restored := mergePatch(map[string]any{"spec": enabled}, roundTrip(t, re))["spec"].(map[string]any)
			if d := cmp.Diff(jsonMap(t, before), restored); d != "" {
				t.Fatalf("restored spec (-before +after):\n%s", d)
			}
		})
	}
}

// roundTrip gives the patch as the server sees it (JSON numbers as float64).
func roundTrip(t *testing.T, m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return jsonMap(t, string(b))
}

func TestRegistryPVC(t *testing.T) {
	u := RegistryPVC(&profile.RegistryPlan{ClaimName: "registry-claim", StorageClass: "lvms-vg1", Size: "100Gi", AccessMode: "ReadWriteOnce"}, "lab")
	b, _ := u.MarshalJSON()
	want := jsonMap(t, `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"registry-claim","namespace":"openshift-image-registry",
		"labels":{"app.kubernetes.io/managed-by":"mosc","mosc.dev/site":"lab"},"annotations":{"imageregistry.openshift.io":"true"}},
		"spec":{"accessModes":["ReadWriteOnce"],"volumeMode":"Filesystem","resources":{"requests":{"storage":"100Gi"}},"storageClassName":"lvms-vg1"}}`)
	if d := cmp.Diff(want, jsonMap(t, string(b))); d != "" {
		t.Fatalf("PVC (-want +got):\n%s", d)
	}
}
