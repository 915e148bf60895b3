package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mosc-dev/mosc/internal/build"
	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/render"
	"github.com/mosc-dev/mosc/internal/repo"
)

func gateCommand() *cli.Command {
	return &cli.Command{
		Name:      "gate",
		Usage:     "check, before an OpenShift upgrade, that the OVS-DOCA layer will survive it",
		UsageText: "mosc gate --to VERSION [plan flags] [--release-image REF] [--offline] [-o table|json] [--junit FILE]\n   mosc gate --fleet FILE --to VERSION [--kubeconfig FILE|DIR] [--parallel N] [--offline] [-o table|json] [--junit FILE]",
		Description: `Runs the upgrade checks a pipeline needs before it upgrades a cluster, each with
an id, a status (pass, warn, fail, skip), a message and a remedy:

  upgrade-path     with two hops (--via, or an EUS-to-EUS --to such as 4.18 → 4.20): the path,
                   the layer built at each hop, what a failed build at each hop blocks
  target-profile   the catalog has a profile for the target release; an upgrade, one minor at a time
  stack-support    the stacks support the target release, its RHEL base and the platform
  bundle-diff      what changes in the rendered bundle at the target (stock OVS package,
                   lint command, MachineOSConfig API, Containerfile) and whether it forces a rebuild
  release-payload  the target payload's rhel-coreos image labels (RHEL stream/version) match the profile
  repo-preflight   the DOCA repository for the target RHEL/arch has every package the layers install
  repo-signatures  the RPM header signatures of what the layer installs from each gpgcheck=1
                   repository verify against the repository's key
  install-resolve  dnf resolves what the layer installs (build deps, DOCA packages, upgrades,
                   replaced and removed packages) against the target rhel-coreos's rpm database
                   and every repo of etc-yum-repos-d, for the target arch (needs dnf and rpm)
  cluster-upgradeable
                   the cluster-version operator would accept the upgrade: ClusterVersion
                   Upgradeable/Progressing/Failing/ReleaseAccepted, the feature set, admin-acks,
                   every pool not Degraded/BuildInterrupted, the target offered     (cluster)
  base-pull-secret the build's base image pull secret can read the target's rhel-coreos
                   and rhel-coreos-extensions                                       (cluster)
  pool-health      the pool is Updated, not Degraded, not paused                     (cluster)
  pool-machineconfigs
                   the pool's kernelType and extensions allow the plan (kernel-devel, ipsec) (cluster)
  last-build       the MachineOSConfig's last MachineOSBuild Succeeded               (cluster)
  nodes-verified   every node runs the layered image and verifies OVS-DOCA           (cluster)
  push-token       the push credential works for the next build: it does not expire, or   (cluster)
                   not within --min-token-days
  verify           with --verify: mosc verify's node checks pass (offload works now)  (cluster)
  layer-build      with --build: the target's layer builds on the target's base image and
                   passes mosc build's inspection (buildah or podman; see mosc build --help);
                   the base and extensions images are those of the payload release-payload
                   read (the pool's OS stream), pulled with the same credentials

An EUS-to-EUS --to (4.18 → 4.20: even minors, two apart) goes through the odd minor
with the worker pools paused; --via RELEASE names the intermediate release of any
two-minor upgrade. Both hops are gated: target-profile, stack-support, bundle-diff,
release-payload, target-kernel and base-pull-secret once per hop, the first hop's ids
ending in @<minor> (release-payload@4.19), each with details.hop; the hop's payload is
--via-release-image, else ClusterVersion's offer, else the tag of a full --via.
cluster-upgradeable judges the first hop; pool-health reads a paused pool on an EUS path
as the procedure.

--after follows an upgrade once it has started (oc adm upgrade), and exits 0 only when
the layered pool made it:
  after-release    ClusterVersion desires the target (--to, else its desired release), the
                   Machine Config Operator's OS images are the target's, and the pool's
                   rendered config is for it
  after-build      the pool's MachineOSBuild for that config (the new base image) Succeeded;
                   a failed build fails at once: the MCO does not retry it, and the
                   cluster-version operator may report the upgrade Completed all the same
  after-rollout    every node of the pool runs the new layered image (and, unless
                   --node-checks=false, passes mosc watch's check pod); a paused pool fails
It waits up to --timeout (default 4h with --after) and prints what it waits for on stderr.

The current release is --openshift (or spec.openshift in the site file), else the
cluster's ClusterVersion. The payload is --release-image, else the digest the
cluster's ClusterVersion offers for --to (availableUpdates, then conditionalUpdates;
--to 4.21 takes the newest offered 4.21.z), else derived from a full --to version
(quay.io/openshift-release-dev/ocp-release:<x.y.z>-<arch>); a payload that cannot be
named or read fails. It is read with --registry-config, else the cluster's pull
secret (openshift-config/pull-secret).

Mirrored and disconnected clusters: every registry read (the payload, its OS
images, their meta.json and extensions.json layers, the base pull secret's
probes) tries the mirrors the cluster's ImageDigestMirrorSets (digest
references), ImageTagMirrorSets (tag references) and ImageContentSourcePolicies
name, in the order the nodes' registries.conf tries them, then the source unless
mirrorSourcePolicy is NeverContactSource; the report names the mirror that
answered. Without a cluster, --mirror-config FILE takes the same objects as YAML.
Registry and repository reads go through the cluster Proxy (its status:
httpProxy, httpsProxy, noProxy) and trust its CA bundle (openshift-config/
user-ca-bundle, the Proxy's trustedCA, image.config's additionalTrustedCA per
registry); with no cluster Proxy, $HTTPS_PROXY/$NO_PROXY apply.

--offline runs only the checks that need
neither the cluster nor the network. Without a kubeconfig the cluster checks are
skipped.

With --fleet FILE (an inventory, docs/fleet.md) every cluster is gated, --parallel
at once: the checks that read no cluster once per distinct site and release, the
cluster checks on each cluster that --kubeconfig has a context for, named after the
cluster (or, when --kubeconfig is a directory, its own file <cluster>, <cluster>.yaml
or <cluster>.kubeconfig); clusters without one are gated offline. The output is a
table (cluster, from → to, verdict, failing checks), -o json (mosc.dev/gate-fleet/v1)
and --junit with one test suite per cluster; exit 1 names the failing clusters.

Exit codes: 0 no check failed (warnings allowed), 1 a check failed, 2 error.

Examples:
  mosc gate -f mosc.yaml --to 4.21.11
  mosc gate -f mosc.yaml --to 4.21           # the newest 4.21.z the cluster offers
  mosc gate -f mosc.yaml --openshift 4.20.15 --to 4.21.11 --registry-config pull-secret.json --junit gate.xml
  mosc gate --openshift 4.21 --to 4.22 --offline -o json
  mosc gate -f mosc.yaml --to 4.21 --build     # builds on the offered payload's image, with the cluster's pull secret
  mosc gate -f mosc.yaml --to 4.20.8 --release-image quay.io/openshift-release-dev/ocp-release@sha256:...   # from 4.18: EUS, via 4.19
  oc adm upgrade --to 4.21.11 && mosc gate -f mosc.yaml --after --to 4.21.11 --junit after.xml
  mosc gate --fleet fleet.yaml --to 4.21.11 --kubeconfig ~/.kube/fleet --parallel 16 --junit gate.xml`,
		Flags: append(append(planFlags(),
			&cli.StringFlag{Name: "to", Usage: "the OpenShift release to upgrade to, e.g. 4.21.11 (required)"},
			&cli.StringFlag{Name: "release-image", Usage: "the target release payload `REF` (default: the digest ClusterVersion offers for --to, else derived from a full --to)"},
			&cli.StringFlag{Name: "via", Usage: "the `RELEASE` a two-minor upgrade passes through, e.g. 4.19 or 4.19.15 (default for an EUS-to-EUS --to, 4.18 → 4.20: the odd minor between); both hops are gated"},
			&cli.StringFlag{Name: "via-release-image", Usage: "the intermediate release's payload `REF` (default: the digest ClusterVersion offers for --via, else derived from a full --via)"},
			&cli.StringFlag{Name: "registry-config", Usage: "dockerconfigjson `FILE` with credentials to read the payload (like oc --registry-config); default: the cluster's openshift-config/pull-secret, else anonymous", TakesFile: true},
			mirrorConfigFlag(), // gatemirrors.go
			&cli.BoolFlag{Name: "offline", Usage: "run only the checks that need neither the cluster nor the network"},
			&cli.IntFlag{Name: "min-token-days", Usage: "warn when a push token that nothing renews (--push-credential token) expires within this many days", Value: gate.DefaultMinTokenDays},
			&cli.BoolFlag{Name: "node-checks", Usage: "verify each node of the pool with a short-lived check pod (--node-checks=false reads node annotations only)", Value: true},
			&cli.DurationFlag{Name: "node-timeout", Usage: "how long one node's check pod may take", Value: node.DefaultPodTimeout},
			&cli.BoolFlag{Name: "verify", Usage: "also run mosc verify's checks (hw-offload, eswitch, offloaded flows, libraries) on every node of the pool"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: table or json", Value: "table"},
			&cli.DurationFlag{Name: "timeout", Usage: "bound the whole run (registry, repositories, cluster)", Value: 10 * time.Minute},
			&cli.StringFlag{Name: "junit", Usage: "also write the report as JUnit XML to `FILE` (one testcase per check)", TakesFile: true},
			&cli.BoolFlag{Name: "build", Usage: "also build the target's layer on the target release's base image (mosc build) and inspect it"},
			&cli.StringFlag{Name: "base-image", Usage: "with --build: the base image `REF` instead of the target payload's rhel-coreos"},
			&cli.BoolFlag{Name: "after", Usage: "after the upgrade has started: wait until the pool is Updated on the new release's layered image and its MachineOSBuild Succeeded; exit 1 otherwise (checks after-release, after-build, after-rollout)"},
			&cli.StringFlag{Name: "save-failure", Usage: "with --after: save a failed build's evidence to `DIR` (default ./mosc-failure-<machineosbuild>/; --save-failure= turns it off)", TakesFile: true},
			&cli.StringFlag{Name: "stream", Usage: "with --build: the payload's OS image `TAG` to build on instead of the pool's OS stream's: rhel-coreos or rhel-coreos-10"},
		), append(clusterFlags(), fleetRunFlags("gate")...)...),
		Action: runGate,
	}
}

func runGate(c *cli.Context) error {
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if c.Bool("after") {
		return runGateAfter(c)
	}
	if c.IsSet("save-failure") {
		return failWith(exitError, errors.New("--save-failure: only used with --after"))
	}
	if c.Duration("timeout") <= 0 {
		return failWith(exitError, errors.New("--timeout: must be positive"))
	}
	ctx, cancel := context.WithTimeout(ctx, c.Duration("timeout"))
	defer cancel()
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("gate takes no arguments, got %q (pass the target with --to)", c.Args().First()))
	}
	format := c.String("output")
	if format != "table" && format != "json" {
		return failWith(exitError, fmt.Errorf("-o: unknown format %q; known: table, json", format))
	}
	target := c.String("to")
	if target == "" {
		return failWith(exitError, errors.New("--to: the target release is required, e.g. --to 4.21.11"))
	}
	if _, err := profile.MinorVersion(target); err != nil {
		return failWith(exitError, fmt.Errorf("--to: %v", err))
	}
	if c.Int("min-token-days") < 0 {
		return failWith(exitError, errors.New("--min-token-days: must not be negative"))
	}
	if c.IsSet("junit") && c.String("junit") == "" {
		return failWith(exitError, errors.New("--junit: must not be empty"))
	}
	for _, n := range []string{"release-image", "via", "via-release-image"} {
		if c.IsSet(n) && c.String(n) == "" {
			return failWith(exitError, fmt.Errorf("--%s: must not be empty", n))
		}
	}
	if f := c.String("registry-config"); f != "" {
		if _, err := release.LoadKeychain(f); err != nil {
			return failWith(exitError, err)
		}
	}

	opts := gate.Options{
		TargetVersion: target,
		Offline:       c.Bool("offline"),
		ReleaseImage:  c.String("release-image"),
		Release:       release.Options{RegistryConfig: c.String("registry-config")},
		Repo:          &repo.Client{UserAgent: "mosc"},
		MinTokenDays:  c.Int("min-token-days"),
		Verify:        c.Bool("verify"),
	}

	if c.IsSet("fleet") || c.IsSet("parallel") {
		for _, n := range []string{"via", "via-release-image"} {
			if c.IsSet(n) {
				return failWith(exitError, fmt.Errorf("--%s: not with --fleet (gate the clusters of one release with --openshift and --via)", n))
			}
		}
		// --mirror-config applies to every cluster of the fleet.
		if err := gateMirrors(ctx, c, nil, &opts); err != nil {
			return failWith(exitError, err)
		}
		return runGateFleet(ctx, c, opts, format)
	}

	opts.Progress = func(msg string) { fmt.Fprintln(c.App.ErrWriter, msg) }

	// The cluster: read when one is configured (and not --offline); an
	// unreachable configured cluster is an error, no kubeconfig at all
	// skips the cluster checks.
	var clients *cluster.Clients
	clusterVersion := ""
	if opts.Offline {
		opts.ClusterSkip = "--offline: the cluster is not read"
	} else {
		access := clusterAccess(c)
		if _, err := access.RESTConfig(); err != nil {
			if c.String("kubeconfig") != "" || c.String("context") != "" {
				return failWith(exitError, err)
			}
			opts.ClusterSkip = "no cluster configured (--kubeconfig, $KUBECONFIG or ~/.kube/config)"
		} else {
			cl, err := access.Connect()
			if err != nil {
				return failWith(exitError, err)
			}
			if err := cluster.Reachable(cl); err != nil {
				return failWith(exitError, fmt.Errorf("%v (use --offline to run without the cluster)", err))
			}
			clients = cl
			if v, err := cluster.OpenShiftVersion(ctx, cl); err == nil {
				clusterVersion = v
			} else {
				fmt.Fprintf(c.App.ErrWriter, "warning: %v\n", err)
			}
		}
	}

	cur, site, err := resolveSide(c, clusterVersion, nil)
	if err != nil {
		if site != nil && site.Spec.OpenShift == "" {
			if c.Bool("offline") {
				// The cluster is not read with --offline, even when a kubeconfig is set.
				return failWith(exitError, fmt.Errorf("the current release is unknown: with --offline the cluster is not read; pass --openshift (or set spec.openshift)"))
			}
			return failWith(exitError, fmt.Errorf("the current release is unknown: pass --openshift, set spec.openshift, or point --kubeconfig at the cluster (%v)", err))
		}
		return failWith(exitError, err)
	}
	printPlanWarnings(c, cur)
	cat, err := profile.LoadCatalog(c.StringSlice("profiles")...)
	if err != nil {
		return failWith(exitError, err)
	}
	opts.Catalog, opts.Current = cat, cur
	opts.CurrentVersion = site.Spec.OpenShift
	if opts.CurrentVersion == "" {
		opts.CurrentVersion = cur.OpenShift.Version
	}
	if clients != nil {
		if err := checkServed(clients, cat, cur, clusterVersion); err != nil {
			return err
		}
		if err := checkPoolStream(ctx, clients, cur); err != nil {
			return err
		}
	}
	if clusterVersion != "" && cluster.Minor(clusterVersion) != cur.OpenShift.Version {
		fmt.Fprintf(c.App.ErrWriter, "warning: the cluster runs OpenShift %s but the plan is for %s (--openshift or spec.openshift)\n", clusterVersion, cur.OpenShift.Version)
	}
	opts.Target, _, opts.TargetErr = resolveSide(c, clusterVersion, func(o *profile.Overrides) { o.OpenShift = target })
	if err := gateVia(c, &opts, clusterVersion); err != nil {
		return failWith(exitError, err)
	}

	if clients != nil {
		opts.Cluster = &gate.Cluster{Kube: clients.Kube, MachineConfig: clients.MachineConfig, Config: clients.OpenShift}
		if c.Bool("node-checks") {
			opts.NodeChecker = &node.Checker{Kube: clients.Kube, Image: node.ResolveImage(ctx, clients.Dynamic), PodTimeout: c.Duration("node-timeout")}
		}
	}
	if clients != nil {
		opts.PoolStream = poolStream(ctx, clients, cur.Pool)
	}
	if err := gateMirrors(ctx, c, clients, &opts); err != nil {
		return failWith(exitError, err)
	}
	opts.Now = time.Now
	switch f := c.String("registry-config"); {
	case f != "":
		opts.ReleaseAuth = "--registry-config " + f
	case clients != nil:
		// The payload's images (ocp-v4.0-art-dev) need the OpenShift pull
		// secret, which the cluster holds; like oc adm release info run by
		// an admin, read it from there.
		if b, err := readClusterPullSecret(ctx, clients); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: %v; reading the payload anonymously (pass --registry-config)\n", err)
			opts.ReleaseAuth = "anonymous"
		} else {
			opts.Release.DockerConfigJSON = b
			opts.ReleaseAuth = "the cluster's pull secret (" + clusterPullSecretNS + "/" + clusterPullSecretName + ")"
		}
	default:
		opts.ReleaseAuth = "anonymous"
	}

	var bp *gateBuild
	if c.Bool("build") {
		p, err := gateBuildParams(c, opts, target)
		if err != nil {
			return failWith(exitError, err)
		}
		bp = &p
	} else {
		for _, n := range []string{"base-image", "stream"} {
			if c.IsSet(n) {
				return failWith(exitError, fmt.Errorf("--%s: only used with --build", n))
			}
		}
	}

	report := gate.Run(ctx, opts)
	if bp != nil {
		start := time.Now()
		ch := gateBuildCheck(ctx, c.App.ErrWriter, opts, report, *bp)
		ch.Duration = time.Since(start)
		report.Add(ch)
	}

	return writeGateReport(c, report, format)
}

// gateVia sets the intermediate release of a two-minor upgrade: --via, or
// for an EUS-to-EUS --to (4.18 → 4.20) the odd minor between, which the
// documented procedure passes through with the worker pools paused
// (gate.EUSPath). Its plan is the site's at that release.
func gateVia(c *cli.Context, opts *gate.Options, clusterVersion string) error {
	via := c.String("via")
	if via == "" {
		v, ok := gate.EUSPath(opts.CurrentVersion, opts.TargetVersion)
		if !ok {
			if c.IsSet("via-release-image") {
				return fmt.Errorf("--via-release-image: %s → %s is not a two-minor upgrade; name the intermediate release with --via", opts.CurrentVersion, opts.TargetVersion)
			}
			return nil
		}
		via = v
	} else if err := gate.ValidateVia(opts.CurrentVersion, via, opts.TargetVersion); err != nil {
		return fmt.Errorf("--via: %v", err)
	}
	if ref := c.String("via-release-image"); ref != "" {
		if _, err := name.ParseReference(ref); err != nil {
			return fmt.Errorf("--via-release-image: %v", err)
		}
	}
	h := &gate.Hop{Version: via, ReleaseImage: c.String("via-release-image")}
	h.Plan, _, h.PlanErr = resolveSide(c, clusterVersion, func(o *profile.Overrides) { o.OpenShift = via })
	opts.Via = h
	return nil
}

// The cluster-wide pull secret (openshift-config/pull-secret): the
// credentials every node uses for the release payload's images.
const (
	clusterPullSecretNS   = "openshift-config"
	clusterPullSecretName = "pull-secret"
)

// readClusterPullSecret returns the cluster pull secret's dockerconfigjson.
// Its content never reaches messages.
func readClusterPullSecret(ctx context.Context, cl *cluster.Clients) ([]byte, error) {
	s, err := cl.Kube.CoreV1().Secrets(clusterPullSecretNS).Get(ctx, clusterPullSecretName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the cluster pull secret %s/%s: %w", clusterPullSecretNS, clusterPullSecretName, err)
	}
	b := s.Data[corev1.DockerConfigJsonKey]
	if len(b) == 0 {
		return nil, fmt.Errorf("the cluster pull secret %s/%s has no %s", clusterPullSecretNS, clusterPullSecretName, corev1.DockerConfigJsonKey)
	}
	if _, err := release.ParseKeychain(b); err != nil {
		return nil, fmt.Errorf("the cluster pull secret %s/%s: %v", clusterPullSecretNS, clusterPullSecretName, err)
	}
	return b, nil
}

// gateBuildParams checks --build's inputs before anything runs: a builder
// on PATH, and a base image (--base-image, or the payload's rhel-coreos).
func gateBuildParams(c *cli.Context, opts gate.Options, target string) (gateBuild, error) {
	if opts.Offline {
		return gateBuild{}, errors.New("--build: builds pull the target's base image; it cannot run with --offline")
	}
	if _, err := build.FindBuilder(); err != nil {
		return gateBuild{}, fmt.Errorf("--build: %v", err)
	}
	bp, err := buildParamsFrom(c, "localhost/mosc-gate-build:"+target)
	p := gateBuild{buildParams: bp}
	if err != nil {
		return p, err
	}
	// The base image comes from the payload release-payload resolved
	// (--release-image, else ClusterVersion's offer, else the tag of a full
	// --to; gateBuildBase): never read a second time, never guessed.
	p.releaseImage = ""
	p.streamSet = c.IsSet("stream")
	return p, nil
}

// gateBuildBase picks the build's base and extensions images from the
// payload the release-payload check read, and the credentials that read
// it: --registry-config, else the cluster pull secret, written to a 0600
// file for the builder (cleanup removes it). A payload that was not read
// leaves nothing to build on: the check says so (release-payload failed).
func gateBuildBase(opts gate.Options, report *gate.Report, p *gateBuild) (why string, cleanup func(), err error) {
	cleanup = func() {}
	if p.baseImage == "" {
		payload, stream := report.Payload, report.Stream
		if payload == nil {
			return "the target payload was not read (see release-payload): there is no base image to build on", cleanup, nil
		}
		var osImg, ext release.CoreOS
		if p.streamSet {
			// --stream names the payload's OS image tag itself.
			for _, co := range payload.CoreOS {
				switch co.Tag {
				case p.stream:
					osImg = co
				case p.stream + "-extensions":
					ext = co
				}
			}
		} else {
			osImg, ext, _ = payload.Stream(stream)
		}
		if osImg.Image == "" {
			return "", cleanup, fmt.Errorf("--build: the payload %s has no %s image", payload.Ref, orStream(p, stream))
		}
		p.baseImage = answered(osImg)
		if p.extensionsImage == "" {
			p.extensionsImage = answered(ext)
		}
	}
	if p.registryConfig == "" && len(opts.Release.DockerConfigJSON) > 0 {
		dir, err := os.MkdirTemp("", "mosc-gate-auth-")
		if err != nil {
			return "", cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		f := filepath.Join(dir, "auth.json")
		if err := os.WriteFile(f, opts.Release.DockerConfigJSON, 0o600); err != nil {
			cleanup()
			return "", func() {}, err
		}
		p.registryConfig = f
	}
	return "", cleanup, nil
}

// answered is where release-payload read an OS image: on a mirrored
// cluster the payload's own reference (quay.io) may be unreachable from
// here, and the mirror's names the same digest (IDMS rules map digest
// references only).
func answered(co release.CoreOS) string {
	if co.From != "" {
		return co.From
	}
	return co.Image
}

// gateBuild is --build's parameters: mosc build's, and whether --stream
// was given (else the pool's stream, as release-payload read it).
type gateBuild struct {
	buildParams
	streamSet bool
}

func orStream(p *gateBuild, stream string) string {
	if p.streamSet || stream == "" {
		return p.stream
	}
	return "stream " + stream + " OS"
}

// gateBuildCheck builds the target plan's layer (mosc build) and sums the
// build report up as one gate check; the whole report is in its details.
func gateBuildCheck(ctx context.Context, log io.Writer, opts gate.Options, report *gate.Report, p gateBuild) gate.Check {
	c := gate.Check{ID: build.IDGateBuild}
	if opts.Target == nil {
		c.Status, c.Message = gate.Skip, "no target plan to build (see target-profile and stack-support)"
		return c
	}
	baseSet := p.baseImage != ""
	why, cleanup, err := gateBuildBase(opts, report, &p)
	defer cleanup()
	switch {
	case err != nil:
		c.Status, c.Message = gate.Fail, err.Error()
		c.Remedy = "pass --base-image, or --stream naming an OS image tag of the payload"
		return c
	case why != "":
		c.Status, c.Message = gate.Skip, why
		return c
	}
	auth := opts.ReleaseAuth
	if auth == "" {
		auth = "anonymous"
	}
	c.Details = map[string]any{"baseImage": p.baseImage, "extensionsImage": p.extensionsImage, "credentials": auth}
	if !baseSet {
		c.Details["payload"] = report.ReleaseImage
	}
	res, err := render.Render(opts.Target, render.Options{})
	if err != nil {
		c.Status, c.Message = gate.Skip, fmt.Sprintf("the target bundle does not render: %v", err)
		return c
	}
	// Named after the payload's version (--to 4.21 builds 4.21.z's layer).
	p.tag = "localhost/mosc-gate-build:" + report.To
	rep, err := buildPlan(ctx, log, opts.Target, res, p.buildParams, nil)
	if err != nil {
		c.Status, c.Message = gate.Fail, fmt.Sprintf("the target's layer could not be built: %v", err)
		c.Remedy = "run mosc build with the target's --openshift to see the whole log"
		return c
	}
	var buf bytes.Buffer
	_ = build.WriteJSON(&buf, rep)
	var doc map[string]any
	_ = json.Unmarshal(buf.Bytes(), &doc)
	c.Details["build"] = doc
	var failed, warned []string
	for _, ch := range rep.Checks {
		switch ch.Status {
		case gate.Fail:
			failed = append(failed, ch.ID+": "+firstLine(ch.Message))
		case gate.Warn:
			warned = append(warned, ch.ID+": "+firstLine(ch.Message))
		}
	}
	switch {
	case len(failed) > 0:
		c.Status = gate.Fail
		c.Message = fmt.Sprintf("the %s layer on %s:\n%s", opts.Target.OpenShift.Version, rep.BaseImage, strings.Join(failed, "\n"))
		c.Remedy = fmt.Sprintf("mosc build --openshift %s shows the whole build; fix the layer before upgrading", opts.Target.OpenShift.Version)
	case len(warned) > 0:
		c.Status = gate.Warn
		c.Message = fmt.Sprintf("the %s layer builds on %s, with warnings:\n%s", opts.Target.OpenShift.Version, rep.BaseImage, strings.Join(warned, "\n"))
		c.Remedy = fmt.Sprintf("mosc build --openshift %s lists them", opts.Target.OpenShift.Version)
	default:
		c.Status = gate.Pass
		c.Message = fmt.Sprintf("the %s layer builds on %s and passes the inspection (%s)", opts.Target.OpenShift.Version, rep.BaseImage, rep.Verdict())
	}
	return c
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// poolStream reads the pool's spec.osImageStream.name (4.21+, OS streams
// feature; the pinned typed client drops the field, so the dynamic client
// reads it); "" when unset or unreadable — the payload's default stream.
func poolStream(ctx context.Context, clients *cluster.Clients, pool string) string {
	gvr := schema.GroupVersionResource{Group: cluster.MachineConfigGroup, Version: "v1", Resource: "machineconfigpools"}
	u, err := clients.Dynamic.Resource(gvr).Get(ctx, pool, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	name, _, _ := unstructured.NestedString(u.Object, "spec", "osImageStream", "name")
	return name
}
