package bundle_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

// The emitter (emit.go) must write exactly what mosc wrote before it
// (bundle.MarshalYAMLLegacy: go-yaml v2, or sigs.k8s.io/yaml's JSON round
// trip), or leave the object to that path. These tests hold it there:
// TestEmitCatalog for every object mosc renders from its catalog and every
// golden file, TestEmitCases and TestEmitFallbacks for the awkward values,
// FuzzEmitYAML for arbitrary ones.

// checkEmit compares the emitter with the legacy path for obj and reports
// whether the emitter wrote it (false: it left obj to the legacy path).
func checkEmit(t *testing.T, obj map[string]any) bool {
	t.Helper()
	want, werr := bundle.MarshalYAMLLegacy(obj)
	got, ok := bundle.EmitYAML(obj)
	// MarshalYAML, whichever path it takes, gives the legacy bytes.
	pub, perr := bundle.MarshalYAML(bundle.Object{Content: &unstructured.Unstructured{Object: obj}, FileName: "x.yaml"})
	if (perr != nil) != (werr != nil) || !bytes.Equal(pub, want) {
		if !sortIsTotal(obj) {
			t.Skip("go-yaml's key order is not a total order for these keys: its output depends on map iteration")
		}
		t.Fatalf("MarshalYAML (%v):\n%s\n--- legacy (%v)\n%s", perr, pub, werr, want)
	}
	if !ok {
		return false
	}
	if werr != nil {
		t.Fatalf("emitter wrote an object the legacy path refuses (%v):\n%s", werr, got)
	}
	if !bytes.Equal(got, want) {
		if !sortIsTotal(obj) {
			t.Skip("go-yaml's key order is not a total order for these keys: its output depends on map iteration")
		}
		t.Fatalf("emitter:\n%s\n--- legacy\n%s\n--- emitter %q\n--- legacy  %q", got, want, got, want)
	}
	return true
}

// sortIsTotal reports whether go-yaml's keyList.Less orders the keys of
// every map in v totally. Where it does not (a cycle, as int64 overflow of
// long digit runs can make), sort.Sort's result depends on the order the
// keys come in, which is Go's random map order: the legacy output itself
// varies from run to run, so there is nothing to compare with.
func sortIsTotal(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return bundle.KeyLess(keys[i], keys[j]) })
		for i := range keys {
			for j := i + 1; j < len(keys); j++ {
				if !bundle.KeyLess(keys[i], keys[j]) || bundle.KeyLess(keys[j], keys[i]) {
					return false
				}
			}
		}
		for _, e := range t {
			if !sortIsTotal(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !sortIsTotal(e) {
				return false
			}
		}
	}
	return true
}

// catalogObjects renders every supported combination of the embedded
// catalog as `mosc render --all` does (render.Combinations, RenderEach).
func catalogObjects(t testing.TB) []bundle.Object {
	t.Helper()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	combos := render.Combinations(cat)
	if len(combos) < 100 {
		t.Fatalf("%d combinations", len(combos))
	}
	results, errs := render.RenderEach(len(combos), func(i int) (*profile.Plan, render.Options, error) {
		site := profile.NewSite()
		site.Override(combos[i].Overrides(profile.Overrides{}))
		p, err := cat.Resolve(site)
		return p, render.Options{}, err
	})
	var out []bundle.Object
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("%s: %v", combos[i].Name(), errs[i])
		}
		out = append(out, r.Bundle.Objects...)
	}
	return out
}

// goldenObjects reads every golden YAML file of the repository that holds
// Kubernetes objects.
func goldenObjects(t testing.TB) []bundle.Object {
	t.Helper()
	var out []bundle.Object
	for _, pattern := range []string{
		"../render/testdata/golden/*.yaml", "../render/testdata/golden/catalog/*.yaml",
		"../fleet/testdata/golden/tree/*/*.yaml", "../fleet/testdata/golden/tree/*/*/*.yaml", "../fleet/testdata/golden/tree/*/*/*/*.yaml",
	} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, _, err := bundle.ReadPath(f)
			if err != nil {
				continue // a kustomization or policy file: not objects mosc reads
			}
			out = append(out, b.Objects...)
		}
	}
	if len(out) < 400 {
		t.Fatalf("%d golden objects", len(out))
	}
	return out
}

// Every object of the whole catalog, and of every golden file, is written by
// the emitter (no fallback) with the legacy bytes.
func TestEmitCatalog(t *testing.T) {
	objs := append(catalogObjects(t), goldenObjects(t)...)
	for _, o := range objs {
		if !checkEmit(t, o.Content.Object) {
			t.Errorf("%s: left to the legacy path", o.FileName)
		}
	}
	t.Logf("%d objects", len(objs))
}

func TestEmitCases(t *testing.T) {
	long := strings.Repeat("a b c d e f g h i j k l m n o p q r s t u v w x y z ", 3)
	words := strings.Repeat("word ", 30)
	for name, obj := range map[string]map[string]any{
		"scalars that look like other types": {"a": "true", "b": "123", "c": "1.5", "d": "null", "e": "~", "f": "yes", "g": "0x1F", "h": "", "i": " lead", "j": "trail ", "k": "2026-11-30", "l": "-", "m": "a: b", "n": "#c", "o": "@x", "p": "'q'", "q": "\"d\"", "r": "*", "s": "&a",
			"t": "1:20", "u": "190:20:30.15", "v": "-1:2", "w": "0b101", "x": "-0b11", "y": "1_000", "z": ".5", "aa": "+.inf", "ab": ".nan", "ac": "1e400", "ad": "2001-12-14t21:59:43.10-05:00", "ae": "2001-12-14 21:59:43.10", "af": "2001-12-1", "ag": "0o17", "ah": "<<", "ai": "---", "aj": "... x", "ak": "? x", "al": "a #b", "am": "a#b", "an": "%x", "ao": "Y", "ap": "On", "aq": "1e3", "ar": "+1", "as": "1.2.3"},
		"multi-line": {"cf": "FROM x\nRUN y \\\n  z\n", "tail": "a\n\n", "nonl": "a\nb", "lead": "\n a", "tab": "a\tb\n", "cr": "a\r\nb", "u2028": "a\u2028b\n", "sp": " a\nb", "trail": "a \nb", "only": "\n", "two": "\n\n", "lsp": "a\n b\n", "ls": "a\u2028b", "ps": "x\u2029"},
		"long lines": {"plain": long, "quoted": "'" + long + "'", "colon": long + ": x " + long, "dq": "\t" + long, "dq2": "\t" + words + "  " + words, "spaces": words + "   " + words, "sq": "'" + words + "  " + words + "'",
			"lit": words + "\n" + words + "\n", "nested": map[string]any{"deeper": map[string]any{"x": words}}, "seq": []any{words, []any{words}}},
		"numbers and nulls": {"i": int64(-7), "big": int64(1) << 62, "min": int64(math.MinInt64), "int": 5, "f": 1.5, "whole": 3.0, "neg0": math.Copysign(0, -1), "e": 1e21, "e20": 1e20, "small": 1e-7, "tiny": 5e-324, "max": math.MaxFloat64, "n": nil, "t": true, "fa": false,
			"num": json.Number("12"), "numf": json.Number("1.0"), "nume": json.Number("1e400"), "numbig": json.Number("123456789012345678901234567890"), "numu": json.Number("18446744073709551615"), "num0": json.Number(""), "numneg": json.Number("-0")},
		"empty and nil":      {"m": map[string]any{}, "s": []any{}, "nm": map[string]any(nil), "ns": []any(nil), "l": []any{map[string]any{}, []any{}, nil, []any(nil)}},
		"keys":               {"a10": 1, "a9": 2, "B": 3, "b": 4, "": 5, "1": 6, "true": 7, "a01": 8, "a1": 9, "a001": 10, "z0": 11, "-": 12, "~": 13, "é": 14, "ア": 15, "٣": 16, "k\nl": 17, strings.Repeat("k", 129): 18, strings.Repeat("k", 128): 19, "a b": 20, "a: b": 21, "- x": 22, "#": 23, "\t": 24, "\ufeffk": 25, "😀": 26, "k\n": map[string]any{"x": []any{"y"}}, strings.Repeat("q", 130): []any{"a", map[string]any{"b": "c"}}},
		"nested lists":       {"l": []any{[]any{"a", int64(1)}, map[string]any{"k": []any{}}, nil, "- x", []any{[]any{[]any{"deep"}}}, map[string]any{"a": map[string]any{"b": []any{"c"}}, "d": "e"}, "multi\nline\n"}},
		"bad UTF-8":          {"s": "a\xffb", "t": "\xc3", "u": "\xed\xa0\x80", "v": "ok\xf0\x9f\x98", "w": "\xff\n\xfe"},
		"control characters": {"s": "a\x00b\x07c\x1b", "bom": "\ufeffx", "bom2": "\ufeffa b\"c\\", "bomnl": "\ufeffa\nb", "esc": "\x08\x0b\x0c\x0d\"\\", "fffd": "\ufffd", "nbsp": "a\u00a0b", "e000": "\ue000"},
		"unicode":            {"s": "héllo wörld ✓ 😀", "k✓": "v", "long": strings.Repeat("é ", 50), "long4": strings.Repeat("😀 ", 50)},
	} {
		t.Run(name, func(t *testing.T) {
			if !checkEmit(t, obj) {
				t.Error("left to the legacy path")
			}
		})
	}
}

// The values the emitter leaves to the legacy path (see emit.go) are
// exactly these; MarshalYAML still gives the legacy result for them
// (checkEmit).
func TestEmitFallbacks(t *testing.T) {
	deep := map[string]any{}
	m := deep
	for range bundle.EmitMaxDepth + 1 {
		n := map[string]any{}
		m["d"] = n
		m = n
	}
	for name, obj := range map[string]map[string]any{
		"other Go types":                   {"ss": []string{"a"}},
		"other Go map type":                {"ms": map[string]string{"a": "b"}},
		"float32":                          {"f32": float32(0.1)},
		"NaN":                              {"f": math.NaN()},
		"Inf":                              {"f": math.Inf(1)},
		"invalid json.Number":              {"n": json.Number("1.")},
		"merge key":                        {"<<": map[string]any{"x": int64(1)}},
		"key not UTF-8":                    {"k\xfe": "v"},
		"DEL, refused by go-yaml's reader": {"s": "a\x7f"},
		"C1 control":                       {"s": "a\u0080"},
		"U+FFFE":                           {"s": "\ufffe"},
		"NEL folded in the JSON":           {"s": "a\u0085b"},
		"NEL in a key":                     {"a\u0085": "b"},
		"deeper than the emitter goes":     deep,
	} {
		t.Run(name, func(t *testing.T) {
			if checkEmit(t, obj) {
				t.Error("the emitter wrote it: update emit.go's list of fallbacks")
			}
		})
	}
}

// The hand-written matchers against the regular expressions they replace
// (go-yaml resolve.go yamlStyleFloat, encode.go base60float).
var (
	yamlStyleFloatRE = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
	base60floatRE    = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)
	// encoding/json's number grammar (isValidNumber).
	jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
)

func checkMatchers(t *testing.T, s string) {
	t.Helper()
	if got, want := bundle.YAMLStyleFloat(s), yamlStyleFloatRE.MatchString(s); got != want {
		t.Errorf("yamlStyleFloat(%q) = %v, regexp %v", s, got, want)
	}
	if got, want := bundle.IsBase60Float(s), base60floatRE.MatchString(s); got != want {
		t.Errorf("isBase60Float(%q) = %v, regexp %v", s, got, want)
	}
}

func TestEmitMatchers(t *testing.T) {
	for _, s := range []string{"", "1", "-1", "+", ".", ".5", "5.", "5.5", "1e3", "1e", "1e+", "1E-3", ".e3", "+.5e1", "1.2.3", "a",
		"1:2", "1:20", "1:60", "1:59", "1:5x", "1:2:3", "190:20:30.15", "1_0:2", "_1:2", "1:", ":1", "-1:2.", "1:2.3_4", "1:123", "1:0", "1:07", "1:7:"} {
		checkMatchers(t, s)
	}
}

// Fuzz input is either a JSON object (the seeds: every object of every
// catalog combination and every golden file; mutated, nearby objects) or a
// small program building a value (gen below): maps, lists, every scalar
// type, strings made of awkward tokens and raw bytes, long lines.
func FuzzEmitYAML(f *testing.F) {
	for _, o := range append(catalogObjects(f), goldenObjects(f)...) {
		j, err := json.Marshal(o.Content.Object)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j)
	}
	f.Add([]byte{6, 5, 1, 3, 0, 1, 2, 11, 1, 4, 9, 10, 11, 12, 7, 3, 0, 2, 40, 41})
	f.Add([]byte{6, 4, 0, 2, 20, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 5, 30, 31, 32, 33, 34, 7, 2, 2, 4, 1, 5})
	f.Add([]byte("\x06\x03\x00\x00\x05a\xffb\n \x0b\x01\x03\x2a\x2b\x2c\x06\x01\x02\x10\x11\x03\x07"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		var strs []string
		if len(data) > 0 && data[0] == '{' {
			u := &unstructured.Unstructured{}
			if json.Unmarshal(data, &obj) != nil || obj == nil {
				return
			}
			// As the renderer holds them: integers as int64.
			if u.UnmarshalJSON(append([]byte(`{"apiVersion":"v1","kind":"X","x":`), append(data, '}')...)) != nil {
				return
			}
			obj = u.Object
		} else {
			g := &gen{data: data}
			obj = g.mapValue(0)
			strs = g.strs
		}
		for _, s := range strs {
			checkMatchers(t, s)
		}
		emitted := checkEmit(t, obj)
		if want := emittable(obj, 0); emitted != want {
			t.Fatalf("emitter wrote it: %v, want %v (emit.go's fallback list)", emitted, want)
		}
	})
}

// emittable is emit.go's fallback list, written out independently: the
// emitter must write every value outside it.
func emittable(v any, depth int) bool {
	if depth > bundle.EmitMaxDepth {
		return false
	}
	safe := func(s string) bool {
		return utf8.ValidString(s) && bundle.YAMLReadable(s) && !strings.ContainsRune(s, 0x85)
	}
	switch t := v.(type) {
	case nil, bool, int64, int:
		return true
	case float64:
		return !math.IsNaN(t) && !math.IsInf(t, 0)
	case json.Number:
		return t == "" || jsonNumberRE.MatchString(string(t))
	case string:
		return safe(strings.ToValidUTF8(t, "\ufffd"))
	case map[string]any:
		for k, e := range t {
			if k == "<<" || !safe(k) || !emittable(e, depth+1) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range t {
			if !emittable(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// gen builds a value from fuzz bytes.
type gen struct {
	data []byte
	pos  int
	strs []string
}

func (g *gen) next() byte {
	if g.pos >= len(g.data) {
		return 0
	}
	g.pos++
	return g.data[g.pos-1]
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = g.next()
	}
	return b
}

var tokens = []string{
	"", " ", "  ", "\n", "\n\n", "\r", "\r\n", "\t", "a", "b", "Z", "0", "1", "09", "1_000", "0x1F", "0b101", "-0b1", "0o17", "1e3", ".5", "+.inf", ".nan",
	"1:20", "190:20:30.15", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "true", "yes", "No", "off", "~", "null", "<<",
	"-", "- ", "--- ", "...", ":", ": ", "#", " #", "?", "? ", "'", "\"", "\\", "[", "]", "{", "}", ",", "&", "*", "!", "|", ">", "%", "@", "`",
	"é", "\u00a0", "\u0085", "\u2028", "\u2029", "\ufeff", "\ufffe", "\ufffd", "\x7f", "\x00", "\x1b", "\u0080", "😀", "\xff", "\xc3", "✓", "ア", "٣", "Ⅻ",
	"abcdefghijklmnopqrstuvwxyz0123456789", "99999999999999999999", "a1", "a01", "-1", "1.5", "1e400",
}

func (g *gen) str() string {
	var s string
	switch g.next() % 4 {
	case 0:
		s = string(g.bytes(int(g.next() % 40)))
	case 1, 2:
		var b strings.Builder
		for range g.next() % 8 {
			b.WriteString(tokens[int(g.next())%len(tokens)])
		}
		s = b.String()
	case 3: // long text, to fold at 80 columns
		var b strings.Builder
		for range g.next() % 40 {
			switch c := g.next(); c % 4 {
			case 0:
				b.WriteString(tokens[int(c/4)%len(tokens)])
			case 1:
				b.WriteString("  ")
			default:
				b.WriteString("word ")
			}
		}
		s = b.String()
	}
	g.strs = append(g.strs, s)
	return s
}

func (g *gen) mapValue(depth int) map[string]any {
	m := map[string]any{}
	for range g.next() % 6 {
		m[g.str()] = g.value(depth + 1)
	}
	return m
}

func (g *gen) value(depth int) any {
	op := g.next() % 12
	if depth >= 6 {
		op %= 6
	}
	switch op {
	case 0, 11:
		return g.str()
	case 1:
		return int64(binary.LittleEndian.Uint64(g.bytes(8)))
	case 2:
		return math.Float64frombits(binary.LittleEndian.Uint64(g.bytes(8)))
	case 3:
		fs := []float64{0, math.Copysign(0, -1), 3, 1e20, 1e21, 1e-7, 1e-6, 0.1, 1.5, -2.5e-8, math.MaxFloat64, 5e-324, 123456789.125, math.NaN(), math.Inf(-1)}
		return fs[int(g.next())%len(fs)]
	case 4:
		return g.next()%2 == 0
	case 5:
		return nil
	case 6:
		return g.mapValue(depth)
	case 7:
		l := []any{}
		for range g.next() % 6 {
			l = append(l, g.value(depth+1))
		}
		return l
	case 8:
		return []any{map[string]any{}, map[string]any(nil), []any{}, []any(nil)}[g.next()%4]
	case 9:
		return json.Number(g.str())
	default:
		return int(int8(g.next()))
	}
}

// BenchmarkMarshalCatalog marshals every object `mosc render --all`
// writes: "legacy" as mosc did before the emitter (go-yaml v2, and the
// JSON that keyed the YAML cache), "emit" as it does now.
func BenchmarkMarshalCatalog(b *testing.B) {
	objs := catalogObjects(b)
	b.Run("legacy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, o := range objs {
				if _, err := json.Marshal(o.Content.Object); err != nil {
					b.Fatal(err)
				}
				if _, err := bundle.MarshalYAMLLegacy(o.Content.Object); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("emit", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for _, o := range objs {
				var ok bool
				if buf, ok = bundle.EmitYAMLTo(buf[:0], o.Content.Object); !ok {
					b.Fatalf("%s: left to the legacy path", o.FileName)
				}
			}
		}
	})
}
