package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/build"
	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/render"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "build the layered image locally, as On-Cluster Layering would, and inspect it",
		UsageText: "mosc build [plan flags] (--base-image REF | --release-image REF [--stream TAG]) [--tag REF] [--push --push-secret FILE] [-o table|json]\nmosc build [flags] PATH   (manifests from render -o DIR, a YAML/JSON file, or - for stdin)",
		Description: `A trial build of what the cluster would build, without the cluster: the plan is
rendered as mosc render renders it, and its MachineOSConfig Containerfile is built
with buildah (the builder MCO uses) or podman, wrapped the way MCO wraps it: MCO's
own extract and configs stages first (the pool's MachineConfigs, extensions), then
"FROM configs AS final" and the layer. Copies of ConfigMap etc-yum-repos-d and
Secret etc-pki-rpm-gpg are mounted at /etc/yum.repos.d and /etc/pki/rpm-gpg, never
your files; HTTP_PROXY, HTTPS_PROXY and NO_PROXY are passed as build args. What
differs from the cluster's build is listed in docs/build.md.

With PATH, the manifests already rendered (e.g. from git, edited or not) are built
instead: the MachineOSConfig's Containerfile, the pool's MachineConfigs, the
etc-yum-repos-d ConfigMap and etc-pki-rpm-gpg Secret found there. What the
inspection expects (stacks, stock OVS) comes from the MachineOSConfig's mosc.dev/*
annotations, resolved with the catalog (--profiles).

The base image is --base-image, or the rhel-coreos image (--stream rhel-coreos-10
for RHEL 10 pools) of --release-image. --registry-config is the pull secret to
read them (the cluster pull secret's format). buildah and podman read their own
environment: CONTAINERS_STORAGE_CONF, STORAGE_DRIVER, BUILDAH_ISOLATION.

The build log streams to stderr. Then the image is inspected:

  build               the build itself (on failure: the step, the failing command, dnf's output)
  stock-ovs-removed   no stock openvswitch package is left in the rpm database
  stack-packages      the stacks' packages are installed, at the stacks' DOCA version
  ovs-vswitchd-owner  ovs-vswitchd belongs to doca-openvswitch
  ovs-vswitchd-libs   every library ovs-vswitchd links resolves (ldd)
  var-content         what the layer leaves under /var or /opt: a node that updates never gets it
  extensions          the pool's RHCOS extensions were installed
  lint                the release's lint step (bootc container lint) in the image
  layer-size          what the layer adds to the base

Exit codes: 0 built and no check failed; 1 the build or a check failed; 2 usage
error, or the builder could not run.

Examples:
  mosc build -f mosc.yaml --base-image quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:...
  mosc build -f mosc.yaml --release-image quay.io/openshift-release-dev/ocp-release:4.20.15-x86_64 \
      --registry-config pull-secret.json -o json
  mosc build -f mosc.yaml --release-image ... --tag quay.io/me/doca-layer:4.20 --push --push-secret push.json
  mosc build -f mosc.yaml --base-image REF --dry-run   # print the wrapper Containerfile only`,
		Flags:  append(planFlags(), buildFlags()...),
		Action: runBuild,
	}
}

// buildFlags are mosc build's own flags.
func buildFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "base-image", Usage: "the RHCOS base image `REF` to build on (MCO: the pool's osImageURL)"},
		&cli.StringFlag{Name: "release-image", Usage: "take the base image from this release payload `REF`"},
		&cli.StringFlag{Name: "stream", Usage: "the payload's OS image tag (rhel-coreos-10 for RHEL 10 pools): rhel-coreos or rhel-coreos-10", Value: release.TagRHCOS},
		&cli.StringFlag{Name: "extensions-image", Usage: "the RHCOS extensions image `REF` (default: rhel-coreos-extensions of --release-image)"},
		&cli.StringFlag{Name: "registry-config", Usage: "pull secret `FILE` (dockerconfigjson) to read the payload and base images", TakesFile: true},
		&cli.StringFlag{Name: "tag", Usage: "name the built image `REF` (default localhost/mosc-build-POOL:latest)"},
		&cli.BoolFlag{Name: "push", Usage: "push the built image to --tag"},
		&cli.StringFlag{Name: "push-secret", Usage: "push credentials `FILE` (dockerconfigjson) for --push", TakesFile: true},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the wrapper Containerfile and the builder command, build nothing"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "report format: table or json", Value: "table"},
		&cli.DurationFlag{Name: "timeout", Usage: "bound the whole run (pull, build, inspection, push)", Value: 90 * time.Minute},
	}
}

// buildParams are the checked build flags.
type buildParams struct {
	baseImage, releaseImage, stream, extensionsImage string
	registryConfig, tag, pushSecret                  string
	push, dryRun                                     bool
}

func buildParamsFrom(c *cli.Context, defaultTag string) (buildParams, error) {
	p := buildParams{
		baseImage: c.String("base-image"), releaseImage: c.String("release-image"), stream: c.String("stream"),
		extensionsImage: c.String("extensions-image"), registryConfig: c.String("registry-config"),
		tag: c.String("tag"), push: c.Bool("push"), pushSecret: c.String("push-secret"), dryRun: c.Bool("dry-run"),
	}
	for _, n := range []string{"base-image", "release-image", "stream", "extensions-image", "registry-config", "tag", "push-secret"} {
		if c.IsSet(n) && c.String(n) == "" {
			return p, fmt.Errorf("--%s: must not be empty", n)
		}
	}
	if p.stream == "" { // gate's --stream has no default: the pool's stream
		p.stream = release.TagRHCOS
	}
	if p.stream != release.TagRHCOS && p.stream != release.TagRHCOS10 {
		return p, fmt.Errorf("--stream: unknown OS image tag %q; known: %s, %s", p.stream, release.TagRHCOS, release.TagRHCOS10)
	}
	for flag, ref := range map[string]string{"--base-image": p.baseImage, "--release-image": p.releaseImage, "--extensions-image": p.extensionsImage, "--tag": p.tag} {
		if ref == "" {
			continue
		}
		if _, err := name.ParseReference(ref); err != nil {
			return p, fmt.Errorf("%s: %v", flag, err)
		}
	}
	if p.push && p.tag == "" {
		return p, errors.New("--push: needs --tag naming where to push (registry/repository:tag)")
	}
	if p.pushSecret != "" && !p.push {
		return p, errors.New("--push-secret: only used with --push")
	}
	for flag, f := range map[string]string{"--registry-config": p.registryConfig, "--push-secret": p.pushSecret} {
		if f == "" {
			continue
		}
		if _, err := release.LoadKeychain(f); err != nil {
			// LoadKeychain names --registry-config; never the file's content.
			return p, errors.New(flag + strings.TrimPrefix(err.Error(), "--registry-config"))
		}
	}
	if p.tag == "" {
		p.tag = defaultTag
	}
	return p, nil
}

func runBuild(c *cli.Context) error {
	if c.NArg() > 1 {
		return failWith(exitError, fmt.Errorf("build takes at most one PATH, got %d", c.NArg()))
	}
	format := c.String("output")
	if format != "table" && format != "json" {
		return failWith(exitError, fmt.Errorf("-o: unknown format %q; known: table, json", format))
	}
	if c.Duration("timeout") <= 0 {
		return failWith(exitError, errors.New("--timeout: must be positive"))
	}
	var (
		plan *profile.Plan
		res  *render.Result
	)
	if c.NArg() == 1 {
		p, r, err := planFromManifests(c, c.Args().First())
		if err != nil {
			return err
		}
		plan, res = p, r
	} else {
		p, _, site, err := resolvePlan(c, "")
		if err != nil {
			return err
		}
		printPlanWarnings(c, p)
		r, err := render.Render(p, render.Options{Locate: siteLocator(site)})
		if err != nil {
			return failWith(exitError, err)
		}
		plan, res = p, r
	}
	params, err := buildParamsFrom(c, "localhost/mosc-build-"+plan.Pool+":latest")
	if err != nil {
		return failWith(exitError, err)
	}
	if params.baseImage == "" && params.releaseImage == "" {
		return failWith(exitError, errors.New("the base image is unknown: pass --base-image REF, or --release-image REF to take its rhel-coreos image"))
	}
	// Ctrl-C or SIGTERM cancels the build: the builder is interrupted and
	// removes its working containers (internal/build builderCommand), where
	// dying with mosc it would have left them.
	sigCtx, stop := signal.NotifyContext(contextOf(c), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, c.Duration("timeout"))
	defer cancel()
	report, err := buildPlan(ctx, c.App.ErrWriter, plan, res, params, func(wrapper string, args []string) {
		fmt.Fprint(c.App.Writer, wrapper)
		fmt.Fprintf(c.App.ErrWriter, "builder command: %s\n", strings.Join(args, " "))
	})
	if sigCtx.Err() != nil && contextOf(c).Err() == nil {
		return failWith(exitError, errors.New("interrupted: the build was stopped"))
	}
	if err != nil {
		return err
	}
	if report == nil { // --dry-run
		return nil
	}
	if format == "json" {
		err = build.WriteJSON(c.App.Writer, report)
	} else {
		err = build.WriteTable(c.App.Writer, report)
	}
	if err != nil {
		return failWith(exitError, err)
	}
	if report.Failed() {
		if report.Checks[0].Status == gate.Fail {
			return failWith(exitFailure, errors.New(report.Checks[0].Message))
		}
		return failWith(exitFailure, fmt.Errorf("the image was built, but the inspection failed: %s", strings.Join(report.FailedIDs(), ", ")))
	}
	return nil
}

func contextOf(c *cli.Context) context.Context {
	if c.Context != nil {
		return c.Context
	}
	return context.Background()
}

// buildPlan builds the rendered bundle of plan and inspects the image. With
// params.dryRun it calls dry with the wrapper and the builder's arguments
// and returns a nil report. Errors carry their exit code; a failed build is
// a report whose build check failed.
func buildPlan(ctx context.Context, log io.Writer, plan *profile.Plan, res *render.Result, params buildParams, dry func(string, []string)) (*build.Report, error) {
	builder, err := build.FindBuilder()
	if err != nil && !params.dryRun {
		return nil, failWith(exitError, err)
	}
	if builder == nil {
		builder = &build.Builder{Name: "buildah", Path: "buildah"}
	}
	in, err := build.FromBundle(res.Bundle)
	if err != nil {
		return nil, failWith(exitError, err)
	}
	base, ext := params.baseImage, params.extensionsImage
	if params.releaseImage != "" {
		fmt.Fprintf(log, "reading release payload %s\n", params.releaseImage)
		pl, err := release.Inspect(ctx, params.releaseImage, release.Options{RegistryConfig: params.registryConfig, RPMArch: plan.Platform.RPMArch})
		if err != nil {
			return nil, failWith(exitError, fmt.Errorf("--release-image: %v", err))
		}
		if base == "" {
			spec, ok := pl.Image(params.stream)
			if !ok {
				return nil, failWith(exitError, fmt.Errorf("--release-image %s has no %s image (--stream)", params.releaseImage, params.stream))
			}
			base = spec
		}
		if ext == "" {
			ext, _ = pl.Image(release.TagRHCOSExtensions)
		}
	}
	work, err := os.MkdirTemp("", "mosc-build-")
	if err != nil {
		return nil, failWith(exitError, err)
	}
	defer os.RemoveAll(work)
	prep, err := build.Prepare(work, in, base, ext)
	if err != nil {
		return nil, failWith(exitError, err)
	}
	opts := build.Options{Tag: params.tag, AuthFile: params.registryConfig, Log: log, Proxy: build.ProxyFromEnv()}
	if params.dryRun {
		dry(prep.Containerfile, append([]string{builder.Name}, builder.BuildArgs(prep, opts)...))
		return nil, nil
	}
	report := &build.Report{Image: params.tag, BaseImage: base, Builder: builder.Name, OpenShift: plan.OpenShift.Version,
		Platform: plan.Platform.Name, Pool: plan.Pool, Differences: build.Differences}
	if len(prep.Extensions) > 0 {
		report.ExtensionsImage = ext
	}
	for _, s := range plan.Stacks {
		report.Stacks = append(report.Stacks, s.Name+":"+s.Variant)
	}
	fmt.Fprintf(log, "building %s on %s with %s (context %s)\n", params.tag, base, builder.Name, prep.Dir)
	berr := builder.Build(ctx, prep, opts)
	var failure *build.Failure
	if berr != nil && !errors.As(berr, &failure) {
		return nil, failWith(exitError, berr)
	}
	report.Add(build.BuildCheck(params.tag, berr))
	if berr != nil {
		for _, ch := range build.SkippedInspection() {
			report.Add(ch)
		}
		return report, nil
	}
	fmt.Fprintf(log, "inspecting %s\n", params.tag)
	checks, err := build.Inspect(ctx, builder, params.tag, base, build.ExpectationsFor(plan, prep.Extensions, report.ExtensionsImage))
	if err != nil {
		return nil, failWith(exitFailure, err)
	}
	for _, ch := range checks {
		report.Add(ch)
	}
	if params.push {
		if err := builder.Push(ctx, params.tag, params.pushSecret, log); err != nil {
			return nil, failWith(exitFailure, err)
		}
		report.Pushed = true
	}
	return report, nil
}

// planFromManifests reads rendered manifests and the plan their
// MachineOSConfig's mosc.dev annotations name (for the inspection's
// expectations); the bundle is built as it is on disk.
func planFromManifests(c *cli.Context, path string) (*profile.Plan, *render.Result, error) {
	for _, f := range planFlags() {
		if n := namesOf(f)[0]; c.IsSet(n) && n != "profiles" {
			return nil, nil, failWith(exitError, fmt.Errorf("--%s: plan flags do not apply when building PATH %s (its MachineOSConfig's annotations name the plan)", n, path))
		}
	}
	if path != "-" {
		if _, err := os.Stat(path); err != nil {
			return nil, nil, failWith(exitError, err)
		}
	}
	b, _, err := bundle.ReadPath(path)
	if err != nil {
		return nil, nil, failWith(exitError, err)
	}
	var ann map[string]string
	for _, o := range b.Objects {
		if k := o.Content.GetKind(); k == "MachineOSConfig" {
			if ann != nil {
				return nil, nil, failWith(exitError, fmt.Errorf("%s: more than one MachineOSConfig; mosc build builds one pool", path))
			}
			ann = o.Content.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann["pool"] = o.Content.GetName()
		}
	}
	if ann == nil {
		return nil, nil, failWith(exitError, fmt.Errorf("%s: no MachineOSConfig: nothing to build", path))
	}
	// The annotation may name a z-stream range ("4.18.20+", "4.18.0-4.18.19").
	version := strings.TrimSuffix(ann[render.AnnotationOpenShift], "+")
	if i := strings.Index(version, "-"); i > 0 {
		version = version[:i]
	}
	o := profile.Overrides{OpenShift: version, Platform: ann[render.AnnotationPlatform], Pool: ann["pool"], ProfilesDirs: c.StringSlice("profiles")}
	if s := ann[render.AnnotationStacks]; s != "" {
		o.Stacks = strings.Split(s, ",")
	}
	if o.OpenShift == "" || len(o.Stacks) == 0 {
		return nil, nil, failWith(exitError, fmt.Errorf("%s: the MachineOSConfig has no %s and %s annotations: the inspection cannot know what to expect", path, render.AnnotationOpenShift, render.AnnotationStacks))
	}
	cat, err := profile.LoadCatalog(o.ProfilesDirs...)
	if err != nil {
		return nil, nil, failWith(exitError, err)
	}
	site := profile.NewSite()
	site.Override(o)
	plan, err := cat.Resolve(site)
	if err != nil {
		return nil, nil, failWith(exitError, fmt.Errorf("%s: the MachineOSConfig's annotations: %v", path, err))
	}
	return plan, &render.Result{Bundle: b}, nil
}
