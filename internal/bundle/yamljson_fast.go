package bundle

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yamlFast converts, without yaml.v2, the YAML mosc's own templates write
// (templates/*.yaml.tmpl): block mappings and sequences (also the
// indentless "key:\n- item" form and compact "- key: value" items), keys
// that are plain words or JSON strings, values that are plain words,
// decimal integers, true/false/null, or one JSON value that toJson wrote
// on the rest of the line, full-line comments and blank lines. It gives
// the JSONDoc YAMLToJSONStrict's yaml.v2 walk gives, and false — "not
// mine, take the yaml.v2 path" — for anything else, valid or not: the
// yaml.v2 path then gives its result or its error. Giving up is always
// safe; accepting must be certain. Scalars resolve as yaml.v2's
// resolve.go (go.yaml.in/yaml/v2@v2.4.2) resolves them, or the parser
// gives up. TestYAMLFast (every catalog object, every golden, the give-up
// table) and FuzzYAMLFast hold it to yaml.v2 + jsonConverter.
//
// What it accepts follows go.yaml.in/yaml/v2 v2.4.2: resolve.go's
// resolveTable/resolveMap for plain scalars, scannerc.go's double-quoted
// escapes and simple-key limit, readerc.go's printable characters
// (go-yaml: Apache-2.0, NOTICE.yaml-v2; libyaml: MIT, LICENSE.libyaml).
//
// The walkthrough render spent 2.15 M of its 6.3 M instructions in yaml.v2
// (scanner, parser, decoder into map[interface{}]interface{}) for six small
// documents; this builds the map[string]any DecodeStrict wants directly.
func yamlFast(y []byte) (JSONDoc, bool) {
	p := fastParser{s: string(y)}
	if !p.nextLine(0) || p.col != 0 {
		return JSONDoc{}, false // empty document, or not starting at column 0
	}
	if p.isSeqEntry() {
		return JSONDoc{}, false // only top-level mappings: that is what an object is
	}
	m, ok := p.mapping(0, 0)
	if !ok || p.col >= 0 {
		return JSONDoc{}, false
	}
	w := fastWriter{out: make([]byte, 0, len(y)+len(y)/4)}
	w.value(m)
	return JSONDoc{Data: w.out, content: m}, true
}

// fastMaxDepth bounds nesting (block and flow levels together), far below
// jsonMaxDepth and yaml.v2's limits: deeper documents take the yaml.v2 path.
const fastMaxDepth = 100

// fastMaxKey bounds a key's length in bytes: libyaml wants the ':' of an
// implicit key within 1024 characters of the key's start
// (yaml_simple_key_is_valid); a longer key is an error in block context
// and a different structure in flow context.
const fastMaxKey = 1000

type fastParser struct {
	s string
	// p is the offset of the current line's content (after its
	// indentation, or after "- " for a compact item), col its column;
	// col is -1 at the end of the input.
	p, col int
}

// nextLine moves to the first line at or after offset i (a line start)
// that has content: blank lines and full-line comments are skipped. False
// when a line has a byte outside printable ASCII before its content or in
// a comment (tabs, CR, controls, non-ASCII: the yaml.v2 path judges those).
func (p *fastParser) nextLine(i int) bool {
	s := p.s
	for i < len(s) {
		start := i
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			break
		}
		switch c := s[i]; {
		case c == '\n':
			i++
			continue
		case c == '#':
			for i++; i < len(s) && s[i] != '\n'; i++ {
				if s[i] < 0x20 || s[i] > 0x7e {
					return false
				}
			}
			if i < len(s) {
				i++
			}
			continue
		case c < 0x20 || c > 0x7e:
			return false
		}
		p.p, p.col = i, i-start
		return true
	}
	p.p, p.col = len(s), -1
	return true
}

// endLine accepts the rest of the line from i when it is only spaces, and
// moves to the next line with content.
func (p *fastParser) endLine(i int) bool {
	s := p.s
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) {
		if s[i] != '\n' {
			return false
		}
		i++
	}
	return p.nextLine(i)
}

func (p *fastParser) isSeqEntry() bool {
	s, i := p.s, p.p
	return i < len(s) && s[i] == '-' && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n')
}

// mapping parses the block mapping whose keys are at column n, from the
// current line on, until a line at a lower column or the end.
func (p *fastParser) mapping(n, depth int) (map[string]any, bool) {
	if depth >= fastMaxDepth {
		return nil, false
	}
	m := make(map[string]any)
	for p.col >= n {
		if p.col > n {
			return nil, false // a continuation line or a mis-indented node
		}
		key, i, ok := p.key(p.p)
		if !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false // UnmarshalStrict's error
		}
		v, ok := p.value(i, n, depth)
		if !ok {
			return nil, false
		}
		m[key] = v
	}
	return m, true
}

// key parses "key:" at offset i, followed by a space or the line's end,
// and returns the key and the offset after the ':'. False when the text
// there is not such a key, or the key resolves to anything but a string.
func (p *fastParser) key(i int) (string, int, bool) {
	s := p.s
	var key string
	var end int
	if i < len(s) && s[i] == '"' {
		var ok bool
		if key, end, ok = p.jsonString(i); !ok {
			return "", 0, false
		}
	} else {
		end = plainEnd(s, i)
		v, ok := resolvePlain(s[i:end])
		if !ok {
			return "", 0, false
		}
		if key, ok = v.(string); !ok {
			return "", 0, false // 1:, true:, null: are not string keys
		}
	}
	if end-i > fastMaxKey || end >= len(s) || s[end] != ':' {
		return "", 0, false
	}
	if end+1 < len(s) && s[end+1] != ' ' && s[end+1] != '\n' {
		return "", 0, false
	}
	return key, end + 1, true
}

// value parses a mapping value that starts at offset i (after the key's
// ':'); n is the mapping's column. A value on the same line is a scalar or
// a JSON value; an empty rest of line means a nested block (deeper, or an
// indentless sequence at n) or null.
func (p *fastParser) value(i, n, depth int) (any, bool) {
	s := p.s
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) && s[i] != '\n' {
		v, end, ok := p.scalar(i, depth+1)
		if !ok || !p.endLine(end) {
			return nil, false
		}
		return v, true
	}
	if !p.endLine(i) {
		return nil, false
	}
	switch {
	case p.col > n:
		return p.block(depth + 1)
	case p.col == n && p.isSeqEntry():
		return p.sequence(n, true, depth+1)
	}
	return nil, true // "key:" and nothing under it
}

// block parses the block node on the current line: a sequence or a mapping.
func (p *fastParser) block(depth int) (any, bool) {
	if p.isSeqEntry() {
		return p.sequence(p.col, false, depth)
	}
	return p.mapping(p.col, depth)
}

// sequence parses the block sequence whose "- " are at column n. An
// indentless one (a mapping value at the mapping's own column) ends at a
// line at column n that is not an entry; any other ends only at a lower
// column.
func (p *fastParser) sequence(n int, indentless bool, depth int) ([]any, bool) {
	if depth >= fastMaxDepth {
		return nil, false
	}
	s := p.s
	arr := []any{}
	for p.col >= n {
		if p.col > n {
			return nil, false
		}
		if !p.isSeqEntry() {
			if indentless {
				break
			}
			return nil, false // a key after a sequence at the same column
		}
		i := p.p + 1
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) || s[i] == '\n' {
			// "-" alone: the item is the block under it, or null.
			if !p.endLine(i) {
				return nil, false
			}
			var v any
			if p.col > n {
				var ok bool
				if v, ok = p.block(depth + 1); !ok {
					return nil, false
				}
			}
			arr = append(arr, v)
			continue
		}
		if s[i] == '-' {
			return nil, false // "- - x" or "- -1": not ours
		}
		if _, _, isKey := p.key(i); isKey {
			// Compact mapping: its keys are at the column of the first.
			p.col += i - p.p
			p.p = i
			m, ok := p.mapping(p.col, depth+1)
			if !ok {
				return nil, false
			}
			arr = append(arr, m)
			continue
		}
		v, end, ok := p.scalar(i, depth+1)
		if !ok || !p.endLine(end) {
			return nil, false
		}
		arr = append(arr, v)
	}
	return arr, true
}

// scalar parses a value that fits on one line at offset i: a JSON string,
// a JSON object or array, or a plain scalar; it returns the value and the
// offset after it.
func (p *fastParser) scalar(i, depth int) (any, int, bool) {
	s := p.s
	switch s[i] {
	case '"':
		return p.jsonString(i)
	case '{', '[':
		return p.json(i, depth)
	}
	end := plainEnd(s, i)
	v, ok := resolvePlain(s[i:end])
	return v, end, ok
}

// plainEnd is the end of the run of plain-scalar bytes at i. Only letters,
// digits and ._/- : none of them is a YAML indicator where resolvePlain
// lets a scalar start, and none ends a plain scalar (": ", " #", flow
// indicators), so the token is the whole scalar when a space, ':' or the
// line's end follows it.
func plainEnd(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-' {
			i++
			continue
		}
		break
	}
	return i
}

// resolvePlain is yaml.v2's resolve(“”, s) for a plain scalar of plainEnd's
// bytes, where the result is a string, an int (as int64, what the JSON
// decode gives), a bool or nil; false for the rest (floats, timestamps,
// 0x/0o/0b, leading zeros, signs) and for what this does not mirror.
func resolvePlain(s string) (any, bool) {
	if s == "" {
		return nil, false // an empty plain scalar: no token here
	}
	switch c := s[0]; {
	case c == '-':
		return nil, false // an indicator, or a sign (hint 'S')
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		// resolveTable hint 'M' for yYnNtTfFoO: the resolveMap words; a
		// letter with no hint is a string.
		switch s {
		case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
			return true, true
		case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
			return false, true
		case "null", "Null", "NULL":
			return nil, true
		}
		return s, true
	case c == '_' || c == '/':
		return s, true // no resolveTable hint: a string
	case c == '.':
		// Hint '.': the map (.nan, .inf) or ParseFloat; accept only what
		// cannot be either: '.' and a letter or '_', not a map word.
		if len(s) < 2 || !('a' <= s[1] && s[1] <= 'z' || 'A' <= s[1] && s[1] <= 'Z' || s[1] == '_') {
			return nil, false
		}
		switch strings.ToLower(s) {
		case ".nan", ".inf":
			return nil, false
		}
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return nil, false
		}
		return s, true
	case '0' <= c && c <= '9':
		// Hint 'D': timestamp, ParseInt(base 0), ParseUint, float, 0b.
		// Accept a decimal integer without leading zeros that fits int64
		// (ParseInt base 0 gives the same), and dotted versions like 3.2.0
		// (two or more dots: no timestamp, int or float parses them).
		digits, dots := 0, 0
		lastDot := true
		for j := 0; j < len(s); j++ {
			switch {
			case '0' <= s[j] && s[j] <= '9':
				digits++
				lastDot = false
			case s[j] == '.' && !lastDot:
				dots++
				lastDot = true
			default:
				return nil, false
			}
		}
		if dots == 0 {
			if len(s) > 1 && s[0] == '0' {
				return nil, false // octal in ParseInt base 0, or a float
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, false
			}
			return v, true
		}
		if dots >= 2 && !lastDot {
			return s, true
		}
	}
	return nil, false
}

// jsonString parses the JSON string at offset i (s[i] == '"') as YAML
// reads a double-quoted scalar: the escapes JSON writes (not \/, which
// YAML does not know), printable characters as libyaml's reader allows
// them and that are not line breaks or a BOM; false for anything else.
func (p *fastParser) jsonString(i int) (string, int, bool) {
	s := p.s
	start := i + 1
	j := start
	for {
		if j >= len(s) {
			return "", 0, false
		}
		c := s[j]
		if c < utf8.RuneSelf {
			if yamlQuotedASCII[c] == '1' {
				j++
				continue
			}
			if c == '"' {
				return s[start:j], j + 1, true
			}
			if c == '\\' {
				break
			}
			return "", 0, false // a control byte or DEL
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if !yamlQuotedRune(r, size) {
			return "", 0, false
		}
		j += size
	}
	// Escapes: build the string.
	b := make([]byte, 0, j-start+16)
	b = append(b, s[start:j]...)
	for {
		if j >= len(s) {
			return "", 0, false
		}
		c := s[j]
		switch {
		case c == '"':
			return string(b), j + 1, true
		case c == '\\':
			if j+1 >= len(s) {
				return "", 0, false
			}
			switch s[j+1] {
			case '"', '\\':
				b = append(b, s[j+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				if j+6 > len(s) {
					return "", 0, false
				}
				v, err := strconv.ParseUint(s[j+2:j+6], 16, 32)
				if err != nil || v >= 0xd800 && v <= 0xdfff {
					return "", 0, false // a surrogate: libyaml's error
				}
				b = utf8.AppendRune(b, rune(v))
				j += 4
			default:
				return "", 0, false
			}
			j += 2
		case c < utf8.RuneSelf:
			if yamlQuotedASCII[c] != '1' {
				return "", 0, false
			}
			k := j + 1 // copy the run of plain bytes at once
			for k < len(s) && s[k] < utf8.RuneSelf && yamlQuotedASCII[s[k]] == '1' {
				k++
			}
			b = append(b, s[j:k]...)
			j = k
		default:
			r, size := utf8.DecodeRuneInString(s[j:])
			if !yamlQuotedRune(r, size) {
				return "", 0, false
			}
			b = append(b, s[j:j+size]...)
			j += size
		}
	}
}

// yamlQuotedASCII says, for each ASCII byte, whether it stands for itself
// in a double-quoted scalar ('1'): printable (libyaml's reader refuses
// other controls; tab is allowed but JSON escapes it), not '"' or '\\'.
const yamlQuotedASCII = "" +
	"00000000000000000000000000000000" + // 0x00-0x1f
	"11011111111111111111111111111111" + // 0x20-0x3f: "
	"11111111111111111111111111110111" + // 0x40-0x5f: \
	"11111111111111111111111111111110" //   0x60-0x7f: DEL

// yamlQuotedRune: a non-ASCII rune libyaml's reader takes (#xA0-#xD7FF,
// #xE000-#xFFFD, #x10000-#x10FFFF) and its scanner does not treat as a
// line break (U+2028, U+2029) or a BOM (U+FEFF). NEL (U+0085) and C1
// controls are below #xA0.
func yamlQuotedRune(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	switch {
	case r == 0x2028 || r == 0x2029 || r == 0xfeff:
		return false
	case r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// json parses the JSON value at offset i as YAML's flow syntax reads it:
// no whitespace (toJson writes none), objects with unique keys, numbers
// only as decimal integers that fit int64 (YAML's plain ints), true, false
// and null as resolve.go reads them.
func (p *fastParser) json(i, depth int) (any, int, bool) {
	s := p.s
	if i >= len(s) {
		return nil, 0, false
	}
	switch c := s[i]; c {
	case '"':
		return p.jsonString(i)
	case '{':
		if depth >= fastMaxDepth {
			return nil, 0, false
		}
		m := make(map[string]any)
		i++
		if i < len(s) && s[i] == '}' {
			return m, i + 1, true
		}
		for {
			if i >= len(s) || s[i] != '"' {
				return nil, 0, false
			}
			k, end, ok := p.jsonString(i)
			if !ok || end-i > fastMaxKey || end >= len(s) || s[end] != ':' {
				return nil, 0, false
			}
			if _, dup := m[k]; dup {
				return nil, 0, false
			}
			v, next, ok := p.json(end+1, depth+1)
			if !ok || next >= len(s) {
				return nil, 0, false
			}
			m[k] = v
			switch s[next] {
			case ',':
				i = next + 1
			case '}':
				return m, next + 1, true
			default:
				return nil, 0, false
			}
		}
	case '[':
		if depth >= fastMaxDepth {
			return nil, 0, false
		}
		arr := []any{}
		i++
		if i < len(s) && s[i] == ']' {
			return arr, i + 1, true
		}
		for {
			v, next, ok := p.json(i, depth+1)
			if !ok || next >= len(s) {
				return nil, 0, false
			}
			arr = append(arr, v)
			switch s[next] {
			case ',':
				i = next + 1
			case ']':
				return arr, next + 1, true
			default:
				return nil, 0, false
			}
		}
	case 't', 'f', 'n':
		for _, w := range [...]struct {
			lit string
			v   any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if strings.HasPrefix(s[i:], w.lit) {
				return w.v, i + len(w.lit), p.jsonEnd(i + len(w.lit))
			}
		}
		return nil, 0, false
	default:
		// -?(0|[1-9][0-9]*), then a delimiter: no fraction or exponent.
		j := i
		if j < len(s) && s[j] == '-' {
			j++
		}
		d := j
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == d || s[d] == '0' && j-d > 1 || !p.jsonEnd(j) {
			return nil, 0, false
		}
		v, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil {
			return nil, 0, false
		}
		return v, j, true
	}
}

// jsonEnd: a bare JSON word (number, true, false, null), which only
// appears inside an object or array here, ends at i where YAML's plain
// scalar in flow context ends too: at ',', ']' or '}' (a space would let
// the plain scalar go on: "[1 2]" is one scalar "1 2").
func (p *fastParser) jsonEnd(i int) bool {
	if i == len(p.s) {
		return false
	}
	switch p.s[i] {
	case ',', ']', '}':
		return true
	}
	return false
}

// fastWriter writes what jsonConverter writes for the same tree: keys
// sorted, strings through AppendJSONString.
type fastWriter struct {
	out  []byte
	keys []string // a stack of the keys of the maps being written
}

func (w *fastWriter) value(v any) {
	switch v := v.(type) {
	case nil:
		w.out = append(w.out, "null"...)
	case bool:
		w.out = strconv.AppendBool(w.out, v)
	case string:
		w.out = AppendJSONString(w.out, v)
	case int64:
		w.out = strconv.AppendInt(w.out, v, 10)
	case []any:
		w.out = append(w.out, '[')
		for i, e := range v {
			if i > 0 {
				w.out = append(w.out, ',')
			}
			w.value(e)
		}
		w.out = append(w.out, ']')
	case map[string]any:
		start := len(w.keys)
		for k := range v {
			w.keys = append(w.keys, k)
		}
		slices.Sort(w.keys[start:])
		w.out = append(w.out, '{')
		for i := start; i < start+len(v); i++ {
			if i > start {
				w.out = append(w.out, ',')
			}
			k := w.keys[i]
			w.out = AppendJSONString(w.out, k)
			w.out = append(w.out, ':')
			w.value(v[k])
		}
		w.out = append(w.out, '}')
		w.keys = w.keys[:start]
	default:
		panic("yamlFast built a value it cannot write")
	}
}
