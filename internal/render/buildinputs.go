package render

import (
	"sort"
	"unicode/utf8"

	"github.com/mosc-dev/mosc/internal/profile"
)

// appendBuildInputs appends what encoding/json.Marshal gives for
//
//	struct {
//		Repos []profile.RepoFile
//		Keys  []profile.GPGKey
//	}
//
// byte for byte (FuzzBuildInputsJSON compares the two): BuildInputsLine
// hashes it, so the fingerprint of every existing bundle stays the same.
// encoding/json built its reflection encoders for these types on first use,
// ~0.3 M instructions in every render process (issue 15).
func appendBuildInputs(dst []byte, repos []profile.RepoFile, keys []profile.GPGKey) []byte {
	dst = append(dst, `{"Repos":`...)
	if repos == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, f := range repos {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"FileName":`...)
			dst = appendJSONString(dst, f.FileName)
			dst = append(dst, `,"Repos":`...)
			dst = appendRepos(dst, f.Repos)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"Keys":`...)
	if keys == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"FileName":`...)
			dst = appendJSONString(dst, k.FileName)
			dst = append(dst, `,"Armored":`...)
			dst = appendJSONString(dst, k.Armored)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendRepos(dst []byte, repos []profile.Repo) []byte {
	if repos == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, r := range repos {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"ID":`...)
		dst = appendJSONString(dst, r.ID)
		dst = append(dst, `,"Name":`...)
		dst = appendJSONString(dst, r.Name)
		dst = append(dst, `,"BaseURL":`...)
		dst = appendJSONString(dst, r.BaseURL)
		dst = append(dst, `,"GPGCheck":`...)
		if r.GPGCheck {
			dst = append(dst, "true"...)
		} else {
			dst = append(dst, "false"...)
		}
		dst = append(dst, `,"GPGKey":`...)
		dst = appendJSONString(dst, r.GPGKey)
		dst = append(dst, `,"Comment":`...)
		if r.Comment == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '[')
			for j, c := range r.Comment {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, c)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, `,"Extra":`...)
		if r.Extra == nil {
			dst = append(dst, "null"...)
		} else {
			// encoding/json writes a map's entries sorted by key.
			ks := make([]string, 0, len(r.Extra))
			for k := range r.Extra {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			dst = append(dst, '{')
			for j, k := range ks {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, k)
				dst = append(dst, ':')
				dst = appendJSONString(dst, r.Extra[k])
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendJSONString is encoding/json's appendString with escapeHTML (what
// Marshal does): <, >, & and control bytes as \u00XX (\b \f \n \r \t
// short), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// buildInputsSize is about what appendBuildInputs writes for p (the field
// names and punctuation, strings unescaped): one allocation for the buffer.
func buildInputsSize(p *profile.Plan) int {
	n := 32
	for _, f := range p.RepoFiles {
		n += 32 + len(f.FileName)
		for _, r := range f.Repos {
			n += 100 + len(r.ID) + len(r.Name) + len(r.BaseURL) + len(r.GPGKey)
			for _, c := range r.Comment {
				n += 3 + len(c)
			}
			for k, v := range r.Extra {
				n += 6 + len(k) + len(v)
			}
		}
	}
	for _, k := range p.GPGKeys {
		n += 32 + len(k.FileName) + len(k.Armored)*5/4 // newlines escaped
	}
	return n
}
