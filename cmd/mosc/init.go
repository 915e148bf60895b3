package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/profile"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a commented site file (mosc.yaml)",
		UsageText: "mosc init [-o FILE] [--force] [--openshift 4.20] [--platform P] [--stack S[:VARIANT]]... [--pool POOL] [--site NAME]\n   mosc init --fleet [-o fleet.yaml] [--platform P] [--stack S[:VARIANT]]... [--site NAME]",
		Description: `Writes a site file with every field explained; commented-out lines show the
options. The flags fill in values; the result is checked against the catalog.
Keep the file in git and pass it with -f to render, validate, apply and gate.

Examples:
  mosc init --openshift 4.20 --pool master
  mosc init -o sites/lab.yaml --platform rhel9-bluefield --stack doca-3.3:ovs
  mosc init -o - | less
  mosc init --fleet                 # a commented fleet inventory (fleet.yaml) for render --fleet

Exit codes: 0 written; 2 bad flags, an unknown release/platform/stack, or the file
exists (use --force).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FILE` to write (- for stdout)", Value: "mosc.yaml", TakesFile: true},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing file"},
			&cli.StringFlag{Name: "openshift", Usage: "OpenShift release to write into spec.openshift (else left for you to fill)"},
			&cli.StringFlag{Name: "platform", Usage: "platform profile (default " + profile.DefaultPlatform + ")"},
			&cli.StringSliceFlag{Name: "stack", Usage: "stack, NAME or NAME:VARIANT, repeatable (default " + profile.DefaultStack + ")"},
			&cli.StringFlag{Name: "pool", Usage: "MachineConfigPool (default: the platform's, else " + profile.DefaultPool + ")"},
			&cli.StringFlag{Name: "site", Usage: "site name (default " + profile.DefaultSiteName + ")"},
			&cli.StringSliceFlag{Name: "profiles", Usage: "directory (or file) of extra profiles, repeatable", TakesFile: true},
			&cli.BoolFlag{Name: "fleet", Usage: "write a fleet inventory (kind Fleet, default fleet.yaml) instead of a site file; --platform and --stack fill spec.defaults, --site names the fleet"},
		},
		Action: runInit,
	}
}

// initData fills siteTemplate.
type initData struct {
	Site, OpenShift, Platform, Pool string
	Stacks                          []profile.StackRef
	Releases, Platforms, Stacks2    string // "known" lists for comments
	PushSpec, RegistrySize          string
	TokenTTL                        string
	File, StackVersion              string
}

// siteTemplate is parsed on first use (mosc init), not at start-up: a
// package-level Parse ran in every mosc process (issue 15).
var siteTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("mosc.yaml").Parse(`# mosc site file: which stacks to layer onto which pool of which cluster.
# Every field can also be set by the flag in [brackets]; flags win over the
# file. Reference: docs/profiles.md. Check it: mosc validate -f {{.File}}
apiVersion: mosc.dev/v1alpha1
kind: Site
metadata:
  # The mosc.dev/site label on every object mosc creates (mosc remove finds
  # exactly those). [--site]
  name: {{.Site}}
spec:
  # OpenShift minor release of the cluster; a z-stream (4.20.15) is accepted
  # and ignored. Known: {{.Releases}}.
  # render and validate need it; apply and gate default to the cluster's. [--openshift]
{{- if .OpenShift}}
  openshift: "{{.OpenShift}}"
{{- else}}
  # openshift: "4.20"
{{- end}}
  # Platform profile. Known: {{.Platforms}}. [--platform]
  platform: {{.Platform}}
  # MachineConfigPool to layer; also the MachineOSConfig name. master is the
  # control plane (single-node OpenShift). [--pool]
  pool: {{.Pool}}
  # Stacks to layer. Known: {{.Stacks2}}. Variants: full (doca-all, as in
  # the walkthrough) or ovs (doca-openvswitch only, NIC drivers from the
  # NVIDIA Network Operator). Short form: - doca-3.3:ovs [--stack, repeatable]
  stacks:
{{- range .Stacks}}
  - name: {{.Name}}
    variant: {{.Variant}}
{{- end}}
    # version: {{.StackVersion}}         # pin a published release of the stack's line
  registry:
    # Enable the internal image registry on a PVC (needs a storage class with
    # a default or storageClass below). [--internal-registry]
    internal: false
    # storageClass: lvms-vg1 # [--storage-class] default: the cluster's default class
    # size: {{.RegistrySize}}            # [--registry-size]
    # Where builds push the layered image: host[:port][/namespace]/name:tag,
    # a tag is required. [--push-spec]
    pushSpec: {{.PushSpec}}
  secrets:
    # none: render writes no Secret objects (apply creates them in the
    # cluster); placeholder: Secrets with empty data for GitOps to fill. [--secrets]
    mode: none
    # pushAuthFile: push-auth.json  # dockerconfigjson for an external registry (apply)
    # The internal registry push credential apply writes: long-lived (the
    # token of Secret mosc-builder-token: it does not expire; deleting the
    # Secret revokes it) or token (a TokenRequest token that expires after
    # tokenTTL; apply renews it when less than half is left). [--push-credential]
    pushCredential: long-lived
    # Lifetime of the token with pushCredential: token. The walkthrough's
    # 900 days would be 21600h. [--token-ttl]
    tokenTTL: {{.TokenTTL}}
  repos:
    # gpgcheck=1 with each repository's key. false is an explicit opt-out
    # that every render warns about.
    gpgCheck: true
    # Mirrors replace a repository's baseurl (disconnected clusters), by repo
    # id: doca, baseos, appstream, crb, epel.
    # mirrors:
    #   doca: https://mirror.example.com/doca/3.3.0/rhel9/x86_64/
    # Keys by repo id: a URL, or an armored key file (relative to this file)
    # that mosc ships to the build in Secret etc-pki-rpm-gpg.
    # gpgKeys:
    #   doca: keys/GPG-KEY-Mellanox.pub
  # Extra packages installed with the stack, e.g. [tcpdump].
  extraPackages: []
  node:
    # other_config:doca-init=true, set by a systemd unit before ovs-vswitchd.
    docaInit: true
    # other_config:hw-offload=true (TC flower / ASAP2); on by default on BlueField.
    # hwOffload: false
    # Hugepages as kernel arguments through a MachineConfig (OVS-DOCA needs
    # hugepages; leave unset if a PerformanceProfile already sets them).
    # hugepages:
    #   defaultSize: 1G
    #   size: 1G
    #   count: 16
    # More Open_vSwitch other_config keys.
    # otherConfig:
    #   hw-offload-ct-size: "0"
`))
})

func runInit(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("init takes no arguments; use -o FILE"))
	}
	o, err := planOverrides(c)
	if err != nil {
		return failWith(exitError, err)
	}
	cat, err := profile.LoadCatalog(o.ProfilesDirs...)
	if err != nil {
		return failWith(exitError, err)
	}
	out := c.String("output")
	if out == "" {
		return failWith(exitError, &profile.Error{Flag: "-o", Message: "must not be empty"})
	}
	fleet := c.Bool("fleet")
	if fleet && !c.IsSet("output") {
		out = "fleet.yaml"
	}
	name := out
	if name == "-" {
		name = map[bool]string{false: "mosc.yaml", true: "fleet.yaml"}[fleet]
	}
	var data []byte
	if fleet {
		data, err = fleetFileFor(c, cat, o, name)
	} else {
		data, err = siteFileFor(cat, o, name)
	}
	if err != nil {
		return failWith(exitError, err)
	}
	if out == "-" {
		_, err := c.App.Writer.Write(data)
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if c.Bool("force") {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(out, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return failWith(exitError, fmt.Errorf("%s already exists; use --force to overwrite it", out))
	}
	if err != nil {
		return failWith(exitError, fmt.Errorf("-o: %w", err))
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return failWith(exitError, fmt.Errorf("-o: %w", err))
	}
	if err := f.Close(); err != nil {
		return failWith(exitError, fmt.Errorf("-o: %w", err))
	}
	if fleet {
		fmt.Fprintf(c.App.ErrWriter, "wrote %s; render it with: mosc render --fleet %s -o fleet/\n", out, out)
		return nil
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s; check it with: mosc validate -f %s\n", out, out)
	return nil
}

// siteFileFor renders the commented site file for the flags and checks
// both the flags (errors name the flag) and that the text decodes back to
// the same values.
func siteFileFor(cat *profile.Catalog, o profile.Overrides, file string) ([]byte, error) {
	// Check the flag values: resolve them when the release is known, else
	// look the names up (a combination cannot be judged without a release).
	check := profile.NewSite()
	check.Override(o)
	if o.OpenShift != "" {
		if _, err := cat.Resolve(check); err != nil {
			return nil, err
		}
	} else {
		var errs profile.ErrorList
		if o.Platform != "" {
			if _, err := cat.Platform(o.Platform); err != nil {
				errs = append(errs, &profile.Error{Flag: "--platform", Message: err.(*profile.Error).Message})
			}
		}
		for _, s := range o.Stacks {
			ref := profile.ParseStackRef(s)
			st, err := cat.Stack(ref.Name)
			if err != nil {
				errs = append(errs, &profile.Error{Flag: "--stack", Message: err.(*profile.Error).Message})
				continue
			}
			if ref.Variant != "" && !hasVariant(st, ref.Variant) {
				errs = append(errs, &profile.Error{Flag: "--stack", Message: fmt.Sprintf("unknown variant %q of stack %s; known: %s", ref.Variant, st.Metadata.Name, strings.Join(variantNames(st), ", "))})
			}
		}
		if err := errs.Err(); err != nil {
			return nil, err
		}
	}

	d := initData{
		Site: o.SiteName, OpenShift: o.OpenShift, Platform: o.Platform, Pool: o.Pool,
		PushSpec: profile.DefaultPushSpec, RegistrySize: profile.DefaultRegistrySize,
		TokenTTL: strings.TrimSuffix(profile.DefaultTokenTTL.String(), "0m0s"),
		File:     file,
	}
	if d.Site == "" {
		d.Site = profile.DefaultSiteName
	}
	if d.OpenShift != "" {
		minor, z, hasZ, err := profile.ParseVersion(d.OpenShift)
		if err != nil {
			return nil, &profile.Error{Flag: "--openshift", Message: err.Error()}
		}
		// Keep the z-stream: 4.18.15 and 4.18.20 are different APIs.
		d.OpenShift = minor
		if hasZ {
			d.OpenShift = fmt.Sprintf("%s.%d", minor, z)
		}
	}
	if d.Platform == "" {
		d.Platform = profile.DefaultPlatform
	}
	if d.Pool == "" {
		d.Pool = profile.DefaultPool
		if p, err := cat.Platform(d.Platform); err == nil && p.Spec.Defaults.Pool != "" {
			d.Pool = p.Spec.Defaults.Pool
		}
	}
	stacks := o.Stacks
	if len(stacks) == 0 {
		stacks = []string{profile.DefaultStack}
	}
	for _, s := range stacks {
		ref := profile.ParseStackRef(s)
		if st, err := cat.Stack(ref.Name); err == nil {
			if ref.Variant == "" {
				ref.Variant = st.Spec.DefaultVariant
			}
			if d.StackVersion == "" {
				d.StackVersion = st.Spec.Version
			}
		}
		d.Stacks = append(d.Stacks, ref)
	}
	d.Releases, d.Platforms, d.Stacks2 = knownNames(cat)

	var b bytes.Buffer
	if err := siteTemplate().Execute(&b, d); err != nil {
		return nil, err
	}
	// The file must read back as what was asked for; anything else is a bug here.
	s, err := profile.DecodeSite("mosc.yaml", b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("internal error: the generated site file does not decode: %v", err)
	}
	if s.Spec.Pool != d.Pool || s.Spec.Platform != d.Platform || len(s.Spec.Stacks) != len(d.Stacks) {
		return nil, fmt.Errorf("internal error: the generated site file does not read back as written")
	}
	return b.Bytes(), nil
}

func hasVariant(st *profile.Stack, v string) bool {
	for _, x := range st.Spec.Variants {
		if x.Name == v {
			return true
		}
	}
	return false
}

func variantNames(st *profile.Stack) []string {
	var out []string
	for _, x := range st.Spec.Variants {
		out = append(out, x.Name)
	}
	return out
}

// knownNames lists the catalog's releases, platforms and stacks for the
// "Known ..." comments of the files init writes (site and fleet).
func knownNames(cat *profile.Catalog) (releases, platforms, stacks string) {
	var r, p, s []string
	for _, x := range cat.Releases() {
		r = append(r, x.Metadata.Name)
	}
	for _, x := range cat.Platforms() {
		p = append(p, x.Metadata.Name)
	}
	for _, x := range cat.Stacks() {
		s = append(s, x.Metadata.Name)
	}
	return strings.Join(r, ", "), strings.Join(p, ", "), strings.Join(s, ", ")
}
