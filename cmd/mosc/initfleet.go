package main

import (
	"bytes"
	"fmt"
	"sync"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/profile"
)

// fleetData fills fleetTemplate.
type fleetData struct {
	Name, Platform, Stack, File string
	Releases, Platforms, Stacks string
	// Old and New are the example clusters' releases: two z-streams of the
	// newest release the stack supports, and the one before it.
	Old, New string
}

// fleetTemplate is parsed on first use (mosc init), not at start-up: a
// package-level Parse ran in every mosc process (issue 15).
var fleetTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("fleet.yaml").Parse(`# mosc fleet inventory: many clusters, one file. Each cluster's site is
# spec.defaults, then its group's site template, then the cluster's own fields
# and overrides (later wins; maps merge by key). Every site field is allowed in
# defaults, groups[].spec and clusters[].overrides (docs/profiles.md).
# Render it: mosc render --fleet {{.File}} -o fleet/ [--for argocd|acm]
# Reference: docs/fleet.md.
apiVersion: mosc.dev/v1alpha1
kind: Fleet
metadata:
  # The mosc.dev/site label of clusters whose group names no site. [--site]
  name: {{.Name}}
spec:
  # Site fields for every cluster.
  defaults:
    # Known platforms: {{.Platforms}}. [--platform]
    platform: {{.Platform}}
    # Known stacks: {{.Stacks}}. [--stack]
    stacks:
    - {{.Stack}}
    secrets:
      # GitOps renders: placeholder Secrets that your secret tooling fills in
      # (Argo CD keeps their data out of its diff; ACM only checks they exist).
      mode: placeholder
  # Groups share a site template: a site file (relative to this file; its
  # metadata.name becomes the mosc.dev/site label, else the group name) and/or
  # inline site fields over it, and labels for every cluster of the group.
  groups:
  - name: edge
    # site: sites/edge.yaml
    spec:
      # Single-node clusters layer the control-plane pool.
      pool: master
      registry:
        internal: true
        storageClass: lvms-vg1
    labels:
      mosc.dev/role: edge
  - name: core
    spec:
      pool: worker
      node:
        hugepages:
          defaultSize: 1G
          size: 1G
          count: 16
  # The clusters. name: the Argo CD cluster name / ACM ManagedCluster name (a
  # DNS label). openshift: X.Y or X.Y.Z (known releases: {{.Releases}}).
  # pools: MachineConfigPools to layer (default: the site's pool). labels:
  # for selecting clusters. overrides: site fields for this cluster alone.
  clusters:
  - name: sno-1
    openshift: "{{.New}}"
    group: edge
    labels:
      region: east
  - name: sno-2
    openshift: "{{.Old}}"
    group: edge
    labels:
      region: west
    overrides:
      registry:
        size: 50Gi
  - name: core-1
    openshift: "{{.New}}"
    group: core
    # pools: [worker, dpu-worker]
`))
})

// fleetFileFor renders the commented fleet inventory and checks that it
// decodes and every example cluster resolves.
func fleetFileFor(c *cli.Context, cat *profile.Catalog, o profile.Overrides, file string) ([]byte, error) {
	for _, f := range []string{"openshift", "pool", "push-spec", "storage-class", "registry-size", "secrets", "internal-registry"} {
		if c.IsSet(f) {
			return nil, &profile.Error{Flag: "--" + f, Message: "not with --fleet: each cluster has its own (edit the written file)"}
		}
	}
	if len(o.Stacks) > 1 {
		return nil, &profile.Error{Flag: "--stack", Message: "give one stack with --fleet (edit spec.defaults.stacks for more)"}
	}
	d := fleetData{Name: o.SiteName, Platform: o.Platform, Stack: profile.DefaultStack, File: file}
	if d.Name == "" {
		d.Name = "fleet"
	}
	if d.Platform == "" {
		d.Platform = profile.DefaultPlatform
	}
	if len(o.Stacks) == 1 {
		d.Stack = o.Stacks[0]
	}
	ref := profile.ParseStackRef(d.Stack)
	st, err := cat.Stack(ref.Name)
	if err != nil {
		return nil, &profile.Error{Flag: "--stack", Message: err.(*profile.Error).Message}
	}
	if _, err := cat.Platform(d.Platform); err != nil {
		return nil, &profile.Error{Flag: "--platform", Message: err.(*profile.Error).Message}
	}
	// The examples use the two newest releases the stack supports.
	rels := st.Spec.Support.Releases
	d.New, d.Old = rels[len(rels)-1]+".0", rels[len(rels)-1]+".0"
	if len(rels) > 1 {
		d.Old = rels[len(rels)-2] + ".0"
	}
	d.Releases, d.Platforms, d.Stacks = knownNames(cat)
	var b bytes.Buffer
	if err := fleetTemplate().Execute(&b, d); err != nil {
		return nil, err
	}
	// The example must decode and resolve; a flag value that breaks it (a
	// stack the platform does not support) is the flag's fault.
	f, err := profile.DecodeFleet(file, b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("internal error: the generated fleet file does not decode: %v", err)
	}
	for _, cl := range f.Clusters() {
		for _, s := range cl.Sites {
			if _, err := cat.Resolve(s); err != nil {
				return nil, fmt.Errorf("--platform %s --stack %s: the example clusters do not resolve: %v", d.Platform, d.Stack, err)
			}
		}
	}
	return b.Bytes(), nil
}
