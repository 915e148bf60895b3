package render

import (
	"runtime"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mosc-dev/mosc/internal/growstack"
	"github.com/mosc-dev/mosc/internal/profile"
)

// Memo shares, between the renders that use it, the strict decoding of
// identical template output: the same text decodes to the same object, and
// the decoding (YAML to JSON, strict typed decode, Ignition check) is most
// of a render's CPU. The whole catalog is 462 objects of which 148 are
// distinct (issue 15, P2). Each render still gets its own deep copy, so a
// caller may change what it got. Safe for concurrent use.
type Memo struct {
	m sync.Map // template file + "\x00" + output -> *unstructured.Unstructured
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo { return &Memo{} }

func (m *Memo) get(key string) (*unstructured.Unstructured, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.m.Load(key)
	if !ok {
		return nil, false
	}
	return v.(*unstructured.Unstructured).DeepCopy(), true
}

func (m *Memo) put(key string, u *unstructured.Unstructured) {
	if m != nil {
		m.m.Store(key, u.DeepCopy())
	}
}

// RenderEach renders n plans on every CPU with one Memo: what `mosc render
// --all` does. plan(i) resolves the i-th plan and gives the options to
// render it with (Memo set for it when nil); it may be called from several
// goroutines at once. Results and errors are by index: exactly one of
// results[i], errs[i] is set, whatever the scheduling.
func RenderEach(n int, plan func(i int) (*profile.Plan, Options, error)) ([]*Result, []error) {
	results, errs := make([]*Result, n), make([]error, n)
	memo := NewMemo()
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			growstack.Grow() // templates and YAML recurse deep: grow once, now (see the package)
			defer wg.Done()
			for i := range next {
				p, opts, err := plan(i)
				if err == nil {
					if opts.Memo == nil {
						opts.Memo = memo
					}
					results[i], err = Render(p, opts)
				}
				errs[i] = err
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return results, errs
}
