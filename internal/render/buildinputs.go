package render

import (
	"github.com/mosc-dev/mosc/internal/bundle"
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
			dst = bundle.AppendJSONString(dst, f.FileName)
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
			dst = bundle.AppendJSONString(dst, k.FileName)
			dst = append(dst, `,"Armored":`...)
			dst = bundle.AppendJSONString(dst, k.Armored)
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
		dst = bundle.AppendJSONString(dst, r.ID)
		dst = append(dst, `,"Name":`...)
		dst = bundle.AppendJSONString(dst, r.Name)
		dst = append(dst, `,"BaseURL":`...)
		dst = bundle.AppendJSONString(dst, r.BaseURL)
		dst = append(dst, `,"GPGCheck":`...)
		if r.GPGCheck {
			dst = append(dst, "true"...)
		} else {
			dst = append(dst, "false"...)
		}
		dst = append(dst, `,"GPGKey":`...)
		dst = bundle.AppendJSONString(dst, r.GPGKey)
		dst = append(dst, `,"Comment":`...)
		dst = bundle.AppendJSONStrings(dst, r.Comment)
		dst = append(dst, `,"Extra":`...)
		dst = bundle.AppendJSONStringMap(dst, r.Extra)
		dst = append(dst, '}')
	}
	return append(dst, ']')
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
