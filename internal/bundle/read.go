package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Source says where a read object came from, for error messages.
type Source struct {
	File string // path as given
	Line int    // first line of the YAML document (1-based), 0 for JSON
}

func (s Source) String() string {
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

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
			j, err := yaml.YAMLToJSONStrict(doc.data)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", src, err)
			}
			if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
				continue // a document holding only comments
			}
			items, err := expandList(j)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", src, err)
			}
			for _, item := range items {
				u, err := DecodeStrict(item)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %v", src, err)
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
	data []byte
	line int
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
			docs = append(docs, yamlDoc{cur, start})
			cur, start = []byte{}, i+2
			continue
		}
		cur = append(cur, l...)
	}
	docs = append(docs, yamlDoc{cur, start})
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
