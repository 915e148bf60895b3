package bundle_test

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/mosc-dev/mosc/internal/bundle"
)

// yamlFast (the parser for the YAML mosc's templates write) against the
// yaml.v2 path it stands in front of: when it takes a document it gives
// the same JSON bytes and the same map; when it does not, the public
// function gives what the yaml.v2 path gives, errors included.
func checkFast(t *testing.T, y []byte) (taken bool) {
	t.Helper()
	fast, ok := bundle.YAMLFast(y)
	ref, rerr := bundle.YAMLToJSONStrictV2(y)
	pub, perr := bundle.YAMLToJSONStrict(y)
	if errText(perr) != errText(rerr) || !bytes.Equal(pub.Data, ref.Data) {
		if !ok && keysCollide(t, y) {
			// Keys like 8 and 08 (a float) convert to one JSON key:
			// sigs.k8s.io/yaml keeps either, by map order, call to call.
			t.Skip("two keys convert to one string")
		}
		t.Fatalf("YAMLToJSONStrict %q (%v), yaml.v2 path %q (%v)\ninput: %q", pub.Data, perr, ref.Data, rerr, y)
	}
	if !ok {
		return false
	}
	if rerr != nil {
		t.Fatalf("fast path took a document yaml.v2 refuses (%v)\ninput: %q", rerr, y)
	}
	if !bytes.Equal(fast.Data, ref.Data) {
		t.Fatalf("fast path JSON\n%s\nyaml.v2 path\n%s\ninput: %q", fast.Data, ref.Data, y)
	}
	fc, rc := bundle.JSONDocContent(fast), bundle.JSONDocContent(ref)
	if fc == nil || !reflect.DeepEqual(fc, rc) {
		t.Fatalf("fast path map\n%#v\nyaml.v2 path\n%#v\ninput: %q", fc, rc, y)
	}
	if !reflect.DeepEqual(pub, fast) {
		t.Fatalf("YAMLToJSONStrict did not return the fast path's result\ninput: %q", y)
	}
	return true
}

// templateOutputs renders every combination of the embedded catalog and
// returns every document the templates wrote (what render hands to
// YAMLToJSONStrict), each once.
func templateOutputs(t testing.TB) [][]byte {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	var docs [][]byte
	bundle.SetObserveYAML(func(y []byte) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[string(y)] {
			seen[string(y)] = true
			docs = append(docs, bytes.Clone(y))
		}
	})
	defer bundle.SetObserveYAML(nil)
	catalogObjects(t)
	if len(docs) < 100 {
		t.Fatalf("the catalog rendered only %d distinct documents", len(docs))
	}
	return docs
}

// Every document the catalog's templates write takes the fast path (so it
// is not silently dead) and gives what yaml.v2 gives.
func TestYAMLFastCatalog(t *testing.T) {
	docs := templateOutputs(t)
	var missed []string
	for _, y := range docs {
		if !checkFast(t, y) {
			name := "?"
			if i := bytes.Index(y, []byte("\n  name: ")); i >= 0 {
				name = strings.SplitN(string(y[i+9:]), "\n", 2)[0]
			}
			missed = append(missed, name)
		}
	}
	if len(missed) > 0 {
		t.Errorf("%d of %d rendered documents took the yaml.v2 path: %v", len(missed), len(docs), missed)
	}
	t.Logf("%d distinct rendered documents, all on the fast path", len(docs))
}

// TestYAMLFastMatches: every document TestYAMLToJSONMatches uses (the
// awkward cases, the goldens, every catalog and golden object as the
// emitter and go-yaml write it), whichever path takes it.
func TestYAMLFastMatches(t *testing.T) {
	taken, all := 0, 0
	for _, y := range yamlInputs(t, true) {
		all++
		if checkFast(t, y) {
			taken++
		}
	}
	// The goldens are the emitter's output: multi-line strings are block
	// scalars (|), which the fast path leaves to yaml.v2.
	t.Logf("fast path took %d of %d documents", taken, all)
}

// fastTaken are documents the fast path must take (and match yaml.v2 on).
var fastTaken = []string{
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x\"\n  labels: {\"a\":\"b\",\"c\":\"d\"}\ndata:\n  \"k.conf\": \"v\\n\\\"q\\\"\\t\\\\\"\n",
	"a:\n- x\n- y\nb: 1\n",
	"a:\n- name: x\n  enabled: true\n  sub:\n    k: v\n- name: y\nb: c\n",
	"a:\n  - name: x\n    list:\n    - 1\n    - 2\n  -   name: z\n",
	"a:\n- b:\n  - x\n  c: d\n",
	"a:\n-\n- b\n-\n  c: d\n-\n  - e\n",
	"a:\nb: c\nd:\n",
	"a:\n\n  # comment\n\n  b: c\n# at column 0\n  d: e\n",
	"a: yes\nb: Off\nc: y\nd: NULL\ne: null\nf: TRUE\ng: n\nh: on\ni: No\n",
	"a: 0\nb: 9223372036854775807\nc: 42\n",
	"a: 3.2.0\nb: 10.0.1.2\nc: 0.1.0\nd: 03.2.1\n",
	".dockerconfigjson: x\n_a: /b\nc: a/b.c-d_e\nd: /\ne: .x.\n",
	"a: {\"x\":[1,-2,true,false,null,{},[]],\"y\":[],\"z\":\"\\u003c\\u0000\\u00e9\\u2028\\ufffd\\uD7FF\"}\n",
	"a: [\"ReadWriteOnce\"]\n",
	"a: [-0,0,-9223372036854775808]\n",
	"\"<<\": 1\n",
	"a: \"é日本🙂\\u00a0 \"\n",
	"a: b   \nc:   d\n  \n",
	"a: b",
	"a:",
	"a: \"\"\n\"\": b\n",
	"a: {\"\":\"\",\"b\":{\"c\":{\"d\":[[[\"e\"]]]}}}\n",
	"key: \"" + strings.Repeat("long value ", 200) + "\"\n",
	"\"" + strings.Repeat("k", 900) + "\": 1\n",
	"\n\n# leading comment\n\na: b\n",
}

// fastGivesUp are documents the fast path must leave to yaml.v2, valid or
// not: the public function then gives yaml.v2's result or error.
var fastGivesUp = []string{
	// whitespace and encoding the parser does not read
	"a:\tb\n", "a:\n\tb: c\n", "a: b\r\n", "\ufeffa: b\n", "a: b\n#\tc\n", "a: b\n# \u00e9\n",
	// documents, directives
	"", "# only a comment\n", "---\na: b\n", "a: b\n...\n", "a: b\n---\nc: d\n", "%YAML 1.1\n---\na: b\n",
	// node properties and merges
	"a: &x b\n", "a: &x b\nc: *x\n", "a: !!str 1\n", "a: !foo b\n", "<<: {a: 1}\n", "a: {\"<<\":*x}\n",
	// block scalars, multi-line scalars
	"a: |\n  x\n", "a: >\n  x\n", "a: |-\n  x\n", "a: b\n  c\n", "a: \"b\n  c\"\n", "a: \"b\\\n  c\"\n",
	"a:\n  - b\n    c\n",
	// flow collections that are not toJson's JSON
	"a: {b: c}\n", "a: [b, c]\n", "a: {\"b\": \"c\"}\n", "a: [\"x\", \"y\"]\n", "a: ['x']\n", "a: [\"x\",]\n",
	"a: {\"b\":\"c\"\n", "a: [\"x\"\n  ]\n", "a: {\"b\"}\n", "a: {\"b\":}\n", "a: [true,false,nul]\n", "a: [True]\n",
	"a: 'x'\n", "a: \"x\" # c\n", "a: {\"x\":1}x\n",
	// duplicate keys (UnmarshalStrict's error)
	"a: 1\na: 2\n", "a: {\"b\":1,\"b\":2}\n", "a: 1\n\"a\": 2\n", "x:\n  a: 1\n  a: 1\n",
	// plain scalars YAML 1.1 reads as something else, or keys that are not strings
	"a: ~\n", "a: 1.5\n", "a: 1e3\n", "a: .5\n", "a: .inf\n", "a: -.inf\n", "a: .NaN\n", "a: .Inf\n", "a: +1\n", "a: -1\n",
	"a: 0x1F\n", "a: 0o17\n", "a: 0b101\n", "a: 0123\n", "a: 09\n", "a: 1_000\n", "a: 1:20\n", "a: 190:20:30\n",
	"a: 2001-12-14\n", "a: 2001-12-14t21:59:43.10-05:00\n", "a: 9223372036854775808\n", "a: 3.2\n", "a: 3.2.\n",
	"a: 1..2\n", "a: 100Gi\n", "a: -\n", "a: -x\n", "a: ..\n", "a: .\n", "a: x y\n", "a: b # comment\n", "a: x:y\n",
	"1: a\n", "true: a\n", "yes: a\n", "null: a\n", "~: a\n", "3.5: a\n", "a b: c\n", "a : b\n", "a:b\n", "? a\n: b\n",
	"\"a\":b\n", "[a]: b\n",
	// non-ASCII outside quotes; characters in quotes libyaml treats otherwise
	"a: é\n", "é: a\n", "a: \"x\u0085y\"\n", "a: \"x\u2028y\"\n", "a: \"x\u2029y\"\n", "a: \"x\ufeffy\"\n",
	"a: \"x\x01y\"\n", "a: \"x\u0080y\"\n", "a: \"x\x7fy\"\n", "a: \"x\xffy\"\n", "a: \"\xed\xa0\x80\"\n", "a: \"x\ty\"\n",
	// escapes JSON or YAML does not share
	"a: \"\\ud83d\\ude00\"\n", "a: \"\\udc00\"\n", "a: \"\\/\"\n", "a: \"\\e\"\n", "a: \"\\x41\"\n", "a: \"\\N\"\n",
	"a: \"\\u12\"\n", "a: \"\\u12g4\"\n", "a: \"\\U0001F600\"\n", "a: \"\\ \"\n",
	// JSON numbers other than decimal integers that fit
	"a: [1.5]\n", "a: [1e3]\n", "a: {\"a\":-0.0}\n", "a: [9223372036854775808]\n", "a: [-9223372036854775809]\n",
	"a: [01]\n", "a: [-]\n", "a: [+1]\n", "a: [1,2 ]\n",
	// deep nesting, long keys
	"a: " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n",
	"\"" + strings.Repeat("k", 1100) + "\": 1\n",
	"a: {\"" + strings.Repeat("k", 1100) + "\":1}\n",
	strings.Repeat("k", 1100) + ": 1\n",
	// top levels other than a mapping at column 0; broken structure
	"- a\n", "a\n", "{\"a\":1}\n", "\"a\"\n", "  a: b\n", "null\n",
	"a: b\n- c\n", "a:\n  - b\n  c: d\n", "a:\n  b: c\n d: e\n", "a:\n- b\n - c\n", "a:\n  b: c\n    d: e\n",
	"a: \"unterminated\n", "a: - b\n", "- - a\n", "a:\n- - b\n", "a:\n- # c\n  b\n", "a:\n  b\n", "a: b: c\n",
}

func TestYAMLFastTaken(t *testing.T) {
	for _, c := range fastTaken {
		if !checkFast(t, []byte(c)) {
			t.Errorf("fast path left to yaml.v2: %q", c)
		}
	}
}

func TestYAMLFastGivesUp(t *testing.T) {
	invalid := 0
	for _, c := range fastGivesUp {
		if _, ok := bundle.YAMLFast([]byte(c)); ok {
			t.Errorf("fast path took %q", c)
			continue
		}
		checkFast(t, []byte(c)) // the public function is the yaml.v2 path
		if _, err := bundle.YAMLToJSONStrict([]byte(c)); err != nil {
			invalid++
		}
		// and that path is sigs.k8s.io/yaml's: bytes and error text.
		t.Run("", func(t *testing.T) { checkYAMLToJSON(t, []byte(c)) })
	}
	t.Logf("%d cases, %d of them invalid (yaml.v2's error returned)", len(fastGivesUp), invalid)
}

// FuzzYAMLFast: whatever the fast path takes, yaml.v2 + jsonConverter
// give the same (seeds: the catalog's rendered documents and both tables).
func FuzzYAMLFast(f *testing.F) {
	for _, y := range templateOutputs(f) {
		f.Add(y)
	}
	for _, c := range append(fastTaken, fastGivesUp...) {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, y []byte) {
		checkFast(t, y)
	})
}

// BenchmarkYAMLToJSONTemplates: every distinct document the catalog's
// templates write, through the fast path and through yaml.v2.
func BenchmarkYAMLToJSONTemplates(b *testing.B) {
	docs := templateOutputs(b)
	for _, c := range []struct {
		name string
		f    func([]byte) (bundle.JSONDoc, error)
	}{{"fast", bundle.YAMLToJSONStrict}, {"yaml.v2", bundle.YAMLToJSONStrictV2}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, y := range docs {
					if _, err := c.f(y); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
