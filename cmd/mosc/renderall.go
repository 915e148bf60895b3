package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

// renderAllFlag renders the whole catalog (issue 15: what a catalog CI or a
// fleet render needs, in one process).
var renderAllFlag = &cli.BoolFlag{Name: "all", Usage: "render every supported release × platform × stack × variant of the catalog, one directory each under -o `DIR` (RELEASE_PLATFORM_STACK-VARIANT); the other plan flags and -f apply to every one"}

// runRenderAll resolves and renders every supported combination, and writes
// only when all of them rendered and validated: one bad combination leaves
// DIR as it was, as a bad single render does.
func runRenderAll(c *cli.Context, dir string) error {
	for _, name := range []string{"openshift", "platform", "stack"} {
		if c.IsSet(name) {
			return failWith(exitError, fmt.Errorf("--%s: --all renders every combination; drop --%s (or drop --all)", name, name))
		}
	}
	if dir == "" {
		return failWith(exitError, errors.New("--all needs -o DIR (one directory per combination)"))
	}
	if c.String("format") != "yaml" {
		return failWith(exitError, errors.New("--format json writes to stdout; --all writes YAML files under -o DIR"))
	}
	shortLivedGC()
	o, err := planOverrides(c)
	if err != nil {
		return failWith(exitError, err)
	}
	cat, err := profile.LoadCatalog(o.ProfilesDirs...)
	if err != nil {
		return failWith(exitError, err)
	}
	file := c.String("file")
	if file == "-" {
		return failWith(exitError, errors.New("-f -: --all reads the site file once per combination; give a file path"))
	}
	if file != "" {
		// Each combination loads its own copy (Override changes it); an
		// error is the same for all of them, so say it once.
		if _, err := profile.LoadSite(file); err != nil {
			return failWith(exitError, err)
		}
	}
	combos := render.Combinations(cat)
	if len(combos) == 0 {
		return failWith(exitError, errors.New("--all: the catalog has no supported combination"))
	}
	type done struct {
		name string
		res  *render.Result
	}
	// Every CPU, one memo: identical template output (most objects repeat
	// across combinations) is decoded once.
	results, rerrs := render.RenderEach(len(combos), func(i int) (*profile.Plan, render.Options, error) {
		site := profile.NewSite()
		if file != "" {
			var err error
			if site, err = profile.LoadSite(file); err != nil {
				return nil, render.Options{}, err
			}
		}
		site.Override(combos[i].Overrides(o))
		plan, err := cat.Resolve(site)
		return plan, render.Options{Locate: siteLocator(site)}, err
	})
	var out []done
	var errs []string
	for i, combo := range combos {
		if rerrs[i] == nil {
			out = append(out, done{combo.Name(), results[i]})
			continue
		}
		errs = append(errs, prefixLines(combo.Name()+": ", rerrs[i].Error()))
	}
	if len(errs) > 0 {
		return failWith(exitError, fmt.Errorf("%d of %d combinations failed (nothing written):\n%s", len(errs), len(combos), strings.Join(errs, "\n")))
	}
	// The same warning (ARM64, Tech Preview...) holds for many combinations:
	// once each, with where it applies.
	var order []string
	where := map[string][]string{}
	for _, d := range out {
		for _, w := range d.res.Warnings {
			msg := w.String()
			if where[msg] == nil {
				order = append(order, msg)
			}
			where[msg] = append(where[msg], d.name)
		}
	}
	for _, msg := range order {
		if names := where[msg]; len(names) == 1 {
			fmt.Fprintf(c.App.ErrWriter, "warning: %s: %s\n", names[0], msg)
		} else {
			fmt.Fprintf(c.App.ErrWriter, "warning: %s (%d combinations, %s ... %s)\n", msg, len(names), names[0], names[len(names)-1])
		}
	}
	objects := 0
	dirs, bundles := make([]string, len(out)), make([]*bundle.Bundle, len(out))
	for i, d := range out {
		dirs[i], bundles[i] = filepath.Join(dir, d.name), d.res.Bundle
		objects += len(d.res.Bundle.Objects)
	}
	if err := bundle.WriteDirs(dirs, bundles, buildVersion()); err != nil {
		return failWith(exitError, fmt.Errorf("-o %v", err))
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %d combinations (%d objects) to %s\n", len(out), objects, dir)
	return nil
}

func prefixLines(prefix, s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}
