package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/urfave/cli/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/watch"
)

// defaultAfterTimeout bounds gate --after when --timeout is not given: an
// upgrade reaches the Machine Config Operator late (runlevel 80), then the
// layer is built and every node of the pool reboots.
const defaultAfterTimeout = 4 * time.Hour

// afterPoll is how often gate --after reads the cluster while it waits for
// the release to reach the pool (and, with --node-checks=false, for the rest).
var afterPoll = 3 * time.Second

// gateAfterOnly are the gate flags that mean nothing with --after.
var gateAfterOnly = []string{"offline", "build", "verify", "release-image", "registry-config", "mirror-config", "base-image", "stream", "min-token-days", "fleet", "parallel", "via", "via-release-image"}

// runGateAfter is mosc gate --after: the other side of the upgrade. PASS
// before an upgrade is a prediction; this waits until the upgrade has
// reached the pool — ClusterVersion desires the target, the MCO's OS
// images are the target's, the pool's rendered config is for it — then
// follows the layered build for the new base image and the rollout with
// the watch machinery, and fails when the build fails, since nothing
// retries it (OCPBUGS-73800: the cluster-version operator may still report
// the upgrade Completed).
func runGateAfter(c *cli.Context) error {
	for _, n := range gateAfterOnly {
		if c.IsSet(n) {
			return failWith(exitError, fmt.Errorf("--%s: not used with --after (it follows an upgrade already started)", n))
		}
	}
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("gate takes no arguments, got %q", c.Args().First()))
	}
	format := c.String("output")
	if format != "table" && format != "json" {
		return failWith(exitError, fmt.Errorf("-o: unknown format %q; known: table, json", format))
	}
	target := c.String("to")
	if target != "" {
		if _, err := profile.MinorVersion(target); err != nil {
			return failWith(exitError, fmt.Errorf("--to: %v", err))
		}
	}
	if c.IsSet("junit") && c.String("junit") == "" {
		return failWith(exitError, errors.New("--junit: must not be empty"))
	}
	timeout := defaultAfterTimeout
	if c.IsSet("timeout") {
		timeout = c.Duration("timeout")
	}
	if timeout <= 0 {
		return failWith(exitError, errors.New("--timeout: must be positive"))
	}
	parent := c.Context
	if parent == nil {
		parent = context.Background()
	}
	sigCtx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, timeout)
	defer cancel()
	start := time.Now()
	errw := c.App.ErrWriter

	access := clusterAccess(c)
	if _, err := access.RESTConfig(); err != nil {
		return failWith(exitError, fmt.Errorf("--after reads the cluster: %v", err))
	}
	clients, err := access.Connect()
	if err != nil {
		return failWith(exitError, err)
	}
	if err := cluster.Reachable(clients); err != nil {
		return failWith(exitError, err)
	}
	cv, err := clients.OpenShift.ConfigV1().ClusterVersions().Get(ctx, "version", metav1.GetOptions{})
	if err != nil {
		return failWith(exitError, fmt.Errorf("reading ClusterVersion version: %w", err))
	}
	// The plan at the release the pool is upgraded to: it says what
	// "working" means on the node.
	planVersion := target
	if planVersion == "" {
		planVersion = cv.Status.Desired.Version
	}
	plan, _, err := resolveSide(c, "", func(o *profile.Overrides) { o.OpenShift = planVersion })
	if err != nil {
		return failWith(exitError, err)
	}
	moscName := plan.MOSC.Name
	if moscName == "" {
		moscName = plan.Pool
	}
	gc := &gate.Cluster{Kube: clients.Kube, MachineConfig: clients.MachineConfig, Config: clients.OpenShift}

	// Phase 1: the release reaches the pool.
	res, err := afterPollUntil(ctx, errw, gc, plan.Pool, moscName, target, gate.AfterResult.ReleaseReached)
	if err != nil {
		return err
	}
	var failure *watch.Failure
	verified := false
	if res.ReleaseReached() && !res.Settled {
		st, werr := afterState(ctx, gc, plan.Pool, moscName)
		if werr != nil {
			return failWith(exitError, werr)
		}
		switch {
		case st.MCP.Spec.Paused || !c.Bool("node-checks"):
			// A paused pool never rolls out: wait for the build only.
			// Without node checks, read the same states the watch reads.
			until := gate.AfterResult.BuildDone
			if !st.MCP.Spec.Paused {
				until = func(r gate.AfterResult) bool { return r.Settled }
			}
			if res, err = afterPollUntil(ctx, errw, gc, plan.Pool, moscName, target, until); err != nil {
				return err
			}
		default:
			// Phase 2: the build for the new base image and the rollout, as
			// mosc watch follows them (build log, cause of a failure and its
			// evidence, each node verified by a check pod).
			fmt.Fprintf(errw, "following pool %s: the build for %s's base image and the rollout (mosc watch)\n", plan.Pool, res.Target)
			view, verr := watch.NewView("plain", errw, errw)
			if verr != nil {
				return failWith(exitError, verr)
			}
			klog.SetLogger(logr.Discard())
			left := time.Until(deadlineOf(ctx))
			w := &watch.Watcher{
				Kube: clients.Kube, MachineConfig: clients.MachineConfig, Dynamic: clients.Dynamic, View: view,
				Opts: watch.Options{
					Pool: plan.Pool, MOSC: moscName, Verify: plan.Verify,
					CheckPodTimeout: c.Duration("node-timeout"),
					Timeout:         left,
					SaveFailure:     saveFailureDir(c, true),
				},
			}
			_, werr = w.Run(ctx)
			var te *watch.TimeoutError
			switch {
			case werr == nil:
				verified = true
			case errors.As(werr, &failure):
			case errors.As(werr, &te):
			case errors.Is(werr, watch.ErrInterrupted):
				if sigCtx.Err() != nil {
					return failWith(exitFailure, errors.New("interrupted; check pods deleted"))
				}
			default:
				return failWith(exitError, werr)
			}
		}
	}

	// The verdict, from a fresh read (a short context: ctx may be spent).
	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	defer rcancel()
	st, err := afterState(rctx, gc, plan.Pool, moscName)
	if err != nil {
		return failWith(exitError, err)
	}
	res = gate.EvaluateAfter(target, st)
	checks := res.Checks(fmt.Sprintf("within --timeout %s", timeout))
	for i := range checks {
		ch := &checks[i]
		switch {
		case ch.ID == gate.IDAfterBuild && ch.Status == gate.Fail && res.MOSB != "":
			// Why it failed, with the remedy for that cause (as mosc watch
			// and mosc status explain it).
			cause := failureCause(failure, res.MOSB)
			evidence := ""
			if cause != nil {
				evidence = failure.Evidence
			} else if dir := saveFailureDir(c, true); dir != nil {
				// The build ended before the watch could follow it (the
				// usual case after the fact): keep its evidence now, as
				// mosc watch would have, before the MCO deletes its pods.
				b := watch.BuildStatus{MOSB: res.MOSB, State: buildStateOf(ch)}
				if ev, err := watch.SaveFailure(rctx, clients.Kube, clients.MachineConfig, dir(res.MOSB), b, moscName, plan.Pool); err != nil {
					fmt.Fprintf(errw, "warning: saving the evidence of MachineOSBuild %s: %v\n", res.MOSB, err)
				} else {
					evidence = ev.Dir
					cl := ev.Cause
					cause = &cl
				}
			}
			if cause == nil {
				cl := watch.ClassifyBuild(rctx, clients.Kube, watch.BuildStatus{MOSB: res.MOSB, State: buildStateOf(ch)}, plan.Pool)
				cause = &cl
			}
			if cause.ID != "" {
				ch.Message += "\n" + cause.String()
				ch.Remedy = cause.Remedy + "; the MCO retries nothing on its own, and mosc gate --after follows the rebuild"
				if ch.Details == nil {
					ch.Details = map[string]any{}
				}
				ch.Details["cause"] = cause.ID
			}
			if evidence != "" {
				ch.Message += "\nevidence saved to " + evidence
				ch.Details["evidence"] = evidence
			}
		case ch.ID == gate.IDAfterRollout && ch.Status == gate.Pass && verified:
			ch.Message += " and verify OVS-DOCA on the node (check pods)"
		case ch.ID == gate.IDAfterRollout && ch.Status == gate.Fail && failure != nil && failure.Phase != watch.PhaseBuild:
			ch.Message += "\n" + failure.Object + ": " + failure.Reason
		}
	}
	report := &gate.Report{From: res.From, To: res.Target, Pool: plan.Pool, Started: start}
	for _, s := range plan.Stacks {
		n := s.Name
		if s.Variant != "" {
			n += ":" + s.Variant
		}
		report.Stacks = append(report.Stacks, n)
	}
	for _, ch := range checks {
		report.Add(ch)
	}
	return writeGateReport(c, report, format)
}

// afterPollUntil reads the cluster every afterPoll until done says so, the
// state settles, or ctx ends; it prints what it waits for when that changes.
func afterPollUntil(ctx context.Context, errw io.Writer, gc *gate.Cluster, pool, mosc, target string, done func(gate.AfterResult) bool) (gate.AfterResult, error) {
	last := ""
	for {
		st, err := afterState(ctx, gc, pool, mosc)
		if err != nil {
			if ctx.Err() != nil {
				return gate.AfterResult{}, nil // the verdict is read afresh
			}
			return gate.AfterResult{}, failWith(exitError, err)
		}
		res := gate.EvaluateAfter(target, st)
		if done(res) || res.Settled {
			return res, nil
		}
		if w := res.Waiting(); w != last {
			fmt.Fprintf(errw, "%s waiting: %s\n", time.Now().UTC().Format("15:04:05"), w)
			last = w
		}
		select {
		case <-ctx.Done():
			return res, nil
		case <-time.After(afterPoll):
		}
	}
}

func afterState(ctx context.Context, gc *gate.Cluster, pool, mosc string) (gate.AfterState, error) {
	return gate.ReadAfterState(ctx, gc, pool, mosc)
}

func deadlineOf(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(defaultAfterTimeout)
	}
	return d
}

// failureCause is the watch's classified cause when it followed that build.
func failureCause(f *watch.Failure, mosb string) *watch.Cause {
	if f == nil || f.Cause == nil || f.Object != "machineosbuild/"+mosb {
		return nil
	}
	return f.Cause
}

func buildStateOf(ch *gate.Check) string {
	if s, ok := ch.Details["state"].(string); ok {
		return s
	}
	return ""
}

// writeGateReport writes the report as gate does (table or JSON, and
// --junit) and fails with exit 1 when a check failed.
func writeGateReport(c *cli.Context, report *gate.Report, format string) error {
	if f := c.String("junit"); f != "" {
		var b bytes.Buffer
		if err := gate.WriteJUnit(&b, report); err != nil {
			return failWith(exitError, err)
		}
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			return failWith(exitError, fmt.Errorf("--junit: %v", err))
		}
	}
	var err error
	if format == "json" {
		err = gate.WriteJSON(c.App.Writer, report)
	} else {
		err = gate.WriteTable(c.App.Writer, report)
	}
	if err != nil {
		return failWith(exitError, err)
	}
	if report.Failed() {
		var failed []string
		for _, ch := range report.Checks {
			if ch.Status == gate.Fail {
				failed = append(failed, ch.ID)
			}
		}
		return failWith(exitFailure, fmt.Errorf("gate failed: %s", strings.Join(failed, ", ")))
	}
	return nil
}
