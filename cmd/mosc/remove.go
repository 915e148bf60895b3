package main

import (
	"errors"
	"fmt"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/urfave/cli/v2"
)

func init() {
	register(func() *cli.Command {
		flags := append([]cli.Flag{
			&cli.StringFlag{Name: "site", Usage: "site name (the mosc.dev/site label); default: the only site found on the cluster"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "site `FILE` to take the site name from (metadata.name)", TakesFile: true},
			&cli.StringFlag{Name: "pool", Usage: "take the layer off this pool alone: its MachineOSConfig and MachineConfigs, and the shared objects no other MachineOSConfig uses"},
			&cli.BoolFlag{Name: "registry", Usage: "also put the image registry Config back as it was before mosc, and delete the registry PVC"},
			&cli.StringFlag{Name: "dry-run", Value: "none", Usage: "none, client (list what would be deleted) or server (deletes sent with dryRun=All)"},
		}, clusterFlags()...)
		return &cli.Command{
			Name:  "remove",
			Usage: "delete the MachineOSConfig (the pool reverts to the stock image) and everything else mosc created",
			Description: `remove deletes only objects labelled app.kubernetes.io/managed-by=mosc and
mosc.dev/site=<site>: the MachineOSConfig first, so the pool rolls back to the stock
image, then the MachineConfigs, the repo ConfigMap and the push / pull-and-push
secrets. The cluster pull secret and anything unlabelled are never touched. The image
registry stays enabled unless --registry is given; then its Config is restored from the
record mosc kept when it enabled it, and the PVC is deleted.

Exit codes: 0 removed (or nothing to remove); 1 a delete failed; 2 bad input, missing
permissions, or the cluster is unreachable.`,
			Flags:  flags,
			Action: runRemove,
		}
	})
}

func runRemove(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("remove takes no arguments, got %q (use --site / -f)", c.Args().First()))
	}
	dry, err := cluster.ParseDryRun(c.String("dry-run"))
	if err != nil {
		return failWith(exitError, err)
	}
	site := c.String("site")
	if c.IsSet("site") && site == "" {
		return failWith(exitError, errors.New("--site must not be empty"))
	}
	if f := c.String("file"); f != "" && site == "" {
		s, err := profile.LoadSite(f)
		if err != nil {
			return failWith(exitError, err)
		}
		site = s.Metadata.Name
		if site == "" {
			site = profile.DefaultSiteName
		}
	}
	clients, err := clusterAccess(c).Connect()
	if err != nil {
		return failWith(exitError, err)
	}
	if err := cluster.Reachable(clients); err != nil {
		return failWith(exitError, err)
	}
	pool := c.String("pool")
	if c.IsSet("pool") && pool == "" {
		return failWith(exitError, errors.New("--pool must not be empty"))
	}
	_, err = cluster.Remove(c.Context, clients, nil, cluster.RemoveOptions{
		Site: site, Pool: pool, Registry: c.Bool("registry"), DryRun: dry,
		Out: c.App.Writer, Log: c.App.ErrWriter,
	})
	if err != nil {
		var pe *cluster.PermissionError
		if errors.As(err, &pe) || errors.Is(err, cluster.ErrSeveralSites) {
			return failWith(exitError, err)
		}
		return failWith(exitFailure, err)
	}
	return nil
}
