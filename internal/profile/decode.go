package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	yamlv2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// The decoder walks a yaml.Node tree into Go structs itself, instead of
// yaml.v3's Decode with KnownFields: that reports only a line and no field
// path, stops at the first problem, and turns `openshift: 4.20` into "4.2".
// Walking the tree gives every error file:line:col and a path, collects all
// of them, and keeps a scalar's literal text for string fields.
//
// Struct fields map by their `yaml:"name"` tag; `mosc:"required"` makes a
// field mandatory (present and non-empty). Aliases and merge keys are refused:
// profiles are short, and expanding aliases by hand invites billion-laughs.

type decoder struct {
	file string
	errs ErrorList
	// pos records where each field path's value sits, so resolution can point
	// at "spec.stacks[0]" long after decoding.
	pos map[string]Pos
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]Pos{}}
}

// nodeDecoder lets a type decode its own node (e.g. a stack reference written
// as "doca-3.3:ovs" or as a mapping).
type nodeDecoder interface {
	decodeYAML(d *decoder, n *yaml.Node, path string)
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: d.file, Field: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

var yamlLineRE = lazyre.New(`^yaml: line (\d+): (.*)$`)

// parseDocument parses data as exactly one YAML document and returns its root
// (the node inside the document node). Syntax errors carry the line yaml.v3
// reports (it gives no column).
func parseDocument(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on malformed input in the past; a panic must
		// never escape a decoder fed with user files.
		if r := recover(); r != nil {
			root, err = nil, ErrorList{{File: file, Message: fmt.Sprintf("invalid YAML: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{File: file, Line: 1, Column: 1, Message: "empty document"}}
		}
		return nil, ErrorList{syntaxError(file, data, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, ErrorList{{File: file, Line: next.Line, Column: next.Column, Message: "more than one YAML document; expected exactly one"}}
	case !errors.Is(err, io.EOF):
		return nil, ErrorList{syntaxError(file, data, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, ErrorList{{File: file, Line: 1, Column: 1, Message: "empty document"}}
	}
	root = doc.Content[0]
	if isNull(root) {
		return nil, ErrorList{{File: file, Line: root.Line, Column: root.Column, Message: "empty document"}}
	}
	return root, nil
}

func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: file, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	if !strings.HasPrefix(text, "did not find expected") {
		// Scanner errors: yaml.v3's line is the problem's (or the open
		// quote's), 1-based.
		if lines := bytes.Split(data, []byte("\n")); line >= 1 && line <= len(lines) &&
			bytes.Contains(bytes.TrimRight(lines[line-1], " \t\r"), []byte("\t")) && strings.Contains(text, "cannot start any token") {
			text += " (a tab: YAML indents with spaces only)"
		}
		return &Error{File: file, Line: line, Message: "invalid YAML: " + text}
	}
	// Parser errors: yaml.v3 gives the 0-based line where the enclosing
	// mapping, list or [ ] starts, so a mis-indented key on line 9 was
	// reported as line 3. yaml.v2 reports the problem's line (0-based); name
	// that line and say where the enclosing block starts.
	start := line + 1
	at := parserProblemLine(data, text)
	if at <= 0 {
		at = start
	}
	// When the enclosing block is the document itself, yaml.v3 falls back to
	// the problem's line: then there is no separate start to name.
	hint := "check the indentation"
	if at != start {
		hint = fmt.Sprintf("inside the block that starts at line %d; check the indentation", start)
	}
	for _, b := range []string{"]", "}"} {
		if strings.HasSuffix(text, "'"+b+"'") {
			open := map[string]string{"]": "[", "}": "{"}[b]
			hint = "a " + open + " is not closed"
			if at != start {
				hint = fmt.Sprintf("the %s opened on line %d is not closed", open, start)
			}
		}
	}
	return &Error{File: file, Line: at, Message: fmt.Sprintf("invalid YAML: %s (%s)", text, hint)}
}

// parserProblemLine returns the 1-based line yaml.v2 reports for the parser
// error text in data, or 0.
func parserProblemLine(data []byte, text string) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	dec := yamlv2.NewDecoder(bytes.NewReader(data))
	for {
		var v any
		err := dec.Decode(&v)
		if err == nil {
			continue
		}
		m := yamlLineRE.FindStringSubmatch(err.Error())
		if m == nil || m[2] != text {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n + 1
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// DescribeNode names what a YAML node is ("a mapping", "a list", or its
// value quoted and cut at 40 characters), for "expected X, got Y" messages
// of every strict decoder (site files, mirror files).
func DescribeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := []rune(n.Value)
	if len(v) > 40 {
		return strconv.Quote(string(v[:40]) + "…")
	}
	return strconv.Quote(string(v))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	// Keys that would make the path ambiguous are bracketed.
	if strings.ContainsAny(name, ".[]") {
		return fmt.Sprintf("%s[%q]", path, name)
	}
	return path + "." + name
}

var durationType = reflect.TypeOf(Duration(0))

// value decodes n into v (addressable).
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, path, "YAML aliases are not supported")
		return
	}
	d.pos[path] = Pos{File: d.file, Line: n.Line, Column: n.Column}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			if !isNull(n) {
				nd.decodeYAML(d, n, path)
			}
			return
		}
	}
	if isNull(n) {
		// "key:" with nothing after it means "not set".
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			switch n.ShortTag() {
			case "!!str", "!!int", "!!float":
				// The literal text: `openshift: 4.20` stays "4.20".
				v.SetString(s)
			default:
				d.errorf(n, path, "expected a string, got %s (quote it)", DescribeNode(n))
			}
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path, "true or false"); ok {
			if n.ShortTag() != "!!bool" {
				d.errorf(n, path, "expected true or false, got %s", DescribeNode(n))
				return
			}
			b, err := strconv.ParseBool(strings.ToLower(s))
			if err != nil {
				d.errorf(n, path, "expected true or false, got %s", DescribeNode(n))
				return
			}
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		if v.Type() == durationType {
			d.duration(n, v, path)
			return
		}
		if s, ok := d.scalar(n, path, "an integer"); ok {
			if n.ShortTag() != "!!int" {
				d.errorf(n, path, "expected an integer, got %s", DescribeNode(n))
				return
			}
			i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, v.Type().Bits())
			if err != nil {
				d.errorf(n, path, "integer %s out of range", DescribeNode(n))
				return
			}
			v.SetInt(i)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, got %s", DescribeNode(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, got %s", DescribeNode(n))
			return
		}
		if v.Type().Key().Kind() != reflect.String {
			panic("profile: map keys must be strings")
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key, ok := d.key(k, path, seen)
			if !ok {
				continue
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			d.value(val, elem, join(path, key))
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
		}
		v.Set(m)
	case reflect.Interface:
		if x, ok := d.anyValue(n, path); ok && x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		panic(fmt.Sprintf("profile: cannot decode into %s", v.Type()))
	}
}

// scalar checks n is a scalar and returns its text.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected %s, got %s", want, DescribeNode(n))
		return "", false
	}
	return n.Value, true
}

// key checks a mapping key: a plain string, not a merge key, not repeated.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]bool) (string, bool) {
	if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!int" && k.ShortTag() != "!!float") {
		if k.ShortTag() == "!!merge" {
			d.errorf(k, path, "YAML merge keys (<<) are not supported")
		} else {
			d.errorf(k, path, "mapping keys must be strings, got %s", DescribeNode(k))
		}
		return "", false
	}
	if seen[k.Value] {
		d.errorf(k, join(path, k.Value), "duplicate key %q", k.Value)
		return "", false
	}
	seen[k.Value] = true
	return k.Value, true
}

type fieldInfo struct {
	name     string
	index    int
	required bool
	// fact: the field states something about the world that the profile's
	// sources: list must back (or mark UNVERIFIED).
	fact bool
}

// fieldsCache memoizes fieldsOf: the decoder asks for every struct it
// fills, and the fact checks for every source (issue 15: this reflection was
// a tenth of `mosc render`'s process time). Callers must not modify the slice.
var fieldsCache sync.Map // reflect.Type -> []fieldInfo

func fieldsOf(t reflect.Type) []fieldInfo {
	if v, ok := fieldsCache.Load(t); ok {
		return v.([]fieldInfo)
	}
	out := computeFields(t)
	fieldsCache.Store(t, out)
	return out
}

func computeFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		opts := strings.Split(f.Tag.Get("mosc"), ",")
		out = append(out, fieldInfo{
			name:     strings.Split(tag, ",")[0],
			index:    i,
			required: slices.Contains(opts, "required"),
			fact:     slices.Contains(opts, "fact"),
		})
	}
	return out
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", DescribeNode(n))
		return
	}
	fields := fieldsOf(v.Type())
	byName := make(map[string]fieldInfo, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	seen := map[string]bool{}
	keyNode := map[string]*yaml.Node{}
	failed := map[string]bool{} // fields with an error already: no "missing" on top
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		f, ok := byName[name]
		if !ok {
			d.errorf(k, join(path, name), "unknown field %q%s", name, suggest(name, fields))
			continue
		}
		keyNode[name] = val
		before := len(d.errs)
		d.value(val, v.Field(f.index), join(path, name))
		if len(d.errs) > before {
			failed[name] = true
		}
	}
	for _, f := range fields {
		if !f.required || failed[f.name] || !v.Field(f.index).IsZero() {
			continue
		}
		if val, ok := keyNode[f.name]; ok {
			d.errorf(val, join(path, f.name), "must not be empty")
		} else {
			d.errorf(n, join(path, f.name), "missing required field %q", f.name)
		}
	}
}

// suggest names the field the user probably meant (a case slip like
// gpgcheck/gpgCheck, or a typo within two edits), else lists the known ones.
func suggest(name string, fields []fieldInfo) string {
	names := make([]string, 0, len(fields))
	best, bestDist := "", 3
	for _, f := range fields {
		names = append(names, f.name)
		dist := EditDistance(strings.ToLower(name), strings.ToLower(f.name))
		if dist < bestDist {
			best, bestDist = f.name, dist
		}
	}
	if best != "" && bestDist < len(name) {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	sort.Strings(names)
	return "; known: " + knownList(names)
}

// EditDistance is the Levenshtein distance, for "did you mean" suggestions
// (field and flag names; inputs over 64 bytes count as 64 apart).
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// anyValue decodes free-form data (layer parameters) into JSON-like values:
// map[string]any, []any, string, int64, float64, bool, nil.
func (d *decoder) anyValue(n *yaml.Node, path string) (any, bool) {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, path, "YAML aliases are not supported")
		return nil, false
	}
	d.pos[path] = Pos{File: d.file, Line: n.Line, Column: n.Column}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, ok := d.key(n.Content[i], path, seen)
			if !ok {
				continue
			}
			if x, ok := d.anyValue(n.Content[i+1], join(path, key)); ok {
				m[key] = x
			}
		}
		return m, true
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			x, _ := d.anyValue(item, fmt.Sprintf("%s[%d]", path, i))
			s = append(s, x)
		}
		return s, true
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			b, err := strconv.ParseBool(strings.ToLower(n.Value))
			if err != nil {
				d.errorf(n, path, "invalid boolean %s", DescribeNode(n))
				return nil, false
			}
			return b, true
		case "!!int":
			i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
			if err != nil {
				d.errorf(n, path, "integer %s out of range", DescribeNode(n))
				return nil, false
			}
			return i, true
		case "!!float":
			f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				d.errorf(n, path, "invalid number %s", DescribeNode(n))
				return nil, false
			}
			return f, true
		case "!!str":
			return n.Value, true
		}
		d.errorf(n, path, "unsupported value %s (tag %s)", DescribeNode(n), n.ShortTag())
		return nil, false
	}
	d.errorf(n, path, "unsupported YAML node")
	return nil, false
}

// Duration is a Go duration written as a string ("720h", "90m").
type Duration time.Duration

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "a duration")
	if !ok {
		return
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(n, path, "invalid duration %s: want e.g. 720h or 90m", DescribeNode(n))
		return
	}
	if dur < 0 {
		d.errorf(n, path, "duration must not be negative")
		return
	}
	v.SetInt(int64(dur))
}

func (x Duration) String() string { return time.Duration(x).String() }
