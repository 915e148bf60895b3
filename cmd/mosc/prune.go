package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/images"
	"github.com/mosc-dev/mosc/internal/profile"
)

func pruneCommand() *cli.Command {
	flags := append(clusterFlags(),
		&cli.StringFlag{Name: "pool", Usage: "MachineConfigPool whose builds to prune (default " + profile.DefaultPool + ")"},
		&cli.IntFlag{Name: "keep", Value: 1, Usage: "succeeded builds not in use to keep, newest first (rollback targets)"},
		&cli.BoolFlag{Name: "yes", Usage: "delete; without it prune only lists what it would delete"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "text or json"},
	)
	return &cli.Command{
		Name:  "prune",
		Usage: "delete a pool's old MachineOSBuilds and their images (dry run unless --yes)",
		Description: `Every build the MCO makes pushes one image, so the registry fills up. prune deletes
the pool's MachineOSBuilds that are no longer needed, and with them their images, the
way the MCO expects it:

  never deleted  the MachineOSConfig's current build (its current-machine-os-build
                 annotation), the build whose image is its currentImagePullSpec, any
                 build whose image a node of the pool runs (currentImage) or is
                 updating to (desiredImage), and builds still running;
  kept           the --keep newest other succeeded builds (default 1: a rollback
                 target; rolling back to a deleted build's config builds it again);
  deleted        the older succeeded builds, and failed or interrupted ones.

From 4.18 (MachineOSBuild v1) deleting a MachineOSBuild makes the MCO delete its image
(the tag <push spec>:<build name>) unless a node uses it: openshift/machine-config-
operator release-4.18 … release-4.22, pkg/controller/build/reconciler.go
deleteMOSBImage (ImageStreamTag on the internal registry, the registry API elsewhere).
On 4.16 and 4.17 (v1alpha1) nothing deletes images, so prune deletes each one itself:
the manifest by the build's digest through the registry API with the MachineOSConfig's
push secret (the registry drops the tags pointing at it), or on the internal registry
the ImageStreamTag <namespace>/<stream>:<rendered MachineConfig> while it still points
at that digest.

prune touches only builds of MachineOSConfigs mosc created (label
app.kubernetes.io/managed-by=mosc). It reports the registry space the deleted images
alone hold (blobs no remaining build's image shares, from the registry's manifests);
the registry frees it when it garbage-collects. mosc status --images shows the same
builds and which nodes use them.

Exit codes: 0 pruned (or listed); 1 a delete failed (each named); 2 bad flags, no
MachineOSConfig or one mosc did not create, missing permissions, unreachable cluster.`,
		Flags:  flags,
		Action: runPrune,
	}
}

func runPrune(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("prune takes no arguments, got %q (name the pool with --pool)", c.Args().First()))
	}
	out := c.String("output")
	if out != "text" && out != "json" {
		return failWith(exitError, fmt.Errorf("--output %q: want text or json", out))
	}
	if c.Int("keep") < 0 {
		return failWith(exitError, fmt.Errorf("--keep %d: want 0 or more", c.Int("keep")))
	}
	pool := c.String("pool")
	if pool == "" {
		pool = profile.DefaultPool
	}
	clients, err := clusterAccess(c).Connect()
	if err != nil {
		return failWith(exitError, err)
	}
	if err := cluster.Reachable(clients); err != nil {
		return failWith(exitError, err)
	}
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	o := images.PruneOptions{Pool: pool, Keep: c.Int("keep"), Yes: c.Bool("yes"), Out: c.App.Writer, Log: c.App.ErrWriter}
	if out == "json" {
		o.Out = nil // the JSON document is the whole stdout
	}
	res, err := images.Prune(ctx, clients, o)
	if res != nil && out == "json" {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(res); jerr != nil {
			return failWith(exitError, jerr)
		}
	}
	switch {
	case err == nil:
		return nil
	case res != nil:
		return failWith(exitFailure, err) // some deletes failed
	case errors.Is(err, images.ErrNotOurs):
		return failWith(exitError, err)
	}
	return failWith(exitError, err)
}
