// Package render turns a resolved plan into a bundle: the MachineOSConfig
// Containerfile composed from layers/, the objects from templates/, each
// strictly decoded into its real Go type and validated before it is
// returned. Render is a pure function: the same plan gives a byte-identical
// bundle (no clock, environment or randomness reaches a template).
package render

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
)

// Options tune a render.
type Options struct {
	// Locate turns a Setting* constant into where the user gave it
	// ("--push-spec", "mosc.yaml:7:3"); nil or "" leaves Where empty.
	Locate func(setting string) string
	// Memo (may be nil) shares the decoding of identical template output
	// with other renders: set one when rendering many plans (RenderEach).
	Memo *Memo
}

// Result is a rendered, validated bundle.
type Result struct {
	Bundle        *bundle.Bundle
	Containerfile string
	// Layers is the Containerfile's per-fragment breakdown, in order.
	Layers []RenderedLayer
	// Warnings are the plan's warnings followed by the renderer's own.
	Warnings []profile.Warning
}

// Render renders and validates p. A validation failure returns Errors
// (every problem found); a template failure returns one error naming the
// template file:line:col.
func Render(p *profile.Plan, opts Options) (*Result, error) {
	if p == nil {
		return nil, errors.New("render: nil plan")
	}
	locate := func(f *Finding) *Finding {
		if f.Where == "" && f.Setting != "" && opts.Locate != nil {
			f.Where = opts.Locate(f.Setting)
		}
		return f
	}
	if errs := checkPlan(p); len(errs) > 0 {
		for _, f := range errs {
			locate(f)
		}
		return nil, Errors(errs)
	}
	cf, layers, err := Containerfile(p)
	if err != nil {
		var f *Finding
		if errors.As(err, &f) {
			return nil, Errors{locate(f)}
		}
		return nil, err
	}
	if n := len([]rune(cf)); n > MaxContainerfileChars {
		return nil, Errors{locate(&Finding{Setting: SettingStack, Field: "Containerfile",
			Message: fmt.Sprintf("the Containerfile is %d characters, %d over the MachineOSConfig limit of %d; largest layers: %s",
				n, n-MaxContainerfileChars, MaxContainerfileChars, largestLayers(layers, 3))})}
	}
	b, err := renderObjects(p, cf, opts.Memo)
	if err != nil {
		var f *Finding
		if errors.As(err, &f) {
			return nil, Errors{locate(f)}
		}
		return nil, err
	}
	errs, warns := ValidateBundle(b)
	if len(errs) > 0 {
		for _, f := range errs {
			locate(f)
		}
		return nil, Errors(errs)
	}
	if p.Platform.ContainerfileArch != "" && p.Platform.ContainerfileArch != "AMD64" {
		warns = append(warns, &Finding{Setting: SettingPlatform, Field: "platform",
			Message: fmt.Sprintf("platform %s is %s: On-Cluster Layering is documented for AMD64 only", p.Platform.Name, p.Platform.ContainerfileArch)})
	}
	res := &Result{Bundle: b, Containerfile: cf, Layers: layers}
	res.Warnings = append(res.Warnings, p.Warnings...)
	for _, w := range warns {
		pw := locate(w).Warning()
		if !coveredBy(pw, p.Warnings, w.Setting) {
			res.Warnings = append(res.Warnings, pw)
		}
	}
	return res, nil
}

// coveredBy reports whether resolution already warned about the same
// thing (profile resolution warns about gpgcheck=0, non-AMD64 platforms and
// the master pool too; the user should read each once).
func coveredBy(w profile.Warning, planWarnings []profile.Warning, setting string) bool {
	topic := map[string]string{SettingRepos: "gpgcheck", SettingPool: "master", SettingPlatform: "AMD64"}[setting]
	for _, pw := range planWarnings {
		if pw.Message == w.Message && pw.Field == w.Field {
			return true
		}
		if topic != "" && strings.Contains(pw.Message, topic) && strings.Contains(w.Message, topic) {
			return true
		}
	}
	return false
}

func largestLayers(ls []RenderedLayer, n int) string {
	sorted := append([]RenderedLayer(nil), ls...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Chars() > sorted[j].Chars() })
	if len(sorted) > n {
		sorted = sorted[:n]
	}
	parts := make([]string, len(sorted))
	for i, l := range sorted {
		parts[i] = fmt.Sprintf("%s (%d)", l.Name, l.Chars())
	}
	return strings.Join(parts, ", ")
}
