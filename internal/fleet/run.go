package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/mosc-dev/mosc/internal/cluster"
)

// DefaultParallel is --parallel's default: how many clusters a fleet
// command talks to at once.
const DefaultParallel = 8

// Each calls fn for 0..n-1 with at most parallel calls running at once,
// and returns when all have returned (or, once ctx is done, without
// starting the rest: fn sees ctx and reports that itself).
func Each(ctx context.Context, parallel, n int, fn func(ctx context.Context, i int)) {
	if parallel < 1 {
		parallel = 1
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			fn(ctx, i)
		}(i)
	}
	wg.Wait()
}

// Access is how a fleet command reaches one cluster, or why it cannot.
type Access struct {
	cluster.Access
	// Source says where the access comes from, for reports: "context
	// site-a of ~/.kube/fleet" or "kubeconfigs/site-a.yaml".
	Source string
	// Missing, when set, says why there is no access (Access is then zero).
	Missing string
}

// KubeconfigSuffixes are the file names tried for a cluster in a directory
// of kubeconfigs: DIR/<cluster>, DIR/<cluster>.yaml, DIR/<cluster>.kubeconfig.
var KubeconfigSuffixes = []string{"", ".yaml", ".kubeconfig"}

// Accesses finds each cluster's access from kubeconfig: a directory holds
// one kubeconfig per cluster (named as KubeconfigSuffixes say; its current
// context is used); otherwise it is a kubeconfig (or a $KUBECONFIG list,
// or "" for the default ~/.kube/config) with one context per cluster,
// named after the cluster. A cluster with neither gets Missing: fleet
// commands skip (gate) or report (status) it, and never guess another
// cluster's context.
func Accesses(kubeconfig string, clusters []string) (map[string]Access, error) {
	out := make(map[string]Access, len(clusters))
	if fi, err := os.Stat(kubeconfig); kubeconfig != "" && err == nil && fi.IsDir() {
		for _, c := range clusters {
			// The same words for every cluster: gate --fleet shares one
			// offline run among clusters that differ only in name.
			a := Access{Missing: fmt.Sprintf("no kubeconfig named after the cluster in %s (<cluster>, <cluster>.yaml or <cluster>.kubeconfig)", kubeconfig)}
			for _, s := range KubeconfigSuffixes {
				n := c + s
				p := filepath.Join(kubeconfig, n)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
					a = Access{Access: cluster.Access{Kubeconfig: p}, Source: p}
					break
				}
			}
			out[c] = a
		}
		return out, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch paths := filepath.SplitList(kubeconfig); {
	case len(paths) > 1:
		rules.Precedence = paths
	case kubeconfig != "":
		rules.ExplicitPath = kubeconfig
	}
	cfg, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %v", err)
	}
	where := kubeconfig
	if where == "" {
		where = strings.Join(rules.Precedence, string(filepath.ListSeparator))
	}
	for _, c := range clusters {
		if _, ok := cfg.Contexts[c]; !ok {
			out[c] = Access{Missing: fmt.Sprintf("no context named after the cluster in the kubeconfig (%s)", where)}
			continue
		}
		out[c] = Access{Access: cluster.Access{Kubeconfig: kubeconfig, Context: c}, Source: fmt.Sprintf("context %s", c)}
	}
	return out, nil
}
