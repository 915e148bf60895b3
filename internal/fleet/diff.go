package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/diff"
)

// DiffSchema is the JSON schema id of diff --fleet.
const DiffSchema = "mosc.dev/diff-fleet/v1"

// Side is one side of a fleet diff: each cluster's base and bundle.
type Side struct {
	Name     string // what the side is, for headers: a file, a tree
	Clusters map[string]SideCluster
}

// SideCluster is one cluster on a side.
type SideCluster struct {
	Base   string
	Bundle *bundle.Bundle
}

// SideOf is a rendered fleet as a diff side.
func SideOf(name string, r *Result) *Side {
	s := &Side{Name: name, Clusters: make(map[string]SideCluster, len(r.Clusters))}
	for _, c := range r.Clusters {
		s.Clusters[c.Name] = SideCluster{Base: c.Base, Bundle: c.Bundle}
	}
	return s
}

// ReadTree reads a tree render --fleet wrote (clusters/<c>/kustomization.yaml
// naming ../../bases/<base>): the "from" side of what a re-render would
// change, whether the inventory, the catalog or mosc itself changed.
func ReadTree(dir string) (*Side, error) {
	entries, err := os.ReadDir(filepath.Join(dir, ClustersDir))
	if err != nil {
		return nil, fmt.Errorf("%s: not a tree of mosc render --fleet: %v", dir, err)
	}
	s := &Side{Name: dir, Clusters: map[string]SideCluster{}}
	bases := map[string]*bundle.Bundle{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		k := filepath.Join(dir, ClustersDir, e.Name(), bundle.KustomizationFile)
		data, err := os.ReadFile(k)
		if err != nil {
			return nil, err
		}
		base := ""
		prefix := "- ../../" + BasesDir + "/"
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, prefix) {
				base = strings.TrimSpace(strings.TrimPrefix(l, prefix))
			}
		}
		if base == "" {
			return nil, fmt.Errorf("%s: names no %s/ base (is it an overlay mosc render --fleet wrote?)", k, BasesDir)
		}
		b, ok := bases[base]
		if !ok {
			if b, _, err = bundle.ReadPath(filepath.Join(dir, BasesDir, base)); err != nil {
				return nil, fmt.Errorf("%s: %v", k, err)
			}
			bases[base] = b
		}
		s.Clusters[e.Name()] = SideCluster{Base: base, Bundle: b}
	}
	return s, nil
}

// DiffGroup is a set of clusters whose bundles change identically.
type DiffGroup struct {
	// Change is "changed", "added" (a cluster only on the "to" side) or
	// "removed" (only on the "from" side).
	Change   diff.Change  `json:"change"`
	Clusters []string     `json:"clusters"`
	FromBase string       `json:"fromBase,omitempty"`
	ToBase   string       `json:"toBase,omitempty"`
	Diff     *diff.Result `json:"diff,omitempty"`
	// Headline is the one-line summary of what changes.
	Headline string `json:"headline"`
}

// DiffReport is diff --fleet's outcome.
type DiffReport struct {
	From      string       `json:"from"`
	To        string       `json:"to"`
	Groups    []*DiffGroup `json:"groups"`
	Unchanged []string     `json:"unchanged"`
}

// Empty says whether nothing changes for any cluster.
func (r *DiffReport) Empty() bool { return len(r.Groups) == 0 }

// Diff compares two sides cluster by cluster and groups clusters whose
// changes are identical: a catalog change that touches 37 clusters' bases
// the same way is one group of 37. Each distinct pair of bundles is
// compared once.
func Diff(from, to *Side) *DiffReport {
	rep := &DiffReport{From: from.Name, To: to.Name, Unchanged: []string{}}
	names := map[string]bool{}
	for n := range from.Clusters {
		names[n] = true
	}
	for n := range to.Clusters {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	type pair struct{ a, b *bundle.Bundle }
	results := map[pair]*diff.Result{}
	groups := map[string]*DiffGroup{}
	var order []string
	add := func(key string, g *DiffGroup, cluster string) {
		if have := groups[key]; have != nil {
			have.Clusters = append(have.Clusters, cluster)
			return
		}
		g.Clusters = []string{cluster}
		groups[key] = g
		order = append(order, key)
	}
	for _, n := range sorted {
		f, inFrom := from.Clusters[n]
		t, inTo := to.Clusters[n]
		switch {
		case !inFrom:
			add("added\x00"+t.Base, &DiffGroup{Change: diff.Added, ToBase: t.Base, Headline: fmt.Sprintf("added on base %s (%d objects)", t.Base, len(t.Bundle.Objects))}, n)
		case !inTo:
			add("removed\x00"+f.Base, &DiffGroup{Change: diff.Removed, FromBase: f.Base, Headline: fmt.Sprintf("removed from the inventory (was on base %s; mosc render --fleet removes its overlay, the cluster keeps its layer until mosc remove)", f.Base)}, n)
		default:
			p := pair{f.Bundle, t.Bundle}
			res, ok := results[p]
			if !ok {
				res = diff.Bundles(f.Bundle, t.Bundle)
				results[p] = res
			}
			if res.Empty() {
				rep.Unchanged = append(rep.Unchanged, n)
				continue
			}
			// Clusters whose changes read the same are one group, even on
			// different bases (a catalog change across releases).
			objs, _ := json.Marshal(res.Objects)
			key := "changed\x00" + string(objs)
			g := &DiffGroup{Change: diff.Changed, FromBase: f.Base, ToBase: t.Base, Diff: res, Headline: headline(res)}
			if have := groups[key]; have != nil {
				if have.FromBase != f.Base {
					have.FromBase = ""
				}
				if have.ToBase != t.Base {
					have.ToBase = ""
				}
			}
			add(key, g, n)
		}
	}
	for _, k := range order {
		rep.Groups = append(rep.Groups, groups[k])
	}
	// Most clusters first: the change that matters most to the fleet.
	sort.SliceStable(rep.Groups, func(i, j int) bool { return len(rep.Groups[i].Clusters) > len(rep.Groups[j].Clusters) })
	return rep
}

// headline sums a diff up in one line: "MachineOSConfig worker
// spec.containerFile[NoArch].content changed; …".
func headline(r *diff.Result) string {
	var parts []string
	for i, o := range r.Objects {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more objects", len(r.Objects)-3))
			break
		}
		switch o.Change {
		case diff.Added, diff.Removed:
			parts = append(parts, fmt.Sprintf("%s %s %s", o.Kind, o.Name, o.Change))
		default:
			var fields []string
			for j, f := range o.Fields {
				if j == 2 {
					fields = append(fields, fmt.Sprintf("+%d", len(o.Fields)-2))
					break
				}
				fields = append(fields, f.Path)
			}
			parts = append(parts, fmt.Sprintf("%s %s %s changed", o.Kind, o.Name, strings.Join(fields, ", ")))
		}
	}
	return strings.Join(parts, "; ")
}

// WriteDiffText writes each group: a headline naming how many clusters
// (and which) change and what, then the object diff as mosc diff prints
// it; then the unchanged clusters.
func WriteDiffText(w io.Writer, r *DiffReport) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", r.From, r.To)
	for _, g := range r.Groups {
		fmt.Fprintf(&sb, "\n%s: %s\n", countClusters(g.Clusters), g.Headline)
		list := g.Clusters
		if len(list) > 12 {
			list = append(list[:10:10], fmt.Sprintf("and %d more (-o json lists them all)", len(g.Clusters)-10))
		}
		fmt.Fprintf(&sb, "  %s\n", strings.Join(list, ", "))
		if g.Diff == nil {
			continue
		}
		switch {
		case g.FromBase != "" && g.FromBase == g.ToBase:
			fmt.Fprintf(&sb, "  base %s\n", g.FromBase)
		case g.FromBase != "" && g.ToBase != "":
			fmt.Fprintf(&sb, "  base %s → %s\n", g.FromBase, g.ToBase)
		}
		var body strings.Builder
		d := *g.Diff
		d.From, d.To = "", ""
		if err := diff.WriteText(&body, &d); err != nil {
			return err
		}
		// Drop WriteText's own ---/+++ header; indent the rest.
		lines := strings.Split(strings.TrimRight(body.String(), "\n"), "\n")
		for _, l := range lines[2:] {
			if l == "" {
				sb.WriteString("\n")
				continue
			}
			sb.WriteString("  " + l + "\n")
		}
	}
	fmt.Fprintf(&sb, "\n%s changed, %d unchanged\n", countClusters(changed(r)), len(r.Unchanged))
	_, err := io.WriteString(w, sb.String())
	return err
}

func changed(r *DiffReport) []string {
	var out []string
	for _, g := range r.Groups {
		out = append(out, g.Clusters...)
	}
	return out
}

func countClusters(cs []string) string {
	if len(cs) == 1 {
		return "1 cluster"
	}
	return fmt.Sprintf("%d clusters", len(cs))
}

// WriteDiffJSON writes the report as one indented JSON document.
func WriteDiffJSON(w io.Writer, r *DiffReport) error {
	doc := struct {
		Schema string `json:"schema"`
		*DiffReport
	}{DiffSchema, r}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
