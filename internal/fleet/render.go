// Package fleet renders a fleet inventory (kind Fleet) into a GitOps tree:
// one kustomize base per distinct bundle, one overlay per cluster, and the
// delivery objects of Argo CD (ApplicationSet) and ACM (Policy, Placement,
// PlacementBinding). It also runs per-cluster commands (gate, status, diff)
// across the fleet with a bound on concurrency.
package fleet

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

// Cluster is one rendered cluster: its plans (one per pool) and the bundle
// all its pools make together.
type Cluster struct {
	*profile.Cluster
	Plans  []*profile.Plan
	Bundle *bundle.Bundle
	// Base is the ID of the base the cluster's overlay builds on.
	Base string
	base *Base
}

// Base is one distinct bundle and the clusters that share it.
type Base struct {
	ID       string
	Bundle   *bundle.Bundle
	Clusters []string
	// Pools, OpenShift and Site describe the bundle (for names and docs).
	Pools     []string
	OpenShift string
	Site      string
	key       string
}

// Result is a rendered fleet.
type Result struct {
	Name     string
	Clusters []*Cluster
	Bases    []*Base
	Warnings []profile.Warning
}

// ClusterByName returns the named cluster, or nil.
func (r *Result) ClusterByName(name string) *Cluster {
	i := sort.Search(len(r.Clusters), func(i int) bool { return r.Clusters[i].Name >= name })
	if i < len(r.Clusters) && r.Clusters[i].Name == name {
		return r.Clusters[i]
	}
	return nil
}

// BaseByID returns the base with the ID, or nil.
func (r *Result) BaseByID(id string) *Base {
	for _, b := range r.Bases {
		if b.ID == id {
			return b
		}
	}
	return nil
}

// Resolve resolves every cluster's plans; errors of all clusters come back
// together, each once, naming the clusters it applies to.
func Resolve(f *profile.Fleet, cat *profile.Catalog) ([]*Cluster, []profile.Warning, error) {
	var errs errorSet
	var warns warningSet
	var out []*Cluster
	for _, c := range f.Clusters() {
		rc := &Cluster{Cluster: c}
		for _, s := range c.Sites {
			p, err := cat.Resolve(s)
			if err != nil {
				errs.add(c.Name, err)
				continue
			}
			rc.Plans = append(rc.Plans, p)
			for _, w := range p.Warnings {
				warns.add(c.Name, w)
			}
		}
		out = append(out, rc)
	}
	if err := errs.err(); err != nil {
		return nil, nil, err
	}
	return out, warns.list(), nil
}

// Render resolves and renders every cluster and groups equal bundles into
// bases. Equal plans are rendered once (a 1,000-cluster fleet on a few
// releases renders a few bundles).
func Render(f *profile.Fleet, cat *profile.Catalog) (*Result, error) {
	clusters, warns, err := Resolve(f, cat)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: f.Metadata.Name, Clusters: clusters}
	type cached struct {
		r     *render.Result
		planW int
	}
	cache := map[string]cached{}
	var errs errorSet
	var rwarns warningSet
	byKey := map[string]*Base{}
	// Equal plans render equal bundles: key bases by the plans first and
	// marshal a bundle for its content key once per distinct plan set.
	byPlans := map[string]*Base{}
	for _, c := range clusters {
		var bundles []*bundle.Bundle
		var keys []string
		for i, p := range c.Plans {
			key, err := planKey(p)
			if err != nil {
				return nil, err
			}
			keys = append(keys, key)
			e, ok := cache[key]
			if !ok {
				r, err := render.Render(p, render.Options{Locate: render.SiteLocator(c.Sites[i])})
				if err != nil {
					errs.add(c.Name, err)
					continue
				}
				e = cached{r, len(p.Warnings)}
				cache[key] = e
			}
			// The renderer's own warnings (the plan's were collected above).
			for _, w := range e.r.Warnings[e.planW:] {
				rwarns.add(c.Name, w)
			}
			bundles = append(bundles, e.r.Bundle)
		}
		if len(bundles) != len(c.Plans) {
			continue
		}
		plansKey := strings.Join(keys, "\x00")
		if base := byPlans[plansKey]; base != nil {
			base.Clusters = append(base.Clusters, c.Name)
			c.Bundle, c.base = base.Bundle, base
			continue
		}
		b, err := mergePools(c, bundles)
		if err != nil {
			errs.add(c.Name, err)
			continue
		}
		key, err := bundleKey(b)
		if err != nil {
			return nil, err
		}
		base := byKey[key]
		if base == nil {
			base = &Base{Bundle: b, key: key, OpenShift: c.Plans[0].OpenShift.Requested, Site: c.Plans[0].Site}
			for _, p := range c.Plans {
				base.Pools = append(base.Pools, p.Pool)
			}
			byKey[key] = base
			res.Bases = append(res.Bases, base)
		}
		byPlans[plansKey] = base
		base.Clusters = append(base.Clusters, c.Name)
		c.Bundle, c.base = base.Bundle, base
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	nameBases(res.Bases)
	for _, c := range clusters {
		c.Base = c.base.ID
	}
	res.Warnings = append(warns, rwarns.list()...)
	return res, nil
}

// nameBases gives each base a readable, stable ID: site, release and pools
// (and a number when two different bundles would share that). Stable
// across catalog changes, so a re-render shows as a diff inside the base,
// not as a renamed directory.
func nameBases(bases []*Base) {
	used := map[string]int{}
	for _, b := range bases {
		id := sanitize(b.Site + "-" + b.OpenShift + "-" + strings.Join(b.Pools, "-"))
		used[id]++
		if n := used[id]; n > 1 {
			id = fmt.Sprintf("%s-%d", id, n)
		}
		b.ID = id
	}
}

// sanitize keeps an ID to lowercase DNS-label characters and dots.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-.")
}

// mergePools joins the bundles of a cluster's pools: the objects every pool
// renders the same (the repo ConfigMap, the registry) once, each pool's own
// (MachineConfigs, MachineOSConfig) in slot order. Pools of one cluster
// share etc-yum-repos-d and the registry, so a difference there is an error.
func mergePools(c *Cluster, bundles []*bundle.Bundle) (*bundle.Bundle, error) {
	if len(bundles) == 1 {
		return bundles[0], nil
	}
	seen := map[string]int{}
	out := &bundle.Bundle{}
	for i, b := range bundles {
		for _, o := range b.Objects {
			j, dup := seen[o.FileName]
			if !dup {
				seen[o.FileName] = len(out.Objects)
				out.Objects = append(out.Objects, o)
				continue
			}
			a, _ := bundle.MarshalYAML(out.Objects[j])
			b, _ := bundle.MarshalYAML(o)
			if !bytes.Equal(a, b) {
				first := poolOf(c, bundles, out.Objects[j].FileName)
				return nil, fmt.Errorf("pools %s and %s render different %s/%s, which the pools of one cluster share: give them the same stacks, repos and registry settings",
					first, c.Plans[i].Pool, o.Content.GetKind(), o.Content.GetName())
			}
		}
	}
	sort.SliceStable(out.Objects, func(a, b int) bool { return out.Objects[a].FileName < out.Objects[b].FileName })
	return out, nil
}

func poolOf(c *Cluster, bundles []*bundle.Bundle, file string) string {
	for i, b := range bundles {
		for _, o := range b.Objects {
			if o.FileName == file {
				return c.Plans[i].Pool
			}
		}
	}
	return ""
}

func planKey(p *profile.Plan) (string, error) {
	q := *p
	q.Warnings = nil
	b, err := json.Marshal(&q)
	if err != nil {
		return "", fmt.Errorf("internal error: plan key: %v", err)
	}
	sum := sha256.Sum256(b)
	return string(sum[:]), nil
}

func bundleKey(b *bundle.Bundle) (string, error) {
	h := sha256.New()
	for _, o := range b.Objects {
		y, err := bundle.MarshalYAML(o)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n%d\n", o.FileName, len(y))
		h.Write(y)
	}
	return string(h.Sum(nil)), nil
}

// errorSet collects errors of many clusters, each distinct message once
// with the clusters it applies to (a bad group value fails every cluster
// of the group; the user reads it once).
type errorSet struct {
	order    []string
	clusters map[string][]string
}

func (s *errorSet) add(cluster string, err error) {
	if s.clusters == nil {
		s.clusters = map[string][]string{}
	}
	var msgs []string
	switch l := err.(type) {
	case profile.ErrorList:
		for _, e := range l {
			msgs = append(msgs, e.Error())
		}
	case render.Errors:
		for _, e := range l {
			msgs = append(msgs, e.Error())
		}
	default:
		msgs = strings.Split(err.Error(), "\n")
	}
	for _, m := range msgs {
		if _, ok := s.clusters[m]; !ok {
			s.order = append(s.order, m)
		}
		s.clusters[m] = append(s.clusters[m], cluster)
	}
}

func (s *errorSet) err() error {
	if len(s.order) == 0 {
		return nil
	}
	lines := make([]string, len(s.order))
	for i, m := range s.order {
		lines[i] = m + " (" + ClusterList(s.clusters[m]) + ")"
	}
	return &Error{Lines: lines}
}

// Error is every finding of a fleet operation, one per line.
type Error struct{ Lines []string }

func (e *Error) Error() string { return strings.Join(e.Lines, "\n") }

// ClusterList names up to 5 clusters: "cluster a", "clusters a, b and 37 more".
func ClusterList(cs []string) string {
	cs = uniq(cs)
	if len(cs) == 1 {
		return "cluster " + cs[0]
	}
	if len(cs) <= 5 {
		return "clusters " + strings.Join(cs, ", ")
	}
	return fmt.Sprintf("clusters %s and %d more", strings.Join(cs[:5], ", "), len(cs)-5)
}

func uniq(cs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cs {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

type warningSet struct {
	order    []profile.Warning
	clusters map[profile.Warning][]string
}

func (s *warningSet) add(cluster string, w profile.Warning) {
	if s.clusters == nil {
		s.clusters = map[profile.Warning][]string{}
	}
	if _, ok := s.clusters[w]; !ok {
		s.order = append(s.order, w)
	}
	s.clusters[w] = append(s.clusters[w], cluster)
}

func (s *warningSet) list() []profile.Warning {
	out := make([]profile.Warning, len(s.order))
	for i, w := range s.order {
		w.Message += " (" + ClusterList(s.clusters[w]) + ")"
		out[i] = w
	}
	return out
}
