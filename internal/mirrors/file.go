package mirrors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"

	"github.com/mosc-dev/mosc/internal/profile"
	yaml "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The kinds a mirror file holds, with the spec field listing their rules
// (openshift/api config/v1 types_image_digest_mirror_set.go,
// types_image_tag_mirror_set.go; operator/v1alpha1
// types_image_content_source_policy.go).
const (
	KindIDMS = "ImageDigestMirrorSet"
	KindITMS = "ImageTagMirrorSet"
	KindICSP = "ImageContentSourcePolicy"
)

var kinds = map[string]struct {
	apiVersion string
	field      string
	policy     bool // has mirrorSourcePolicy
	tag        bool
}{
	KindIDMS: {"config.openshift.io/v1", "imageDigestMirrors", true, false},
	KindITMS: {"config.openshift.io/v1", "imageTagMirrors", true, true},
	KindICSP: {"operator.openshift.io/v1alpha1", "repositoryDigestMirrors", false, false},
}

// FileError is a problem at a place in a mirror file.
type FileError struct {
	File         string
	Line, Column int
	Field        string
	Message      string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ReadFile reads --mirror-config: ImageDigestMirrorSet, ImageTagMirrorSet
// and ImageContentSourcePolicy objects as YAML or JSON, several documents
// or a List (what `oc get idms,itms,icsp -o yaml` prints, or the files
// oc-mirror writes). Decoding is strict: an unknown field is an error naming
// file, line and field.
func ReadFile(file string) ([]Rule, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, b)
}

// Parse decodes mirror objects from data (file names them in errors).
func Parse(file string, data []byte) (rules []Rule, err error) {
	defer func() {
		// yaml.v3 has panicked on malformed input before; never let it escape.
		if r := recover(); r != nil {
			rules, err = nil, &FileError{File: file, Message: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	p := &parser{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &FileError{File: file, Message: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue
		}
		docs++
		p.object(doc.Content[0], "", true)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	if docs == 0 {
		return nil, &FileError{File: file, Message: "no objects: want ImageDigestMirrorSet, ImageTagMirrorSet or ImageContentSourcePolicy"}
	}
	if err := Validate(p.rules); err != nil {
		return nil, err
	}
	return p.rules, nil
}

type parser struct {
	file  string
	rules []Rule
	errs  []error
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	e := &FileError{File: p.file, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// pairs returns a mapping's keys and values, refusing anything else.
func (p *parser) pairs(n *yaml.Node, path string) ([]*yaml.Node, []*yaml.Node, bool) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n, path, "YAML aliases are not supported")
		return nil, nil, false
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping, got %s", profile.DescribeNode(n))
		return nil, nil, false
	}
	var ks, vs []*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value == "<<" {
			p.errorf(k, path, "YAML merge keys are not supported")
			continue
		}
		if seen[k.Value] {
			p.errorf(k, join(path, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		ks, vs = append(ks, k), append(vs, n.Content[i+1])
	}
	return ks, vs, true
}

func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		p.errorf(n, path, "expected a string, got %s", profile.DescribeNode(n))
		return "", false
	}
	return n.Value, true
}

// object decodes one IDMS/ITMS/ICSP, or a List of them (top: not in a List).
func (p *parser) object(n *yaml.Node, path string, top bool) {
	ks, vs, ok := p.pairs(n, path)
	if !ok {
		return
	}
	var kind, apiVersion, objName string
	var kindNode *yaml.Node
	for i, k := range ks {
		switch k.Value {
		case "kind":
			kind, _ = p.str(vs[i], join(path, "kind"))
			kindNode = vs[i]
		case "apiVersion":
			apiVersion, _ = p.str(vs[i], join(path, "apiVersion"))
		}
	}
	if kindNode == nil {
		p.errorf(n, join(path, "kind"), "missing: want %s, %s or %s (or a List of them)", KindIDMS, KindITMS, KindICSP)
		return
	}
	if top && (kind == "List" || strings.HasSuffix(kind, "List")) {
		for i, k := range ks {
			switch k.Value {
			case "apiVersion", "kind", "metadata":
			case "items":
				if vs[i].Kind != yaml.SequenceNode {
					p.errorf(vs[i], "items", "expected a list, got %s", profile.DescribeNode(vs[i]))
					continue
				}
				for j, item := range vs[i].Content {
					p.object(item, fmt.Sprintf("items[%d]", j), false)
				}
			default:
				p.errorf(k, k.Value, "unknown field")
			}
		}
		return
	}
	spec, known := kinds[kind]
	if !known {
		p.errorf(kindNode, join(path, "kind"), "%q is not %s, %s or %s", kind, KindIDMS, KindITMS, KindICSP)
		return
	}
	if apiVersion != spec.apiVersion {
		p.errorf(n, join(path, "apiVersion"), "%q: %s is %s", apiVersion, kind, spec.apiVersion)
	}
	var specNode *yaml.Node
	for i, k := range ks {
		switch k.Value {
		case "apiVersion", "kind", "status":
		case "metadata":
			objName = p.metadata(vs[i], join(path, "metadata"))
		case "spec":
			specNode = vs[i]
		default:
			p.errorf(k, join(path, k.Value), "unknown field")
		}
	}
	if specNode == nil {
		p.errorf(n, join(path, "spec"), "missing")
		return
	}
	sks, svs, ok := p.pairs(specNode, join(path, "spec"))
	if !ok {
		return
	}
	for i, k := range sks {
		field := join(path, "spec."+k.Value)
		if k.Value != spec.field {
			p.errorf(k, field, "unknown field (a %s lists its rules in spec.%s)", kind, spec.field)
			continue
		}
		if isNull(svs[i]) {
			continue
		}
		if svs[i].Kind != yaml.SequenceNode {
			p.errorf(svs[i], field, "expected a list, got %s", profile.DescribeNode(svs[i]))
			continue
		}
		for j, item := range svs[i].Content {
			p.rule(item, fmt.Sprintf("%s[%d]", field, j), kind, objName, spec.policy, spec.tag)
		}
	}
}

// metaFields are ObjectMeta's JSON names: metadata may be anything oc get
// prints, but a typo there is still an error.
var metaFields = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(metav1.ObjectMeta{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
})

func (p *parser) metadata(n *yaml.Node, path string) string {
	ks, vs, ok := p.pairs(n, path)
	if !ok {
		return ""
	}
	name := ""
	for i, k := range ks {
		if !metaFields()[k.Value] {
			p.errorf(k, join(path, k.Value), "unknown field")
			continue
		}
		if k.Value == "name" {
			name, _ = p.str(vs[i], join(path, "name"))
		}
	}
	return name
}

func (p *parser) rule(n *yaml.Node, path, kind, objName string, hasPolicy, tag bool) {
	ks, vs, ok := p.pairs(n, path)
	if !ok {
		return
	}
	r := Rule{Tag: tag, Origin: fmt.Sprintf("%s:%d (%s/%s %s)", p.file, n.Line, kind, objName, path)}
	var srcNode *yaml.Node
	for i, k := range ks {
		field := join(path, k.Value)
		switch {
		case k.Value == "source":
			srcNode = vs[i]
			r.Source, _ = p.str(vs[i], field)
			if r.Source != "" && !sourceRE.MatchString(r.Source) {
				p.errorf(vs[i], field, "%q is not host[:port][/namespace…[/repo]] or *.domain", r.Source)
			}
		case k.Value == "mirrors":
			if isNull(vs[i]) {
				continue
			}
			if vs[i].Kind != yaml.SequenceNode {
				p.errorf(vs[i], field, "expected a list, got %s", profile.DescribeNode(vs[i]))
				continue
			}
			for j, m := range vs[i].Content {
				s, ok := p.str(m, fmt.Sprintf("%s[%d]", field, j))
				if !ok {
					continue
				}
				if !mirrorRE.MatchString(s) {
					p.errorf(m, fmt.Sprintf("%s[%d]", field, j), "%q is not host[:port][/namespace…[/repo]]", s)
					continue
				}
				r.Mirrors = append(r.Mirrors, s)
			}
		case k.Value == "mirrorSourcePolicy" && hasPolicy:
			s, ok := p.str(vs[i], field)
			switch {
			case !ok:
			case s == "NeverContactSource":
				r.NeverContactSource = true
			case s == "AllowContactingSource", s == "":
			default:
				p.errorf(vs[i], field, "%q: want NeverContactSource or AllowContactingSource", s)
			}
		default:
			p.errorf(k, field, "unknown field")
		}
	}
	if srcNode == nil || r.Source == "" {
		p.errorf(n, join(path, "source"), "missing")
		return
	}
	p.rules = append(p.rules, r)
}
