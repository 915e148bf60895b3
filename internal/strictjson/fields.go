// Copyright 2010 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package strictjson

// typeFields and what it needs, from sigs.k8s.io/json's
// internal/golang/encoding/json/encode.go, without what only encoding uses:
// there, typeFields also built every field's encoder (recursively, the
// encoders and fields of every type reachable from the struct, status
// included) and its escaped names. A strict decode needs neither.

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// A field represents a single field found in a struct.
// (Without encoding's omitEmpty, laid out in 64 bytes: typeFields keeps
// one per field of every struct type decoded, for the process's life.)
type field struct {
	name  string
	index []int
	typ   reflect.Type

	listIndex int32 // tracks the index of this field in the list of fields for a struct

	tag    bool
	quoted bool
}

// structFields is the field list of a struct type. The look-ups scan it
// (a struct mosc decodes has at most a few dozen fields): the two maps by
// name that encoding/json builds were most of typeFields' allocation, and
// every heap byte of a short `mosc render` process is a page it touches
// for the first time (issue 15).
type structFields struct {
	list []field
}

// byExactName is the field named key, or nil.
func (sf structFields) byExactName(key []byte) *field {
	for i := range sf.list {
		if f := &sf.list[i]; len(f.name) == len(key) && f.name == string(key) {
			return f
		}
	}
	return nil
}

// byFoldedName is the first field, in list order, whose folded name is
// folded (encoding/json's "first folded match takes precedence"), or nil.
func (sf structFields) byFoldedName(folded []byte) *field {
	for i := range sf.list {
		if f := &sf.list[i]; string(foldName([]byte(f.name))) == string(folded) {
			return f
		}
	}
	return nil
}

func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	// ASCII letters, digits and the allowed punctuation without the
	// unicode tables: every tag of the types mosc decodes.
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if c >= 0x80 {
			ascii = false
			break
		}
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", rune(c)) {
			return false
		}
	}
	if ascii {
		return true
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
			// Backslash and quote chars are reserved, but
			// otherwise any punctuation chars are allowed
			// in a tag name.
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// typeFields returns a list of fields that JSON should recognize for the given type.
// The algorithm is breadth-first search over the set of structs to include - the top struct
// and then any reachable anonymous structs.
func typeFields(t reflect.Type) structFields { return typeFieldsOf(t, true) }

// typeFieldsOf is typeFields; fast false always takes the sorts (for
// TestTypeFieldsFastPath).
func typeFieldsOf(t reflect.Type, fast bool) structFields {
	// Anonymous fields to explore at the current level and the next.
	current := []field{}
	next := []field{{typ: t}}

	// Count of queued names for current level and the next.
	// (Slices, not maps: a struct embeds few types, most none.)
	var count, nextCount typeCounts

	// Types already visited at an earlier level.
	var visited []reflect.Type

	// Fields found: room for t's and an inline TypeMeta's, so that appending
	// rarely copies (field is large; growth by doubling was most of
	// typeFields' allocation).
	fields := make([]field, 0, t.NumField()+2)

	// embeds: an anonymous struct field was found, to explore.
	embeds := false

	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, nextCount[len(nextCount):]

		for _, f := range current {
			if slices.Contains(visited, f.typ) {
				continue
			}
			visited = append(visited, f.typ)

			// Scan f.typ for fields to include.
			for i := 0; i < f.typ.NumField(); i++ {
				sf := f.typ.Field(i)
				if sf.Anonymous {
					t := sf.Type
					if t.Kind() == reflect.Pointer {
						t = t.Elem()
					}
					if !sf.IsExported() && t.Kind() != reflect.Struct {
						// Ignore embedded fields of unexported non-struct types.
						continue
					}
					// Do not ignore embedded fields of unexported struct types
					// since they may have exported fields.
				} else if !sf.IsExported() {
					// Ignore unexported non-embedded fields.
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts := parseTag(tag)
				if !isValidTag(name) {
					name = ""
				}
				index := make([]int, len(f.index)+1)
				copy(index, f.index)
				index[len(f.index)] = i

				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					// Follow pointer.
					ft = ft.Elem()
				}

				// Only strings, floats, integers, and booleans can be quoted.
				quoted := false
				if opts.Contains("string") {
					switch ft.Kind() {
					case reflect.Bool,
						reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
						reflect.Float32, reflect.Float64,
						reflect.String:
						quoted = true
					}
				}

				// Record found field and index sequence.
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					field := field{
						name:   name,
						tag:    tagged,
						index:  index,
						typ:    ft,
						quoted: quoted,
					}
					fields = append(fields, field)
					if count.get(f.typ) > 1 {
						// If there were multiple instances, add a second,
						// so that the annihilation code will see a duplicate.
						// It only cares about the distinction between 1 and 2,
						// so don't bother generating any more copies.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}

				// Record new anonymous struct to explore in next round.
				embeds = true
				if nextCount.inc(ft) == 1 {
					next = append(next, field{name: ft.Name(), index: index, typ: ft})
				}
			}
		}
	}

	if fast && !embeds && !hasDuplicateName(fields) {
		// One level, in index order, no name twice: what the sorts and the
		// dominance pass below return, without them (most struct types of
		// a Kubernetes object embed nothing; sorting was a third of
		// typeFields, which runs once per type in a render process).
		for i := range fields {
			fields[i].listIndex = int32(i)
		}
		return structFields{fields}
	}

	slices.SortFunc(fields, func(a, b field) int {
		// sort field by name, breaking ties with depth, then
		// breaking ties with "name came from json tag", then
		// breaking ties with index sequence.
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tag != b.tag {
			if a.tag {
				return -1
			}
			return +1
		}
		return slices.Compare(a.index, b.index)
	})

	// Delete all fields that are hidden by the Go rules for embedded fields,
	// except that fields with JSON tags are promoted.

	// The fields are sorted in primary order of name, secondary order
	// of field index length. Loop over names; for each name, delete
	// hidden fields by choosing the one dominant field that survives.
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		// One iteration per name.
		// Find the sequence of fields with the name of this first field.
		fi := fields[i]
		name := fi.name
		for advance = 1; i+advance < len(fields); advance++ {
			fj := fields[i+advance]
			if fj.name != name {
				break
			}
		}
		if advance == 1 { // Only one field with this name
			out = append(out, fi)
			continue
		}
		dominant, ok := dominantField(fields[i : i+advance])
		if ok {
			out = append(out, dominant)
		}
	}

	fields = out
	slices.SortFunc(fields, func(i, j field) int {
		return slices.Compare(i.index, j.index)
	})

	for i := range fields {
		fields[i].listIndex = int32(i)
	}
	return structFields{fields}
}

// hasDuplicateName reports whether two fields have the same name.
func hasDuplicateName(fields []field) bool {
	for i := range fields {
		for j := i + 1; j < len(fields); j++ {
			if len(fields[i].name) == len(fields[j].name) && fields[i].name == fields[j].name {
				return true
			}
		}
	}
	return false
}

// typeCounts counts types: typeFields' count maps as a slice.
type typeCounts []typeCount

type typeCount struct {
	t reflect.Type
	n int
}

func (c typeCounts) get(t reflect.Type) int {
	for _, e := range c {
		if e.t == t {
			return e.n
		}
	}
	return 0
}

func (c *typeCounts) inc(t reflect.Type) int {
	for i := range *c {
		if (*c)[i].t == t {
			(*c)[i].n++
			return (*c)[i].n
		}
	}
	*c = append(*c, typeCount{t, 1})
	return 1
}

// dominantField looks through the fields, all of which are known to
// have the same name, to find the single field that dominates the
// others using Go's embedding rules, modified by the presence of
// JSON tags. If there are multiple top-level fields, the boolean
// will be false: This condition is an error in Go and we skip all
// the fields.
func dominantField(fields []field) (field, bool) {
	// The fields are sorted in increasing index-length order, then by presence of tag.
	// That means that the first field is the dominant one. We need only check
	// for error cases: two fields at top level, either both tagged or neither tagged.
	if len(fields) > 1 && len(fields[0].index) == len(fields[1].index) && fields[0].tag == fields[1].tag {
		return field{}, false
	}
	return fields[0], true
}

var fieldCache sync.Map // map[reflect.Type]structFields

// cachedTypeFields is like typeFields but uses a cache to avoid repeated work.
func cachedTypeFields(t reflect.Type) structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(structFields)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.(structFields)
}

// IsValidNumber is encoding/json's isValidNumber (encode.go): the JSON
// number grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?. Exported
// for the YAML emitter (internal/bundle), which must refuse what
// encoding/json refuses.
func IsValidNumber(s string) bool {
	// This function implements the JSON numbers grammar.
	// See https://tools.ietf.org/html/rfc7159#section-6
	// and https://www.json.org/img/number.png

	if s == "" {
		return false
	}

	// Optional -
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}

	// Digits
	switch {
	default:
		return false

	case s[0] == '0':
		s = s[1:]

	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}

	// . followed by 1 or more digits.
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}

	// e or E followed by an optional - or + and
	// 1 or more digits.
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}

	// Make sure we are at the end.
	return s == ""
}
