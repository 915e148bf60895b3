package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/mirrors"
)

// mirrorConfigFlag is gate's --mirror-config.
func mirrorConfigFlag() cli.Flag {
	return &cli.StringFlag{Name: "mirror-config", TakesFile: true,
		Usage: "read the image mirror rules from `FILE` (ImageDigestMirrorSet, ImageTagMirrorSet, ImageContentSourcePolicy YAML, as oc get -o yaml or oc-mirror write them) instead of the cluster's"}
}

// gateMirrors sets gate's mirror rules and network: --mirror-config, else
// the cluster's IDMS/ITMS/ICSP; the cluster Proxy and CA bundle when a
// cluster is read. Without a cluster the environment's proxy and the
// system CAs apply.
func gateMirrors(ctx context.Context, c *cli.Context, clients *cluster.Clients, opts *gate.Options) error {
	var rules []mirrors.Rule
	file := c.String("mirror-config")
	if c.IsSet("mirror-config") && file == "" {
		return fmt.Errorf("--mirror-config: must not be empty")
	}
	if file != "" {
		r, err := mirrors.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--mirror-config %w", err)
		}
		rules = r
		opts.MirrorSource = "--mirror-config " + file
	}
	if clients != nil && !opts.Offline {
		getCM := func(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
			return clients.Kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		}
		cr, net, err := mirrors.ReadCluster(ctx, clients.Dynamic, getCM)
		if err != nil && net == nil {
			return fmt.Errorf("reading the cluster's mirror and proxy configuration: %w", err)
		}
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: %v\n", err)
		}
		opts.Network = net
		if file == "" {
			rules = cr
			opts.MirrorSource = clusterRuleSource(cr)
		}
	}
	set, err := mirrors.Compile(rules)
	if err != nil {
		if file != "" {
			return fmt.Errorf("--mirror-config %s: %w", file, err)
		}
		return fmt.Errorf("the cluster's mirror rules (the Machine Config Operator refuses them too): %w", err)
	}
	opts.Mirrors = set
	return nil
}

// clusterRuleSource names the cluster objects the rules came from.
func clusterRuleSource(rules []mirrors.Rule) string {
	seen := map[string]bool{}
	var objs []string
	for _, r := range rules {
		o, _, _ := strings.Cut(r.Origin, " ")
		if !seen[o] {
			seen[o] = true
			objs = append(objs, o)
		}
	}
	sort.Strings(objs)
	if len(objs) == 0 {
		return "the cluster (no ImageDigestMirrorSet, ImageTagMirrorSet or ImageContentSourcePolicy)"
	}
	return "the cluster's " + strings.Join(objs, ", ")
}
