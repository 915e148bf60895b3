package diff

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// goCmpFromBack says which way go-cmp's list edit-script search starts in
// this test process (it picks at random once per process): ["a"] → ["a","a"]
// is "added l[1]" from the front and "added l[0]" from the back.
var goCmpFromBack = sync.OnceValue(func() bool {
	fs := cmpFields(map[string]any{"l": []any{"a"}}, map[string]any{"l": []any{"a", "a"}}, false)
	if len(fs) != 1 {
		panic(fmt.Sprintf("go-cmp probe: %+v", fs))
	}
	return fs[0].Path == "l[0]"
})

// checkOracle holds compare.go to go-cmp on a and b, with the search
// direction go-cmp took in this process, and checks the properties of the
// front-first result mosc uses.
func checkOracle(t *testing.T, a, b map[string]any, redact bool) {
	t.Helper()
	want := cmpFields(a, b, redact)
	if got := compareFields(a, b, redact, goCmpFromBack()); !reflect.DeepEqual(got, want) {
		t.Fatalf("a=%s\nb=%s\nfromBack=%v\n got %s\nwant %s", js(a), js(b), goCmpFromBack(), js(got), js(want))
	}
	got := Fields(a, b, redact)
	if (len(got) == 0) != reflect.DeepEqual(normalize(a), normalize(b)) {
		t.Fatalf("a=%s\nb=%s\nFields gave %d fields; normalized equal=%v", js(a), js(b), len(got), reflect.DeepEqual(normalize(a), normalize(b)))
	}
	if self := Fields(b, b, redact); len(self) != 0 {
		t.Fatalf("b vs itself: %s", js(self))
	}
	for _, f := range got {
		if redact && (!f.Redacted || f.From != nil || f.To != nil || f.UnifiedDiff != "") {
			t.Fatalf("value shown with redact: %s", js(f))
		}
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func jsonObj(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFieldsOracle compares with go-cmp on hand-picked shapes: keyed and
// unkeyed lists, type changes, nulls, subtrees moving, text payloads.
func TestFieldsOracle(t *testing.T) {
	cases := [][2]string{
		{moscA, strings.Replace(moscA, "openvswitch3.5", "openvswitch3.6", 1)},
		{moscA, `{"kind":"MachineOSConfig"}`},
		{`{"spec":{"buildInputs":{"containerFile":[{"containerfileArch":"noarch","content":"FROM a\nRUN b\n"}]}}}`, `{"spec":{"containerFile":[{"containerfileArch":"NoArch","content":"FROM a\nRUN c\n"}]}}`},
		{`{"l":["a","b","c"]}`, `{"l":["a","c"]}`},
		{`{"l":["a","b","c"]}`, `{"l":["c","b","a"]}`},
		{`{"l":["a","b"]}`, `{"l":["x","a","b","y"]}`},
		{`{"l":[1,2,3,4,5,6,7,8,9]}`, `{"l":[9,8,7,6,5,4,3,2,1,0]}`},
		{`{"l":[{"a":1,"b":2},{"a":3}]}`, `{"l":[{"a":1,"b":3},{"c":3}]}`},
		{`{"l":[[1,2],[3]]}`, `{"l":[[1,2,3],[3],[]]}`},
		{`{"l":[{"name":"x","v":1},{"name":"y"}]}`, `{"l":[{"name":"x","v":2},{"name":"x"}]}`},
		{`{"l":[]}`, `{"l":[{"name":"x"}]}`},
		{`{"a":null,"b":1,"c":"x\ny\n","d":{}}`, `{"a":"t\nu\n","b":1.5,"c":null,"d":[]}`},
		{`{"a":{"b":{"c":[1,{"d":"e\nf\n"}]}}}`, `{}`},
		{`{"data":{"x.conf":"data:,a%0Ab%0A"}}`, `{"data":{"x.conf":"data:;base64,YQpjCg=="}}`},
		{`{"a":true,"b":[true,false,null]}`, `{"a":false,"b":[false,null,true]}`},
	}
	for i, c := range cases {
		a, b := jsonObj(t, c[0]), jsonObj(t, c[1])
		for _, redact := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/redact=%v", i, redact), func(t *testing.T) {
				checkOracle(t, a, b, redact)
				checkOracle(t, b, a, redact)
			})
		}
	}
}

// TestUnkeyedLists pins mosc's result for lists without a key field: go-cmp's
// edit script searched from the front first (go-cmp itself starts from either
// end at random).
func TestUnkeyedLists(t *testing.T) {
	tests := []struct {
		a, b string
		want []string
	}{
		{`["a"]`, `["a","a"]`, []string{"added l[1]"}},
		{`["a","a"]`, `["a"]`, []string{"removed l[1]"}},
		{`["a","b","c"]`, `["a","c"]`, []string{"removed l[1]"}},
		{`["a","c"]`, `["a","b","c"]`, []string{"added l[1]"}},
		{`["a","b"]`, `["x","a","b","y"]`, []string{"added l[0]", "added l[3]"}},
		{`["a","b","c"]`, `["a","x","c"]`, []string{"changed l[1]"}},
		// Items that differ in more leaves than they share are removed and
		// added rather than changed.
		{`[{"a":1,"b":2,"c":3}]`, `[{"a":0,"b":0,"c":0}]`, []string{"removed l[0].a", "removed l[0].b", "removed l[0].c", "added l[0].a", "added l[0].b", "added l[0].c"}},
		{`[{"a":1,"b":2,"c":3}]`, `[{"a":1,"b":2,"c":0}]`, []string{"changed l[0].c"}},
		{`[]`, `["a"]`, []string{"added l[0]"}},
		{`["a","b"]`, `[]`, []string{"removed l[0]", "removed l[1]"}},
	}
	for _, tt := range tests {
		a := jsonObj(t, `{"l":`+tt.a+`}`)
		b := jsonObj(t, `{"l":`+tt.b+`}`)
		var got []string
		for _, f := range Fields(a, b, false) {
			got = append(got, string(f.Change)+" "+f.Path)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s → %s: got %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestDifferenceScripts checks the edit scripts themselves, both starts.
func TestDifferenceScripts(t *testing.T) {
	script := func(x, y string, forward bool) string {
		es := difference(len(x), len(y), forward, func(ix, iy int) result {
			if x[ix] == y[iy] {
				return result{same: 1}
			}
			return result{diff: 1}
		})
		var sb strings.Builder
		for _, e := range es {
			sb.WriteByte("=XYM"[e])
		}
		return sb.String()
	}
	tests := []struct{ x, y, fwd, back string }{
		{"a", "aa", "=Y", "Y="},
		{"abc", "ac", "=X=", "=X="},
		{"", "ab", "YY", "YY"},
		{"ab", "", "XX", "XX"},
		{"abc", "axc", "=M=", "=M="},
		{"ab", "ba", "MM", "MM"},
	}
	for _, tt := range tests {
		if got := script(tt.x, tt.y, true); got != tt.fwd {
			t.Errorf("%q→%q from the front: %s, want %s", tt.x, tt.y, got, tt.fwd)
		}
		if got := script(tt.x, tt.y, false); got != tt.back {
			t.Errorf("%q→%q from the back: %s, want %s", tt.x, tt.y, got, tt.back)
		}
	}
}

// FuzzFields holds compare.go to the go-cmp implementation on generated
// trees: b is a from the first input, edited as the second input says.
func FuzzFields(f *testing.F) {
	f.Add([]byte{5, 3, 0, 9, 3, 1, 7, 4, 1, 1, 1}, []byte{3, 3, 3, 1, 2, 4})
	f.Add([]byte{6, 2, 8, 4, 1, 2, 1, 3, 1, 1, 5, 2, 6, 1}, []byte{4, 0, 2, 1, 5, 3, 3})
	f.Add([]byte{9, 3, 9, 2, 1, 0, 5, 2, 7, 3, 1, 1, 1}, []byte{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5})
	f.Add([]byte{5, 4, 7, 6, 1, 2, 1, 1, 2, 1, 5, 1, 1, 8, 9, 3, 1, 1, 1}, []byte{3, 3, 4, 4, 2, 5, 5, 1})
	f.Fuzz(func(t *testing.T, gen, edit []byte) {
		if len(gen) > 400 || len(edit) > 400 {
			return
		}
		g := &treeGen{data: gen}
		a := g.object()
		e := &treeGen{data: edit}
		b := e.mutate(deepCopy(a), 0).(map[string]any)
		redact := len(edit) > 0 && edit[0] == 255
		checkOracle(t, a, b, redact)
	})
}

// treeGen builds JSON-shaped values from fuzz bytes, from small alphabets
// so that equal items, list keys, text payloads and type changes are common.
type treeGen struct {
	data []byte
	i    int
}

func (g *treeGen) next() int {
	if g.i >= len(g.data) {
		return 0
	}
	g.i++
	return int(g.data[g.i-1])
}

var (
	genKeys    = []string{"name", "a", "b", "key", "path", "content", "doca.repo", "containerfileArch"}
	genStrings = []string{"a", "b", "", "x\ny\n", "x\nz\n", "data:,a%0Ab%0A", "data:;base64,YQpjCg==", "n[1]"}
	genNames   = []string{"n1", "n2", "n3", "NoArch"}
)

func (g *treeGen) object() map[string]any {
	m := map[string]any{}
	for n := g.next() % 5; n > 0; n-- {
		m[genKeys[g.next()%len(genKeys)]] = g.value(1)
	}
	return m
}

func (g *treeGen) value(depth int) any {
	op := g.next() % 11
	if depth >= 4 && op >= 5 {
		op %= 5
	}
	switch op {
	case 0:
		return nil
	case 1:
		return genStrings[g.next()%len(genStrings)]
	case 2:
		return int64(g.next() % 3)
	case 3:
		return g.next()%2 == 0
	case 4:
		return float64(g.next()%3) / 2
	case 5, 6:
		m := map[string]any{}
		for n := g.next() % 4; n > 0; n-- {
			m[genKeys[g.next()%len(genKeys)]] = g.value(depth + 1)
		}
		return m
	case 7, 8:
		l := []any{}
		for n := g.next() % 5; n > 0; n-- {
			l = append(l, g.value(depth+1))
		}
		return l
	default:
		// A list of maps with a "name" (keyed unless names repeat).
		l := []any{}
		for n := g.next() % 4; n > 0; n-- {
			m := map[string]any{"name": genNames[g.next()%len(genNames)]}
			if g.next()%2 == 0 {
				m[genKeys[1+g.next()%(len(genKeys)-1)]] = g.value(depth + 1)
			}
			l = append(l, m)
		}
		return l
	}
}

// mutate edits v in place (and returns it) as the bytes say.
func (g *treeGen) mutate(v any, depth int) any {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch g.next() % 5 {
			case 1:
				delete(t, k)
			case 2:
				t[k] = g.value(depth + 1)
			case 3, 4:
				t[k] = g.mutate(t[k], depth+1)
			}
		}
		if g.next()%3 == 0 {
			t[genKeys[g.next()%len(genKeys)]] = g.value(depth + 1)
		}
		return t
	case []any:
		var out []any
		for _, e := range t {
			switch g.next() % 6 {
			case 1: // delete
			case 2:
				out = append(out, g.value(depth+1))
			case 3:
				out = append(out, g.value(depth+1), e)
			case 4, 5:
				out = append(out, g.mutate(e, depth+1))
			default:
				out = append(out, e)
			}
		}
		if g.next()%3 == 0 {
			out = append(out, g.value(depth+1))
		}
		if out == nil {
			out = []any{}
		}
		return out
	}
	if g.next()%2 == 0 {
		return g.value(depth)
	}
	return v
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
