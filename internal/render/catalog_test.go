package render

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
)

// combo is one release × platform × stack × variant of the embedded catalog.
type combo struct {
	release, platform, stack, variant string
	supported                         bool
}

func (c combo) name() string {
	return fmt.Sprintf("%s_%s_%s-%s", c.release, c.platform, c.stack, c.variant)
}

// catalogCombos iterates the catalog itself (not a hand list), so a new
// release, platform, stack or variant file gets golden coverage at once.
func catalogCombos(t testing.TB) (*profile.Catalog, []combo) {
	t.Helper()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	var out []combo
	// A release split by z-stream (4.18.0-19 v1alpha1, 4.18.20+ v1) renders
	// once per span, named by the span's first version.
	for _, r := range cat.Releases() {
		for _, z := range r.ZRanges() {
			for _, p := range cat.Platforms() {
				for _, s := range cat.Stacks() {
					for _, v := range s.Spec.Variants {
						out = append(out, combo{
							release: z.Version(), platform: p.Metadata.Name, stack: s.Metadata.Name, variant: v.Name,
							supported: slices.Contains(s.Spec.Support.Releases, r.Metadata.Name) && slices.Contains(s.Spec.Support.Platforms, p.Metadata.Name),
						})
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("empty catalog")
	}
	return cat, out
}

func resolveCombo(cat *profile.Catalog, c combo) (*profile.Plan, error) {
	site := profile.NewSite()
	site.Override(profile.Overrides{OpenShift: c.release, Platform: c.platform, Stacks: []string{c.stack + ":" + c.variant}})
	return cat.Resolve(site)
}

// Golden files for every supported combination; every unsupported one
// fails to resolve with an error that names the stack and what it supports.
func TestCatalogGolden(t *testing.T) {
	cat, combos := catalogCombos(t)
	largest, largestName, supported := 0, "", 0
	for _, c := range combos {
		t.Run(c.name(), func(t *testing.T) {
			plan, err := resolveCombo(cat, c)
			if !c.supported {
				if err == nil {
					t.Fatalf("unsupported combination resolved")
				}
				if !strings.Contains(err.Error(), c.stack) || !strings.Contains(err.Error(), "support") {
					t.Errorf("unclear error for an unsupported combination: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			supported++
			r, err := Render(plan, Options{})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if n := len([]rune(r.Containerfile)); n > largest {
				largest, largestName = n, c.name()
			}
			checkGolden(t, "catalog/"+c.name()+".yaml", yamlOf(t, r.Bundle))
		})
	}
	// A golden file whose combination left the catalog is stale.
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "catalog", "*.yaml"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if !slices.ContainsFunc(combos, func(c combo) bool { return c.supported && c.name() == name }) {
			if *update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s: no supported catalog combination renders it any more (-update removes it)", f)
		}
	}
	t.Logf("%d combinations, %d supported; largest Containerfile %d characters (%s), limit %d",
		len(combos), supported, largest, largestName, MaxContainerfileChars)
	// Keep real headroom: sites add extra packages and mirrors.
	if largest > MaxContainerfileChars/2 {
		t.Errorf("largest catalog Containerfile is %d characters (%s): over half the %d limit", largest, largestName, MaxContainerfileChars)
	}
}

// BenchmarkRenderCatalog renders every supported combination of the
// catalog (issue 15, P2): "serial" one after another with no memo (the
// figure before render --all shared work), "each" as `mosc render --all`
// renders them (RenderEach: every CPU, one Memo), "each+write" also writes
// the directories as render --all does (bundle.WriteDirs, into a directory
// that already holds them after the first iteration, as in CI).
func BenchmarkRenderCatalog(b *testing.B) {
	cat, combos := catalogCombos(b)
	var plans []*profile.Plan
	var names []string
	for _, c := range combos {
		if !c.supported {
			continue
		}
		p, err := resolveCombo(cat, c)
		if err != nil {
			b.Fatal(err)
		}
		plans = append(plans, p)
		names = append(names, c.name())
	}
	each := func(b *testing.B) []*Result {
		res, errs := RenderEach(len(plans), func(i int) (*profile.Plan, Options, error) { return plans[i], Options{}, nil })
		for i, err := range errs {
			if err != nil {
				b.Fatalf("%s: %v", names[i], err)
			}
		}
		return res
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range plans {
				if _, err := Render(p, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(plans)), "bundles/op")
	})
	b.Run("each", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			each(b)
		}
		b.ReportMetric(float64(len(plans)), "bundles/op")
	})
	b.Run("each+write", func(b *testing.B) {
		dir := b.TempDir()
		dirs := make([]string, len(names))
		for i, n := range names {
			dirs[i] = filepath.Join(dir, n)
		}
		b.ReportAllocs()
		for b.Loop() {
			res := each(b)
			bundles := make([]*bundle.Bundle, len(res))
			for i, r := range res {
				bundles[i] = r.Bundle
			}
			if err := bundle.WriteDirs(dirs, bundles, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(plans)), "bundles/op")
	})
}
