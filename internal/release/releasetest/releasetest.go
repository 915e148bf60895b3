// Package releasetest builds synthetic OpenShift release payloads in a real
// OCI registry: a payload image whose top layer holds
// release-manifests/image-references (an ImageStream) and release-metadata,
// naming RHEL CoreOS images that carry the labels of a real RHCOS build.
// Unit tests and the end-to-end tests push them to an in-process registry.
package releasetest

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Spec describes a payload.
type Spec struct {
	// Version is the full release version, e.g. "4.21.11".
	Version string
	// CoreOS maps payload tags (rhel-coreos, rhel-coreos-10, ...) to the
	// labels of the image pushed for them.
	CoreOS map[string]map[string]string
	// OtherTags are further image references (pointing at the first CoreOS
	// image), so the payload looks like a real one with many components.
	OtherTags []string
	// Index pushes the payload as an OCI image index (linux/amd64 and
	// linux/arm64 entries) instead of a single manifest.
	Index bool
	// OmitImageReferences leaves out release-manifests/image-references.
	OmitImageReferences bool
	// Images maps further payload tags to images already in a registry
	// (pull specs by digest), e.g. a real base image for a build.
	Images map[string]string
	// Kernel maps OS image tags (rhel-coreos, rhel-coreos-10) to their
	// kernel's version-release ("5.14.0-570.42.1.el9_6"): the image then
	// carries a metalayer with /usr/share/openshift/base/meta.json listing
	// it, as openshift/os builds them; the extensions image gets
	// /usr/share/rpm-ostree/extensions.json with kernel-devel and
	// kernel-headers for rhel-coreos's kernel.
	Kernel map[string]string
	// KernelDevel overrides extensions.json's kernel-devel version-release
	// ("-": no kernel-devel at all).
	KernelDevel string
	// Tag is the payload's tag ("" = <Version>-x86_64).
	Tag string
	// RefBase is the repository base image-references names ("" =
	// repoBase): a payload mirrored with oc adm release mirror still names
	// quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:…, and the
	// cluster's ImageDigestMirrorSet sends those reads to the mirror.
	RefBase string
}

// Labels returns RHCOS labels as a real rhel-coreos image of the given RHEL
// minor carries (FACTS.md §2), e.g. Labels("9.6", "20251110-1").
func Labels(rhel, build string) map[string]string {
	v := rhel + "." + build
	return map[string]string{
		"com.coreos.osname":                "rhcos",
		"com.coreos.stream":                "rhel-" + rhel,
		"org.opencontainers.image.version": v,
		"io.openshift.build.versions":      "machine-os=" + v,
		"containers.bootc":                 "1",
		"ostree.bootable":                  "1",
		"ostree.linux":                     "true",
	}
}

// LegacyLabels are the labels of a 4.16–4.18 rhel-coreos image, e.g.
// LegacyLabels("4.18", "9.4", "202501221327-0", "5.14.0-427.50.1.el9_4.x86_64"):
// coreos-assembler's encapsulated ostree commit (coreos-assembler
// rhcos-4.16..rhcos-4.18 src/cmd-build: coreos-assembler.image-*-checksum,
// org.opencontainers.image.source/revision, and with openshift/os
// image-rhel-9.4.yaml's ostree-container-inject-openshift-cvo-labels the
// io.openshift.build.version-display-names/versions pair; rpm-ostree compose
// container-encapsulate: ostree.bootable, ostree.commit,
// ostree.final-diffid, ostree.linux = the commit's kernel, rpmostree.inputhash,
// version = the build id 418.94.<timestamp>). No com.coreos.stream, no
// org.opencontainers.image.version, no metalayer, no stream class: those
// arrive with the Containerfile-built node image of 4.19.
func LegacyLabels(ocpMinor, rhel, build, kernel string) map[string]string {
	id := strings.ReplaceAll(ocpMinor, ".", "") + "." + strings.ReplaceAll(rhel, ".", "") + "." + build
	return map[string]string{
		"coreos-assembler.image-config-checksum":   "01bebb5709ab54cef0e7bac1f94e6ee333b25868ab022f8618cdb4443de99355",
		"coreos-assembler.image-input-checksum":    "cd8d504aea915c32fce40e0dbf3c2424cf9612df6e21a00874668abb8ab75c10",
		"io.openshift.build.version-display-names": "machine-os=Red Hat Enterprise Linux CoreOS",
		"io.openshift.build.versions":              "machine-os=" + id,
		"org.opencontainers.image.revision":        "d717505b88821990fee2d96688c337995d849ecd",
		"org.opencontainers.image.source":          "https://github.com/openshift/os",
		"ostree.bootable":                          "true",
		"ostree.commit":                            "75a403bab1c8e65291f8b905d6080789a123961d341b56a3b8988cf87fa50ee4",
		"ostree.final-diffid":                      "sha256:896666c665dc31ed85f0cad0a23b6d8fed5fdcb913c5d3f21d2157a3c3c72883",
		"ostree.linux":                             kernel,
		"rpmostree.inputhash":                      "ff03479ce560a2e7d33518f56151c798de8af5cec9c80fc6849586f2a46df30d",
		"version":                                  id,
	}
}

// LegacyExtensionsLabels are the labels of a 4.16–4.18
// rhel-coreos-extensions image: FROM ubi9 (openshift/os release-4.16..4.18
// extensions/Dockerfile) plus coreos-assembler's version label
// (build-extensions-container.sh --label version=<build id>). Its
// extensions.json went to the build's metadata, not into the image.
func LegacyExtensionsLabels(ocpMinor, rhel, build string) map[string]string {
	l := ExtensionsLabels("9.4", "")
	delete(l, "io.openshift.os.streamclass")
	l["version"] = strings.ReplaceAll(ocpMinor, ".", "") + "." + strings.ReplaceAll(rhel, ".", "") + "." + build
	return l
}

// StreamLabels are Labels of a 4.21+ OS image of stream ("rhel-9",
// "rhel-10"): io.openshift.os.streamclass, which the MCO groups the
// payload's OS images by (machine-config-operator, release-4.21,
// pkg/osimagestream/image_data.go).
func StreamLabels(rhel, build, stream string) map[string]string {
	l := Labels(rhel, build)
	l["io.openshift.os.streamclass"] = stream
	return l
}

// ExtensionsLabels are the labels of a 4.21+ extensions image: UBI's (the
// image is built FROM ubi9, openshift/os extensions/Dockerfile), the
// stream class, and no ostree.linux (what tells it from the OS image).
func ExtensionsLabels(ubi, stream string) map[string]string {
	major, _, _ := strings.Cut(ubi, ".")
	return map[string]string{
		"name": "ubi" + major, "com.redhat.component": "ubi" + major + "-container", "version": ubi, "release": "1755105495",
		"io.k8s.display-name": "Red Hat Universal Base Image " + major, "vendor": "Red Hat, Inc.",
		"io.openshift.os.streamclass": stream,
	}
}

// Push writes the CoreOS images and the payload under repoBase (e.g.
// "127.0.0.1:5000/openshift-release-dev") with the given remote options and
// returns the payload reference (repoBase/ocp-release:<version>-x86_64).
func Push(repoBase string, spec Spec, opts ...remote.Option) (string, error) {
	tags := make([]string, 0, len(spec.CoreOS))
	for t := range spec.CoreOS {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	type tagRef struct{ tag, ref string }
	var refs []tagRef
	for _, t := range tags {
		img, err := coreOSImage(t, spec.CoreOS[t], spec)
		if err != nil {
			return "", err
		}
		d, err := img.Digest()
		if err != nil {
			return "", err
		}
		r, err := name.ParseReference(repoBase+"/ocp-v4.0-art-dev:"+spec.Version+"-"+t, name.Insecure)
		if err != nil {
			return "", err
		}
		if err := remote.Write(r, img, opts...); err != nil {
			return "", fmt.Errorf("push %s: %w", r, err)
		}
		named := repoBase
		if spec.RefBase != "" {
			named = spec.RefBase
		}
		refs = append(refs, tagRef{t, named + "/ocp-v4.0-art-dev@" + d.String()})
	}
	extra := make([]string, 0, len(spec.Images))
	for t := range spec.Images {
		extra = append(extra, t)
	}
	sort.Strings(extra)
	for _, t := range extra {
		refs = append(refs, tagRef{t, spec.Images[t]})
	}
	for _, t := range spec.OtherTags {
		if len(refs) == 0 {
			return "", fmt.Errorf("OtherTags need at least one CoreOS image")
		}
		refs = append(refs, tagRef{t, refs[0].ref})
	}

	type tagT struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations,omitempty"`
		From        map[string]string `json:"from"`
	}
	is := map[string]any{
		"kind":       "ImageStream",
		"apiVersion": "image.openshift.io/v1",
		"metadata": map[string]any{
			"name":              spec.Version,
			"creationTimestamp": nil,
			"annotations":       map[string]string{"release.openshift.io/from-image-stream": "ocp/4.x-art-latest"},
		},
	}
	var ts []tagT
	for _, r := range refs {
		ts = append(ts, tagT{Name: r.tag, Annotations: map[string]string{"io.openshift.build.source-location": "https://github.com/openshift/os"}, From: map[string]string{"kind": "DockerImage", "name": r.ref}})
	}
	is["spec"] = map[string]any{"lookupPolicy": map[string]bool{"local": false}, "tags": ts}
	isJSON, err := json.MarshalIndent(is, "", "  ")
	if err != nil {
		return "", err
	}
	meta, _ := json.Marshal(map[string]any{"kind": "cincinnati-metadata-v0", "version": spec.Version, "metadata": map[string]string{"url": "https://access.redhat.com/errata/RHBA-0000:0000"}})

	files := map[string][]byte{
		"release-manifests/release-metadata":               meta,
		"release-manifests/0000_50_example_01-config.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: example\n"),
	}
	if !spec.OmitImageReferences {
		files["release-manifests/image-references"] = isJSON
	}
	base, err := layer(map[string][]byte{"usr/bin/cluster-version-operator": []byte("#!/bin/false\n")})
	if err != nil {
		return "", err
	}
	manifests, err := layer(files)
	if err != nil {
		return "", err
	}
	payloadFor := func(arch string) (v1.Image, error) {
		img, err := mutate.AppendLayers(empty.Image, base, manifests)
		if err != nil {
			return nil, err
		}
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		return mutate.ConfigFile(img, &v1.ConfigFile{
			OS: "linux", Architecture: arch,
			Config: v1.Config{Labels: map[string]string{"io.openshift.release": spec.Version}, Entrypoint: []string{"/usr/bin/cluster-version-operator"}},
		})
	}
	tag := spec.Tag
	if tag == "" {
		tag = spec.Version + "-x86_64"
	}
	ref, err := name.ParseReference(repoBase+"/ocp-release:"+tag, name.Insecure)
	if err != nil {
		return "", err
	}
	if spec.Index {
		idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
		for _, arch := range []string{"arm64", "amd64"} {
			img, err := payloadFor(arch)
			if err != nil {
				return "", err
			}
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		if err := remote.WriteIndex(ref, idx, opts...); err != nil {
			return "", fmt.Errorf("push %s: %w", ref, err)
		}
		return ref.String(), nil
	}
	img, err := payloadFor("amd64")
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	return ref.String(), nil
}

func coreOSImage(tag string, labels map[string]string, spec Spec) (v1.Image, error) {
	l, err := layer(map[string][]byte{"usr/lib/os-release": []byte("NAME=\"Red Hat Enterprise Linux CoreOS\"\nID=\"rhcos\"\nVARIANT_ID=" + tag + "\n")})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return nil, err
	}
	labels = copyLabels(labels)
	switch kernel := spec.Kernel[tag]; {
	case tag == "rhel-coreos-extensions" && spec.Kernel["rhel-coreos"] != "":
		// openshift/os extensions/Dockerfile: extensions.json is the last layer.
		devel := spec.Kernel["rhel-coreos"]
		if spec.KernelDevel != "" {
			devel = spec.KernelDevel
		}
		ext := map[string]string{
			"kernel-headers": spec.Kernel["rhel-coreos"] + ".x86_64", "kernel-rt-core": spec.Kernel["rhel-coreos"] + ".x86_64",
			"usbguard": "1.0.0-15.el9.x86_64", "NetworkManager-libreswan": "1.2.22-4.el9.x86_64", "libreswan": "4.15-3.el9.x86_64",
		}
		if devel != "-" {
			ext["kernel-devel"] = devel + ".x86_64"
		}
		b, _ := json.Marshal(ext)
		if img, err = appendFiles(img, map[string][]byte{"usr/share/rpm-ostree/extensions.json": b}); err != nil {
			return nil, err
		}
	case kernel != "":
		// openshift/os Containerfile + scripts/generate-metadata: the
		// metalayer, last, labelled io.openshift.metalayer=true.
		v, r, _ := strings.Cut(kernel, "-")
		var pkgs [][]string
		for _, n := range []string{"NetworkManager", "bash", "cri-o", "glibc", "kernel", "kernel-core", "kernel-modules", "kernel-modules-core", "kernel-modules-extra", "openvswitch3.5", "ostree", "rpm-ostree", "systemd"} {
			e := []string{n, "0", "1.0", "1.el9", "x86_64"}
			if strings.HasPrefix(n, "kernel") {
				e[2], e[3] = v, r
			}
			pkgs = append(pkgs, e)
		}
		b, _ := json.Marshal(map[string]any{"rpmdb.pkglist": pkgs})
		if img, err = appendFiles(img, map[string][]byte{"usr/share/openshift/base/meta.json": b}); err != nil {
			return nil, err
		}
		labels["io.openshift.metalayer"] = "true"
	}
	return mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: v1.Config{Labels: labels}})
}

func appendFiles(img v1.Image, files map[string][]byte) (v1.Image, error) {
	l, err := layer(files)
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(img, l)
}

func copyLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	return out
}

func layer(files map[string][]byte) (v1.Layer, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := b.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}
