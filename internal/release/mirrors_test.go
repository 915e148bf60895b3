package release_test

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mosc-dev/mosc/internal/mirrors"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/release/releasetest"
)

// The payload lives only in a mirror; its image-references name an
// unresolvable source, as a payload mirrored by oc adm release mirror names
// quay.io. The IDMS sends every digest read to the mirror.
func TestInspectThroughMirror(t *testing.T) {
	mirror := newRegistry(t, "", "")
	const source = "quay.mosc.invalid/openshift-release-dev"
	spec := releasetest.Spec{Version: "4.21.11", RefBase: source, Kernel: map[string]string{"rhel-coreos": "5.14.0-570.62.1.el9_6"}, CoreOS: map[string]map[string]string{
		"rhel-coreos":            releasetest.Labels("9.6", "20251110-1"),
		"rhel-coreos-extensions": releasetest.Labels("9.6", "20251110-1"),
	}}
	pushed, err := releasetest.Push(mirror+"/ocp4", spec)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(mustRepo(t, pushed).Tag("4.21.11-x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	named := source + "/ocp-release@" + d.Digest.String()

	// Without the rule the source is tried, and it does not resolve.
	if _, err := release.Inspect(context.Background(), named, release.Options{}); err == nil || !strings.Contains(err.Error(), "quay.mosc.invalid") {
		t.Fatalf("without mirrors: err = %v", err)
	}

	rules := []mirrors.Rule{
		{Source: source + "/ocp-release", Mirrors: []string{mirror + "/ocp4/ocp-release"}, Origin: "ImageDigestMirrorSet/release spec.imageDigestMirrors[0]"},
		{Source: source + "/ocp-v4.0-art-dev", Mirrors: []string{mirror + "/ocp4/ocp-v4.0-art-dev"}, Origin: "ImageDigestMirrorSet/release spec.imageDigestMirrors[1]"},
	}
	set, err := mirrors.Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	p, err := release.Inspect(context.Background(), named, release.Options{Mirrors: set})
	if err != nil {
		t.Fatal(err)
	}
	if p.From != mirror+"/ocp4/ocp-release@"+d.Digest.String() || len(p.Mirrored()) != 3 {
		t.Fatalf("payload from %s, answers %+v", p.From, p.Answers)
	}
	os, ok := p.Primary()
	if !ok || os.RHEL != "9.6" || os.Kernel != "5.14.0-570.62.1.el9_6.x86_64" || !strings.HasPrefix(os.From, mirror+"/ocp4/ocp-v4.0-art-dev@") || !strings.HasPrefix(os.Image, source) {
		t.Fatalf("rhel-coreos %+v", os)
	}
	ans, err := release.CanRead(context.Background(), os.Image, release.Options{Mirrors: set})
	if err != nil || !ans.Mirror {
		t.Fatalf("CanRead = %+v, %v", ans, err)
	}

	// NeverContactSource with a mirror that lacks the image: the source is
	// not contacted, and the error says so.
	empty := newRegistry(t, "", "")
	blocked, err := mirrors.Compile([]mirrors.Rule{{Source: source + "/ocp-v4.0-art-dev", Mirrors: []string{empty + "/ocp4/ocp-v4.0-art-dev"}, NeverContactSource: true, Origin: "ImageDigestMirrorSet/strict spec.imageDigestMirrors[0]"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = release.CanRead(context.Background(), os.Image, release.Options{Mirrors: blocked})
	if err == nil || !strings.Contains(err.Error(), "was not contacted: mirrorSourcePolicy NeverContactSource (ImageDigestMirrorSet/strict") || strings.Contains(err.Error(), "no such host") {
		t.Fatalf("NeverContactSource: err = %v", err)
	}
}

// A TLS registry whose CA only the cluster's image.config trusts, reached
// only through the cluster Proxy (a CONNECT proxy that resolves its name).
func TestInspectThroughProxyWithClusterCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// httptest's certificate names example.com: that name does not lead to
	// the test server from here, only the proxy resolves it.
	host := "example.com:" + port
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	proxy := &connectProxy{resolve: map[string]string{host: srv.Listener.Addr().String()}}
	ps := httptest.NewServer(proxy)
	t.Cleanup(ps.Close)

	// Push directly, with the test server's own client; the payload names
	// its images by the proxied name.
	spec := releasetest.Spec{Version: "4.21.11", RefBase: host + "/ocp", CoreOS: map[string]map[string]string{"rhel-coreos": releasetest.Labels("9.6", "20251110-1")}}
	direct := strings.TrimPrefix(srv.URL, "https://")
	if _, err := releasetest.Push(direct+"/ocp", spec, remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(mustRepo(t, direct+"/ocp/ocp-release:x").Tag("4.21.11-x86_64"), remote.WithTransport(srv.Client().Transport))
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/ocp/ocp-release@" + d.Digest.String()

	netw := &mirrors.Network{ClusterProxy: true, HTTPSProxy: ps.URL, RegistryCAs: map[string][]byte{host: caPEM}, RegistryCASource: "openshift-config/registry-cas"}
	p, err := release.Inspect(context.Background(), ref, release.Options{Network: netw})
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "4.21.11" || proxy.count(host) == 0 {
		t.Fatalf("version %q, proxy saw %v", p.Version, proxy.seen)
	}

	// Without the CA: the certificate is not trusted.
	_, err = release.Inspect(context.Background(), ref, release.Options{Network: &mirrors.Network{ClusterProxy: true, HTTPSProxy: ps.URL}})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: err = %v", err)
	}
	// noProxy: the read goes direct, where the name does not lead to the
	// test server (bounded: with a network, example.com may not answer).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := proxy.count(host)
	_, err = release.Inspect(ctx, ref, release.Options{Network: &mirrors.Network{ClusterProxy: true, HTTPSProxy: ps.URL, NoProxy: "example.com", RegistryCAs: netw.RegistryCAs}})
	if err == nil {
		t.Fatal("noProxy: the direct read succeeded; example.com must not resolve to the test server")
	}
	if proxy.count(host) != before {
		t.Fatal("noProxy: the proxy was used")
	}
}

// connectProxy is a minimal HTTP CONNECT proxy with its own name table.
type connectProxy struct {
	mu      sync.Mutex
	resolve map[string]string
	seen    []string
}

func (p *connectProxy) count(host string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.seen {
		if s == host {
			n++
		}
	}
	return n
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.seen = append(p.seen, r.Host)
	to, ok := p.resolve[r.Host]
	p.mu.Unlock()
	if !ok {
		http.Error(w, "unknown host", http.StatusBadGateway)
		return
	}
	up, err := net.Dial("tcp", to)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, _ := w.(http.Hijacker)
	conn, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() { _, _ = io.Copy(up, buf); up.Close() }()
	_, _ = io.Copy(conn, up)
	conn.Close()
}
