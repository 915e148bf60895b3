// Package cluster talks to a live cluster: kubeconfig/context loading, typed
// clients, server-side apply of a bundle, registry enablement, secrets.
package cluster

import (
	"errors"
	"fmt"
	"path/filepath"

	configclient "github.com/openshift/client-go/config/clientset/versioned"
	imageregistryclient "github.com/openshift/client-go/imageregistry/clientset/versioned"
	mcfgclient "github.com/openshift/client-go/machineconfiguration/clientset/versioned"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
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

// Clients bundles the typed clients mosc uses.
type Clients struct {
	Config        *rest.Config
	Kube          kubernetes.Interface
	MachineConfig mcfgclient.Interface
	OpenShift     configclient.Interface
	ImageRegistry imageregistryclient.Interface
	Dynamic       dynamic.Interface
}

// NewClients builds all clients from one rest.Config.
func NewClients(cfg *rest.Config) (*Clients, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mc, err := mcfgclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	oc, err := configclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ir, err := imageregistryclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{Config: cfg, Kube: kube, MachineConfig: mc, OpenShift: oc, ImageRegistry: ir, Dynamic: dyn}, nil
}

// Connect resolves access and builds the clients.
func (a Access) Connect() (*Clients, error) {
	cfg, err := a.RESTConfig()
	if err != nil {
		return nil, err
	}
	return NewClients(cfg)
}
