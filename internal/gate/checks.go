package gate

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/diff"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/repo"
)

// The checks below are pure functions of what was gathered, so each is
// table-tested on its own; Run gathers (render, registry, repos, cluster).

// CheckTargetProfile: the catalog has a profile for the target release, and
// current → target is an upgrade OpenShift performs.
func CheckTargetProfile(cat *profile.Catalog, current, target string) Check {
	c := Check{ID: IDTargetProfile, Details: map[string]any{"current": current, "target": target}}
	rel, err := cat.Release(target)
	if err != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("no release profile for OpenShift %s: %s", target, profileMessage(err))
		c.Remedy = "add an OpenShiftRelease profile for the target (mosc profiles show 4.21 for the format) and pass its directory with --profiles, or use a newer mosc"
		return c
	}
	c.Details["profile"] = rel.Metadata.Name
	if src := rel.Source.File; src != "" {
		c.Details["source"] = src
	}
	cur, errC := parseVersion(current)
	tgt, errT := parseVersion(target)
	switch {
	case errC != nil || errT != nil:
		c.Status, c.Message = Fail, fmt.Sprintf("cannot compare versions %q and %q", current, target)
		c.Remedy = "pass versions as MAJOR.MINOR[.PATCH], e.g. --openshift 4.20.15 --to 4.21.11"
	case compareVersions(tgt, cur) < 0:
		c.Status, c.Message = Fail, fmt.Sprintf("OpenShift %s is older than the current %s: OpenShift does not downgrade", target, current)
		c.Remedy = "pass the release you upgrade to with --to"
	case tgt[0] == cur[0] && tgt[1] > cur[1]+1:
		c.Status = Warn
		c.Message = fmt.Sprintf("profile %s (RHEL %s) found; %s → %s skips %d minor release(s): OpenShift upgrades one minor at a time (EUS-to-EUS pauses worker pools)", rel.Metadata.Name, rel.Spec.RHEL, current, target, tgt[1]-cur[1]-1)
		c.Remedy = fmt.Sprintf("gate every hop: --via %d.%d gates both in one run (as an EUS-to-EUS --to does), or --to %d.%d first", cur[0], cur[1]+1, cur[0], cur[1]+1)
	default:
		c.Status = Pass
		c.Message = fmt.Sprintf("profile %s found: RHEL %s, kernel %s, MachineOSConfig %s", rel.Metadata.Name, rel.Spec.RHEL, rel.Spec.KernelFamily, shortAPI(rel.Spec.OCL.APIVersion))
	}
	return c
}

// profileMessage drops the location prefix of catalog errors (flags only).
func profileMessage(err error) string {
	if pe, ok := err.(*profile.Error); ok {
		return pe.Message
	}
	return err.Error()
}

func parseVersion(v string) ([3]int, error) {
	var out [3]int
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return out, fmt.Errorf("bad version %q", v)
	}
	for i, p := range parts {
		if i == 2 {
			p, _, _ = strings.Cut(p, "-") // 4.22.0-ec.3
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, fmt.Errorf("bad version %q", v)
		}
		out[i] = n
	}
	if len(parts) == 2 {
		out[2] = -1 // a minor alone compares equal to any of its patches
	}
	return out, nil
}

func compareVersions(a, b [3]int) int {
	for i := 0; i < 3; i++ {
		if i == 2 && (a[2] < 0 || b[2] < 0) {
			return 0
		}
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func shortAPI(apiVersion string) string {
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		return apiVersion[i+1:]
	}
	return apiVersion
}

// CheckStackSupport: every stack of the current plan supports the target
// release, its RHEL base (the per-minor repository exists for DOCA <= 3.1,
// the RHEL major matches the platform for DOCA >= 3.2) and the platform.
// resolveErr is the target plan's resolution error, reported when the
// stack checks do not already explain it.
func CheckStackSupport(cat *profile.Catalog, current *profile.Plan, target string, resolveErr error) Check {
	c := Check{ID: IDStackSupport}
	rel, err := cat.Release(target)
	if err != nil {
		c.Status, c.Message = Skip, "no target release profile (see "+IDTargetProfile+")"
		return c
	}
	var lines, bad []string
	var details []map[string]any
	for _, si := range current.Stacks {
		st, err := cat.Stack(si.Name)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s", si.Name, profileMessage(err)))
			continue
		}
		sp := st.Spec
		d := map[string]any{"stack": si.Name, "release": rel.Metadata.Name, "rhel": rel.Spec.RHEL}
		var why []string
		if !contains(sp.Support.Releases, rel.Metadata.Name) {
			why = append(why, fmt.Sprintf("does not support OpenShift %s (supported: %s)", rel.Metadata.Name, strings.Join(sp.Support.Releases, ", ")))
		}
		if !contains(sp.Support.Platforms, current.Platform.Name) {
			why = append(why, fmt.Sprintf("does not support platform %s", current.Platform.Name))
		}
		rhelMajor, _, _ := strings.Cut(rel.Spec.RHEL, ".")
		distro := ""
		switch sp.Repo.Distro {
		case profile.DistroMinor:
			distro = "rhel" + rel.Spec.RHEL
			if !contains(sp.Repo.RHELMinors, rel.Spec.RHEL) {
				why = append(why, fmt.Sprintf("publishes repositories for RHEL %s only, the target is RHEL %s", strings.Join(sp.Repo.RHELMinors, ", "), rel.Spec.RHEL))
			}
		default:
			distro = "rhel" + rhelMajor
		}
		if p, err := cat.Platform(current.Platform.Name); err == nil && p.Spec.RHELMajor != rhelMajor {
			why = append(why, fmt.Sprintf("platform %s is RHEL %s, the target is RHEL %s", p.Metadata.Name, p.Spec.RHELMajor, rel.Spec.RHEL))
		}
		d["repoDistro"] = distro
		d["supported"] = len(why) == 0
		details = append(details, d)
		if len(why) > 0 {
			bad = append(bad, si.Name+" "+strings.Join(why, "; "))
			continue
		}
		lines = append(lines, fmt.Sprintf("%s supports OpenShift %s (RHEL %s, repo %s/%s)", si.Name, rel.Metadata.Name, rel.Spec.RHEL, distro, current.Platform.DocaArch))
	}
	c.Details = map[string]any{"stacks": details}
	switch {
	case len(bad) > 0:
		c.Status, c.Message = Fail, strings.Join(bad, "\n")
		c.Remedy = "pick a stack that supports the target (mosc profiles list shows the matrix), e.g. --stack with a newer DOCA, and gate again"
	case resolveErr != nil:
		c.Status, c.Message = Fail, "the plan does not resolve at the target: "+resolveErr.Error()
		c.Remedy = "fix the site file or flags for the target release (mosc render --openshift " + rel.Metadata.Name + " shows the same error)"
	default:
		c.Status, c.Message = Pass, strings.Join(lines, "\n")
	}
	return c
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// CheckBundleDiff: what changes in the rendered bundle at the target and
// whether it forces a rebuild beyond the one the new base image causes.
func CheckBundleDiff(cur, tgt *profile.Plan, curB, tgtB *bundle.Bundle, renderErr error) Check {
	c := Check{ID: IDBundleDiff}
	if tgt == nil {
		c.Status, c.Message = Skip, "no target plan (see "+IDStackSupport+")"
		return c
	}
	if renderErr != nil {
		c.Status, c.Message = Fail, "the bundle does not render at the target: "+renderErr.Error()
		c.Remedy = "mosc render --openshift " + tgt.OpenShift.Version + " shows the problem; adjust the site or stack"
		return c
	}
	res := diff.Bundles(curB, tgtB)
	var notes []string
	details := map[string]any{"summary": res.Summary}
	note := func(key, what, from, to string) {
		if from != to {
			notes = append(notes, fmt.Sprintf("%s: %s → %s", what, from, to))
			details[key] = map[string]string{"from": from, "to": to}
		}
	}
	note("rhel", "RHEL", cur.OpenShift.RHEL, tgt.OpenShift.RHEL)
	note("kernelFamily", "kernel family", cur.OpenShift.KernelFamily, tgt.OpenShift.KernelFamily)
	note("stockOVS", "stock openvswitch package", strings.Join(cur.OpenShift.StockOVS, ","), strings.Join(tgt.OpenShift.StockOVS, ","))
	note("lintCommand", "lint command", cur.OpenShift.LintCommand, tgt.OpenShift.LintCommand)
	note("moscAPIVersion", "MachineOSConfig API", cur.OpenShift.MOSCAPIVersion, tgt.OpenShift.MOSCAPIVersion)
	note("imageBuilderType", "image builder", cur.OpenShift.ImageBuilderType, tgt.OpenShift.ImageBuilderType)
	reasons := res.RebuildReasons()
	if reasons == nil {
		reasons = []string{} // JSON: always a list
	}
	details["rebuild"] = len(reasons) > 0
	details["rebuildReasons"] = reasons
	changes := []map[string]any{}
	var objLines []string
	for _, o := range res.Objects {
		paths := []string{}
		for _, f := range o.Fields {
			paths = append(paths, f.Path)
		}
		ch := map[string]any{"change": o.Change, "apiVersion": o.APIVersion, "kind": o.Kind, "name": o.Name, "fields": paths}
		if o.Namespace != "" {
			ch["namespace"] = o.Namespace
		}
		changes = append(changes, ch)
		line := fmt.Sprintf("%s %s %s", o.Change, o.Kind, o.Name)
		if len(paths) > 0 && o.Change == diff.Changed {
			line += ": " + strings.Join(uniq(paths), ", ")
		}
		objLines = append(objLines, line)
	}
	details["objects"] = changes

	var msg []string
	if res.Empty() {
		msg = append(msg, fmt.Sprintf("the bundle is the same at %s (%d objects)", tgt.OpenShift.Version, res.Summary.Unchanged))
	} else {
		s := res.Summary
		msg = append(msg, fmt.Sprintf("%d object(s) change at %s: %d changed, %d added, %d removed", s.Changed+s.Added+s.Removed, tgt.OpenShift.Version, s.Changed, s.Added, s.Removed))
		msg = append(msg, objLines...)
	}
	msg = append(msg, notes...)
	if len(reasons) > 0 {
		msg = append(msg, "forces a rebuild: "+strings.Join(reasons, "; "))
	} else {
		msg = append(msg, "no bundle change forces a rebuild (the new release's base image still triggers one build)")
	}
	c.Message = strings.Join(msg, "\n")
	c.Details = details
	switch {
	case cur.OpenShift.MOSCAPIVersion != tgt.OpenShift.MOSCAPIVersion && strings.HasSuffix(cur.OpenShift.OCLSupport, "NoUpgrade"):
		// The feature set OCL needs there can never be unset and blocks every
		// minor upgrade (openshift/api config/v1 types_feature.go): removing
		// the layer first changes nothing.
		c.Status = Fail
		c.Remedy = fmt.Sprintf("OCL on %s needs the %s feature set, which can never be unset and blocks minor upgrades: this cluster cannot reach %s, with or without the layer (cluster-upgradeable reads the live feature set). Install a new cluster at %s and apply the %s bundle there (mosc apply --openshift %s)",
			cur.OpenShift.Version, cur.OpenShift.OCLSupport, tgt.OpenShift.Version, gaRelease(tgt), shortAPI(tgt.OpenShift.MOSCAPIVersion), tgt.OpenShift.Version)
	case cur.OpenShift.MOSCAPIVersion != tgt.OpenShift.MOSCAPIVersion:
		c.Status = Fail
		c.Remedy = fmt.Sprintf("the MachineOSConfig API changes (%s → %s) and OCL on %s is %s: remove the layer (mosc remove) before the upgrade and apply the %s bundle after it (mosc apply --openshift %s)",
			shortAPI(cur.OpenShift.MOSCAPIVersion), shortAPI(tgt.OpenShift.MOSCAPIVersion), cur.OpenShift.Version, cur.OpenShift.OCLSupport, shortAPI(tgt.OpenShift.MOSCAPIVersion), tgt.OpenShift.Version)
	case metadataOnly(res):
		// mosc's own annotations (mosc.dev/openshift, ...) do not change
		// what is built or how nodes run: nothing to act on before upgrading.
		c.Status = Pass
		c.Message += fmt.Sprintf("\nonly metadata changes: re-apply when convenient (mosc apply --openshift %s)", tgt.OpenShift.Version)
	case !res.Empty():
		c.Status = Warn
		c.Remedy = fmt.Sprintf("review with mosc diff --openshift %s --to %s, and apply the target bundle as the upgrade starts (mosc apply --openshift %s)", cur.OpenShift.Version, tgt.OpenShift.Version, tgt.OpenShift.Version)
	default:
		c.Status = Pass
	}
	return c
}

// metadataOnly says whether every difference is in objects' metadata.
// gaRelease names where to install instead: the target when OCL is GA
// there, else 4.18.20+, where it became GA (FACTS.md §1).
func gaRelease(p *profile.Plan) string {
	if p.OpenShift.OCLSupport == "GA" {
		return p.OpenShift.Label()
	}
	return "4.18.20 or later (OCL GA)"
}

func metadataOnly(res *diff.Result) bool {
	if res.Empty() {
		return false
	}
	for _, o := range res.Objects {
		if o.Change != diff.Changed || o.FromAPIVersion != "" {
			return false
		}
		for _, f := range o.Fields {
			if !strings.HasPrefix(f.Path, "metadata.") {
				return false
			}
		}
	}
	return true
}

func uniq(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// CheckReleasePayload compares the target payload's RHEL CoreOS with the
// target profile.
func CheckReleasePayload(p *release.Payload, err error, tgt *profile.Plan, target string) Check {
	return CheckReleasePayloadStream(p, err, tgt, target, "", "")
}

// PayloadStream is the stream a pool gets from a payload: its
// spec.osImageStream, else the payload's default (4.21+), else "" (the
// rhel-coreos image).
func PayloadStream(p *release.Payload, poolStream string) string {
	if poolStream != "" {
		return poolStream
	}
	return p.DefaultStream()
}

// CheckReleasePayloadStream compares the OS image of the pool's stream
// (4.21+: the image whose io.openshift.os.streamclass is the pool's
// spec.osImageStream, else the default stream; before: rhel-coreos) with
// the target profile. Only OS images' labels are read: the extensions
// image is UBI-based, its labels say nothing about RHEL CoreOS.
func CheckReleasePayloadStream(p *release.Payload, err error, tgt *profile.Plan, target, poolStream, pool string) Check {
	c := Check{ID: IDReleasePayload}
	if err != nil {
		c.Status, c.Message = Fail, err.Error()
		c.Remedy = "pass the payload with --release-image (and --registry-config with a pull secret that can read it), or run with --offline to skip"
		return c
	}
	stream := PayloadStream(p, poolStream)
	prim, _, ok := p.Stream(stream)
	details := map[string]any{"version": p.Version, "coreos": p.CoreOS}
	if stream != "" {
		details["stream"] = stream
		details["streams"] = p.Streams()
	}
	c.Details = details
	if !ok {
		c.Status, c.Message = Fail, fmt.Sprintf("payload %s names no %s image", p.Ref, release.TagRHCOS)
		if stream != "" {
			c.Message = fmt.Sprintf("payload %s has no OS image of stream %s (streams: %s)", p.Ref, stream, strings.Join(p.Streams(), ", "))
		}
		c.Remedy = "check --release-image: it must be an OpenShift release payload"
		if poolStream != "" {
			c.Remedy = fmt.Sprintf("pool %s's spec.osImageStream %s is not in the target release: set it to one it has, or check --release-image", pool, poolStream)
		}
		return c
	}
	if p.Version != "" {
		// A full --to (4.21.11) must be that release, not another z of it.
		tm, terr := profile.MinorVersion(target)
		pm, perr := profile.MinorVersion(p.Version)
		full := strings.Count(target, ".") == 2
		if terr == nil && perr == nil && (pm != tm || full && p.Version != target) {
			c.Status, c.Message = Fail, fmt.Sprintf("payload %s is OpenShift %s, not %s", p.Ref, p.Version, target)
			c.Remedy = "pass the payload of the target release with --release-image"
			return c
		}
	}
	var extra []string
	for _, co := range p.CoreOS {
		if co.Tag != prim.Tag && co.RHEL != "" && !co.IsExtensions {
			extra = append(extra, fmt.Sprintf("%s is RHEL %s", co.Tag, co.RHEL))
		}
	}
	name := release.TagRHCOS
	tail := ""
	switch {
	case stream != "":
		name = fmt.Sprintf("%s (stream %s)", prim.Tag, stream)
		how := "the default stream"
		if poolStream != "" {
			how = fmt.Sprintf("pool %s's spec.osImageStream", pool)
		}
		if len(extra) > 0 {
			tail = " (" + strings.Join(extra, ", ") + "; " + how + " is " + stream + ")"
		}
	case len(extra) > 0:
		tail = " (" + strings.Join(extra, ", ") + "; mosc layers the default stream)"
	}
	switch {
	case prim.RHEL == "":
		c.Status = Warn
		c.Message = fmt.Sprintf("%s image %s has no %s or version label naming its RHEL; labels: %s", name, prim.Image, release.LabelStream, labelList(prim.Labels))
		c.Remedy = "confirm the target's RHEL by hand before upgrading"
	case tgt == nil:
		c.Status = Warn
		c.Message = fmt.Sprintf("payload %s: %s is RHEL %s (%s); no target plan to compare with", p.Version, name, prim.RHEL, prim.OSVersion)
		c.Remedy = "see " + IDStackSupport
	case prim.RHEL != tgt.OpenShift.RHEL:
		c.Status = Fail
		c.Message = fmt.Sprintf("payload %s: %s is RHEL %s (%s=%s), but profile %s says RHEL %s: the layer would be built for the wrong RHEL%s",
			p.Version, name, prim.RHEL, release.LabelStream, prim.Stream, tgt.OpenShift.Version, tgt.OpenShift.RHEL, tail)
		c.Remedy = fmt.Sprintf("correct spec.rhel of the %s release profile (override it with --profiles DIR) and gate again", tgt.OpenShift.Version)
	default:
		c.Status = Pass
		c.Message = fmt.Sprintf("payload %s: %s is RHEL %s (%s), as profile %s says%s", p.Version, name, prim.RHEL, prim.OSVersion, tgt.OpenShift.Version, tail)
	}
	return c
}

func labelList(m map[string]string) string {
	var ks []string
	for k, v := range m {
		ks = append(ks, k+"="+v)
	}
	sort.Strings(ks)
	if len(ks) == 0 {
		return "(none)"
	}
	return strings.Join(ks, ", ")
}

// RepoQuery is one stack's repository preflight.
type RepoQuery struct {
	Stack string
	Query repo.Query
}

// RepoQueries derives, from the target plan, which packages must exist in
// which repository: the variant's packages, the packages verification
// expects (doca-openvswitch), and those layers take from the stack's repo
// (libibverbs, rdma-core). URLs are the plan's, so site mirrors apply.
func RepoQueries(p *profile.Plan) []RepoQuery {
	var out []RepoQuery
	for _, st := range p.Stacks {
		repoID := ""
		for _, f := range p.RepoFiles {
			for _, r := range f.Repos {
				if slices.Contains(p.UnsignedRepos, r.ID) {
					continue // the gpgcheck exception section shares the baseurl
				}
				if strings.TrimRight(r.BaseURL, "/") == strings.TrimRight(st.RepoBaseURL, "/") {
					repoID = r.ID
				}
			}
		}
		var names []string
		names = append(names, st.Packages...)
		names = append(names, p.Verify.PackagesPresent...)
		for _, l := range p.Layers {
			if r, _ := l.Params["repo"].(string); r == "" || r != repoID {
				continue
			}
			names = append(names, stringList(l.Params["packages"])...)
		}
		var reqs []repo.Requirement
		for _, n := range uniq(names) {
			reqs = append(reqs, repo.Requirement{AnyOf: []string{n}})
		}
		out = append(out, RepoQuery{Stack: st.Name, Query: repo.Query{BaseURL: st.RepoBaseURL, Arches: []string{p.Platform.RPMArch}, Requirements: reqs}})
	}
	return out
}

func stringList(v any) []string {
	switch t := v.(type) {
	case []string:
		return t
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// RepoOutcome is the preflight result (or error) of one RepoQuery.
type RepoOutcome struct {
	RepoQuery
	Result *repo.Result
	Err    error
}

// CheckRepoPreflight: every required package exists in the target repos.
func CheckRepoPreflight(outs []RepoOutcome, tgt *profile.Plan) Check {
	c := Check{ID: IDRepoPreflight}
	if tgt == nil {
		c.Status, c.Message = Skip, "no target plan (see "+IDStackSupport+")"
		return c
	}
	var ok, bad []string
	var details []map[string]any
	unreadable := false
	for _, o := range outs {
		d := map[string]any{"stack": o.Stack, "baseURL": o.Query.BaseURL}
		details = append(details, d)
		if o.Err != nil {
			d["error"] = o.Err.Error()
			unreadable = true
			bad = append(bad, fmt.Sprintf("%s: %v", o.Stack, o.Err))
			continue
		}
		d["revision"], d["packages"], d["findings"] = o.Result.Revision, o.Result.Packages, o.Result.Findings
		var found, missing []string
		for _, f := range o.Result.Findings {
			if !f.OK() {
				missing = append(missing, f.Requirement.String())
				continue
			}
			for _, p := range f.Found {
				found = append(found, p.NEVRA())
			}
		}
		if len(missing) > 0 {
			bad = append(bad, fmt.Sprintf("%s: %s has no %s for %s (of %d packages)", o.Stack, o.Query.BaseURL, strings.Join(missing, ", "), strings.Join(o.Query.Arches, ","), o.Result.Packages))
			continue
		}
		ok = append(ok, fmt.Sprintf("%s: %s has %s", o.Stack, o.Query.BaseURL, strings.Join(found, ", ")))
	}
	c.Details = map[string]any{"repos": details}
	if len(bad) > 0 && unreadable {
		c.Status = Fail
		c.Message = strings.Join(append(bad, ok...), "\n")
		c.Remedy = "the repository could not be read: check the URL, the network or proxy, or point spec.repos.mirrors at a reachable mirror (--offline skips this check)"
		return c
	}
	if len(bad) > 0 {
		c.Status = Fail
		c.Message = strings.Join(append(bad, ok...), "\n")
		c.Remedy = fmt.Sprintf("the build at %s would fail installing these packages: pick a stack version whose repository for RHEL %s %s has them, or point spec.repos.mirrors at a mirror that does", tgt.OpenShift.Version, tgt.OpenShift.RHELMajor, tgt.Platform.DocaArch)
		return c
	}
	c.Status, c.Message = Pass, strings.Join(ok, "\n")
	return c
}
