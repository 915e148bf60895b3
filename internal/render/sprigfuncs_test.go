package render

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// callFunc calls f with args through reflect, as text/template does, and
// gives its results and any panic as text.
func callFunc(f any, args ...any) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("panic: %v", r)
		}
	}()
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		in[i] = reflect.ValueOf(a)
	}
	for _, r := range reflect.ValueOf(f).Call(in) {
		out += fmt.Sprintf("%T %#v|", r.Interface(), r.Interface())
	}
	return out
}

// The copies lookupFunc uses must be sprig's functions: same signature,
// same results, same panics.
func TestSprigCopiesMatch(t *testing.T) {
	sp := sprig.TxtFuncMap()
	odd := "q\"b\\s/<a>&\x00\x1f\x7f\b\f\n\r\t é \u2028\u2029 \xff \U0001F600"
	type named string
	cases := map[string][][]any{
		"toJson": {{""}, {odd}, {map[string]string(nil)}, {map[string]string{}}, {map[string]string{odd: odd, "b": "", "a": "x"}},
			{[]string(nil)}, {[]string{}}, {[]string{odd, "", "x"}}, {3}, {nil}, {[]any{"a", 1, true, nil}},
			{map[string]any{"b": []string{"x"}, "a": map[string]int{"z": 1}}}, {named("n")}, {make(chan int)}, {walkthroughPlan().Node}},
		"b64enc": {{""}, {odd}, {`{"auths":{}}`}},
		"list":   {{}, {"a"}, {1, "b", nil, []string{"c"}}},
		"concat": {{}, {[]string{"a"}, []any{1, nil}, [2]int{3, 4}}, {[]string(nil)}, {"x"}, {[]string{"a"}, 3}},
		"fail":   {{""}, {"no stack packages to install"}},
	}
	for _, name := range sprigCopies {
		ours, _ := lookupFunc(name)
		theirs := sp[name]
		if g, w := reflect.TypeOf(ours), reflect.TypeOf(theirs); g != w {
			t.Errorf("%s: type %s, sprig's %s", name, g, w)
			continue
		}
		if len(cases[name]) == 0 {
			t.Errorf("%s: no cases", name)
		}
		for _, args := range cases[name] {
			if g, w := callFunc(ours, args...), callFunc(theirs, args...); g != w {
				t.Errorf("%s%v: %s, sprig's %s", name, args, g, w)
			}
		}
	}
	if _, ok := lookupFunc("nope"); ok {
		t.Error("lookupFunc found nope")
	}
	if f, ok := lookupFunc("upper"); !ok || callFunc(f, "a") != callFunc(sp["upper"], "a") {
		t.Error("other sprig functions come from sprig")
	}
}

// FuzzToJSON compares toJSON with sprig's toJson on strings, string maps
// and string lists (its own paths) and on a mixed list (json.Marshal's).
func FuzzToJSON(f *testing.F) {
	f.Add("doca", "https://x/<a>&b", "\xff\u2028\"\\\n\x00")
	f.Add("", "", "")
	sp := sprig.TxtFuncMap()["toJson"]
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, v := range []any{a, map[string]string{a: b, b: c, c: a}, []string{a, b, c}, []any{a, b, len(c)}} {
			if g, w := callFunc(toJSON, v), callFunc(sp, v); g != w {
				t.Fatalf("toJSON(%#v) = %s, sprig's %s", v, g, w)
			}
		}
	})
}
