package profile

// Combination is one release × platform × stack cell of the support matrix.
type Combination struct {
	Release, Platform, Stack string
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
		for _, p := range c.Platforms() {
			if platform != "" && p.Metadata.Name != platform {
				continue
			}
			for _, s := range c.Stacks() {
				if stack != "" && s.Metadata.Name != stack {
					continue
				}
				site := NewSite()
				site.Override(Overrides{OpenShift: r.Metadata.Name, Platform: p.Metadata.Name, Stacks: []string{s.Metadata.Name}})
				plan, err := c.Resolve(site)
				cell := Combination{Release: r.Metadata.Name, Platform: p.Metadata.Name, Stack: s.Metadata.Name, Err: err}
				if plan != nil {
					cell.Warnings = plan.Warnings
				}
				out = append(out, cell)
			}
		}
	}
	return out
}
