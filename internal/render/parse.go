package render

import (
	"io/fs"
	"sort"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"unsafe"

	"github.com/Masterminds/sprig/v3"

	"github.com/mosc-dev/mosc/internal/embedtext"
)

// A template set gets only the functions its templates call. Giving it all
// of baseFuncs (sprig's ~180) cost each set four copies of that map:
// sprig's, ours, text/template's reflect.Values and its parse-time names,
// plus text/template's builtins map once per parsed file; about 150 KB of a
// ~1.6 MB walkthrough render, whose heap is never collected (issue 15). The
// sources are parsed without the function check, the identifiers they call
// are collected from the trees, and the set is given exactly those. The
// trees are what text/template's own Parse builds (it differs only in that
// check), and anything not defined takes text/template's Parse with every
// function, so errors read as before.

type source struct {
	name, text string
}

var (
	sprigOnce  sync.Once
	sprigFuncs map[string]any
)

// lookupFunc returns the function a template may call by name: mosc's own
// helpers, the sprig functions the embedded templates call (copies,
// sprigfuncs.go) or another pure sprig function (exactly baseFuncs' set,
// without the map). include is bound per set by newSet.
func lookupFunc(name string) (any, bool) {
	switch name {
	case "shargs":
		return shargs, true
	case "opt":
		return opt, true
	case "required":
		return required, true
	case "toJson":
		return toJSON, true
	case "b64enc":
		return b64enc, true
	case "list":
		return list, true
	case "concat":
		return concat, true
	case "fail":
		return fail, true
	}
	if isRemoved(name) {
		return nil, false
	}
	sprigOnce.Do(func() { sprigFuncs = sprig.TxtFuncMap() })
	f, ok := sprigFuncs[name]
	return f, ok
}

// builtinFuncs are text/template's predefined functions (package doc,
// "Functions"): a set needs no entry of its own for them.
var builtinFuncs = map[string]bool{
	"and": true, "call": true, "html": true, "index": true, "slice": true, "js": true, "len": true, "not": true,
	"or": true, "print": true, "printf": true, "println": true, "urlquery": true,
	"eq": true, "ge": true, "gt": true, "le": true, "lt": true, "ne": true,
}

// newSet parses srcs into one template set named root (option
// missingkey=error, include bound to the set).
func newSet(root string, srcs []source) (*template.Template, error) {
	trees := map[string]*parse.Tree{}
	var order []string // trees in the order Parse would add them
	fm := template.FuncMap{}
	var t *template.Template
	undefined := false
	addFunc := func(id string) {
		if _, ok := fm[id]; ok || builtinFuncs[id] {
			return
		}
		if id == "include" {
			bindInclude(fm, &t)
			return
		}
		if f, ok := lookupFunc(id); ok {
			fm[id] = f
			return
		}
		undefined = true
	}
	add := func(name string, tr *parse.Tree) bool {
		if _, dup := trees[name]; dup {
			return false
		}
		trees[name] = tr
		order = append(order, name)
		return true
	}
	var genSet map[string]*parse.Tree
	for _, s := range srcs {
		if genSet == nil {
			genSet = map[string]*parse.Tree{}
		}
		if gen, funcs, ok := generatedSet(s, genSet); ok {
			for _, tr := range gen {
				if !add(tr.Name, tr) {
					return classicSet(root, srcs) // redefinitions: leave the rules to text/template
				}
			}
			for _, id := range funcs {
				addFunc(id)
			}
			continue
		}
		set := map[string]*parse.Tree{}
		tr := parse.New(s.name)
		tr.Mode = parse.SkipFuncCheck
		if _, err := tr.Parse(s.text, "", "", set); err != nil {
			return nil, classicParseError(root, srcs, err)
		}
		for name, t := range set {
			if !add(name, t) {
				return classicSet(root, srcs)
			}
			walkIdents(t.Root, addFunc)
		}
	}
	if undefined {
		return classicSet(root, srcs)
	}
	t = template.New(root).Option("missingkey=error")
	t.Funcs(fm)
	for _, name := range order {
		if _, err := t.AddParseTree(name, trees[name]); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// classicSet is text/template's Parse with every function: the error of an
// undefined function, or a redefinition, exactly as before.
func classicSet(root string, srcs []source) (*template.Template, error) {
	fm := baseFuncs()
	t := template.New(root).Option("missingkey=error")
	bindInclude(fm, &t)
	t.Funcs(fm)
	for _, s := range srcs {
		if _, err := t.New(s.name).Parse(s.text); err != nil {
			return nil, templateError(err)
		}
	}
	return t, nil
}

// classicParseError returns the error text/template's Parse gives for a
// syntax error found without the function check (the same syntax error,
// unless an earlier undefined function comes first).
func classicParseError(root string, srcs []source, err error) error {
	if _, cerr := classicSet(root, srcs); cerr != nil {
		return cerr
	}
	return templateError(err)
}

// walkIdents calls f with every function name n calls.
func walkIdents(n parse.Node, f func(string)) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkIdents(c, f)
		}
	case *parse.ActionNode:
		walkIdents(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkIdents(c, f)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkIdents(a, f)
		}
	case *parse.ChainNode:
		walkIdents(n.Node, f)
	case *parse.IdentifierNode:
		f(n.Ident)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walkIdents(n.Pipe, f)
	}
}

func walkBranch(b *parse.BranchNode, f func(string)) {
	walkIdents(b.Pipe, f)
	walkIdents(b.List, f)
	walkIdents(b.ElseList, f)
}

// globSuffix is fs.Glob(fsys, "*"+suffix), sorted, without path.Match
// (which cost as much as the rest of loading the generated trees).
func globSuffix(fsys fs.FS, suffix string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, nil // as fs.Glob: a directory that cannot be read matches nothing
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// readSource returns the text of name in fsys, file as newSet names it:
// the generated text itself when the file still holds it (generatedSet then
// finds the trees with a pointer compare), without fs.ReadFile's copy of
// every template and layer (23 KB of a walkthrough render's heap).
func readSource(fsys fs.FS, name, file string) (string, error) {
	if g := generatedTrees(file); g != nil && embedtext.Same(fsys, name, g.text) {
		return g.text, nil
	}
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", err
	}
	return bytesString(src), nil
}

// stringBytes is []byte(s) for reading only.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// bytesString is string(b) for a b nothing writes to again (fs.ReadFile's
// fresh copy): the template text stays in the set for good, one copy is
// enough.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
