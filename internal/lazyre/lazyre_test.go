package lazyre

import (
	"sync"
	"testing"
)

func TestLazy(t *testing.T) {
	r := New(`^a(\d+)$`)
	if r.re != nil {
		t.Fatal("compiled before use")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.MatchString("a1") }()
	}
	wg.Wait()
	if m := r.FindStringSubmatch("a42"); len(m) != 2 || m[1] != "42" || r.MatchString("b1") || r.String() != `^a(\d+)$` {
		t.Errorf("FindStringSubmatch = %q", m)
	}
	defer func() {
		if recover() == nil {
			t.Error("a bad expression did not panic on first use")
		}
	}()
	New(`(`).MatchString("x")
}
