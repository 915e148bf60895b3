package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/urfave/cli/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
)

// Defaults of the watch flags; runWatch uses them when the calling command
// (mosc apply --wait) does not define a flag.
const (
	// defaultWatchTimeout 0: derived from the pool (watch.DeriveTimeout).
	defaultWatchTimeout  = 0
	defaultStallWarning  = 15 * time.Minute
	defaultCheckParallel = 4
)

// watchFlags are the flags of mosc watch beyond the plan and cluster flags;
// mosc apply adds them for --wait.
func watchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "logs", Usage: "stream the build pod's image-build container log (to stderr; above the live view on a terminal)"},
		&cli.BoolFlag{Name: "wait-for-mosc", Usage: "wait for the MachineOSConfig to be created (e.g. by a GitOps sync) instead of failing when it does not exist"},
		&cli.DurationFlag{Name: "timeout", Value: defaultWatchTimeout, Usage: "give up after this long, naming what is stuck (exit 1); 0 (default): derived from the pool, 60m for the build + 30m per wave of maxUnavailable nodes + 15m"},
		&cli.DurationFlag{Name: "stall-warning", Value: defaultStallWarning, Usage: "warn when a phase makes no progress for this long (0: never)"},
		&cli.BoolFlag{Name: "enable-doca-init", Usage: "on a node where other_config:doca-init is not set, set it and restart openvswitch (one node at a time), then check again"},
		&cli.StringFlag{Name: "check-image", Usage: "image of the on-node check pods (default: the cluster's openshift/tools image, else " + node.DefaultImage + ")"},
		&cli.DurationFlag{Name: "check-timeout", Value: node.DefaultPodTimeout, Usage: "how long one check pod may take"},
		&cli.IntFlag{Name: "check-parallel", Value: defaultCheckParallel, Usage: "how many nodes are checked at once (enabling doca-init is always one node at a time)"},
		saveFailureFlag("default ./mosc-failure-<machineosbuild>/; --save-failure= turns it off"),
	}
}

// saveFailureFlag: where a failed build's evidence goes (watch: on by
// default; status: off unless given).
func saveFailureFlag(def string) cli.Flag {
	return &cli.StringFlag{Name: "save-failure", TakesFile: true, Usage: "when the build failed or was interrupted, save to `DIR`, before the MCO deletes it, " +
		"what it left: the MachineOSBuild and MachineOSConfig, every attempt's full build log, the Containerfile and MachineConfig ConfigMaps, " +
		"the Job and Pod statuses and events, and the classified cause (no Secret is read; credentials are redacted); " + def}
}

// saveFailureDir resolves --save-failure for a command whose default is
// on (watch) or off (status).
func saveFailureDir(c *cli.Context, onByDefault bool) func(mosb string) string {
	if !hasFlag(c, "save-failure") {
		if onByDefault {
			return watch.DefaultFailureDir
		}
		return nil
	}
	dir := c.String("save-failure")
	switch {
	case c.IsSet("save-failure") && dir == "":
		return nil
	case dir == "" && onByDefault:
		return watch.DefaultFailureDir
	case dir == "":
		return nil
	}
	return func(string) string { return dir }
}

func outputFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: usage}
}

func watchCommand() *cli.Command {
	flags := append(planFlags(), clusterFlags()...)
	flags = append(flags, watchFlags()...)
	flags = append(flags, outputFlag("live (a redrawn view; default on a terminal), plain (one line per change; default otherwise) or json (one event per line)"))
	return &cli.Command{
		Name:  "watch",
		Usage: "follow the build, the pool rollout and on-node OVS-DOCA checks until every node is verified",
		Description: `watch follows the MachineOSConfig of the pool (the plan's, or --pool alone): the
MachineOSBuild for its current spec (Prepared → Building → Succeeded, with --logs the
build log), the pool's rollout node by node (state, reason, currentImage vs desiredImage
vs the MachineOSConfig's image, MachineConfigNode conditions), and, as each node is
updated, a short-lived privileged pod on it that checks the stack's packages and
ovs-vsctl's Open_vSwitch record (doca_initialized, datapath_types ∋ doca). With
--enable-doca-init a node without other_config:doca-init=true gets it (openvswitch is
restarted, one node at a time) and is checked again. Check pods are always deleted.

It only watches (informers: a dropped watch or an API server restart resumes), never
polls. Ctrl-C stops cleanly.

A failed or interrupted build is explained: its cause (repository unreachable, GPG check,
package not found or conflicting, base image pull denied, push denied, out of disk,
bootc container lint, else the log tail) with a remedy, and what the MCO keeps of it
until the MachineOSBuild is deleted is saved to ./mosc-failure-<machineosbuild>/
(--save-failure DIR elsewhere, --save-failure= not at all).

Exit codes: 0 every node of the pool is updated and verified; 1 the build failed or was
interrupted, a node or the pool is degraded, a node failed its check, --timeout fired,
or interrupted; 2 bad flags, unknown pool, or the cluster is unreachable.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return failWith(exitError, fmt.Errorf("watch takes no arguments, got %q (name the pool with --pool)", c.Args().First()))
			}
			plan, err := watchPlan(c)
			if err != nil {
				return err
			}
			return runWatch(c, plan)
		},
	}
}

// explicitPlanInput says whether the user asked for a profile-based plan (a
// failure to resolve it is then an error, not a reason to fall back to
// --pool alone).
func explicitPlanInput(c *cli.Context) bool {
	for _, f := range []string{"file", "openshift", "platform", "stack", "profiles", "push-spec"} {
		if c.IsSet(f) {
			return true
		}
	}
	return false
}

// watchPlan resolves the plan as apply does; with nothing but --pool (and a
// catalog that cannot resolve for this cluster) it falls back to the pool and
// the default OVS-DOCA checks.
func watchPlan(c *cli.Context) (*profile.Plan, error) {
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	version := ""
	if clients, err := clusterAccess(c).Connect(); err == nil {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		version, _ = cluster.OpenShiftVersion(cctx, clients)
		cancel()
	}
	plan, _, _, err := resolvePlan(c, version)
	if err == nil {
		return plan, nil
	}
	if explicitPlanInput(c) {
		return nil, err
	}
	pool := c.String("pool")
	if pool == "" {
		pool = profile.DefaultPool
	}
	fmt.Fprintf(c.App.ErrWriter, "warning: no plan (%v); watching pool %s with the default checks (package %v present, %v absent, datapath %s, doca_initialized)\n",
		errors.Unwrap(err), pool, node.DefaultVerify.PackagesPresent, node.DefaultVerify.PackagesAbsent, node.DefaultVerify.DatapathType)
	return &profile.Plan{Pool: pool, MOSC: profile.MOSCPlan{Name: pool}, Verify: node.DefaultVerify}, nil
}

// hasFlag says whether the running command defines a flag.
func hasFlag(c *cli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		for _, n := range namesOf(f) {
			if n == name {
				return true
			}
		}
	}
	return false
}

func durationFlag(c *cli.Context, name string, def time.Duration) time.Duration {
	if hasFlag(c, name) {
		return c.Duration(name)
	}
	return def
}

// watchOutput picks the view: -o, else live on a terminal, plain otherwise.
func watchOutput(c *cli.Context) (string, error) {
	mode := ""
	if hasFlag(c, "output") {
		mode = c.String("output")
	}
	switch mode {
	case "":
		if watch.IsTerminal(c.App.Writer) && os.Getenv("TERM") != "dumb" {
			return "live", nil
		}
		return "plain", nil
	case "live", "plain", "json":
		return mode, nil
	}
	return "", failWith(exitError, fmt.Errorf("--output %q: want live, plain or json", mode))
}

// runWatch follows plan's pool until it is updated and verified. mosc apply
// --wait calls it after applying; flags the calling command lacks take their
// defaults.
func runWatch(c *cli.Context, plan *profile.Plan) error {
	mode, err := watchOutput(c)
	if err != nil {
		return err
	}
	timeout := durationFlag(c, "timeout", defaultWatchTimeout)
	stall := durationFlag(c, "stall-warning", defaultStallWarning)
	checkTimeout := durationFlag(c, "check-timeout", node.DefaultPodTimeout)
	if timeout < 0 || stall < 0 || checkTimeout <= 0 {
		return failWith(exitError, errors.New("--timeout and --stall-warning must not be negative, --check-timeout must be positive"))
	}
	parallel := defaultCheckParallel
	if hasFlag(c, "check-parallel") {
		parallel = c.Int("check-parallel")
	}
	if parallel < 1 {
		return failWith(exitError, fmt.Errorf("--check-parallel %d: must be at least 1", parallel))
	}
	verify := plan.Verify
	if len(verify.PackagesPresent) == 0 {
		return failWith(exitError, fmt.Errorf("the plan says nothing about what to check on the node (stack verify.packagesPresent is empty)"))
	}
	clients, err := clusterAccess(c).Connect()
	if err != nil {
		return failWith(exitError, err)
	}
	// client-go reports every dropped watch through klog; the informers
	// re-list on their own, and the view says what matters.
	// (A logger, not SetOutput: errors would still reach stderr through
	// klog's stderrthreshold.)
	klog.SetLogger(logr.Discard())
	view, err := watch.NewView(mode, c.App.Writer, c.App.ErrWriter)
	if err != nil {
		return failWith(exitError, err)
	}
	parent := c.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	moscName := plan.MOSC.Name
	if moscName == "" {
		moscName = plan.Pool
	}
	// Which layering API the cluster serves: v1, or v1alpha1 on 4.16, 4.17
	// and 4.18.0-19 (followed through the dynamic client). A plan from the
	// profiles must agree with it (a site saying "4.18" on a 4.18.15 cluster).
	api, err := watch.LayeringAPI(clients.MachineConfig.Discovery())
	if err != nil {
		return failWith(exitError, err)
	}
	if plan.MOSC.APIVersion != "" {
		cv, _ := cluster.OpenShiftVersion(ctx, clients)
		cat, _ := profile.LoadCatalog(stringSliceFlag(c, "profiles")...)
		if err := checkServed(clients, cat, plan, cv); err != nil {
			return err
		}
		if err := checkPoolStream(ctx, clients, plan); err != nil {
			return err
		}
	}
	logs := hasFlag(c, "logs") && c.Bool("logs")
	// A forbidden LIST would leave an informer retrying forever: ask first,
	// and name every missing right at once (as apply does).
	if err := cluster.CheckPermissions(ctx, clients, watch.Needs(watch.NeedsOptions{
		Pool: plan.Pool, MOSC: moscName, Logs: logs, MCN: watch.ServesMachineConfigNodes(clients.MachineConfig.Discovery()),
	})); errors.As(err, new(*cluster.PermissionError)) {
		// Other errors (unreachable) are reported by the reads that follow.
		return failWith(exitError, err)
	}
	// Without a MachineOSConfig there is nothing to follow (say, after
	// `mosc remove`): fail now rather than at --timeout, hours on.
	if !(hasFlag(c, "wait-for-mosc") && c.Bool("wait-for-mosc")) {
		// Other errors (unreachable, forbidden) are the watcher's to report.
		gvr := schema.GroupVersionResource{Group: cluster.MachineConfigGroup, Version: api, Resource: "machineosconfigs"}
		_, err := clients.Dynamic.Resource(gvr).Get(ctx, moscName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return failWith(exitError, fmt.Errorf("no MachineOSConfig %s: layering is not enabled on pool %s, so there is nothing to watch; "+
				"create it with mosc apply (mosc apply --wait follows it), or pass --wait-for-mosc to wait for one applied by GitOps", moscName, plan.Pool))
		}
	}
	w := &watch.Watcher{
		Kube: clients.Kube, MachineConfig: clients.MachineConfig, Dynamic: clients.Dynamic, View: view,
		Opts: watch.Options{
			Pool: plan.Pool, MOSC: moscName, Verify: verify,
			EnableDocaInit:  hasFlag(c, "enable-doca-init") && c.Bool("enable-doca-init"),
			CheckImage:      stringFlag(c, "check-image"),
			CheckPodTimeout: checkTimeout,
			CheckParallel:   parallel,
			Timeout:         timeout, AutoTimeout: timeout == 0, StallWarning: stall,
			Logs:        logs,
			SaveFailure: saveFailureDir(c, true),
		},
	}
	_, err = w.Run(ctx)
	var f *watch.Failure
	var te *watch.TimeoutError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &f):
		return failWith(exitFailure, fmt.Errorf("rollout of pool %s failed: %w", plan.Pool, err))
	case errors.As(err, &te):
		return failWith(exitFailure, err)
	case errors.As(err, new(*watch.ForbiddenError)):
		return failWith(exitError, err)
	case errors.Is(err, watch.ErrInterrupted):
		return failWith(exitFailure, errors.New("interrupted; check pods deleted"))
	}
	return failWith(exitError, err)
}

func stringFlag(c *cli.Context, name string) string {
	if hasFlag(c, name) {
		return c.String(name)
	}
	return ""
}

func stringSliceFlag(c *cli.Context, name string) []string {
	if hasFlag(c, name) {
		return c.StringSlice(name)
	}
	return nil
}
