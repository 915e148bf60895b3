package mirrors

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"

	"golang.org/x/net/http/httpproxy"
)

// Network is how the cluster reaches registries and repositories: its
// Proxy and its trusted CAs. The layered build runs with both
// (machine-config-operator, release-4.20,
// pkg/controller/build/buildrequest/buildrequest.go: HTTP_PROXY, HTTPS_PROXY,
// NO_PROXY from the ControllerConfig's proxy, which is the Proxy's status
// (pkg/operator/render.go createDiscoveredControllerConfigSpec); the
// additional trust bundle mounted as openshift-config-user-ca-bundle.crt),
// and the node reads a registry with the per-registry CAs of
// image.config.openshift.io/cluster spec.additionalTrustedCA, written to
// /etc/docker/certs.d/<host[:port]>/ca.crt (pkg/operator/sync.go,
// pkg/daemon/certificate_writer.go: ".." in the ConfigMap key is ":").
//
// The zero Network (and nil) is the user's own environment: $HTTPS_PROXY,
// $HTTP_PROXY, $NO_PROXY and the system's CAs.
type Network struct {
	// HTTPProxy, HTTPSProxy and NoProxy are the cluster Proxy's status (the
	// effective values, noProxy with the cluster's own networks added).
	HTTPProxy, HTTPSProxy, NoProxy string
	// ClusterProxy: the values come from Proxy/cluster; false means the
	// environment's proxy settings apply.
	ClusterProxy bool
	// TrustBundle is PEM: openshift-config/user-ca-bundle and the Proxy's
	// spec.trustedCA ConfigMap (key ca-bundle.crt), trusted for every
	// registry and repository, as the MCO's AdditionalTrustBundle
	// (pkg/operator/sync.go).
	TrustBundle []byte
	// TrustSources name the ConfigMaps TrustBundle came from.
	TrustSources []string
	// RegistryCAs maps a registry host[:port] to PEM CAs trusted for it
	// (image.config.openshift.io/cluster spec.additionalTrustedCA).
	RegistryCAs map[string][]byte
	// RegistryCASource names that ConfigMap.
	RegistryCASource string

	once         sync.Once
	base         *http.Transport
	err          error
	mu           sync.Mutex
	perHost      map[string]*http.Transport
	proxyFunc    func(*url.URL) (*url.URL, error)
	systemLoaded *x509.CertPool
}

// ProxyFor returns the proxy a request to u goes through (nil: direct).
func (n *Network) ProxyFor(u *url.URL) (*url.URL, error) {
	if n == nil || !n.ClusterProxy {
		return http.ProxyFromEnvironment(&http.Request{URL: u})
	}
	n.once.Do(n.init)
	return n.proxyFunc(u)
}

// Describe says, in one line, what the reads go through.
func (n *Network) Describe() string {
	var parts []string
	switch {
	case n != nil && n.ClusterProxy:
		p := n.HTTPSProxy
		if p == "" {
			p = n.HTTPProxy
		}
		parts = append(parts, "the cluster Proxy "+redactURL(p))
		if n.NoProxy != "" {
			parts[len(parts)-1] += " (noProxy " + n.NoProxy + ")"
		}
	case envProxy() != "":
		parts = append(parts, "the environment's proxy "+redactURL(envProxy()))
	}
	if n != nil && len(n.TrustSources) > 0 {
		parts = append(parts, "CAs from "+strings.Join(n.TrustSources, ", "))
	}
	if n != nil && len(n.RegistryCAs) > 0 {
		hosts := make([]string, 0, len(n.RegistryCAs))
		for h := range n.RegistryCAs {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		parts = append(parts, fmt.Sprintf("registry CAs for %s from %s", strings.Join(hosts, ", "), n.RegistryCASource))
	}
	return strings.Join(parts, "; ")
}

func envProxy() string {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// redactURL drops a proxy URL's user info: it may hold a password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("REDACTED")
	return u.String()
}

func (n *Network) init() {
	if n.ClusterProxy {
		f := (&httpproxy.Config{HTTPProxy: n.HTTPProxy, HTTPSProxy: n.HTTPSProxy, NoProxy: n.NoProxy}).ProxyFunc()
		n.proxyFunc = f
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = func(r *http.Request) (*url.URL, error) { return n.ProxyFor(r.URL) }
	if len(n.TrustBundle) > 0 {
		pool, err := n.pool(nil)
		if err != nil {
			n.err = err
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	n.base = t
}

// pool is the system CAs, the trust bundle and extra.
func (n *Network) pool(extra []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if len(n.TrustBundle) > 0 && !pool.AppendCertsFromPEM(n.TrustBundle) {
		return nil, fmt.Errorf("the trust bundle from %s holds no PEM certificate", strings.Join(n.TrustSources, ", "))
	}
	if len(extra) > 0 && !pool.AppendCertsFromPEM(extra) {
		return nil, fmt.Errorf("the registry CA ConfigMap %s holds no PEM certificate", n.RegistryCASource)
	}
	return pool, nil
}

// Transport is for repository reads (repodata, keys, package headers): the
// proxy and the trust bundle. A nil Network gives the environment's.
func (n *Network) Transport() http.RoundTripper {
	if n == nil {
		return http.DefaultTransport
	}
	n.once.Do(n.init)
	if n.err != nil {
		return errTransport{n.err}
	}
	return n.base
}

// HTTPClient wraps Transport.
func (n *Network) HTTPClient() *http.Client {
	return &http.Client{Transport: n.Transport()}
}

// RegistryTransport is for registry reads: Transport, plus the CAs
// image.config names for the request's registry host[:port].
func (n *Network) RegistryTransport() http.RoundTripper {
	if n == nil {
		return http.DefaultTransport
	}
	if len(n.RegistryCAs) == 0 {
		return n.Transport()
	}
	return registryTransport{n}
}

type registryTransport struct{ n *Network }

func (r registryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	n := r.n
	n.once.Do(n.init)
	ca, ok := n.RegistryCAs[req.URL.Host]
	if !ok || req.URL.Scheme != "https" {
		return n.Transport().RoundTrip(req)
	}
	n.mu.Lock()
	t := n.perHost[req.URL.Host]
	if t == nil {
		pool, err := n.pool(ca)
		if err != nil {
			n.mu.Unlock()
			return nil, err
		}
		t = n.base.Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if n.perHost == nil {
			n.perHost = map[string]*http.Transport{}
		}
		n.perHost[req.URL.Host] = t
	}
	n.mu.Unlock()
	return t.RoundTrip(req)
}

type errTransport struct{ err error }

func (e errTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, e.err }

// Env returns the proxy variables a subprocess (dnf) needs to reach what
// Transport reaches: the cluster Proxy's values, else nothing (the process
// environment is inherited).
func (n *Network) Env() []string {
	if n == nil || !n.ClusterProxy {
		return nil
	}
	var out []string
	for _, kv := range [][2]string{{"HTTP_PROXY", n.HTTPProxy}, {"HTTPS_PROXY", n.HTTPSProxy}, {"NO_PROXY", n.NoProxy}} {
		out = append(out, kv[0]+"="+kv[1], strings.ToLower(kv[0])+"="+kv[1])
	}
	return out
}

// WriteCABundle writes the system CAs plus the trust bundle to file (PEM),
// for a subprocess's CA option (dnf's sslcacert); it returns false when
// there is no trust bundle (the system CAs apply as they are).
func (n *Network) WriteCABundle(file string) (bool, error) {
	if n == nil || len(n.TrustBundle) == 0 {
		return false, nil
	}
	var b []byte
	for _, f := range []string{"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"} {
		if sys, err := os.ReadFile(f); err == nil {
			b = append(sys, '\n')
			break
		}
	}
	b = append(b, n.TrustBundle...)
	return true, os.WriteFile(file, b, 0o644)
}
