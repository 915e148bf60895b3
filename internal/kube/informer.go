package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// ListerWatcher is the list and watch half of a typed client.
type ListerWatcher[L runtime.Object] interface {
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// NewInformer is what a client-go informer factory builds for one kind
// (k8s.io/client-go/informers/core/v1/node.go and the like): a shared index
// informer over c, with the namespace index, no resync; tweak (may be nil)
// narrows the list and watch (label selector...). Listers come from
// k8s.io/client-go/listers and openshift/client-go's listers packages over
// inf.GetIndexer() (those import no clientset).
func NewInformer[L runtime.Object](c ListerWatcher[L], obj runtime.Object, tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			if tweak != nil {
				tweak(&o)
			}
			return c.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			if tweak != nil {
				tweak(&o)
			}
			return c.Watch(ctx, o)
		},
	}
	return cache.NewSharedIndexInformer(lw, obj, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
}

// NewDynamicInformer is dynamicinformer.NewFilteredDynamicInformer (whose
// package links every typed informer) for one resource, cluster-wide.
func NewDynamicInformer(d dynamic.Interface, gvr schema.GroupVersionResource) cache.SharedIndexInformer {
	return NewInformer[*unstructured.UnstructuredList](d.Resource(gvr), &unstructured.Unstructured{}, nil)
}
