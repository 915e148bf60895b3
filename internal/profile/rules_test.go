package profile

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ruleMatchers pairs each hand-written matcher with the regular expression
// it replaces; they must agree on every input.
var ruleMatchers = []struct {
	name  string
	rule  string
	match func(string) bool
}{
	{"PushSpecRule", PushSpecRule, MatchPushSpecRule},
	{"PushSpecV1alpha1NameRule", PushSpecV1alpha1NameRule, MatchPushSpecV1alpha1Name},
	{"nameRule", nameRule, matchName},
	{"keyFileNameRule", keyFileNameRule, matchKeyFileName},
}

// k8sMatchers pairs each fast path with the apimachinery check it
// stands for; they must return the same messages for every input.
var k8sMatchers = []struct {
	name       string
	fast, slow func(string) []string
}{
	{"IsDNS1123Subdomain", SubdomainErrors, validation.IsDNS1123Subdomain},
	{"IsValidLabelValue", LabelValueErrors, validation.IsValidLabelValue},
}

func checkK8sMatchers(t *testing.T, s string) (valid int) {
	t.Helper()
	for _, m := range k8sMatchers {
		got, want := m.fast(s), m.slow(s)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s(%q): %q, apimachinery %q", m.name, s, got, want)
		}
		if len(want) == 0 {
			valid++
		}
	}
	return valid
}

func TestK8sNameRules(t *testing.T) {
	seg := func(n int) string { return strings.Repeat("a", n) }
	samples := append(ruleSamples(), "master", "worker", "lvms-vg1", "a.b.c", "a..b", "a.-b", "a-.b", "a.b-", ".a", "a.", "A.b",
		"a_b.c", "Ab", "a_B", "a.B", "_a", "a_", "a.b_", seg(63), seg(64), seg(253), seg(254), seg(61)+"."+seg(61)+"."+seg(61)+"."+seg(61),
		seg(63)+"."+seg(63)+"."+seg(63)+"."+seg(61), seg(63)+"."+seg(63)+"."+seg(63)+"."+seg(62), "a\nb", "a\n", "é", "a\x00")
	valid := 0
	for _, s := range samples {
		valid += checkK8sMatchers(t, s)
	}
	if valid < 20 {
		t.Errorf("only %d valid samples", valid)
	}
}

// ruleSamples are the boundaries of each rule: segment and name lengths
// at and past their limits, ports of 1-6 digits, empty parts, characters
// just outside each class, non-ASCII and invalid UTF-8.
func ruleSamples() []string {
	seg := func(n int) string { return strings.Repeat("a", n) }
	s := []string{
		"", "a", "-", ".", "/", ":", "a.b", "a.b/c:d", "a.b/c", "a.b/c:", "a.b/:d", "a.b//c:d",
		"image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest",
		"quay.io/org/repo:tag", "quay.io:5/org/repo:tag", "quay.io:50/o/r:t", "quay.io:12345/o/r:t", "quay.io:123456/o/r:t",
		"quay.io:/o/r:t", "quay.io:ab/o/r:t", "localhost/o/r:t", "localhost:5000/r:t", ".io/r:t", "a..io/r:t", "a.io./r:t",
		"q_u.io/r:t", "quay.io/o_r/r.x:t_1", "quay.io/o.r/r:t", "quay.io/r:t:u", "quay.io/r:t/x", "quay.io/r@sha256:ab",
		"quay.io/" + seg(61) + "/r:t", "quay.io/" + seg(62) + "/r:t", "quay.io/" + seg(61) + "/" + seg(61) + "/r:t",
		"quay.io/" + seg(1), "quay.io/" + seg(61) + "/", "quay.io/" + seg(62) + "/", "quay.io//", "quay.io/a/b/c",
		"quay.io:5000/" + seg(61) + "/n", "quay.io/a.b/n",
		"a-b", "a.b", "a_b", "a-", "-a", "A", "ab", "a" + seg(61) + "b", "a" + seg(62) + "b", "a" + seg(61), seg(63), seg(64),
		"0", "RPM-GPG-KEY-foo", "key+1.asc", "_key", "k" + seg(200), "k" + seg(201), "ké", "k\xff", "é.io/r:t", "quay.io/r:t\n",
		"a.b/c:d\x00", "a\n.b/c:d",
	}
	return s
}

func TestRules(t *testing.T) {
	for _, m := range ruleMatchers {
		re := regexp.MustCompile(m.rule)
		matched := 0
		for _, s := range ruleSamples() {
			want := re.MatchString(s)
			if got := m.match(s); got != want {
				t.Errorf("%s: %q: matcher %v, regexp %v", m.name, s, got, want)
			}
			if want {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("%s: no sample matches; the samples test nothing", m.name)
		}
	}
}

// versionSamples are the edges of versionRule.
func versionSamples() []string {
	return []string{"4.20", "4.20.15", "v4.18.20-rc.1", "v4.1", "4", "4.", ".4", "4.20.", "4.20.1.", "4.20.1-", "4.20.1+x.Y-9",
		"4.20.1_x", "4.20-rc", "vv4.2", "V4.2", "4..2", "04.020.0003", "4.20\n", " 4.20", "4.20.1-é", "٤.٢", "4.2a", "4.20.1+-+",
		"99999999999999999999.1", ""}
}

func checkVersion(t *testing.T, re *regexp.Regexp, s string) bool {
	t.Helper()
	m := re.FindStringSubmatch(s)
	ma, mi, pa, ok := matchVersion(s)
	if ok != (m != nil) || ok && (ma != m[1] || mi != m[2] || pa != m[3]) {
		t.Errorf("%q: matchVersion %q %q %q %v, regexp %q", s, ma, mi, pa, ok, m)
	}
	return ok
}

func TestVersionRule(t *testing.T) {
	re := regexp.MustCompile(versionRule)
	hits := 0
	for _, s := range append(versionSamples(), ruleSamples()...) {
		if checkVersion(t, re, s) {
			hits++
		}
	}
	if hits < 5 {
		t.Errorf("only %d samples match", hits)
	}
}

func FuzzRules(f *testing.F) {
	for _, s := range append(ruleSamples(), versionSamples()...) {
		f.Add(s)
	}
	versionRE := regexp.MustCompile(versionRule)
	res := make([]*regexp.Regexp, len(ruleMatchers))
	for i, m := range ruleMatchers {
		res[i] = regexp.MustCompile(m.rule)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, m := range ruleMatchers {
			if got, want := m.match(s), res[i].MatchString(s); got != want {
				t.Errorf("%s: %q: matcher %v, regexp %v", m.name, s, got, want)
			}
		}
		checkVersion(t, versionRE, s)
		checkK8sMatchers(t, s)
	})
}
