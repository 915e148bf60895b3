package render

import (
	"fmt"
	"reflect"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// removedFuncs are sprig functions that read the environment, the clock,
// the network or a random source. Rendering is a pure function of the plan
// (same plan, byte-identical bundle), so templates must not reach them.
var removedFuncs = map[string]bool{
	"env": true, "expandenv": true, "getHostByName": true,
	"now": true, "ago": true, "toDate": true, "mustToDate": true, "unixEpoch": true,
	"durationRound": true, "htmlDate": true, "htmlDateInZone": true,
	"shuffle": true, "htpasswd": true, "bcrypt": true, "derivePassword": true,
	"encryptAES": true, "decryptAES": true, "buildCustomCert": true,
}

var removedPrefixes = []string{"date", "mustDate", "must_date", "rand", "uuid", "gen"}

func isRemoved(name string) bool {
	if removedFuncs[name] {
		return true
	}
	for _, p := range removedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// baseFuncs returns sprig's text functions minus the impure ones, plus
// mosc's own helpers. include is bound per template set by the caller.
func baseFuncs() template.FuncMap {
	fm := template.FuncMap{}
	for name, f := range sprig.TxtFuncMap() {
		if !isRemoved(name) {
			fm[name] = f
		}
	}
	fm["shargs"] = shargs
	fm["opt"] = opt
	fm["required"] = required
	for _, name := range sprigCopies { // the functions newSet's sets get
		fm[name], _ = lookupFunc(name)
	}
	return fm
}

// required fails the render with msg when v is empty (as Helm's required).
func required(msg string, v any) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("%s", msg)
	}
	if s, ok := v.(string); ok && s == "" {
		return nil, fmt.Errorf("%s", msg)
	}
	return v, nil
}

// opt returns params[key] or def when the key is absent. With
// missingkey=error, `.Params.x` fails on a missing key, which is what a
// required parameter wants; optional parameters go through opt.
func opt(params map[string]any, key string, def any) any {
	if v, ok := params[key]; ok && v != nil {
		return v
	}
	return def
}

// shargs flattens strings and lists of strings into shell words, quoting
// only the words that need it (keeps the Containerfile compact: the MOSC
// limit is 4096 characters).
func shargs(args ...any) (string, error) {
	var words []string
	var add func(v any) error
	add = func(v any) error {
		switch x := v.(type) {
		case nil:
			return nil
		case string:
			if x == "" {
				return fmt.Errorf("shargs: empty word")
			}
			words = append(words, shellQuote(x))
			return nil
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			for i := 0; i < rv.Len(); i++ {
				if err := add(rv.Index(i).Interface()); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("shargs: %T is not a string or a list of strings", v)
	}
	for _, a := range args {
		if err := add(a); err != nil {
			return "", err
		}
	}
	return strings.Join(words, " "), nil
}

// shellQuote single-quotes s unless every byte is shell-safe.
func shellQuote(s string) string {
	safe := true
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.+:/=@%,", c) >= 0) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// bindInclude adds include (render a named template to a string, as in
// Helm) bound to t.
func bindInclude(fm template.FuncMap, t **template.Template) {
	fm["include"] = func(name string, data any) (string, error) {
		var b strings.Builder
		if err := (*t).ExecuteTemplate(&b, name, data); err != nil {
			return "", err
		}
		return b.String(), nil
	}
}
