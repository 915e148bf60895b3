package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
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
	{"github.com/russross/blackfriday", "urfave/cli's man-page generator: make build leaves it out with -tags urfave_cli_no_docs (Makefile TAGS)"},
	{"github.com/cpuguy83/go-md2man", "urfave/cli's man-page generator: make build leaves it out with -tags urfave_cli_no_docs (Makefile TAGS)"},
	{"github.com/google/go-cmp", "its init compiles regexps in every command (0.75 ms); internal/diff compares with compare.go, go-cmp is its test oracle only"},
	{"github.com/sassoftware/go-rpmutils", "links xz, zstd, cpio and crc64 and their init into every command; internal/repo reads headers with rpmheader.go, go-rpmutils is its test oracle only"},
}

// allowedDeps are under a forbidden prefix but register no scheme: listers
// only read an informer's indexer.
var allowedDeps = []string{
	"github.com/openshift/client-go/machineconfiguration/listers/",
	"github.com/openshift/client-go/config/listers/",
}

// makeTags are the build tags of `make build` (the Makefile's TAGS line),
// so the import graph checked is the installed binary's.
func makeTags(t *testing.T) string {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mk), "\n") {
		if k, v, ok := strings.Cut(l, "?="); ok && strings.TrimSpace(k) == "TAGS" {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("Makefile has no TAGS ?= line")
	return ""
}

// TestImportGraph fails when the mosc binary links a clientset again.
// (The timing side of issue 15 is bench/render-bench.sh; this is the
// structural guard, which does not depend on machine load.)
func TestImportGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", "-tags", makeTags(t), ".").CombinedOutput()
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

// TestNoStartupRegexps fails on a package-level regexp.MustCompile in mosc's
// own code: Go compiles it before main in every command, render included
// (internal/watch's 36 took 0.8 ms of each start; issue 15). Use
// lazyre.New, compiled on first use.
func TestNoStartupRegexps(t *testing.T) {
	found := 0
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				g, ok := decl.(*ast.GenDecl)
				if !ok || g.Tok != token.VAR {
					continue
				}
				ast.Inspect(g, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.FuncLit:
						return false // runs when called, not at init
					case *ast.CallExpr:
						if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
							if id, ok := sel.X.(*ast.Ident); ok && id.Name == "regexp" && strings.HasPrefix(sel.Sel.Name, "MustCompile") {
								t.Errorf("%s: package-level regexp.%s runs at every start; use lazyre.New", fset.Position(n.Pos()), sel.Sel.Name)
								found++
							}
						}
					}
					return true
				})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found == 0 && testing.Verbose() {
		t.Log("no package-level regexp.MustCompile")
	}
}
