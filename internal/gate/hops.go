package gate

import (
	"context"
	"fmt"
	"strings"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
)

// IDUpgradePath: a two-hop upgrade (EUS-to-EUS), what each hop does to the
// layered pool, and what a failed build at a hop blocks. Only in runs with
// an intermediate release (--via, or an EUS-to-EUS --to).
const IDUpgradePath = "upgrade-path"

// Hop is the intermediate release of a two-hop upgrade: for EUS-to-EUS
// 4.18 → 4.20, the 4.19 the control plane passes through.
type Hop struct {
	// Version as given: "4.19" (the newest 4.19.z ClusterVersion offers)
	// or "4.19.15".
	Version string
	// ReleaseImage is its payload (--via-release-image); "" takes
	// ClusterVersion's offer, else the tag of a full Version.
	ReleaseImage string
	// Plan is the site's plan at the hop (nil with PlanErr).
	Plan    *profile.Plan
	PlanErr error
}

// EUSPath returns the intermediate minor of an EUS-to-EUS update: both
// releases even minors (EUS releases) of one major, two apart. The
// documented procedure (openshift-docs, modules/updating-eus-to-eus-upgrade-cli.adoc,
// "EUS-to-EUS update using the CLI") changes to channel eus-<4.y+2>,
// pauses every worker pool, takes the control plane to 4.y+1 and then to
// 4.y+2 (oc adm upgrade each), and unpauses the pools.
func EUSPath(current, target string) (via string, ok bool) {
	c, errC := parseVersion(current)
	t, errT := parseVersion(target)
	if errC != nil || errT != nil || c[0] != t[0] || c[1]%2 != 0 || t[1] != c[1]+2 {
		return "", false
	}
	return fmt.Sprintf("%d.%d", c[0], c[1]+1), true
}

// ValidateVia checks that via lies strictly between current and target,
// one minor after current and one before target.
func ValidateVia(current, via, target string) error {
	c, errC := parseVersion(current)
	v, errV := parseVersion(via)
	t, errT := parseVersion(target)
	switch {
	case errV != nil:
		return fmt.Errorf("%q is not a release (MAJOR.MINOR[.PATCH], e.g. 4.19 or 4.19.15)", via)
	case errC != nil || errT != nil:
		return fmt.Errorf("cannot compare %s, %s and %s", current, via, target)
	case v[0] != c[0] || v[0] != t[0] || v[1] != c[1]+1 || t[1] != v[1]+1:
		return fmt.Errorf("%s is not the minor between %s and %s: --via names the one release a two-minor upgrade passes through (%s → %d.%d → %s)", via, current, target, current, c[0], c[1]+1, target)
	}
	return nil
}

// hopChecks are the checks gated once per hop (a function, not a
// package-level map: no init code at start-up): what the release, its
// payload and the layer build at it are. The others read the cluster as
// it is now, or the target's repositories, once.
func hopChecks() map[string]bool {
	return map[string]bool{
		IDTargetProfile: true, IDStackSupport: true, IDBundleDiff: true,
		IDReleasePayload: true, IDTargetKernel: true, IDBasePull: true,
		// The layer is built at each hop, on that hop's node image.
		IDInstallResolve: true,
	}
}

// runViaHop gates the first hop (current → via) with the same checks as
// the last: their ids end in "@<via minor>" (release-payload@4.19), so
// tables, JSON and JUnit tell the hops apart. It returns the release and
// plan the last hop starts from.
func runViaHop(ctx context.Context, o Options, r *Report, timed func(func() Check), up *UpgradeState) (string, *profile.Plan) {
	via := o.Via
	ho := o
	ho.TargetVersion, ho.Target, ho.TargetErr, ho.ReleaseImage = via.Version, via.Plan, via.PlanErr, via.ReleaseImage
	label := minorOf(via.Version)
	hop := func(f func() Check) {
		timed(func() Check {
			c := f()
			c.ID += "@" + label
			if c.ID != IDReleasePayload+"@"+label {
				return c
			}
			// release-payload names --to and --release-image; for this
			// hop the flags are --via and --via-release-image.
			for _, s := range []*string{&c.Message, &c.Remedy} {
				*s = strings.ReplaceAll(*s, "--release-image", "--via-release-image")
				*s = strings.ReplaceAll(*s, "--to ", "--via ")
				*s = strings.ReplaceAll(*s, "derived from --to", "derived from --via")
			}
			if src, ok := c.Details["source"].(string); ok {
				src = strings.ReplaceAll(src, "--release-image", "--via-release-image")
				c.Details["source"] = strings.ReplaceAll(src, "--to", "--via")
			}
			return c
		})
	}
	hop(func() Check { return CheckTargetProfile(o.Catalog, o.CurrentVersion, via.Version) })
	hop(func() Check { return CheckStackSupport(o.Catalog, o.Current, via.Version, via.PlanErr) })
	hop(func() Check { return bundleDiffCheck(o.Current, via.Plan, via.PlanErr) })
	hr := &Report{To: via.Version}
	var payload *release.Payload
	hop(func() Check {
		c, p := releasePayloadCheck(ctx, ho, hr, up)
		payload = p
		return c
	})
	r.Via, r.ViaReleaseImage = hr.To, hr.ReleaseImage
	hop(func() Check { return targetKernelCheck(ctx, ho, payload) })
	hop(func() Check { return installResolveCheck(ctx, ho, payload) })
	hop(func() Check {
		switch {
		case o.Offline:
			return Check{ID: IDBasePull, Status: Skip, Message: "--offline: the cluster is not read"}
		case o.Cluster == nil:
			reason := o.ClusterSkip
			if reason == "" {
				reason = "no cluster"
			}
			return Check{ID: IDBasePull, Status: Skip, Message: reason}
		}
		return basePullCheck(ctx, ho, payload)
	})
	if via.Plan != nil {
		return r.Via, via.Plan
	}
	return r.Via, o.Current
}

// viaUpgradeable is cluster-upgradeable for a two-hop upgrade: the
// cluster-version operator takes the hop first (oc adm upgrade --to the
// 4.y+1 release, as the documented EUS-to-EUS procedure does), so the hop
// is what it must accept and offer now. The second hop is asked of the
// cluster at the hop: its Upgradeable, admin-acks (the CVO only counts
// gates of the running minor: pkg/cvo/upgradeable.go) and offers are not
// known before.
func viaUpgradeable(o Options, r *Report, up UpgradeState) Check {
	c := CheckClusterUpgradeable(r.Via, up)
	_, eus := EUSPath(o.CurrentVersion, o.TargetVersion)
	note := fmt.Sprintf("two hops: the cluster-version operator is asked for %s first; %s → %s is asked of the cluster at %s, whose Upgradeable, admin-acks and offers decide it: gate that hop again there (mosc gate --to %s)", r.Via, minorOf(r.Via), r.To, minorOf(r.Via), r.To)
	c.Message += "\n" + note
	if eus {
		ch := "eus-" + minorOf(o.TargetVersion)
		if up.ClusterVersion != nil && up.ClusterVersion.Spec.Channel != ch {
			c.Remedy = strings.TrimPrefix(c.Remedy+"; ", "; ") + fmt.Sprintf("EUS-to-EUS: oc adm upgrade channel %s offers %s.z and then %s.z", ch, minorOf(r.Via), minorOf(o.TargetVersion))
		}
	}
	if c.Details == nil {
		c.Details = map[string]any{}
	}
	c.Details["hop"] = r.From + " → " + r.Via
	return c
}

// finishHops labels every per-hop check with its hop, reads pool-health
// for an EUS path (a paused worker pool is the procedure, not a stall) and
// puts upgrade-path first.
func finishHops(o Options, r *Report) {
	_, eus := EUSPath(o.CurrentVersion, o.TargetVersion)
	first, second := r.From+" → "+r.Via, r.Via+" → "+r.To
	perHop := hopChecks()
	for i := range r.Checks {
		c := &r.Checks[i]
		id, _, onHop := strings.Cut(c.ID, "@")
		if !perHop[id] {
			continue
		}
		if c.Details == nil {
			c.Details = map[string]any{}
		}
		if onHop {
			c.Details["hop"] = first
		} else {
			c.Details["hop"] = second
		}
		if id == IDTargetProfile && !onHop {
			c.Details["current"] = r.Via
		}
	}
	if eus {
		for i := range r.Checks {
			if r.Checks[i].ID == IDPoolHealth {
				eusPoolHealth(o, r, &r.Checks[i])
			}
		}
	}
	r.Checks = append([]Check{upgradePathCheck(o, r, eus)}, r.Checks...)
	r.Summary = Summary{}
	for _, c := range r.Checks {
		r.Summary.Count(c.Status)
	}
}

// eusPoolHealth: during an EUS-to-EUS update the worker pools are paused
// on purpose; the nodes stay on the current release's layered image until
// the control plane is at the target, then update once. Only the node
// controller reads spec.paused (machine-config-operator, release-4.19 and
// release-4.20, pkg/controller/node/node_controller.go
// syncMachineConfigPool and status.go): rendering and the layered build go
// on at each hop.
func eusPoolHealth(o Options, r *Report, c *Check) {
	paused, _ := c.Details["paused"].(bool)
	switch {
	case c.Status == Warn && paused:
		c.Status = Pass
		c.Details["eus"] = true
		c.Message = fmt.Sprintf("pool %s is paused, as the EUS-to-EUS update %s → %s → %s has it: its nodes stay on %s's layered image while the control plane takes both hops, and take %s's when unpaused (%v/%v machines updated, %v degraded); its layer is built at each hop all the same (see %s)",
			o.Current.Pool, r.From, r.Via, r.To, minorOf(r.From), minorOf(r.To), c.Details["updatedMachineCount"], c.Details["machineCount"], c.Details["degradedMachineCount"], IDUpgradePath)
		c.Remedy = ""
	case c.Status == Pass:
		c.Message += fmt.Sprintf("\nfor the EUS-to-EUS update, pause it before oc adm upgrade (oc patch mcp %s --type merge --patch '{\"spec\":{\"paused\":true}}') and unpause it at %s; unpaused, its nodes roll out %s's layered image and then %s's", o.Current.Pool, minorOf(r.To), minorOf(r.Via), minorOf(r.To))
	}
}

// upgradePathCheck says what the two hops do to the layered pool. At each
// hop the render controller renders the pool's config for the new release
// and the build controller builds its image whether or not the pool is
// paused (neither reads spec.paused: machine-config-operator release-4.19
// and release-4.20, pkg/controller/render, pkg/controller/build). From 4.20
// a failed build sets the pool's ImageBuildDegraded and Degraded
// conditions (release-4.20 pkg/controller/build/reconciler.go
// syncBuildFailureStatus; pkg/controller/node/status.go "NodeDegraded &
// RenderDegraded & BuildDegraded = Degraded"), and the MCO reports
// Upgradeable=False for a Degraded pool (pkg/operator/status.go
// syncUpgradeableStatus), which the cluster-version operator obeys for
// minor updates. Before 4.20 the MCO sets neither on a failed build.
func upgradePathCheck(o Options, r *Report, eus bool) Check {
	pool := o.Current.Pool
	c := Check{ID: IDUpgradePath, Details: map[string]any{
		"eus": eus,
		"hops": []map[string]any{
			{"from": r.From, "to": r.Via, "releaseImage": r.ViaReleaseImage, "checks": "@" + minorOf(r.Via)},
			{"from": r.Via, "to": r.To, "releaseImage": r.ReleaseImage},
		},
	}}
	var lines []string
	if eus {
		c.Status = Pass
		lines = append(lines, fmt.Sprintf("EUS-to-EUS update %s → %s → %s: the control plane takes both hops while the worker pools stay paused; they update once, to %s, when unpaused", r.From, r.Via, r.To, minorOf(r.To)))
	} else {
		c.Status = Warn
		lines = append(lines, fmt.Sprintf("%s → %s → %s is not an EUS-to-EUS path (EUS releases are the even minors): holding worker pools paused through %s is documented between EUS releases only, so every pool rolls out each hop", r.From, r.Via, r.To, minorOf(r.Via)))
		c.Remedy = fmt.Sprintf("upgrade one minor at a time and gate each (mosc gate --to %s, then --to %s from there)", r.Via, r.To)
	}
	lines = append(lines, fmt.Sprintf("the Machine Config Operator builds pool %s's layered image at each hop, paused or not: the checks ending in @%s gate the %s build, the others the %s build", pool, minorOf(r.Via), minorOf(r.Via), minorOf(r.To)))
	if minorAtLeast(r.Via, 4, 20) {
		lines = append(lines, fmt.Sprintf("a failed %s build makes pool %s Degraded (ImageBuildDegraded) and the MCO reports Upgradeable=False: the cluster-version operator refuses the hop to %s until a build succeeds", minorOf(r.Via), pool, minorOf(r.To)))
	} else {
		lines = append(lines, fmt.Sprintf("a failed %s build leaves pool %s's conditions as they were (the %s MCO does not degrade a pool on a failed build) and the %s build replaces it", minorOf(r.Via), pool, minorOf(r.Via), minorOf(r.To)))
		if minorAtLeast(r.To, 4, 20) {
			lines = append(lines, fmt.Sprintf("a failed %s build makes pool %s Degraded (ImageBuildDegraded) and the MCO reports Upgradeable=False, which blocks the next minor update", minorOf(r.To), pool))
		}
	}
	lines = append(lines, "after each hop, mosc gate --after --to <release> reports its build (after-build; after-rollout waits for nodes a paused pool does not update)")
	c.Message = strings.Join(lines, "\n")
	return c
}

// minorAtLeast: version's major.minor is at least major.minor.
func minorAtLeast(version string, major, minor int) bool {
	v, err := parseVersion(version)
	if err != nil {
		return false
	}
	return v[0] > major || (v[0] == major && v[1] >= minor)
}
