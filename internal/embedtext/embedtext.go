// Package embedtext tells whether an embedded file still holds the text a
// generator saw: the generated parse trees of templates/ and layers/ and
// the generated profiles of profiles/ are used only for a file whose
// content is exactly that text (a stale generated file costs speed, never
// correctness). fs.ReadFile of an embed.FS returns a fresh copy of the
// file, and hashing it cost more than comparing: Same compares through a
// small buffer, and the caller keeps the generated text, which is the same
// bytes, instead of a copy (issue 15: a render's heap is never collected,
// so every byte read into it is a fresh page).
package embedtext

import (
	"io"
	"io/fs"
	"sync"
)

// buf is Same's read buffer: a local one escapes (Read is an interface
// call) and would be a heap allocation per file.
var (
	bufMu sync.Mutex
	buf   [512]byte
)

// Same reports whether name in fsys has exactly text as content; false
// also when it cannot be opened or read.
func Same(fsys fs.FS, name, text string) bool {
	f, err := fsys.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != int64(len(text)) {
		return false
	}
	bufMu.Lock()
	defer bufMu.Unlock()
	for {
		n, err := f.Read(buf[:])
		if n > len(text) || string(buf[:n]) != text[:n] {
			return false
		}
		text = text[n:]
		if err == io.EOF {
			return len(text) == 0
		}
		if err != nil {
			return false
		}
	}
}
