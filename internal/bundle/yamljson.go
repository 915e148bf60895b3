package bundle

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v2"
	sigsyaml "sigs.k8s.io/yaml"
)

// JSONDoc is one YAML document converted to JSON: Data is what
// sigs.k8s.io/yaml.YAMLToJSONStrict returns for it and, when the
// conversion could build it, content is the map json.Unmarshal of Data
// gives unstructured.Unstructured (int64 for integers, float64 otherwise),
// built from the YAML tree in the same walk that writes Data. A rendered
// object was parsed four times before (YAML, then apiVersion/kind, the
// typed strict decode and the Unstructured map from the JSON); now twice
// (YAML, typed strict decode), issue 15.
type JSONDoc struct {
	Data    []byte
	content map[string]any
}

// YAMLToJSONStrict is sigs.k8s.io/yaml.YAMLToJSONStrict (v1.6.0: yaml.v2
// strict decode into interface{}, convertToJSONableObject without a target
// type, encoding/json.Marshal) in one walk over yaml.v2's tree: the same
// bytes and the same errors. Whatever the walk does not handle exactly as
// that pipeline does (a map key of another type, two keys that convert to
// the same string, text that is not UTF-8, NaN or an infinity, deep
// nesting) goes through sigs.k8s.io/yaml itself; TestYAMLToJSONMatches and
// FuzzYAMLToJSON hold the two to each other.
//
// The YAML mosc's templates write takes yamlFast, which builds the same
// JSONDoc without yaml.v2; everything else (user files, anything yamlFast
// is not certain about) takes yaml.v2.
func YAMLToJSONStrict(y []byte) (JSONDoc, error) {
	if observeYAML != nil {
		observeYAML(y)
	}
	if d, ok := yamlFast(y); ok {
		return d, nil
	}
	return yamlToJSONStrictV2(y)
}

// observeYAML, set only by tests, sees every document YAMLToJSONStrict
// converts: TestYAMLFastCatalog collects what the templates write.
var observeYAML func(y []byte)

// yamlToJSONStrictV2 is YAMLToJSONStrict through yaml.v2: the reference
// yamlFast is held to.
func yamlToJSONStrictV2(y []byte) (JSONDoc, error) {
	var obj any
	if err := yaml.UnmarshalStrict(y, &obj); err != nil {
		return JSONDoc{}, err // sigs.k8s.io/yaml returns yaml.v2's error unwrapped
	}
	var c jsonConverter
	c.out = make([]byte, 0, len(y)+len(y)/4)
	v, ok := c.value(obj, 0)
	if !ok {
		data, err := sigsyaml.YAMLToJSONStrict(y)
		return JSONDoc{Data: data}, err
	}
	m, _ := v.(map[string]any)
	return JSONDoc{Data: c.out, content: m}, nil
}

// jsonMaxDepth bounds the walk: deeper documents take the slow path, which
// also gives the JSON decoders' depth errors (they stop at 10000).
const jsonMaxDepth = 1000

type jsonConverter struct {
	out []byte
	// kvs is a stack of the (converted key, value) pairs of the maps being
	// written: one buffer for the whole document rather than a slice per map.
	kvs []jsonKV
}

type jsonKV struct {
	key string
	v   any
}

// value appends v's JSON to c.out and returns what json.Unmarshal of that
// JSON gives (sigs.k8s.io/json with preserved ints, as unstructured uses);
// false when v needs the slow path.
func (c *jsonConverter) value(v any, depth int) (any, bool) {
	switch v := v.(type) {
	case nil:
		c.out = append(c.out, "null"...)
		return nil, true
	case bool:
		c.out = strconv.AppendBool(c.out, v)
		return v, true
	case string:
		if !utf8.ValidString(v) {
			return nil, false // encoding/json writes U+FFFD for each bad byte
		}
		c.out = AppendJSONString(c.out, v)
		return v, true
	case int:
		c.out = strconv.AppendInt(c.out, int64(v), 10)
		return int64(v), true
	case int64:
		c.out = strconv.AppendInt(c.out, v, 10)
		return v, true
	case uint64:
		c.out = strconv.AppendUint(c.out, v, 10)
		if v <= math.MaxInt64 {
			return int64(v), true
		}
		return float64(v), true // ParseFloat of the decimal: the same rounding
	case float64:
		return c.float(v)
	case []any:
		if depth >= jsonMaxDepth {
			return nil, false
		}
		arr := make([]any, len(v))
		c.out = append(c.out, '[')
		for i, e := range v {
			if i > 0 {
				c.out = append(c.out, ',')
			}
			var ok bool
			if arr[i], ok = c.value(e, depth+1); !ok {
				return nil, false
			}
		}
		c.out = append(c.out, ']')
		return arr, true
	case map[any]any:
		if depth >= jsonMaxDepth {
			return nil, false
		}
		start := len(c.kvs)
		for k, e := range v {
			ks, ok := jsonKey(k)
			if !ok {
				return nil, false
			}
			c.kvs = append(c.kvs, jsonKV{ks, e})
		}
		kvs := c.kvs[start:]
		slices.SortFunc(kvs, func(a, b jsonKV) int { return strings.Compare(a.key, b.key) })
		m := make(map[string]any, len(kvs))
		c.out = append(c.out, '{')
		for i := range kvs {
			kv := c.kvs[start+i] // c.kvs may grow (and move) while writing a value
			if i > 0 {
				if kv.key == c.kvs[start+i-1].key {
					return nil, false // convertToJSONableObject keeps either: map order
				}
				c.out = append(c.out, ',')
			}
			c.out = AppendJSONString(c.out, kv.key)
			c.out = append(c.out, ':')
			e, ok := c.value(kv.v, depth+1)
			if !ok {
				return nil, false
			}
			m[kv.key] = e
		}
		c.out = append(c.out, '}')
		clear(c.kvs[start:])
		c.kvs = c.kvs[:start]
		return m, true
	}
	return nil, false
}

// float writes f as encoding/json does (ES6 number to string) and returns
// what sigs.k8s.io/json reads back: int64 when the text has no '.' and
// parses as one (1.0 is written 1), float64 otherwise.
func (c *jsonConverter) float(f float64) (any, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false // json.Marshal's UnsupportedValueError
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(c.out)
	c.out = strconv.AppendFloat(c.out, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(c.out)
		if n >= 4 && c.out[n-4] == 'e' && c.out[n-3] == '-' && c.out[n-2] == '0' {
			c.out[n-2] = c.out[n-1]
			c.out = c.out[:n-1]
		}
	}
	text := string(c.out[start:])
	if !strings.Contains(text, ".") {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return i, true
		}
	}
	return f, true
}

// jsonKey is convertToJSONableObject's key conversion; false for the key
// types it refuses (its error comes from the slow path) and keys that are
// not UTF-8.
func jsonKey(k any) (string, bool) {
	var s string
	switch k := k.(type) {
	case string:
		s = k
	case int:
		s = strconv.Itoa(k)
	case int64:
		s = strconv.FormatInt(k, 10)
	case float64:
		s = strconv.FormatFloat(k, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
	case bool:
		s = strconv.FormatBool(k)
	default:
		return "", false
	}
	return s, utf8.ValidString(s)
}

// jsonPlainASCII says, for each ASCII byte, whether AppendJSONString writes
// it as it is ('1'): not a control byte, '"', '\\', '<', '>' or '&'. One
// load per byte instead of six comparisons: the Containerfile and repo
// files are most of the bytes a render writes through here, twice (toJson
// in the template, then the JSON of the object).
const jsonPlainASCII = "" +
	"00000000000000000000000000000000" + // 0x00-0x1f
	"11011101111111111111111111110101" + // 0x20-0x3f: " & < >
	"11111111111111111111111111110111" + // 0x40-0x5f: \
	"11111111111111111111111111111111" //   0x60-0x7f

// AppendJSONString appends s as json.Marshal writes it: encoding/json's
// appendString (Go 1.26) with escapeHTML, so <, > and & and control bytes
// as \u00XX (\b \f \n \r \t short), invalid UTF-8 as \ufffd, U+2028
// and U+2029 escaped. The YAML walk, render's build-inputs line and its
// toJson share it; FuzzYAMLToJSON, FuzzBuildInputsJSON and FuzzToJSON
// hold it to encoding/json.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonPlainASCII[b] == '1' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONStrings appends ss as json.Marshal writes a []string: null
// when nil, the strings through AppendJSONString.
func AppendJSONStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

// AppendJSONStringMap appends m as json.Marshal writes a
// map[string]string: null when nil, the entries sorted by key.
func AppendJSONStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, m[k])
	}
	return append(dst, '}')
}
