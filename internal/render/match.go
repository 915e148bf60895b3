package render

// Hand-written matchers for the regular expressions a walkthrough render
// compiled (lazyre compiles on first use, so each render paid for them:
// about 1% of the process and their allocations, issue 15). Each accepts
// exactly what its expression does, which stays as the reference and in
// messages; TestMatchers and FuzzMatchers compare the two.

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// fileChar is [A-Za-z0-9._-]; ovsChar [A-Za-z0-9._:/-].
func fileChar(c byte) bool { return isAlnum(c) || c == '.' || c == '_' || c == '-' }
func ovsChar(c byte) bool  { return fileChar(c) || c == ':' || c == '/' }

// all reports whether s is non-empty and every byte passes ok (the classes
// are ASCII: any byte of a multi-byte or invalid sequence fails, as in the
// expressions).
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

// matchHugepageSize is hugepageSize: ^(2M|1G)$.
func matchHugepageSize(s string) bool { return s == "2M" || s == "1G" }

// matchOVSToken is ovsToken: ^[A-Za-z0-9._:/-]+$.
func matchOVSToken(s string) bool { return all(s, ovsChar) }

// matchRepoFileName is repoFileName: ^[A-Za-z0-9._-]+\.repo$.
func matchRepoFileName(s string) bool {
	const ext = ".repo"
	return len(s) > len(ext) && s[len(s)-len(ext):] == ext && all(s[:len(s)-len(ext)], fileChar)
}

// matchRepoFileNameAny is repoFileNameAny: ^[A-Za-z0-9._-]+$.
func matchRepoFileNameAny(s string) bool { return all(s, fileChar) }

// isSpace is the expressions' \s: [\t\n\f\r ].
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// matchParamsHeader is paramsHeader.FindSubmatch: the text of its group 1
// (the parameter names with their leading blanks) and whether src starts
// with the header. Every step is forced (no character can end one part
// and start the next), so a left-to-right scan finds the expression's match.
func matchParamsHeader(src []byte) (params []byte, ok bool) {
	i := 0
	lit := func(s string) bool {
		if len(src)-i >= len(s) && string(src[i:i+len(s)]) == s {
			i += len(s)
			return true
		}
		return false
	}
	spaces := func() {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
	}
	if !lit("{{") {
		return nil, false
	}
	lit("-")
	spaces()
	if !lit("/*") {
		return nil, false
	}
	spaces()
	if !lit("mosc:params") {
		return nil, false
	}
	start, end := i, i
	for {
		// (?:\s+[a-z][a-z0-9-]*\??)
		j := i
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j == i || j == len(src) || src[j] < 'a' || src[j] > 'z' {
			break
		}
		j++
		for j < len(src) && (src[j] >= 'a' && src[j] <= 'z' || src[j] >= '0' && src[j] <= '9' || src[j] == '-') {
			j++
		}
		if j < len(src) && src[j] == '?' {
			j++
		}
		i, end = j, j
	}
	spaces()
	if !lit("*/") {
		return nil, false
	}
	spaces()
	lit("-")
	if !lit("}}") {
		return nil, false
	}
	return src[start:end], true
}
