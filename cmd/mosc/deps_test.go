package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// forbiddenDeps are packages whose init registers every kind of many API
// groups (or that import such a package): Go runs the init of every linked
// package, so linking one of them costs every mosc command, render
// included, milliseconds of start-up (issue 15). Cluster code uses package
// internal/kube instead; tests adapt client-go fakes with kube/kubetest.
var forbiddenDeps = []struct{ prefix, why string }{
	{"k8s.io/client-go/kubernetes", "client-go's clientset and its scheme (use internal/kube)"},
	{"k8s.io/client-go/informers", "client-go's informer factories link every typed client (use kube.NewInformer)"},
	{"k8s.io/client-go/dynamic/dynamicinformer", "links k8s.io/client-go/informers (use kube.NewDynamicInformer)"},
	{"k8s.io/client-go/discovery", "imports k8s.io/client-go/kubernetes/scheme (use kube.Discovery)"},
	{"k8s.io/client-go/restmapper", "imports client-go discovery (use kube.NewMapper)"},
	{"github.com/openshift/client-go/", "the openshift clientsets register their schemes (use internal/kube)"},
	{"k8s.io/apiextensions-apiserver/pkg/client", "the apiextensions clientset"},
	{"github.com/mosc-dev/mosc/internal/kube/kubetest", "test-only adapter, links the clientsets"},
}

// allowedDeps are under a forbidden prefix but register no scheme: listers
// only read an informer's indexer.
var allowedDeps = []string{
	"github.com/openshift/client-go/machineconfiguration/listers/",
	"github.com/openshift/client-go/config/listers/",
}

// TestImportGraph fails when the mosc binary links a clientset again.
// (The timing side of issue 15 is bench/render-bench.sh; this is the
// structural guard, which does not depend on machine load.)
func TestImportGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), out)
	}
	found := 0
next:
	for _, d := range deps {
		for _, a := range allowedDeps {
			if strings.HasPrefix(d, a) {
				continue next
			}
		}
		for _, f := range forbiddenDeps {
			if d == strings.TrimSuffix(f.prefix, "/") || strings.HasPrefix(d, strings.TrimSuffix(f.prefix, "/")+"/") {
				t.Errorf("cmd/mosc links %s: %s", d, f.why)
				found++
				continue next
			}
		}
	}
	if found > 0 {
		t.Log("find the importer with: go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/mosc | grep <package>")
	}
}
