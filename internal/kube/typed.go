package kube

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
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

// object is an API object with metadata.
type object interface {
	runtime.Object
	metav1.Object
}

// client is one kind's typed client: k8s.io/client-go/gentype's Client and
// alsoLister (v0.34.1, gentype/type.go), whose package also holds the fake
// clients and so links client-go/testing, managedfields and kube-openapi.
type client[T object, L runtime.Object] struct {
	resource  string
	rc        rest.Interface
	namespace string // "" for cluster-scoped kinds
	newObject func() T
	newList   func() L
	// The built-in kinds speak protobuf (cheaper to decode: a 1000-node
	// watch lists and watches Nodes), as client-go's clients do; CRDs (the
	// OpenShift kinds) only JSON.
	protobuf bool
}

// resource builds a typed client.
func resource[T object, L runtime.Object](name string, rc rest.Interface, ns string, newT func() T, newL func() L, protobuf bool) *client[T, L] {
	return &client[T, L]{resource: name, rc: rc, namespace: ns, newObject: newT, newList: newL, protobuf: protobuf}
}

// createOnly builds the client of a review kind (built-in, protobuf).
func createOnly[T object](name string, rc rest.Interface, newT func() T) *client[T, runtime.Object] {
	return &client[T, runtime.Object]{resource: name, rc: rc, newObject: newT, protobuf: true}
}

func (c *client[T, L]) req(r *rest.Request) *rest.Request {
	return r.UseProtobufAsDefaultIfPreferred(c.protobuf).NamespaceIfScoped(c.namespace, c.namespace != "").Resource(c.resource)
}

func timeoutOf(o metav1.ListOptions) time.Duration {
	if o.TimeoutSeconds != nil {
		return time.Duration(*o.TimeoutSeconds) * time.Second
	}
	return 0
}

func (c *client[T, L]) Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error) {
	result := c.newObject()
	err := c.req(c.rc.Get()).Name(name).VersionedParams(&opts, ParameterCodec()).Do(ctx).Into(result)
	return result, err
}

func (c *client[T, L]) List(ctx context.Context, opts metav1.ListOptions) (L, error) {
	list := c.newList()
	err := c.req(c.rc.Get()).VersionedParams(&opts, ParameterCodec()).Timeout(timeoutOf(opts)).Do(ctx).Into(list)
	return list, err
}

func (c *client[T, L]) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.req(c.rc.Get()).VersionedParams(&opts, ParameterCodec()).Timeout(timeoutOf(opts)).Watch(ctx)
}

func (c *client[T, L]) Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error) {
	result := c.newObject()
	err := c.req(c.rc.Post()).VersionedParams(&opts, ParameterCodec()).Body(obj).Do(ctx).Into(result)
	return result, err
}

func (c *client[T, L]) Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error) {
	result := c.newObject()
	err := c.req(c.rc.Put()).Name(obj.GetName()).VersionedParams(&opts, ParameterCodec()).Body(obj).Do(ctx).Into(result)
	return result, err
}

func (c *client[T, L]) UpdateStatus(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error) {
	result := c.newObject()
	err := c.req(c.rc.Put()).Name(obj.GetName()).SubResource("status").VersionedParams(&opts, ParameterCodec()).Body(obj).Do(ctx).Into(result)
	return result, err
}

func (c *client[T, L]) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	return c.req(c.rc.Delete()).Name(name).Body(&opts).Do(ctx).Error()
}

func (c *client[T, L]) DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error {
	return c.req(c.rc.Delete()).VersionedParams(&listOpts, ParameterCodec()).Timeout(timeoutOf(listOpts)).Body(&opts).Do(ctx).Error()
}

func (c *client[T, L]) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error) {
	result := c.newObject()
	err := c.req(c.rc.Patch(pt)).Name(name).SubResource(subresources...).VersionedParams(&opts, ParameterCodec()).Body(data).Do(ctx).Into(result)
	return result, err
}
