// Package kubetest adapts client-go and openshift/client-go clientsets
// (their fakes in unit tests, full clientsets in the e2e harness) to the
// interfaces of package kube. Only tests import it: it links the
// clientsets, which the mosc binary must not (kube's package comment).
//
//	kube := kubefake.NewClientset(objs...)        // keeps PrependReactor, Actions...
//	w := &watch.Watcher{Kube: kubetest.Kube(kube), MachineConfig: kubetest.MachineConfig(mcfake.NewClientset())}
package kubetest

import (
	configv1 "github.com/openshift/api/config/v1"
	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	configclient "github.com/openshift/client-go/config/clientset/versioned"
	imageregistryclient "github.com/openshift/client-go/imageregistry/clientset/versioned"
	mcfgclient "github.com/openshift/client-go/machineconfiguration/clientset/versioned"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mosc-dev/mosc/internal/kube"
)

// Kube adapts a kubernetes.Interface (fake.NewClientset(), or a real one).
func Kube(c kubernetes.Interface) kube.Interface { return kubeAdapter{c} }

// MachineConfig adapts a machineconfiguration clientset.
func MachineConfig(c mcfgclient.Interface) kube.MachineConfigInterface { return mcfgAdapter{c} }

// Config adapts a config.openshift.io clientset.
func Config(c configclient.Interface) kube.ConfigInterface { return configAdapter{c} }

// ImageRegistry adapts an imageregistry clientset.
func ImageRegistry(c imageregistryclient.Interface) kube.ImageRegistryInterface {
	return imageRegistryAdapter{c}
}

type kubeAdapter struct{ c kubernetes.Interface }

func (a kubeAdapter) Discovery() kube.DiscoveryInterface { return a.c.Discovery() }
func (a kubeAdapter) CoreV1() kube.CoreV1Interface       { return coreV1{a.c} }
func (a kubeAdapter) BatchV1() kube.BatchV1Interface     { return batchV1{a.c} }
func (a kubeAdapter) RbacV1() kube.RbacV1Interface       { return rbacV1{a.c} }
func (a kubeAdapter) AuthorizationV1() kube.AuthorizationV1Interface {
	return authorizationV1{a.c}
}
func (a kubeAdapter) AuthenticationV1() kube.AuthenticationV1Interface {
	return authenticationV1{a.c}
}
func (a kubeAdapter) StorageV1() kube.StorageV1Interface { return storageV1{a.c} }

type storageV1 struct{ c kubernetes.Interface }

func (g storageV1) RESTClient() rest.Interface { return g.c.StorageV1().RESTClient() }
func (g storageV1) StorageClasses() kube.ResourceInterface[*storagev1.StorageClass, *storagev1.StorageClassList] {
	return g.c.StorageV1().StorageClasses()
}

// Each group adapter only converts the group's return types: client-go's
// typed clients have the kube interfaces' method sets already.
type coreV1 struct{ c kubernetes.Interface }

func (g coreV1) RESTClient() rest.Interface          { return g.c.CoreV1().RESTClient() }
func (g coreV1) Nodes() kube.NodeInterface           { return g.c.CoreV1().Nodes() }
func (g coreV1) Pods(ns string) kube.PodInterface    { return g.c.CoreV1().Pods(ns) }
func (g coreV1) Namespaces() kube.NamespaceInterface { return g.c.CoreV1().Namespaces() }
func (g coreV1) Secrets(ns string) kube.SecretInterface {
	return g.c.CoreV1().Secrets(ns)
}
func (g coreV1) ConfigMaps(ns string) kube.ConfigMapInterface {
	return g.c.CoreV1().ConfigMaps(ns)
}
func (g coreV1) PersistentVolumeClaims(ns string) kube.PersistentVolumeClaimInterface {
	return g.c.CoreV1().PersistentVolumeClaims(ns)
}
func (g coreV1) ServiceAccounts(ns string) kube.ServiceAccountInterface {
	return g.c.CoreV1().ServiceAccounts(ns)
}

func (g coreV1) Events(ns string) kube.ResourceInterface[*corev1.Event, *corev1.EventList] {
	return g.c.CoreV1().Events(ns)
}

type batchV1 struct{ c kubernetes.Interface }

func (g batchV1) RESTClient() rest.Interface { return g.c.BatchV1().RESTClient() }
func (g batchV1) Jobs(ns string) kube.StatusResourceInterface[*batchv1.Job, *batchv1.JobList] {
	return g.c.BatchV1().Jobs(ns)
}

type rbacV1 struct{ c kubernetes.Interface }

func (g rbacV1) RESTClient() rest.Interface { return g.c.RbacV1().RESTClient() }
func (g rbacV1) ClusterRoles() kube.ResourceInterface[*rbacv1.ClusterRole, *rbacv1.ClusterRoleList] {
	return g.c.RbacV1().ClusterRoles()
}
func (g rbacV1) ClusterRoleBindings() kube.ResourceInterface[*rbacv1.ClusterRoleBinding, *rbacv1.ClusterRoleBindingList] {
	return g.c.RbacV1().ClusterRoleBindings()
}
func (g rbacV1) Roles(ns string) kube.ResourceInterface[*rbacv1.Role, *rbacv1.RoleList] {
	return g.c.RbacV1().Roles(ns)
}
func (g rbacV1) RoleBindings(ns string) kube.ResourceInterface[*rbacv1.RoleBinding, *rbacv1.RoleBindingList] {
	return g.c.RbacV1().RoleBindings(ns)
}

type authorizationV1 struct{ c kubernetes.Interface }

func (g authorizationV1) RESTClient() rest.Interface { return g.c.AuthorizationV1().RESTClient() }
func (g authorizationV1) SelfSubjectAccessReviews() kube.CreateOnlyInterface[*authorizationv1.SelfSubjectAccessReview] {
	return g.c.AuthorizationV1().SelfSubjectAccessReviews()
}

type authenticationV1 struct{ c kubernetes.Interface }

func (g authenticationV1) RESTClient() rest.Interface { return g.c.AuthenticationV1().RESTClient() }
func (g authenticationV1) SelfSubjectReviews() kube.CreateOnlyInterface[*authenticationv1.SelfSubjectReview] {
	return g.c.AuthenticationV1().SelfSubjectReviews()
}
func (g authenticationV1) TokenReviews() kube.CreateOnlyInterface[*authenticationv1.TokenReview] {
	return g.c.AuthenticationV1().TokenReviews()
}

type mcfgAdapter struct{ c mcfgclient.Interface }

func (a mcfgAdapter) Discovery() kube.DiscoveryInterface { return a.c.Discovery() }
func (a mcfgAdapter) MachineconfigurationV1() kube.MachineconfigurationV1Interface {
	return mcfgV1(a)
}

type mcfgV1 struct{ c mcfgclient.Interface }

func (g mcfgV1) RESTClient() rest.Interface { return g.c.MachineconfigurationV1().RESTClient() }
func (g mcfgV1) MachineConfigPools() kube.StatusResourceInterface[*mcfgv1.MachineConfigPool, *mcfgv1.MachineConfigPoolList] {
	return g.c.MachineconfigurationV1().MachineConfigPools()
}
func (g mcfgV1) MachineConfigs() kube.ResourceInterface[*mcfgv1.MachineConfig, *mcfgv1.MachineConfigList] {
	return g.c.MachineconfigurationV1().MachineConfigs()
}
func (g mcfgV1) MachineOSConfigs() kube.StatusResourceInterface[*mcfgv1.MachineOSConfig, *mcfgv1.MachineOSConfigList] {
	return g.c.MachineconfigurationV1().MachineOSConfigs()
}
func (g mcfgV1) MachineOSBuilds() kube.StatusResourceInterface[*mcfgv1.MachineOSBuild, *mcfgv1.MachineOSBuildList] {
	return g.c.MachineconfigurationV1().MachineOSBuilds()
}
func (g mcfgV1) MachineConfigNodes() kube.StatusResourceInterface[*mcfgv1.MachineConfigNode, *mcfgv1.MachineConfigNodeList] {
	return g.c.MachineconfigurationV1().MachineConfigNodes()
}

type configAdapter struct{ c configclient.Interface }

func (a configAdapter) Discovery() kube.DiscoveryInterface { return a.c.Discovery() }
func (a configAdapter) ConfigV1() kube.ConfigV1Interface   { return configV1(a) }

type configV1 struct{ c configclient.Interface }

func (g configV1) RESTClient() rest.Interface { return g.c.ConfigV1().RESTClient() }
func (g configV1) ClusterVersions() kube.StatusResourceInterface[*configv1.ClusterVersion, *configv1.ClusterVersionList] {
	return g.c.ConfigV1().ClusterVersions()
}

func (g configV1) FeatureGates() kube.StatusResourceInterface[*configv1.FeatureGate, *configv1.FeatureGateList] {
	return g.c.ConfigV1().FeatureGates()
}

func (g configV1) Infrastructures() kube.StatusResourceInterface[*configv1.Infrastructure, *configv1.InfrastructureList] {
	return g.c.ConfigV1().Infrastructures()
}

type imageRegistryAdapter struct{ c imageregistryclient.Interface }

func (a imageRegistryAdapter) Discovery() kube.DiscoveryInterface { return a.c.Discovery() }
func (a imageRegistryAdapter) ImageregistryV1() kube.ImageregistryV1Interface {
	return imageregistryV1(a)
}

type imageregistryV1 struct{ c imageregistryclient.Interface }

func (g imageregistryV1) RESTClient() rest.Interface { return g.c.ImageregistryV1().RESTClient() }
func (g imageregistryV1) Configs() kube.StatusResourceInterface[*imageregistryv1.Config, *imageregistryv1.ConfigList] {
	return g.c.ImageregistryV1().Configs()
}
