package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeKubeconfig(t *testing.T, dir, name, server string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	data := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + server + `"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRESTConfigKubeconfigList(t *testing.T) {
	dir := t.TempDir()
	a := writeKubeconfig(t, dir, "a", "https://a.example:6443")
	b := writeKubeconfig(t, dir, "b", "https://b.example:6443")
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		kubeconfig, want, err string
	}{
		{kubeconfig: a, want: "https://a.example:6443"},
		{kubeconfig: b + string(filepath.ListSeparator) + a, want: "https://b.example:6443"},
		{kubeconfig: missing + string(filepath.ListSeparator) + a, want: "https://a.example:6443"},
		{kubeconfig: missing, err: "cluster access"},
	}
	for _, tt := range tests {
		cfg, err := Access{Kubeconfig: tt.kubeconfig}.RESTConfig()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v; want %q", tt.kubeconfig, err, tt.err)
			}
			continue
		}
		if err != nil || cfg.Host != tt.want {
			t.Errorf("%s: host = %v, %v; want %s", tt.kubeconfig, cfg, err, tt.want)
		}
	}
}
