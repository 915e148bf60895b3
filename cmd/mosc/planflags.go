package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/profile"
)

// planFlags are the flags of every command that resolves a plan (render,
// validate, apply, diff, gate). Each also has a site-file field; the flag wins.
func planFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "site `FILE` (mosc.yaml; write one with mosc init)", TakesFile: true},
		&cli.StringFlag{Name: "openshift", Usage: "OpenShift release, e.g. 4.20 or 4.20.15 (spec.openshift)"},
		&cli.StringFlag{Name: "platform", Usage: "platform profile (spec.platform; default " + profile.DefaultPlatform + ")"},
		&cli.StringSliceFlag{Name: "stack", Usage: "stack profile, NAME or NAME:VARIANT, repeatable (spec.stacks; default " + profile.DefaultStack + ")"},
		&cli.StringFlag{Name: "pool", Usage: "MachineConfigPool to layer; also the MachineOSConfig name (spec.pool; default " + profile.DefaultPool + ")"},
		&cli.StringFlag{Name: "push-spec", Usage: "where builds push the image, host[:port][/ns]/name:tag (spec.registry.pushSpec)"},
		&cli.BoolFlag{Name: "internal-registry", Usage: "enable the internal image registry on a PVC (spec.registry.internal)"},
		&cli.StringFlag{Name: "storage-class", Usage: "storage class of the registry PVC (spec.registry.storageClass; default: the cluster's)"},
		&cli.StringFlag{Name: "registry-size", Usage: "size of the registry PVC (spec.registry.size; default " + profile.DefaultRegistrySize + ")"},
		&cli.StringFlag{Name: "secrets", Usage: "secret objects in the output: none or placeholder (spec.secrets.mode; default none)"},
		&cli.StringFlag{Name: "site", Usage: "site name, the mosc.dev/site label value (metadata.name; default " + profile.DefaultSiteName + ")"},
		&cli.StringSliceFlag{Name: "profiles", Usage: "directory (or file) of profiles overriding or extending the embedded catalog, repeatable", TakesFile: true},
	}
}

// stringPlanFlags are checked for an explicitly empty value: a zero value in
// Overrides means "not set", so `--pool ""` must be caught here.
var stringPlanFlags = []string{"openshift", "platform", "pool", "push-spec", "storage-class", "registry-size", "secrets", "site", "file"}

// planOverrides reads the plan flags.
func planOverrides(c *cli.Context) (profile.Overrides, error) {
	var errs profile.ErrorList
	isSet := flagsSet(c)
	for _, name := range stringPlanFlags {
		if isSet(name) && c.String(name) == "" {
			errs = append(errs, &profile.Error{Flag: "--" + name, Message: "must not be empty"})
		}
	}
	for _, name := range []string{"stack", "profiles"} {
		for _, v := range c.StringSlice(name) {
			if v == "" {
				errs = append(errs, &profile.Error{Flag: "--" + name, Message: "must not be empty"})
			}
		}
	}
	o := profile.Overrides{
		OpenShift:    c.String("openshift"),
		Platform:     c.String("platform"),
		Pool:         c.String("pool"),
		PushSpec:     c.String("push-spec"),
		StorageClass: c.String("storage-class"),
		RegistrySize: c.String("registry-size"),
		SecretMode:   c.String("secrets"),
		SiteName:     c.String("site"),
		Stacks:       c.StringSlice("stack"),
		ProfilesDirs: c.StringSlice("profiles"),
	}
	if isSet("internal-registry") {
		v := c.Bool("internal-registry")
		o.InternalRegistry = &v
	}
	return o, errs.Err()
}

// resolvePlan loads the catalog (embedded + --profiles) and the site file
// (-f), applies the flags and resolves the plan. clusterVersion (may be "")
// fills spec.openshift when neither the flag nor the file set it, so cluster
// commands follow the cluster they talk to. Errors are usage errors (exit 2).
func resolvePlan(c *cli.Context, clusterVersion string) (*profile.Plan, *profile.Catalog, *profile.Site, error) {
	o, err := planOverrides(c)
	if err != nil {
		return nil, nil, nil, failWith(exitError, err)
	}
	cat, err := profile.LoadCatalog(o.ProfilesDirs...)
	if err != nil {
		return nil, nil, nil, failWith(exitError, err)
	}
	site := profile.NewSite()
	if f := c.String("file"); f != "" {
		if site, err = profile.LoadSite(f); err != nil {
			return nil, cat, nil, failWith(exitError, err)
		}
	}
	site.Override(o)
	if clusterVersion != "" {
		site.DefaultOpenShift(clusterVersion, "cluster version")
	}
	plan, err := cat.Resolve(site)
	if err != nil {
		return nil, cat, site, failWith(exitError, err)
	}
	return plan, cat, site, nil
}

// printPlanWarnings writes plan warnings to stderr, one per line.
func printPlanWarnings(c *cli.Context, p *profile.Plan) {
	for _, w := range p.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
}
