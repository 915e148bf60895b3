package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	yaml3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// Source says where a read object came from, for error messages.
type Source struct {
	File   string // path as given
	Line   int    // first line of the YAML document (1-based), 0 for JSON
	Column int    // set by At for a field's position; 0 for a whole document

	// doc is the object's YAML document, parsed (yaml.v3, for positions)
	// only when At needs it: a field's position is wanted for an error or a
	// finding, and parsing every document a third time was a tenth of
	// `mosc validate DIR` (issue 15). item is the object's index in a v1
	// List (multi: the document held several objects). offset is the file
	// line the document starts at minus one.
	doc    *lazyNode
	item   int
	multi  bool
	offset int
}

// lazyNode is one document's yaml.v3 tree, parsed on first use.
type lazyNode struct {
	once sync.Once
	data []byte
	root *yaml3.Node
}

// node is the object's tree: the document's root, or its List item; nil
// when there is none (JSON that yaml.v3 refuses, a missing item).
func (s Source) node() *yaml3.Node {
	if s.doc == nil {
		return nil
	}
	s.doc.once.Do(func() { s.doc.root = parseNode(s.doc.data) })
	root := s.doc.root
	if !s.multi && !isList(root) {
		return root
	}
	// A v1 List: each item's fields are under items[i].
	if it, _ := child(root, "items"); it != nil {
		n, _ := child(it, strconv.Itoa(s.item))
		return n
	}
	return nil
}

func (s Source) String() string {
	switch {
	case s.Line > 0 && s.Column > 0:
		return fmt.Sprintf("%s:%d:%d", s.File, s.Line, s.Column)
	case s.Line > 0:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// At returns where field (a path as findings name it: spec.containerFile[0].content,
// metadata.annotations["mosc.dev/openshift"], data[doca.repo][doca]) is in
// the file: the key of the deepest part of the path that exists, so an
// unknown field points at its own key. Without a YAML tree it returns s.
func (s Source) At(field string) Source {
	if field == "" {
		return s
	}
	n := s.node()
	if n == nil {
		return s
	}
	var at *yaml3.Node
	for _, seg := range splitFieldPath(field) {
		next, pos := child(n, seg)
		if next == nil {
			break
		}
		n, at = next, pos
	}
	if at == nil {
		return s
	}
	return Source{File: s.File, Line: at.Line + s.offset, Column: at.Column, doc: s.doc, item: s.item, multi: s.multi, offset: s.offset}
}

// child returns the value under seg (a key, or an index for a list) and the
// node to point at (the key for a mapping, the item for a list).
func child(n *yaml3.Node, seg string) (value, pos *yaml3.Node) {
	switch n.Kind {
	case yaml3.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				return n.Content[i+1], n.Content[i]
			}
		}
	case yaml3.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i]
		}
		// containerFile[NoArch]: a list map keyed by its arch.
		for _, item := range n.Content {
			if item.Kind != yaml3.MappingNode {
				continue
			}
			for i := 0; i+1 < len(item.Content); i += 2 {
				if item.Content[i+1].Value == seg {
					return item, item
				}
			}
		}
	}
	return nil, nil
}

// splitFieldPath splits a.b[0]["c.d"][e.f] into a, b, 0, c.d, e.f.
func splitFieldPath(path string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '.':
			flush()
		case '[':
			flush()
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				cur.WriteString(path[i+1:])
				i = len(path)
				continue
			}
			out = append(out, strings.Trim(path[i+1:i+end], `"'`))
			i += end
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// fieldInError finds the field a strict-decoding error names
// (`unknown field "spec.x"`, `duplicate field "y"`).
var fieldInError = lazyre.New(`(?:unknown|duplicate) field "([^"]+)"`)

// ReadPath reads already-rendered manifests for `mosc validate PATH`: a
// directory (the resources of its kustomization.yaml in order, or else every
// *.yaml, *.yml and *.json file in name order), a single file, or "-" for
// stdin. YAML streams and v1 Lists are split into objects; every object is
// strictly decoded, and errors name file:line.
func ReadPath(path string) (*Bundle, []Source, error) {
	if path == "-" {
		data, err := readAllStdin()
		if err != nil {
			return nil, nil, err
		}
		return parseFiles([]namedData{{"<stdin>", data}})
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		return parseFiles([]namedData{{path, data}})
	}
	files, err := dirFiles(path)
	if err != nil {
		return nil, nil, err
	}
	var nd []namedData
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		nd = append(nd, namedData{f, data})
	}
	return parseFiles(nd)
}

var readAllStdin = func() ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(os.Stdin)
	return buf.Bytes(), err
}

type namedData struct {
	name string
	data []byte
}

func dirFiles(dir string) ([]string, error) {
	kpath := filepath.Join(dir, KustomizationFile)
	if data, err := os.ReadFile(kpath); err == nil {
		var k struct {
			Resources []string `json:"resources"`
		}
		if err := yaml.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("%s: %v", kpath, err)
		}
		var out []string
		for _, r := range k.Resources {
			if strings.Contains(r, "://") || filepath.IsAbs(r) || strings.HasPrefix(filepath.Clean(r), "..") {
				return nil, fmt.Errorf("%s: resources: %q is not a file inside %s", kpath, r, dir)
			}
			out = append(out, filepath.Join(dir, r))
		}
		return out, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml, *.yml or *.json files", dir)
	}
	return out, nil
}

func parseFiles(files []namedData) (*Bundle, []Source, error) {
	b := &Bundle{}
	var srcs []Source
	for _, f := range files {
		for _, doc := range splitYAML(f.data) {
			src := Source{File: f.name, Line: doc.line}
			jd, err := YAMLToJSONStrict(doc.data)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", src, err)
			}
			j := jd.Data
			if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
				continue // a document holding only comments
			}
			// One object (not a v1 List): decoded without parsing the JSON
			// again (JSONDoc.DecodeStrict); otherwise item by item.
			single := singleObject(jd.content)
			items := [][]byte{j}
			if !single {
				if items, err = expandList(j); err != nil {
					return nil, nil, fmt.Errorf("%s: %v", src, err)
				}
			}
			src.doc, src.multi = &lazyNode{data: doc.data}, len(items) > 1
			src.offset = doc.start - 1
			for i, item := range items {
				src.item = i
				var u *unstructured.Unstructured
				if single {
					u, err = jd.DecodeStrict()
				} else {
					u, err = DecodeStrict(item)
				}
				if err != nil {
					at := src
					if m := fieldInError.FindStringSubmatch(err.Error()); m != nil {
						at = src.At(m[1])
					}
					return nil, nil, fmt.Errorf("%s: %v", at, err)
				}
				o := Object{Content: u, Mode: ModeApply, FileName: filepath.Base(f.name)}
				if u.GetKind() == "Secret" {
					o.Secret = true
				}
				if u.GroupVersionKind() == GVKImageRegistryConfig {
					o.Mode = ModeMergePatch
				}
				b.Objects = append(b.Objects, o)
				srcs = append(srcs, src)
			}
		}
	}
	if len(b.Objects) == 0 {
		return nil, nil, fmt.Errorf("no objects found")
	}
	return b, srcs, nil
}

// singleObject reports whether expandList would return the object itself
// for the JSON the YAML walk built m from: apiVersion/kind plain strings
// (metaOf), not v1 List, and no key encoding/json would take for the
// probe's items (which it would try to decode as a list). False (ask
// expandList) when m is nil.
func singleObject(m map[string]any) bool {
	apiVersion, kind, ok := metaOf(m)
	if !ok || (apiVersion == "v1" && kind == "List") {
		return false
	}
	for k := range m {
		if strings.EqualFold(k, "items") {
			return false // metaOf has refused non-ASCII keys
		}
	}
	return true
}

// expandList returns the items of a v1 List, or the object itself.
func expandList(j []byte) ([][]byte, error) {
	var probe struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(j, &probe); err != nil {
		return nil, err
	}
	if probe.APIVersion == "v1" && probe.Kind == "List" {
		out := make([][]byte, len(probe.Items))
		for i, it := range probe.Items {
			out[i] = it
		}
		return out, nil
	}
	return [][]byte{j}, nil
}

type yamlDoc struct {
	data  []byte
	line  int // first line with content
	start int // first line of data
}

// parseNode parses one document for At; nil if it does not parse (the
// strict JSON conversion has reported that already).
func parseNode(data []byte) (n *yaml3.Node) {
	defer func() {
		if recover() != nil {
			n = nil
		}
	}()
	var doc yaml3.Node
	if yaml3.Unmarshal(data, &doc) != nil || doc.Kind != yaml3.DocumentNode || len(doc.Content) != 1 {
		return nil
	}
	return doc.Content[0]
}

func isList(n *yaml3.Node) bool {
	if n == nil || n.Kind != yaml3.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "kind" && n.Content[i+1].Value == "List" {
			return true
		}
	}
	return false
}

// splitYAML splits a YAML stream at "---" lines, remembering where each
// document starts so errors can name a line.
func splitYAML(data []byte) []yamlDoc {
	var docs []yamlDoc
	lines := bytes.SplitAfter(data, []byte("\n"))
	start, cur := 1, []byte{}
	for i, l := range lines {
		t := bytes.TrimRight(l, "\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			docs = append(docs, yamlDoc{cur, start, start})
			cur, start = []byte{}, i+2
			continue
		}
		cur = append(cur, l...)
	}
	docs = append(docs, yamlDoc{cur, start, start})
	out := docs[:0]
	for _, d := range docs {
		if len(bytes.TrimSpace(d.data)) == 0 {
			continue
		}
		// Point at the first line with content, past blank and comment lines.
		for _, l := range bytes.SplitAfter(d.data, []byte("\n")) {
			t := bytes.TrimSpace(l)
			if len(t) > 0 && t[0] != '#' {
				break
			}
			d.line++
		}
		out = append(out, d)
	}
	return out
}
