package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// MarshalYAML's direct path must give sigs.k8s.io/yaml.Marshal's bytes for
// anything an object can hold: that is what keeps every golden file and
// every file a user already has unchanged.
func checkSameYAML(t *testing.T, obj map[string]any) {
	t.Helper()
	want, werr := yaml.Marshal(obj)
	got, gerr := MarshalYAML(Object{Content: &unstructured.Unstructured{Object: obj}, FileName: "x.yaml"})
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("error %v, sigs.k8s.io/yaml %v", gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalYAML differs from sigs.k8s.io/yaml.Marshal (plain=%v):\n%s\n--- want\n%s", yamlPlain(obj), got, want)
	}
	// appendYAML (WriteDir, WriteYAML) appends the same bytes.
	y, err := appendYAML([]byte("# h\n"), Object{Content: &unstructured.Unstructured{Object: obj}})
	if (err != nil) != (werr != nil) || werr == nil && !bytes.Equal(y, append([]byte("# h\n"), want...)) {
		t.Fatalf("appendYAML: %v\n%s\n--- want\n%s", err, y, want)
	}
}

func TestMarshalYAMLSameAsSigsYAML(t *testing.T) {
	long := "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r s t u v w x y z"
	for name, obj := range map[string]map[string]any{
		"scalars that look like other types": {"a": "true", "b": "123", "c": "1.5", "d": "null", "e": "~", "f": "yes", "g": "0x1F", "h": "", "i": " lead", "j": "trail ", "k": "2026-11-30", "l": "-", "m": "a: b", "n": "#c", "o": "@x", "p": "'q'", "q": "\"d\"", "r": "*", "s": "&a"},
		"multi-line":                         {"cf": "FROM x\nRUN y \\\n  z\n", "tail": "a\n\n", "nonl": "a\nb", "lead": "\n a", "tab": "a\tb\n", "cr": "a\r\nb", "u2028": "a\u2028b\n"},
		"long lines":                         {"plain": long, "quoted": "'" + long + "'", "colon": long + ": x " + long},
		"numbers and nulls":                  {"i": int64(-7), "big": int64(1) << 62, "f": 1.5, "whole": 3.0, "e": 1e21, "n": nil, "t": true},
		"empty and nil":                      {"m": map[string]any{}, "s": []any{}, "nm": map[string]any(nil), "ns": []any(nil)},
		"keys":                               {"a10": 1, "a9": 2, "B": 3, "b": 4, "": 5, "<<": map[string]any{"x": int64(1)}, "1": 6, "true": 7},
		"nested lists":                       {"l": []any{[]any{"a", int64(1)}, map[string]any{"k": []any{}}, nil, "- x"}},
		"other Go types":                     {"ss": []string{"a"}, "ms": map[string]string{"a": "b"}, "i": 5, "f32": float32(0.1)},
		"bad UTF-8":                          {"s": "a\xffb", "k\xfe": "v"},
		"control characters":                 {"s": "a\x00b\x07c\x1b", "bom": "\ufeffx", "del": "a\x7f"},
		"unicode":                            {"s": "héllo wörld ✓ 😀", "nbsp": "a\u00a0b", "k✓": "v"},
	} {
		t.Run(name, func(t *testing.T) { checkSameYAML(t, obj) })
	}
}

// Every catalog golden (real bundles: Containerfiles, Ignition configs,
// repo files) through both paths.
func TestMarshalYAMLGoldens(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "render", "testdata", "golden", "catalog", "*.yaml"))
	if len(files) < 100 {
		t.Fatalf("%d catalog golden files", len(files))
	}
	objects := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := parseFiles([]namedData{{f, data}})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, o := range b.Objects {
			if !yamlPlain(o.Content.Object) {
				t.Errorf("%s %s: not on the direct path", f, o.FileName)
			}
			checkSameYAML(t, o.Content.Object)
			objects++
		}
	}
	t.Logf("%d objects in %d files", objects, len(files))
}

// Any JSON object, decoded as an Unstructured is, marshals as
// sigs.k8s.io/yaml.Marshal marshals it.
func FuzzMarshalYAML(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"x":"FROM a\nRUN b\n","y":"true","z":""}}`))
	f.Add([]byte(`{"a":[1,2.5,null,{"b":[]},{}],"c":"\u2028 x","<<":{"d":1},"e":1e400}`))
	f.Add([]byte(`{"s":"a very long line of words that goes on and on past eighty columns, surely it wraps somewhere: yes"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		if json.Unmarshal(data, &obj) != nil || obj == nil {
			return
		}
		// Unstructured needs apiVersion and kind; the values are what matter.
		u := &unstructured.Unstructured{}
		if u.UnmarshalJSON(append([]byte(`{"apiVersion":"v1","kind":"X","x":`), append(data, '}')...)) != nil {
			return
		}
		checkSameYAML(t, u.Object)
	})
}
