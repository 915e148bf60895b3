package images

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
)

// Registry reads image sizes and deletes images for prune.
type Registry interface {
	// Blobs lists an image's blobs by digest with their sizes, its
	// manifest included, as the registry's manifest says.
	Blobs(ctx context.Context, image string) (map[string]int64, error)
	// Delete deletes one build's image (on clusters whose MCO does not)
	// and says what it did, e.g. "image REF deleted".
	Delete(ctx context.Context, c *cluster.Clients, b Build) (string, error)
}

// InternalRegistryHost is OpenShift's image registry in the cluster.
const InternalRegistryHost = "image-registry.openshift-image-registry.svc:5000"

// registryTimeout bounds each registry call: the internal registry's
// service name does not resolve outside the cluster.
const registryTimeout = 20 * time.Second

// remoteRegistry talks to the registry with go-containerregistry, with the
// MachineOSConfig's push secret.
type remoteRegistry struct {
	auth func(host string) authn.Authenticator
}

func (r *remoteRegistry) opts(ctx context.Context, ref name.Reference) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(r.auth(ref.Context().RegistryStr()))}
}

func (r *remoteRegistry) Blobs(ctx context.Context, image string) (map[string]int64, error) {
	ref, err := name.ParseReference(image, name.WeakValidation)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	desc, err := remote.Get(ref, r.opts(ctx, ref)...)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{desc.Digest.String(): desc.Size}
	if desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("%s is an image index: its per-platform images are not counted", image)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", image, err)
	}
	out[m.Config.Digest.String()] = m.Config.Size
	for _, l := range m.Layers {
		out[l.Digest.String()] = l.Size
	}
	return out, nil
}

var gvrImageStreamTag = schema.GroupVersionResource{Group: "image.openshift.io", Version: "v1", Resource: "imagestreamtags"}

func (r *remoteRegistry) Delete(ctx context.Context, c *cluster.Clients, b Build) (string, error) {
	ref, err := name.ParseReference(b.Image, name.WeakValidation)
	if err != nil {
		return "", err
	}
	dig, ok := ref.(name.Digest)
	if !ok {
		return "", fmt.Errorf("%s is not a digested reference", b.Image)
	}
	if ref.Context().RegistryStr() == InternalRegistryHost {
		return deleteImageStreamTag(ctx, c, b, dig)
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	// A manifest deleted by digest takes its tags with it (distribution's
	// DeleteManifest untags every tag pointing at it).
	if err := remote.Delete(dig, r.opts(ctx, ref)...); err != nil {
		return "", err
	}
	return fmt.Sprintf("image %s deleted", b.Image), nil
}

// imageTarget names what deleting b's image deletes: the ImageStreamTag on
// the internal registry, else the image by digest.
func imageTarget(b Build) string {
	if ref, err := name.ParseReference(b.Image, name.WeakValidation); err == nil && ref.Context().RegistryStr() == InternalRegistryHost {
		if t, err := name.ParseReference(b.Tag(), name.WeakValidation); err == nil {
			if tag, ok := t.(name.Tag); ok {
				if ns, stream, ok := strings.Cut(tag.Context().RepositoryStr(), "/"); ok {
					return "imagestreamtag/" + ns + "/" + stream + ":" + tag.TagStr()
				}
			}
		}
	}
	return "image " + b.Image
}

// deleteImageStreamTag deletes the ImageStreamTag the v1alpha1 build pushed
// (<namespace>/<name>:<rendered MachineConfig>), as the 4.18+ MCO does for
// its own tags (reconciler.go deleteImage: ImageStreamTags(ns).Delete), but
// only while the tag still points at the build's digest.
func deleteImageStreamTag(ctx context.Context, c *cluster.Clients, b Build, dig name.Digest) (string, error) {
	tagRef, err := name.ParseReference(b.Tag(), name.WeakValidation)
	if err != nil {
		return "", err
	}
	tag, ok := tagRef.(name.Tag)
	if !ok {
		return "", fmt.Errorf("%s has no tag", b.Tag())
	}
	ns, stream, ok := strings.Cut(tag.Context().RepositoryStr(), "/")
	if !ok || strings.Contains(stream, "/") {
		return "", fmt.Errorf("%s: the internal registry's repositories are <namespace>/<imagestream>", b.Tag())
	}
	istag := stream + ":" + tag.TagStr()
	// ImageStreamTags are served by the OpenShift API server, not a CRD: a
	// cluster without them (or a 404 for the kind) is not a deleted tag.
	if !servesImageStreamTags(c) {
		return "", fmt.Errorf("the cluster serves no %s imagestreamtags: imagestreamtag %s/%s cannot be deleted (is the OpenShift API server available?)",
			gvrImageStreamTag.GroupVersion(), ns, istag)
	}
	ri := c.Dynamic.Resource(gvrImageStreamTag).Namespace(ns)
	u, err := ri.Get(ctx, istag, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("imagestreamtag/%s/%s already gone", ns, istag), nil
	}
	if err != nil {
		return "", fmt.Errorf("reading imagestreamtag %s/%s: %w", ns, istag, err)
	}
	if img, _, _ := unstructured.NestedString(u.Object, "image", "metadata", "name"); img != dig.DigestStr() {
		return fmt.Sprintf("imagestreamtag/%s/%s points at %s now, not at the build's %s: left alone (the untagged image goes with `oc adm prune images`)",
			ns, istag, img, dig.DigestStr()), nil
	}
	if err := ri.Delete(ctx, istag, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("deleting imagestreamtag %s/%s: %w", ns, istag, err)
	}
	return fmt.Sprintf("imagestreamtag/%s/%s deleted (the image goes with `oc adm prune images`)", ns, istag), nil
}

func servesImageStreamTags(c *cluster.Clients) bool {
	rl, err := c.Kube.Discovery().ServerResourcesForGroupVersion(gvrImageStreamTag.GroupVersion().String())
	if err != nil || rl == nil {
		return false
	}
	for _, r := range rl.APIResources {
		if r.Name == gvrImageStreamTag.Resource {
			return true
		}
	}
	return false
}

// measure sums the blobs only the deleted images hold. Any image the
// registry does not describe makes the sum unknown (-1).
func measure(ctx context.Context, reg interface {
	Blobs(context.Context, string) (map[string]int64, error)
}, ds []Decision) (int64, []string) {
	gone, stay := map[string]int64{}, map[string]bool{}
	var unmeasured []string
	failed := map[string]bool{}
	n := 0
	for _, d := range ds {
		if d.Build.Image == "" || d.Build.Deleting && !d.Delete {
			continue
		}
		if d.Delete {
			n++
		}
		host := d.Build.Image
		if ref, err := name.ParseReference(d.Build.Image, name.WeakValidation); err == nil {
			host = ref.Context().RegistryStr()
		}
		if failed[host] {
			continue // one line per registry that cannot be read
		}
		blobs, err := reg.Blobs(ctx, d.Build.Image)
		if err != nil {
			failed[host] = true
			unmeasured = append(unmeasured, fmt.Sprintf("%s (machineosbuild/%s): %v", watch.ShortenImageRefs(d.Build.Image), d.Build.Name, err))
			continue
		}
		for k, v := range blobs {
			if d.Delete {
				gone[k] = v
			} else {
				stay[k] = true
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	if len(unmeasured) > 0 {
		return -1, unmeasured
	}
	var sum int64
	for k, v := range gone {
		if !stay[k] {
			sum += v
		}
	}
	return sum, nil
}

// pushAuth reads the MachineOSConfig's push secret (spec.renderedImagePushSecret
// on v1, spec.buildInputs.renderedImagePushSecret on v1alpha1): credentials
// that push can also read and delete. Without it, anonymous.
func pushAuth(ctx context.Context, c *cluster.Clients, mosc *unstructured.Unstructured, api string) func(string) authn.Authenticator {
	path := []string{"spec", "renderedImagePushSecret", "name"}
	if api == watch.APIv1alpha1 {
		path = []string{"spec", "buildInputs", "renderedImagePushSecret", "name"}
	}
	secretName, _, _ := unstructured.NestedString(mosc.Object, path...)
	var sec *corev1.Secret
	if secretName != "" {
		if s, err := c.Kube.CoreV1().Secrets(profile.MCONamespace).Get(ctx, secretName, metav1.GetOptions{}); err == nil {
			sec = s
		}
	}
	return func(host string) authn.Authenticator {
		if a, ok := AuthFromSecret(sec, host); ok {
			return a
		}
		return authn.Anonymous
	}
}

// AuthFromSecret finds host's credentials in a dockerconfigjson or dockercfg
// Secret (registry keys may carry a scheme or a trailing slash).
func AuthFromSecret(sec *corev1.Secret, host string) (authn.Authenticator, bool) {
	if sec == nil {
		return nil, false
	}
	type entry struct {
		Auth     string `json:"auth"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	var auths map[string]entry
	switch {
	case len(sec.Data[corev1.DockerConfigJsonKey]) > 0:
		var cfg struct {
			Auths map[string]entry `json:"auths"`
		}
		if json.Unmarshal(sec.Data[corev1.DockerConfigJsonKey], &cfg) != nil {
			return nil, false
		}
		auths = cfg.Auths
	case len(sec.Data[corev1.DockerConfigKey]) > 0:
		if json.Unmarshal(sec.Data[corev1.DockerConfigKey], &auths) != nil {
			return nil, false
		}
	}
	for k, a := range auths {
		k = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://"), "/")
		if k != host {
			continue
		}
		if a.Username != "" {
			return &authn.Basic{Username: a.Username, Password: a.Password}, true
		}
		raw, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil {
			return nil, false
		}
		u, p, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, false
		}
		return &authn.Basic{Username: u, Password: p}, true
	}
	return nil, false
}
