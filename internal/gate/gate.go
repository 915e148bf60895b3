package gate

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/mirrors"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/render"
	"github.com/mosc-dev/mosc/internal/repo"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/kube"
)

// DefaultMinTokenDays is --min-token-days' default.
const DefaultMinTokenDays = 14

// Cluster is the live cluster the health checks read.
type Cluster struct {
	Kube          kube.Interface
	MachineConfig kube.MachineConfigInterface
	// Config reads ClusterVersion and FeatureGate (cluster-upgradeable).
	Config kube.ConfigInterface
}

// Options are everything a gate run needs; the command gathers them from
// flags, the site file and the cluster.
type Options struct {
	Catalog *profile.Catalog
	// Current is the plan at the current release; CurrentVersion that
	// release as given (--openshift or the ClusterVersion), e.g. "4.20.15".
	Current        *profile.Plan
	CurrentVersion string
	// Target is the plan resolved at TargetVersion (nil with TargetErr).
	Target        *profile.Plan
	TargetErr     error
	TargetVersion string

	// Offline runs only what needs neither cluster nor network.
	Offline bool
	// ReleaseImage is the payload (--release-image); "" derives it from
	// TargetVersion when that is a full x.y.z version.
	ReleaseImage string
	Release      release.Options
	// ReleaseAuth says where Release's credentials come from, for messages:
	// "--registry-config FILE", "the cluster's pull secret (…)", "anonymous".
	ReleaseAuth string
	Repo        *repo.Client
	// Mirrors are the cluster's IDMS/ITMS/ICSP rules (or --mirror-config's);
	// MirrorSource names where they came from. Network is the cluster Proxy
	// and CA bundle for registry and repository reads (nil: the
	// environment's). See mirrors.go.
	Mirrors      *mirrors.Set
	MirrorSource string
	Network      *mirrors.Network

	// Cluster is nil when no cluster is reachable; ClusterSkip says why.
	Cluster     *Cluster
	ClusterSkip string
	// NodeChecker, when set, verifies each node of the pool with a check pod.
	NodeChecker *node.Checker
	// Verify adds the verify check (mosc verify's quick part; verify.go).
	Verify bool
	// Via is the intermediate release of a two-hop upgrade (EUS-to-EUS,
	// hops.go); nil: one hop, current to target.
	Via *Hop
	// PoolStream is the pool's spec.osImageStream.name (4.21+, OS streams);
	// "" = the payload's default stream.
	PoolStream string
	// Progress, when set, is told what a long-running check is doing
	// (install-resolve's downloads and dnf run); mosc gate prints it on
	// stderr.
	Progress func(string)
	// MinTokenDays: warn when the push token expires sooner.
	MinTokenDays int
	Now          func() time.Time
}

// Run performs every check and returns the report. It does not fail:
// problems are checks with status fail.
func Run(ctx context.Context, o Options) *Report {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	r := &Report{From: o.CurrentVersion, To: o.TargetVersion, Pool: o.Current.Pool, Started: now()}
	for _, s := range o.Current.Stacks {
		name := s.Name
		if s.Variant != "" {
			name += ":" + s.Variant
		}
		r.Stacks = append(r.Stacks, name)
	}
	timed := func(f func() Check) {
		start := time.Now()
		c := f()
		c.Duration = time.Since(start)
		r.Add(c)
	}

	// The cluster's view of the upgrade, read once: it also names the
	// target's payload by digest.
	var up *UpgradeState
	if !o.Offline && o.Cluster != nil {
		st := ReadUpgradeState(ctx, o.Cluster)
		up = &st
	}

	// A two-hop upgrade gates its first hop first (hops.go); the checks
	// below are then the last hop's, from the intermediate release.
	from, fromPlan := o.CurrentVersion, o.Current
	if o.Via != nil {
		from, fromPlan = runViaHop(ctx, o, r, timed, up)
	}
	timed(func() Check { return CheckTargetProfile(o.Catalog, from, o.TargetVersion) })
	timed(func() Check { return CheckStackSupport(o.Catalog, o.Current, o.TargetVersion, o.TargetErr) })
	timed(func() Check { return bundleDiffCheck(fromPlan, o.Target, o.TargetErr) })

	// Network checks.
	var payload *release.Payload
	timed(func() Check {
		c, p := releasePayloadCheck(ctx, o, r, up)
		payload = p
		return c
	})
	if payload != nil {
		r.Payload, r.Stream = payload, PayloadStream(payload, o.PoolStream)
	}
	timed(func() Check { return targetKernelCheck(ctx, o, payload) })
	timed(func() Check {
		if o.Offline {
			return Check{ID: IDRepoPreflight, Status: Skip, Message: "--offline: repositories are not read"}
		}
		if o.Target == nil {
			return CheckRepoPreflight(nil, nil)
		}
		client := repoClient(o)
		var outs []RepoOutcome
		for _, q := range RepoQueries(o.Target) {
			res, err := client.Check(ctx, q.Query)
			outs = append(outs, RepoOutcome{RepoQuery: q, Result: res, Err: err})
		}
		return CheckRepoPreflight(outs, o.Target)
	})
	timed(func() Check { return repoSignaturesCheck(ctx, o) })
	timed(func() Check { return installResolveCheck(ctx, o, payload) })

	// Cluster checks.
	skipAll := func(reason string) {
		for _, id := range []string{IDClusterUpgradeable, IDBasePull, IDPoolHealth, IDPoolMachineConfigs, IDLastBuild, IDNodes, IDPushToken} {
			r.Add(Check{ID: id, Status: Skip, Message: reason})
		}
	}
	switch {
	case o.Offline:
		skipAll("--offline: the cluster is not read")
	case o.Cluster == nil:
		reason := o.ClusterSkip
		if reason == "" {
			reason = "no cluster"
		}
		skipAll(reason)
	default:
		timed(func() Check {
			if o.Via != nil {
				return viaUpgradeable(o, r, *up) // hops.go: the CVO's next step is the hop
			}
			return CheckClusterUpgradeable(o.TargetVersion, *up)
		})
		timed(func() Check { return basePullCheck(ctx, o, payload) })
		runLive(ctx, o, r, timed, now)
	}
	addVerifyCheck(ctx, o, r, timed)
	if o.Via != nil {
		finishHops(o, r)
	}
	return r
}

// bundleDiffCheck renders both plans and compares them.
func bundleDiffCheck(from, to *profile.Plan, toErr error) Check {
	if to == nil {
		return CheckBundleDiff(from, nil, nil, nil, nil)
	}
	curB, err := renderBundle(from)
	if err != nil {
		return CheckBundleDiff(from, to, nil, nil, fmt.Errorf("at the current release %s: %w", from.OpenShift.Version, err))
	}
	tgtB, err := renderBundle(to)
	return CheckBundleDiff(from, to, curB, tgtB, err)
}

// releasePayloadCheck reads the target's payload: --release-image, else the
// digest ClusterVersion offers for the target (availableUpdates, then
// conditionalUpdates), else the tag derived from a full --to. A payload that
// cannot be named or read fails the check: only --offline skips it.
func releasePayloadCheck(ctx context.Context, o Options, r *Report, up *UpgradeState) (Check, *release.Payload) {
	if o.Offline {
		return Check{ID: IDReleasePayload, Status: Skip, Message: "--offline: the release payload is not read"}, nil
	}
	target := o.TargetVersion
	ref, source := o.ReleaseImage, "--release-image"
	if ref == "" && up != nil && up.ClusterVersion != nil {
		if offer, ok := ResolveTarget(up.ClusterVersion, target); ok {
			ref = offer.Image
			source = "ClusterVersion availableUpdates"
			if offer.Conditional {
				source = "ClusterVersion conditionalUpdates"
			}
			if offer.Version != target {
				source += fmt.Sprintf("; --to %s resolved to %s, the newest offered", target, offer.Version)
				r.To = offer.Version
			}
			target = offer.Version
		}
	}
	if ref == "" {
		arch := o.Current.Platform.RPMArch
		d, err := release.DefaultImage(target, arch)
		if err != nil {
			why := "no cluster offers it"
			if up != nil {
				why = "the cluster's ClusterVersion offers no " + target + " update"
			}
			return Check{ID: IDReleasePayload, Status: Fail,
				Message: fmt.Sprintf("--to %s names no patch level, no --release-image was given and %s: the target's payload cannot be read, so its RHEL CoreOS is unknown", target, why),
				Remedy:  "pass --to with the patch level (e.g. 4.21.11) or --release-image; --offline skips the payload and cluster checks"}, nil
		}
		ref, source = d, "derived from --to"
		if up != nil {
			source += " (the cluster does not offer it)"
		}
	}
	r.ReleaseImage = ref
	ro := releaseOptions(o)
	if ro.RPMArch == "" {
		ro.RPMArch = o.Current.Platform.RPMArch
	}
	p, err := release.Inspect(ctx, ref, ro)
	c := CheckReleasePayloadStream(p, err, o.Target, target, o.PoolStream, o.Current.Pool)
	auth := o.ReleaseAuth
	if auth == "" {
		auth = "anonymous"
	}
	if c.Details == nil {
		c.Details = map[string]any{}
	}
	c.Details["ref"], c.Details["source"], c.Details["credentials"] = ref, source, auth
	mirrorDetails(o, &c)
	if err != nil {
		c.Message += fmt.Sprintf("\n(payload from %s, credentials: %s)", source, auth)
		c.Remedy += mirrorRemedy(o)
	} else if source != "--release-image" {
		c.Message += fmt.Sprintf("\npayload %s (from %s)", ref, source)
	}
	if err == nil {
		c.Details["from"], c.Details["answers"] = p.From, p.Answers
		if l := mirrorLine(p); l != "" {
			c.Message += "\n" + l
		}
	}
	if err != nil {
		p = nil
	}
	return c, p
}

func renderBundle(p *profile.Plan) (*bundle.Bundle, error) {
	res, err := render.Render(p, render.Options{})
	if err != nil {
		return nil, err
	}
	return res.Bundle, nil
}

func runLive(ctx context.Context, o Options, r *Report, timed func(func() Check), now func() time.Time) {
	pool := o.Current.Pool
	mc := o.Cluster.MachineConfig.MachineconfigurationV1()
	var mcp *mcfgv1.MachineConfigPool
	timed(func() Check {
		var err error
		mcp, err = mc.MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
		if err != nil {
			mcp = nil
		}
		return CheckPoolHealth(pool, mcp, err)
	})
	timed(func() Check {
		c := Check{ID: IDPoolMachineConfigs}
		plan := o.Target
		if plan == nil {
			plan = o.Current
		}
		list, err := mc.MachineConfigs().List(ctx, metav1.ListOptions{LabelSelector: "machineconfiguration.openshift.io/role=" + pool})
		if err != nil {
			c.Status, c.Message, c.Remedy = Fail, fmt.Sprintf("listing the MachineConfigs of pool %s: %v", pool, err), "check cluster access (list machineconfigs)"
			return c
		}
		var mcs []profile.PoolMachineConfig
		for _, m := range list.Items {
			if m.Labels[profile.LabelManagedBy] == profile.LabelManagedByValue {
				continue // mosc's own: the plan says what it needs
			}
			mcs = append(mcs, profile.PoolMachineConfig{Name: m.Name, KernelType: m.Spec.KernelType, Extensions: m.Spec.Extensions})
		}
		if conflicts := profile.PoolConflicts(plan, pool, mcs); len(conflicts) > 0 {
			c.Status, c.Message = Fail, strings.Join(conflicts, "; ")
			c.Remedy = "remove the conflicting MachineConfig from the pool, or choose a target that does not need it"
			return c
		}
		c.Status, c.Message = Pass, fmt.Sprintf("%d MachineConfigs of pool %s: no kernelType or extension the target conflicts with", len(mcs), pool)
		return c
	})

	v1alpha1 := o.Current.OpenShift.MOSCAPIVersion != "" && o.Current.OpenShift.MOSCAPIVersion != mcfgv1.GroupVersion.String()
	var mosc *mcfgv1.MachineOSConfig
	timed(func() Check {
		if v1alpha1 {
			return Check{ID: IDLastBuild, Status: Skip, Message: fmt.Sprintf("OpenShift %s serves MachineOSConfig %s (Tech Preview): builds are not checked", o.Current.OpenShift.Version, shortAPI(o.Current.OpenShift.MOSCAPIVersion))}
		}
		m, err := mc.MachineOSConfigs().Get(ctx, o.Current.MOSC.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return CheckLastBuild(pool, nil, nil, nil)
		}
		if err != nil {
			return CheckLastBuild(pool, nil, err, nil)
		}
		mosc = m
		list, err := mc.MachineOSBuilds().List(ctx, metav1.ListOptions{})
		if err != nil {
			return CheckLastBuild(pool, nil, err, nil)
		}
		return explainLastBuild(ctx, o.Cluster.Kube, CheckLastBuild(pool, m, nil, list.Items), pool)
	})

	timed(func() Check {
		if mcp == nil {
			return CheckNodes(pool, nil, nil, nil, false)
		}
		sel, err := metav1.LabelSelectorAsSelector(mcp.Spec.NodeSelector)
		if err != nil {
			return Check{ID: IDNodes, Status: Fail, Message: fmt.Sprintf("pool %s: bad nodeSelector: %v", pool, err)}
		}
		list, err := o.Cluster.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return Check{ID: IDNodes, Status: Fail, Message: fmt.Sprintf("listing the nodes of pool %s: %v", pool, err), Remedy: "check cluster access"}
		}
		views := make([]NodeView, len(list.Items))
		for i := range list.Items {
			views[i].Node = list.Items[i]
		}
		ran := o.NodeChecker != nil && mosc != nil
		if ran {
			// Bounded parallelism: each check is a privileged pod per node.
			sem := make(chan struct{}, 4)
			var wg sync.WaitGroup
			for i := range views {
				wg.Add(1)
				go func(v *NodeView) {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					v.Outcome, v.CheckErr = o.NodeChecker.CheckNode(ctx, v.Node.Name, o.Current.Verify, false)
				}(&views[i])
			}
			wg.Wait()
		}
		return CheckNodes(pool, mcp, mosc, views, ran)
	})

	timed(func() Check {
		return CheckPushCredential(ctx, o.Cluster, o.Current, now(), o.MinTokenDays) // pushcred.go
	})
}
