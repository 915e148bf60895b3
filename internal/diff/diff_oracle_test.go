package diff

// The go-cmp implementation of Fields that mosc used until session 6, kept
// verbatim as the oracle for compare.go (which replaced it so the binary
// does not link go-cmp; issue 15). FuzzFields and TestFieldsOracle compare
// the two.

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// cmpFields is Fields as it was: cmp.Equal with a Reporter.
func cmpFields(a, b map[string]any, redact bool) []Field {
	r := &reporter{redact: redact}
	cmp.Equal(normalize(a), normalize(b), cmp.Reporter(r))
	return r.fields
}

// reporter collects go-cmp's differences as Fields.
type reporter struct {
	path   cmp.Path
	redact bool
	fields []Field
}

func (r *reporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *reporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }

func (r *reporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	vx, vy := r.path.Last().Values()
	path := formatPath(r.path)
	x, y := value(vx), value(vy)
	// A whole subtree added or removed is listed leaf by leaf, so text
	// inside it (a Containerfile moving from spec.buildInputs to spec) is
	// still shown as text.
	if !vx.IsValid() && isCompound(y) {
		r.leaves(path, y, Added)
		return
	}
	if !vy.IsValid() && isCompound(x) {
		r.leaves(path, x, Removed)
		return
	}
	f := Field{Path: path}
	switch {
	case !vx.IsValid():
		f.Change = Added
	case !vy.IsValid():
		f.Change = Removed
	default:
		f.Change = Changed
	}
	xs, xText := textValue(x)
	ys, yText := textValue(y)
	_, xStr := x.(string)
	_, yStr := y.(string)
	switch {
	case r.redact:
		f.Redacted = true
	case (xText || yText) && (xStr || x == nil) && (yStr || y == nil):
		f.UnifiedDiff = Unified(xs, ys, 3)
	default:
		f.From, f.To = plain(x), plain(y)
	}
	r.fields = append(r.fields, f)
}

// leaves reports every leaf of v under path as added or removed.
func (r *reporter) leaves(path string, v any, c Change) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) > 0 {
			for _, k := range sortedKeys(t) {
				r.leaves(joinPath(path, k), t[k], c)
			}
			return
		}
	case keyedList:
		for _, k := range sortedKeys(t) {
			r.leaves(path+"["+k+"]", t[k], c)
		}
		return
	case []any:
		if len(t) > 0 {
			for i, e := range t {
				r.leaves(path+"["+strconv.Itoa(i)+"]", e, c)
			}
			return
		}
	}
	f := Field{Path: path, Change: c, Redacted: r.redact}
	if !r.redact {
		if text, ok := textValue(v); ok {
			if c == Added {
				f.UnifiedDiff = Unified("", text, 3)
			} else {
				f.UnifiedDiff = Unified(text, "", 3)
			}
		} else if c == Added {
			f.To = v
		} else {
			f.From = v
		}
	}
	r.fields = append(r.fields, f)
}

func value(v reflect.Value) any {
	if !v.IsValid() || !v.CanInterface() {
		return nil
	}
	return v.Interface()
}

// formatPath renders go-cmp's path as spec.containerFile[NoArch].content.
func formatPath(p cmp.Path) string {
	var sb strings.Builder
	var parent reflect.Type
	for _, s := range p {
		switch st := s.(type) {
		case cmp.MapIndex:
			k := fmt.Sprint(st.Key().Interface())
			if parent == reflect.TypeOf(keyedList(nil)) {
				sb.WriteString("[" + k + "]")
			} else {
				sb.WriteString(keySegment(k))
			}
		case cmp.SliceIndex:
			ix, iy := st.SplitKeys()
			i := iy
			if i < 0 {
				i = ix
			}
			sb.WriteString("[" + strconv.Itoa(i) + "]")
		}
		// After a TypeAssertion step the type is the concrete one
		// (keyedList or map[string]any) the next index applies to.
		parent = s.Type()
	}
	return strings.TrimPrefix(sb.String(), ".")
}
