package main

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

func renderCommand() *cli.Command {
	return &cli.Command{
		Name:      "render",
		Usage:     "render the On-Cluster Layering bundle for a plan (no cluster needed)",
		UsageText: "mosc render [plan flags] [-o DIR] [--format yaml|json]",
		Description: `Resolves release × platform × stacks × site into a plan and renders it: the
internal-registry PVC and registry Config patch (--internal-registry), ConfigMap
etc-yum-repos-d, MachineConfigs (hugepages, the doca-init unit) and the
MachineOSConfig whose Containerfile is composed from layers. Every object is
strictly decoded into its real Go type and validated before anything is written.
Output is byte-identical for the same inputs.

No Secrets are rendered by default (--secrets none): the MachineOSConfig names
push-secret and pull-and-push-secret, which mosc apply creates in the cluster. If
something else applies the output (Argo CD, Flux, oc apply -k), create them there,
or render --secrets placeholder and fill them in with your secret tooling.

Examples:
  mosc render --openshift 4.20 --stack doca-3.3 --pool master --internal-registry --storage-class lvms-vg1
  mosc render -f mosc.yaml -o manifests/      # one file per object + kustomization.yaml
  mosc render -f mosc.yaml --format json
  mosc render -f mosc.yaml | mosc validate -  # check output from elsewhere the same way
  mosc render --all -o catalog/               # every supported combination, one directory each
  mosc render --fleet fleet.yaml -o fleet/ --for argocd --repo-url https://git.example.com/ran.git
                                              # bases, per-cluster overlays, ApplicationSet (docs/fleet.md)

Exit codes: 0 rendered; 2 bad flags, site file or profiles, or a rendered object
failed its checks (nothing is written then).`,
		Flags: append(append(planFlags(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write one file per object plus kustomization.yaml into `DIR` (instead of stdout)", TakesFile: true},
			&cli.StringFlag{Name: "format", Usage: "stdout format: yaml (a stream with ---) or json (a v1 List)", Value: "yaml"},
			renderAllFlag,
		), fleetRenderFlags()...),
		Action: runRender,
	}
}

func runRender(c *cli.Context) error {
	isSet := flagsSet(c)
	if isSet("fleet") && c.Bool("all") {
		return failWith(exitError, errors.New("--all: renders the catalog, --fleet an inventory: use one"))
	}
	if isSet("fleet") {
		return runRenderFleet(c)
	}
	if err := fleetOnlyFlags(isSet); err != nil {
		return err
	}
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("render takes no arguments, got %q (plan flags set everything; see mosc render --help)", c.Args().First()))
	}
	format := c.String("format")
	if format != "yaml" && format != "json" {
		return failWith(exitError, fmt.Errorf("--format: unknown format %q; known: yaml, json", format))
	}
	dir := c.String("output")
	if isSet("output") && dir == "" {
		return failWith(exitError, errors.New("-o: must not be empty"))
	}
	if c.Bool("all") {
		return runRenderAll(c, dir)
	}
	if dir != "" && isSet("format") && format != "yaml" {
		return failWith(exitError, errors.New("--format json writes to stdout; -o DIR always writes YAML files"))
	}
	res, err := renderPlan(c)
	if err != nil {
		return err
	}
	printWarnings(c.App.ErrWriter, res.Warnings)
	switch {
	case dir != "":
		if err := bundle.WriteDir(dir, res.Bundle, buildVersion()); err != nil {
			return failWith(exitError, fmt.Errorf("-o %s: %v", dir, err))
		}
		fmt.Fprintf(c.App.ErrWriter, "wrote %d objects and %s to %s\n", len(res.Bundle.Objects), bundle.KustomizationFile, dir)
		return nil
	case format == "json":
		return bundle.WriteJSON(c.App.Writer, res.Bundle)
	default:
		return bundle.WriteYAML(c.App.Writer, res.Bundle, buildVersion())
	}
}

// renderPlan resolves the plan from the flags and site file and renders
// it; errors carry exit code 2 (bad input).
func renderPlan(c *cli.Context) (*render.Result, error) {
	shortLivedGC()
	plan, _, site, err := resolvePlan(c, "")
	if err != nil {
		return nil, err
	}
	res, err := render.Render(plan, render.Options{Locate: siteLocator(site)})
	if err != nil {
		return nil, failWith(exitError, err)
	}
	return res, nil
}

// siteLocator points a render finding at the flag that set the value, or
// else its line in the site file (render.SiteLocator, shared with render
// --fleet).
var siteLocator = render.SiteLocator

// tuneGC is off in tests, which run many commands in one long process.
var tuneGC = true

// shortLivedGC stops the collector for the rest of this short process,
// with a memory limit as the safety net: rendering allocates a few MB and
// exits, and on a busy machine the collector cycles it would run cost about
// a third of the process's CPU time (measured: see docs/render.md).
func shortLivedGC() {
	if !tuneGC {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(256 << 20)
}

func printWarnings(w io.Writer, warns []profile.Warning) {
	for _, x := range warns {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}
