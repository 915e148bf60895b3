package embedtext

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestSame(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 100) // several reads
	fsys := fstest.MapFS{
		"a":    {Data: []byte("hello\n")},
		"long": {Data: []byte(long)},
		"zero": {Data: nil},
		"dir/": {},
	}
	for _, c := range []struct {
		name, text string
		want       bool
	}{
		{"a", "hello\n", true},
		{"a", "hello", false},
		{"a", "hello\n\n", false},
		{"a", "Hello\n", false},
		{"long", long, true},
		{"long", long[:len(long)-1] + "x", false},
		{"long", "x" + long[1:], false},
		{"long", long[:513] + "X" + long[514:], false},
		{"zero", "", true},
		{"zero", "x", false},
		{"missing", "", false},
		{"dir", "", false},
	} {
		if got := Same(fsys, c.name, c.text); got != c.want {
			t.Errorf("Same(%q, %d bytes) = %v, want %v", c.name, len(c.text), got, c.want)
		}
	}
}
