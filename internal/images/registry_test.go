package images

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// remoteRegistry against a real OCI registry (go-containerregistry's, in
// process): Blobs reads the sizes the manifest gives, Delete removes the
// manifest by the build's digest.
func TestRemoteRegistry(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tag, err := name.ParseReference(host + "/acme/os-image:worker-abc")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(3000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	m, _ := img.Manifest()
	raw, _ := img.RawManifest()
	image := host + "/acme/os-image@" + d.String()
	r := &remoteRegistry{auth: func(string) authn.Authenticator { return authn.Anonymous }}
	blobs, err := r.Blobs(context.Background(), image)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(len(raw)) + m.Config.Size + m.Layers[0].Size + m.Layers[1].Size
	var got int64
	for _, v := range blobs {
		got += v
	}
	if len(blobs) != 4 || got != want {
		t.Errorf("blobs %v (%d bytes), want manifest, config and 2 layers, %d bytes", blobs, got, want)
	}
	what, err := r.Delete(context.Background(), nil, Build{Name: "worker-abc", Image: image, PushSpec: tag.String()})
	if err != nil || what != "image "+image+" deleted" {
		t.Fatalf("Delete: %q, %v", what, err)
	}
	dref, _ := name.ParseReference(image)
	var terr *transport.Error
	if _, err := remote.Head(dref); !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound {
		t.Errorf("after Delete, HEAD %s: %v", image, err)
	}
	if _, err := r.Delete(context.Background(), nil, Build{Image: tag.String()}); err == nil {
		t.Error("Delete of a reference without a digest succeeded")
	}
}
