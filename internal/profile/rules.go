package profile

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Hand-written matchers for the regular expressions with counted
// repetitions ({1,61}, {0,200}) that every render used: Go's regexp
// compiler unrolls a repetition into that many copies, so compiling the
// push spec rule took ~60 KB and a quarter of a millisecond, the name rule
// and the key file rule more (issue 15; each render compiled them once).
// Each matcher accepts exactly what its regular expression does:
// FuzzRules and TestRules compare them with the expressions, which stay
// here as the reference (PushSpecRule is the CRD's text).

// PushSpecRule is the MachineOSConfig v1 CRD's CEL rule for
// renderedImagePushSpec (openshift/api machineconfiguration/v1
// zz_generated.crd-manifests/0000_80_machine-config_01_machineosconfigs.crd.yaml).
const PushSpecRule = `^([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(:[0-9]{2,5})?(/[a-zA-Z0-9-_]{1,61})*/[a-zA-Z0-9-_.]+:[a-zA-Z0-9._-]+$`

const (
	nameRule        = `^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`
	keyFileNameRule = `^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$`
)

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
func isAlnum(c byte) bool      { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// all reports whether s is non-empty and every byte passes ok. The
// character classes here are ASCII, so a byte outside them (any byte of a
// multi-byte or invalid UTF-8 sequence included) fails, as in the regexp.
func all(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// hostLabelChar is [a-zA-Z0-9-]; pathChar [a-zA-Z0-9-_]; nameChar
// [a-zA-Z0-9-_.], which is also the tag's class [a-zA-Z0-9._-].
func hostLabelChar(c byte) bool { return isAlnum(c) || c == '-' }
func pathChar(c byte) bool      { return isAlnum(c) || c == '-' || c == '_' }
func nameChar(c byte) bool      { return pathChar(c) || c == '.' }

// MatchHostPort matches ([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(:[0-9]{2,5})?: a
// host name with at least one dot and an optional port.
func MatchHostPort(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && (len(port) < 2 || len(port) > 5 || !all(port, isDigit)) {
		return false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !all(l, hostLabelChar) {
			return false
		}
	}
	return true
}

// MatchPushSpecRule reports whether spec matches PushSpecRule. None of the
// rule's character classes holds '/', so the '/'-separated parts are: the
// host[:port], the path segments (1-61 characters each), and name:tag.
func MatchPushSpecRule(spec string) bool {
	parts := strings.Split(spec, "/")
	if len(parts) < 2 || !MatchHostPort(parts[0]) {
		return false
	}
	for _, seg := range parts[1 : len(parts)-1] {
		if len(seg) > 61 || !all(seg, pathChar) {
			return false
		}
	}
	name, tag, ok := strings.Cut(parts[len(parts)-1], ":")
	return ok && all(name, nameChar) && all(tag, nameChar)
}

// matchName is nameRule: 1-63 characters of [a-z0-9._-], starting and
// ending with [a-z0-9].
func matchName(s string) bool {
	if len(s) == 0 || len(s) > 63 || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	return all(s, func(c byte) bool { return isLowerAlnum(c) || c == '.' || c == '_' || c == '-' })
}

// matchKeyFileName is keyFileNameRule: 1-201 characters of [A-Za-z0-9._+-]
// starting with [A-Za-z0-9].
func matchKeyFileName(s string) bool {
	if len(s) == 0 || len(s) > 201 || !isAlnum(s[0]) {
		return false
	}
	return all(s, func(c byte) bool { return isAlnum(c) || c == '.' || c == '_' || c == '+' || c == '-' })
}

// PushSpecV1alpha1NameRule is the v1alpha1 MachineOSConfig CRD's rule for
// the push spec's part before ':' (openshift/api release-4.16/4.17
// machineconfiguration/v1alpha1): host/[segment/]name, no port possible
// since the rule splits the spec at ':'.
const PushSpecV1alpha1NameRule = `^([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(:[0-9]{2,5})?/([a-zA-Z0-9-_]{0,61}/)?[a-zA-Z0-9-_.]*?$`

// MatchPushSpecV1alpha1Name reports whether s matches
// PushSpecV1alpha1NameRule: host[:port]/name or host[:port]/segment/name,
// where the segment (0-61 of [a-zA-Z0-9-_]) and the name
// ([a-zA-Z0-9-_.]) may be empty.
func MatchPushSpecV1alpha1Name(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || !MatchHostPort(parts[0]) {
		return false
	}
	name := parts[len(parts)-1]
	if name != "" && !all(name, nameChar) {
		return false
	}
	if len(parts) == 3 {
		seg := parts[1]
		return len(seg) <= 61 && (seg == "" || all(seg, pathChar))
	}
	return true
}

// SubdomainErrors is validation.IsDNS1123Subdomain(s) (apimachinery
// pkg/util/validation): nil for a valid name without running its regexp,
// whose matcher allocated a 37 KB backtracking state in every render
// (issue 15; the pool and storage class names are checked on each). An
// invalid name gets the library's own messages.
func SubdomainErrors(s string) []string {
	if validSubdomain(s) {
		return nil
	}
	return validation.IsDNS1123Subdomain(s)
}

// LabelValueErrors is validation.IsValidLabelValue(s), as SubdomainErrors.
func LabelValueErrors(s string) []string {
	if validLabelValue(s) {
		return nil
	}
	return validation.IsValidLabelValue(s)
}

// validSubdomain is len(s) <= 253 and
// ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$:
// dot-separated labels, each starting and ending with [a-z0-9].
func validSubdomain(s string) bool {
	if len(s) > validation.DNS1123SubdomainMaxLength {
		return false
	}
	for {
		label, rest, more := strings.Cut(s, ".")
		if label == "" || !isLowerAlnum(label[0]) || !isLowerAlnum(label[len(label)-1]) ||
			!all(label, func(c byte) bool { return isLowerAlnum(c) || c == '-' }) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

// validLabelValue is len(s) <= 63 and
// ^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$: empty, or starting and
// ending with [A-Za-z0-9].
func validLabelValue(s string) bool {
	if s == "" {
		return true
	}
	return len(s) <= validation.LabelValueMaxLength && isAlnum(s[0]) && isAlnum(s[len(s)-1]) &&
		all(s, func(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' })
}
