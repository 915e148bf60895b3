package repo

import "strings"

// CompareEVR orders two packages by epoch, version, release with rpm's rules.
func CompareEVR(a, b Package) int {
	ea, eb := a.Epoch, b.Epoch
	if ea == "" {
		ea = "0"
	}
	if eb == "" {
		eb = "0"
	}
	if c := Vercmp(ea, eb); c != 0 {
		return c
	}
	if c := Vercmp(a.Version, b.Version); c != 0 {
		return c
	}
	return Vercmp(a.Release, b.Release)
}

// Vercmp is rpm's rpmvercmp: segments of digits compare numerically and beat
// letters, '~' sorts before everything (pre-releases), '^' after the base
// version but before anything longer.
func Vercmp(a, b string) int {
	if a == b {
		return 0
	}
	for len(a) > 0 || len(b) > 0 {
		a = strings.TrimLeftFunc(a, isSep)
		b = strings.TrimLeftFunc(b, isSep)
		// Tilde: lower than anything, even the end of the string.
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		// Caret: higher than the end of the string, lower than anything else.
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			if a == "" {
				return -1
			}
			if b == "" {
				return 1
			}
			if !strings.HasPrefix(a, "^") {
				return 1
			}
			if !strings.HasPrefix(b, "^") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}
		numeric := isDigit(rune(a[0]))
		segA, restA := segment(a, numeric)
		segB, restB := segment(b, numeric)
		if segB == "" {
			// Different segment types: numeric beats alpha.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			segA = strings.TrimLeft(segA, "0")
			segB = strings.TrimLeft(segB, "0")
			if len(segA) != len(segB) {
				if len(segA) > len(segB) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(segA, segB); c != 0 {
			return c
		}
		a, b = restA, restB
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
func isAlpha(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
func isSep(r rune) bool   { return !isDigit(r) && !isAlpha(r) && r != '~' && r != '^' }

func segment(s string, numeric bool) (string, string) {
	i := 0
	for i < len(s) {
		r := rune(s[i])
		if numeric && !isDigit(r) || !numeric && !isAlpha(r) {
			break
		}
		i++
	}
	return s[:i], s[i:]
}
