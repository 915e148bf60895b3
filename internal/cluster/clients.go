// Package cluster talks to a live cluster: kubeconfig/context loading, typed
// clients, server-side apply of a bundle, registry enablement, secrets.
package cluster

import (
	"errors"
	"fmt"
	"path/filepath"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mosc-dev/mosc/internal/kube"
)

// Access says how to reach the cluster, as oc does: --kubeconfig, --context,
// then $KUBECONFIG, ~/.kube/config, and in-cluster config.
type Access struct {
	Kubeconfig string
	Context    string
	// WrapTransport, when set, wraps every client's transport (used to count
	// requests in benchmarks).
	WrapTransport func(rest.Config) rest.Config
}

// RESTConfig resolves the client configuration.
func (a Access) RESTConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch paths := filepath.SplitList(a.Kubeconfig); {
	case len(paths) > 1:
		// A $KUBECONFIG-style list (the flag reads $KUBECONFIG): merged in
		// order, as oc and kubectl do; missing files are skipped.
		rules.Precedence = paths
	case a.Kubeconfig != "":
		rules.ExplicitPath = a.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: a.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		// client-go's own message points at KUBERNETES_MASTER, which nobody sets.
		return nil, errors.New("cluster access: no kubeconfig found and not running in a pod: pass --kubeconfig, set KUBECONFIG, or log in with `oc login`")
	}
	if err != nil {
		return nil, fmt.Errorf("cluster access: %w", err)
	}
	cfg.UserAgent = "mosc"
	// Watches of a 1000-node pool start with a burst of list calls.
	cfg.QPS, cfg.Burst = 50, 100
	if a.WrapTransport != nil {
		c := a.WrapTransport(*cfg)
		cfg = &c
	}
	return cfg, nil
}

// Clients bundles the typed clients mosc uses. They are package kube's, not
// client-go's clientsets: linking those costs every command (render
// included) their scheme registration at start-up (issue 15). Tests adapt
// client-go fakes with package kube/kubetest.
type Clients struct {
	Config        *rest.Config
	Kube          kube.Interface
	MachineConfig kube.MachineConfigInterface
	OpenShift     kube.ConfigInterface
	ImageRegistry kube.ImageRegistryInterface
	Dynamic       dynamic.Interface
}

// NewClients builds all clients from one rest.Config.
func NewClients(cfg *rest.Config) (*Clients, error) {
	cs, err := kube.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{Config: cfg, Kube: cs, MachineConfig: cs, OpenShift: cs, ImageRegistry: cs, Dynamic: dyn}, nil
}

// Connect resolves access and builds the clients.
func (a Access) Connect() (*Clients, error) {
	cfg, err := a.RESTConfig()
	if err != nil {
		return nil, err
	}
	return NewClients(cfg)
}
