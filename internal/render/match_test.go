package render

import (
	"bytes"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/layers"
)

// matchers pairs each hand-written matcher with the expression it replaces.
var matchers = []struct {
	re    string
	match func(string) bool
}{
	{hugepageSize.String(), matchHugepageSize},
	{ovsToken.String(), matchOVSToken},
	{repoFileName.String(), matchRepoFileName},
	{repoFileNameAny.String(), matchRepoFileNameAny},
}

func matchSamples() []string {
	s := []string{"", "2M", "1G", "2m", "1G\n", " 1G", "2M2M", "a", "A-z_0.9", "a:b/c", "a b", "a\x00", "é", "\xff",
		".repo", "a.repo", "..repo", "a.rep", "a.repo.repo", "a/b.repo", "a.REPO", "a.repo\n", "RPM-GPG-KEY-x", "k+1",
		"other_config:x", "10000", "-", ":", "/"}
	for _, h := range headerSamples() {
		s = append(s, h)
	}
	return s
}

func headerSamples() []string {
	s := []string{
		"{{- /* mosc:params */ -}}\n", "{{/*mosc:params*/}}", "{{- /* mosc:params a b? c-1 */ -}}x", "{{ /* mosc:params a */ }}",
		"{{-/* mosc:params\n  packages\n  upgrade?\n*/-}}", "{{ /* mosc:params a?b */ }}", "{{ /* mosc:params a?? */ }}",
		"{{ /* mosc:params A */ }}", "{{ /* mosc:params 1a */ }}", "{{ /* mosc:params a */ }", "{{ /* mosc:params a *\\/ }}",
		"{{-- /* mosc:params */ }}", "{{ /* mosc:paramsa */ }}", "{{ /* mosc:params\ta\r\fb\v */ }}", "{{ /* mosc:params a- */ -}}",
		"x{{ /* mosc:params */ }}", "{{ /* mosc:params */ - }}", "{{ /* mosc:params a */ --}}", "{{ /* mosc:params */", "",
		"{{ /* mosc:params a */ }}\n{{ /* mosc:params b */ }}", "{{ /* mosc:params a-b?  c */\t}}",
	}
	files, _ := fs.Glob(layers.FS, "*.tmpl")
	for _, f := range files {
		b, _ := fs.ReadFile(layers.FS, f)
		s = append(s, string(b))
	}
	return s
}

func TestMatchers(t *testing.T) {
	for _, m := range matchers {
		re := regexp.MustCompile(m.re)
		hits := 0
		for _, s := range matchSamples() {
			want := re.MatchString(s)
			if got := m.match(s); got != want {
				t.Errorf("%s: %q: matcher %v, regexp %v", m.re, s, got, want)
			}
			if want {
				hits++
			}
		}
		if hits == 0 {
			t.Errorf("%s: no sample matches", m.re)
		}
	}
	hits := 0
	for _, s := range headerSamples() {
		if checkParamsHeader(t, s) {
			hits++
		}
	}
	if hits < 10 {
		t.Errorf("only %d header samples match", hits)
	}
}

// checkParamsHeader compares matchParamsHeader with paramsHeader.FindSubmatch.
func checkParamsHeader(t *testing.T, s string) bool {
	t.Helper()
	m := paramsHeader.Re().FindSubmatch([]byte(s))
	got, ok := matchParamsHeader([]byte(s))
	if ok != (m != nil) || ok && !bytes.Equal(got, m[1]) {
		var want []byte
		if m != nil {
			want = m[1]
		}
		t.Errorf("%q: matcher %q %v, regexp %q %v", s, got, ok, want, m != nil)
	}
	return ok
}

func FuzzMatchers(f *testing.F) {
	for _, s := range matchSamples() {
		f.Add(s)
	}
	res := make([]*regexp.Regexp, len(matchers))
	for i, m := range matchers {
		res[i] = regexp.MustCompile(m.re)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, m := range matchers {
			if got, want := m.match(s), res[i].MatchString(s); got != want {
				t.Errorf("%s: %q: matcher %v, regexp %v", m.re, s, got, want)
			}
		}
		checkParamsHeader(t, s)
		// The header with s as its parameter text.
		checkParamsHeader(t, "{{- /* mosc:params"+s+"*/ -}}")
		checkParamsHeader(t, "{{ /* mosc:params "+strings.TrimSpace(s)+" */ }}")
	})
}
