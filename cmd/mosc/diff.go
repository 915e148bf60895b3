package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/diff"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "show what changes between two renders, two directories, or the plan and the cluster",
		UsageText: "mosc diff [plan flags] (--to VERSION | --to-stack NAME | --to-platform NAME) [-o text|json]\n   mosc diff DIR1 DIR2\n   mosc diff --live [plan flags] [--kubeconfig F] [--context C]\n   mosc diff --fleet FILE (--from-fleet OLD | --from-profiles DIR | --from-tree DIR) [-o text|json]",
		Description: `Compares two bundles object by object (matched by API group, kind, namespace
and name): added, removed, and changed objects with the paths of changed fields
(spec.containerFile[NoArch].content), and a unified diff inside text payloads
(Containerfiles, repo files, systemd units) instead of one changed string.
Secret values are never shown.

The "from" side is the plan of the plan flags / site file; the "to" side is the
same plan with --to (OpenShift release), --to-stack (replaces the stacks) or
--to-platform changed. With two directories of rendered output (mosc render -o
DIR), compares those. With --live, compares what is on the cluster ("from") with
the plan ("to"), looking only at the fields mosc sets (the rendered fields and
those the "mosc" field manager owns); objects missing on the cluster show as added,
and objects an earlier apply created for this pool that the plan no longer renders
show as removed (the pool's MachineOSConfig and MachineConfigs, and shared objects
no other pool's MachineOSConfig uses; another pool of the site is another plan).

With --fleet FILE, compares the whole inventory's renders: against an earlier
inventory (--from-fleet), another catalog (--from-profiles) or a tree render
--fleet wrote (--from-tree, e.g. the one in git); clusters whose changes are
identical are one group ("37 clusters: MachineOSConfig worker
spec.containerFile[NoArch].content changed"), then added, removed and unchanged
clusters. -o json is mosc.dev/diff-fleet/v1.

Exit codes: 0 no difference, 1 differences found, 2 error.

Examples:
  mosc diff --openshift 4.20 --to 4.21
  mosc diff --openshift 4.21 --to 4.22 -o json
  mosc diff --openshift 4.21 --stack doca-3.2 --to-stack doca-3.3
  mosc diff manifests-old/ manifests/
  mosc diff --live -f mosc.yaml`,
		Flags: append(append(planFlags(),
			&cli.StringFlag{Name: "to", Usage: "OpenShift release of the \"to\" side, e.g. 4.21"},
			&cli.StringSliceFlag{Name: "to-stack", Usage: "stacks of the \"to\" side, NAME or NAME:VARIANT, repeatable"},
			&cli.StringFlag{Name: "to-platform", Usage: "platform of the \"to\" side"},
			&cli.BoolFlag{Name: "live", Usage: "compare the cluster (from) with the plan (to)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: text or json", Value: "text"},
		), append(clusterFlags(), diffFleetFlags()...)...),
		Action: runDiff,
	}
}

func runDiff(c *cli.Context) error {
	format := c.String("output")
	if format != "text" && format != "json" {
		return failWith(exitError, fmt.Errorf("-o: unknown format %q; known: text, json", format))
	}
	if c.IsSet("fleet") || c.IsSet("from-fleet") || c.IsSet("from-profiles") || c.IsSet("from-tree") {
		return runDiffFleet(c, format)
	}
	toSet := c.IsSet("to") || c.IsSet("to-stack") || c.IsSet("to-platform")
	var res *diff.Result
	var err error
	switch {
	case c.NArg() > 0:
		if c.NArg() != 2 {
			return failWith(exitError, fmt.Errorf("diff takes two directories (or files) of rendered output, got %d argument(s)", c.NArg()))
		}
		if toSet || c.Bool("live") {
			return failWith(exitError, errors.New("DIR1 DIR2 compares two renders already written; it cannot be combined with --to, --to-stack, --to-platform or --live"))
		}
		res, err = diffPaths(c.Args().Get(0), c.Args().Get(1))
	case c.Bool("live"):
		if toSet {
			return failWith(exitError, errors.New("--live compares the cluster with the plan; --to, --to-stack and --to-platform do not apply"))
		}
		res, err = diffLive(c)
	case toSet:
		res, err = diffPlans(c)
	default:
		return failWith(exitError, errors.New("nothing to compare: pass --to, --to-stack or --to-platform, two directories, or --live (see mosc diff --help)"))
	}
	if err != nil {
		return err
	}
	if format == "json" {
		err = diff.WriteJSON(c.App.Writer, res)
	} else {
		err = diff.WriteText(c.App.Writer, res)
	}
	if err != nil {
		return failWith(exitError, err)
	}
	if !res.Empty() {
		return failWith(exitFailure, nil)
	}
	return nil
}

func diffPaths(a, b string) (*diff.Result, error) {
	ba, _, err := bundle.ReadPath(a)
	if err != nil {
		return nil, failWith(exitError, err)
	}
	bb, _, err := bundle.ReadPath(b)
	if err != nil {
		return nil, failWith(exitError, err)
	}
	res := diff.Bundles(ba, bb)
	res.From, res.To = a, b
	return res, nil
}

// diffPlans renders the plan of the flags and the same plan with the --to*
// flags applied.
func diffPlans(c *cli.Context) (*diff.Result, error) {
	if c.IsSet("to") && c.String("to") == "" {
		return nil, failWith(exitError, errors.New("--to: must not be empty"))
	}
	if c.IsSet("to-platform") && c.String("to-platform") == "" {
		return nil, failWith(exitError, errors.New("--to-platform: must not be empty"))
	}
	for _, s := range c.StringSlice("to-stack") {
		if s == "" {
			return nil, failWith(exitError, errors.New("--to-stack: must not be empty"))
		}
	}
	from, fromPlan, err := renderSide(c, nil)
	if err != nil {
		return nil, err
	}
	to, toPlan, err := renderSide(c, func(o *profile.Overrides) {
		if v := c.String("to"); v != "" {
			o.OpenShift = v
		}
		if v := c.String("to-platform"); v != "" {
			o.Platform = v
		}
		if v := c.StringSlice("to-stack"); len(v) > 0 {
			o.Stacks = v
		}
	})
	if err != nil {
		return nil, err
	}
	res := diff.Bundles(from, to)
	res.From, res.To = describePlan(fromPlan), describePlan(toPlan)
	return res, nil
}

// renderSide resolves and renders the plan of the flags with mutate applied
// to the overrides (nil: as given). Errors name the flag or site line.
func renderSide(c *cli.Context, mutate func(*profile.Overrides)) (*bundle.Bundle, *profile.Plan, error) {
	side := "from"
	if mutate != nil {
		side = "to"
	}
	plan, site, err := resolveSide(c, "", mutate)
	if err != nil {
		return nil, nil, failWith(exitError, fmt.Errorf("%s side: %w", side, err))
	}
	res, err := render.Render(plan, render.Options{Locate: siteLocator(site)})
	if err != nil {
		return nil, nil, failWith(exitError, fmt.Errorf("%s side: %w", side, err))
	}
	return res.Bundle, plan, nil
}

// resolveSide resolves the plan of the flags and site file with mutate
// applied to the overrides; clusterVersion (may be "") fills spec.openshift
// when neither sets it. The error is the plain resolution error.
func resolveSide(c *cli.Context, clusterVersion string, mutate func(*profile.Overrides)) (*profile.Plan, *profile.Site, error) {
	o, err := planOverrides(c)
	if err != nil {
		return nil, nil, err
	}
	cat, err := profile.LoadCatalog(o.ProfilesDirs...)
	if err != nil {
		return nil, nil, err
	}
	site := profile.NewSite()
	if f := c.String("file"); f != "" {
		if site, err = profile.LoadSite(f); err != nil {
			return nil, nil, err
		}
	}
	if mutate != nil {
		mutate(&o)
	}
	site.Override(o)
	if clusterVersion != "" {
		site.DefaultOpenShift(clusterVersion, "cluster version")
	}
	plan, err := cat.Resolve(site)
	if err != nil {
		return nil, site, err
	}
	return plan, site, nil
}

// describePlan names a side: "openshift 4.21 (RHEL 9.6), rhel9-x86_64, doca-3.3:full, pool worker".
func describePlan(p *profile.Plan) string {
	var stacks []string
	for _, s := range p.Stacks {
		n := s.Name
		if s.Variant != "" {
			n += ":" + s.Variant
		}
		stacks = append(stacks, n)
	}
	return fmt.Sprintf("openshift %s (RHEL %s), %s, %s, pool %s", p.OpenShift.Label(), p.OpenShift.RHEL, p.Platform.Name, strings.Join(stacks, ","), p.Pool)
}

// diffLive renders the plan (at the cluster's version unless --openshift
// or the site says otherwise) and compares the cluster's objects with it.
func diffLive(c *cli.Context) (*diff.Result, error) {
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	clients, err := clusterAccess(c).Connect()
	if err != nil {
		return nil, failWith(exitError, err)
	}
	if err := cluster.Reachable(clients); err != nil {
		return nil, failWith(exitError, err)
	}
	version := ""
	if !c.IsSet("openshift") {
		if v, err := cluster.OpenShiftVersion(ctx, clients); err == nil {
			version = v
		}
	}
	plan, cat, site, err := resolvePlan(c, version)
	if err != nil {
		return nil, err
	}
	cv := version
	if cv == "" {
		cv, _ = cluster.OpenShiftVersion(ctx, clients)
	}
	if err := checkServed(clients, cat, plan, cv); err != nil {
		return nil, err
	}
	rres, err := render.Render(plan, render.Options{Locate: siteLocator(site)})
	if err != nil {
		return nil, failWith(exitError, err)
	}
	mapper := cluster.NewMapper(clients)
	live, err := diff.Live(ctx, clients.Dynamic, mapper, rres.Bundle)
	if err != nil {
		return nil, failWith(exitError, err)
	}
	dropped, err := droppedObjects(ctx, clients, mapper, plan, rres.Bundle)
	if err != nil {
		return nil, failWith(exitError, err)
	}
	live.Objects = append(live.Objects, dropped...)
	res := diff.Bundles(live, rres.Bundle)
	res.From, res.To = "live cluster "+clients.Config.Host, "plan: "+describePlan(plan)
	return res, nil
}

// droppedObjects are the pool's objects on the cluster (cluster.PoolObjects,
// remove --pool's attribution) that the plan no longer renders, pruned to
// the fields mosc set, so the diff shows them as removed. The push and base
// image pull secrets are the plan's even though render leaves them out
// (apply makes them), and so is apply's builder token Secret.
func droppedObjects(ctx context.Context, clients *cluster.Clients, mapper meta.RESTMapper, plan *profile.Plan, rendered *bundle.Bundle) ([]bundle.Object, error) {
	objs, err := cluster.PoolObjects(ctx, clients, mapper, plan.Site, plan.Pool)
	if err != nil {
		return nil, err
	}
	type key struct{ group, kind, ns, name string }
	keyOf := func(u *unstructured.Unstructured) key {
		return key{u.GroupVersionKind().Group, u.GetKind(), u.GetNamespace(), u.GetName()}
	}
	planned := map[key]bool{}
	for _, o := range rendered.Objects {
		planned[keyOf(o.Content)] = true
	}
	// The builder token Secret apply makes with --push-credential (pushcred.go) is the plan's too.
	for _, n := range []string{plan.MOSC.PushSecretName, plan.MOSC.BaseImagePullSecretName, cluster.BuilderTokenSecret} {
		if n != "" {
			planned[key{"", "Secret", profile.MCONamespace, n}] = true
		}
	}
	var out []bundle.Object
	for _, o := range objs {
		if planned[keyOf(o.Obj)] {
			continue
		}
		shape := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": o.Obj.GetName()}}}
		if ns := o.Obj.GetNamespace(); ns != "" {
			shape.SetNamespace(ns)
		}
		shape.SetAPIVersion(o.Obj.GetAPIVersion())
		shape.SetKind(o.Obj.GetKind())
		out = append(out, bundle.Object{Content: diff.Prune(o.Obj, shape, diff.FieldManager), Secret: o.GVR.Resource == "secrets"})
	}
	return out, nil
}
