package render

import (
	"fmt"
	"slices"

	"github.com/mosc-dev/mosc/internal/profile"
)

// Combination is one supported release span × platform × stack × variant of
// a catalog: what `mosc render --all` writes a directory for and the
// catalog's golden files cover.
type Combination struct {
	// Release is the span's first version ("4.20", or "4.18.20" for the
	// v1 span of a release split by z-stream).
	Release, Platform, Stack, Variant string
}

// Name is the directory (and golden file) name: RELEASE_PLATFORM_STACK-VARIANT.
func (c Combination) Name() string {
	return fmt.Sprintf("%s_%s_%s-%s", c.Release, c.Platform, c.Stack, c.Variant)
}

// Overrides are the plan flags that select this combination.
func (c Combination) Overrides(base profile.Overrides) profile.Overrides {
	base.OpenShift, base.Platform, base.Stacks = c.Release, c.Platform, []string{c.Stack + ":" + c.Variant}
	return base
}

// Combinations lists the supported combinations of cat in catalog order
// (releases by version, each z-stream span, platforms, stacks, variants):
// those whose stack names the release and the platform in spec.support.
func Combinations(cat *profile.Catalog) []Combination {
	var out []Combination
	for _, r := range cat.Releases() {
		for _, z := range r.ZRanges() {
			for _, p := range cat.Platforms() {
				for _, s := range cat.Stacks() {
					if !slices.Contains(s.Spec.Support.Releases, r.Metadata.Name) || !slices.Contains(s.Spec.Support.Platforms, p.Metadata.Name) {
						continue
					}
					for _, v := range s.Spec.Variants {
						out = append(out, Combination{Release: z.Version(), Platform: p.Metadata.Name, Stack: s.Metadata.Name, Variant: v.Name})
					}
				}
			}
		}
	}
	return out
}
