package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// metaServer answers node LISTs with a PartialObjectMetadataList (protobuf,
// as the kube-apiserver does for the Accept header metadata.go sends) and
// node WATCHes with JSON PartialObjectMetadata events, recording each
// request's Accept header.
func metaServer(t *testing.T) (*httptest.Server, *[]string) {
	t.Helper()
	var accepts []string
	pb := func() runtime.Serializer {
		for _, si := range theCodecs().codecs.SupportedMediaTypes() {
			if si.MediaType == runtime.ContentTypeProtobuf {
				return si.Serializer
			}
		}
		t.Fatal("no protobuf serializer")
		return nil
	}()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepts = append(accepts, r.Header.Get("Accept"))
		if r.URL.Path != "/api/v1/nodes" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("labelSelector") != "node-role.kubernetes.io/worker" {
			t.Errorf("label selector %q", r.URL.Query().Get("labelSelector"))
		}
		if r.URL.Query().Get("watch") == "true" {
			w.Header().Set("Content-Type", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
			obj := metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
				ObjectMeta: metav1.ObjectMeta{Name: "worker-1", ResourceVersion: "11", Labels: map[string]string{"node-role.kubernetes.io/worker": ""},
					Annotations: map[string]string{"machineconfiguration.openshift.io/state": "Working"}}}
			raw, _ := json.Marshal(obj)
			_ = json.NewEncoder(w).Encode(metav1.WatchEvent{Type: string(watch.Modified), Object: runtime.RawExtension{Raw: raw}})
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadataList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "10"},
			Items: []metav1.PartialObjectMetadata{
				{ObjectMeta: metav1.ObjectMeta{Name: "worker-0", ResourceVersion: "9", Labels: map[string]string{"node-role.kubernetes.io/worker": ""}}},
				{ObjectMeta: metav1.ObjectMeta{Name: "worker-1", ResourceVersion: "10", Labels: map[string]string{"node-role.kubernetes.io/worker": ""},
					Annotations: map[string]string{"machineconfiguration.openshift.io/state": "Done"}}},
			}}
		var b bytes.Buffer
		if err := pb.Encode(list, &b); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
		_, _ = w.Write(b.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv, &accepts
}

// A metadata informer over mosc's own client asks for, decodes and caches
// PartialObjectMetadata from LIST (protobuf) and WATCH (JSON).
func TestMetadataInformer(t *testing.T) {
	srv, accepts := metaServer(t)
	cs, err := NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	inf := NewMetadataInformer(cs.CoreV1().Nodes(), &corev1.Node{}, func(o *metav1.ListOptions) { o.LabelSelector = "node-role.kubernetes.io/worker" })
	stop := make(chan struct{})
	defer close(stop)
	go inf.Run(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("the metadata informer did not sync")
	}
	// The watch's event replaces worker-1's state.
	for ctx.Err() == nil {
		obj, ok, _ := inf.GetIndexer().GetByKey("worker-1")
		if ok && obj.(*metav1.PartialObjectMetadata).Annotations["machineconfiguration.openshift.io/state"] == "Working" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatal("the watch event never reached the cache")
	}
	if keys := inf.GetIndexer().ListKeys(); len(keys) != 2 {
		t.Errorf("cache keys %v, want worker-0 and worker-1", keys)
	}
	if len(*accepts) < 2 || !strings.Contains((*accepts)[0], "as=PartialObjectMetadataList;g=meta.k8s.io;v=v1") ||
		!strings.Contains((*accepts)[1], "as=PartialObjectMetadata;g=meta.k8s.io;v=v1") {
		t.Errorf("Accept headers %q, want the metadata list then the metadata watch", *accepts)
	}
}

// A server that sends full objects despite the Accept header is an error,
// not a cache of the wrong kind.
func TestListMetadataRefusesFullObjects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(corev1.NodeList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}})
	}))
	defer srv.Close()
	cs, err := NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Nodes().(MetadataListerWatcher).ListMetadata(context.Background(), metav1.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "PartialObjectMetadataList") {
		t.Errorf("ListMetadata of a full NodeList: %v", err)
	}
}

// Over a client without metadata lists (client-go's fake), the informer is
// the typed one.
func TestMetadataInformerFallsBackToTyped(t *testing.T) {
	c := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-0"}})
	inf := NewMetadataInformer(c.CoreV1().Nodes(), &corev1.Node{}, nil)
	stop := make(chan struct{})
	defer close(stop)
	go inf.Run(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("not synced")
	}
	obj, ok, _ := inf.GetIndexer().GetByKey("worker-0")
	if _, isNode := obj.(*corev1.Node); !ok || !isNode {
		t.Errorf("cached %T, want *v1.Node", obj)
	}
}
