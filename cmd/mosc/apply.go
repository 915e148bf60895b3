package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
	"github.com/urfave/cli/v2"
)

// internalRegistryHost is the push host the builder token is good for.
const internalRegistryHost = "image-registry.openshift-image-registry.svc:5000"

func applyCommand() *cli.Command {
	flags := append(planFlags(), clusterFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "dry-run", Value: "none", Usage: "none, client (render and preflight, no writes) or server (every write sent with dryRun=All)"},
		&cli.BoolFlag{Name: "force-conflicts", Usage: "take over fields another field manager owns (server-side apply Force)"},
		&cli.BoolFlag{Name: "force", Usage: "apply even if --openshift / spec.openshift differs from the cluster's version"},
		&cli.StringFlag{Name: "push-credential", Value: cluster.PushCredentialLongLived, Usage: "internal registry push credential (spec.secrets.pushCredential): " + cluster.PushCredentialLongLived + " (the token of secret " + cluster.BuilderTokenSecret + ", a service-account token Secret: it does not expire, deleting the secret revokes it) or " + cluster.PushCredentialToken + " (a TokenRequest token that expires after --token-ttl; nothing renews it)"},
		&cli.DurationFlag{Name: "token-ttl", Value: cluster.DefaultTokenTTL, Usage: "with --push-credential token (implies it): lifetime of the builder token (spec.secrets.tokenTTL; minimum 10m)"},
		&cli.BoolFlag{Name: "rotate-token", Usage: "replace the push credential even if the current one still works (" + cluster.PushCredentialLongLived + ": a new token Secret, revoking the old token; token: mint a new one)"},
		&cli.StringFlag{Name: "push-auth", Usage: "dockerconfigjson `FILE` with push credentials for an external registry (spec.secrets.pushAuthFile)", TakesFile: true},
		&cli.BoolFlag{Name: "discard-registry-images", Usage: "with --internal-registry: replace the storage of a registry that already has some (object storage, another claim) with mosc's PVC, losing every image it stores; without it such a registry is used as it is"},
		&cli.BoolFlag{Name: "overwrite-shared-inputs", Usage: "change or drop repo files and GPG keys (etc-yum-repos-d, etc-pki-rpm-gpg) that another pool's MachineOSConfig build uses; the MCO mounts them into every pool's build"},
		&cli.BoolFlag{Name: "wait-registry", Value: true, Usage: "wait until the internal registry reports Available before writing the rest"},
		&cli.DurationFlag{Name: "registry-timeout", Value: 10 * time.Minute, Usage: "how long to wait for the internal registry"},
		&cli.BoolFlag{Name: "wait", Usage: "then follow the build, the rollout and the on-node checks as mosc watch does (with its --logs, --timeout, ... flags)"},
		&cli.BoolFlag{Name: "rebuild", Usage: "then ask the MCO to build again (as mosc rebuild) unless the apply changed the MachineOSConfig or its MachineConfigs, and follow the build as --wait does"},
	)
	flags = append(flags, watchFlags()...)
	return &cli.Command{
		Name:  "apply",
		Usage: "enable the registry, create the push credential and secrets, and server-side apply the bundle",
		Description: `apply does what the manual walkthrough does, idempotently: preflight (API reachable,
OpenShift version, pool, permissions: nothing is written if one is missing), the internal
registry when the site asks (a Removed registry is enabled on a PVC by a merge patch of
the registry Config; one that already has storage, e.g. object storage on a cloud
cluster, is used as it is unless --discard-registry-images; then wait until it is
Managed, Available for a reason other than Removed, and has observed its spec),
the push secret and, on 4.16–4.18.19 (v1alpha1), the merged pull-and-push secret, then
the rendered bundle by server-side apply with field manager "mosc", the MachineOSConfig
last. One line per object: created, configured or unchanged.

The push secret for the internal registry carries the token of secret mosc-builder-token,
a service-account token Secret that kube-controller-manager fills: it does not expire, so
the builds of upgrades months later still push, and deleting that secret revokes it.
--push-credential token instead mints a TokenRequest token that expires after --token-ttl
(kept while more than half its lifetime remains); gate and status say when it runs out.

With --wait, apply then follows the build and the rollout as mosc watch does, and exits
as watch would. With --rebuild it first asks the MCO for a new build of the unchanged
MachineOSConfig (as mosc rebuild; a changed one is built anew anyway), then follows it.

Exit codes: 0 applied (with --wait: and every node verified); 1 an apply failed (e.g. a
field conflict), or with --wait the build or rollout failed; 2 bad input, missing
permissions, version mismatch, or the cluster is unreachable.`,
		Flags:  flags,
		Action: runApply,
	}
}

// tokenTTL: --token-ttl, else the plan's (the site file's
// spec.secrets.tokenTTL, or the profile default of 30 days).
func tokenTTL(c *cli.Context, plan *profile.Plan) (time.Duration, error) {
	ttl := time.Duration(plan.Secrets.TokenTTLSeconds) * time.Second
	if c.IsSet("token-ttl") {
		ttl = c.Duration("token-ttl")
	}
	if ttl == 0 {
		ttl = cluster.DefaultTokenTTL
	}
	if ttl < cluster.MinTokenTTL {
		return 0, fmt.Errorf("--token-ttl %v: the TokenRequest API grants at least %v", ttl, cluster.MinTokenTTL)
	}
	return ttl, nil
}

// pushCredential: --push-credential, else --token-ttl's implied token (a
// lifetime only means something for a token that expires), else the plan's
// (the site file's spec.secrets.pushCredential, default long-lived).
func pushCredential(c *cli.Context, plan *profile.Plan) string {
	switch {
	case c.IsSet("push-credential"):
		cred, _ := cluster.ParsePushCredential(c.String("push-credential")) // checked by runApply
		return cred
	case c.IsSet("token-ttl"):
		return cluster.PushCredentialToken
	case plan.Secrets.PushCredential != "":
		return plan.Secrets.PushCredential
	}
	return cluster.PushCredentialLongLived
}

func runApply(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("apply takes no arguments, got %q (use --pool / -f)", c.Args().First()))
	}
	// Ctrl-C ends a registry wait cleanly; what was applied stays applied,
	// and a new apply carries on from there.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	stderr := c.App.ErrWriter
	dry, err := cluster.ParseDryRun(c.String("dry-run"))
	if err != nil {
		return failWith(exitError, err)
	}
	if c.Duration("registry-timeout") <= 0 {
		return failWith(exitError, errors.New("--registry-timeout must be positive"))
	}
	if _, err := cluster.ParsePushCredential(c.String("push-credential")); err != nil {
		return failWith(exitError, err)
	}
	if c.IsSet("token-ttl") && c.IsSet("push-credential") && c.String("push-credential") != cluster.PushCredentialToken {
		return failWith(exitError, fmt.Errorf("--token-ttl applies to --push-credential %s; the %s credential does not expire", cluster.PushCredentialToken, c.String("push-credential")))
	}

	clients, err := clusterAccess(c).Connect()
	if err != nil {
		return failWith(exitError, err)
	}
	if err := cluster.Reachable(clients); err != nil {
		return failWith(exitError, err)
	}
	version, verr := cluster.OpenShiftVersion(ctx, clients)
	if verr != nil {
		// Without the cluster's version only an explicit release will do.
		fmt.Fprintf(stderr, "warning: cannot read the cluster's OpenShift version: %v\n", verr)
	}
	plan, cat, site, err := resolvePlan(c, version)
	if err != nil {
		return err
	}
	// The API server is the truth about which MachineOSConfig it takes:
	// --force does not override this (the write could not succeed).
	if err := checkServed(clients, cat, plan, version); err != nil {
		return err
	}
	if err := checkPoolStream(ctx, clients, plan); err != nil {
		return err
	}
	if verr == nil && cluster.Minor(version) != plan.OpenShift.Version {
		msg := fmt.Sprintf("the cluster runs OpenShift %s, but the plan is for %s (--openshift / spec.openshift)", version, plan.OpenShift.Version)
		if !c.Bool("force") {
			return failWith(exitError, errors.New(msg+"; re-run with --force to apply anyway"))
		}
		fmt.Fprintf(stderr, "warning: %s; applying anyway (--force)\n", msg)
	}
	res, err := render.Render(plan, render.Options{Locate: siteLocator(site)})
	if err != nil {
		return failWith(exitError, err)
	}
	printWarnings(stderr, res.Warnings)

	ttl, err := tokenTTL(c, plan)
	if err != nil {
		return failWith(exitError, err)
	}
	pushCred := pushCredential(c, plan)
	host, err := cluster.PushHost(plan.MOSC.PushSpec)
	if err != nil {
		return failWith(exitError, fmt.Errorf("--push-spec: %w", err))
	}
	opts := cluster.ApplyOptions{
		DryRun: dry, ForceConflicts: c.Bool("force-conflicts"),
		TokenTTL: ttl, RotateToken: c.Bool("rotate-token"),
		WaitRegistry: c.Bool("wait-registry"), RegistryTimeout: c.Duration("registry-timeout"),
		DiscardRegistryImages: c.Bool("discard-registry-images"),
		OverwriteSharedInputs: c.Bool("overwrite-shared-inputs"),
		PushCredential:        pushCred,
		Out:                   c.App.Writer, Log: stderr,
	}
	authFile, authSource := plan.Secrets.PushAuthFile, "spec.secrets.pushAuthFile"
	if site != nil && site.File != "" {
		authSource = site.File + ": " + authSource
	}
	if c.IsSet("push-auth") {
		authFile, authSource = c.String("push-auth"), "--push-auth"
	}
	switch {
	case authFile != "":
		pa, warns, err := cluster.ReadPushAuthFile(authSource, authFile, host)
		if err != nil {
			return failWith(exitError, err)
		}
		for _, w := range warns {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		opts.PushAuth = pa
	case host != internalRegistryHost:
		return failWith(exitError, fmt.Errorf("--push-spec: the builder token only works for the internal registry %s; for %s pass --push-auth FILE (dockerconfigjson)", internalRegistryHost, host))
	}

	ap := cluster.NewApplier(clients, nil, opts)
	prepared, err := ap.Prepare(plan, res.Bundle)
	if err != nil {
		return failWith(exitError, err)
	}
	if err := ap.Preflight(ctx, prepared); err != nil {
		return failWith(exitError, err)
	}
	if dry == cluster.DryRunClient {
		fmt.Fprintln(stderr, "client dry run: nothing is sent to the cluster but reads")
	}
	results, err := ap.Apply(ctx, prepared)
	if err != nil {
		return failWith(exitFailure, err)
	}
	// apply never deletes; it names what an earlier plan left behind.
	left, err := cluster.Leftovers(ctx, clients, nil, plan.Site, plan.Pool, results)
	if err != nil {
		fmt.Fprintf(stderr, "warning: looking for objects an earlier apply left: %v\n", err)
	}
	for _, ref := range left {
		fmt.Fprintf(stderr, "warning: %s (site %s) is not in this plan any more; mosc does not prune: delete it (oc delete), or `mosc remove --pool %s --site %s` and apply again\n", ref, plan.Site, plan.Pool, plan.Site)
	}
	if c.Bool("rebuild") {
		if changed := buildInputsChanged(results); changed != "" {
			fmt.Fprintf(stderr, "--rebuild: %s, so the MCO builds anew anyway; no rebuild request needed\n", changed)
		} else if err := requestRebuild(c, plan, dry); err != nil {
			return err
		}
	}
	if c.Bool("wait") || c.Bool("rebuild") {
		if dry != cluster.DryRunNone {
			fmt.Fprintln(stderr, "--wait: nothing to follow in a dry run")
			return nil
		}
		return runWatch(c, plan)
	}
	return nil
}

// buildInputsChanged names the first applied MachineOSConfig or
// MachineConfig that was created or changed ("" when none): either makes
// the MCO build anew, so a rebuild request would only add a second build.
func buildInputsChanged(results []cluster.Result) string {
	for _, r := range results {
		if r.Action == "unchanged" {
			continue
		}
		if strings.HasPrefix(r.Ref, "machineosconfig.") || strings.HasPrefix(r.Ref, "machineconfig.") {
			return r.Ref + " " + r.Action
		}
	}
	return ""
}
