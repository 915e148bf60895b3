package render

import (
	"io/fs"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/mosc-dev/mosc/layers"
	"github.com/mosc-dev/mosc/templates"
)

// newSet must build the very set text/template's Parse with every function
// builds (classicSet): same trees, same output, same errors.
func TestNewSetMatchesClassicParse(t *testing.T) {
	// As parsed from the text (names trees_gen.go does not know) and as
	// generated (the embedded files' names).
	for _, d := range []struct {
		fsys   fs.FS
		prefix string
	}{{layers.FS, ""}, {templates.FS, ""}, {layers.FS, "layers/"}, {templates.FS, "templates/"}} {
		names, err := fs.Glob(d.fsys, "*.tmpl")
		if err != nil {
			t.Fatal(err)
		}
		var srcs []source
		for _, n := range names {
			b, _ := fs.ReadFile(d.fsys, n)
			srcs = append(srcs, source{d.prefix + n, string(b)})
		}
		got, err := newSet("x", srcs)
		if err != nil {
			t.Fatal(err)
		}
		want, err := classicSet("x", srcs)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := templateDump(got), templateDump(want); g != w {
			t.Errorf("trees differ:\n%s\n---\n%s", g, w)
		}
	}
	for _, tc := range []struct {
		name string
		srcs []source
		data any
	}{
		{"funcs", []source{{"a", `{{ list 1 2 | toJson }} {{ printf "%d" (len (list 1)) }} {{ "x" | b64enc }} {{ opt .M "k" "d" }}`}}, map[string]any{"M": map[string]any{}}},
		{"include", []source{{"a", `{{ define "d" }}[{{ . }}]{{ end }}{{ include "d" 3 | upper }}`}, {"b", `{{ include "d" "b" }}`}}, nil},
		{"range-break", []source{{"a", `{{ range $i, $x := list 1 2 3 }}{{ if eq $x 2 }}{{ break }}{{ end }}{{ $x }}{{ else }}none{{ end }}`}}, nil},
		{"with-else", []source{{"a", `{{ with .X }}{{ . | quote }}{{ else with .Y }}{{ . | squote }}{{ else }}{{ "z" | title }}{{ end }}`}}, map[string]any{"X": nil, "Y": "y"}},
		{"template", []source{{"a", `{{ define "t" }}{{ . | trim }}{{ end }}{{ template "t" (printf " %s " "v") }}`}}, nil},
		{"undefined", []source{{"a", `ok`}, {"b", "line\n{{ now | date \"2006\" }}"}}, nil},
		{"impure", []source{{"a", `{{ env "HOME" }}`}}, nil},
		{"syntax", []source{{"a", "x\n{{ if }}\n"}}, nil},
		{"syntax-after-undefined", []source{{"a", "{{ nope }}\n{{ if }}"}}, nil},
		{"unclosed", []source{{"a", "{{ .X "}}, nil},
		{"redefine", []source{{"a", `{{ define "d" }}1{{ end }}`}, {"b", `{{ define "d" }}2{{ end }}{{ template "d" }}`}}, nil},
		{"redefine-empty", []source{{"a", `{{ define "d" }}1{{ end }}`}, {"b", `{{ define "d" }}{{ end }}{{ template "d" }}`}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, gerr := newSet("x", tc.srcs)
			want, werr := classicSet("x", tc.srcs)
			if errText(gerr) != errText(werr) {
				t.Fatalf("error %q, text/template's %q", errText(gerr), errText(werr))
			}
			if werr != nil {
				return
			}
			for _, s := range tc.srcs {
				g, gerr := execText(got, s.name, tc.data)
				w, werr := execText(want, s.name, tc.data)
				if g != w || errText(gerr) != errText(werr) {
					t.Errorf("%s: got %q, %v; text/template's %q, %v", s.name, g, gerr, w, werr)
				}
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func execText(t *template.Template, name string, data any) (string, error) {
	var b strings.Builder
	err := t.ExecuteTemplate(&b, name, data)
	return b.String(), err
}

// templateDump lists a set's templates with their parse trees.
func templateDump(t *template.Template) string {
	var out []string
	for _, x := range t.Templates() {
		if x.Tree != nil {
			out = append(out, x.Name()+": "+x.Tree.Root.String())
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
