package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/strictjson"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// strictTargets are the types DecodeStrict decodes into, fresh each call.
func strictTargets() []any {
	out := []any{&Ignition{}}
	for _, gvk := range []schema.GroupVersionKind{GVKConfigMap, GVKSecret, GVKPersistentVolumeClaim, GVKMachineConfig,
		GVKMachineOSConfig, GVKMachineOSConfigV1alpha1, GVKImageRegistryConfig} {
		v, ok := typeFor(gvk)
		if !ok {
			panic(gvk)
		}
		out = append(out, v)
	}
	return out
}

// checkSameAsSigsJSON decodes data into each target type with strictjson and
// with sigs.k8s.io/json.UnmarshalStrict: the values, the strict errors and
// the error must be the same.
func checkSameAsSigsJSON(t *testing.T, data []byte) {
	t.Helper()
	for i, want := range strictTargets() {
		got := reflect.New(reflect.TypeOf(want).Elem()).Interface()
		gStrict, gErr := strictjson.UnmarshalStrict(data, got)
		wStrict, wErr := sigsjson.UnmarshalStrict(data, want, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
		if errString(gErr) != errString(wErr) {
			t.Fatalf("%T: error %q, sigs.k8s.io/json %q\ninput: %q", want, errString(gErr), errString(wErr), data)
		}
		if errsString(gStrict) != errsString(wStrict) {
			t.Fatalf("%T: strict errors %q, sigs.k8s.io/json %q\ninput: %q", want, errsString(gStrict), errsString(wStrict), data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%T (%d): decoded\n%#v\nsigs.k8s.io/json:\n%#v\ninput: %q", want, i, got, want, data)
		}
		if !json.Valid(data) {
			continue
		}
		// Valid JSON: UnmarshalStrictValid (no well-formedness pass) too.
		valid := reflect.New(reflect.TypeOf(want).Elem()).Interface()
		vStrict, vErr := strictjson.UnmarshalStrictValid(data, valid)
		if errString(vErr) != errString(wErr) || errsString(vStrict) != errsString(wStrict) || !reflect.DeepEqual(valid, want) {
			t.Fatalf("%T: UnmarshalStrictValid %q %q\n%#v\nsigs.k8s.io/json %q %q\n%#v\ninput: %q",
				want, errString(vErr), errsString(vStrict), valid, errString(wErr), errsString(wStrict), want, data)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func errsString(errs []error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

// strictSeeds: every object of the render goldens as JSON, and edge cases.
func strictSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join("..", "render", "testdata", "golden", "*.yaml"))
	cat, _ := filepath.Glob(filepath.Join("..", "render", "testdata", "golden", "catalog", "*.yaml"))
	files = append(files, cat[:min(len(cat), 6)]...)
	if len(files) < 4 {
		t.Fatalf("render goldens not found: %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			j, err := yaml.YAMLToJSON(doc)
			if err != nil || len(j) < 10 || !bytes.Contains(j, []byte(`"kind"`)) {
				continue
			}
			seeds = append(seeds, j)
		}
	}
	for _, s := range []string{
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","name":"b"},"data":{"x":"y","x":"z"}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"Name":"a","labels":{"a":1}},"data":{"x":2},"binaryData":{"b":"!!"}}`,
		`{"apiVersion":"v1","kind":"PersistentVolumeClaim","spec":{"resources":{"requests":{"storage":"1Gx"}},"accessModes":"RWO"}}`,
		`{"apiVersion":"v1","kind":"PersistentVolumeClaim","spec":{"resources":{"requests":{"storage":"100Gi"}},"volumeMode":null,"unknown":{"a":[1,2]}}}`,
		`{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineConfig","spec":{"config":{"ignition":{"version":"3.2.0"},"storage":{"files":[{"path":"/a","mode":420,"mode":"x"}]}},"kernelArguments":[1]}}`,
		`{"ignition":{"version":3},"systemd":{"units":[{"name":"a","enabled":"yes","dropins":[{"Name":"x"}]}]}}`,
		`{"metadata":{"creationTimestamp":"2020-01-01T00:00:00Z","generation":1.5,"uid":7},"status":{"conditions":[{"lastTransitionTime":"bad"}]}}`,
		`{"spec":{"replicas":9223372036854775808,"storage":{"pvc":{"claim":""}},"managementState":"Managed","rolloutStrategy":{}}}`,
		`[1,2]`, `{"a":`, `nul`, `{"a":"\ud800"}`, `{"kind":"\u004b"}`, `{}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

func TestStrictJSONMatchesSigsJSON(t *testing.T) {
	for _, s := range strictSeeds(t) {
		checkSameAsSigsJSON(t, s)
	}
}

// FuzzStrictJSON holds internal/strictjson (sigs.k8s.io/json's decoder
// without its encoder precomputation) to sigs.k8s.io/json itself.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range strictSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameAsSigsJSON(t, data)
	})
}

// matchIgnitionVersion accepts exactly what ignitionVersion does: checked on
// every string of up to 6 bytes over the bytes that matter and a few that
// do not.
func TestIgnitionVersion(t *testing.T) {
	re := regexp.MustCompile(ignitionVersion)
	alphabet := []byte("3.01245a\n\xff")
	hits := 0
	var walk func(prefix []byte)
	walk = func(prefix []byte) {
		s := string(prefix)
		if got, want := matchIgnitionVersion(s), re.MatchString(s); got != want {
			t.Fatalf("%q: matcher %v, regexp %v", s, got, want)
		} else if want {
			hits++
		}
		if len(prefix) == 6 {
			return
		}
		for _, c := range alphabet {
			walk(append(prefix, c))
		}
	}
	walk(nil)
	if hits != 5 {
		t.Errorf("%d strings match, want 5 (3.0.0 to 3.4.0)", hits)
	}
}
