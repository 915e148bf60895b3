package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/bundle"
)

// Layout of a rendered fleet tree (DIR is the -o directory):
//
//	DIR/bases/<base>/        one per distinct bundle: NN-kind-name.yaml + kustomization.yaml
//	DIR/clusters/<cluster>/  kustomization.yaml: the cluster's base
//	DIR/argocd/              ApplicationSet and the sync-wave component (--for argocd)
//	DIR/acm/                 Policies, Placements, PlacementBindings (--for acm)
const (
	BasesDir    = "bases"
	ClustersDir = "clusters"
)

// Write writes the bases and overlays into dir. Directories a previous
// render wrote for bases or clusters that are gone are removed when every
// file in them is mosc's; anything else is left alone and reported.
func Write(dir string, r *Result, version string) (notes []string, err error) {
	keepBases := map[string]bool{}
	for _, b := range r.Bases {
		keepBases[b.ID] = true
		if err := bundle.WriteDir(filepath.Join(dir, BasesDir, b.ID), b.Bundle, version); err != nil {
			return nil, err
		}
	}
	keepClusters := map[string]bool{}
	for _, c := range r.Clusters {
		keepClusters[c.Name] = true
		d := filepath.Join(dir, ClustersDir, c.Name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		if err := bundle.WriteOwnFile(filepath.Join(d, bundle.KustomizationFile), Overlay(c, version), 0o644); err != nil {
			return nil, err
		}
	}
	for sub, keep := range map[string]map[string]bool{BasesDir: keepBases, ClustersDir: keepClusters} {
		n, err := removeStale(filepath.Join(dir, sub), keep)
		if err != nil {
			return nil, err
		}
		notes = append(notes, n...)
	}
	sort.Strings(notes)
	return notes, nil
}

// Overlay is a cluster's kustomization.yaml: its base, in the base's order
// (fifo: kustomize would otherwise re-sort by kind). `kustomize build` of
// it is the cluster's bundle, exactly.
func Overlay(c *Cluster, version string) []byte {
	var b strings.Builder
	b.WriteString(bundle.Header(version))
	fmt.Fprintf(&b, "# cluster %s", c.Name)
	if c.Group != "" {
		fmt.Fprintf(&b, " (group %s)", c.Group)
	}
	b.WriteString("\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsortOptions:\n  order: fifo\nresources:\n")
	fmt.Fprintf(&b, "- ../../%s/%s\n", BasesDir, c.Base)
	return []byte(b.String())
}

// removeStale removes subdirectories of parent not in keep whose files are
// all mosc's (and no subdirectories): a cluster dropped from the inventory
// loses its overlay. Directories holding anything else are reported.
func removeStale(parent string, keep map[string]bool) ([]string, error) {
	entries, err := os.ReadDir(parent)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var notes []string
	for _, e := range entries {
		if !e.IsDir() || keep[e.Name()] {
			continue
		}
		d := filepath.Join(parent, e.Name())
		files, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		ours := true
		for _, f := range files {
			if f.IsDir() || !bundle.IsOwnFile(filepath.Join(d, f.Name())) {
				ours = false
				break
			}
		}
		if !ours {
			notes = append(notes, fmt.Sprintf("%s is no longer part of the fleet but holds files mosc did not write; left alone", d))
			continue
		}
		for _, f := range files {
			if err := os.Remove(filepath.Join(d, f.Name())); err != nil {
				return nil, err
			}
		}
		if err := os.Remove(d); err != nil {
			return nil, err
		}
		notes = append(notes, fmt.Sprintf("removed %s (no longer part of the fleet)", d))
	}
	return notes, nil
}
