package render

import "text/template/parse"

// The embedded layers and templates are known when mosc is built, so their
// parse trees are too: trees_gen.go holds them as static Go data, which the
// linker lays out in the binary. A render then neither lexes nor parses
// them (text/template's parser spent ~1.9 M instructions and ~120 KB of
// never-collected heap on 11.7 KB of templates in every process, about a
// tenth of a walkthrough render; issue 15). A file is taken from there only
// when its name and text are those it was generated from (one string
// compare; hashing the text cost more); any other text is parsed.
// TestTreesGenerated holds the data to what text/template's parser builds,
// field by exported field.

// genTree is one template of a file: its name and root.
type genTree struct {
	name string
	root *parse.ListNode
}

// genFile is a file's text, its trees (sorted by name) and the functions
// they call (besides text/template's builtins), in first-call order.
type genFile struct {
	text  string
	funcs []string
	trees []genTree
}

// treeTextDelim is the action delimiter given to the parser to read a
// generated file's text as one text node: Parse is the only way to give a
// Tree its source text, which ErrorContext needs for an execution error's
// line and column. No embedded file contains it (the generator checks).
const treeTextDelim = "\x00"

// generatedSet returns the trees text/template's parser builds from s, as
// newSet parses it, without parsing; ok false if s is not an embedded file
// as generated. set takes the parser's own record of the file (any map).
func generatedSet(s source, set map[string]*parse.Tree) (trees []*parse.Tree, funcs []string, ok bool) {
	f := generatedTrees(s.name)
	if f == nil || f.text != s.text {
		return nil, nil, false
	}
	// A tree that has s.text as its text: what Parse sets for every tree
	// of the file, define blocks included (their ParseName is the file's).
	base := parse.New(s.name)
	if _, err := base.Parse(s.text, treeTextDelim, treeTextDelim, set); err != nil {
		return nil, nil, false
	}
	base.Root = nil // Copy copies no nodes
	trees = make([]*parse.Tree, len(f.trees))
	for i := len(f.trees) - 1; i >= 0; i-- { // copies first, then base itself
		t := base
		if i > 0 {
			t = base.Copy()
		}
		t.Name, t.Root, t.Mode = f.trees[i].name, f.trees[i].root, parse.SkipFuncCheck
		trees[i] = t
	}
	return trees, f.funcs, true
}
