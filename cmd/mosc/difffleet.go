package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/fleet"
	"github.com/mosc-dev/mosc/internal/profile"
)

// diffFleetFlags are diff's flags for a fleet inventory.
func diffFleetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "fleet", Usage: "the fleet inventory `FILE` (kind Fleet) of the \"to\" side: what changes across the fleet", TakesFile: true},
		&cli.StringFlag{Name: "from-fleet", Usage: "with --fleet: the inventory `FILE` of the \"from\" side (an earlier version of it); default: --fleet", TakesFile: true},
		&cli.StringSliceFlag{Name: "from-profiles", Usage: "with --fleet: the catalog `DIR`s of the \"from\" side (as --profiles); default: the \"to\" side's catalog", TakesFile: true},
		&cli.StringFlag{Name: "from-tree", Usage: "with --fleet: a tree mosc render --fleet wrote (`DIR`, e.g. the one in git) as the \"from\" side", TakesFile: true},
	}
}

// runDiffFleet renders the fleet on both sides (or reads the "from" tree)
// and prints what changes, clusters with identical changes grouped.
func runDiffFleet(c *cli.Context, format string) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("diff --fleet takes no arguments, got %q", c.Args().First()))
	}
	// (--kubeconfig is not refused: $KUBECONFIG sets it; no cluster is read.)
	for _, n := range []string{"to", "to-stack", "to-platform", "live", "context"} {
		if c.IsSet(n) {
			return failWith(exitError, fmt.Errorf("--%s: not with --fleet (diff --fleet compares two renders of the inventory: --from-fleet, --from-profiles or --from-tree)", n))
		}
	}
	if !c.IsSet("fleet") {
		return failWith(exitError, errors.New("--from-fleet, --from-profiles and --from-tree need --fleet FILE (the \"to\" side)"))
	}
	fromSet := 0
	for _, n := range []string{"from-fleet", "from-profiles", "from-tree"} {
		if c.IsSet(n) {
			fromSet++
		}
	}
	switch {
	case fromSet == 0:
		return failWith(exitError, errors.New("--fleet: nothing to compare with: pass --from-fleet FILE (an earlier inventory), --from-profiles DIR (another catalog) or --from-tree DIR (a tree render --fleet wrote)"))
	case c.IsSet("from-tree") && fromSet > 1:
		return failWith(exitError, errors.New("--from-tree is a rendered tree: it cannot be combined with --from-fleet or --from-profiles"))
	}
	f, cat, toRes, err := renderFleet(c)
	if err != nil {
		return err
	}
	to := fleet.SideOf(c.String("fleet"), toRes)
	var from *fleet.Side
	if dir := c.String("from-tree"); dir != "" {
		if from, err = fleet.ReadTree(dir); err != nil {
			return failWith(exitError, fmt.Errorf("--from-tree: %v", err))
		}
	} else {
		ff, fcat, name := f, cat, c.String("fleet")
		if p := c.String("from-fleet"); p != "" {
			if ff, err = profile.LoadFleet(p); err != nil {
				return failWith(exitError, err)
			}
			name = p
		}
		if dirs := c.StringSlice("from-profiles"); len(dirs) > 0 {
			if fcat, err = profile.LoadCatalog(dirs...); err != nil {
				return failWith(exitError, fmt.Errorf("--from-profiles: %v", err))
			}
			name += " (profiles " + fmt.Sprint(dirs) + ")"
		}
		fromRes, err := fleet.Render(ff, fcat)
		if err != nil {
			return failWith(exitError, fmt.Errorf("the \"from\" side: %v", err))
		}
		from = fleet.SideOf(name, fromRes)
	}
	rep := fleet.Diff(from, to)
	if format == "json" {
		err = fleet.WriteDiffJSON(c.App.Writer, rep)
	} else {
		err = fleet.WriteDiffText(c.App.Writer, rep)
	}
	if err != nil {
		return failWith(exitError, err)
	}
	if !rep.Empty() {
		return failWith(exitFailure, nil)
	}
	return nil
}
