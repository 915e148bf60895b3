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
	"github.com/mosc-dev/mosc/internal/watch"
)

func statusCommand() *cli.Command {
	flags := append(planFlags(), clusterFlags()...)
	flags = append(flags, &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", Usage: "table or json"},
		saveFailureFlag("off by default"),
		&cli.BoolFlag{Name: "images", Usage: "list the pool's MachineOSBuilds (state, age, tag, image digest, whether current) and which build each node's current and desired image came from"})
	flags = append(flags, fleetRunFlags("read")...)
	return &cli.Command{
		Name:  "status",
		Usage: "one snapshot of the build and the pool rollout (no waiting, no check pods)",
		Description: `status reads the MachineOSConfig, its current MachineOSBuild, the pool, its nodes and
their MachineConfigNodes once, and prints what mosc watch would show at this moment:
the build state, the pool's counts and conditions, and each node's state and image.
It starts no check pods: on-node verification is mosc watch's job. A failed build is
classified (CAUSE and REMEDY rows; failure.cause in -o json) from its build log, or,
without pods/log access, from the build pods' termination messages; --save-failure DIR
saves its evidence as mosc watch does.

With --images, status lists instead every MachineOSBuild of the pool's
MachineOSConfig, newest first: its state and age, the tag it pushed to
(spec.renderedImagePushSpec: the build's name from 4.18, the rendered
MachineConfig's before), the image digest it produced, whether it is the current
build (the MachineOSConfig's current-machine-os-build annotation) or its image the
MachineOSConfig's currentImagePullSpec, and the nodes that run it (their
currentImage annotation) or are updating to it (desiredImage); then each node with
the build of its current and desired image ("(stock)": the stock image). These are
what mosc prune keeps. -o json has schema mosc.dev/images/v1.

With --fleet FILE: one line per cluster and pool of the inventory, read --parallel
at once through --kubeconfig's context named after each cluster (or a directory of
kubeconfigs, <cluster>[.yaml|.kubeconfig]); -o json is mosc.dev/status-fleet/v1. A
cluster without a context or that cannot be read is a line of its own and exits 1.

Exit codes: 0 nothing has failed (the rollout may still be in progress); 1 the build
failed or was interrupted, or a node or the pool is degraded; 2 bad flags, unknown
pool, or the cluster is unreachable.`,
		Flags:  flags,
		Action: runStatus,
	}
}

func runStatus(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("status takes no arguments, got %q (name the pool with --pool)", c.Args().First()))
	}
	out := c.String("output")
	if out != "table" && out != "json" {
		return failWith(exitError, fmt.Errorf("--output %q: want table or json", out))
	}
	if c.IsSet("fleet") || c.IsSet("parallel") {
		if c.Bool("images") {
			return failWith(exitError, errors.New("--images lists one cluster's builds; it does not combine with --fleet or --parallel"))
		}
		return runStatusFleet(c, out)
	}
	plan, err := watchPlan(c)
	if err != nil {
		return err
	}
	clients, err := clusterAccess(c).Connect()
	if err != nil {
		return failWith(exitError, err)
	}
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	moscName := plan.MOSC.Name
	if moscName == "" {
		moscName = plan.Pool
	}
	if c.Bool("images") {
		if err := cluster.CheckPermissions(ctx, clients, watch.Needs(watch.NeedsOptions{
			Status: true, Pool: plan.Pool, MOSC: moscName, MCN: watch.ServesMachineConfigNodes(clients.MachineConfig.Discovery()),
		})); errors.As(err, new(*cluster.PermissionError)) {
			return failWith(exitError, err)
		}
		p, err := images.Inventory(ctx, clients, plan.Pool, plan.MOSC.Name)
		if err != nil {
			return failWith(exitError, err)
		}
		r := &images.Report{Pools: []images.Pool{p}}
		if out == "json" {
			err = images.WriteJSON(c.App.Writer, r)
		} else {
			err = images.WriteTable(c.App.Writer, r, time.Now())
		}
		if err != nil {
			return failWith(exitError, err)
		}
		return nil
	}
	st, err := readPoolStatus(ctx, clients, plan)
	if err != nil {
		return failWith(exitError, err)
	}
	if f := st.Failure; f != nil && f.Phase == watch.PhaseBuild && st.Build.MOSB != "" {
		if save := saveFailureDir(c, false); save != nil {
			dir := save(st.Build.MOSB)
			ev, err := watch.SaveFailure(ctx, clients.Kube, clients.MachineConfig, dir, st.Build, moscName, plan.Pool)
			if err != nil {
				fmt.Fprintf(c.App.ErrWriter, "warning: could not save the failed build's evidence: %v\n", err)
			} else {
				f.Evidence = ev.Dir
			}
			if ev != nil {
				f.Cause = &ev.Cause
			}
		}
		if f.Cause == nil {
			cause := watch.ClassifyBuild(ctx, clients.Kube, st.Build, plan.Pool)
			f.Cause = &cause
		}
	}
	if out == "json" {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return failWith(exitError, err)
		}
	} else {
		if err := watch.WriteStatusTable(c.App.Writer, &st, time.Now()); err != nil {
			return failWith(exitError, err)
		}
		if line := pushCredentialLine(st.PushCredential); line != "" {
			fmt.Fprintln(c.App.Writer, line)
		}
	}
	if st.Failure != nil {
		return failWith(exitFailure, nil)
	}
	return nil
}
