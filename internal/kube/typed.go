package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/gentype"
	"k8s.io/client-go/rest"
)

// ResourceInterface is the typed client of one kind without a status
// subresource: client-go's generated method set minus Apply, so a
// client-go typed client (or fake) satisfies it as is.
type ResourceInterface[T, L runtime.Object] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
	DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
}

// StatusResourceInterface is ResourceInterface for a kind with a status
// subresource.
type StatusResourceInterface[T, L runtime.Object] interface {
	ResourceInterface[T, L]
	UpdateStatus(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// CreateOnlyInterface is the client of a review kind (SelfSubjectAccessReview,
// TokenReview...), which the API server only creates.
type CreateOnlyInterface[T runtime.Object] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
}

// object is gentype's constraint (an API object with metadata).
type object interface {
	runtime.Object
	metav1.Object
}

// resource builds a typed client the way client-go's generated code does
// (gentype), with mosc's scheme as parameter codec. proto: the built-in
// kinds speak protobuf (cheaper to decode: a 1000-node watch lists and
// watches Nodes), as client-go's clients do; CRDs (OpenShift kinds) only JSON.
func resource[T object, L runtime.Object](name string, rc rest.Interface, ns string, newT func() T, newL func() L, proto bool) *gentype.ClientWithList[T, L] {
	var opts []gentype.Option[T]
	if proto {
		opts = append(opts, gentype.PrefersProtobuf[T]())
	}
	return gentype.NewClientWithList[T, L](name, rc, ParameterCodec(), ns, newT, newL, opts...)
}

// createOnly builds the client of a review kind.
func createOnly[T object](name string, rc rest.Interface, newT func() T) *gentype.Client[T] {
	return gentype.NewClient[T](name, rc, ParameterCodec(), "", newT, gentype.PrefersProtobuf[T]())
}
