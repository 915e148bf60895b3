package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// MetadataListerWatcher lists and watches only the objects' metadata
// (kind PartialObjectMetadata: name, labels, annotations... no spec, no
// status), as k8s.io/client-go/metadata asks for it. mosc's typed clients
// implement it; client-go's fakes do not (see NewMetadataInformer).
// Not client-go/metadata itself: its init builds two schemes
// (metadata.go: deleteScheme, parameterScheme) in every mosc process,
// render included (issue 15); these two requests need only its headers.
type MetadataListerWatcher interface {
	ListMetadata(ctx context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error)
	WatchMetadata(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// The Accept headers of k8s.io/client-go/metadata (v0.34.1, metadata.go):
// the API server answers with the metadata of each object, protobuf
// first; every kube-apiserver since 1.15 serves them, for built-in kinds
// and CRDs alike.
const (
	acceptMetadataList = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
	acceptMetadata     = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
)

// ListMetadata is List returning only each object's metadata.
func (c *client[T, L]) ListMetadata(ctx context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	r := c.rc.Get().SetHeader("Accept", acceptMetadataList).NamespaceIfScoped(c.namespace, c.namespace != "").Resource(c.resource).
		VersionedParams(&opts, ParameterCodec()).Timeout(timeoutOf(opts))
	obj, err := r.Do(ctx).Get()
	if err != nil {
		return nil, err
	}
	// A server that ignored the "as=" parameter would send the full list.
	list, ok := obj.(*metav1.PartialObjectMetadataList)
	if !ok {
		return nil, fmt.Errorf("listing %s: the API server sent %T, not the PartialObjectMetadataList asked for", c.resource, obj)
	}
	return list, nil
}

// WatchMetadata is Watch sending only each object's metadata.
func (c *client[T, L]) WatchMetadata(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.rc.Get().SetHeader("Accept", acceptMetadata).NamespaceIfScoped(c.namespace, c.namespace != "").Resource(c.resource).
		VersionedParams(&opts, ParameterCodec()).Timeout(timeoutOf(opts)).Watch(ctx)
}

// metadataLW adapts a MetadataListerWatcher to NewInformer.
type metadataLW struct{ c MetadataListerWatcher }

func (m metadataLW) List(ctx context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	return m.c.ListMetadata(ctx, opts)
}

func (m metadataLW) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return m.c.WatchMetadata(ctx, opts)
}

// NewMetadataInformer is NewInformer over the objects' metadata only
// (k8s.io/client-go/metadata/metadatainformer's informer for one
// resource): the cache holds *metav1.PartialObjectMetadata, unless a
// transform (SetTransform) turns them into something else — the watch
// turns them into Nodes with only the metadata it reads. For a client that
// cannot list metadata (client-go's fakes in unit tests), it is the typed
// informer over c, with obj as its example object.
func NewMetadataInformer[L runtime.Object](c ListerWatcher[L], obj runtime.Object, tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
	if m, ok := c.(MetadataListerWatcher); ok {
		return NewInformer[*metav1.PartialObjectMetadataList](metadataLW{m}, &metav1.PartialObjectMetadata{}, tweak)
	}
	return NewInformer(c, obj, tweak)
}
