package main

import (
	"context"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
)

// checkServed refuses (exit 2, before any write) a plan whose
// MachineOSConfig version the API server does not serve, naming the plan's
// release and API, what the server serves and the cluster's version: e.g. a
// site saying "4.18" (v1 from 4.18.20) against a 4.18.15 cluster (v1alpha1).
func checkServed(clients *cluster.Clients, cat *profile.Catalog, plan *profile.Plan, clusterVersion string) error {
	if _, err := cluster.CheckServedAPI(clients.Kube.Discovery(), cat, plan, clusterVersion); err != nil {
		return failWith(exitError, err)
	}
	return nil
}

// checkPoolStream refuses (exit 2, before any write) a pool on another OS
// image stream than the plan's RHEL major: RHEL 10 pools (4.21+).
func checkPoolStream(ctx context.Context, clients *cluster.Clients, plan *profile.Plan) error {
	if plan.Pool == "" || plan.OpenShift.RHELMajor == "" {
		return nil
	}
	if err := cluster.CheckPoolStream(ctx, clients.Dynamic, plan.Pool, plan.OpenShift.RHELMajor); err != nil {
		return failWith(exitError, err)
	}
	return nil
}
