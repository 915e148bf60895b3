package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/fleet"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
)

// fleetRunFlags are the flags of the fleet forms of gate, status and diff.
func fleetRunFlags(verb string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "fleet", Usage: verb + " every cluster of the fleet inventory `FILE` (kind Fleet); --kubeconfig is then a kubeconfig with one context per cluster (named after it) or a directory of kubeconfigs (<cluster>, <cluster>.yaml or <cluster>.kubeconfig)", TakesFile: true},
		&cli.IntFlag{Name: "parallel", Usage: "with --fleet: how many clusters to work on at once", Value: fleet.DefaultParallel},
	}
}

// fleetRunFlagChecks refuses what a fleet run cannot take.
func fleetRunFlagChecks(c *cli.Context, notWith ...string) error {
	if !c.IsSet("fleet") {
		if c.IsSet("parallel") {
			return failWith(exitError, errors.New("--parallel: only with --fleet"))
		}
		return nil
	}
	if c.Int("parallel") < 1 {
		return failWith(exitError, errors.New("--parallel: must be at least 1"))
	}
	for _, n := range append([]string{"context"}, notWith...) {
		if c.IsSet(n) {
			why := map[string]string{"context": "each cluster's context is the one named after it (or its own kubeconfig in a --kubeconfig directory)"}[n]
			if why == "" {
				why = "not with --fleet"
			}
			return failWith(exitError, fmt.Errorf("--%s: %s", n, why))
		}
	}
	return nil
}

// runGateFleet gates every cluster of an inventory for --to: offline
// checks once per distinct site and release (a thousand clusters on a few
// releases run a few gates), cluster checks on every cluster with a
// context, --parallel at once. opts carries the flags runGate read.
func runGateFleet(ctx context.Context, c *cli.Context, opts gate.Options, format string) error {
	if err := fleetRunFlagChecks(c, "build", "base-image", "stream"); err != nil {
		return err
	}
	f, cat, res, err := renderFleet(c)
	if err != nil {
		return err
	}
	names := make([]string, len(res.Clusters))
	for i, cl := range res.Clusters {
		names[i] = cl.Name
	}
	var accesses map[string]fleet.Access
	if !opts.Offline {
		if accesses, err = fleet.Accesses(c.String("kubeconfig"), names); err != nil {
			return failWith(exitError, err)
		}
	}
	opts.Catalog, opts.Now = cat, time.Now
	g := &fleetGater{opts: opts, cat: cat, nodeChecks: c.Bool("node-checks"), nodeTimeout: c.Duration("node-timeout"),
		registryConfig: c.String("registry-config"), memo: map[string]*gateMemo{}, log: c.App.ErrWriter}
	out := make([]*fleet.GateCluster, len(res.Clusters))
	fleet.Each(ctx, c.Int("parallel"), len(res.Clusters), func(ctx context.Context, i int) {
		out[i] = g.cluster(ctx, res.Clusters[i], accesses[res.Clusters[i].Name])
	})
	rep := &fleet.GateReport{Fleet: f.Metadata.Name, To: opts.TargetVersion}
	for _, gc := range out {
		rep.Add(gc)
	}
	if file := c.String("junit"); file != "" {
		var b bytes.Buffer
		if err := fleet.WriteGateJUnit(&b, rep); err != nil {
			return failWith(exitError, err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return failWith(exitError, fmt.Errorf("--junit: %v", err))
		}
	}
	if format == "json" {
		err = fleet.WriteGateJSON(c.App.Writer, rep)
	} else {
		err = fleet.WriteGateTable(c.App.Writer, rep)
	}
	if err != nil {
		return failWith(exitError, err)
	}
	if failed := rep.Failed(); len(failed) > 0 {
		return failWith(exitFailure, fmt.Errorf("gate failed on %d of %d clusters: %s", len(failed), len(rep.Clusters), fleet.ClusterList(failed)))
	}
	return nil
}

type fleetGater struct {
	opts           gate.Options
	cat            *profile.Catalog
	nodeChecks     bool
	nodeTimeout    time.Duration
	registryConfig string
	log            interface{ Write([]byte) (int, error) }
	logMu          sync.Mutex

	mu   sync.Mutex
	memo map[string]*gateMemo
}

// gateMemo is one shared run of the checks that read no cluster.
type gateMemo struct {
	once sync.Once
	r    *gate.Report
}

func (g *fleetGater) warnf(format string, args ...any) {
	g.logMu.Lock()
	defer g.logMu.Unlock()
	fmt.Fprintf(g.log, "warning: "+format+"\n", args...)
}

// cluster gates one cluster, each of its pools.
func (g *fleetGater) cluster(ctx context.Context, cl *fleet.Cluster, acc fleet.Access) *fleet.GateCluster {
	gc := &fleet.GateCluster{Cluster: cl.Name, Group: cl.Group, Base: cl.Base, To: g.opts.TargetVersion}
	defer gc.Finish()
	var clients *cluster.Clients
	clusterVersion := ""
	switch {
	case g.opts.Offline:
		gc.Access = "offline"
	case acc.Missing != "":
		gc.Access = "none"
	default:
		gc.Access, gc.Live = acc.Source, true
		cli, err := acc.Connect()
		if err == nil {
			err = cluster.Reachable(cli)
		}
		if err != nil {
			gc.From = cl.Sites[0].Spec.OpenShift
			gc.Pools = []*gate.Report{accessFailure(cl, g.opts, err)}
			return gc
		}
		clients = cli
		if v, err := cluster.OpenShiftVersion(ctx, cli); err == nil {
			clusterVersion = v
		} else {
			g.warnf("%s: %v", cl.Name, err)
		}
	}
	for j, plan := range cl.Plans {
		site := cl.Sites[j]
		o := g.opts
		o.Current, o.CurrentVersion = plan, site.Spec.OpenShift
		if clients == nil {
			o.ClusterSkip = acc.Missing
			gc.Pools = append(gc.Pools, g.offline(ctx, o, site))
			continue
		}
		if clusterVersion != "" {
			if cluster.Minor(clusterVersion) != plan.OpenShift.Version {
				g.warnf("%s: the cluster runs OpenShift %s but the inventory says %s", cl.Name, clusterVersion, site.Spec.OpenShift)
			} else if strings.Count(o.CurrentVersion, ".") < 2 {
				o.CurrentVersion = clusterVersion // the inventory's X.Y, the cluster's X.Y.Z
			}
		}
		o.Target, o.TargetErr = g.cat.Resolve(site.AtRelease(o.TargetVersion, "--to"))
		if err := errors.Join(checkServed(clients, g.cat, plan, clusterVersion), checkPoolStream(ctx, clients, plan)); err != nil {
			gc.Pools = append(gc.Pools, accessFailure(cl, o, err))
			continue
		}
		o.Cluster = &gate.Cluster{Kube: clients.Kube, MachineConfig: clients.MachineConfig, Config: clients.OpenShift}
		if g.nodeChecks {
			o.NodeChecker = &node.Checker{Kube: clients.Kube, Image: node.ResolveImage(ctx, clients.Dynamic), PodTimeout: g.nodeTimeout}
		}
		if g.registryConfig == "" {
			if b, err := readClusterPullSecret(ctx, clients); err != nil {
				g.warnf("%s: %v; reading the payload anonymously (pass --registry-config)", cl.Name, err)
				o.ReleaseAuth = "anonymous"
			} else {
				o.Release.DockerConfigJSON = b
				o.ReleaseAuth = "the cluster's pull secret (" + clusterPullSecretNS + "/" + clusterPullSecretName + ")"
			}
		}
		gc.Pools = append(gc.Pools, gate.Run(ctx, o))
	}
	if len(gc.Pools) > 0 {
		gc.From, gc.To = gc.Pools[0].From, gc.Pools[0].To
	}
	return gc
}

// offline runs the checks that read no cluster, once per distinct site,
// release and reason: clusters of one group on one release share it.
func (g *fleetGater) offline(ctx context.Context, o gate.Options, site *profile.Site) *gate.Report {
	key, _ := json.Marshal(struct {
		Name          string
		Spec          any
		Pool, Current string
		Skip          string
	}{site.Metadata.Name, site.Spec, o.Current.Pool, o.CurrentVersion, o.ClusterSkip})
	g.mu.Lock()
	m := g.memo[string(key)]
	if m == nil {
		m = &gateMemo{}
		g.memo[string(key)] = m
	}
	g.mu.Unlock()
	m.once.Do(func() {
		o.Target, o.TargetErr = g.cat.Resolve(site.AtRelease(o.TargetVersion, "--to"))
		m.r = gate.Run(ctx, o)
	})
	return m.r
}

// accessFailure is a cluster's report when it has a context but cannot be
// read: one failing check, so the fleet gate names it and goes on.
func accessFailure(cl *fleet.Cluster, o gate.Options, err error) *gate.Report {
	pool := cl.Sites[0].Spec.Pool
	if o.Current != nil {
		pool = o.Current.Pool
	}
	from := o.CurrentVersion
	if from == "" {
		from = cl.Sites[0].Spec.OpenShift
	}
	r := &gate.Report{From: from, To: o.TargetVersion, Pool: pool, Started: time.Now()}
	r.Add(gate.Check{ID: fleet.IDClusterAccess, Status: gate.Fail, Message: err.Error(),
		Remedy: "check the cluster's context (oc --context " + cl.Name + " whoami), or leave it out of the kubeconfig to gate it offline"})
	return r
}
