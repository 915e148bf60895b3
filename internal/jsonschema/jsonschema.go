// Package jsonschema checks JSON documents against the small subset of JSON
// Schema 2020-12 that mosc's published schemas use (docs/gate.md,
// docs/build.md): type, required, properties, additionalProperties: false,
// items, enum, const, minimum, pattern, $ref to #/$defs/NAME. Tests use it to keep
// the documentation and the real output in step.
package jsonschema

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Validate returns one message per violation ("$.checks[0].id: ..."); none
// means v conforms.
func Validate(schema map[string]any, v any) []string {
	return validate(schema, schema, v, "$")
}

// FromMarkdown reads the schema published in a markdown document after the
// marker "<!-- schema:NAME -->" as a fenced json block.
func FromMarkdown(doc []byte, name string) (map[string]any, error) {
	marker := "<!-- schema:" + name + " -->\n```json\n"
	i := strings.Index(string(doc), marker)
	if i < 0 {
		return nil, fmt.Errorf("no %q block", marker)
	}
	body := string(doc)[i+len(marker):]
	end := strings.Index(body, "```")
	if end < 0 {
		return nil, fmt.Errorf("schema %s: unterminated block", name)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(body[:end]), &s); err != nil {
		return nil, fmt.Errorf("schema %s: %v", name, err)
	}
	return s, nil
}

func validate(root, s map[string]any, v any, path string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		return validate(root, root["$defs"].(map[string]any)[name].(map[string]any), v, path)
	}
	var errs []string
	fail := func(f string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(f, args...)) }
	if c, ok := s["const"]; ok && v != c {
		fail("want %v, got %v", c, v)
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || x == v
		}
		if !found {
			fail("%v not in %v", v, e)
		}
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("not an object")
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				fail("required %q missing", r)
			}
		}
		for k, x := range m {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					fail("property %q not in the schema", k)
				}
				continue
			}
			errs = append(errs, validate(root, ps, x, path+"."+k)...)
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			fail("not an array")
			return errs
		}
		if is, ok := s["items"].(map[string]any); ok {
			for i, x := range l {
				errs = append(errs, validate(root, is, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("not a string: %v", v)
		} else if p, ok := s["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err != nil {
				fail("bad pattern %q: %v", p, err)
			} else if !re.MatchString(str) {
				fail("%q does not match %s", str, p)
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("not a boolean: %v", v)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			fail("not an integer: %v", v)
		} else if min, ok := s["minimum"].(float64); ok && f < min {
			fail("%v < minimum %v", f, min)
		}
	}
	return errs
}
