package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/repo"
)

// Mirrored and disconnected clusters (issue 12 finding 5): the payload and
// its images are read where the cluster's IDMS/ITMS/ICSP rules send the
// nodes (Options.Mirrors, into release.Options), and registries and
// repositories through the cluster Proxy with its CA bundle
// (Options.Network). These helpers word what was read where.

// repoClient is o.Repo (or a default) reading through o.Network.
func repoClient(o Options) *repo.Client {
	c := o.Repo
	if c == nil {
		c = &repo.Client{UserAgent: "mosc"}
	}
	if c.HTTP == nil && o.Network != nil {
		cc := *c
		cc.HTTP = o.Network.HTTPClient()
		c = &cc
	}
	return c
}

// releaseOptions are o.Release with the mirror rules and network.
func releaseOptions(o Options) release.Options {
	ro := o.Release
	if ro.Mirrors == nil {
		ro.Mirrors = o.Mirrors
	}
	if ro.Network == nil {
		ro.Network = o.Network
	}
	return ro
}

// mirrorLine says which mirror repositories answered for which of the
// payload's images ("" when none did).
func mirrorLine(p *release.Payload) string {
	names := map[string]string{p.Ref: "payload"}
	for _, co := range p.CoreOS {
		names[co.Image] = co.Tag
	}
	byRepo := map[string][]string{}
	for _, a := range p.Mirrored() {
		r := repoOf(a.From)
		byRepo[r] = append(byRepo[r], names[a.Ref])
	}
	if len(byRepo) == 0 {
		return ""
	}
	repos := make([]string, 0, len(byRepo))
	for r := range byRepo {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	var parts []string
	for _, r := range repos {
		parts = append(parts, fmt.Sprintf("%s (%s)", r, strings.Join(byRepo[r], ", ")))
	}
	return "read from mirror " + strings.Join(parts, "; mirror ")
}

// repoOf strips the tag or digest.
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i]
	}
	return ref
}

// mirrorDetails describes the rules and network for a check's details.
func mirrorDetails(o Options, c *Check) {
	if c.Details == nil {
		c.Details = map[string]any{}
	}
	if n := len(o.Mirrors.Rules()); n > 0 {
		c.Details["mirrorRules"] = n
		if o.MirrorSource != "" {
			c.Details["mirrorSource"] = o.MirrorSource
		}
	}
	if d := o.Network.Describe(); d != "" {
		c.Details["network"] = d
	}
}

// mirrorRemedy adds, to a failed read's remedy, what a disconnected cluster
// needs.
func mirrorRemedy(o Options) string {
	if o.Mirrors.Empty() {
		return "; a disconnected cluster reads the payload through an ImageDigestMirrorSet naming its mirror (oc get imagedigestmirrorset; without a cluster pass them with --mirror-config)"
	}
	return fmt.Sprintf("; check that the mirrors of the %d rule(s) from %s hold the payload's images (oc adm release mirror / oc-mirror)", len(o.Mirrors.Rules()), o.MirrorSource)
}
