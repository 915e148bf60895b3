// Package mirrors applies a cluster's image mirror rules — config.openshift.io/v1
// ImageDigestMirrorSet and ImageTagMirrorSet, and the legacy
// operator.openshift.io/v1alpha1 ImageContentSourcePolicy — to an image
// reference, the way the node's /etc/containers/registries.conf does, so gate
// reads the release payload where the cluster (and the layered build, which
// mounts the node's registries.conf) would pull it from.
//
// The Machine Config Operator writes registries.conf with
// github.com/openshift/runtime-utils pkg/registries EditRegistriesConfig
// (machine-config-operator, release-4.20,
// pkg/controller/container-runtime-config/helpers.go updateRegistriesConfig);
// containers/image then picks the registry entry with the longest matching
// prefix and tries its mirrors in order, then the source unless the entry is
// blocked (containers/image v5.35, pkg/sysregistriesv2/system_registries_v2.go
// FindRegistry, PullSourcesFromReference; docker/docker_image_src.go
// newImageSource; docker/docker_client.go refuses a blocked registry). This
// package reproduces those semantics:
//
//   - rules of one source are merged: each rule's mirrors in its order, then
//     the source; several rules of a source are combined by a deterministic
//     topological sort (runtime-utils pkg/registries mergedMirrors, topo.go);
//     rules naming no mirror but the source itself are ignored;
//   - digest rules (IDMS, ICSP) apply to digest references only, tag rules
//     (ITMS) to tag references only (pull-from-mirror digest-only/tag-only);
//   - the longest matching source scope wins (host, host/ns, host/ns/repo,
//     or a *.domain wildcard); the rest of the reference is appended to each
//     mirror;
//   - mirrorSourcePolicy NeverContactSource on any rule of a source blocks the
//     source: only its mirrors are tried (MCO sets blocked = true); ICSP has no
//     policy (AllowContactingSource).
package mirrors

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// Rule is one source → mirrors entry of an IDMS, ITMS or ICSP.
type Rule struct {
	Source  string
	Mirrors []string
	// NeverContactSource: mirrorSourcePolicy NeverContactSource.
	NeverContactSource bool
	// Tag: the rule comes from an ImageTagMirrorSet (tag references only);
	// else from an ImageDigestMirrorSet or ImageContentSourcePolicy (digest
	// references only).
	Tag bool
	// Origin names where the rule was read, for messages:
	// "ImageDigestMirrorSet/release spec.imageDigestMirrors[0]" or
	// "mirrors.yaml:12".
	Origin string
}

// Policy names the rule's mirrorSourcePolicy as the API spells it.
func (r Rule) Policy() string {
	if r.NeverContactSource {
		return "NeverContactSource"
	}
	return "AllowContactingSource"
}

// Patterns of source and mirror, as openshift/api validates them
// (config/v1/types_image_digest_mirror_set.go, kubebuilder:validation:Pattern)
// and the MCO re-checks them (container-runtime-config/helpers.go
// sourceRegex, mirrorRegex).
var (
	sourceRE = lazyre.New(`^\*(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+$|^((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?)(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$`)
	mirrorRE = lazyre.New(`^((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?)(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$`)
)

// Validate checks the rules as the MCO does before it writes
// registries.conf (validateRegistriesConfScopes): source and mirror formats,
// one mirrorSourcePolicy per source across all objects, and no
// NeverContactSource rule listing its source as a mirror. The MCO refuses
// the whole configuration then, so gate does too.
func Validate(rules []Rule) error {
	var errs []error
	policy := map[string]Rule{}
	for _, r := range rules {
		if !sourceRE.MatchString(r.Source) {
			errs = append(errs, fmt.Errorf("%s: source %q: not host[:port][/namespace…[/repo]] or *.domain", r.Origin, r.Source))
			continue
		}
		if p, ok := policy[r.Source]; ok && p.NeverContactSource != r.NeverContactSource {
			errs = append(errs, fmt.Errorf("%s: source %q has mirrorSourcePolicy %s, but %s gives it %s: the Machine Config Operator refuses conflicting policies for one source", r.Origin, r.Source, r.Policy(), p.Origin, p.Policy()))
		} else if !ok {
			policy[r.Source] = r
		}
		for _, m := range r.Mirrors {
			if !mirrorRE.MatchString(m) {
				errs = append(errs, fmt.Errorf("%s: mirror %q: not host[:port][/namespace…[/repo]]", r.Origin, m))
			}
			if r.NeverContactSource && m == r.Source {
				errs = append(errs, fmt.Errorf("%s: mirrorSourcePolicy NeverContactSource with the source %q among its mirrors", r.Origin, r.Source))
			}
		}
	}
	return errors.Join(errs...)
}

// endpoint is one mirror of a registry entry.
type endpoint struct {
	location string
	tagOnly  bool // ITMS: pull-from-mirror = "tag-only"; else "digest-only"
}

// entry is one [[registry]] table of registries.conf.
type entry struct {
	prefix  string
	mirrors []endpoint
	blocked bool
	origins []string
}

// Set is the compiled mirror configuration: what registries.conf says.
type Set struct {
	entries []entry
	rules   []Rule
}

// Rules returns the rules the set was compiled from.
func (s *Set) Rules() []Rule {
	if s == nil {
		return nil
	}
	return s.rules
}

// Empty says whether no rule configures a mirror.
func (s *Set) Empty() bool { return s == nil || len(s.entries) == 0 }

// Compile validates the rules and merges them into registry entries, as
// runtime-utils EditRegistriesConfig does (digest sets first, then tag
// sets, each source's mirrors in merged order).
func Compile(rules []Rule) (*Set, error) {
	if err := Validate(rules); err != nil {
		return nil, err
	}
	s := &Set{rules: rules}
	for _, tag := range []bool{false, true} {
		type group struct {
			lists   [][]string
			blocked bool
			origins []string
		}
		groups := map[string]*group{}
		for _, r := range rules {
			if r.Tag != tag || !hasRealMirror(r.Source, r.Mirrors) {
				continue // mergedMirrorSets ignores a set without a real mirror, policy and all
			}
			g := groups[r.Source]
			if g == nil {
				g = &group{}
				groups[r.Source] = g
			}
			g.lists = append(g.lists, r.Mirrors)
			g.blocked = g.blocked || r.NeverContactSource
			g.origins = append(g.origins, r.Origin)
		}
		sources := make([]string, 0, len(groups))
		for src := range groups {
			sources = append(sources, src)
		}
		sort.Strings(sources)
		for _, src := range sources {
			g := groups[src]
			merged := mergeMirrors(src, g.lists)
			e := s.entry(src)
			e.blocked = e.blocked || g.blocked
			e.origins = append(e.origins, g.origins...)
			for _, m := range merged {
				e.mirrors = append(e.mirrors, endpoint{location: m, tagOnly: tag})
			}
		}
	}
	return s, nil
}

func (s *Set) entry(prefix string) *entry {
	for i := range s.entries {
		if s.entries[i].prefix == prefix {
			return &s.entries[i]
		}
	}
	s.entries = append(s.entries, entry{prefix: prefix})
	return &s.entries[len(s.entries)-1]
}

func hasRealMirror(source string, mirrors []string) bool {
	for _, m := range mirrors {
		if m != source {
			return true
		}
	}
	return false
}

// mergeMirrors orders the mirrors of one source's rules: every rule's
// mirrors chained in order and then to the source, sorted topologically
// with ties (and cycles) broken by name; the source, tried last anyway, is
// dropped from the end (runtime-utils pkg/registries mergedMirrors).
func mergeMirrors(source string, lists [][]string) []string {
	g := newTopoGraph()
	for _, ms := range lists {
		for i := 0; i+1 < len(ms); i++ {
			g.addEdge(ms[i], ms[i+1])
		}
		inList := false
		for _, m := range ms {
			inList = inList || m == source
		}
		if !inList {
			g.addEdge(ms[len(ms)-1], source)
		}
	}
	out := g.sorted()
	if len(out) > 0 && out[len(out)-1] == source {
		out = out[:len(out)-1]
	}
	return out
}

// Source is one place to try for a reference.
type Source struct {
	// Ref is the reference to read there.
	Ref string `json:"ref"`
	// Mirror: a mirror; false for the reference's own registry.
	Mirror bool `json:"mirror"`
}

// Plan is the ordered list of places to read a reference from.
type Plan struct {
	// Ref is the reference as named (the payload's pull spec).
	Ref string `json:"ref"`
	// Sources in the order to try: mirrors, then the source unless blocked.
	Sources []Source `json:"sources"`
	// Scope is the source scope of the rule that matched ("" = none).
	Scope string `json:"scope,omitempty"`
	// Blocked: NeverContactSource; the source is not in Sources.
	Blocked bool `json:"neverContactSource,omitempty"`
	// Origins name the rules of the matched scope.
	Origins []string `json:"rules,omitempty"`
	// Skipped counts the matched scope's mirrors that do not apply to this
	// kind of reference (tag mirrors for a digest, digest mirrors for a tag).
	Skipped int `json:"skipped,omitempty"`
	// Digest: the reference is by digest.
	Digest bool `json:"digest"`
}

// Mirrored says whether any mirror applies.
func (p Plan) Mirrored() bool {
	for _, s := range p.Sources {
		if s.Mirror {
			return true
		}
	}
	return false
}

// Sources returns where to read ref, in order. A nil or empty set gives the
// reference itself.
func (s *Set) Sources(ref string) (Plan, error) {
	named, digest, err := canonical(ref)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Ref: ref, Digest: digest}
	var best *entry
	bestLen := 0
	if s != nil {
		// FindRegistry: the longest matching prefix (its length as written,
		// wildcards included).
		for i := range s.entries {
			e := &s.entries[i]
			if matchPrefix(named, e.prefix) >= 0 && len(e.prefix) > bestLen {
				best, bestLen = e, len(e.prefix)
			}
		}
	}
	if best == nil {
		p.Sources = []Source{{Ref: ref}}
		return p, nil
	}
	p.Scope, p.Blocked, p.Origins = best.prefix, best.blocked, best.origins
	n := matchPrefix(named, best.prefix)
	for _, m := range best.mirrors {
		if m.tagOnly == digest {
			p.Skipped++
			continue
		}
		rewritten := m.location + named[n:]
		if _, err := name.ParseReference(rewritten); err != nil {
			return Plan{}, fmt.Errorf("mirror %s for %s: %s is not a valid reference: %w", m.location, ref, rewritten, err)
		}
		p.Sources = append(p.Sources, Source{Ref: rewritten, Mirror: true})
	}
	if !best.blocked {
		p.Sources = append(p.Sources, Source{Ref: ref})
	}
	return p, nil
}

// canonical spells ref as containers/image matches it: registry/repo[:tag]
// [@digest], docker.io not index.docker.io.
func canonical(ref string) (string, bool, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		// A short name (no registry): ggcr's weak parse would invent
		// index.docker.io; the payload always names its registry.
		return "", false, fmt.Errorf("image reference %q: %w", ref, err)
	}
	reg := r.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	base := reg + "/" + r.Context().RepositoryStr()
	switch t := r.(type) {
	case name.Digest:
		return base + "@" + t.DigestStr(), true, nil
	case name.Tag:
		return base + ":" + t.TagStr(), false, nil
	}
	return "", false, fmt.Errorf("image reference %q: neither a tag nor a digest", ref)
}

// matchPrefix returns the length of ref's part that prefix matches, or -1
// (sysregistriesv2 refMatchingPrefix): the prefix must be followed by ':',
// '/', '@' or the end; "*.example.com" matches any host under example.com.
func matchPrefix(ref, prefix string) int {
	if strings.HasPrefix(prefix, "*.") {
		// refMatchingSubdomainPrefix: the domain must sit in the host part.
		i := strings.Index(ref, prefix[1:])
		if i < 0 || strings.Contains(ref[:i], "/") {
			return -1
		}
		i += len(prefix) - 1
		if i == len(ref) || strings.ContainsRune(":/@", rune(ref[i])) {
			return i
		}
		return -1
	}
	switch {
	case len(ref) < len(prefix) || !strings.HasPrefix(ref, prefix):
		return -1
	case len(ref) == len(prefix):
		return len(prefix)
	}
	switch ref[len(prefix)] {
	case ':', '/', '@':
		return len(prefix)
	}
	return -1
}

// Attempt is one source tried and how it failed.
type Attempt struct {
	Source
	Err error
}

// Error says that no source of a plan answered: each mirror's error, then
// the source's, or that the source was not contacted.
type Error struct {
	Plan     Plan
	Attempts []Attempt
}

func (e *Error) Error() string {
	if len(e.Attempts) == 1 && !e.Attempts[0].Mirror {
		return e.Attempts[0].Err.Error() // no mirror involved: the plain error
	}
	var b strings.Builder
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		what := "source"
		if a.Mirror {
			what = "mirror"
		}
		fmt.Fprintf(&b, "%s %s: %v", what, a.Ref, a.Err)
	}
	if e.Plan.Blocked {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "the source %s was not contacted: mirrorSourcePolicy NeverContactSource (%s)", e.Plan.Ref, strings.Join(e.Plan.Origins, ", "))
	}
	if len(e.Attempts) == 0 && !e.Plan.Blocked {
		b.WriteString("no source to read from")
	}
	return b.String()
}

// Unwrap gives the attempts' errors (errors.Is/As see the registry's).
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		out[i] = a.Err
	}
	return out
}

// Try calls read with each source of p in order and returns the first
// answer and the source that gave it; when none answers, an *Error. As
// containers/image does, the source that answers is used for everything
// that follows (the caller reads the image's layers from it).
func Try[T any](p Plan, read func(ref string) (T, error)) (T, Source, error) {
	e := &Error{Plan: p}
	for _, s := range p.Sources {
		v, err := read(s.Ref)
		if err == nil {
			return v, s, nil
		}
		e.Attempts = append(e.Attempts, Attempt{Source: s, Err: err})
	}
	var zero T
	return zero, Source{}, e
}
