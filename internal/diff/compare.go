package diff

import (
	"reflect"
	"sort"
	"strconv"
)

// This file compares two normalized unstructured contents (JSON values:
// map[string]any, keyedList, []any, string, int64, float64, bool, nil) and
// reports the differing fields. It does what mosc did with go-cmp
// (cmp.Equal with a Reporter) without linking go-cmp into the binary: the
// init of go-cmp and its internal/function compiled regexps in every mosc
// process, render included (0.75 ms of start-up and 220 KB of heap before
// main; issue 15). The walk follows go-cmp v0.7.0's (cmp/compare.go) step
// by step, so the fields, their order, paths and values are the ones
// go-cmp's reporter produced; diff_oracle_test.go keeps the go-cmp
// implementation and FuzzFields holds this one to it.
//
// Lists without a key field are aligned by go-cmp's edit-script search
// (cmp/internal/diff.Difference), ported below. go-cmp starts that search
// from the front or from the back at random per process (randBool, so that
// its output is not relied on); this port always starts from the front, as
// go-cmp does in its deterministic (cmp_debug) mode. Where the two starts
// give different scripts (e.g. ["a"] → ["a","a"] is "added [1]" from the
// front, "added [0]" from the back), mosc diff used to print either; it now
// always prints the first.
//
// The walk and the edit-script search are derived from go-cmp v0.7.0
// (Copyright (c) 2017 The Go Authors, BSD-3-Clause): its license, which
// asks that the notice stay with derived code, is LICENSE.go-cmp here.

// result counts the leaves compared equal and unequal, as go-cmp's
// diff.Result does: the edit-script search pairs list items by it.
type result struct{ same, diff int }

func (r result) equal() bool { return r.diff == 0 }

// similar is go-cmp's Result.Similar: items this close are shown as one
// modified item rather than one removed and one added.
func (r result) similar() bool { return r.same+1 >= r.diff }

func (r *result) add(o result) { r.same += o.same; r.diff += o.diff }

type comparer struct {
	redact bool
	// fromBack starts the list edit-script search from the back (go-cmp's
	// other random choice); only the oracle test sets it.
	fromBack bool
	// quiet is set while list items are sized up for the edit script
	// (go-cmp's statelessCompare): nothing is reported then.
	quiet  bool
	fields []Field
}

// compareFields is Fields with the search direction as a parameter.
func compareFields(a, b map[string]any, redact, fromBack bool) []Field {
	c := &comparer{redact: redact, fromBack: fromBack}
	c.maps("", normalize(a).(map[string]any), normalize(b).(map[string]any), false)
	return c.fields
}

// value compares x and y at path; xok/yok say whether each side has a
// value there (a missing map entry or list item has none).
func (c *comparer) value(path string, x, y any, xok, yok bool) result {
	if !xok || !yok {
		return c.leaf(path, x, y, xok, yok, xok == yok)
	}
	if x == nil || y == nil {
		return c.leaf(path, x, y, true, true, x == nil && y == nil)
	}
	switch xv := x.(type) {
	case map[string]any:
		if yv, ok := y.(map[string]any); ok {
			return c.maps(path, xv, yv, false)
		}
	case keyedList:
		if yv, ok := y.(keyedList); ok {
			return c.maps(path, xv, yv, true)
		}
	case []any:
		if yv, ok := y.([]any); ok {
			return c.lists(path, xv, yv)
		}
	default:
		if reflect.TypeOf(x) == reflect.TypeOf(y) {
			return c.leaf(path, x, y, true, true, scalarEqual(x, y))
		}
	}
	// Different dynamic types never compare equal (go-cmp compareInterface).
	return c.leaf(path, x, y, true, true, false)
}

// scalarEqual compares two values of the same type. JSON's scalars compare
// with ==, as go-cmp compares by kind; anything else (not found in
// unstructured content) is compared as a whole.
func scalarEqual(x, y any) bool {
	switch reflect.TypeOf(x).Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return x == y
	}
	return reflect.DeepEqual(x, y)
}

// maps compares entry by entry in key order (go-cmp sorts the union of
// the keys). Entries of a keyed list are addressed as [key].
func (c *comparer) maps(path string, x, y map[string]any, keyed bool) result {
	keys := make([]string, 0, len(x)+len(y))
	for k := range x {
		keys = append(keys, k)
	}
	for k := range y {
		if _, ok := x[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var r result
	for _, k := range keys {
		xv, xok := x[k]
		yv, yok := y[k]
		p := ""
		if !c.quiet {
			if keyed {
				p = path + "[" + k + "]"
			} else {
				p = joinPath(path, k)
			}
		}
		r.add(c.value(p, xv, yv, xok, yok))
	}
	return r
}

// lists aligns the items of two unkeyed lists with go-cmp's edit script
// and compares the pairs; unpaired items are removed or added. A pair is
// addressed by its index in y, an unpaired item by its own side's index.
func (c *comparer) lists(path string, x, y []any) result {
	edits := difference(len(x), len(y), !c.fromBack, func(ix, iy int) result {
		q := c.quiet
		c.quiet = true
		r := c.value("", x[ix], y[iy], true, true)
		c.quiet = q
		return r
	})
	var r result
	ix, iy := 0, 0
	index := func(i int) string {
		if c.quiet {
			return ""
		}
		return path + "[" + strconv.Itoa(i) + "]"
	}
	for _, e := range edits {
		switch e {
		case uniqueX:
			r.add(c.value(index(ix), x[ix], nil, true, false))
			ix++
		case uniqueY:
			r.add(c.value(index(iy), nil, y[iy], false, true))
			iy++
		default:
			r.add(c.value(index(iy), x[ix], y[iy], true, true))
			ix++
			iy++
		}
	}
	return r
}

// leaf counts one comparison and, when unequal, reports it as fields.
func (c *comparer) leaf(path string, x, y any, xok, yok, eq bool) result {
	if eq {
		return result{same: 1}
	}
	if !c.quiet {
		c.report(path, x, y, xok, yok)
	}
	return result{diff: 1}
}

// report turns one difference into fields (what the go-cmp Reporter did).
func (c *comparer) report(path string, x, y any, xok, yok bool) {
	// A whole subtree added or removed is listed leaf by leaf, so text
	// inside it (a Containerfile moving from spec.buildInputs to spec) is
	// still shown as text.
	if !xok && isCompound(y) {
		c.fields = appendLeaves(c.fields, path, y, Added, c.redact)
		return
	}
	if !yok && isCompound(x) {
		c.fields = appendLeaves(c.fields, path, x, Removed, c.redact)
		return
	}
	f := Field{Path: path}
	switch {
	case !xok:
		f.Change = Added
	case !yok:
		f.Change = Removed
	default:
		f.Change = Changed
	}
	xs, xText := textValue(x)
	ys, yText := textValue(y)
	_, xStr := x.(string)
	_, yStr := y.(string)
	switch {
	case c.redact:
		f.Redacted = true
	case (xText || yText) && (xStr || x == nil) && (yStr || y == nil):
		f.UnifiedDiff = Unified(xs, ys, 3)
	default:
		f.From, f.To = plain(x), plain(y)
	}
	c.fields = append(c.fields, f)
}

// appendLeaves appends every leaf of v under path as added or removed.
func appendLeaves(out []Field, path string, v any, c Change, redact bool) []Field {
	switch t := v.(type) {
	case map[string]any:
		if len(t) > 0 {
			for _, k := range sortedKeys(t) {
				out = appendLeaves(out, joinPath(path, k), t[k], c, redact)
			}
			return out
		}
	case keyedList:
		for _, k := range sortedKeys(t) {
			out = appendLeaves(out, path+"["+k+"]", t[k], c, redact)
		}
		return out
	case []any:
		if len(t) > 0 {
			for i, e := range t {
				out = appendLeaves(out, path+"["+strconv.Itoa(i)+"]", e, c, redact)
			}
			return out
		}
	}
	f := Field{Path: path, Change: c, Redacted: redact}
	if !redact {
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
	return append(out, f)
}

type editType uint8

const (
	identity editType = iota // equal items, paired
	uniqueX                  // an item only in x (removed)
	uniqueY                  // an item only in y (added)
	modified                 // similar items, paired
)

// difference is go-cmp v0.7.0's cmp/internal/diff.Difference: a greedy
// meet-in-the-middle search for an edit script turning x (nx items) into
// y (ny items), alternating between a search from the front and one from
// the back, with an O(nx+ny) budget. forwardFirst picks which search
// starts (go-cmp picks at random; mosc always starts from the front).
// f compares item ix of x with item iy of y.
func difference(nx, ny int, forwardFirst bool, f func(ix, iy int) result) []editType {
	fwdPath := editPath{dir: +1, es: make([]editType, 0, (nx+ny)/2)}
	revPath := editPath{dir: -1, point: point{nx, ny}}
	fwdFrontier := fwdPath.point
	revFrontier := revPath.point
	// The longest run of unmatched items tolerated is about the square
	// root of the budget.
	searchBudget := 4 * (nx + ny)

	forward := forwardFirst
	for fwdFrontier.X < revFrontier.X && fwdFrontier.Y < revFrontier.Y && searchBudget > 0 {
		if forward {
			// Search the diagonal through the forward frontier for the first
			// match, then follow matches as far as they go.
			for stop1, stop2, i := false, false, 0; !(stop1 && stop2) && searchBudget > 0; i++ {
				z := zigzag(i)
				p := point{fwdFrontier.X + z, fwdFrontier.Y - z}
				switch {
				case p.X >= revPath.X || p.Y < fwdPath.Y:
					stop1 = true
				case p.Y >= revPath.Y || p.X < fwdPath.X:
					stop2 = true
				case f(p.X, p.Y).equal():
					fwdPath.connect(p, f)
					fwdPath.append(identity)
					for fwdPath.X < revPath.X && fwdPath.Y < revPath.Y {
						if !f(fwdPath.X, fwdPath.Y).equal() {
							break
						}
						fwdPath.append(identity)
					}
					fwdFrontier = fwdPath.point
					stop1, stop2 = true, true
				default:
					searchBudget--
				}
			}
			if revPath.X-fwdFrontier.X >= revPath.Y-fwdFrontier.Y {
				fwdFrontier.X++
			} else {
				fwdFrontier.Y++
			}
		} else {
			for stop1, stop2, i := false, false, 0; !(stop1 && stop2) && searchBudget > 0; i++ {
				z := zigzag(i)
				p := point{revFrontier.X - z, revFrontier.Y + z}
				switch {
				case fwdPath.X >= p.X || revPath.Y < p.Y:
					stop1 = true
				case fwdPath.Y >= p.Y || revPath.X < p.X:
					stop2 = true
				case f(p.X-1, p.Y-1).equal():
					revPath.connect(p, f)
					revPath.append(identity)
					for fwdPath.X < revPath.X && fwdPath.Y < revPath.Y {
						if !f(revPath.X-1, revPath.Y-1).equal() {
							break
						}
						revPath.append(identity)
					}
					revFrontier = revPath.point
					stop1, stop2 = true, true
				default:
					searchBudget--
				}
			}
			if revFrontier.X-fwdPath.X >= revFrontier.Y-fwdPath.Y {
				revFrontier.X--
			} else {
				revFrontier.Y--
			}
		}
		forward = !forward
	}

	// Join the two paths in the middle.
	fwdPath.connect(revPath.point, f)
	for i := len(revPath.es) - 1; i >= 0; i-- {
		fwdPath.append(revPath.es[i])
	}
	return fwdPath.es
}

type point struct{ X, Y int }

type editPath struct {
	dir int // +1 forward, -1 reverse
	point
	es []editType
}

// connect walks straight to dst: pairs while both sides have items left
// (modified when similar), then the rest as unique.
func (p *editPath) connect(dst point, f func(ix, iy int) result) {
	if p.dir > 0 {
		for dst.X > p.X && dst.Y > p.Y {
			switch r := f(p.X, p.Y); {
			case r.equal():
				p.append(identity)
			case r.similar():
				p.append(modified)
			case dst.X-p.X >= dst.Y-p.Y:
				p.append(uniqueX)
			default:
				p.append(uniqueY)
			}
		}
		for dst.X > p.X {
			p.append(uniqueX)
		}
		for dst.Y > p.Y {
			p.append(uniqueY)
		}
		return
	}
	for p.X > dst.X && p.Y > dst.Y {
		switch r := f(p.X-1, p.Y-1); {
		case r.equal():
			p.append(identity)
		case r.similar():
			p.append(modified)
		case p.Y-dst.Y >= p.X-dst.X:
			p.append(uniqueY)
		default:
			p.append(uniqueX)
		}
	}
	for p.X > dst.X {
		p.append(uniqueX)
	}
	for p.Y > dst.Y {
		p.append(uniqueY)
	}
}

func (p *editPath) append(t editType) {
	p.es = append(p.es, t)
	switch t {
	case identity, modified:
		p.X += p.dir
		p.Y += p.dir
	case uniqueX:
		p.X += p.dir
	case uniqueY:
		p.Y += p.dir
	}
}

// zigzag maps 0, 1, 2, 3, 4 ... to 0, -1, +1, -2, +2 ...
func zigzag(x int) int {
	if x&1 != 0 {
		x = ^x
	}
	return x >> 1
}
