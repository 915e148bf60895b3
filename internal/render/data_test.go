package render

import (
	"reflect"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
)

// The data a manifest template or a fragment sees has every field of
// profile.Plan as its own field (same name, type and order), holding the
// plan's value: a field added to Plan must be added to both (objects.go,
// layers.go), or templates would not see it.
func TestTemplateDataHasPlanFields(t *testing.T) {
	p := &profile.Plan{}
	fill(reflect.ValueOf(p).Elem(), 0)
	planT := reflect.TypeOf(*p)
	for _, c := range []struct {
		name string
		data reflect.Value
	}{
		{"objData", reflect.ValueOf(newObjData(p, "cf")).Elem()},
		{"layerData", reflect.ValueOf(newLayerData(p)).Elem()},
	} {
		dt := c.data.Type()
		for i := 0; i < planT.NumField(); i++ {
			pf := planT.Field(i)
			if i >= dt.NumField() || dt.Field(i).Name != pf.Name || dt.Field(i).Type != pf.Type || dt.Field(i).Anonymous {
				t.Errorf("%s field %d: want Plan's %s %s", c.name, i, pf.Name, pf.Type)
				continue
			}
			if got, want := c.data.Field(i).Interface(), reflect.ValueOf(*p).Field(i).Interface(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s.%s = %v, want the plan's %v", c.name, pf.Name, got, want)
			}
		}
	}
}

// fill sets every field reachable from v to a non-zero value (one element
// per slice and map), so a field left uncopied shows.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf("x"))
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}
