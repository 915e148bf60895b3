package profile

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// FactSource says where facts of a profile come from (issue 11 finding 7):
// an upstream file at a commit, a document read on a date, or an explicit
// UNVERIFIED mark with the reason. Facts are the profile's field paths
// ("spec.rhel", "spec.repo.unsigned"); a path covers everything below it.
type FactSource struct {
	Facts []string `yaml:"facts" json:"facts" mosc:"required"`
	// Repo, Path, Commit (and the branch or tag Ref it was read on): an
	// upstream file, e.g. openshift/os docs/faq.md at a commit.
	Repo   string `yaml:"repo" json:"repo,omitempty"`
	Path   string `yaml:"path" json:"path,omitempty"`
	Ref    string `yaml:"ref" json:"ref,omitempty"`
	Commit string `yaml:"commit" json:"commit,omitempty"`
	// URL and the date it was Read (YYYY-MM-DD): a document.
	URL  string `yaml:"url" json:"url,omitempty"`
	Read string `yaml:"read" json:"read,omitempty"`
	// Note says what the source shows, briefly.
	Note string `yaml:"note" json:"note,omitempty"`
	// Unverified marks facts no source confirms yet, with the reason; mosc
	// shows them as UNVERIFIED (profiles show, profiles matrix).
	Unverified string `yaml:"unverified" json:"unverified,omitempty"`
}

// Verified reports whether the entry names a source (not only UNVERIFIED).
func (f FactSource) Verified() bool { return f.Unverified == "" }

// String is the one-line citation.
func (f FactSource) String() string {
	var s string
	switch {
	case f.Repo != "":
		s = f.Repo + " " + f.Path
		if f.Ref != "" {
			s += " (" + f.Ref + ")"
		}
		s += " @ " + f.Commit
	case f.URL != "":
		s = f.URL + " (read " + f.Read + ")"
	}
	if f.Unverified != "" {
		if s != "" {
			s += "; "
		}
		s += "UNVERIFIED: " + f.Unverified
	}
	return s
}

var (
	commitRE   = lazyre.New(`^[0-9a-f]{40}$`)
	dateRE     = lazyre.New(`^\d{4}-\d{2}-\d{2}$`)
	repoSlugRE = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// checkSources validates a profile's sources: list: each entry is an
// upstream file at a commit, a URL read on a date, or UNVERIFIED with a
// reason, and every fact it names is a field of the profile's kind.
func checkSources(c *checker, sources []FactSource, kind reflect.Type) {
	for i, s := range sources {
		path := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.Repo != "" && s.URL != "":
			c.fail(path, "give either repo/path/commit or url/read, not both")
		case s.Repo != "":
			if !repoSlugRE.MatchString(s.Repo) {
				c.fail(path+".repo", "invalid repository %q: want OWNER/NAME", s.Repo)
			}
			if s.Path == "" {
				c.fail(path+".path", "missing: the file in %s", s.Repo)
			}
			if !commitRE.MatchString(s.Commit) {
				c.fail(path+".commit", "invalid commit %q: want the 40-hex commit the file was read at", s.Commit)
			}
		case s.URL != "":
			c.url(path+".url", s.URL)
			if !dateRE.MatchString(s.Read) {
				c.fail(path+".read", "invalid date %q: want the day the page was read, YYYY-MM-DD", s.Read)
			}
		case s.Unverified == "":
			c.fail(path, "no source: give repo/path/commit, url/read, or unverified: REASON")
		}
		if s.Repo == "" && (s.Path != "" || s.Commit != "" || s.Ref != "") {
			c.fail(path+".repo", "path/ref/commit need repo")
		}
		if s.URL == "" && s.Read != "" {
			c.fail(path+".url", "read needs url")
		}
		for j, f := range s.Facts {
			if !isFactPath(kind, f) {
				c.fail(fmt.Sprintf("%s.facts[%d]", path, j), "%q is not a fact field of this kind; facts: %s", f, knownList(factPaths(kind)))
			}
		}
	}
}

// factPaths lists the fields tagged mosc:"fact" of a profile kind (a struct
// type with Spec), as "spec.a.b" paths; list elements add no index.
func factPaths(kind reflect.Type) []string {
	if v, ok := factPathsCache.Load(kind); ok {
		return v.([]string)
	}
	out := computeFactPaths(kind)
	factPathsCache.Store(kind, out)
	return out
}

// factPathsCache memoizes factPaths (per kind; callers only read).
var factPathsCache sync.Map // reflect.Type -> []string

func computeFactPaths(kind reflect.Type) []string {
	var out []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for _, f := range fieldsOf(t) {
			p := join(path, f.name)
			if f.fact {
				out = append(out, p)
				continue
			}
			walk(t.Field(f.index).Type, p)
		}
	}
	walk(kind, "")
	sort.Strings(out)
	return out
}

// isFactPath accepts a field of the kind that is a fact, below one (a
// source may cite a single field of spec.ocl) or an ancestor of facts.
func isFactPath(kind reflect.Type, p string) bool {
	if !fieldExists(kind, p) {
		return false
	}
	for _, f := range factPaths(kind) {
		if f == p || strings.HasPrefix(f, p+".") || strings.HasPrefix(p, f+".") {
			return true
		}
	}
	return false
}

// fieldExists reports whether a dotted yaml path names a field of t
// (list elements are walked through without an index).
func fieldExists(t reflect.Type, path string) bool {
	for _, name := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return false
		}
		found := false
		for _, f := range fieldsOf(t) {
			if f.name == name {
				t, found = t.Field(f.index).Type, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// FactsSet returns the fact field paths a decoded profile sets (non-zero),
// e.g. "spec.repo.unsigned", "spec.variants.kernelModules".
func FactsSet(p Profile) []string {
	seen := map[string]bool{}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
			return
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), path)
			}
			return
		case reflect.Struct:
		default:
			return
		}
		for _, f := range fieldsOf(v.Type()) {
			fv := v.Field(f.index)
			p := join(path, f.name)
			if f.fact {
				if !fv.IsZero() {
					seen[p] = true
				}
				continue
			}
			walk(fv, p)
		}
	}
	walk(reflect.ValueOf(p).Elem(), "")
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ProfileSources returns a profile's sources: list.
func ProfileSources(p Profile) []FactSource {
	switch p := p.(type) {
	case *Release:
		return p.Sources
	case *Platform:
		return p.Sources
	case *Stack:
		return p.Sources
	}
	return nil
}

// SourcesOf returns the entries that cover fact path f (an entry naming f,
// an ancestor or a descendant of it).
func SourcesOf(p Profile, f string) []FactSource {
	var out []FactSource
	for _, s := range ProfileSources(p) {
		for _, g := range s.Facts {
			if g == f || strings.HasPrefix(f, g+".") || strings.HasPrefix(g, f+".") {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// Uncovered lists the facts a profile sets that no sources: entry covers,
// neither with a source nor with an UNVERIFIED mark.
func Uncovered(p Profile) []string {
	var out []string
	for _, f := range FactsSet(p) {
		if len(SourcesOf(p, f)) == 0 {
			out = append(out, f)
		}
	}
	return out
}

// UnverifiedFacts lists the facts of a profile marked UNVERIFIED.
func UnverifiedFacts(p Profile) []string {
	var out []string
	for _, s := range ProfileSources(p) {
		if !s.Verified() {
			out = append(out, s.Facts...)
		}
	}
	return out
}
