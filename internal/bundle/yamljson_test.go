package bundle_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/internal/bundle"
)

// bundle.YAMLToJSONStrict and JSONDoc.DecodeStrict replace, for rendered
// objects, sigs.k8s.io/yaml.YAMLToJSONStrict followed by DecodeStrict of
// its JSON (the path before: it parsed the JSON again for apiVersion/kind
// and for the Unstructured map). checkYAMLToJSON holds them to that path:
// the same JSON bytes, the same errors, an Unstructured map deep-equal to
// the one unstructured's JSON decode gives (int64 against float64 matters).

func checkYAMLToJSON(t *testing.T, y []byte) (built bool) {
	t.Helper()
	doc, err := bundle.YAMLToJSONStrict(y)
	want, werr := sigsyaml.YAMLToJSONStrict(y)
	if errText(err) != errText(werr) {
		t.Fatalf("error %q, sigs.k8s.io/yaml %q\ninput: %q", errText(err), errText(werr), y)
	}
	if err != nil {
		return false
	}
	if !bytes.Equal(doc.Data, want) {
		if keysCollide(t, y) {
			t.Skip("two keys convert to one string: sigs.k8s.io/yaml keeps either, by map order")
		}
		t.Fatalf("JSON\n%s\nsigs.k8s.io/yaml\n%s\ninput: %q", doc.Data, want, y)
	}
	content := bundle.JSONDocContent(doc)
	if content != nil {
		// What unstructured.UnmarshalJSON puts in Object (decodeToUnstructured).
		m := map[string]any{}
		if err := utiljson.Unmarshal(doc.Data, &m); err != nil {
			t.Fatalf("walk built a map for JSON that does not decode (%v): %s", err, doc.Data)
		}
		if !reflect.DeepEqual(content, m) {
			t.Fatalf("walk built\n%#v\nJSON decode gives\n%#v\ninput: %q", content, m, y)
		}
		if av, k, ok := bundle.MetaOf(content); ok {
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := json.Unmarshal(doc.Data, &meta); err != nil || meta.APIVersion != av || meta.Kind != k {
				t.Fatalf("metaOf %q %q, encoding/json %q %q (%v)\ninput: %q", av, k, meta.APIVersion, meta.Kind, err, y)
			}
		}
	}
	// The bundle reader decodes a document that singleObject accepts as
	// one object: expandList must say the same.
	if bundle.SingleObject(doc) {
		items, err := bundle.ExpandList(doc.Data)
		if err != nil || len(items) != 1 || !bytes.Equal(items[0], doc.Data) {
			t.Fatalf("singleObject, but expandList gives %d items (%v)\ninput: %q", len(items), err, y)
		}
	}
	got, gerr := doc.DecodeStrict()
	old, oerr := bundle.DecodeStrict(want)
	if errText(gerr) != errText(oerr) {
		t.Fatalf("DecodeStrict error %q, before %q\ninput: %q", errText(gerr), errText(oerr), y)
	}
	if gerr == nil && !reflect.DeepEqual(got.Object, old.Object) {
		t.Fatalf("DecodeStrict\n%#v\nbefore\n%#v\ninput: %q", got.Object, old.Object, y)
	}
	return content != nil
}

// keysCollide reports whether two keys of one mapping of y convert to the
// same JSON key (as 1 and "1" do), where sigs.k8s.io/yaml's result depends
// on map iteration order. Written apart from yamljson.go's jsonKey.
func keysCollide(t *testing.T, y []byte) bool {
	var obj any
	if yaml.UnmarshalStrict(y, &obj) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case map[any]any:
			seen := map[string]bool{}
			for k, e := range v {
				var s string
				switch k := k.(type) {
				case string:
					s = k
				case int:
					s = strconv.Itoa(k)
				case int64:
					s = strconv.FormatInt(k, 10)
				case bool:
					s = strconv.FormatBool(k)
				case float64:
					s = map[string]string{"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}[strconv.FormatFloat(k, 'g', -1, 32)]
					if s == "" {
						s = strconv.FormatFloat(k, 'g', -1, 32)
					}
				default:
					return false
				}
				if seen[s] || walk(e) {
					return true
				}
				seen[s] = true
			}
		}
		return false
	}
	return walk(obj)
}

// yamlCases are the awkward inputs: number forms, keys of other types,
// aliases, strings that are not UTF-8, field-name case, errors.
var yamlCases = []string{
	"",
	"# only a comment\n",
	"null",
	"[1, 2]",
	"just a string",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: b}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: 1}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: b, a: c}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nbogus: 1\nother: [x]\n",
	"apiVersion: v1\nKind: ConfigMap\nmetadata: {name: a}\n",
	"apiVersion: v1\nkind: ConfigMap\nKIND: Secret\nmetadata: {name: a}\n",
	"APIVERSION: v1\nkind: ConfigMap\n",
	"apiVersion: v1\n\u212aind: ConfigMap\n",
	"apiVersion: v1\nkınd: ConfigMap\n",
	"apiVersion: v1\nkind: 7\n",
	"apiVersion: 1\nkind: ConfigMap\n",
	"apiVersion: v1\nkind: null\n",
	"apiVersion: v1\nkind: [ConfigMap]\n",
	"apiVersion: v1\nkind: Pod\n",
	"apiVersion: a/b/c\nkind: Pod\n",
	"apiVersion: v1\n",
	"kind: ConfigMap\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: !!binary /w==\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {!!binary /w==: x}}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"\\xff\\u2028<&>\\t\\b\\f\\0\\x7f\"}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {1: a, 2.5: b, true: c, null: d}}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {1: a, 2.5: b, true: c, 1e3: d, .inf: e, -.inf: f, .nan: g}}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {[1]: a}}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: a}\nx: *m\ny: *m\n",
	"apiVersion: v1\nkind: ConfigMap\nbase: &b {k: v}\nmetadata: {<<: *b, name: a}\n",
	"a: &a [*a]\n",
	"apiVersion: v1\nkind: ConfigMap\ndata:\n  when: 2001-12-14t21:59:43.10-05:00\n  date: 2002-12-14\n  yes: no\n  on: off\n",
	"apiVersion: imageregistry.operator.openshift.io/v1\nkind: Config\nmetadata: {name: cluster}\nspec:\n  managementState: Managed\n" +
		"  unsupportedConfigOverrides: {i: 1, f: 1.5, w: 3.0, z: -0.0, e: 1e21, e20: 1e20, s: 1e-7, t: 5e-324, m: 1.7976931348623157e308, " +
		"big: 9223372036854775807, over: 9223372036854775808, min: -9223372036854775808, under: -9223372036854775809, u: 18446744073709551615, " +
		"h: 0x1F, o: 0o17, b: 0b101, sx: 190:20:30, n: ~, l: [[], {}, [1, 2.5, x]], nested: {a: {b: [{c: 2.0}]}}}\n",
	"apiVersion: imageregistry.operator.openshift.io/v1\nkind: Config\nmetadata: {name: cluster}\nspec: {unsupportedConfigOverrides: {f: .inf}}\n",
	"apiVersion: imageregistry.operator.openshift.io/v1\nkind: Config\nmetadata: {name: cluster}\nspec: {unsupportedConfigOverrides: {f: .nan}}\n",
	"apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata: {name: m}\nspec:\n  config:\n    ignition: {version: 3.2.0}\n    storage: {files: [{path: /a, mode: 420, overwrite: true, contents: {source: \"data:,x\"}}]}\n",
	"apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata: {name: m}\nspec:\n  config:\n    ignition: {version: 3.5.0}\n",
	"apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata: {name: m}\nspec:\n  config:\n    ignition: {version: 3.2.0}\n    storage: {files: [{path: /a, mode: 420.5}]}\n",
	"apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata: {name: m}\nspec: {config: {ignition: {version: 3.2.0}, systemd: {units: [{enabled: true}]}}}\n",
	"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: Opaque\nstringData: {a: \"x\\ny\"}\ndata: {b: \"!!\"}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: b\n",
	"apiVersion: v1\nkind: ConfigMap\n\tmetadata: {}\n",
	"---\napiVersion: v1\nkind: ConfigMap\n---\nkind: Secret\n",
	"apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}]\n",
	"apiVersion: v1\nkind: List\nitems: []\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nitems: 5\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nItems: [1]\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nITEMS: null\n",
	"apiVersion: v2\nkind: List\nitems: [{a: 1}]\n",
}

// yamlInputs are yamlCases, every rendered golden file's documents, and
// every object of the catalog and of the goldens written as YAML both ways
// mosc has written it (the emitter and go-yaml v2).
func yamlInputs(t testing.TB, catalog bool) [][]byte {
	var in [][]byte
	for _, c := range yamlCases {
		in = append(in, []byte(c))
	}
	files, _ := filepath.Glob(filepath.Join("..", "render", "testdata", "golden", "*.yaml"))
	cat, _ := filepath.Glob(filepath.Join("..", "render", "testdata", "golden", "catalog", "*.yaml"))
	files = append(files, cat...)
	if len(files) < 20 {
		t.Fatalf("render goldens not found: %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			in = append(in, doc)
		}
	}
	if !catalog {
		return in
	}
	for _, o := range append(catalogObjects(t), goldenObjects(t)...) {
		y, ok := bundle.EmitYAML(o.Content.Object)
		if !ok {
			t.Fatalf("%s: emitter refused it", o.FileName)
		}
		legacy, err := bundle.MarshalYAMLLegacy(o.Content.Object)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, y, legacy)
	}
	return in
}

func TestYAMLToJSONMatches(t *testing.T) {
	built := 0
	for _, c := range yamlCases {
		t.Run("", func(t *testing.T) { checkYAMLToJSON(t, []byte(c)) })
	}
	in := yamlInputs(t, true)[len(yamlCases):]
	for _, y := range in {
		if !checkYAMLToJSON(t, y) && bytes.Contains(y, []byte("kind:")) {
			t.Errorf("a mosc object took the slow path: %q", y)
		}
		built++
	}
	t.Logf("%d objects", built)
}

// The walk's content for a number is what the JSON decode gives for the
// number json.Marshal writes: spelled out for the cases that differ from
// the YAML value's Go type.
func TestYAMLToJSONNumbers(t *testing.T) {
	y := "apiVersion: v1\nkind: X\nnum: {i: 1, w: 3.0, z: -0.0, e: 1e21, e20: 1e20, f: 1.5, big: 9223372036854775807, u: 18446744073709551615, h: 0x1F}\n"
	doc, err := bundle.YAMLToJSONStrict([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	n := bundle.JSONDocContent(doc)["num"]
	want := map[string]any{"i": int64(1), "w": int64(3), "z": int64(0), "e": 1e21, "e20": 1e20, "f": 1.5,
		"big": int64(math.MaxInt64), "u": float64(math.MaxUint64), "h": int64(31)}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("got %#v\nwant %#v", n, want)
	}
	if !strings.Contains(string(doc.Data), `"e":1e+21,"e20":100000000000000000000,"f":1.5,"h":31,"i":1,"u":18446744073709551615,"w":3,"z":-0`) {
		t.Fatalf("JSON %s", doc.Data)
	}
}

// FuzzYAMLToJSON: arbitrary YAML through both paths (seeds: yamlCases and
// the rendered goldens; the catalog is in TestYAMLToJSONMatches).
func FuzzYAMLToJSON(f *testing.F) {
	for _, y := range yamlInputs(f, false) {
		f.Add(y)
	}
	f.Fuzz(func(t *testing.T, y []byte) {
		checkYAMLToJSON(t, y)
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// walkthroughDocs are the documents of the walkthrough render's golden.
func walkthroughDocs(b testing.TB) [][]byte {
	data, err := os.ReadFile(filepath.Join("..", "render", "testdata", "golden", "fixture-walkthrough.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---\n")) {
		if bytes.Contains(d, []byte("kind:")) {
			docs = append(docs, d)
		}
	}
	return docs
}

// BenchmarkDecodeRendered: the walkthrough's objects, YAML to Unstructured,
// the way renderObjects decodes them.
func BenchmarkDecodeRendered(b *testing.B) {
	docs := walkthroughDocs(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, y := range docs {
			doc, err := bundle.YAMLToJSONStrict(y)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := doc.DecodeStrict(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecodeRenderedBefore is the path before: sigs.k8s.io/yaml, then
// DecodeStrict of its JSON.
func BenchmarkDecodeRenderedBefore(b *testing.B) {
	docs := walkthroughDocs(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, y := range docs {
			j, err := sigsyaml.YAMLToJSONStrict(y)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := bundle.DecodeStrict(j); err != nil {
				b.Fatal(err)
			}
		}
	}
}
