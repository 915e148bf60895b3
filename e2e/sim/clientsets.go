package sim

import (
	configclient "github.com/openshift/client-go/config/clientset/versioned"
	mcfgclient "github.com/openshift/client-go/machineconfiguration/clientset/versioned"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// clientsets are client-go's full clientsets over the simulator's config,
// for client-go's informer factories: cluster.Clients holds package kube's
// small clients, which the factories do not take (and which the mosc binary
// uses so as not to link the clientsets; the simulator is test code).
type clientsets struct {
	kube   kubernetes.Interface
	mc     mcfgclient.Interface
	config configclient.Interface
}

func newClientsets(cfg *rest.Config) (*clientsets, error) {
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
	return &clientsets{kube: kube, mc: mc, config: oc}, nil
}
