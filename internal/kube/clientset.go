package kube

import (
	"context"

	configv1 "github.com/openshift/api/config/v1"
	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// Clientset implements Interface, MachineConfigInterface, ConfigInterface
// and ImageRegistryInterface over one HTTP client.
type Clientset struct {
	discovery                       *Discovery
	core, batch, rbac, authz, authn rest.Interface
	storage                         rest.Interface
	mcfg, config, imageregistry     rest.Interface
}

var (
	_ Interface              = (*Clientset)(nil)
	_ MachineConfigInterface = (*Clientset)(nil)
	_ ConfigInterface        = (*Clientset)(nil)
	_ ImageRegistryInterface = (*Clientset)(nil)
)

// NewForConfig builds the clients from one rest.Config, sharing one HTTP
// client (as client-go's NewForConfig does).
func NewForConfig(cfg *rest.Config) (*Clientset, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	cs := &Clientset{}
	for _, g := range []struct {
		rc      *rest.Interface
		gv      schema.GroupVersion
		apiPath string
	}{
		{&cs.core, corev1.SchemeGroupVersion, "/api"},
		{&cs.batch, batchv1.SchemeGroupVersion, "/apis"},
		{&cs.rbac, rbacv1.SchemeGroupVersion, "/apis"},
		{&cs.authz, authorizationv1.SchemeGroupVersion, "/apis"},
		{&cs.authn, authenticationv1.SchemeGroupVersion, "/apis"},
		{&cs.storage, storagev1.SchemeGroupVersion, "/apis"},
		{&cs.mcfg, mcfgv1.GroupVersion, "/apis"},
		{&cs.config, configv1.GroupVersion, "/apis"},
		{&cs.imageregistry, imageregistryv1.GroupVersion, "/apis"},
	} {
		rc, err := restClientFor(cfg, httpClient, g.gv, g.apiPath)
		if err != nil {
			return nil, err
		}
		*g.rc = rc
	}
	if cs.discovery, err = NewDiscoveryForConfigAndClient(cfg, httpClient); err != nil {
		return nil, err
	}
	return cs, nil
}

func (c *Clientset) Discovery() DiscoveryInterface { return c.discovery }
func (c *Clientset) CoreV1() CoreV1Interface       { return coreV1{c.core} }
func (c *Clientset) BatchV1() BatchV1Interface     { return batchV1{c.batch} }
func (c *Clientset) RbacV1() RbacV1Interface       { return rbacV1{c.rbac} }
func (c *Clientset) AuthorizationV1() AuthorizationV1Interface {
	return authorizationV1{c.authz}
}
func (c *Clientset) AuthenticationV1() AuthenticationV1Interface {
	return authenticationV1{c.authn}
}
func (c *Clientset) StorageV1() StorageV1Interface { return storageV1{c.storage} }
func (c *Clientset) MachineconfigurationV1() MachineconfigurationV1Interface {
	return mcfgV1{c.mcfg}
}
func (c *Clientset) ConfigV1() ConfigV1Interface { return configV1{c.config} }
func (c *Clientset) ImageregistryV1() ImageregistryV1Interface {
	return imageregistryV1{c.imageregistry}
}

type coreV1 struct{ rc rest.Interface }

func (g coreV1) RESTClient() rest.Interface { return g.rc }
func (g coreV1) Nodes() NodeInterface {
	return resource("nodes", g.rc, "", func() *corev1.Node { return &corev1.Node{} }, func() *corev1.NodeList { return &corev1.NodeList{} }, true)
}
func (g coreV1) Pods(ns string) PodInterface {
	return pods{resource("pods", g.rc, ns, func() *corev1.Pod { return &corev1.Pod{} }, func() *corev1.PodList { return &corev1.PodList{} }, true)}
}
func (g coreV1) Secrets(ns string) SecretInterface {
	return resource("secrets", g.rc, ns, func() *corev1.Secret { return &corev1.Secret{} }, func() *corev1.SecretList { return &corev1.SecretList{} }, true)
}
func (g coreV1) ConfigMaps(ns string) ConfigMapInterface {
	return resource("configmaps", g.rc, ns, func() *corev1.ConfigMap { return &corev1.ConfigMap{} }, func() *corev1.ConfigMapList { return &corev1.ConfigMapList{} }, true)
}
func (g coreV1) PersistentVolumeClaims(ns string) PersistentVolumeClaimInterface {
	return resource("persistentvolumeclaims", g.rc, ns, func() *corev1.PersistentVolumeClaim { return &corev1.PersistentVolumeClaim{} }, func() *corev1.PersistentVolumeClaimList { return &corev1.PersistentVolumeClaimList{} }, true)
}
func (g coreV1) ServiceAccounts(ns string) ServiceAccountInterface {
	return serviceAccounts{resource("serviceaccounts", g.rc, ns, func() *corev1.ServiceAccount { return &corev1.ServiceAccount{} }, func() *corev1.ServiceAccountList { return &corev1.ServiceAccountList{} }, true)}
}
func (g coreV1) Namespaces() NamespaceInterface {
	return resource("namespaces", g.rc, "", func() *corev1.Namespace { return &corev1.Namespace{} }, func() *corev1.NamespaceList { return &corev1.NamespaceList{} }, true)
}

func (g coreV1) Events(ns string) ResourceInterface[*corev1.Event, *corev1.EventList] {
	return resource("events", g.rc, ns, func() *corev1.Event { return &corev1.Event{} }, func() *corev1.EventList { return &corev1.EventList{} }, true)
}

type pods struct {
	*client[*corev1.Pod, *corev1.PodList]
}

// GetLogs is client-go's (kubernetes/typed/core/v1/pod_expansion.go).
func (c pods) GetLogs(name string, opts *corev1.PodLogOptions) *rest.Request {
	return c.rc.Get().Namespace(c.namespace).Name(name).Resource("pods").SubResource("log").VersionedParams(opts, ParameterCodec())
}

type serviceAccounts struct {
	*client[*corev1.ServiceAccount, *corev1.ServiceAccountList]
}

// CreateToken is client-go's (kubernetes/typed/core/v1/serviceaccount.go).
func (c serviceAccounts) CreateToken(ctx context.Context, name string, tr *authenticationv1.TokenRequest, opts metav1.CreateOptions) (*authenticationv1.TokenRequest, error) {
	result := &authenticationv1.TokenRequest{}
	err := c.rc.Post().UseProtobufAsDefault().Namespace(c.namespace).Resource("serviceaccounts").Name(name).SubResource("token").
		VersionedParams(&opts, ParameterCodec()).Body(tr).Do(ctx).Into(result)
	return result, err
}

type storageV1 struct{ rc rest.Interface }

func (g storageV1) RESTClient() rest.Interface { return g.rc }
func (g storageV1) StorageClasses() ResourceInterface[*storagev1.StorageClass, *storagev1.StorageClassList] {
	return resource("storageclasses", g.rc, "", func() *storagev1.StorageClass { return &storagev1.StorageClass{} }, func() *storagev1.StorageClassList { return &storagev1.StorageClassList{} }, true)
}

type batchV1 struct{ rc rest.Interface }

func (g batchV1) RESTClient() rest.Interface { return g.rc }
func (g batchV1) Jobs(ns string) StatusResourceInterface[*batchv1.Job, *batchv1.JobList] {
	return resource("jobs", g.rc, ns, func() *batchv1.Job { return &batchv1.Job{} }, func() *batchv1.JobList { return &batchv1.JobList{} }, true)
}

type rbacV1 struct{ rc rest.Interface }

func (g rbacV1) RESTClient() rest.Interface { return g.rc }
func (g rbacV1) ClusterRoles() ResourceInterface[*rbacv1.ClusterRole, *rbacv1.ClusterRoleList] {
	return resource("clusterroles", g.rc, "", func() *rbacv1.ClusterRole { return &rbacv1.ClusterRole{} }, func() *rbacv1.ClusterRoleList { return &rbacv1.ClusterRoleList{} }, true)
}
func (g rbacV1) ClusterRoleBindings() ResourceInterface[*rbacv1.ClusterRoleBinding, *rbacv1.ClusterRoleBindingList] {
	return resource("clusterrolebindings", g.rc, "", func() *rbacv1.ClusterRoleBinding { return &rbacv1.ClusterRoleBinding{} }, func() *rbacv1.ClusterRoleBindingList { return &rbacv1.ClusterRoleBindingList{} }, true)
}
func (g rbacV1) Roles(ns string) ResourceInterface[*rbacv1.Role, *rbacv1.RoleList] {
	return resource("roles", g.rc, ns, func() *rbacv1.Role { return &rbacv1.Role{} }, func() *rbacv1.RoleList { return &rbacv1.RoleList{} }, true)
}
func (g rbacV1) RoleBindings(ns string) ResourceInterface[*rbacv1.RoleBinding, *rbacv1.RoleBindingList] {
	return resource("rolebindings", g.rc, ns, func() *rbacv1.RoleBinding { return &rbacv1.RoleBinding{} }, func() *rbacv1.RoleBindingList { return &rbacv1.RoleBindingList{} }, true)
}

type authorizationV1 struct{ rc rest.Interface }

func (g authorizationV1) RESTClient() rest.Interface { return g.rc }
func (g authorizationV1) SelfSubjectAccessReviews() CreateOnlyInterface[*authorizationv1.SelfSubjectAccessReview] {
	return createOnly("selfsubjectaccessreviews", g.rc, func() *authorizationv1.SelfSubjectAccessReview { return &authorizationv1.SelfSubjectAccessReview{} })
}

type authenticationV1 struct{ rc rest.Interface }

func (g authenticationV1) RESTClient() rest.Interface { return g.rc }
func (g authenticationV1) SelfSubjectReviews() CreateOnlyInterface[*authenticationv1.SelfSubjectReview] {
	return createOnly("selfsubjectreviews", g.rc, func() *authenticationv1.SelfSubjectReview { return &authenticationv1.SelfSubjectReview{} })
}
func (g authenticationV1) TokenReviews() CreateOnlyInterface[*authenticationv1.TokenReview] {
	return createOnly("tokenreviews", g.rc, func() *authenticationv1.TokenReview { return &authenticationv1.TokenReview{} })
}

type mcfgV1 struct{ rc rest.Interface }

func (g mcfgV1) RESTClient() rest.Interface { return g.rc }
func (g mcfgV1) MachineConfigPools() StatusResourceInterface[*mcfgv1.MachineConfigPool, *mcfgv1.MachineConfigPoolList] {
	return resource("machineconfigpools", g.rc, "", func() *mcfgv1.MachineConfigPool { return &mcfgv1.MachineConfigPool{} }, func() *mcfgv1.MachineConfigPoolList { return &mcfgv1.MachineConfigPoolList{} }, false)
}
func (g mcfgV1) MachineConfigs() ResourceInterface[*mcfgv1.MachineConfig, *mcfgv1.MachineConfigList] {
	return resource("machineconfigs", g.rc, "", func() *mcfgv1.MachineConfig { return &mcfgv1.MachineConfig{} }, func() *mcfgv1.MachineConfigList { return &mcfgv1.MachineConfigList{} }, false)
}
func (g mcfgV1) MachineOSConfigs() StatusResourceInterface[*mcfgv1.MachineOSConfig, *mcfgv1.MachineOSConfigList] {
	return resource("machineosconfigs", g.rc, "", func() *mcfgv1.MachineOSConfig { return &mcfgv1.MachineOSConfig{} }, func() *mcfgv1.MachineOSConfigList { return &mcfgv1.MachineOSConfigList{} }, false)
}
func (g mcfgV1) MachineOSBuilds() StatusResourceInterface[*mcfgv1.MachineOSBuild, *mcfgv1.MachineOSBuildList] {
	return resource("machineosbuilds", g.rc, "", func() *mcfgv1.MachineOSBuild { return &mcfgv1.MachineOSBuild{} }, func() *mcfgv1.MachineOSBuildList { return &mcfgv1.MachineOSBuildList{} }, false)
}
func (g mcfgV1) MachineConfigNodes() StatusResourceInterface[*mcfgv1.MachineConfigNode, *mcfgv1.MachineConfigNodeList] {
	return resource("machineconfignodes", g.rc, "", func() *mcfgv1.MachineConfigNode { return &mcfgv1.MachineConfigNode{} }, func() *mcfgv1.MachineConfigNodeList { return &mcfgv1.MachineConfigNodeList{} }, false)
}

type configV1 struct{ rc rest.Interface }

func (g configV1) RESTClient() rest.Interface { return g.rc }
func (g configV1) ClusterVersions() StatusResourceInterface[*configv1.ClusterVersion, *configv1.ClusterVersionList] {
	return resource("clusterversions", g.rc, "", func() *configv1.ClusterVersion { return &configv1.ClusterVersion{} }, func() *configv1.ClusterVersionList { return &configv1.ClusterVersionList{} }, false)
}

func (g configV1) FeatureGates() StatusResourceInterface[*configv1.FeatureGate, *configv1.FeatureGateList] {
	return resource("featuregates", g.rc, "", func() *configv1.FeatureGate { return &configv1.FeatureGate{} }, func() *configv1.FeatureGateList { return &configv1.FeatureGateList{} }, false)
}

func (g configV1) Infrastructures() StatusResourceInterface[*configv1.Infrastructure, *configv1.InfrastructureList] {
	return resource("infrastructures", g.rc, "", func() *configv1.Infrastructure { return &configv1.Infrastructure{} }, func() *configv1.InfrastructureList { return &configv1.InfrastructureList{} }, false)
}

type imageregistryV1 struct{ rc rest.Interface }

func (g imageregistryV1) RESTClient() rest.Interface { return g.rc }
func (g imageregistryV1) Configs() StatusResourceInterface[*imageregistryv1.Config, *imageregistryv1.ConfigList] {
	return resource("configs", g.rc, "", func() *imageregistryv1.Config { return &imageregistryv1.Config{} }, func() *imageregistryv1.ConfigList { return &imageregistryv1.ConfigList{} }, false)
}
