package strictjson

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
)

// dupPlain is struct{ A int `json:"x"`; B int `json:"x"`; C int }, built
// at run time (go vet refuses a repeated tag in source).
var dupPlain = reflect.StructOf([]reflect.StructField{
	{Name: "A", Type: reflect.TypeOf(0), Tag: `json:"x"`},
	{Name: "B", Type: reflect.TypeOf(0), Tag: `json:"x"`},
	{Name: "C", Type: reflect.TypeOf(0)},
})

type dupTagged struct {
	X int
	Y int `json:"X"`
	Z int `json:"-"`
	w int
}

type inner struct{ A, B int }

type embedding struct {
	inner
	B int
	C int `json:",string"`
}

// typeFields' fast path (a struct embedding nothing, no name twice) gives
// what the sorts and the dominance pass give, for every struct type
// reachable from the kinds mosc decodes and a few edge cases.
func TestTypeFieldsFastPath(t *testing.T) {
	roots := []any{corev1.ConfigMap{}, corev1.Secret{}, corev1.PersistentVolumeClaim{}, mcfgv1.MachineConfig{},
		mcfgv1.MachineOSConfig{}, imageregistryv1.Config{}, reflect.New(dupPlain).Elem().Interface(), dupTagged{}, embedding{}}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				walk(t.Field(i).Type)
			}
		}
	}
	for _, r := range roots {
		walk(reflect.TypeOf(r))
	}
	structs, fast := 0, 0
	for typ := range seen {
		if typ.Kind() != reflect.Struct {
			continue
		}
		structs++
		got, want := typeFieldsOf(typ, true), typeFieldsOf(typ, false)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: fast path\n%+v\nsorted\n%+v", typ, got.list, want.list)
		}
		if !hasDuplicateName(want.list) {
			fast++
		}
	}
	if structs < 50 || fast < 40 {
		t.Errorf("only %d struct types (%d without duplicate names)", structs, fast)
	}
	for _, c := range []struct {
		v    any
		want []string
	}{
		{reflect.New(dupPlain).Elem().Interface(), []string{"C@2"}},
		{dupTagged{}, []string{"X@1"}}, // Y, tagged "X", hides X
		{embedding{}, []string{"A@0.0", "B@1", "C@2"}},
	} {
		var names []string
		for _, f := range typeFields(reflect.TypeOf(c.v)).list {
			idx := fmt.Sprint(f.index)
			names = append(names, f.name+"@"+strings.ReplaceAll(strings.Trim(idx, "[]"), " ", "."))
		}
		if !reflect.DeepEqual(names, c.want) {
			t.Errorf("%T: fields %q, want %q", c.v, names, c.want)
		}
	}
}
