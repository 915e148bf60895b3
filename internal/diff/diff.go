// Package diff compares two bundles object by object (added, removed,
// changed with field paths; compare.go), with unified diffs inside text
// payloads (Containerfiles, repo files, systemd units), and compares a
// bundle with what is live on a cluster.
package diff

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/mosc-dev/mosc/internal/bundle"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Change says what happened to an object or a field.
type Change string

const (
	Added   Change = "added"
	Removed Change = "removed"
	Changed Change = "changed"
)

// Key identifies an object. Objects are matched by API group (not version),
// kind, namespace and name, so a MachineOSConfig moving from v1alpha1 to v1
// shows as one changed object with an apiVersion field change.
type Key struct {
	Group     string `json:"-"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func keyOf(u *unstructured.Unstructured) Key {
	gv, _ := schema.ParseGroupVersion(u.GetAPIVersion())
	return Key{Group: gv.Group, Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

// Field is one changed field of an object.
type Field struct {
	// Path is a dotted path; list items with a key field are addressed by
	// key (spec.containerFile[NoArch].content), others by index (args[2]).
	Path   string `json:"path"`
	Change Change `json:"change"`
	From   any    `json:"from,omitempty"`
	To     any    `json:"to,omitempty"`
	// UnifiedDiff is set instead of From/To for multi-line text.
	UnifiedDiff string `json:"unifiedDiff,omitempty"`
	// Redacted is true for fields of Secrets: values are never shown.
	Redacted bool `json:"redacted,omitempty"`
}

// Object is the difference for one object.
type Object struct {
	Change         Change  `json:"change"`
	APIVersion     string  `json:"apiVersion"` // the "to" side's, or "from" when removed
	FromAPIVersion string  `json:"fromAPIVersion,omitempty"`
	Kind           string  `json:"kind"`
	Namespace      string  `json:"namespace,omitempty"`
	Name           string  `json:"name"`
	FromFile       string  `json:"fromFile,omitempty"`
	ToFile         string  `json:"toFile,omitempty"`
	Fields         []Field `json:"fields,omitempty"`
}

// Ref is "apiVersion Kind [namespace/]name".
func (o Object) Ref() string {
	n := o.Name
	if o.Namespace != "" {
		n = o.Namespace + "/" + n
	}
	return o.APIVersion + " " + o.Kind + " " + n
}

// Summary counts objects by change.
type Summary struct {
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
}

// Result is a whole diff. From/To describe the sides ("openshift 4.20").
type Result struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Summary Summary  `json:"summary"`
	Objects []Object `json:"objects"`
}

// Empty says whether the two sides are the same.
func (r *Result) Empty() bool { return len(r.Objects) == 0 }

// Bundles compares a (from) with b (to). Objects are listed in b's order,
// then those only in a, in a's order.
func Bundles(a, b *bundle.Bundle) *Result {
	res := &Result{Objects: []Object{}}
	from := map[Key]bundle.Object{}
	for _, o := range a.Objects {
		from[keyOf(o.Content)] = o
	}
	seen := map[Key]bool{}
	for _, to := range b.Objects {
		k := keyOf(to.Content)
		seen[k] = true
		fo, ok := from[k]
		if !ok {
			od := newObject(Added, to)
			od.ToFile = to.FileName
			od.Fields = wholeObject(to, Added)
			res.Objects = append(res.Objects, od)
			res.Summary.Added++
			continue
		}
		fields := Fields(fo.Content.Object, to.Content.Object, fo.Secret || to.Secret || isSecret(to.Content))
		if len(fields) == 0 {
			res.Summary.Unchanged++
			continue
		}
		od := newObject(Changed, to)
		if fo.Content.GetAPIVersion() != to.Content.GetAPIVersion() {
			od.FromAPIVersion = fo.Content.GetAPIVersion()
		}
		od.FromFile, od.ToFile = fo.FileName, to.FileName
		od.Fields = fields
		res.Objects = append(res.Objects, od)
		res.Summary.Changed++
	}
	for _, fo := range a.Objects {
		if seen[keyOf(fo.Content)] {
			continue
		}
		od := newObject(Removed, fo)
		od.FromFile = fo.FileName
		od.Fields = wholeObject(fo, Removed)
		res.Objects = append(res.Objects, od)
		res.Summary.Removed++
	}
	return res
}

func newObject(c Change, o bundle.Object) Object {
	u := o.Content
	return Object{Change: c, APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

func isSecret(u *unstructured.Unstructured) bool {
	return u.GetKind() == "Secret" && u.GetAPIVersion() == "v1"
}

// wholeObject lists the text payloads of an added or removed object as
// unified diffs against nothing, so a new Containerfile or repo file is
// readable in the output; other fields are summarised by the object line.
func wholeObject(o bundle.Object, c Change) []Field {
	if o.Secret || isSecret(o.Content) {
		return nil
	}
	var out []Field
	walkText(normalize(o.Content.Object), "", func(path, text string) {
		f := Field{Path: path, Change: c}
		if c == Added {
			f.UnifiedDiff = Unified("", text, 3)
		} else {
			f.UnifiedDiff = Unified(text, "", 3)
		}
		out = append(out, f)
	})
	return out
}

func walkText(v any, path string, fn func(path, text string)) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			walkText(t[k], joinPath(path, k), fn)
		}
	case keyedList:
		for _, k := range sortedKeys(t) {
			walkText(t[k], path+"["+k+"]", fn)
		}
	case []any:
		for i, e := range t {
			walkText(e, path+"["+strconv.Itoa(i)+"]", fn)
		}
	case string:
		if text, ok := textOf(t); ok {
			fn(path, text)
		}
	}
}

func sortedKeys[M ~map[string]any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Fields compares two unstructured contents and lists the differing fields.
// With redact set, values are withheld (Secrets).
func Fields(a, b map[string]any, redact bool) []Field {
	return compareFields(a, b, redact, false)
}

// keyedList is a list of maps turned into a map by the items' key field
// (containerfileArch, name, ...) so items are matched by key, not index.
type keyedList map[string]any

// listKeys are the fields that identify list items in the kinds mosc
// renders, in order of preference.
var listKeys = []string{"containerfileArch", "name", "key", "path", "type", "mountPath"}

// normalize deep-copies v, turning keyed lists into keyedList.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalize(e)
		}
		return out
	case []any:
		if k := listKey(t); k != "" {
			out := make(keyedList, len(t))
			for _, e := range t {
				m := e.(map[string]any)
				out[m[k].(string)] = normalize(m)
			}
			return out
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// listKey returns the key field shared, with unique string values, by every
// item of l; "" when there is none.
func listKey(l []any) string {
	if len(l) == 0 {
		return ""
	}
next:
	for _, k := range listKeys {
		seen := map[string]bool{}
		for _, e := range l {
			m, ok := e.(map[string]any)
			if !ok {
				return ""
			}
			s, ok := m[k].(string)
			if !ok || s == "" || seen[s] || strings.ContainsAny(s, "[]") {
				continue next
			}
			seen[s] = true
		}
		return k
	}
	return ""
}

func isCompound(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		return len(t) > 0
	case keyedList:
		return len(t) > 0
	case []any:
		return len(t) > 0
	}
	return false
}

// textValue says whether v is a text payload (multi-line, or a data: URL
// holding multi-line text) and returns the text.
func textValue(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	return textOf(s)
}

func textOf(s string) (string, bool) {
	if strings.HasPrefix(s, "data:") {
		if t, ok := decodeDataURL(s); ok && strings.Contains(t, "\n") {
			return t, true
		}
		return s, false
	}
	return s, strings.Contains(s, "\n")
}

// decodeDataURL decodes an RFC 2397 data URL as Ignition writes file contents.
func decodeDataURL(s string) (string, bool) {
	meta, data, ok := strings.Cut(strings.TrimPrefix(s, "data:"), ",")
	if !ok {
		return "", false
	}
	if strings.HasSuffix(meta, ";base64") {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	t, err := url.PathUnescape(data)
	if err != nil {
		return "", false
	}
	return t, true
}

// plain turns keyedList back into the list it came from, for output.
func plain(v any) any {
	switch t := v.(type) {
	case keyedList:
		out := make([]any, 0, len(t))
		for _, k := range sortedKeys(t) {
			out = append(out, plain(t[k]))
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// joinPath appends a map key to a path.
func joinPath(path, k string) string {
	return strings.TrimPrefix(path+keySegment(k), ".")
}

// keySegment is ".key", or ["key"] for keys that are not plain identifiers
// (annotation keys, ConfigMap file names stay readable: data["doca.repo"]).
func keySegment(k string) string {
	plainKey := k != ""
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			plainKey = false
			break
		}
	}
	if plainKey {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}
