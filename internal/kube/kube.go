// Package kube is mosc's own small Kubernetes and OpenShift client: typed
// clients for exactly the kinds mosc touches, discovery, a RESTMapper and
// informers, on k8s.io/client-go/rest.
//
// Why not client-go's clientsets: Go runs the init of every linked package,
// and k8s.io/client-go/kubernetes (every API group's typed client) pulls in
// k8s.io/client-go/kubernetes/scheme, whose init registers every kind of
// every group; the openshift/client-go clientsets, informers, discovery and
// restmapper do the same for theirs. That was most of `mosc render`'s process
// time (issue 15), on a path that never talks to a cluster. Here the scheme
// is built on first use, by the cluster commands only.
//
// The method shapes are client-go's (c.CoreV1().Pods(ns).Get(ctx, name,
// metav1.GetOptions{}) and so on), so code written against clientsets
// compiles unchanged against these interfaces, and client-go's fakes can
// stand in for them in unit tests through package kubetest.
//
// The import graph test (deps_test.go) keeps cmd/mosc from linking a
// clientset again.
package kube

import (
	"fmt"
	"net/http"
	"sync"

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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// codecs is the scheme of the kinds mosc reads and writes through typed
// clients, registered on first use (not at init: see the package comment).
type codecs struct {
	scheme *runtime.Scheme
	codecs serializer.CodecFactory
	params runtime.ParameterCodec
}

var (
	codecsOnce sync.Once
	codecsMade *codecs
)

// theCodecs builds the scheme on first use. A function with a sync.Once,
// not a package-level sync.OnceValue(...): that call would be init code
// every command runs at start-up (issue 15).
func theCodecs() *codecs {
	codecsOnce.Do(func() { codecsMade = newCodecs() })
	return codecsMade
}

func newCodecs() *codecs {
	s := runtime.NewScheme()
	// As k8s.io/client-go/kubernetes/scheme does: the unversioned meta types
	// (Status, WatchEvent, ListOptions...) under "v1".
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	// PartialObjectMetadata(List) under meta.k8s.io/v1, for metadata-only
	// lists and watches (metadata.go).
	if err := metav1.AddMetaToScheme(s); err != nil {
		panic(fmt.Sprintf("kube: building the scheme: %v", err))
	}
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, batchv1.AddToScheme, rbacv1.AddToScheme,
		authorizationv1.AddToScheme, authenticationv1.AddToScheme, storagev1.AddToScheme,
		mcfgv1.Install, configv1.Install, imageregistryv1.Install,
	} {
		if err := add(s); err != nil {
			// Only a programming error (a kind registered twice differently).
			panic(fmt.Sprintf("kube: building the scheme: %v", err))
		}
	}
	return &codecs{scheme: s, codecs: serializer.NewCodecFactory(s), params: runtime.NewParameterCodec(s)}
}

// Scheme is the scheme of the typed kinds (built on first use).
func Scheme() *runtime.Scheme { return theCodecs().scheme }

// ParameterCodec converts options structs (ListOptions, PodLogOptions...)
// to query parameters, as client-go's scheme.ParameterCodec does.
func ParameterCodec() runtime.ParameterCodec { return theCodecs().params }

// restClientFor is what client-go's generated setConfigDefaults and
// RESTClientFor do, with our scheme.
func restClientFor(cfg *rest.Config, httpClient *http.Client, gv schema.GroupVersion, apiPath string) (*rest.RESTClient, error) {
	c := *cfg
	c.GroupVersion = &gv
	c.APIPath = apiPath
	c.NegotiatedSerializer = theCodecs().codecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientForConfigAndClient(&c, httpClient)
}
