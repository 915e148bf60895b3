package mirrors

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestProxyFor(t *testing.T) {
	n := &Network{ClusterProxy: true, HTTPProxy: "http://proxy.example.com:3128", HTTPSProxy: "http://user:secret@proxy.example.com:3129",
		NoProxy: ".cluster.local,.svc,10.0.0.0/16,mirror.example.com"}
	for _, tc := range []struct{ url, want string }{
		{"https://quay.io/v2/", "http://user:secret@proxy.example.com:3129"},
		{"http://linux.mellanox.com/public/repo/", "http://proxy.example.com:3128"},
		{"https://mirror.example.com:5000/v2/", ""},                          // noProxy host (any port)
		{"https://image-registry.openshift-image-registry.svc:5000/v2/", ""}, // noProxy suffix
		{"https://10.0.3.4/v2/", ""},                                         // noProxy CIDR
		{"https://127.0.0.1:5000/v2/", ""},                                   // loopback never proxied (Go's rule)
	} {
		u, _ := url.Parse(tc.url)
		got, err := n.ProxyFor(u)
		if err != nil {
			t.Fatal(err)
		}
		s := ""
		if got != nil {
			s = got.String()
		}
		if s != tc.want {
			t.Errorf("%s: proxy %q, want %q", tc.url, s, tc.want)
		}
	}
	if d := n.Describe(); strings.Contains(d, "secret") || !strings.Contains(d, "the cluster Proxy http://REDACTED@proxy.example.com:3129 (noProxy .cluster.local") {
		t.Errorf("Describe() = %q", d)
	}
	env := n.Env()
	if !reflect.DeepEqual(env[:2], []string{"HTTP_PROXY=http://proxy.example.com:3128", "http_proxy=http://proxy.example.com:3128"}) || len(env) != 6 {
		t.Errorf("Env() = %q", env)
	}
	// No cluster Proxy: the environment's.
	t.Setenv("HTTPS_PROXY", "http://envproxy.example.com:8080")
	if (*Network)(nil).Env() != nil || (&Network{}).Env() != nil {
		t.Error("Env without a cluster Proxy must add nothing (the process environment is inherited)")
	}
	if d := (&Network{}).Describe(); d != "the environment's proxy http://envproxy.example.com:8080" {
		t.Errorf("Describe() = %q", d)
	}
}

func TestRegistryCAs(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{
		"mirror.example.com..5000": "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
		"registry.example.com":     "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==", // base64, as the MCO also accepts
	}}
	got := RegistryCAs(cm)
	if _, ok := got["mirror.example.com:5000"]; !ok {
		t.Errorf("'..' is a port: %v", got)
	}
	if string(got["registry.example.com"]) != "-----BEGIN CERTIFICATE-----\n" {
		t.Errorf("base64 value not decoded: %q", got["registry.example.com"])
	}
}
