package bundle

import (
	"math/rand"
	"testing"
)

// analyzeASCII is analyzeUnicode for every ASCII string: all strings of up
// to four characters over the characters the analysis tells apart, and
// long random ones.
func TestAnalyzeASCII(t *testing.T) {
	alphabet := []byte{'a', 'Z', '0', ' ', '\t', '\n', '\r', ':', '#', '-', '?', '!', '.', '|', '\'', '"', 0x01, 0x7f}
	check := func(s string) {
		got, ok := analyzeASCII(s)
		if want := analyzeUnicode(s); !ok || got != want {
			t.Fatalf("%q: analyzeASCII %+v %v, analyzeUnicode %+v", s, got, ok, want)
		}
	}
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		check(string(prefix))
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(append(prefix, c), n-1)
		}
	}
	gen(nil, 4)
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		b := make([]byte, 1+r.Intn(40))
		for j := range b {
			if r.Intn(3) == 0 {
				b[j] = ' '
			} else {
				b[j] = alphabet[r.Intn(len(alphabet))]
			}
		}
		check(string(b))
	}
	if _, ok := analyzeASCII("é"); ok {
		t.Error("analyzeASCII accepted non-ASCII")
	}
}
