package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
)

func rebuildCommand() *cli.Command {
	flags := append(planFlags(), clusterFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "dry-run", Value: "none", Usage: "none, client (say what would be asked) or server (the annotation sent with dryRun=All)"},
		&cli.BoolFlag{Name: "wait", Value: true, Usage: "follow the new build and its rollout as mosc watch does (--wait=false: ask and return)"},
	)
	flags = append(flags, watchFlags()...)
	flags = append(flags, outputFlag("live, plain or json (as mosc watch: live on a terminal, plain otherwise)"))
	return &cli.Command{
		Name:  "rebuild",
		Usage: "ask the MCO to build the pool's image again (the rebuild annotation), then follow the build",
		Description: `rebuild asks the Machine Config Operator for a new build of the MachineOSConfig's
current MachineOSBuild, the way the MCO supports it: the annotation
machineconfiguration.openshift.io/rebuild on the MachineOSConfig. The MCO deletes the
current MachineOSBuild (and, when no node uses it, its image), creates it again for the
same spec and removes the annotation. Use it after fixing what failed a build outside
the spec (a repository that was down, an expired push token), or to pick up newer
packages from the same repositories.

OpenShift 4.16 and 4.17 (MachineOSConfig v1alpha1) have no rebuild annotation: rebuild
refuses there. mosc apply --rebuild applies the plan first and asks for the rebuild
only when the apply did not change the MachineOSConfig or its MachineConfigs (a change
starts a new build anyway).

Then it follows the new build and the rollout as mosc watch does (--wait=false: not).

Exit codes: 0 rebuilt and every node verified (with --wait=false: requested); 1 the
build or rollout failed; 2 bad flags, no MachineOSConfig or build to rebuild, a release
without the rebuild annotation, or the cluster is unreachable.`,
		Flags:  flags,
		Action: runRebuild,
	}
}

func runRebuild(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("rebuild takes no arguments, got %q (name the pool with --pool)", c.Args().First()))
	}
	dry, err := cluster.ParseDryRun(c.String("dry-run"))
	if err != nil {
		return failWith(exitError, err)
	}
	plan, err := watchPlan(c)
	if err != nil {
		return err
	}
	if err := requestRebuild(c, plan, dry); err != nil {
		return err
	}
	if !c.Bool("wait") || dry != cluster.DryRunNone {
		return nil
	}
	return runWatch(c, plan)
}

// requestRebuild annotates the plan's MachineOSConfig and waits until the
// MCO has deleted the build it replaces (mosc rebuild, mosc apply --rebuild).
func requestRebuild(c *cli.Context, plan *profile.Plan, dry cluster.DryRun) error {
	clients, err := clusterAccess(c).Connect()
	if err != nil {
		return failWith(exitError, err)
	}
	if err := cluster.Reachable(clients); err != nil {
		return failWith(exitError, err)
	}
	api, err := watch.LayeringAPI(clients.MachineConfig.Discovery())
	if err != nil {
		return failWith(exitError, err)
	}
	name := plan.MOSC.Name
	if name == "" {
		name = plan.Pool
	}
	_, err = cluster.Rebuild(c.Context, clients, cluster.RebuildOptions{
		MOSC: name, API: api, DryRun: dry, Out: c.App.Writer, Log: c.App.ErrWriter,
	})
	if err != nil {
		if errors.Is(err, cluster.ErrRebuildUnsupported) || errors.Is(err, cluster.ErrNothingToRebuild) {
			return failWith(exitError, err)
		}
		return failWith(exitFailure, err)
	}
	return nil
}
