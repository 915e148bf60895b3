package release_test

import (
	"context"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/release/releasetest"
)

// newRegistry serves a real OCI registry; with user set, every request needs
// basic auth.
func newRegistry(t *testing.T, user, pass string) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if user != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestInspect(t *testing.T) {
	host := newRegistry(t, "", "")
	tests := []struct {
		name     string
		spec     releasetest.Spec
		arch     string
		wantRHEL map[string]string // tag → RHEL
		wantVer  string
		wantErr  string
	}{
		{
			name: "4.21 single manifest, dual stream",
			spec: releasetest.Spec{Version: "4.21.11", CoreOS: map[string]map[string]string{
				"rhel-coreos":            releasetest.Labels("9.6", "20251110-1"),
				"rhel-coreos-extensions": releasetest.Labels("9.6", "20251110-1"),
				"rhel-coreos-10":         releasetest.Labels("10.2", "20251112-0"),
			}, OtherTags: []string{"cli", "machine-config-operator"}},
			wantRHEL: map[string]string{"rhel-coreos": "9.6", "rhel-coreos-10": "10.2", "rhel-coreos-extensions": ""}, // an extensions image says nothing of RHEL CoreOS
			wantVer:  "4.21.11",
		},
		{
			name: "4.22 index, arm64 picked",
			spec: releasetest.Spec{Version: "4.22.0", Index: true, CoreOS: map[string]map[string]string{
				"rhel-coreos": releasetest.Labels("9.8", "20260301-0"),
			}},
			arch:     "aarch64",
			wantRHEL: map[string]string{"rhel-coreos": "9.8"},
			wantVer:  "4.22.0",
		},
		{
			name:    "no image-references",
			spec:    releasetest.Spec{Version: "4.20.1", OmitImageReferences: true, CoreOS: map[string]map[string]string{"rhel-coreos": releasetest.Labels("9.6", "1")}},
			wantErr: "no release-manifests/image-references in any of its 2 layers",
		},
		{
			name:    "no rhel-coreos tag",
			spec:    releasetest.Spec{Version: "4.20.2", CoreOS: map[string]map[string]string{"cli": releasetest.Labels("9.6", "1")}},
			wantErr: `names no "rhel-coreos" image (tags: cli)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := releasetest.Push(host+"/openshift-release-dev", tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			p, err := release.Inspect(context.Background(), ref, release.Options{RPMArch: tt.arch})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != tt.wantVer {
				t.Errorf("version = %q, want %q", p.Version, tt.wantVer)
			}
			got := map[string]string{}
			for _, c := range p.CoreOS {
				got[c.Tag] = c.RHEL
				if !c.Bootc {
					t.Errorf("%s: bootc label not read", c.Tag)
				}
			}
			if len(got) != len(tt.wantRHEL) {
				t.Errorf("coreos = %v, want %v", got, tt.wantRHEL)
			}
			for k, v := range tt.wantRHEL {
				if got[k] != v {
					t.Errorf("%s RHEL = %q, want %q", k, got[k], v)
				}
			}
			if prim, ok := p.Primary(); !ok || !strings.Contains(prim.Image, "@sha256:") {
				t.Errorf("primary = %+v", prim)
			}
		})
	}
}

func TestInspectAuth(t *testing.T) {
	host := newRegistry(t, "puller", "s3cret")
	ref, err := releasetest.Push(host+"/ocp", releasetest.Spec{Version: "4.21.11", CoreOS: map[string]map[string]string{"rhel-coreos": releasetest.Labels("9.6", "20251110-1")}},
		remote.WithAuth(&authn.Basic{Username: "puller", Password: "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := release.Inspect(context.Background(), ref, release.Options{}); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") && !strings.Contains(err.Error(), "401") {
		t.Fatalf("anonymous: error = %v, want unauthorized", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pull-secret.json")
	auth := base64.StdEncoding.EncodeToString([]byte("puller:s3cret"))
	os.WriteFile(cfg, []byte(`{"auths":{"quay.io":{"auth":"eDp5"},"`+host+`":{"auth":"`+auth+`"}}}`), 0o600)
	p, err := release.Inspect(context.Background(), ref, release.Options{RegistryConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := p.Primary(); c.RHEL != "9.6" {
		t.Errorf("RHEL = %q", c.RHEL)
	}
}

func TestDefaultImage(t *testing.T) {
	tests := []struct{ version, arch, want, wantErr string }{
		{"4.21.11", "", "quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64", ""},
		{"4.22.0-ec.3", "aarch64", "quay.io/openshift-release-dev/ocp-release:4.22.0-ec.3-aarch64", ""},
		{"4.21", "", "", "want a full x.y.z version"},
		{"latest", "", "", "want a full x.y.z version"},
	}
	for _, tt := range tests {
		got, err := release.DefaultImage(tt.version, tt.arch)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v", tt.version, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.version, got, err, tt.want)
		}
	}
}

func TestRHELFromLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"stream", map[string]string{"com.coreos.stream": "rhel-9.6"}, "9.6"},
		{"stream wins over version", map[string]string{"com.coreos.stream": "rhel-9.8", "org.opencontainers.image.version": "9.6.20251110-1"}, "9.8"},
		{"rhel 10 stream", map[string]string{"com.coreos.stream": "rhel-10.2"}, "10.2"},
		{"version only", map[string]string{"org.opencontainers.image.version": "9.6.20251110-1"}, "9.6"},
		{"old 4.16 versioning", map[string]string{"org.opencontainers.image.version": "416.94.202405281309-0"}, "9.4"},
		{"build versions", map[string]string{"io.openshift.build.versions": "kernel=5.14.0, machine-os=9.6.20251110-1"}, "9.6"},
		{"ostree.linux is never read", map[string]string{"ostree.linux": "5.14.0-570.el9.x86_64"}, ""},
		{"garbage", map[string]string{"com.coreos.stream": "fedora", "org.opencontainers.image.version": "latest"}, ""},
		{"4.18 image (coreos-assembler)", releasetest.LegacyLabels("4.18", "9.4", "202501221327-0", "5.14.0-427.50.1.el9_4.x86_64"), "9.4"},
		{"4.13 image: version label only", map[string]string{"version": "413.92.202302081904-0", "ostree.linux": "5.14.0-252.el9.x86_64"}, "9.2"},
		{"UBI version is no RHCOS version", map[string]string{"version": "9.6"}, ""},
	}
	for _, tt := range tests {
		if got := release.RHELFromLabels(tt.labels); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseImageReferences(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"ok", `{"kind":"ImageStream","metadata":{"name":"4.21.11"},"spec":{"tags":[{"name":"rhel-coreos","from":{"kind":"DockerImage","name":"q/r@sha256:1"}}]}}`, ""},
		{"wrong kind", `{"kind":"ConfigMap"}`, `kind is "ConfigMap"`},
		{"nameless tag", `{"kind":"ImageStream","spec":{"tags":[{"from":{"name":"x"}}]}}`, "spec.tags[0].name is empty"},
		{"no from", `{"kind":"ImageStream","spec":{"tags":[{"name":"a"}]}}`, "spec.tags[0] (a): from.name is empty"},
		{"istag", `{"kind":"ImageStream","spec":{"tags":[{"name":"a","from":{"kind":"ImageStreamTag","name":"x"}}]}}`, `from.kind is "ImageStreamTag"`},
		{"not json", `{`, "unexpected end"},
	}
	for _, tt := range tests {
		imgs, v, err := release.ParseImageReferences([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || v != "4.21.11" || len(imgs) != 1 || imgs[0].Tag != "rhel-coreos" {
			t.Errorf("%s: %v %q %v", tt.name, imgs, v, err)
		}
	}
}

func FuzzParseImageReferences(f *testing.F) {
	f.Add(`{"kind":"ImageStream","metadata":{"name":"4.21.11"},"spec":{"tags":[{"name":"rhel-coreos","from":{"kind":"DockerImage","name":"q/r@sha256:1"}}]}}`)
	f.Fuzz(func(t *testing.T, s string) {
		imgs, _, err := release.ParseImageReferences([]byte(s))
		if err != nil {
			return
		}
		for _, i := range imgs {
			if i.Tag == "" || i.Image == "" {
				t.Fatalf("accepted empty tag/image: %+v", i)
			}
		}
	})
}

func TestKeychain(t *testing.T) {
	auth := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	doc := `{"auths":{
		"https://quay.io":{"auth":"` + auth("generic:a") + `"},
		"quay.io/openshift-release-dev":{"auth":"` + auth("release:b") + `"},
		"registry.example.com:5000":{"username":"u","password":"p"},
		"docker.io":{"auth":"` + auth("hub:c") + `"}}}`
	k, err := release.ParseKeychain([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ ref, wantUser string }{
		{"quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64", "release"},
		{"quay.io/other/image:1", "generic"},
		{"registry.example.com:5000/a/b:c", "u"},
		{"busybox:latest", "hub"},
		{"ghcr.io/x/y:z", ""},
	}
	for _, tt := range tests {
		repo := mustRepo(t, tt.ref)
		a, err := k.Resolve(repo)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != tt.wantUser {
			t.Errorf("%s: user %q, want %q", tt.ref, cfg.Username, tt.wantUser)
		}
	}
	for _, bad := range []string{`{`, `{"auths":{"h":{"auth":"!!"}}}`, `{"auths":{"h":{"auth":"` + auth("nocolon") + `"}}}`} {
		_, err := release.ParseKeychain([]byte(bad))
		if err == nil {
			t.Errorf("%s: accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "nocolon") {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

// The node image's kernel comes from its metalayer's meta.json, the
// extensions' versions from extensions.json (openshift/os layout).
func TestInspectPackageMetadata(t *testing.T) {
	host := newRegistry(t, "", "")
	ref, err := releasetest.Push(host+"/openshift-release-dev", releasetest.Spec{Version: "4.21.11", CoreOS: map[string]map[string]string{
		"rhel-coreos":            releasetest.Labels("9.6", "20251110-1"),
		"rhel-coreos-extensions": releasetest.Labels("9.6", "20251110-1"),
		"rhel-coreos-10":         releasetest.Labels("10.2", "20251112-0"),
	}, Kernel: map[string]string{"rhel-coreos": "5.14.0-570.42.1.el9_6", "rhel-coreos-10": "6.12.0-55.12.1.el10_0"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := release.Inspect(context.Background(), ref, release.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]release.CoreOS{}
	for _, c := range p.CoreOS {
		got[c.Tag] = c
	}
	if c := got["rhel-coreos"]; c.Kernel != "5.14.0-570.42.1.el9_6.x86_64" || c.Packages != 13 {
		t.Errorf("rhel-coreos kernel %q, %d packages", c.Kernel, c.Packages)
	}
	if c := got["rhel-coreos-10"]; c.Kernel != "6.12.0-55.12.1.el10_0.x86_64" {
		t.Errorf("rhel-coreos-10 kernel %q", c.Kernel)
	}
	if e := got["rhel-coreos-extensions"].Extensions; e["kernel-devel"] != "5.14.0-570.42.1.el9_6.x86_64" || e["usbguard"] == "" {
		t.Errorf("extensions = %v", e)
	}
}

func TestParseMetaJSON(t *testing.T) {
	for _, tc := range []struct {
		in, kernel, err string
		n               int
	}{
		{in: `{"rpmdb.pkglist":[["bash","0","5.1.8","9.el9","x86_64"],["kernel","0","5.14.0","570.42.1.el9_6","x86_64"],["kernel-core","0","5.14.0","570.42.1.el9_6","x86_64"]]}`, kernel: "5.14.0-570.42.1.el9_6.x86_64", n: 3},
		{in: `{"rpmdb.pkglist":[["kernel-rt-core","0","5.14.0","570.42.1.el9_6","x86_64"]]}`, kernel: "5.14.0-570.42.1.el9_6.x86_64", n: 1},
		{in: `{"rpmdb.pkglist":[["bash","0","5.1.8","9.el9","x86_64"]]}`, kernel: "", n: 1},
		{in: `{"rpmdb.pkglist":[["bash","0","5.1.8"]]}`, err: "rpmdb.pkglist[0]: want [name, epoch, version, release, arch], got 3 fields"},
		{in: `{"rpmdb.pkglist":[]}`, err: "rpmdb.pkglist is empty"},
		{in: `[`, err: "not a meta.json document"},
	} {
		k, n, err := release.ParseMetaJSON([]byte(tc.in))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || k != tc.kernel || n != tc.n {
			t.Errorf("%s: %q %d %v", tc.in, k, n, err)
		}
	}
}

func FuzzParseMetaJSON(f *testing.F) {
	f.Add([]byte(`{"rpmdb.pkglist":[["kernel-core","0","5.14.0","570.42.1.el9_6","x86_64"]]}`))
	f.Add([]byte(`{"rpmdb.pkglist":[[]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, n, err := release.ParseMetaJSON(b)
		if err == nil && (n == 0 || (k != "" && !strings.Contains(k, "-"))) {
			t.Errorf("accepted %q: kernel %q, %d packages", b, k, n)
		}
	})
}

func FuzzParseExtensionsJSON(f *testing.F) {
	f.Add([]byte(`{"kernel-devel": "5.14.0-570.42.1.el9_6.x86_64"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := release.ParseExtensionsJSON(b); err == nil && m == nil {
			t.Errorf("accepted %q as nothing", b)
		}
	})
}

// A 4.16–4.18 payload: the node image is coreos-assembler's (no
// metalayer: its kernel is the ostree.linux label), the extensions image
// UBI with no extensions.json.
func TestInspectLegacyPayload(t *testing.T) {
	host := newRegistry(t, "", "")
	ref, err := releasetest.Push(host+"/openshift-release-dev", releasetest.Spec{Version: "4.18.25", CoreOS: map[string]map[string]string{
		"rhel-coreos":            releasetest.LegacyLabels("4.18", "9.4", "202501221327-0", "5.14.0-427.50.1.el9_4.x86_64"),
		"rhel-coreos-extensions": releasetest.LegacyExtensionsLabels("4.18", "9.4", "202501221327-0"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := release.Inspect(context.Background(), ref, release.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]release.CoreOS{}
	for _, c := range p.CoreOS {
		got[c.Tag] = c
	}
	if c := got["rhel-coreos"]; c.Kernel != "5.14.0-427.50.1.el9_4.x86_64" || c.RHEL != "9.4" || c.Packages != 0 || c.IsExtensions {
		t.Errorf("rhel-coreos: %+v", c)
	}
	if c := got["rhel-coreos-extensions"]; !c.IsExtensions || c.Kernel != "" || c.Extensions != nil || c.RHEL != "" {
		t.Errorf("rhel-coreos-extensions: %+v", c)
	}
	if len(p.Streams()) != 0 {
		t.Errorf("streams %v", p.Streams())
	}
}
