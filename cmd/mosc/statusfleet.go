package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/fleet"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
)

// runStatusFleet reads every cluster of an inventory, --parallel at once,
// and prints one line per cluster and pool. A cluster without a context,
// or one that cannot be read, is a line of its own and fails the run.
func runStatusFleet(c *cli.Context, format string) error {
	if err := fleetRunFlagChecks(c, "save-failure"); err != nil {
		return err
	}
	f, cat, err := loadFleet(c)
	if err != nil {
		return err
	}
	clusters, _, err := fleet.Resolve(f, cat)
	if err != nil {
		return failWith(exitError, err)
	}
	names := make([]string, len(clusters))
	for i, cl := range clusters {
		names[i] = cl.Name
	}
	accesses, err := fleet.Accesses(c.String("kubeconfig"), names)
	if err != nil {
		return failWith(exitError, err)
	}
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	rep := &fleet.StatusReport{Fleet: f.Metadata.Name, Clusters: make([]*fleet.StatusCluster, len(clusters))}
	fleet.Each(ctx, c.Int("parallel"), len(clusters), func(ctx context.Context, i int) {
		rep.Clusters[i] = statusCluster(ctx, clusters[i], accesses[clusters[i].Name])
	})
	if format == "json" {
		err = fleet.WriteStatusJSON(c.App.Writer, rep)
	} else {
		err = fleet.WriteStatusTable(c.App.Writer, rep)
	}
	if err != nil {
		return failWith(exitError, err)
	}
	if failed := rep.Failed(); len(failed) > 0 {
		return failWith(exitFailure, fmt.Errorf("%d of %d clusters failed or could not be read: %s", len(failed), len(rep.Clusters), fleet.ClusterList(failed)))
	}
	return nil
}

// statusCluster is `mosc status` for each pool of one cluster.
func statusCluster(ctx context.Context, cl *fleet.Cluster, acc fleet.Access) *fleet.StatusCluster {
	sc := &fleet.StatusCluster{Cluster: cl.Name, Group: cl.Group, Access: acc.Source, Inventory: cl.Sites[0].Spec.OpenShift}
	if acc.Missing != "" {
		sc.Access, sc.Error = "none", acc.Missing
		return sc
	}
	clients, err := acc.Connect()
	if err == nil {
		err = cluster.Reachable(clients)
	}
	if err != nil {
		sc.Error = err.Error()
		return sc
	}
	if v, err := cluster.OpenShiftVersion(ctx, clients); err == nil {
		sc.OpenShift = v
	}
	for _, plan := range cl.Plans {
		st, err := readPoolStatus(ctx, clients, plan)
		if err != nil {
			sc.Error = fmt.Sprintf("pool %s: %v", plan.Pool, err)
			return sc
		}
		if f := st.Failure; f != nil && f.Phase == watch.PhaseBuild && st.Build.MOSB != "" {
			cause := watch.ClassifyBuild(ctx, clients.Kube, st.Build, plan.Pool)
			f.Cause = &cause
		}
		sc.Pools = append(sc.Pools, &st)
	}
	return sc
}

// statusTimeout bounds status --fleet, as status's own run (each cluster
// is a few reads; --parallel bounds how many at once).
const statusTimeout = 2 * time.Minute

// readPoolStatus is `mosc status`'s snapshot of one pool: a permission
// check first (other errors, such as an unreachable cluster, are reported
// by the reads that follow), then one read of everything watch follows,
// evaluated as status shows it (no check pods).
func readPoolStatus(ctx context.Context, clients *cluster.Clients, plan *profile.Plan) (watch.Status, error) {
	mosc := plan.MOSC.Name
	if mosc == "" {
		mosc = plan.Pool
	}
	if err := cluster.CheckPermissions(ctx, clients, watch.Needs(watch.NeedsOptions{
		Status: true, Pool: plan.Pool, MOSC: mosc, MCN: watch.ServesMachineConfigNodes(clients.MachineConfig.Discovery()),
	})); errors.As(err, new(*cluster.PermissionError)) {
		return watch.Status{}, err
	}
	snap, err := watch.FetchWith(ctx, clients.Kube, clients.MachineConfig, clients.Dynamic, plan.Pool, plan.MOSC.Name)
	if err != nil {
		return watch.Status{}, err
	}
	st := watch.Evaluate(snap)
	watch.ForStatus(&st)
	st.PushCredential = pushCredentialStatus(ctx, clients, snap.MOSCObj, time.Now()) // statuscred.go
	return st, nil
}
