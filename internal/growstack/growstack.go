// Package growstack grows a goroutine's stack once, early, while it is
// shallow.
//
// Go starts every goroutine, the main one included, on a 2 KB stack and
// copies it to one twice the size each time a call needs more. Each copy
// walks every frame on the stack through the binary's pclntab, and in a
// short-lived process those lookups are page faults into a 30 MB binary (the
// kernel maps 64 KB around each). A walkthrough render grew the main
// goroutine 2 → 32 KB during package init and main, and each of its worker
// goroutines (render --all's and WriteDirs' still have them) 2 → 32 KB
// inside templates: 14 copies of deep stacks. Growing
// to 32 KB in one step at the start, with a few frames on the stack, costs
// one cheap copy instead (the same trick as CockroachDB's util/growstack).
//
// The package imports nothing, so by the language's initialisation order
// (packages sorted by import path, each initialised once its imports are)
// its init runs among the very first, before the deep initialisers (regexp
// compilation, table building) that grew the main goroutine.
package growstack

func init() { Grow() }

// Grow makes the calling goroutine's stack at least 32 KB (a 16 KB frame on
// top of what is there: the runtime doubles the stack until it fits).
//
//go:noinline
func Grow() {
	var buf [16 << 10]byte
	use(&buf)
}

// use keeps the compiler from eliding buf: a call it cannot see through
// that does not let buf escape. (A write to a package variable did the
// same but raced when render's workers grew their stacks together.)
//
//go:noinline
func use(b *[16 << 10]byte) byte { return b[0] }
