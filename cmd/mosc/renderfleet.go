package main

import (
	"errors"
	"fmt"

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
	}
}

// fleetOnlyFlags refuses fleet flags without --fleet.
func fleetOnlyFlags(c *cli.Context) error {
	for _, f := range []string{"cluster"} {
		if c.IsSet(f) {
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
		name := f.Names()[0]
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
	shortLivedGC()
	f, cat, err := loadFleet(c)
	if err != nil {
		return err
	}
	res, err := fleet.Render(f, cat)
	if err != nil {
		return failWith(exitError, err)
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
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
	fmt.Fprintf(c.App.ErrWriter, "wrote %d clusters on %d bases to %s\n", len(res.Clusters), len(res.Bases), dir)
	return nil
}
