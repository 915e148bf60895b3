package mirrors

import (
	"strings"
	"testing"
)

const sampleFile = `apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
metadata:
  name: release
  annotations:
    oc-mirror: v2
spec:
  imageDigestMirrors:
  - source: quay.io/openshift-release-dev/ocp-release
    mirrors:
    - mirror.example.com:5000/ocp4/openshift4
    mirrorSourcePolicy: NeverContactSource
  - source: quay.io/openshift-release-dev/ocp-v4.0-art-dev
    mirrors:
    - mirror.example.com:5000/ocp4/openshift4
---
apiVersion: v1
kind: List
items:
- apiVersion: config.openshift.io/v1
  kind: ImageTagMirrorSet
  metadata:
    name: tags
  spec:
    imageTagMirrors:
    - source: quay.io/openshift-release-dev
      mirrors: [mirror.example.com:5000/tags]
- apiVersion: operator.openshift.io/v1alpha1
  kind: ImageContentSourcePolicy
  metadata:
    name: legacy
  spec:
    repositoryDigestMirrors:
    - source: registry.redhat.io/rhel9
      mirrors: [mirror.example.com:5000/rhel9]
`

func TestParse(t *testing.T) {
	rules, err := Parse("mirrors.yaml", []byte(sampleFile))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.Origin+" "+r.Source+" → "+strings.Join(r.Mirrors, ",")+" "+r.Policy())
	}
	want := []string{
		"mirrors.yaml:9 (ImageDigestMirrorSet/release spec.imageDigestMirrors[0]) quay.io/openshift-release-dev/ocp-release → mirror.example.com:5000/ocp4/openshift4 NeverContactSource",
		"mirrors.yaml:13 (ImageDigestMirrorSet/release spec.imageDigestMirrors[1]) quay.io/openshift-release-dev/ocp-v4.0-art-dev → mirror.example.com:5000/ocp4/openshift4 AllowContactingSource",
		"mirrors.yaml:26 (ImageTagMirrorSet/tags items[0].spec.imageTagMirrors[0]) quay.io/openshift-release-dev → mirror.example.com:5000/tags AllowContactingSource",
		"mirrors.yaml:34 (ImageContentSourcePolicy/legacy items[1].spec.repositoryDigestMirrors[0]) registry.redhat.io/rhel9 → mirror.example.com:5000/rhel9 AllowContactingSource",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !rules[2].Tag || rules[0].Tag || rules[3].Tag {
		t.Errorf("tag flags wrong: %+v", rules)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown spec field", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: x}\nspec:\n  imageDigestMirror:\n  - source: quay.io\n",
			"m.yaml:5:3: spec.imageDigestMirror: unknown field (a ImageDigestMirrorSet lists its rules in spec.imageDigestMirrors)"},
		{"unknown rule field", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: x}\nspec:\n  imageDigestMirrors:\n  - source: quay.io\n    mirror: [m.example.com]\n",
			"m.yaml:7:5: spec.imageDigestMirrors[0].mirror: unknown field"},
		{"policy typo", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: x}\nspec:\n  imageDigestMirrors:\n  - source: quay.io\n    mirrors: [m.example.com]\n    mirrorSourcePolicy: NeverContact\n",
			`m.yaml:8:25: spec.imageDigestMirrors[0].mirrorSourcePolicy: "NeverContact": want NeverContactSource or AllowContactingSource`},
		{"ICSP has no policy", "apiVersion: operator.openshift.io/v1alpha1\nkind: ImageContentSourcePolicy\nmetadata: {name: x}\nspec:\n  repositoryDigestMirrors:\n  - source: quay.io\n    mirrors: [m.example.com]\n    mirrorSourcePolicy: NeverContactSource\n",
			"m.yaml:8:5: spec.repositoryDigestMirrors[0].mirrorSourcePolicy: unknown field"},
		{"bad mirror", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: x}\nspec:\n  imageDigestMirrors:\n  - source: quay.io\n    mirrors: [\"https://m.example.com\"]\n",
			`m.yaml:7:15: spec.imageDigestMirrors[0].mirrors[0]: "https://m.example.com" is not host[:port][/namespace…[/repo]]`},
		{"missing source", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: x}\nspec:\n  imageDigestMirrors:\n  - mirrors: [m.example.com]\n",
			"m.yaml:6:5: spec.imageDigestMirrors[0].source: missing"},
		{"wrong kind", "apiVersion: v1\nkind: ConfigMap\n", `m.yaml:2:7: kind: "ConfigMap" is not ImageDigestMirrorSet, ImageTagMirrorSet or ImageContentSourcePolicy`},
		{"wrong apiVersion", "apiVersion: config.openshift.io/v1alpha1\nkind: ImageDigestMirrorSet\nmetadata: {name: x}\nspec: {}\n", `m.yaml:1:1: apiVersion: "config.openshift.io/v1alpha1": ImageDigestMirrorSet is config.openshift.io/v1`},
		{"metadata typo", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  nmae: x\nspec: {}\n", "m.yaml:4:3: metadata.nmae: unknown field"},
		{"empty", "", "m.yaml: no objects"},
		{"syntax", "kind: [\n", "m.yaml: invalid YAML"},
		{"conflicting policy across objects", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: a}\nspec:\n  imageDigestMirrors:\n  - source: quay.io\n    mirrors: [m.example.com]\n    mirrorSourcePolicy: NeverContactSource\n---\napiVersion: config.openshift.io/v1\nkind: ImageTagMirrorSet\nmetadata: {name: b}\nspec:\n  imageTagMirrors:\n  - source: quay.io\n    mirrors: [t.example.com]\n",
			"m.yaml:15 (ImageTagMirrorSet/b spec.imageTagMirrors[0]): source \"quay.io\" has mirrorSourcePolicy AllowContactingSource, but m.yaml:6 (ImageDigestMirrorSet/a spec.imageDigestMirrors[0]) gives it NeverContactSource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleFile))
	f.Add([]byte("kind: List\nitems: [{kind: ImageDigestMirrorSet}]\n"))
	f.Add([]byte("{\"apiVersion\":\"config.openshift.io/v1\",\"kind\":\"ImageTagMirrorSet\",\"spec\":{\"imageTagMirrors\":[{\"source\":\"*.x.io\",\"mirrors\":[\"m.io/a\"]}]}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, err := Parse("f.yaml", b)
		if err != nil {
			return
		}
		// What parses compiles, and every reference maps to a plan whose
		// sources are valid references.
		s, err := Compile(rules)
		if err != nil {
			t.Fatalf("parsed rules do not compile: %v", err)
		}
		for _, r := range rules {
			if r.Source == "" || strings.HasPrefix(r.Source, "*.") {
				continue
			}
			p, err := s.Sources(r.Source + "/x@" + dig)
			if err != nil {
				continue // a source naming a repository cannot take /x; fine
			}
			if len(p.Sources) == 0 && !p.Blocked {
				t.Fatalf("no sources for %s", r.Source)
			}
		}
	})
}
