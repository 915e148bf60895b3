package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
	"github.com/urfave/cli/v2"
)

func removeCommand() *cli.Command {
	flags := append([]cli.Flag{
		&cli.StringFlag{Name: "site", Usage: "site name (the mosc.dev/site label); default: the only site found on the cluster"},
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "site `FILE` to take the site name from (metadata.name)", TakesFile: true},
		&cli.StringFlag{Name: "pool", Usage: "take the layer off this pool alone: its MachineOSConfig and MachineConfigs, and the shared objects no other MachineOSConfig uses"},
		&cli.BoolFlag{Name: "registry", Usage: "also put the image registry Config back as it was before mosc, and delete the registry PVC"},
		&cli.StringFlag{Name: "dry-run", Value: "none", Usage: "none, client (list what would be deleted) or server (deletes sent with dryRun=All)"},
		&cli.BoolFlag{Name: "wait", Usage: "with --pool: follow the revert rollout, then on each node clear the other_config keys mosc set and verify stock Open vSwitch"},
		&cli.DurationFlag{Name: "timeout", Usage: "with --wait: give up after this long (default: derived from the pool, as mosc watch)"},
		&cli.StringFlag{Name: "check-image", Usage: "with --wait: image of the node pods (default: the cluster's openshift/tools image, else " + node.DefaultImage + ")"},
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

With --pool, only that pool's MachineOSConfig and MachineConfigs go; the shared objects
(repo ConfigMap, GPG Secret, push and pull-and-push secrets, the registry) stay while
another MachineOSConfig uses them, and remove says which stayed and why.

With --wait (and --pool), remove then follows the revert rollout until every node of the
pool runs the stock image, and on each node, one at a time, a short-lived privileged pod
removes the other_config keys mosc set in the Open vSwitch database (doca-init, and
hw-offload or other keys when the pool's MachineConfig set them; openvswitch is
restarted when a key other than doca-init goes) and checks that stock Open vSwitch runs.
--dry-run lists those node steps too.

Exit codes: 0 removed (or nothing to remove; with --wait: every node back on stock Open
vSwitch); 1 a delete failed, or with --wait the revert timed out or a node failed its
check; 2 bad input, missing permissions, or the cluster is unreachable.`,
		Flags:  flags,
		Action: runRemove,
	}
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
	wait := c.Bool("wait")
	if wait && pool == "" {
		return failWith(exitError, errors.New("--wait follows one pool's revert: name it with --pool"))
	}
	if c.Duration("timeout") < 0 {
		return failWith(exitError, errors.New("--timeout must not be negative"))
	}
	var keys []string
	if wait {
		if keys, err = cluster.OVSKeys(c.Context, clients, site, pool); err != nil {
			return failWith(exitError, err)
		}
	}
	results, err := cluster.Remove(c.Context, clients, nil, cluster.RemoveOptions{
		Site: site, Pool: pool, Registry: c.Bool("registry"), DryRun: dry,
		Out: c.App.Writer, Log: c.App.ErrWriter,
	})
	if err == nil && wait {
		err = revertPool(c, clients, pool, keys, results, dry)
	}
	if err != nil {
		var pe *cluster.PermissionError
		if errors.As(err, &pe) || errors.Is(err, cluster.ErrSeveralSites) {
			return failWith(exitError, err)
		}
		return failWith(exitFailure, err)
	}
	return nil
}

// revertPool is remove --wait: follow the revert rollout, then clear the
// OVS keys on each node and check stock Open vSwitch.
func revertPool(c *cli.Context, clients *cluster.Clients, pool string, keys []string, results []cluster.Result, dry cluster.DryRun) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var gone []string
	for _, r := range results {
		if name, ok := strings.CutPrefix(r.Ref, "machineconfig.machineconfiguration.openshift.io/"); ok {
			gone = append(gone, name)
		}
	}
	mcp, err := clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading machineconfigpool %s: %w", pool, err)
	}
	restart := ""
	if node.NeedsRestart(keys) {
		restart = ", restart openvswitch"
	}
	if dry != cluster.DryRunNone {
		sel, err := metav1.LabelSelectorAsSelector(mcp.Spec.NodeSelector)
		if err != nil {
			return err
		}
		nodes, err := clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return fmt.Errorf("listing the nodes of pool %s: %w", pool, err)
		}
		for _, n := range nodes.Items {
			fmt.Fprintf(c.App.Writer, "node/%s: once on the stock image, clear other_config %s%s and verify stock Open vSwitch (dry run)\n", n.Name, strings.Join(keys, ", "), restart)
		}
		return nil
	}
	timeout := c.Duration("timeout")
	if timeout == 0 {
		timeout = watch.DeriveTimeout(mcp, 0).Total
	}
	o := cluster.RevertOptions{Pool: pool, Gone: gone, Timeout: timeout, Log: c.App.ErrWriter, Out: c.App.Writer}
	start := time.Now()
	nodes, err := cluster.WaitReverted(ctx, clients, o)
	if err != nil {
		return err
	}
	image := c.String("check-image")
	if image == "" {
		image = node.ResolveImage(ctx, clients.Dynamic)
	}
	if left := timeout - time.Since(start); left > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, left)
		defer cancel()
	}
	return cluster.ClearNodes(ctx, clients, nodes, keys, image, node.DefaultVerify, o)
}
