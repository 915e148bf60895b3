package bundle

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/mosc-dev/mosc/internal/strictjson"
)

// A YAML emitter of our own for the values an object holds, writing exactly
// the bytes marshalYAMLLegacy writes (go-yaml v2 directly, or
// sigs.k8s.io/yaml.Marshal = json.Marshal + go-yaml's parse of that JSON +
// go-yaml's Marshal). go-yaml's encoder goes through an event queue, a
// generic reflect walk and per-scalar allocations; for `mosc render --all`
// that was a fifth of the CPU and the largest share of the bytes allocated
// (issue 15). This is a port of the parts of go.yaml.in/yaml/v2 v2.4.2 that
// mosc's values reach, with the same state variables and the same decisions,
// each function naming the one it follows. Derived code keeps its notices:
// go-yaml is Copyright 2011-2016 Canonical Ltd. (Apache-2.0: NOTICE.yaml-v2,
// LICENSE.yaml-v2 here) and its emitterc.go/resolve parts come from libyaml,
// Copyright (c) 2006 Kirill Simonov (MIT: LICENSE.libyaml here):
//
//   - encode.go: encoder.marshal/stringv/intv/floatv/nilv (scalar text and
//     the style asked for), mapv (keys sorted with keyList);
//   - sorter.go: keyList.Less (keyLess here);
//   - resolve.go: resolve and parseTimestamp (what a plain scalar would read
//     back as; a string that would not read back as a string is quoted);
//   - emitterc.go: yaml_emitter_analyze_scalar, select_scalar_style,
//     check_simple_key, increase_indent, write_indent, write_indicator and
//     the plain, single-quoted, double-quoted and literal writers, with the
//     80-column folding (best_width 80, best_indent 2, unicode on).
//
// What sigs.k8s.io/yaml's JSON round trip changes is applied to the value
// first, as encoding/json (encode.go floatEncoder, appendString, the
// json.Number check) and go-yaml's resolve of the JSON number would: a
// float is written as the number its JSON text reads back as (3.0 → 3,
// 1e20 → 1e+20), nil maps and slices as null, invalid UTF-8 bytes as
// U+FFFD each.
//
// Anything else makes emitYAML report false and the caller takes the legacy
// path for the whole object (never a guess): a Go type other than
// map[string]any, []any, string, bool, int64, int, float64, json.Number and
// nil; NaN and ±Inf (JSON refuses them); an invalid json.Number; a key
// that is "<<" (go-yaml's parse of the JSON takes it as a merge key) or is
// not valid UTF-8 (JSON may merge two keys into one); a string holding a
// character go-yaml's reader refuses in the JSON (sigs.k8s.io/yaml fails)
// or U+0085 (NEL: go-yaml folds it inside the JSON's quoted string, so the
// two legacy paths disagree); nesting deeper than emitMaxDepth (go-yaml's
// parser stops at 10000). TestEmitFallbacks lists these cases.
// FuzzEmitYAML and TestEmitCatalog hold the emitter to the legacy bytes.

// emitMaxDepth bounds the nesting the emitter writes; deeper values (never
// seen in a rendered object) take the legacy path.
const emitMaxDepth = 1000

// go-yaml's emitter settings (yaml_emitter_emit_stream_start defaults).
const (
	bestIndent = 2
	bestWidth  = 80
)

type emitter struct {
	buf []byte
	// emitter.column, indent, indents, whitespace, indention.
	column     int
	indent     int
	indents    []int
	whitespace bool
	indention  bool
	// keys is scratch space for the sorted keys of the maps being written
	// (a stack: each map uses the tail it appended).
	keys []string
	// num is scratch space for number text.
	num [64]byte
}

// emitters keeps the emitters' scratch stacks (keys, indents) between
// objects.
var emitters = sync.Pool{New: func() any { return new(emitter) }}

// emitYAML appends obj as YAML to dst, byte-identical to
// marshalYAMLLegacy, or reports false (dst unchanged but for its spare
// capacity) when obj holds something the emitter leaves to the legacy path.
func emitYAML(dst []byte, obj map[string]any) ([]byte, bool) {
	e := emitters.Get().(*emitter)
	defer func() {
		clear(e.keys[:cap(e.keys)])
		e.buf = nil
		emitters.Put(e)
	}()
	// yaml_emitter_emit_stream_start.
	e.buf, e.column, e.indent, e.indents, e.keys = dst, 0, -1, e.indents[:0], e.keys[:0]
	e.whitespace, e.indention = true, true
	// yaml_emitter_emit_document_start: first document, implicit: nothing
	// written. document_content: the root node.
	if !e.node(obj, false, false, 0) {
		return nil, false
	}
	// yaml_emitter_emit_document_end (implicit): write_indent only.
	e.writeIndent()
	return e.buf, true
}

// node writes one value: yaml_emitter_emit_node with the contexts it sets
// (mapping: a mapping value or a complex key; simpleKey: a simple key).
func (e *emitter) node(v any, mapping, simpleKey bool, depth int) bool {
	if depth > emitMaxDepth {
		return false
	}
	switch t := v.(type) {
	case nil:
		e.plainWord("null") // encoder.nilv
	case string:
		return e.stringScalar(t, simpleKey)
	case bool:
		if t {
			e.plainWord("true")
		} else {
			e.plainWord("false")
		}
	case int64:
		e.plainBytes(strconv.AppendInt(e.num[:0], t, 10))
	case int:
		e.plainBytes(strconv.AppendInt(e.num[:0], int64(t), 10))
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return false // json.Marshal fails: the legacy path reports it
		}
		return e.number(jsonFloat(e.num[:0], t), simpleKey)
	case json.Number:
		s := string(t)
		if s == "" {
			s = "0" // encoding/json writes an empty Number as 0
		}
		if !strictjson.IsValidNumber(s) {
			return false
		}
		return e.number([]byte(s), simpleKey)
	case map[string]any:
		if t == nil {
			e.plainWord("null") // JSON null
			return true
		}
		if len(t) == 0 {
			e.emptyFlow("{", "}")
			return true
		}
		return e.blockMapping(t, depth)
	case []any:
		if t == nil {
			e.plainWord("null")
			return true
		}
		if len(t) == 0 {
			e.emptyFlow("[", "]")
			return true
		}
		return e.blockSequence(t, mapping, depth)
	default:
		return false
	}
	return true
}

// emptyFlow writes {} or []: emit_mapping_start/emit_sequence_start choose
// the flow style for an empty collection (check_empty_mapping), then
// emit_flow_mapping_key writes "{" (need_whitespace, is_whitespace) and,
// on the end event, "}".
func (e *emitter) emptyFlow(open, close string) {
	e.writeIndicator(open, true, true, false)
	e.writeIndicator(close, false, false, false)
}

// blockMapping: yaml_emitter_emit_block_mapping_key/value over the keys
// sorted as encoder.mapv sorts them.
func (e *emitter) blockMapping(m map[string]any, depth int) bool {
	start := len(e.keys)
	for k := range m {
		// "<<" is a merge key in go-yaml's parse of the JSON; a key that is
		// not UTF-8 may become another key in JSON: legacy path.
		if k == "<<" || !emitSafeString(k) {
			e.keys = e.keys[:start]
			return false
		}
		e.keys = append(e.keys, k)
	}
	keys := e.keys[start:]
	// encoder.mapv: sort.Sort(keyList). The keys are distinct and keyLess
	// is antisymmetric, so "not less" is "greater"; where keyLess orders
	// them totally any sort gives go-yaml's order.
	slices.SortFunc(keys, func(a, b string) int {
		if keyLess(a, b) {
			return -1
		}
		return 1
	})
	e.increaseIndent(false, false)
	for _, k := range keys {
		e.writeIndent()
		a := analyzeScalar(k)
		style := stringStyle(k)
		// check_simple_key: a scalar key is simple unless multiline or
		// longer than 128 bytes.
		if !a.multiline && len(k) <= 128 {
			e.scalar(k, a, style, true)
			e.writeIndicator(":", false, false, false)
		} else {
			e.writeIndicator("?", true, false, true)
			e.scalar(k, a, style, false)
			e.writeIndent()
			e.writeIndicator(":", true, false, true)
		}
		if !e.node(m[k], true, false, depth+1) {
			e.keys = e.keys[:start]
			return false
		}
	}
	e.popIndent()
	e.keys = e.keys[:start]
	return true
}

// blockSequence: yaml_emitter_emit_block_sequence_item. A sequence that is
// a mapping's value is not indented when the key left the line unindented.
func (e *emitter) blockSequence(s []any, mapping bool, depth int) bool {
	e.increaseIndent(false, mapping && !e.indention)
	for _, v := range s {
		e.writeIndent()
		e.writeIndicator("-", true, false, true)
		if !e.node(v, false, false, depth+1) {
			return false
		}
	}
	e.popIndent()
	return true
}

// stringScalar is encoder.stringv after encoding/json's treatment of the
// string (sigs.k8s.io/yaml's path).
func (e *emitter) stringScalar(s string, simpleKey bool) bool {
	if !utf8.ValidString(s) {
		s = jsonValidUTF8(s)
	}
	if !emitSafeString(s) {
		return false
	}
	e.scalar(s, analyzeScalar(s), stringStyle(s), simpleKey)
	return true
}

// number writes a JSON number text as go-yaml writes what its parse of that
// text gives (resolve: an int, a uint64, a float, or a string when the
// float overflows).
func (e *emitter) number(text []byte, simpleKey bool) bool {
	tag, iv, uv, fv := resolve(string(text))
	switch tag {
	case tagInt:
		e.plainBytes(strconv.AppendInt(e.num[:0], iv, 10))
	case tagUint:
		e.plainBytes(strconv.AppendUint(e.num[:0], uv, 10))
	case tagFloat:
		e.plainBytes(yamlFloat(e.num[:0], fv))
	default:
		// A JSON number never reads back as bool, null or timestamp.
		return e.stringScalar(string(text), simpleKey)
	}
	return true
}

// plainWord and plainBytes write a scalar that analyze_scalar allows plain
// with nothing to fold (null, true, false, numbers): yaml_emitter_emit_scalar
// with write_plain_scalar reduced to what such text takes.
func (e *emitter) plainWord(s string) {
	if !e.whitespace {
		e.buf = append(e.buf, ' ')
		e.column++
	}
	e.buf = append(e.buf, s...)
	e.column += len(s)
	e.whitespace = false
	e.indention = false
}

func (e *emitter) plainBytes(b []byte) {
	if !e.whitespace {
		e.buf = append(e.buf, ' ')
		e.column++
	}
	e.buf = append(e.buf, b...)
	e.column += len(b)
	e.whitespace = false
	e.indention = false
}

// Scalar styles the encoder asks for and the emitter settles on.
type scalarStyle uint8

const (
	stylePlain scalarStyle = iota
	styleSingle
	styleDouble
	styleLiteral
)

// stringStyle is the style encoder.stringv asks for: literal when the
// string has a newline, plain when it would read back as a string, else
// double-quoted.
func stringStyle(s string) scalarStyle {
	if strings.IndexByte(s, '\n') >= 0 {
		return styleLiteral
	}
	if tag, _, _, _ := resolve(s); tag == tagStr && !isBase60Float(s) {
		return stylePlain
	}
	return styleDouble
}

// scalarInfo is emitter.scalar_data as yaml_emitter_analyze_scalar fills it.
type scalarInfo struct {
	multiline, blockPlainAllowed, singleQuotedAllowed, blockAllowed bool
}

// analyzeScalar is yaml_emitter_analyze_scalar (unicode on; the flow-plain
// flag is left out: mosc's output has no flow scalars). Most strings are
// ASCII: analyzeASCII does the same with the character classes inlined.
func analyzeScalar(s string) scalarInfo {
	if len(s) == 0 {
		return scalarInfo{blockPlainAllowed: true, singleQuotedAllowed: true}
	}
	if a, ok := analyzeASCII(s); ok {
		return a
	}
	return analyzeUnicode(s)
}

// analyzeASCII is analyzeUnicode for an ASCII string (false if s is not).
func analyzeASCII(s string) (scalarInfo, bool) {
	var blockIndicators, lineBreaks, specialCharacters,
		leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak,
		previousSpace, previousBreak bool
	if len(s) >= 3 && (s[:3] == "---" || s[:3] == "...") {
		blockIndicators = true
	}
	precededByWhitespace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i > 0 && asciiOrdinary(c) {
			// A run of characters that change nothing but the previous-
			// character flags.
			for i+1 < len(s) && asciiOrdinary(s[i+1]) {
				i++
			}
			previousSpace, previousBreak, precededByWhitespace = false, false, false
			continue
		}
		if c >= 0x80 {
			return scalarInfo{}, false
		}
		followedByWhitespace := i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == '\t'
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':', '-':
				if followedByWhitespace {
					blockIndicators = true
				}
			}
		} else if c == ':' && followedByWhitespace || c == '#' && precededByWhitespace {
			blockIndicators = true
		}
		if !(c == 0x0A || c >= 0x20 && c <= 0x7E) {
			specialCharacters = true
		}
		switch c {
		case ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i+1 == len(s) {
				trailingSpace = true
			}
			if previousBreak {
				breakSpace = true
			}
			previousSpace, previousBreak = true, false
		case '\r', '\n':
			lineBreaks = true
			if i == 0 {
				leadingBreak = true
			}
			if i+1 == len(s) {
				trailingBreak = true
			}
			if previousSpace {
				spaceBreak = true
			}
			previousSpace, previousBreak = false, true
		default:
			previousSpace, previousBreak = false, false
		}
		precededByWhitespace = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0
	}
	return scalarFlags(blockIndicators, lineBreaks, specialCharacters, leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak), true
}

// asciiOrdinary marks the printable ASCII characters other than space, ':'
// and '#': after the first position they are no indicator, no space, no
// break and not special.
func asciiOrdinary(c byte) bool {
	return c > ' ' && c < 0x7F && c != ':' && c != '#'
}

// analyzeUnicode is yaml_emitter_analyze_scalar for any UTF-8 string.
func analyzeUnicode(s string) scalarInfo {
	var blockIndicators, lineBreaks, specialCharacters,
		leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak,
		previousSpace, previousBreak bool
	if len(s) >= 3 && (s[:3] == "---" || s[:3] == "...") {
		blockIndicators = true
	}
	precededByWhitespace := true
	for i, w := 0, 0; i < len(s); i += w {
		w = width(s[i])
		followedByWhitespace := i+w >= len(s) || isBlank(s, i+w)
		c := s[i]
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '-':
				if followedByWhitespace {
					blockIndicators = true
				}
			}
		} else {
			switch c {
			case ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '#':
				if precededByWhitespace {
					blockIndicators = true
				}
			}
		}
		if !isPrintable(s, i) {
			specialCharacters = true
		}
		if c == ' ' {
			if i == 0 {
				leadingSpace = true
			}
			if i+w == len(s) {
				trailingSpace = true
			}
			if previousBreak {
				breakSpace = true
			}
			previousSpace, previousBreak = true, false
		} else if isBreak(s, i) {
			lineBreaks = true
			if i == 0 {
				leadingBreak = true
			}
			if i+w == len(s) {
				trailingBreak = true
			}
			if previousSpace {
				spaceBreak = true
			}
			previousSpace, previousBreak = false, true
		} else {
			previousSpace, previousBreak = false, false
		}
		precededByWhitespace = isBlankz(s, i)
	}
	return scalarFlags(blockIndicators, lineBreaks, specialCharacters, leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak)
}

// scalarFlags is the end of yaml_emitter_analyze_scalar: what the
// character scan found decides the styles allowed.
func scalarFlags(blockIndicators, lineBreaks, specialCharacters, leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak bool) scalarInfo {
	a := scalarInfo{multiline: lineBreaks, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.blockPlainAllowed = false
	}
	if trailingSpace {
		a.blockAllowed = false
	}
	if breakSpace {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
	}
	if spaceBreak || specialCharacters {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
		a.blockAllowed = false
	}
	if lineBreaks || blockIndicators {
		a.blockPlainAllowed = false
	}
	return a
}

// scalar is yaml_emitter_emit_scalar: select_scalar_style (flow level 0,
// implicit tags, so no tag is written), increase_indent(flow), the writer.
func (e *emitter) scalar(s string, a scalarInfo, style scalarStyle, simpleKey bool) {
	if simpleKey && a.multiline {
		style = styleDouble
	}
	if style == stylePlain {
		if !a.blockPlainAllowed || len(s) == 0 && simpleKey {
			style = styleSingle
		}
	}
	if style == styleSingle && !a.singleQuotedAllowed {
		style = styleDouble
	}
	if style == styleLiteral && (!a.blockAllowed || simpleKey) {
		style = styleDouble
	}
	e.increaseIndent(true, false)
	switch style {
	case stylePlain:
		e.writePlain(s, !simpleKey)
	case styleSingle:
		e.writeSingleQuoted(s, !simpleKey)
	case styleDouble:
		e.writeDoubleQuoted(s, !simpleKey)
	case styleLiteral:
		e.writeLiteral(s)
	}
	e.popIndent()
}

// yaml_emitter_increase_indent.
func (e *emitter) increaseIndent(flow, indentless bool) {
	e.indents = append(e.indents, e.indent)
	if e.indent < 0 {
		if flow {
			e.indent = bestIndent
		} else {
			e.indent = 0
		}
	} else if !indentless {
		e.indent += bestIndent
	}
}

func (e *emitter) popIndent() {
	e.indent = e.indents[len(e.indents)-1]
	e.indents = e.indents[:len(e.indents)-1]
}

// put, put_break, write (one UTF-8 character, one column), write_break.
func (e *emitter) put(c byte) {
	e.buf = append(e.buf, c)
	e.column++
}

func (e *emitter) putBreak() {
	e.buf = append(e.buf, '\n')
	e.column = 0
}

func (e *emitter) write(s string, i int) int {
	w := width(s[i])
	e.buf = append(e.buf, s[i:i+w]...)
	e.column++
	return i + w
}

func (e *emitter) writeBreak(s string, i int) int {
	if s[i] == '\n' {
		e.putBreak()
		return i + 1
	}
	i = e.write(s, i)
	e.column = 0
	return i
}

// yaml_emitter_write_indent.
func (e *emitter) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.putBreak()
	}
	for e.column < indent {
		e.put(' ')
	}
	e.whitespace = true
	e.indention = true
}

// yaml_emitter_write_indicator (indicators are ASCII: one column a byte).
func (e *emitter) writeIndicator(ind string, needWhitespace, isWhitespace, isIndention bool) {
	if needWhitespace && !e.whitespace {
		e.put(' ')
	}
	e.buf = append(e.buf, ind...)
	e.column += len(ind)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

// yaml_emitter_write_plain_scalar.
func (e *emitter) writePlain(s string, allowBreaks bool) {
	if !e.whitespace {
		e.put(' ')
	}
	// A plain scalar has no line breaks (analyze_scalar), so it folds only
	// at a space past column 80: without one, or ending before it, it is
	// copied whole.
	if !allowBreaks || e.column+len(s) <= bestWidth || strings.IndexByte(s, ' ') < 0 {
		e.buf = append(e.buf, s...)
		e.column += utf8.RuneCountInString(s)
		e.whitespace = false
		e.indention = false
		return
	}
	spaces, breaks := false, false
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			if allowBreaks && !spaces && e.column > bestWidth && at(s, i+1) != ' ' {
				e.writeIndent()
				i++
			} else {
				i = e.write(s, i)
			}
			spaces = true
		} else if isBreak(s, i) {
			if !breaks && s[i] == '\n' {
				e.putBreak()
			}
			i = e.writeBreak(s, i)
			e.indention = true
			breaks = true
		} else {
			if breaks {
				e.writeIndent()
			}
			i = e.write(s, i)
			e.indention = false
			spaces, breaks = false, false
		}
	}
	e.whitespace = false
	e.indention = false
}

// yaml_emitter_write_single_quoted_scalar.
func (e *emitter) writeSingleQuoted(s string, allowBreaks bool) {
	e.writeIndicator("'", true, false, false)
	spaces, breaks := false, false
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			if allowBreaks && !spaces && e.column > bestWidth && i > 0 && i < len(s)-1 && at(s, i+1) != ' ' {
				e.writeIndent()
				i++
			} else {
				i = e.write(s, i)
			}
			spaces = true
		} else if isBreak(s, i) {
			if !breaks && s[i] == '\n' {
				e.putBreak()
			}
			i = e.writeBreak(s, i)
			e.indention = true
			breaks = true
		} else {
			if breaks {
				e.writeIndent()
			}
			if s[i] == '\'' {
				e.put('\'')
			}
			i = e.write(s, i)
			e.indention = false
			spaces, breaks = false, false
		}
	}
	e.writeIndicator("'", false, false, false)
	e.whitespace = false
	e.indention = false
}

const hexDigits = "0123456789ABCDEF"

// yaml_emitter_write_double_quoted_scalar. Its is_bom(value, i) tests the
// string's first bytes, not position i: a string that starts with a BOM has
// every character escaped.
func (e *emitter) writeDoubleQuoted(s string, allowBreaks bool) {
	e.writeIndicator(`"`, true, false, false)
	bom := len(s) >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF
	spaces := false
	for i := 0; i < len(s); {
		c := s[i]
		if bom || !isPrintable(s, i) || isBreak(s, i) || c == '"' || c == '\\' {
			r, w := rune(c), 1
			if c >= utf8.RuneSelf {
				r, w = utf8.DecodeRuneInString(s[i:])
			}
			i += w
			e.put('\\')
			switch r {
			case 0x00:
				e.put('0')
			case 0x07:
				e.put('a')
			case 0x08:
				e.put('b')
			case 0x09:
				e.put('t')
			case 0x0A:
				e.put('n')
			case 0x0b:
				e.put('v')
			case 0x0c:
				e.put('f')
			case 0x0d:
				e.put('r')
			case 0x1b:
				e.put('e')
			case 0x22:
				e.put('"')
			case 0x5c:
				e.put('\\')
			case 0x85:
				e.put('N')
			case 0xA0:
				e.put('_')
			case 0x2028:
				e.put('L')
			case 0x2029:
				e.put('P')
			default:
				n := 8
				switch {
				case r <= 0xFF:
					e.put('x')
					n = 2
				case r <= 0xFFFF:
					e.put('u')
					n = 4
				default:
					e.put('U')
				}
				for k := (n - 1) * 4; k >= 0; k -= 4 {
					e.put(hexDigits[(r>>uint(k))&0x0F])
				}
			}
			spaces = false
		} else if c == ' ' {
			if allowBreaks && !spaces && e.column > bestWidth && i > 0 && i < len(s)-1 {
				e.writeIndent()
				if at(s, i+1) == ' ' {
					e.put('\\')
				}
				i++
			} else {
				i = e.write(s, i)
			}
			spaces = true
		} else {
			i = e.write(s, i)
			spaces = false
		}
	}
	e.writeIndicator(`"`, false, false, false)
	e.whitespace = false
	e.indention = false
}

// yaml_emitter_write_block_scalar_hints.
func (e *emitter) writeBlockScalarHints(s string) {
	if s[0] == ' ' || isBreak(s, 0) {
		e.writeIndicator(string(rune('0'+bestIndent)), false, false, false)
	}
	// The literal style is only asked for strings with a newline, so s is
	// not empty.
	i := len(s) - 1
	for s[i]&0xC0 == 0x80 {
		i--
	}
	switch {
	case !isBreak(s, i):
		e.writeIndicator("-", false, false, false)
	case i == 0:
		e.writeIndicator("+", false, false, false)
	default:
		i--
		for s[i]&0xC0 == 0x80 {
			i--
		}
		if isBreak(s, i) {
			e.writeIndicator("+", false, false, false)
		}
	}
}

// yaml_emitter_write_literal_scalar.
func (e *emitter) writeLiteral(s string) {
	e.writeIndicator("|", true, false, false)
	e.writeBlockScalarHints(s)
	e.putBreak()
	e.indention = true
	e.whitespace = true
	breaks := true
	for i := 0; i < len(s); {
		if isBreak(s, i) {
			i = e.writeBreak(s, i)
			e.indention = true
			breaks = true
		} else {
			if breaks {
				e.writeIndent()
			}
			// The characters up to the next break, at once: a break starts
			// with '\r', '\n', 0xC2 (U+0085) or 0xE2 (U+2028, U+2029), so
			// only those bytes need isBreak (a call per byte was most of
			// the time of writing a Containerfile).
			j := i + 1
			for j < len(s) {
				if c := s[j]; c != '\n' && c != '\r' && c != 0xC2 && c != 0xE2 || !isBreak(s, j) {
					j++
					continue
				}
				break
			}
			e.buf = append(e.buf, s[i:j]...)
			e.column += utf8.RuneCountInString(s[i:j])
			i = j
			e.indention = false
			breaks = false
		}
	}
}

// Character classes of yamlprivateh.go, on a string (at past the end is
// the NUL the C original would read).
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func width(b byte) int {
	switch {
	case b&0x80 == 0x00:
		return 1
	case b&0xE0 == 0xC0:
		return 2
	case b&0xF0 == 0xE0:
		return 3
	case b&0xF8 == 0xF0:
		return 4
	}
	return 0
}

func isPrintable(s string, i int) bool {
	b := s[i]
	return b == 0x0A ||
		b >= 0x20 && b <= 0x7E ||
		b == 0xC2 && at(s, i+1) >= 0xA0 ||
		b > 0xC2 && b < 0xED ||
		b == 0xED && at(s, i+1) < 0xA0 ||
		b == 0xEE ||
		b == 0xEF &&
			!(at(s, i+1) == 0xBB && at(s, i+2) == 0xBF) &&
			!(at(s, i+1) == 0xBF && (at(s, i+2) == 0xBE || at(s, i+2) == 0xBF))
}

func isBreak(s string, i int) bool {
	b := s[i]
	return b == '\r' || b == '\n' ||
		b == 0xC2 && at(s, i+1) == 0x85 ||
		b == 0xE2 && at(s, i+1) == 0x80 && (at(s, i+2) == 0xA8 || at(s, i+2) == 0xA9)
}

func isBlank(s string, i int) bool {
	return s[i] == ' ' || s[i] == '\t'
}

func isBlankz(s string, i int) bool {
	return isBlank(s, i) || isBreak(s, i) || s[i] == 0
}

// keyLess is keyList.Less (sorter.go) for two strings: letters compare as
// runes, a letter sorts after a non-letter, runs of digits compare as
// numbers (int64 arithmetic, overflow included).
func keyLess(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		// Bytes are runes: compare the strings' bytes in place.
		return keyLessOf(unsafe.Slice(unsafe.StringData(a), len(a)), unsafe.Slice(unsafe.StringData(b), len(b)))
	}
	return keyLessOf([]rune(a), []rune(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// keyLessOf is keyList.Less over the characters of two keys (read only).
func keyLessOf[C byte | rune](ar, br []C) bool {
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al := unicode.IsLetter(rune(ar[i]))
		bl := unicode.IsLetter(rune(br[i]))
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(rune(ar[j])); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(rune(ar[ai])); ai++ {
			an = an*10 + int64(rune(ar[ai])-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(rune(br[bi])); bi++ {
			bn = bn*10 + int64(rune(br[bi])-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

// Tags resolve reports.
type yamlTag uint8

const (
	tagStr yamlTag = iota
	tagNull
	tagBool
	tagInt
	tagUint
	tagFloat
	tagTimestamp
	tagMerge
)

// resolve is go-yaml's resolve("", s) (resolve.go): the tag a plain scalar
// s reads back as, and the number for int, uint and float.
func resolve(s string) (tag yamlTag, iv int64, uv uint64, fv float64) {
	hint := byte('N')
	if s != "" {
		hint = resolveHint(s[0])
	}
	if hint == 0 {
		return tagStr, 0, 0, 0
	}
	if t, ok := resolveMap(s); ok {
		return t, 0, 0, 0
	}
	switch hint {
	// strconv's errors allocate (a *NumError holding a copy of the
	// string): each call below is skipped where a cheap test shows it
	// cannot succeed (mayParse*: they accept a superset of what strconv
	// accepts; ".git" or "4.20-rc" never reach strconv.ParseInt).
	case '.':
		if mayParseDecimalFloat(s) {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return tagFloat, 0, 0, f
			}
		}
	case 'D', 'S':
		if parseTimestamp(s) {
			return tagTimestamp, 0, 0, 0
		}
		plain := s
		if strings.IndexByte(s, '_') >= 0 {
			plain = strings.ReplaceAll(s, "_", "")
		}
		if mayParseBase0(plain) {
			if v, err := strconv.ParseInt(plain, 0, 64); err == nil {
				return tagInt, v, 0, 0
			}
			if plain[0] >= '0' && plain[0] <= '9' { // ParseUint takes no sign
				if v, err := strconv.ParseUint(plain, 0, 64); err == nil {
					return tagUint, 0, v, 0
				}
			}
		}
		if yamlStyleFloat(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return tagFloat, 0, 0, f
			}
		}
		if strings.HasPrefix(plain, "0b") {
			if mayParseBase2(plain[2:]) {
				if v, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
					return tagInt, v, 0, 0
				}
				if v, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
					return tagUint, 0, v, 0
				}
			}
		} else if strings.HasPrefix(plain, "-0b") {
			if mayParseBase2(plain[3:]) {
				if v, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
					return tagInt, v, 0, 0
				}
			}
		}
	}
	return tagStr, 0, 0, 0
}

// mayParseBase0 is false for strings strconv.ParseInt(s, 0, 64) and
// ParseUint reject for their syntax (s has no underscores): after an
// optional sign, a digit, then digits of base 16 or a base prefix letter.
func mayParseBase0(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == 'x', c == 'X', c == 'o', c == 'O':
		default:
			return false
		}
	}
	return true
}

// mayParseBase2 is false for strings strconv.ParseInt(s, 2, 64) rejects
// for their syntax: an optional sign, then binary digits.
func mayParseBase2(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '0' && s[i] != '1' {
			return false
		}
	}
	return true
}

// mayParseDecimalFloat is false for strings starting with '.' that
// strconv.ParseFloat rejects for their syntax: it needs a digit, and only
// digits, '.', an exponent letter and signs can appear (no base prefix,
// so no underscores, and no "inf"/"nan" after a dot).
func mayParseDecimalFloat(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return false
		}
	}
	return digit
}

// resolveHint is resolve.go's resolveTable.
func resolveHint(c byte) byte {
	switch c {
	case '+', '-':
		return 'S'
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return 'D'
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		return 'M'
	case '.':
		return '.'
	}
	return 0
}

// resolveMap is resolve.go's resolveMap.
func resolveMap(s string) (yamlTag, bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return tagBool, true
	case "", "~", "null", "Null", "NULL":
		return tagNull, true
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return tagFloat, true
	case "<<":
		return tagMerge, true
	}
	return tagStr, false
}

// yamlStyleFloat matches resolve.go's yamlStyleFloat,
// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ (TestEmitMatchers
// and FuzzEmitYAML compare the two).
func yamlStyleFloat(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		if n := digits(s, i); n == 0 {
			return false
		} else {
			i += n
		}
	} else {
		n := digits(s, i)
		if n == 0 {
			return false
		}
		i += n
		if i < len(s) && s[i] == '.' {
			i++
			i += digits(s, i)
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		n := digits(s, i)
		if n == 0 {
			return false
		}
		i += n
	}
	return i == len(s)
}

func digits(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
		n++
	}
	return n
}

// isBase60Float is encode.go's isBase60Float, its regexp
// ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ hand-written (after
// a colon, two digits are taken when the first is 0-5 and a digit follows:
// one would leave a digit no part of the pattern accepts).
func isBase60Float(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '+' || c == '-' || c >= '0' && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	if i >= len(s) || s[i] < '0' || s[i] > '9' {
		return false
	}
	i++
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	groups := 0
	for i < len(s) && s[i] == ':' {
		i++
		switch {
		case i+1 < len(s) && s[i] >= '0' && s[i] <= '5' && s[i+1] >= '0' && s[i+1] <= '9':
			i += 2
		case i < len(s) && s[i] >= '0' && s[i] <= '9':
			i++
		default:
			return false
		}
		groups++
	}
	if groups == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
	}
	return i == len(s)
}

// timestampFormats is resolve.go's allowedTimestampFormats.
var timestampFormats = [...]string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// parseTimestamp is resolve.go's parseTimestamp, reporting success only.
func parseTimestamp(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, format := range timestampFormats {
		if _, err := time.Parse(format, s); err == nil {
			return true
		}
	}
	return false
}

// jsonFloat is encoding/json's floatEncoder for a float64 (encode.go):
// %f between 1e-6 and 1e21, else %e with a one-digit negative exponent
// cleaned of its zero.
func jsonFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// yamlFloat is encoder.floatv for a float64.
func yamlFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, ".inf"...)
	case math.IsInf(f, -1):
		return append(b, "-.inf"...)
	case math.IsNaN(f):
		return append(b, ".nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// jsonValidUTF8 is what encoding/json writes for a string that is not
// UTF-8: each byte that does not start a valid sequence becomes U+FFFD.
func jsonValidUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// emitSafeString reports whether s (UTF-8) reads back unchanged through the
// JSON text sigs.k8s.io/yaml hands to go-yaml: every character is one
// go-yaml's reader accepts after json.Marshal's escaping (yamlReadable), and
// none is U+0085, which go-yaml's scanner folds inside a quoted scalar.
func emitSafeString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f {
			return utf8.ValidString(s) && yamlReadableRunes(s[i:]) && !strings.Contains(s[i:], "\u0085")
		}
	}
	return true
}
