package mirrors

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const dig = "sha256:0a67508c72ebf9dc4ab957929b8400c8342a9256bf1f4a8bd93d6a719c56ad0b"

func TestSources(t *testing.T) {
	idms := func(src string, ms ...string) Rule { return Rule{Source: src, Mirrors: ms, Origin: "idms " + src} }
	never := func(r Rule) Rule { r.NeverContactSource = true; return r }
	tag := func(r Rule) Rule { r.Tag = true; r.Origin = "itms " + r.Source; return r }
	art := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + dig
	for _, tc := range []struct {
		name    string
		rules   []Rule
		ref     string
		want    []string // refs, mirrors first; "" entries never
		blocked bool
		scope   string
		skipped int
	}{
		{name: "no rules", ref: art, want: []string{art}},
		{name: "repository scope", ref: art,
			rules: []Rule{idms("quay.io/openshift-release-dev/ocp-v4.0-art-dev", "mirror.example.com:5000/ocp4/openshift4")},
			want:  []string{"mirror.example.com:5000/ocp4/openshift4@" + dig, art}, scope: "quay.io/openshift-release-dev/ocp-v4.0-art-dev"},
		{name: "namespace scope appends the rest", ref: art,
			rules: []Rule{idms("quay.io/openshift-release-dev", "mirror.example.com/ocp")},
			want:  []string{"mirror.example.com/ocp/ocp-v4.0-art-dev@" + dig, art}, scope: "quay.io/openshift-release-dev"},
		{name: "host scope", ref: art,
			rules: []Rule{idms("quay.io", "mirror.example.com/quay")},
			want:  []string{"mirror.example.com/quay/openshift-release-dev/ocp-v4.0-art-dev@" + dig, art}, scope: "quay.io"},
		{name: "longest scope wins, others are not merged in", ref: art,
			rules: []Rule{idms("quay.io", "a.example.com/quay"), idms("quay.io/openshift-release-dev/ocp-v4.0-art-dev", "b.example.com/art")},
			want:  []string{"b.example.com/art@" + dig, art}, scope: "quay.io/openshift-release-dev/ocp-v4.0-art-dev"},
		{name: "a prefix that is not a path boundary does not match", ref: art,
			rules: []Rule{idms("quay.io/openshift-release-dev/ocp-v4.0", "a.example.com/x")},
			want:  []string{art}},
		{name: "mirrors in order", ref: art,
			rules: []Rule{idms("quay.io/openshift-release-dev", "m2.example.com/o", "m1.example.com/o")},
			want:  []string{"m2.example.com/o/ocp-v4.0-art-dev@" + dig, "m1.example.com/o/ocp-v4.0-art-dev@" + dig, art}, scope: "quay.io/openshift-release-dev"},
		{name: "two rules of a source merge topologically: (B,C) and (A,B) give A,B,C", ref: art,
			rules: []Rule{idms("quay.io/openshift-release-dev", "b.example.com/o", "c.example.com/o"), idms("quay.io/openshift-release-dev", "a.example.com/o", "b.example.com/o")},
			want:  []string{"a.example.com/o/ocp-v4.0-art-dev@" + dig, "b.example.com/o/ocp-v4.0-art-dev@" + dig, "c.example.com/o/ocp-v4.0-art-dev@" + dig, art}, scope: "quay.io/openshift-release-dev"},
		{name: "a source listed among the mirrors is tried there", ref: art,
			rules: []Rule{idms("quay.io/openshift-release-dev", "quay.io/openshift-release-dev", "m.example.com/o")},
			want:  []string{art, "m.example.com/o/ocp-v4.0-art-dev@" + dig, art}, scope: "quay.io/openshift-release-dev"},
		{name: "a rule naming only its source is ignored", ref: art,
			rules: []Rule{idms("quay.io/openshift-release-dev", "quay.io/openshift-release-dev")},
			want:  []string{art}},
		{name: "NeverContactSource drops the source", ref: art,
			rules: []Rule{never(idms("quay.io/openshift-release-dev", "m.example.com/o"))},
			want:  []string{"m.example.com/o/ocp-v4.0-art-dev@" + dig}, blocked: true, scope: "quay.io/openshift-release-dev"},
		{name: "digest rules do not apply to tags", ref: "quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64",
			rules: []Rule{idms("quay.io/openshift-release-dev", "m.example.com/o")},
			want:  []string{"quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64"}, scope: "quay.io/openshift-release-dev", skipped: 1},
		{name: "tag rules apply to tags", ref: "quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64",
			rules: []Rule{tag(idms("quay.io/openshift-release-dev", "t.example.com/o")), idms("quay.io/openshift-release-dev", "d.example.com/o")},
			want:  []string{"t.example.com/o/ocp-release:4.21.11-x86_64", "quay.io/openshift-release-dev/ocp-release:4.21.11-x86_64"}, scope: "quay.io/openshift-release-dev", skipped: 1},
		{name: "tag rules do not apply to digests", ref: art,
			rules: []Rule{tag(idms("quay.io/openshift-release-dev", "t.example.com/o")), idms("quay.io/openshift-release-dev", "d.example.com/o")},
			want:  []string{"d.example.com/o/ocp-v4.0-art-dev@" + dig, art}, scope: "quay.io/openshift-release-dev", skipped: 1},
		{name: "NeverContactSource of a tag rule blocks the shared entry", ref: art,
			rules: []Rule{never(tag(idms("quay.io/openshift-release-dev", "t.example.com/o"))), never(idms("quay.io/openshift-release-dev", "d.example.com/o"))},
			want:  []string{"d.example.com/o/ocp-v4.0-art-dev@" + dig}, blocked: true, scope: "quay.io/openshift-release-dev", skipped: 1},
		{name: "wildcard source", ref: "registry.redhat.io/rhel9/support-tools@" + dig,
			rules: []Rule{idms("*.redhat.io", "mirror.local/redhat")},
			want:  []string{"mirror.local/redhat/rhel9/support-tools@" + dig, "registry.redhat.io/rhel9/support-tools@" + dig}, scope: "*.redhat.io"},
		{name: "wildcard does not match a path", ref: "quay.io/redhat.io/x@" + dig,
			rules: []Rule{idms("*.redhat.io", "mirror.local/redhat")},
			want:  []string{"quay.io/redhat.io/x@" + dig}},
		{name: "a port is part of the host", ref: "reg.example.com:5000/a/b@" + dig,
			rules: []Rule{idms("reg.example.com:5000/a", "m.example.com/x")},
			want:  []string{"m.example.com/x/b@" + dig, "reg.example.com:5000/a/b@" + dig}, scope: "reg.example.com:5000/a"},
		{name: "docker.io is matched as containers/image spells it", ref: "docker.io/library/busybox@" + dig,
			rules: []Rule{idms("docker.io/library", "m.example.com/lib")},
			want:  []string{"m.example.com/lib/busybox@" + dig, "docker.io/library/busybox@" + dig}, scope: "docker.io/library"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Sources(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, src := range p.Sources {
				got = append(got, src.Ref)
				// Only the last source can be the reference's own registry
				// (and is, unless NeverContactSource).
				if last := i == len(p.Sources)-1; src.Mirror == (last && !tc.blocked) {
					t.Errorf("source %d %s: mirror=%v", i, src.Ref, src.Mirror)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("sources:\n got %q\nwant %q", got, tc.want)
			}
			if p.Blocked != tc.blocked || p.Scope != tc.scope || p.Skipped != tc.skipped {
				t.Errorf("blocked=%v scope=%q skipped=%d, want %v %q %d", p.Blocked, p.Scope, p.Skipped, tc.blocked, tc.scope, tc.skipped)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules []Rule
		want  string
	}{
		{"bad source", []Rule{{Source: "Quay.io/UPPER", Mirrors: []string{"m.example.com"}, Origin: "o1"}}, `o1: source "Quay.io/UPPER"`},
		{"bad mirror", []Rule{{Source: "quay.io", Mirrors: []string{"*.example.com"}, Origin: "o1"}}, `o1: mirror "*.example.com"`},
		{"conflicting policies", []Rule{
			{Source: "quay.io/a", Mirrors: []string{"m.example.com"}, NeverContactSource: true, Origin: "o1"},
			{Source: "quay.io/a", Mirrors: []string{"n.example.com"}, Origin: "o2"},
		}, "o2: source \"quay.io/a\" has mirrorSourcePolicy AllowContactingSource, but o1 gives it NeverContactSource"},
		{"never contact with the source as mirror", []Rule{{Source: "quay.io/a", Mirrors: []string{"quay.io/a", "m.example.com"}, NeverContactSource: true, Origin: "o1"}}, "o1: mirrorSourcePolicy NeverContactSource with the source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.rules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTry(t *testing.T) {
	s, err := Compile([]Rule{{Source: "quay.io/o", Mirrors: []string{"m1.example.com/o", "m2.example.com/o"}, NeverContactSource: true, Origin: "ImageDigestMirrorSet/x spec.imageDigestMirrors[0]"}})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Sources("quay.io/o/r@" + dig)
	var tried []string
	v, src, err := Try(p, func(ref string) (int, error) {
		tried = append(tried, ref)
		if strings.HasPrefix(ref, "m2.") {
			return 7, nil
		}
		return 0, errors.New("MANIFEST_UNKNOWN")
	})
	if err != nil || v != 7 || src.Ref != "m2.example.com/o/r@"+dig || !src.Mirror || len(tried) != 2 {
		t.Fatalf("Try = %v %+v %v (tried %q)", v, src, err, tried)
	}
	_, _, err = Try(p, func(ref string) (int, error) { return 0, errors.New("MANIFEST_UNKNOWN") })
	want := "mirror m1.example.com/o/r@" + dig + ": MANIFEST_UNKNOWN; mirror m2.example.com/o/r@" + dig + ": MANIFEST_UNKNOWN; the source quay.io/o/r@" + dig + " was not contacted: mirrorSourcePolicy NeverContactSource (ImageDigestMirrorSet/x spec.imageDigestMirrors[0])"
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
	// Without mirrors the registry's own error is returned as it is.
	plain, _ := (*Set)(nil).Sources("quay.io/o/r@" + dig)
	_, _, err = Try(plain, func(string) (int, error) { return 0, errors.New("UNAUTHORIZED") })
	if err == nil || err.Error() != "UNAUTHORIZED" {
		t.Fatalf("err = %v", err)
	}
}
