package main

import (
	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/urfave/cli/v2"
)

// clusterFlags are the oc-style flags of every command that talks to a cluster.
func clusterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kubeconfig", Usage: "path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)", EnvVars: []string{"KUBECONFIG"}, TakesFile: true},
		&cli.StringFlag{Name: "context", Usage: "the kubeconfig context to use"},
	}
}

// clusterAccess reads the cluster flags.
func clusterAccess(c *cli.Context) cluster.Access {
	return cluster.Access{Kubeconfig: c.String("kubeconfig"), Context: c.String("context")}
}
