package render

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/mosc-dev/mosc/layers"
	"github.com/mosc-dev/mosc/templates"
)

const treesGenFile = "trees_gen.go"

// TestTreesGenerated holds trees_gen.go to the embedded layers and
// templates: the file must be exactly what generateTrees writes today, and
// every tree it holds must equal, field by exported field, the tree
// text/template's parser builds from the file (newSet uses a generated tree
// only for a file with the same name and text, so a stale entry costs
// speed, never correctness). After editing layers/ or templates/:
// go test ./internal/render -run TestTreesGenerated -update.
func TestTreesGenerated(t *testing.T) {
	srcs := embeddedSources(t)
	gen := generateTrees(t, srcs)
	if *update {
		if err := os.WriteFile(treesGenFile, gen, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	cur, err := os.ReadFile(treesGenFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cur, gen) {
		t.Errorf("%s is not what the embedded layers and templates generate: go test ./internal/render -run TestTreesGenerated -update", treesGenFile)
	}
	for _, s := range srcs {
		want, funcs := parseFile(t, s)
		got := generatedTrees(s.name)
		if got == nil || got.text != s.text {
			t.Errorf("%s: no generated trees", s.name)
			continue
		}
		if g, w := treeNames(got.trees), treeNames(want); g != w {
			t.Errorf("%s: generated trees %s, parsed %s", s.name, g, w)
			continue
		}
		for i, gt := range got.trees {
			wt := want[i]
			if g, w := dumpNode(reflect.ValueOf(gt.root)), dumpNode(reflect.ValueOf(wt.Root)); g != w {
				t.Errorf("%s: tree %q differs from the parsed one:\n%s\n---\n%s", s.name, gt.name, g, w)
			}
		}
		if g, w := strings.Join(got.funcs, " "), strings.Join(funcs, " "); g != w {
			t.Errorf("%s: generated functions %q, the trees call %q", s.name, g, w)
		}
		// A different text under the same name, or the same text under
		// another name, is parsed.
		if _, _, ok := generatedSet(source{s.name, s.text + " "}, map[string]*parse.Tree{}); ok {
			t.Errorf("%s: generated trees for an edited file", s.name)
		}
		if _, _, ok := generatedSet(source{s.name + "x", s.text}, map[string]*parse.Tree{}); ok {
			t.Errorf("%s: generated trees for another name", s.name)
		}
		// The trees newSet gets: names, roots, and the text and file name
		// execution errors are reported with.
		set, _, ok := generatedSet(s, map[string]*parse.Tree{})
		if !ok {
			t.Errorf("%s: generated trees not used", s.name)
			continue
		}
		for i, gt := range set {
			wt := want[i]
			if gt.Name != wt.Name || gt.ParseName != wt.ParseName || gt.Root != got.trees[i].root {
				t.Errorf("%s: tree %q (%q) of generatedSet, want %q (%q)", s.name, gt.Name, gt.ParseName, wt.Name, wt.ParseName)
			}
			var gctx, wctx []string
			for _, n := range []parse.Node{gt.Root.Nodes[0], gt.Root.Nodes[len(gt.Root.Nodes)-1]} {
				loc, ctx := gt.ErrorContext(n)
				gctx = append(gctx, loc+" "+ctx)
			}
			for _, n := range []parse.Node{wt.Root.Nodes[0], wt.Root.Nodes[len(wt.Root.Nodes)-1]} {
				loc, ctx := wt.ErrorContext(n)
				wctx = append(wctx, loc+" "+ctx)
			}
			if g, w := strings.Join(gctx, "\n"), strings.Join(wctx, "\n"); g != w {
				t.Errorf("%s: tree %q: error context\n%s\nwant\n%s", s.name, gt.Name, g, w)
			}
		}
	}
}

// embeddedSources are the embedded layer fragments and manifest templates
// as parseLayers and parseTemplates name them.
func embeddedSources(t testing.TB) []source {
	var srcs []source
	for _, d := range []struct {
		fsys         fs.FS
		glob, prefix string
	}{{layers.FS, "*.tmpl", "layers/"}, {templates.FS, "*.yaml.tmpl", "templates/"}} {
		names, err := fs.Glob(d.fsys, d.glob)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := fs.ReadFile(d.fsys, n)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, source{d.prefix + n, string(b)})
		}
	}
	return srcs
}

// parseFile parses one file as newSet does, trees sorted by name, and the
// functions they call in first-call order.
func parseFile(t testing.TB, s source) ([]*parse.Tree, []string) {
	set := map[string]*parse.Tree{}
	tr := parse.New(s.name)
	tr.Mode = parse.SkipFuncCheck
	if _, err := tr.Parse(s.text, "", "", set); err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	var trees []*parse.Tree
	for _, x := range set {
		trees = append(trees, x)
	}
	sort.Slice(trees, func(i, j int) bool { return trees[i].Name < trees[j].Name })
	var funcs []string
	seen := map[string]bool{}
	for _, x := range trees {
		walkIdents(x.Root, func(id string) {
			if !seen[id] && !builtinFuncs[id] {
				seen[id] = true
				funcs = append(funcs, id)
			}
		})
	}
	return trees, funcs
}

func treeNames(x any) string {
	var names []string
	switch x := x.(type) {
	case []genTree:
		for _, t := range x {
			names = append(names, t.name)
		}
	case []*parse.Tree:
		for _, t := range x {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ", ")
}

// dumpNode prints every exported field of a parse tree, recursively: what
// text/template's execution reads (the unexported tree pointer only feeds
// ErrorContext, which falls back to the executing tree).
func dumpNode(v reflect.Value) string {
	var b strings.Builder
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			if v.Kind() == reflect.Pointer {
				b.WriteString("&")
			}
			walk(v.Elem(), depth)
		case reflect.Struct:
			b.WriteString(v.Type().String() + "{")
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				if !f.IsExported() {
					continue
				}
				fmt.Fprintf(&b, "\n%s%s: ", strings.Repeat("  ", depth+1), f.Name)
				walk(v.Field(i), depth+1)
			}
			b.WriteString("}")
		case reflect.Slice:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			if v.Type().Elem().Kind() == reflect.Uint8 {
				fmt.Fprintf(&b, "%q", v.Bytes())
				return
			}
			b.WriteString("[")
			for i := 0; i < v.Len(); i++ {
				fmt.Fprintf(&b, "\n%s", strings.Repeat("  ", depth+1))
				walk(v.Index(i), depth+1)
			}
			b.WriteString("]")
		case reflect.String:
			fmt.Fprintf(&b, "%q", v.String())
		default:
			fmt.Fprintf(&b, "%v", v.Interface())
		}
	}
	walk(v, 0)
	return b.String()
}

// generateTrees writes trees_gen.go: for each file, its trees as static Go
// data (laid out by the linker: no parsing, no allocation, no init code) and
// the functions they call.
func generateTrees(t testing.TB, srcs []source) []byte {
	var b bytes.Buffer
	b.WriteString(`// Code generated by ` + "`go test ./internal/render -run TestTreesGenerated -update`" + `; DO NOT EDIT.

package render

import "text/template/parse"

// generatedTrees returns the embedded file name as generated: its text,
// the trees text/template's parser builds from it (sorted by name) and the
// functions they call; nil for any other name (see trees.go).
func generatedTrees(name string) *genFile {
	switch name {
`)
	var vars bytes.Buffer
	for i, s := range srcs {
		if strings.Contains(s.text, treeTextDelim) {
			t.Fatalf("%s contains %q, the delimiter trees.go gives the parser to read no action", s.name, treeTextDelim)
		}
		trees, funcs := parseFile(t, s)
		fmt.Fprintf(&b, "\tcase %q:\n\t\treturn &genFile%d\n", s.name, i)
		fmt.Fprintf(&vars, "\n// %s\nvar genFile%d = genFile{\n\ttext: %q,\n\tfuncs: %s,\n\ttrees: []genTree{\n", s.name, i, s.text, goStrings(funcs))
		g := &nodeLit{t: t, w: &vars, seen: map[parse.Node]bool{}}
		for _, tr := range trees {
			fmt.Fprintf(&vars, "\t\t{name: %q, root: ", tr.Name)
			g.node(tr.Root)
			vars.WriteString("},\n")
		}
		vars.WriteString("\t},\n}\n")
	}
	b.WriteString("\t}\n\treturn nil\n}\n")
	b.Write(vars.Bytes())
	src, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatalf("generated trees do not format: %v", err)
	}
	return src
}

func goStrings(ss []string) string {
	if ss == nil {
		return "nil"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

// nodeLit writes a parse node as a Go composite literal.
type nodeLit struct {
	t    testing.TB
	w    *bytes.Buffer
	seen map[parse.Node]bool
}

func (g *nodeLit) printf(format string, args ...any) { fmt.Fprintf(g.w, format, args...) }

func (g *nodeLit) node(n parse.Node) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		g.printf("nil")
		return
	}
	// The literal gives each node its own copy: a node reached twice
	// would be two nodes.
	if g.seen[n] {
		g.t.Fatalf("node %T at %d is shared in the tree", n, n.Position())
	}
	g.seen[n] = true
	switch n := n.(type) {
	case *parse.ListNode:
		g.list(n)
	case *parse.TextNode:
		g.printf("&parse.TextNode{NodeType: parse.NodeText, Pos: %d, Text: []byte(%q)}", n.Pos, n.Text)
	case *parse.CommentNode:
		g.printf("&parse.CommentNode{NodeType: parse.NodeComment, Pos: %d, Text: %q}", n.Pos, n.Text)
	case *parse.ActionNode:
		g.printf("&parse.ActionNode{NodeType: parse.NodeAction, Pos: %d, Line: %d, Pipe: ", n.Pos, n.Line)
		g.pipe(n.Pipe)
		g.printf("}")
	case *parse.PipeNode:
		g.pipe(n)
	case *parse.CommandNode:
		g.command(n)
	case *parse.IdentifierNode:
		g.printf("&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Pos: %d, Ident: %q}", n.Pos, n.Ident)
	case *parse.VariableNode:
		g.variable(n)
	case *parse.DotNode:
		g.printf("&parse.DotNode{NodeType: parse.NodeDot, Pos: %d}", n.Pos)
	case *parse.NilNode:
		g.printf("&parse.NilNode{NodeType: parse.NodeNil, Pos: %d}", n.Pos)
	case *parse.FieldNode:
		g.printf("&parse.FieldNode{NodeType: parse.NodeField, Pos: %d, Ident: %s}", n.Pos, goStrings(n.Ident))
	case *parse.ChainNode:
		g.printf("&parse.ChainNode{NodeType: parse.NodeChain, Pos: %d, Node: ", n.Pos)
		g.node(n.Node)
		g.printf(", Field: %s}", goStrings(n.Field))
	case *parse.BoolNode:
		g.printf("&parse.BoolNode{NodeType: parse.NodeBool, Pos: %d, True: %t}", n.Pos, n.True)
	case *parse.NumberNode:
		g.printf("&parse.NumberNode{NodeType: parse.NodeNumber, Pos: %d, IsInt: %t, IsUint: %t, IsFloat: %t, IsComplex: %t, Int64: %d, Uint64: %d, Float64: %s, Complex128: complex(%s, %s), Text: %q}",
			n.Pos, n.IsInt, n.IsUint, n.IsFloat, n.IsComplex, n.Int64, n.Uint64, goFloat(g.t, n.Float64),
			goFloat(g.t, real(n.Complex128)), goFloat(g.t, imag(n.Complex128)), n.Text)
	case *parse.StringNode:
		g.printf("&parse.StringNode{NodeType: parse.NodeString, Pos: %d, Quoted: %q, Text: %q}", n.Pos, n.Quoted, n.Text)
	case *parse.IfNode:
		g.printf("&parse.IfNode{BranchNode: ")
		g.branch(&n.BranchNode, "parse.NodeIf")
		g.printf("}")
	case *parse.RangeNode:
		g.printf("&parse.RangeNode{BranchNode: ")
		g.branch(&n.BranchNode, "parse.NodeRange")
		g.printf("}")
	case *parse.WithNode:
		g.printf("&parse.WithNode{BranchNode: ")
		g.branch(&n.BranchNode, "parse.NodeWith")
		g.printf("}")
	case *parse.TemplateNode:
		g.printf("&parse.TemplateNode{NodeType: parse.NodeTemplate, Pos: %d, Line: %d, Name: %q, Pipe: ", n.Pos, n.Line, n.Name)
		g.pipe(n.Pipe)
		g.printf("}")
	case *parse.BreakNode:
		g.printf("&parse.BreakNode{NodeType: parse.NodeBreak, Pos: %d, Line: %d}", n.Pos, n.Line)
	case *parse.ContinueNode:
		g.printf("&parse.ContinueNode{NodeType: parse.NodeContinue, Pos: %d, Line: %d}", n.Pos, n.Line)
	default:
		g.t.Fatalf("no generator for parse node %T", n)
	}
}

func (g *nodeLit) list(n *parse.ListNode) {
	if n == nil {
		g.printf("nil")
		return
	}
	g.printf("&parse.ListNode{NodeType: parse.NodeList, Pos: %d, Nodes: ", n.Pos)
	if n.Nodes == nil {
		g.printf("nil}")
		return
	}
	g.printf("[]parse.Node{\n")
	for _, c := range n.Nodes {
		g.node(c)
		g.printf(",\n")
	}
	g.printf("}}")
}

func (g *nodeLit) pipe(n *parse.PipeNode) {
	if n == nil {
		g.printf("nil")
		return
	}
	g.seen[n] = true
	g.printf("&parse.PipeNode{NodeType: parse.NodePipe, Pos: %d, Line: %d, IsAssign: %t, Decl: ", n.Pos, n.Line, n.IsAssign)
	if n.Decl == nil {
		g.printf("nil")
	} else {
		g.printf("[]*parse.VariableNode{")
		for _, v := range n.Decl {
			g.variable(v)
			g.printf(", ")
		}
		g.printf("}")
	}
	g.printf(", Cmds: ")
	if n.Cmds == nil {
		g.printf("nil}")
		return
	}
	g.printf("[]*parse.CommandNode{")
	for _, c := range n.Cmds {
		g.command(c)
		g.printf(", ")
	}
	g.printf("}}")
}

func (g *nodeLit) command(n *parse.CommandNode) {
	g.printf("&parse.CommandNode{NodeType: parse.NodeCommand, Pos: %d, Args: ", n.Pos)
	if n.Args == nil {
		g.printf("nil}")
		return
	}
	g.printf("[]parse.Node{")
	for _, a := range n.Args {
		g.node(a)
		g.printf(", ")
	}
	g.printf("}}")
}

func (g *nodeLit) variable(n *parse.VariableNode) {
	g.printf("&parse.VariableNode{NodeType: parse.NodeVariable, Pos: %d, Ident: %s}", n.Pos, goStrings(n.Ident))
}

func (g *nodeLit) branch(n *parse.BranchNode, typ string) {
	g.printf("parse.BranchNode{NodeType: %s, Pos: %d, Line: %d, Pipe: ", typ, n.Pos, n.Line)
	g.pipe(n.Pipe)
	g.printf(", List: ")
	g.list(n.List)
	g.printf(", ElseList: ")
	g.list(n.ElseList)
	g.printf("}")
}

// goFloat is f as a Go constant that reads back as exactly f.
func goFloat(t testing.TB, f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if back, err := strconv.ParseFloat(s, 64); err != nil || back != f {
		t.Fatalf("float %v does not round-trip", f)
	}
	if !strings.ContainsAny(s, ".eEn") { // keep it a float constant
		s += ".0"
	}
	return s
}
