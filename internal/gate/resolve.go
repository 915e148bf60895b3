package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/render"
	"github.com/mosc-dev/mosc/internal/resolve"
)

// IDInstallResolve: dnf resolves the whole package transaction of the
// target's layer build against the target node image's rpm database and
// every repository of etc-yum-repos-d (issue 12 finding 2).
const IDInstallResolve = "install-resolve"

// resolveTimeout bounds the dnf runs (metadata downloads of every repo).
const resolveTimeout = 10 * time.Minute

// ResolveInput is what CheckInstallResolve reports on.
type ResolveInput struct {
	// Image is the target OS image whose rpm database was read.
	Image string
	Tag   string
	DB    *release.RPMDB
	// DBErr: the database could not be read (registry, network).
	DBErr  error
	Result *resolve.Result
	// RunErr: the resolution could not run (dnf, rpm, the layers).
	RunErr error
}

// installResolveCheck gathers the target OS image's rpm database and the
// target plan's repo files and Containerfile, and runs dnf.
func installResolveCheck(ctx context.Context, o Options, payload *release.Payload) Check {
	c := Check{ID: IDInstallResolve}
	switch {
	case o.Offline:
		c.Status, c.Message = Skip, "--offline: repositories are not read"
		return c
	case o.Target == nil:
		c.Status, c.Message = Skip, "no target plan (see "+IDStackSupport+")"
		return c
	case payload == nil:
		c.Status, c.Message = Skip, "the target payload was not read (see "+IDReleasePayload+"): its node image's packages are unknown"
		return c
	}
	if err := resolve.Tools(); err != nil {
		c.Status = Skip
		c.Message = fmt.Sprintf("%s: dnf cannot resolve the layer's packages on this machine", err)
		c.Remedy = "install dnf and rpm (hack/install-deps.sh; dnf and rpm packages on Debian, Ubuntu, Fedora and RHEL), or build the layer on the target's base image: mosc gate --build"
		return c
	}
	prim, _, ok := payload.Stream(PayloadStream(payload, o.PoolStream))
	if !ok || prim.Image == "" {
		c.Status, c.Message = Fail, "the target payload names no OS image for the pool's stream (see "+IDReleasePayload+")"
		return c
	}
	req, err := ResolveRequest(o.Target)
	if err != nil {
		return CheckInstallResolve(ResolveInput{Image: prim.Image, Tag: prim.Tag, RunErr: err}, o.Target)
	}
	// gate --fleet gates many clusters on one payload and plan: the same
	// node image (by digest) and transaction resolve the same way, so the
	// download and dnf run once per process. Only a result that read the
	// database is shared (another cluster's credentials may read it).
	e := resolveMemo.entry(memoKey(prim.Image, req))
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		c := e.check
		c.Details = copyDetails(c.Details)
		c.Details["memo"] = "resolved once in this run for the same node image and transaction"
		return c
	}
	c = resolveOnce(ctx, o, prim, req)
	if _, readErr := c.Details["dbError"]; !readErr {
		e.check, e.done = c, true
	}
	return c
}

// resolveOnce downloads the rpm database and runs dnf.
func resolveOnce(ctx context.Context, o Options, prim release.CoreOS, req resolve.Request) Check {
	in := ResolveInput{Image: prim.Image, Tag: prim.Tag}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	work, err := os.MkdirTemp("", "mosc-resolve-")
	if err != nil {
		in.RunErr = err
		return CheckInstallResolve(in, o.Target)
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		in.RunErr = err
		return CheckInstallResolve(in, o.Target)
	}
	progress := func(string) {}
	if o.Progress != nil {
		progress = o.Progress
	}
	ro := releaseOptions(o) // with the cluster's mirrors and network (mirrors.go)
	ro.RPMArch = o.Target.Platform.RPMArch
	progress(fmt.Sprintf("%s: reading the rpm database of the target's %s %s (its top layers)", IDInstallResolve, prim.Tag, prim.Image))
	in.DB, in.DBErr = release.FetchRPMDB(ctx, prim.Image, ro, root)
	if in.DBErr != nil {
		c := CheckInstallResolve(in, o.Target)
		c.Details["dbError"] = in.DBErr.Error()
		return c
	}
	req.Root, req.Work, req.DBDir = root, filepath.Join(work, "work"), in.DB.Dir
	// dnf reads the repositories as the build pod does: through the
	// cluster Proxy, trusting the cluster's CA bundle (mirrors.Network).
	req.Env = o.Network.Env()
	ca := filepath.Join(work, "ca-bundle.pem")
	withCA, err := o.Network.WriteCABundle(ca)
	if err != nil {
		in.RunErr = err
		return CheckInstallResolve(in, o.Target)
	}
	if withCA {
		req.CACert = ca
	}
	progress(fmt.Sprintf("%s: read /%s from layer %d of %d (%s); dnf resolves the %s layer's packages", IDInstallResolve, in.DB.Dir, in.DB.Layer+1, in.DB.Layers, mib(in.DB.Read), o.Target.OpenShift.Label()))
	in.Result, in.RunErr = resolve.Run(ctx, req)
	return CheckInstallResolve(in, o.Target)
}

type memoEntry struct {
	mu    sync.Mutex
	done  bool
	check Check
}

type memoMap struct {
	mu sync.Mutex
	m  map[string]*memoEntry
}

var resolveMemo memoMap

func (m *memoMap) entry(key string) *memoEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]*memoEntry{}
	}
	e := m.m[key]
	if e == nil {
		e = &memoEntry{}
		m.m[key] = e
	}
	return e
}

// memoKey is the node image and everything the transaction depends on.
func memoKey(image string, req resolve.Request) string {
	b, _ := json.Marshal(struct {
		Image string
		Req   resolve.Request
	}{image, req})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func copyDetails(d map[string]any) map[string]any {
	out := make(map[string]any, len(d)+1)
	for k, v := range d {
		out[k] = v
	}
	return out
}

// ResolveRequest derives the transaction from the plan: the package steps
// of its rendered Containerfile, the etc-yum-repos-d ConfigMap's files and
// the etc-pki-rpm-gpg keys, as the build pod sees them.
func ResolveRequest(p *profile.Plan) (resolve.Request, error) {
	_, layers, err := render.Containerfile(p)
	if err != nil {
		return resolve.Request{}, fmt.Errorf("the target's Containerfile: %w", err)
	}
	steps, err := resolve.ParseSteps(layers)
	if err != nil {
		return resolve.Request{}, fmt.Errorf("the target's Containerfile: %w", err)
	}
	b, err := renderBundle(p)
	if err != nil {
		return resolve.Request{}, fmt.Errorf("the target's bundle: %w", err)
	}
	req := resolve.Request{Arch: p.Platform.RPMArch, ReleaseVer: p.OpenShift.RHELMajor, Steps: steps,
		RepoFiles: map[string]string{}, GPGKeys: map[string]string{}}
	for _, obj := range b.Objects {
		u := obj.Content
		if u.GetKind() != "ConfigMap" || u.GetName() != "etc-yum-repos-d" {
			continue
		}
		data, _, _ := unstructuredStringMap(u.Object, "data")
		for k, v := range data {
			req.RepoFiles[k] = v
		}
	}
	if len(req.RepoFiles) == 0 {
		return resolve.Request{}, fmt.Errorf("the target's bundle has no etc-yum-repos-d ConfigMap")
	}
	for _, k := range p.GPGKeys {
		req.GPGKeys[k.FileName] = k.Armored
	}
	return req, nil
}

func unstructuredStringMap(obj map[string]any, field string) (map[string]string, bool, error) {
	raw, ok := obj[field].(map[string]any)
	if !ok {
		return nil, false, nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, true, nil
}

// CheckInstallResolve turns a resolution into the check.
func CheckInstallResolve(in ResolveInput, tgt *profile.Plan) Check {
	c := Check{ID: IDInstallResolve}
	rel := ""
	if tgt != nil {
		rel = tgt.OpenShift.Label()
	}
	details := map[string]any{"image": in.Image}
	c.Details = details
	if in.DB != nil {
		details["rpmdb"] = in.DB
	}
	switch {
	case errors.Is(in.DBErr, release.ErrNoRPMDB):
		// Every RHEL CoreOS image has one (rpm-ostree): this one is not a
		// real node image, so nothing can be said, but nothing failed.
		c.Status = Warn
		c.Message = fmt.Sprintf("the target's %s (%s) has no rpm database (/usr/share/rpm): it is not an RHEL CoreOS node image, so the layer's packages cannot be resolved against it", in.Tag, in.Image)
		c.Remedy = "check the payload (--release-image); mosc gate --build builds the layer on it for real"
		return c
	case in.DBErr != nil:
		c.Status = Fail
		c.Message = fmt.Sprintf("could not read the rpm database of the target's %s (%s): %v; this is not a dependency problem, but without it nothing says the layer's packages install on %s", in.Tag, in.Image, in.DBErr, rel)
		c.Remedy = "check registry access to the payload's images (--registry-config, the cluster pull secret, mirrors), as release-payload does; or build the layer for real: mosc gate --build"
		return c
	case in.RunErr != nil:
		c.Status = Fail
		c.Message = fmt.Sprintf("the transaction could not be resolved: %v", in.RunErr)
		c.Remedy = "mosc gate --build builds the layer on the target's base image instead"
		return c
	}
	r := in.Result
	details["releasever"] = r.ReleaseVer
	details["repos"] = r.Repos
	details["command"] = r.Command
	details["installedPackages"] = r.Installed
	details["outcome"] = r.Outcome
	if r.Removed != nil {
		details["removed"] = r.Removed
	}
	if r.Upgrades != nil {
		details["upgrades"] = r.Upgrades
	}
	if r.Replaced != nil {
		details["replaced"] = r.Replaced
	}
	base := fmt.Sprintf("%s's rpm database (%d packages, /%s in layer %d of %d, %s read)", in.Tag, r.Installed, in.DB.Dir, in.DB.Layer+1, in.DB.Layers, mib(in.DB.Read))
	where := "the layer's " + stepSummary(r)
	if r.Step != nil {
		details["failedStep"] = r.Step
		where = fmt.Sprintf("layer %s's %q", r.Step.Layer, r.Step.Command)
	}
	o := r.Outcome
	switch o.Status {
	case resolve.Resolved:
		c.Status = Pass
		c.Message = fmt.Sprintf("dnf resolves %s on %s with repos %s ($basearch %s, $releasever %s): the build installs %d package(s)%s",
			where, base, strings.Join(r.Repos, ", "), tgt.Platform.RPMArch, r.ReleaseVer, o.Installs(), countsText(o))
		// The node image's own packages the layer replaces: a library
		// from another distribution's repo over RHCOS's is worth seeing.
		if ch := o.Changed(); len(ch) > 0 {
			c.Message += "\nreplaces the node image's " + strings.Join(ch, ", ")
		}
	case resolve.Unresolvable:
		c.Status = Fail
		f := o.First()
		if f.Missing != "" {
			c.Message = fmt.Sprintf("dnf cannot resolve %s on %s: nothing provides %s needed by %s", where, base, f.Missing, f.NeededBy)
		} else {
			c.Message = fmt.Sprintf("dnf cannot resolve %s on %s: %s", where, base, f.Text)
		}
		var more []string
		for _, p := range o.Problems {
			if p.Text != f.Text {
				more = append(more, p.Text)
			}
		}
		if len(more) > 0 {
			c.Message += "\n" + strings.Join(more, "\n")
		}
		c.Remedy = resolveRemedy(o, f, rel, in.Tag)
	case resolve.NoMatch:
		c.Status = Fail
		from := "any enabled repository (" + strings.Join(r.Repos, ", ") + ")"
		if o.Repo != "" {
			from = "repo " + o.Repo
		}
		c.Message = fmt.Sprintf("dnf finds no package %s in %s for %s (%s)", strings.Join(o.Unmatched, ", "), from, where, tgt.Platform.RPMArch)
		c.Remedy = "the repository for the target's RHEL and arch does not carry it: check repo-preflight, the stack's repo URL and the site's mirrors"
	case resolve.RepoError:
		c.Status = Fail
		c.Message = fmt.Sprintf("dnf could not read repo %s: %s; this is not a dependency problem, but the transaction is not resolved", o.Repo, o.Detail)
		c.Remedy = "fix access to the repository from here (URL, proxy, credentials: the site's spec.repos.mirrors); the build pod reads the same URL"
	default:
		c.Status = Fail
		c.Message = fmt.Sprintf("dnf failed on %s: %s", where, o.Detail)
		c.Remedy = "see the dnf output in the check's details (-o json); mosc gate --build builds the layer for real"
		details["output"] = r.Output
	}
	return c
}

// mib is a size for messages: "412.3 MiB", "80 KiB".
func mib(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// stepSummary names the transaction: "packages (doca-all, … ; upgrades …)".
func stepSummary(r *resolve.Result) string {
	var parts []string
	if len(r.Removed) > 0 {
		parts = append(parts, "removes "+strings.Join(r.Removed, ", "))
	}
	if len(r.Replaced) > 0 {
		parts = append(parts, "replaces "+strings.Join(r.Replaced, ", "))
	}
	if len(r.Upgrades) > 0 {
		parts = append(parts, "upgrades "+strings.Join(r.Upgrades, ", "))
	}
	s := "package transaction"
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	return s
}

func countsText(o resolve.Outcome) string {
	var parts []string
	for _, k := range []string{"Install", "Upgrade", "Downgrade", "Remove"} {
		if n := o.Counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(k)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// resolveRemedy: what to do about the first unresolvable dependency. A
// package required by name (mlnx-dpdk = 22.11…) that no repository has
// means an incomplete repository (a mirror that missed it), not the base.
func resolveRemedy(o resolve.Outcome, f *resolve.Problem, rel, tag string) string {
	if f.Missing == "" {
		return "the packages conflict at the target: mosc gate --build shows the build's own error; a stack version built for the target's RHEL may be needed"
	}
	for _, p := range o.Problems {
		if p.Missing != "" && packageName.MatchString(p.Missing) {
			return fmt.Sprintf("no enabled repository has %s, which %s requires by name: the repository is incomplete (a mirror that missed packages, or the wrong repository path) — sync the mirror (the site's spec.repos.mirrors) or fix the stack's repository; repo-preflight checks only the top-level packages", p.Missing, p.NeededBy)
		}
	}
	return fmt.Sprintf("%s comes from neither the target's %s nor any enabled repository: %s was built against a library (or version) that OpenShift %s's RHCOS does not ship — use a stack version built for the target's RHEL (mosc profiles list), add a repository that provides it (the site's spec.repos), or stay on the current release; mosc gate --build confirms with the real build",
		f.Missing, tag, f.NeededBy, rel)
}

// packageName matches a dependency on a package by name ("mlnx-dpdk =
// 22.11-1.el9", "rdma-core"), not a soname, symbol version or file.
var packageName = lazyre.New(`^[A-Za-z0-9._+-]+( [<>=]+ \S+)?$`)
