package growstack

import (
	"go/build"
	"sync"
	"testing"
)

// The early init the package relies on holds only while it imports nothing:
// an import would make it wait for that package and everything under it.
func TestImportsNothing(t *testing.T) {
	p, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Imports) != 0 {
		t.Fatalf("growstack imports %v; it must import nothing to initialise before the deep initialisers", p.Imports)
	}
}

//go:noinline
func recurse(n int) int {
	var pad [64]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return recurse(n-1) + int(pad[n%len(pad)])
}

// deepGoroutine runs a recursion needing about 24 KB of stack on a fresh
// goroutine, as a render's workers do inside templates.
func deepGoroutine(grow bool) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if grow {
			Grow()
		}
		recurse(250)
	}()
	wg.Wait()
}

// BenchmarkDeepGoroutine shows the cost Grow saves: with it, one copy of a
// shallow stack; without, the runtime copies the deep stack at 4, 8, 16 and
// 32 KB (in a short-lived process each copy also faults in pclntab pages).
func BenchmarkDeepGoroutine(b *testing.B) {
	for _, grow := range []bool{false, true} {
		name := "plain"
		if grow {
			name = "grow"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				deepGoroutine(grow)
			}
		})
	}
}
