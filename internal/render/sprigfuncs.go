package render

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/mosc-dev/mosc/internal/bundle"
)

// The embedded templates call five sprig functions: toJson, b64enc, list,
// concat and fail. lookupFunc gives them these copies (same signatures, same
// results and errors: TestSprigCopiesMatch and FuzzToJSON compare them with
// sprig's), so a render never builds sprig's map of ~200 functions (a 9 KB
// copy and 60 K instructions per process) and toJson of the values the
// templates pass (strings, string maps and lists) skips encoding/json's
// reflection (issue 15). Any other sprig function still comes from sprig.
// Masterminds/sprig v3.3.0 (MIT): defaults.go toJson, strings.go
// base64encode, list.go list and concat, functions.go fail.

// sprigCopies names the sprig functions lookupFunc takes from this file.
var sprigCopies = []string{"toJson", "b64enc", "list", "concat", "fail"}

// toJSON is sprig's toJson: json.Marshal's text, "" if it fails.
func toJSON(v any) string {
	switch x := v.(type) {
	case string:
		return bytesString(bundle.AppendJSONString(make([]byte, 0, len(x)+2), x))
	case map[string]string:
		n := 2
		for k, v := range x {
			n += len(k) + len(v) + 6
		}
		return bytesString(bundle.AppendJSONStringMap(make([]byte, 0, n), x))
	case []string:
		n := 2
		for _, s := range x {
			n += len(s) + 3
		}
		return bytesString(bundle.AppendJSONStrings(make([]byte, 0, n), x))
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// b64enc is sprig's b64enc.
func b64enc(v string) string {
	return base64.StdEncoding.EncodeToString([]byte(v))
}

// list is sprig's list.
func list(v ...any) []any {
	return v
}

// concat is sprig's concat: the lists' elements in one list; it panics on
// a non-list as sprig does (text/template reports the panic as the error).
func concat(lists ...any) any {
	var res []any
	for _, l := range lists {
		tp := reflect.TypeOf(l).Kind()
		switch tp {
		case reflect.Slice, reflect.Array:
			l2 := reflect.ValueOf(l)
			for i := 0; i < l2.Len(); i++ {
				res = append(res, l2.Index(i).Interface())
			}
		default:
			panic(fmt.Sprintf("Cannot concat type %s as list", tp))
		}
	}
	return res
}

// fail is sprig's fail.
func fail(msg string) (string, error) {
	return "", errors.New(msg)
}
