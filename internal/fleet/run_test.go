package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Each never runs more than parallel calls at once, and runs every one.
func TestEachBound(t *testing.T) {
	for _, par := range []int{1, 3, 8} {
		var running, most, calls atomic.Int32
		Each(context.Background(), par, 20, func(ctx context.Context, i int) {
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			running.Add(-1)
			calls.Add(1)
		})
		if calls.Load() != 20 || most.Load() > int32(par) {
			t.Errorf("parallel %d: %d calls, at most %d at once", par, calls.Load(), most.Load())
		}
	}
}

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:1"}
- name: b
  cluster: {server: "https://127.0.0.1:2"}
users:
- name: u
  user: {token: t}
contexts:
- name: site-a
  context: {cluster: a, user: u}
- name: hub
  context: {cluster: b, user: u}
current-context: hub
`

// A kubeconfig gives the clusters it has a context for, by name; a
// directory gives each cluster its own file; the rest are Missing.
func TestAccesses(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "fleet.kubeconfig")
	if err := os.WriteFile(kc, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Accesses(kc, []string{"site-a", "site-b"})
	if err != nil {
		t.Fatal(err)
	}
	if a := got["site-a"]; a.Missing != "" || a.Context != "site-a" || a.Kubeconfig != kc || a.Source != "context site-a" {
		t.Errorf("site-a: %+v", a)
	}
	if a := got["site-b"]; !strings.Contains(a.Missing, "no context named after the cluster in the kubeconfig ("+kc+")") || a.Context != "" {
		t.Errorf("site-b: %+v", a)
	}
	if cfg, err := got["site-a"].RESTConfig(); err != nil || cfg.Host != "https://127.0.0.1:1" {
		t.Errorf("site-a resolves to %v, %v", cfg, err)
	}

	kdir := filepath.Join(dir, "kubeconfigs")
	os.Mkdir(kdir, 0o700)
	os.WriteFile(filepath.Join(kdir, "site-b.yaml"), []byte(twoContexts), 0o600)
	os.WriteFile(filepath.Join(kdir, "site-c.kubeconfig"), []byte(twoContexts), 0o600)
	os.Mkdir(filepath.Join(kdir, "site-a"), 0o700) // a directory is no kubeconfig
	got, err = Accesses(kdir, []string{"site-a", "site-b", "site-c"})
	if err != nil {
		t.Fatal(err)
	}
	if a := got["site-b"]; a.Kubeconfig != filepath.Join(kdir, "site-b.yaml") || a.Context != "" || a.Missing != "" {
		t.Errorf("site-b: %+v", a)
	}
	if a := got["site-c"]; a.Kubeconfig != filepath.Join(kdir, "site-c.kubeconfig") {
		t.Errorf("site-c: %+v", a)
	}
	if a := got["site-a"]; !strings.Contains(a.Missing, "no kubeconfig named after the cluster in "+kdir) {
		t.Errorf("site-a: %+v", a)
	}
	// The directory's file uses its own current context.
	if cfg, err := got["site-b"].RESTConfig(); err != nil || cfg.Host != "https://127.0.0.1:2" {
		t.Errorf("site-b resolves to %v, %v", cfg, err)
	}

	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("clusters: [\n"), 0o600)
	if _, err := Accesses(bad, []string{"x"}); err == nil || !strings.Contains(err.Error(), "--kubeconfig") {
		t.Errorf("a broken kubeconfig: %v", err)
	}
}
