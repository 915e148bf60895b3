package repo

import (
	"sort"
	"strings"
)

// Closure is what installing some packages takes from one repository: the
// named packages and, transitively, every package of the same repository
// that satisfies one of their requirements.
type Closure struct {
	// Packages are the newest entry of each name in the closure, by name.
	Packages []Entry
	// Missing are the roots the repository does not have.
	Missing []string
	// External are requirements no package of this repository satisfies
	// (the base image or another repository does), sorted.
	External []string
	// Unfollowed are rich (boolean) dependencies, "(a if b)", which the
	// closure does not evaluate; sorted.
	Unfollowed []string
}

// ComputeClosure resolves roots against entries (one repository's primary
// metadata) for the given arches (noarch always matches). Only hard
// requirements are followed: mosc's layers install with
// install_weak_deps=False, so Recommends never enter. Each requirement is
// met by a package of that name, else by one that provides the capability
// or lists the file; when several do and none is in the closure yet, the
// first by name is taken (dnf's choice may differ; each candidate is a
// package this repository would serve).
func ComputeClosure(entries []Entry, roots, arches []string) Closure {
	match := newArchSet(arches)
	newest := map[string]Entry{}
	for _, e := range entries {
		if !match.match(e.Arch) {
			continue
		}
		if cur, ok := newest[e.Name]; !ok || CompareEVR(e.Package, cur.Package) > 0 {
			newest[e.Name] = e
		}
	}
	providers := map[string][]string{} // capability or file -> package names
	for name, e := range newest {
		for _, p := range e.Provides {
			providers[p] = append(providers[p], name)
		}
		for _, f := range e.Files {
			providers[f] = append(providers[f], name)
		}
	}
	for k := range providers {
		sort.Strings(providers[k])
	}

	var c Closure
	in := map[string]bool{}
	external := map[string]bool{}
	unfollowed := map[string]bool{}
	var queue []string
	for _, r := range roots {
		if _, ok := newest[r]; !ok {
			c.Missing = append(c.Missing, r)
			continue
		}
		if !in[r] {
			in[r] = true
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, req := range newest[name].Requires {
			switch {
			case strings.HasPrefix(req, "rpmlib("), req == "":
				continue // rpm's own features, not packages
			case strings.HasPrefix(req, "("):
				unfollowed[req] = true
				continue
			}
			cands := providers[req]
			if _, ok := newest[req]; ok {
				cands = []string{req}
			}
			if len(cands) == 0 {
				external[req] = true
				continue
			}
			taken := false
			for _, p := range cands {
				if in[p] {
					taken = true
					break
				}
			}
			if !taken {
				in[cands[0]] = true
				queue = append(queue, cands[0])
			}
		}
	}
	for name := range in {
		c.Packages = append(c.Packages, newest[name])
	}
	sort.Slice(c.Packages, func(i, j int) bool { return c.Packages[i].Name < c.Packages[j].Name })
	c.External = sortedKeys(external)
	c.Unfollowed = sortedKeys(unfollowed)
	return c
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
