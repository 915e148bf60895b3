package render

import (
	"slices"
	"testing"
)

// Combinations (render --all) is exactly the supported set the catalog's
// golden files cover.
func TestCombinationsAreTheGoldenSet(t *testing.T) {
	cat, combos := catalogCombos(t)
	var want []string
	for _, c := range combos {
		if c.supported {
			want = append(want, c.name())
		}
	}
	var got []string
	for _, c := range Combinations(cat) {
		got = append(got, c.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("Combinations:\n%v\nwant the supported golden set:\n%v", got, want)
	}
}
