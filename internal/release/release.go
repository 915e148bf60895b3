// Package release reads an OpenShift release payload image: its image
// references (release-manifests/image-references, an ImageStream) and the
// labels of the RHEL CoreOS images it names, from which the RHEL stream and
// version of the target release follow. It never reads the kernel from the
// ostree.linux label (a constant from 4.22 on).
package release

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/mirrors"
)

// Payload tags that carry RHEL CoreOS (FACTS.md §2).
const (
	TagRHCOS           = "rhel-coreos"
	TagRHCOSExtensions = "rhel-coreos-extensions"
	TagRHCOS10         = "rhel-coreos-10"
)

// Label keys read from RHCOS images.
const (
	LabelStream        = "com.coreos.stream"                // "rhel-9.6"
	LabelOSName        = "com.coreos.osname"                // "rhcos"
	LabelImageVersion  = "org.opencontainers.image.version" // "9.6.20251110-1" (or "416.94.2024...")
	LabelBuildVersions = "io.openshift.build.versions"      // "machine-os=9.6.20251110-1"
	LabelBootc         = "containers.bootc"                 // "1"
	// LabelStreamClass names an OS image's stream from 4.21 ("rhel-9",
	// "rhel-10"); LabelOSTree tells the OS image (set) from its extensions
	// image (absent) — machine-config-operator, release-4.21,
	// pkg/osimagestream/image_data.go.
	LabelStreamClass = "io.openshift.os.streamclass"
	LabelOSTree      = "ostree.linux"
)

// osImageTag matches the payload tags the MCO inspects for OS streams
// (release-4.21, pkg/osimagestream/imagestream_source.go imageTagRegxpr).
var osImageTag = lazyre.New(`^(rhel|stream)[a-zA-Z0-9.-]*-coreos[a-zA-Z0-9.-]*(-extensions[a-zA-Z0-9.-]*)?$`)

// Paths inside the payload image.
const (
	imageReferencesPath = "release-manifests/image-references"
	releaseMetadataPath = "release-manifests/release-metadata"
	// maxManifestBytes bounds the files read from the payload.
	maxManifestBytes = 16 << 20
)

// DefaultRepository is where OpenShift release payloads are published.
const DefaultRepository = "quay.io/openshift-release-dev/ocp-release"

// DefaultImage derives the payload reference for a full version and RPM arch,
// as the release tooling names them: quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64.
func DefaultImage(version, rpmArch string) (string, error) {
	if !fullVersion.MatchString(version) {
		return "", fmt.Errorf("release version %q: want a full x.y.z version (e.g. 4.21.11) to derive the payload image; or pass --release-image", version)
	}
	if rpmArch == "" {
		rpmArch = "x86_64"
	}
	return DefaultRepository + ":" + version + "-" + rpmArch, nil
}

var fullVersion = lazyre.New(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// Options configure registry access.
type Options struct {
	// RegistryConfig is a dockerconfigjson file (like oc's --registry-config);
	// empty means anonymous.
	RegistryConfig string
	// DockerConfigJSON is a pull secret's content, used when RegistryConfig
	// is empty (gate reads the cluster's openshift-config/pull-secret).
	DockerConfigJSON []byte
	// RPMArch picks the platform from a multi-arch index ("x86_64", "aarch64").
	RPMArch string
	// Transport overrides the HTTP transport (tests); nil uses Network's.
	Transport http.RoundTripper
	// Mirrors are the cluster's IDMS/ITMS/ICSP rules (or --mirror-config):
	// every read tries the mirrors for its reference first, as the nodes
	// and the layered build do. nil: every reference is read where it says.
	Mirrors *mirrors.Set
	// Network is the cluster Proxy and CA bundle (nil: the environment's).
	Network *mirrors.Network
}

// Answer says where a reference was read: From is the reference that
// answered (a mirror's, or Ref itself).
type Answer struct {
	Ref    string `json:"ref"`
	From   string `json:"from"`
	Mirror bool   `json:"mirror"`
}

// Image is one entry of the payload's image references.
type Image struct {
	Tag   string `json:"tag"`
	Image string `json:"image"`
}

// CoreOS describes one RHEL CoreOS image of the payload.
type CoreOS struct {
	Tag    string            `json:"tag"`
	Image  string            `json:"image"`
	Labels map[string]string `json:"labels"`
	// Stream is com.coreos.stream, e.g. "rhel-9.6".
	Stream string `json:"stream,omitempty"`
	// RHEL is the RHEL version derived from the labels, e.g. "9.6".
	RHEL string `json:"rhel,omitempty"`
	// OSVersion is org.opencontainers.image.version, e.g. "9.6.20251110-1".
	OSVersion string `json:"osVersion,omitempty"`
	Bootc     bool   `json:"bootc"`
	// StreamClass is the io.openshift.os.streamclass label (4.21+).
	StreamClass string `json:"streamClass,omitempty"`
	// IsExtensions: an extensions image (UBI-based: its labels say
	// nothing about RHEL CoreOS).
	IsExtensions bool `json:"extensions,omitempty"`
	// Kernel is the node image's kernel as name-less NEVRA
	// ("5.14.0-570.42.1.el9_6.x86_64", what a node reports as
	// kernelVersion), from its /usr/share/openshift/base/meta.json; "" when
	// the image has no metalayer.
	Kernel string `json:"kernel,omitempty"`
	// Packages counts meta.json's RPMs (0: not read).
	Packages int `json:"packages,omitempty"`
	// Extensions maps the extensions image's RPMs to "evr.arch", from its
	// /usr/share/rpm-ostree/extensions.json.
	Extensions map[string]string `json:"extensionRPMs,omitempty"`
	// From is where the image answered (a mirror's reference, or Image).
	From string `json:"from,omitempty"`
}

// Payload is what gate needs from a release image.
type Payload struct {
	Ref string `json:"ref"`
	// Version is the release version from release-metadata (or the
	// ImageStream name when the metadata file is absent).
	Version string   `json:"version,omitempty"`
	Images  []Image  `json:"-"`
	CoreOS  []CoreOS `json:"coreos"`
	// From is where the payload answered (a mirror's reference, or Ref).
	From string `json:"from,omitempty"`
	// Answers lists every image read and where it answered (payload first).
	Answers []Answer `json:"answers,omitempty"`
}

// Mirrored returns the answers a mirror gave.
func (p *Payload) Mirrored() []Answer {
	var out []Answer
	for _, a := range p.Answers {
		if a.Mirror {
			out = append(out, a)
		}
	}
	return out
}

// Image returns the pull spec of a tag.
func (p *Payload) Image(tag string) (string, bool) {
	for _, i := range p.Images {
		if i.Tag == tag {
			return i.Image, true
		}
	}
	return "", false
}

// Primary returns the rhel-coreos entry (the default OS stream).
func (p *Payload) Primary() (CoreOS, bool) {
	for _, c := range p.CoreOS {
		if c.Tag == TagRHCOS {
			return c, true
		}
	}
	return CoreOS{}, false
}

// Streams names the OS streams of a 4.21+ payload (the streamclass labels
// of its OS images), sorted; none before 4.21.
func (p *Payload) Streams() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.CoreOS {
		if c.StreamClass != "" && !c.IsExtensions && !seen[c.StreamClass] {
			seen[c.StreamClass] = true
			out = append(out, c.StreamClass)
		}
	}
	sort.Strings(out)
	return out
}

// DefaultStream is the stream a pool without spec.osImageStream gets, as
// the MCO picks it: the shortest stream name naming RHEL 9 and not 10
// (release-4.21, pkg/osimagestream/osimagestream.go getDefaultStreamSet).
// "" when the payload has no streams (before 4.21).
func (p *Payload) DefaultStream() string {
	names := p.Streams()
	sort.SliceStable(names, func(i, j int) bool { return len(names[i]) < len(names[j]) })
	for _, n := range names {
		if strings.Contains(n, "9") && !strings.Contains(n, "10") {
			return n
		}
	}
	return ""
}

// Stream returns the OS and extensions images of a stream; stream "" (or a
// payload without streams) means rhel-coreos and rhel-coreos-extensions.
func (p *Payload) Stream(stream string) (os, ext CoreOS, ok bool) {
	if stream == "" || len(p.Streams()) == 0 {
		os, ok = p.Primary()
		for _, c := range p.CoreOS {
			if c.Tag == TagRHCOSExtensions {
				ext = c
			}
		}
		return os, ext, ok
	}
	for _, c := range p.CoreOS {
		switch {
		case c.StreamClass != stream:
		case c.IsExtensions:
			ext = c
		case !ok:
			os, ok = c, true
		}
	}
	return os, ext, ok
}

// Inspect reads the payload at ref and the labels of its RHCOS images.
func Inspect(ctx context.Context, ref string, opts Options) (*Payload, error) {
	ro, err := opts.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	img, ans, err := opts.fetch(ref, ro)
	if err != nil {
		return nil, fmt.Errorf("release image %s: %w", ref, err)
	}
	refs, meta, err := readManifests(img)
	if err != nil {
		return nil, fmt.Errorf("release image %s: %w", ref, err)
	}
	images, streamName, err := ParseImageReferences(refs)
	if err != nil {
		return nil, fmt.Errorf("release image %s: %s: %w", ref, imageReferencesPath, err)
	}
	p := &Payload{Ref: ref, Images: images, Version: streamName, From: ans.From, Answers: []Answer{ans}}
	if meta != nil {
		var md struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(meta, &md); err != nil {
			return nil, fmt.Errorf("release image %s: %s: %w", ref, releaseMetadataPath, err)
		}
		if md.Version != "" {
			p.Version = md.Version
		}
	}
	_, found := p.Image(TagRHCOS)
	for _, im := range images {
		tag, spec := im.Tag, im.Image
		if !osImageTag.MatchString(tag) {
			continue
		}
		osImg, ans, err := opts.fetch(spec, ro)
		if err != nil {
			return nil, fmt.Errorf("release image %s: %s image %s: %w", ref, tag, spec, err)
		}
		p.Answers = append(p.Answers, ans)
		cfg, err := osImg.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("release image %s: %s image %s: config: %w", ref, tag, spec, err)
		}
		co := NewCoreOS(tag, spec, cfg.Config.Labels)
		co.From = ans.From
		if err := readPackageMetadata(osImg, &co); err != nil {
			return nil, fmt.Errorf("release image %s: %s image %s: %w", ref, tag, spec, err)
		}
		p.CoreOS = append(p.CoreOS, co)
	}
	for _, co := range p.CoreOS {
		found = found || (co.StreamClass != "" && !co.IsExtensions)
	}
	if !found {
		return nil, fmt.Errorf("release image %s: %s names no %q image (tags: %s)", ref, imageReferencesPath, TagRHCOS, tagList(images))
	}
	return p, nil
}

// NewCoreOS derives the RHEL facts from an RHCOS image's labels.
func NewCoreOS(tag, image string, labels map[string]string) CoreOS {
	c := CoreOS{Tag: tag, Image: image, Labels: labels}
	c.Stream = labels[LabelStream]
	c.OSVersion = labels[LabelImageVersion]
	if c.OSVersion == "" {
		c.OSVersion = legacyVersion(labels) // 4.18 and older: 418.94.<timestamp>
	}
	c.Bootc = labels[LabelBootc] == "1" || labels[LabelBootc] == "true"
	c.StreamClass = labels[LabelStreamClass]
	if c.StreamClass != "" {
		c.IsExtensions = labels[LabelOSTree] == ""
	} else {
		c.IsExtensions = strings.Contains(tag, "-extensions")
	}
	if !c.IsExtensions {
		// An extensions image is UBI-based: its version labels are UBI's.
		c.RHEL = RHELFromLabels(labels)
	}
	return c
}

var (
	streamRe = lazyre.New(`^rhel-(\d+)\.(\d+)$`)
	// 9.6.20251110-1 (4.19+ versioning)
	newVersionRe = lazyre.New(`^(\d{1,2})\.(\d{1,2})\.\d{8}(-|$)`)
	// 416.94.202405281309-0 (4.x.RHEL-digits, up to 4.18)
	oldVersionRe = lazyre.New(`^4\d{2}\.(\d)(\d+)\.\d+`)
)

// RHELFromLabels returns "9.6" from com.coreos.stream, falling back to the
// image version (either the 9.6.YYYYMMDD-N or the older 416.94.N form) and
// io.openshift.build.versions' machine-os entry. Empty when none says.
func RHELFromLabels(labels map[string]string) string {
	if m := streamRe.FindStringSubmatch(labels[LabelStream]); m != nil {
		return m[1] + "." + m[2]
	}
	// "version": rpm-ostree's encapsulation label, all 4.18-and-older
	// images carry (a UBI image's "9.6" matches neither form below).
	versions := []string{labels[LabelImageVersion], labels["version"]}
	for _, kv := range strings.Split(labels[LabelBuildVersions], ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "machine-os="); ok {
			versions = append(versions, v)
		}
	}
	for _, v := range versions {
		if m := newVersionRe.FindStringSubmatch(v); m != nil {
			return m[1] + "." + m[2]
		}
		if m := oldVersionRe.FindStringSubmatch(v); m != nil {
			return m[1] + "." + m[2]
		}
	}
	return ""
}

// ParseImageReferences decodes the payload's image-references ImageStream.
// It returns the tags in file order and the ImageStream's name (the version).
func ParseImageReferences(b []byte) ([]Image, string, error) {
	var is struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Tags []struct {
				Name string `json:"name"`
				From *struct {
					Kind string `json:"kind"`
					Name string `json:"name"`
				} `json:"from"`
			} `json:"tags"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &is); err != nil {
		return nil, "", err
	}
	if is.Kind != "ImageStream" {
		return nil, "", fmt.Errorf("kind is %q, want ImageStream", is.Kind)
	}
	var out []Image
	for i, t := range is.Spec.Tags {
		if t.Name == "" {
			return nil, "", fmt.Errorf("spec.tags[%d].name is empty", i)
		}
		if t.From == nil || t.From.Name == "" {
			return nil, "", fmt.Errorf("spec.tags[%d] (%s): from.name is empty", i, t.Name)
		}
		if t.From.Kind != "" && t.From.Kind != "DockerImage" {
			return nil, "", fmt.Errorf("spec.tags[%d] (%s): from.kind is %q, want DockerImage", i, t.Name, t.From.Kind)
		}
		out = append(out, Image{Tag: t.Name, Image: t.From.Name})
	}
	return out, is.Metadata.Name, nil
}

func tagList(images []Image) string {
	var tags []string
	for _, i := range images {
		tags = append(tags, i.Tag)
	}
	sort.Strings(tags)
	if len(tags) > 12 {
		tags = append(tags[:12], "…")
	}
	return strings.Join(tags, ", ")
}

// readManifests finds image-references (and release-metadata, if present)
// in the payload's layers. The release-manifests directory sits in the top
// layers, so they are searched from the last one down.
func readManifests(img v1.Image) (refs, meta []byte, err error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, err
	}
	for i := len(layers) - 1; i >= 0 && refs == nil; i-- {
		r, lerr := layers[i].Uncompressed()
		if lerr != nil {
			return nil, nil, fmt.Errorf("layer %d: %w", i, lerr)
		}
		ref, md, lerr := scanLayer(r)
		r.Close()
		if lerr != nil {
			return nil, nil, fmt.Errorf("layer %d: %w", i, lerr)
		}
		if ref != nil {
			refs = ref
		}
		if md != nil && meta == nil {
			meta = md
		}
	}
	if refs == nil {
		return nil, nil, fmt.Errorf("no %s in any of its %d layers (is this a release payload?)", imageReferencesPath, len(layers))
	}
	return refs, meta, nil
}

func scanLayer(r io.Reader) (refs, meta []byte, err error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return refs, meta, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		p := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		var dst *[]byte
		switch p {
		case imageReferencesPath:
			dst = &refs
		case releaseMetadataPath:
			dst = &meta
		default:
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxManifestBytes+1))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(b) > maxManifestBytes {
			return nil, nil, fmt.Errorf("%s is larger than %d bytes", p, maxManifestBytes)
		}
		*dst = b
	}
}

// fetch reads ref where the mirror rules say, in order (the reference
// itself when none applies); the image's layers are then read from the
// same place, as containers/image keeps the endpoint that answered.
func (o Options) fetch(ref string, ro []remote.Option) (v1.Image, Answer, error) {
	plan, err := o.Mirrors.Sources(ref)
	if err != nil {
		return nil, Answer{}, err
	}
	img, src, err := mirrors.Try(plan, func(r string) (v1.Image, error) { return fetchImage(r, ro) })
	if err != nil {
		return nil, Answer{}, err
	}
	return img, Answer{Ref: ref, From: src.Ref, Mirror: src.Mirror}, nil
}

func fetchImage(ref string, ro []remote.Option) (v1.Image, error) {
	r, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(r, ro...)
	if err != nil {
		return nil, err
	}
	// For an image index, remote.WithPlatform (set in remoteOptions) makes
	// Image() pick the entry of the target arch.
	return desc.Image()
}

// parseRef parses an image reference. Plain HTTP is allowed only for
// loopback registries (the in-process registry of the tests, or a local
// mirror on this host); everything else must speak TLS.
func parseRef(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if isLoopback(r.Context().RegistryStr()) {
		return name.ParseReference(ref, name.Insecure)
	}
	return r, nil
}

func isLoopback(host string) bool {
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.Trim(h, "[]")
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

func (o Options) remoteOptions(ctx context.Context) ([]remote.Option, error) {
	kc := authn.Keychain(anonymousKeychain{})
	if o.RegistryConfig != "" {
		k, err := LoadKeychain(o.RegistryConfig)
		if err != nil {
			return nil, err
		}
		kc = k
	} else if len(o.DockerConfigJSON) > 0 {
		k, err := ParseKeychain(o.DockerConfigJSON)
		if err != nil {
			return nil, fmt.Errorf("pull secret: %w", err)
		}
		kc = k
	}
	ro := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: goArch(o.RPMArch)}),
		remote.WithUserAgent("mosc"),
	}
	switch {
	case o.Transport != nil:
		ro = append(ro, remote.WithTransport(o.Transport))
	case o.Network != nil:
		ro = append(ro, remote.WithTransport(o.Network.RegistryTransport()))
	}
	return ro, nil
}

// goArch maps RPM arch names to OCI platform architectures.
func goArch(rpmArch string) string {
	switch rpmArch {
	case "", "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return rpmArch
}

type anonymousKeychain struct{}

func (anonymousKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.Anonymous, nil
}

// CanRead asks the registry for ref's manifest (a HEAD request) with the
// options' credentials, trying the mirrors first: whether a pull with them
// would be allowed, and where it answered.
func CanRead(ctx context.Context, ref string, opts Options) (Answer, error) {
	ro, err := opts.remoteOptions(ctx)
	if err != nil {
		return Answer{}, err
	}
	plan, err := opts.Mirrors.Sources(ref)
	if err != nil {
		return Answer{}, err
	}
	_, src, err := mirrors.Try(plan, func(s string) (*v1.Descriptor, error) {
		r, err := parseRef(s)
		if err != nil {
			return nil, err
		}
		return remote.Head(r, ro...)
	})
	if err != nil {
		return Answer{}, err
	}
	return Answer{Ref: ref, From: src.Ref, Mirror: src.Mirror}, nil
}

// Package metadata in the OS images (openshift/os, release-4.20 … master):
// scripts/generate-metadata writes the node image's RPM list, as
// rpm-ostree's rpmdb.pkglist ([name, epoch, version, release, arch]), to
// meta.json in a last layer of its own, labelled io.openshift.metalayer
// (Containerfile); extensions/Dockerfile writes {"name": "evr.arch"} for
// every extension RPM to extensions.json, the UBI-based extensions image's
// last layer. Only that layer is read: a few kilobytes, not the image.
const (
	LabelMetalayer     = "io.openshift.metalayer"
	metaJSONPath       = "usr/share/openshift/base/meta.json"
	extensionsJSONPath = "usr/share/rpm-ostree/extensions.json"
)

// kernelPackages name the node image's kernel, in order of preference.
var kernelPackages = []string{"kernel-core", "kernel", "kernel-rt-core"}

func readPackageMetadata(img v1.Image, co *CoreOS) error {
	switch {
	case co.IsExtensions:
		b, err := lastLayerFile(img, extensionsJSONPath)
		if err != nil || b == nil {
			return err
		}
		ext, err := ParseExtensionsJSON(b)
		if err != nil {
			return fmt.Errorf("%s: %w", extensionsJSONPath, err)
		}
		co.Extensions = ext
	case co.Labels[LabelMetalayer] == "true":
		b, err := lastLayerFile(img, metaJSONPath)
		if err != nil || b == nil {
			return err
		}
		kernel, n, err := ParseMetaJSON(b)
		if err != nil {
			return fmt.Errorf("%s: %w", metaJSONPath, err)
		}
		co.Kernel, co.Packages = kernel, n
	case legacyVersion(co.Labels) != "" && co.Labels[LabelOSTree] != "":
		// Up to 4.18 the node image is coreos-assembler's encapsulated
		// ostree commit, without a metalayer; rpm-ostree compose
		// container-encapsulate labels it with the commit's kernel
		// (ostree.linux, e.g. 5.14.0-427.50.1.el9_4.x86_64) — coreos-assembler
		// rhcos-4.16..rhcos-4.18 src/cmd-build. From 4.19 the label is
		// inherited from the base and says nothing (a constant from 4.22).
		co.Kernel = co.Labels[LabelOSTree]
	}
	return nil
}

// legacyVersion is the RHCOS build id of a 4.18-or-older node image
// (418.94.202501221327-0: OpenShift minor, RHEL digits, timestamp) from
// its version or io.openshift.build.versions label; "" for 4.19+ images
// (9.6.20251110-1).
func legacyVersion(labels map[string]string) string {
	for _, v := range []string{labels["version"], strings.TrimPrefix(labels[LabelBuildVersions], "machine-os=")} {
		if oldVersionRe.MatchString(v) {
			return v
		}
	}
	return ""
}

// ParseMetaJSON reads a node image's meta.json: the kernel (as
// version-release.arch) and the number of RPMs.
func ParseMetaJSON(b []byte) (kernel string, packages int, err error) {
	var doc struct {
		PkgList [][]string `json:"rpmdb.pkglist"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", 0, errors.New("not a meta.json document")
	}
	if len(doc.PkgList) == 0 {
		return "", 0, errors.New("rpmdb.pkglist is empty")
	}
	found := map[string]string{}
	for i, p := range doc.PkgList {
		if len(p) != 5 {
			return "", 0, fmt.Errorf("rpmdb.pkglist[%d]: want [name, epoch, version, release, arch], got %d fields", i, len(p))
		}
		found[p[0]] = p[2] + "-" + p[3] + "." + p[4]
	}
	for _, k := range kernelPackages {
		if v, ok := found[k]; ok {
			return v, len(doc.PkgList), nil
		}
	}
	return "", len(doc.PkgList), nil
}

// ParseExtensionsJSON reads an extensions image's extensions.json.
func ParseExtensionsJSON(b []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errors.New(`not an extensions.json document ({"name": "evr.arch"})`)
	}
	return m, nil
}

// lastLayerFile returns a file of the image's last layer (nil if absent).
func lastLayerFile(img v1.Image, file string) ([]byte, error) {
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		return nil, err
	}
	r, err := layers[len(layers)-1].Uncompressed()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg || strings.TrimPrefix(path.Clean("/"+h.Name), "/") != file {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxManifestBytes+1))
		if err != nil {
			return nil, err
		}
		if len(b) > maxManifestBytes {
			return nil, fmt.Errorf("%s is larger than %d bytes", file, maxManifestBytes)
		}
		return b, nil
	}
}
