package cluster

import (
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func registryConfig(t *testing.T, spec, status string, generation int64) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config",
		"metadata": map[string]any{"name": "cluster", "generation": generation},
		"spec":     jsonMap(t, spec),
	}}
	if status != "" {
		u.Object["status"] = jsonMap(t, status)
	}
	return u
}

func TestRegistryReady(t *testing.T) {
	avail := func(st, reason string, observed int) string {
		return `{"observedGeneration":` + itoa(observed) + `,"conditions":[{"type":"Available","status":"` + st + `","reason":"` + reason + `","message":"m"}]}`
	}
	for _, tc := range []struct {
		name, spec, status string
		gen                int64
		ready              bool
		state              string
	}{
		{"removed reports Available=True Removed", `{"managementState":"Removed"}`, avail("True", "Removed", 3), 3, false, "managementState Removed; Available=True Removed: m"},
		{"managed, stale status from the Removed generation", `{"managementState":"Managed"}`, avail("True", "Removed", 3), 4, false, "has not observed generation 4 yet (observedGeneration 3)"},
		{"managed, observed, no replicas", `{"managementState":"Managed"}`, avail("False", "NoReplicasAvailable", 4), 4, false, "Available=False NoReplicasAvailable: m"},
		{"managed and ready", `{"managementState":"Managed"}`, avail("True", "Ready", 4), 4, true, "Available=True Ready: m"},
		{"minimum availability counts", `{"managementState":"Managed"}`, avail("True", "MinimumAvailability", 4), 4, true, "Available=True MinimumAvailability"},
		{"observed ahead is fine", `{"managementState":"Managed"}`, avail("True", "Ready", 5), 4, true, "Ready"},
		{"managed, Removed reason although observed", `{"managementState":"Managed"}`, avail("True", "Removed", 4), 4, false, "Available=True Removed"},
		{"no status at all", `{"managementState":"Managed"}`, "", 1, false, "observedGeneration 0"},
		{"unmanaged", `{"managementState":"Unmanaged"}`, avail("True", "Unmanaged", 1), 1, false, "managementState Unmanaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready, state := RegistryReady(registryConfig(t, tc.spec, tc.status, tc.gen))
			if ready != tc.ready || !strings.Contains(state, tc.state) {
				t.Fatalf("RegistryReady = %v, %q; want %v, containing %q", ready, state, tc.ready, tc.state)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDecideRegistry(t *testing.T) {
	ready := `{"observedGeneration":2,"conditions":[{"type":"Available","status":"True","reason":"Ready","message":"The registry is ready"}]}`
	for _, tc := range []struct {
		name, spec string
		discard    bool
		action     RegistryAction
		note, warn string
	}{
		{"bare metal: Removed", `{"managementState":"Removed","storage":{}}`, false, RegistryEnable, "", ""},
		{"Removed with leftover s3 settings", `{"managementState":"Removed","storage":{"s3":{"bucket":"b"}}}`, false, RegistryEnable, "", ""},
		{"Managed without storage", `{"managementState":"Managed","storage":{}}`, false, RegistryEnable, "", ""},
		{"Managed on mosc's claim: re-apply", `{"managementState":"Managed","storage":{"pvc":{"claim":"registry-claim"}}}`, false, RegistryEnable, "", ""},
		{"IPI AWS: s3", `{"managementState":"Managed","replicas":2,"storage":{"s3":{"bucket":"b","region":"us-east-1"}}}`, false, RegistryReuse,
			"Managed on s3 storage (2 replicas, Available=True Ready: The registry is ready); mosc uses it as it is (--discard-registry-images", ""},
		{"Azure", `{"managementState":"Managed","replicas":2,"storage":{"azure":{}}}`, false, RegistryReuse, "Managed on azure storage", ""},
		{"another claim", `{"managementState":"Managed","replicas":1,"storage":{"pvc":{"claim":"image-registry-storage"}}}`, false, RegistryReuse, "pvc (claim image-registry-storage)", ""},
		{"emptyDir is used but warned about", `{"managementState":"Managed","replicas":1,"storage":{"emptyDir":{}}}`, false, RegistryReuse, "emptyDir", "each registry restart loses the built image"},
		{"s3 with the opt-in", `{"managementState":"Managed","replicas":2,"storage":{"s3":{}}}`, true, RegistryEnable, "",
			`--discard-registry-images: replacing the image registry's s3 storage with pvc "registry-claim": every image it stores (ImageStreams of every namespace) is lost, and it runs 1 replica instead of 2`},
		{"Unmanaged", `{"managementState":"Unmanaged"}`, false, RegistryUnmanaged, "Unmanaged: mosc leaves it as it is", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideRegistry(RegistryStateOf(registryConfig(t, tc.spec, ready, 2)), "registry-claim", tc.discard)
			if d.Action != tc.action {
				t.Fatalf("action = %v, want %v (%+v)", d.Action, tc.action, d)
			}
			if !strings.Contains(d.Note, tc.note) || (tc.note == "" && d.Note != "") {
				t.Errorf("note = %q, want %q", d.Note, tc.note)
			}
			w := strings.Join(d.Warnings, "\n")
			if !strings.Contains(w, tc.warn) || (tc.warn == "" && w != "") {
				t.Errorf("warnings = %q, want %q", w, tc.warn)
			}
		})
	}
}
