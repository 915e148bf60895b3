package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/fleet"
	"github.com/mosc-dev/mosc/internal/profile"
)

// fleetRenderFlags are render's flags for a fleet inventory.
func fleetRenderFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "fleet", Usage: "render the fleet inventory `FILE` (kind Fleet; mosc init --fleet writes one): bases, one overlay per cluster, and --for delivery objects into -o DIR", TakesFile: true},
		&cli.StringFlag{Name: "cluster", Usage: "with --fleet and no -o: print this cluster's bundle as a YAML stream (what kustomize build of its overlay gives)"},
		&cli.StringSliceFlag{Name: "for", Usage: "with --fleet: also write delivery objects for `ENGINE`: argocd (ApplicationSet), acm (Policy, Placement, PlacementBinding, ManagedClusterSetBinding), acm-policygenerator (the input of ACM's PolicyGenerator plugin, the ZTP way: DIR/kustomization.yaml and DIR/acm-policygenerator/); repeatable or comma-separated"},
		&cli.StringFlag{Name: "repo-url", Usage: "with --for argocd: the git repository the tree is pushed to"},
		&cli.StringFlag{Name: "revision", Usage: "with --for argocd: git revision to track", Value: "HEAD"},
		&cli.StringFlag{Name: "repo-path", Usage: "with --for argocd: the -o directory's path inside the repository (default: -o when it is relative)"},
		&cli.StringFlag{Name: "argocd-namespace", Usage: "with --for argocd: namespace of the ApplicationSet", Value: "openshift-gitops"},
		&cli.StringFlag{Name: "argocd-project", Usage: "with --for argocd: AppProject of the generated Applications", Value: "default"},
		&cli.StringFlag{Name: "policy-namespace", Usage: "with --for acm or acm-policygenerator: hub namespace of the Policies, Placements and PlacementBindings", Value: "mosc-policies"},
		&cli.StringFlag{Name: "cluster-set", Usage: "with --for acm or acm-policygenerator: the ManagedClusterSet bound to --policy-namespace (a ManagedClusterSetBinding is written; global holds every managed cluster)", Value: "global"},
	}
}

// fleetOnlyFlags refuses fleet flags without --fleet.
func fleetOnlyFlags(isSet func(string) bool) error {
	for _, f := range []string{"cluster", "for", "repo-url", "repo-path", "revision", "argocd-namespace", "argocd-project", "policy-namespace", "cluster-set"} {
		if isSet(f) {
			return failWith(exitError, fmt.Errorf("--%s needs --fleet FILE", f))
		}
	}
	return nil
}

// loadFleet reads --fleet (and --profiles) and refuses the plan flags: in
// a fleet every value comes from the inventory, so a flag would apply to
// every cluster silently.
func loadFleet(c *cli.Context) (*profile.Fleet, *profile.Catalog, error) {
	var errs profile.ErrorList
	for _, f := range planFlags() {
		name := namesOf(f)[0]
		if name != "profiles" && c.IsSet(name) {
			errs = append(errs, &profile.Error{Flag: "--" + name, Message: "not with --fleet: set it in the inventory (spec.defaults, a group, or a cluster's overrides)"})
		}
	}
	if c.String("fleet") == "" {
		errs = append(errs, &profile.Error{Flag: "--fleet", Message: "must not be empty"})
	}
	if err := errs.Err(); err != nil {
		return nil, nil, failWith(exitError, err)
	}
	o, err := planOverrides(c)
	if err != nil {
		return nil, nil, failWith(exitError, err)
	}
	cat, err := profile.LoadCatalog(o.ProfilesDirs...)
	if err != nil {
		return nil, nil, failWith(exitError, err)
	}
	f, err := profile.LoadFleet(c.String("fleet"))
	if err != nil {
		return nil, nil, failWith(exitError, err)
	}
	return f, cat, nil
}

// renderFleet loads --fleet and renders it, printing the warnings: what
// render, gate and diff --fleet start with.
func renderFleet(c *cli.Context) (*profile.Fleet, *profile.Catalog, *fleet.Result, error) {
	f, cat, err := loadFleet(c)
	if err != nil {
		return nil, nil, nil, err
	}
	res, err := fleet.Render(f, cat)
	if err != nil {
		return nil, nil, nil, failWith(exitError, err)
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
	return f, cat, res, nil
}

func runRenderFleet(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("render takes no arguments, got %q", c.Args().First()))
	}
	dir := c.String("output")
	cluster := c.String("cluster")
	switch {
	case c.IsSet("output") && dir == "":
		return failWith(exitError, errors.New("-o: must not be empty"))
	case dir == "" && cluster == "":
		return failWith(exitError, errors.New("--fleet writes a tree: give -o DIR (or --cluster NAME to print one cluster's bundle)"))
	case dir != "" && cluster != "":
		return failWith(exitError, errors.New("--cluster prints one cluster to stdout; leave out -o"))
	case c.IsSet("format") && c.String("format") != "yaml":
		return failWith(exitError, errors.New("--format: --fleet writes YAML only"))
	}
	engines, opts, err := deliveryOptions(c, dir)
	if err != nil {
		return err
	}
	shortLivedGC()
	_, _, res, err := renderFleet(c)
	if err != nil {
		return err
	}
	if cluster != "" {
		cl := res.ClusterByName(cluster)
		if cl == nil {
			return failWith(exitError, fmt.Errorf("--cluster: no cluster %q in %s", cluster, c.String("fleet")))
		}
		return bundle.WriteYAML(c.App.Writer, cl.Bundle, buildVersion())
	}
	notes, err := fleet.Write(dir, res, buildVersion())
	if err != nil {
		return failWith(exitError, fmt.Errorf("-o %s: %v", dir, err))
	}
	for _, n := range notes {
		fmt.Fprintln(c.App.ErrWriter, n)
	}
	written, err := fleet.WriteDelivery(dir, res, engines, opts, buildVersion())
	if err != nil {
		return failWith(exitError, fmt.Errorf("-o %s: %v", dir, err))
	}
	for _, w := range written {
		fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", w)
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %d clusters on %d bases to %s\n", len(res.Clusters), len(res.Bases), dir)
	return nil
}

// deliveryOptions reads --for and the engines' flags.
func deliveryOptions(c *cli.Context, dir string) ([]string, fleet.DeliveryOptions, error) {
	o := fleet.DeliveryOptions{
		RepoURL: c.String("repo-url"), Revision: c.String("revision"), RepoPath: c.String("repo-path"),
		ArgoNamespace: c.String("argocd-namespace"), ArgoProject: c.String("argocd-project"),
		PolicyNamespace: c.String("policy-namespace"), ClusterSet: c.String("cluster-set"),
	}
	var engines []string
	seen := map[string]bool{}
	for _, v := range c.StringSlice("for") {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if !slices.Contains(fleet.Engines, e) {
				return nil, o, failWith(exitError, fmt.Errorf("--for: unknown engine %q; known: %s", e, strings.Join(fleet.Engines, ", ")))
			}
			if !seen[e] {
				seen[e] = true
				engines = append(engines, e)
			}
		}
	}
	if len(engines) > 0 && dir == "" {
		return nil, o, failWith(exitError, errors.New("--for writes files: give -o DIR"))
	}
	for _, f := range []string{"argocd-namespace", "policy-namespace", "cluster-set"} {
		if msgs := validation.IsDNS1123Label(c.String(f)); len(msgs) > 0 {
			return nil, o, failWith(exitError, fmt.Errorf("--%s: %s", f, strings.Join(msgs, "; ")))
		}
	}
	if seen[fleet.EngineArgoCD] {
		if o.RepoURL == "" {
			return nil, o, failWith(exitError, errors.New("--for argocd needs --repo-url: the git repository the ApplicationSet's generator reads the tree from"))
		}
		if !c.IsSet("repo-path") {
			if filepath.IsAbs(dir) || strings.HasPrefix(filepath.Clean(dir), "..") {
				return nil, o, failWith(exitError, fmt.Errorf("--for argocd: -o %s is not relative to the repository; give --repo-path (the directory's path inside the repository)", dir))
			}
			o.RepoPath = filepath.ToSlash(filepath.Clean(dir))
		}
	}
	return engines, o, nil
}
