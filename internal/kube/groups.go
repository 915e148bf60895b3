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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// To add a kind: a method on the group's interface below (client-go's name
// and signature, so fakes keep satisfying it), its implementation on the
// group's client type, the group's AddToScheme in kube.go if the group is
// new, and the same method on the adapter in package kubetest.

// Interface is the Kubernetes part: k8s.io/client-go/kubernetes.Interface's
// shape, for the groups and kinds mosc uses.
type Interface interface {
	Discovery() DiscoveryInterface
	CoreV1() CoreV1Interface
	BatchV1() BatchV1Interface
	RbacV1() RbacV1Interface
	AuthorizationV1() AuthorizationV1Interface
	AuthenticationV1() AuthenticationV1Interface
	StorageV1() StorageV1Interface
}

// MachineConfigInterface is openshift/client-go's machineconfiguration
// clientset shape.
type MachineConfigInterface interface {
	Discovery() DiscoveryInterface
	MachineconfigurationV1() MachineconfigurationV1Interface
}

// ConfigInterface is openshift/client-go's config clientset shape.
type ConfigInterface interface {
	Discovery() DiscoveryInterface
	ConfigV1() ConfigV1Interface
}

// ImageRegistryInterface is openshift/client-go's imageregistry clientset shape.
type ImageRegistryInterface interface {
	Discovery() DiscoveryInterface
	ImageregistryV1() ImageregistryV1Interface
}

type (
	NodeInterface                  = StatusResourceInterface[*corev1.Node, *corev1.NodeList]
	SecretInterface                = ResourceInterface[*corev1.Secret, *corev1.SecretList]
	ConfigMapInterface             = ResourceInterface[*corev1.ConfigMap, *corev1.ConfigMapList]
	PersistentVolumeClaimInterface = StatusResourceInterface[*corev1.PersistentVolumeClaim, *corev1.PersistentVolumeClaimList]
)

// PodInterface adds the log subresource.
type PodInterface interface {
	StatusResourceInterface[*corev1.Pod, *corev1.PodList]
	GetLogs(name string, opts *corev1.PodLogOptions) *rest.Request
}

// ServiceAccountInterface adds the token subresource.
type ServiceAccountInterface interface {
	ResourceInterface[*corev1.ServiceAccount, *corev1.ServiceAccountList]
	CreateToken(ctx context.Context, serviceAccountName string, tokenRequest *authenticationv1.TokenRequest, opts metav1.CreateOptions) (*authenticationv1.TokenRequest, error)
}

// NamespaceInterface: client-go skips deleteCollection for namespaces.
type NamespaceInterface interface {
	Create(ctx context.Context, obj *corev1.Namespace, opts metav1.CreateOptions) (*corev1.Namespace, error)
	Update(ctx context.Context, obj *corev1.Namespace, opts metav1.UpdateOptions) (*corev1.Namespace, error)
	UpdateStatus(ctx context.Context, obj *corev1.Namespace, opts metav1.UpdateOptions) (*corev1.Namespace, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Namespace, error)
	List(ctx context.Context, opts metav1.ListOptions) (*corev1.NamespaceList, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*corev1.Namespace, error)
}

// CoreV1Interface is the core group ("" v1).
type CoreV1Interface interface {
	RESTClient() rest.Interface
	Nodes() NodeInterface
	Pods(namespace string) PodInterface
	Secrets(namespace string) SecretInterface
	ConfigMaps(namespace string) ConfigMapInterface
	PersistentVolumeClaims(namespace string) PersistentVolumeClaimInterface
	ServiceAccounts(namespace string) ServiceAccountInterface
	Namespaces() NamespaceInterface
	Events(namespace string) ResourceInterface[*corev1.Event, *corev1.EventList]
}

// BatchV1Interface is batch/v1.
type BatchV1Interface interface {
	RESTClient() rest.Interface
	Jobs(namespace string) StatusResourceInterface[*batchv1.Job, *batchv1.JobList]
}

// RbacV1Interface is rbac.authorization.k8s.io/v1.
type RbacV1Interface interface {
	RESTClient() rest.Interface
	ClusterRoles() ResourceInterface[*rbacv1.ClusterRole, *rbacv1.ClusterRoleList]
	ClusterRoleBindings() ResourceInterface[*rbacv1.ClusterRoleBinding, *rbacv1.ClusterRoleBindingList]
	Roles(namespace string) ResourceInterface[*rbacv1.Role, *rbacv1.RoleList]
	RoleBindings(namespace string) ResourceInterface[*rbacv1.RoleBinding, *rbacv1.RoleBindingList]
}

// StorageV1Interface is storage.k8s.io/v1.
type StorageV1Interface interface {
	RESTClient() rest.Interface
	StorageClasses() ResourceInterface[*storagev1.StorageClass, *storagev1.StorageClassList]
}

// AuthorizationV1Interface is authorization.k8s.io/v1.
type AuthorizationV1Interface interface {
	RESTClient() rest.Interface
	SelfSubjectAccessReviews() CreateOnlyInterface[*authorizationv1.SelfSubjectAccessReview]
}

// AuthenticationV1Interface is authentication.k8s.io/v1.
type AuthenticationV1Interface interface {
	RESTClient() rest.Interface
	SelfSubjectReviews() CreateOnlyInterface[*authenticationv1.SelfSubjectReview]
	TokenReviews() CreateOnlyInterface[*authenticationv1.TokenReview]
}

// MachineconfigurationV1Interface is machineconfiguration.openshift.io/v1.
type MachineconfigurationV1Interface interface {
	RESTClient() rest.Interface
	MachineConfigPools() StatusResourceInterface[*mcfgv1.MachineConfigPool, *mcfgv1.MachineConfigPoolList]
	MachineConfigs() ResourceInterface[*mcfgv1.MachineConfig, *mcfgv1.MachineConfigList]
	MachineOSConfigs() StatusResourceInterface[*mcfgv1.MachineOSConfig, *mcfgv1.MachineOSConfigList]
	MachineOSBuilds() StatusResourceInterface[*mcfgv1.MachineOSBuild, *mcfgv1.MachineOSBuildList]
	MachineConfigNodes() StatusResourceInterface[*mcfgv1.MachineConfigNode, *mcfgv1.MachineConfigNodeList]
}

// ConfigV1Interface is config.openshift.io/v1.
type ConfigV1Interface interface {
	RESTClient() rest.Interface
	ClusterVersions() StatusResourceInterface[*configv1.ClusterVersion, *configv1.ClusterVersionList]
	FeatureGates() StatusResourceInterface[*configv1.FeatureGate, *configv1.FeatureGateList]
	Infrastructures() StatusResourceInterface[*configv1.Infrastructure, *configv1.InfrastructureList]
}

// ImageregistryV1Interface is imageregistry.operator.openshift.io/v1.
type ImageregistryV1Interface interface {
	RESTClient() rest.Interface
	Configs() StatusResourceInterface[*imageregistryv1.Config, *imageregistryv1.ConfigList]
}
