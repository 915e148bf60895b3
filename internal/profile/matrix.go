package profile

// Combination is one release × platform × stack cell of the support matrix.
type Combination struct {
	Release, Platform, Stack string
	// ZStream is the span of z-streams of a release split by spec.zStreams
	// ("4.18.0-19", "4.18.20+"), else the release ("4.20"): the column a
	// matrix shows.
	ZStream string
	// Err is nil when the combination resolves (with the stack's default
	// variant and every other setting defaulted), else the reason it does not.
	Err error
	// Warnings of a combination that resolves (non-AMD64, Tech Preview...).
	Warnings []Warning
}

// Matrix resolves every release × platform × stack combination, restricted
// to the given names ("" = all), in catalog order. It is the truth the
// support tables in `mosc profiles` and docs/profiles.md show: a cell is
// supported exactly when resolution succeeds.
func (c *Catalog) Matrix(release, platform, stack string) []Combination {
	var out []Combination
	for _, r := range c.Releases() {
		if release != "" && r.Metadata.Name != release {
			continue
		}
		for _, span := range r.ZRanges() {
			out = append(out, c.matrixSpan(span, platform, stack)...)
		}
	}
	return out
}

// matrixSpan resolves one release span (all of a release that is not split)
// against the platforms and stacks.
func (c *Catalog) matrixSpan(span ZRange, platform, stack string) []Combination {
	var out []Combination
	for _, p := range c.Platforms() {
		if platform != "" && p.Metadata.Name != platform {
			continue
		}
		for _, s := range c.Stacks() {
			if stack != "" && s.Metadata.Name != stack {
				continue
			}
			site := NewSite()
			site.Override(Overrides{OpenShift: span.Version(), Platform: p.Metadata.Name, Stacks: []string{s.Metadata.Name}})
			plan, err := c.Resolve(site)
			cell := Combination{Release: span.Minor, ZStream: span.Short(), Platform: p.Metadata.Name, Stack: s.Metadata.Name, Err: err}
			if plan != nil {
				cell.Warnings = plan.Warnings
			}
			out = append(out, cell)
		}
	}
	return out
}
