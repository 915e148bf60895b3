package harness

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Proxy is a small HTTP proxy for tests of a cluster Proxy: CONNECT
// tunnels (https) and absolute-URI requests (http), as squid serves both.
// It resolves names from its own table, so a name only the proxy knows
// (registry.mosc.test:PORT) can be reached only through it — a
// disconnected cluster's egress in miniature. It records every host asked.
type Proxy struct {
	ln    net.Listener
	srv   *http.Server
	mu    sync.Mutex
	names map[string]string
	seen  []string
}

// StartProxy listens on a free 127.0.0.1 port.
func StartProxy() (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, names: map[string]string{}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's URL (for httpProxy / httpsProxy).
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Map makes name (host:port) lead to addr (an address this host reaches).
func (p *Proxy) Map(name, addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names[name] = addr
}

// Seen counts the requests for host (host:port).
func (p *Proxy) Seen(host string) int {
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

// Close stops the proxy.
func (p *Proxy) Close() { _ = p.srv.Close() }

func (p *Proxy) dial(host string) (net.Conn, bool, error) {
	p.mu.Lock()
	p.seen = append(p.seen, host)
	addr, ok := p.names[host]
	p.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	return c, true, err
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if r.Method != http.MethodConnect {
		host = r.URL.Host
		if r.URL.Port() == "" {
			host += ":80"
		}
	}
	up, known, err := p.dial(host)
	switch {
	case !known:
		http.Error(w, "proxy: unknown host "+host, http.StatusBadGateway)
		return
	case err != nil:
		http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	if r.Method != http.MethodConnect {
		// Forward the absolute-URI request as an origin-form one.
		defer up.Close()
		r.RequestURI = ""
		r.Header.Del("Proxy-Connection")
		if err := r.Write(up); err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(up), r)
		if err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "proxy: cannot tunnel", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() {
		_, _ = io.Copy(up, buf)
		_ = up.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(conn, up)
	conn.Close()
	up.Close()
}

// TestCA is a throw-away certificate authority for servers a test trusts
// only through the cluster's CA configuration.
type TestCA struct{ p *pki }

// NewTestCA creates one.
func NewTestCA() (*TestCA, error) {
	p, err := newPKI()
	if err != nil {
		return nil, err
	}
	return &TestCA{p: p}, nil
}

// PEM is the CA certificate.
func (c *TestCA) PEM() []byte { return c.p.caPEM }

// ServerCert issues a serving certificate for the DNS names (and 127.0.0.1,
// so the test can push to it directly).
func (c *TestCA) ServerCert(names ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: strings.Join(names, ",")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.p.caCert, &key.PublicKey, c.p.caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tlsPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}

// Pool is a cert pool holding only the CA.
func (c *TestCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(c.p.caPEM)
	return p
}

// Mirror and proxy configuration a test may create (gate reads them).
var mirrorConfigGVRs = []schema.GroupVersionResource{
	{Group: "config.openshift.io", Version: "v1", Resource: "imagedigestmirrorsets"},
	{Group: "config.openshift.io", Version: "v1", Resource: "imagetagmirrorsets"},
	{Group: "operator.openshift.io", Version: "v1alpha1", Resource: "imagecontentsourcepolicies"},
	{Group: "config.openshift.io", Version: "v1", Resource: "proxies"},
	{Group: "config.openshift.io", Version: "v1", Resource: "images"},
}

// resetMirrorConfig deletes them: a leftover Proxy would send every later
// test's reads to a proxy that is gone.
func (c *Cluster) resetMirrorConfig(ctx context.Context) error {
	for _, gvr := range mirrorConfigGVRs {
		if err := c.Clients.Dynamic.Resource(gvr).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}
