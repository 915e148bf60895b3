package render

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
)

// RenderEach (every CPU, one Memo) gives each combination exactly what a
// render of its own gives, and a failure lands at its own index.
func TestRenderEachSameAsRender(t *testing.T) {
	cat, combos := catalogCombos(t)
	var plans []*profile.Plan
	var names []string
	for _, c := range combos {
		if !c.supported {
			continue
		}
		p, err := resolveCombo(cat, c)
		if err != nil {
			t.Fatal(err)
		}
		plans, names = append(plans, p), append(names, c.name())
	}
	bad := len(plans) / 2
	errBad := errors.New("no plan")
	res, errs := RenderEach(len(plans), func(i int) (*profile.Plan, Options, error) {
		if i == bad {
			return nil, Options{}, errBad
		}
		return plans[i], Options{}, nil
	})
	for i := range plans {
		if i == bad {
			if res[i] != nil || !errors.Is(errs[i], errBad) {
				t.Errorf("%s: result %v, error %v; want the plan's error", names[i], res[i], errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("%s: %v", names[i], errs[i])
		}
		one, err := Render(plans[i], Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := yamlOf(t, res[i].Bundle), yamlOf(t, one.Bundle); !bytes.Equal(got, want) {
			t.Errorf("%s: RenderEach differs from Render", names[i])
		}
		if len(res[i].Warnings) != len(one.Warnings) {
			t.Errorf("%s: %d warnings, Render %d", names[i], len(res[i].Warnings), len(one.Warnings))
		}
	}
	// Objects from the memo are copies: changing one leaves the others alone.
	a, b := res[0].Bundle.Objects[0].Content, res[1].Bundle.Objects[0].Content
	if a.GetName() == b.GetName() {
		a.SetLabels(map[string]string{"changed": "yes"})
		if b.GetLabels()["changed"] != "" {
			t.Error("two results share one object")
		}
	}
}
