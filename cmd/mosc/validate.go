package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check profiles, site file and rendered bundle (or manifests on disk) offline",
		UsageText: "mosc validate [--strict] [plan flags]\nmosc validate [--strict] PATH   (a directory from render -o, a YAML/JSON file, or - for stdin)",
		Description: `Without PATH: resolves the plan and renders it exactly as render does, running
every check, and writes nothing. With PATH: strictly decodes already-rendered
manifests (e.g. from git) and runs the same bundle checks: MachineOSConfig
push spec against the CRD's rule, name == pool, a NoArch Containerfile within
4096 characters starting with "FROM configs AS final" and no later stage; and,
across the MachineConfigs there (yours next to mosc's, as in a GitOps
directory), no pool both gets the kernel-devel extension and a non-default
kernelType (realtime, 64k-pages: MCO refuses the pair and the pool degrades),
and no pool mosc layers has the ipsec extension.

Warnings (gpgcheck=0, non-AMD64 platforms, the master pool) go to stderr;
--strict makes them fatal. Exit 0 valid, 1 invalid, 2 usage error or unreadable
input.`,
		Flags: append(planFlags(),
			&cli.BoolFlag{Name: "strict", Usage: "treat warnings as errors"},
		),
		Action: runValidate,
	}
}

func runValidate(c *cli.Context) error {
	if c.NArg() > 1 {
		return failWith(exitError, fmt.Errorf("validate takes at most one PATH, got %d", c.NArg()))
	}
	var (
		b     *bundle.Bundle
		warns []profile.Warning
		what  string
	)
	if c.NArg() == 1 {
		for _, f := range planFlags() {
			if n := namesOf(f)[0]; c.IsSet(n) {
				return failWith(exitError, fmt.Errorf("--%s: plan flags do not apply when validating PATH %s", n, c.Args().First()))
			}
		}
		path := c.Args().First()
		if path != "-" {
			if _, err := os.Stat(path); err != nil {
				return failWith(exitError, err)
			}
		}
		var srcs []bundle.Source
		var err error
		b, srcs, err = bundle.ReadPath(path)
		if err != nil {
			return failWith(exitFailure, err)
		}
		errs, ws := render.ValidateBundle(b)
		locate := func(fs []*render.Finding) {
			for _, f := range fs {
				for i, o := range b.Objects {
					if o.Content.GetKind()+"/"+o.Content.GetName() == f.Object {
						f.Where = srcs[i].At(f.Field).String()
						break
					}
				}
			}
		}
		locate(errs)
		locate(ws)
		if len(errs) > 0 {
			return failWith(exitFailure, render.Errors(errs))
		}
		for _, w := range ws {
			warns = append(warns, w.Warning())
		}
		what = path
	} else {
		if f := c.String("file"); f != "" && f != "-" {
			if _, err := os.Stat(f); err != nil {
				return failWith(exitError, fmt.Errorf("-f: %v", err)) // unreadable input, not an invalid one
			}
		}
		res, err := renderPlan(c)
		if err != nil {
			var ee *exitErr
			if errors.As(err, &ee) && ee.code == exitError {
				ee.code = exitFailure // invalid profiles, site or bundle: the check failed
			}
			return err
		}
		b, warns, what = res.Bundle, res.Warnings, "plan"
	}
	printWarnings(c.App.ErrWriter, warns)
	if c.Bool("strict") && len(warns) > 0 {
		return failWith(exitFailure, fmt.Errorf("%d warning(s) and --strict", len(warns)))
	}
	fmt.Fprintf(c.App.Writer, "valid: %s, %d objects", what, len(b.Objects))
	if len(warns) > 0 {
		fmt.Fprintf(c.App.Writer, ", %d warning(s)", len(warns))
	}
	fmt.Fprintln(c.App.Writer)
	return nil
}
