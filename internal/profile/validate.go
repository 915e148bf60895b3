package profile

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

func reflectValue(ptr any) reflect.Value { return reflect.ValueOf(ptr).Elem() }

// Values that end up inside Containerfile RUN lines, repo files or systemd
// units are restricted to characters that need no quoting there.
var (
	minorRE       = lazyre.New(`^\d+\.\d+$`)
	majorRE       = lazyre.New(`^\d+$`)
	nameRE        = matchFunc(matchName) // nameRule, without compiling its {0,61}
	layerNameRE   = lazyre.New(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	packageRE     = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	packageGlobRE = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._+*?\[\]-]*$`)
	repoIDRE      = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	repoFileRE    = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._-]*\.repo$`)
	docaVerRE     = lazyre.New(`^\d+\.\d+\.\d+$`)
	// dnf .repo values are one line; nothing below may break that.
	repoValueRE = lazyre.New(`^[^\n\r]*$`)
)

// Known enum values.
var (
	oclSupports        = []string{"GA", "TechPreview", "TechPreviewNoUpgrade"}
	moscAPIVersions    = map[string]string{"machineconfiguration.openshift.io/v1": "Job", "machineconfiguration.openshift.io/v1alpha1": "PodImageBuilder"}
	rpmArches          = []string{"aarch64", "x86_64"}
	docaArches         = []string{"arm64-dpu", "arm64-sbsa", "x86_64"}
	containerfileArchs = []string{"AMD64", "ARM64", "PPC64LE", "S390X"}
	lintCommands       = []string{"bootc container lint", "ostree container commit"}
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type checker struct {
	src  *Source
	errs ErrorList
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, c.src.errorf(path, format, args...))
}

func (c *checker) enum(path, value string, allowed []string) {
	if !contains(allowed, value) {
		c.fail(path, "unsupported value %q; supported: %s", value, knownList(allowed))
	}
}

// matcher is a *lazyre.Regexp or a hand-written matchFunc (rules.go).
type matcher interface{ MatchString(string) bool }

type matchFunc func(string) bool

func (f matchFunc) MatchString(s string) bool { return f(s) }

func (c *checker) match(path, value string, re matcher, what string) {
	if !re.MatchString(value) {
		c.fail(path, "invalid %s %q", what, value)
	}
}

func (c *checker) url(path, value string) {
	if err := checkURL(value); err != nil {
		c.fail(path, "%v", err)
	}
}

func checkURL(value string) error {
	u, err := url.Parse(value)
	if err != nil || u.Host == "" && u.Scheme != "file" || !contains([]string{"http", "https", "file"}, u.Scheme) || !repoValueRE.MatchString(value) || strings.ContainsAny(value, " \t") {
		return fmt.Errorf("invalid URL %q: want http://, https:// or file://", value)
	}
	return nil
}

func (c *checker) packages(path string, pkgs []string, re matcher) {
	for i, p := range pkgs {
		c.match(fmt.Sprintf("%s[%d]", path, i), p, re, "package name")
	}
}

func (c *checker) unique(path string, names []string) {
	seen := map[string]bool{}
	for i, n := range names {
		if seen[n] {
			c.fail(fmt.Sprintf("%s[%d]", path, i), "duplicate %q", n)
		}
		seen[n] = true
	}
}

func validateRelease(r *Release) ErrorList {
	c := &checker{src: &r.Source}
	c.match("metadata.name", r.Metadata.Name, minorRE, "release name (want MAJOR.MINOR, e.g. 4.20)")
	s := &r.Spec
	c.match("spec.rhel", s.RHEL, minorRE, "RHEL version (want MAJOR.MINOR, e.g. 9.6)")
	c.packages("spec.openvswitch.packages", s.OpenvSwitch.Packages, packageRE)
	c.match("spec.openvswitch.removeGlob", s.OpenvSwitch.RemoveGlob, packageGlobRE, "package glob")
	checkOCL(c, "spec.ocl", &s.OCL)
	prev := 0
	for i, zs := range s.ZStreams {
		path := fmt.Sprintf("spec.zStreams[%d]", i)
		switch {
		case zs.From < 1:
			c.fail(path+".from", "must be a z-stream of 1 or more (spec.ocl covers %s.0), got %d", r.Metadata.Name, zs.From)
		case zs.From <= prev:
			c.fail(path+".from", "z-streams must be in ascending order: %d follows %d", zs.From, prev)
		}
		prev = max(prev, zs.From)
		checkOCL(c, path+".ocl", &zs.OCL)
	}
	c.enum("spec.lint.command", s.Lint.Command, lintCommands)
	checkSources(c, r.Sources, reflect.TypeOf(*r))
	return c.errs
}

func checkOCL(c *checker, path string, o *ReleaseOCL) {
	c.enum(path+".support", o.Support, oclSupports)
	if builder, ok := moscAPIVersions[o.APIVersion]; !ok {
		c.fail(path+".apiVersion", "unsupported value %q; supported: %s", o.APIVersion, knownList(sortedKeys(moscAPIVersions)))
	} else if o.ImageBuilderType != builder {
		c.fail(path+".imageBuilderType", "%s requires imageBuilderType %s, got %q", o.APIVersion, builder, o.ImageBuilderType)
	}
}

func validatePlatform(p *Platform) ErrorList {
	c := &checker{src: &p.Source}
	c.match("metadata.name", p.Metadata.Name, nameRE, "platform name")
	s := &p.Spec
	c.match("spec.rhelMajor", s.RHELMajor, majorRE, "RHEL major version")
	c.enum("spec.rpmArch", s.RPMArch, rpmArches)
	c.enum("spec.docaArch", s.DocaArch, docaArches)
	c.enum("spec.containerfileArch", s.ContainerfileArch, containerfileArchs)
	if s.Defaults.Pool != "" {
		c.match("spec.defaults.pool", s.Defaults.Pool, nameRE, "pool name")
	}
	cs := &s.Sources.CentOSStream
	c.match("spec.sources.centosStream.file", cs.File, repoFileRE, "repo file name (want NAME.repo)")
	c.url("spec.sources.centosStream.baseURL", cs.BaseURL)
	c.url("spec.sources.centosStream.gpgKey", cs.GPGKey)
	ids := make([]string, len(cs.Repos))
	for i, r := range cs.Repos {
		path := fmt.Sprintf("spec.sources.centosStream.repos[%d]", i)
		c.match(path+".id", r.ID, repoIDRE, "repo id")
		c.match(path+".name", r.Name, repoValueRE, "repo name")
		c.match(path+".path", r.Path, repoIDRE, "repo path")
		ids[i] = r.ID
	}
	c.unique("spec.sources.centosStream.repos", ids)
	c.url("spec.sources.epel.releaseURL", s.Sources.EPEL.ReleaseURL)
	c.url("spec.sources.epel.gpgKey", s.Sources.EPEL.GPGKey)
	checkSources(c, p.Sources, reflect.TypeOf(*p))
	return c.errs
}

func validateStack(st *Stack) ErrorList {
	c := &checker{src: &st.Source}
	c.match("metadata.name", st.Metadata.Name, nameRE, "stack name")
	s := &st.Spec
	c.match("spec.version", s.Version, docaVerRE, "version (want X.Y.Z)")
	for i, v := range s.Versions {
		c.match(fmt.Sprintf("spec.versions[%d]", i), v, docaVerRE, "version (want X.Y.Z)")
	}
	r := &s.Repo
	c.match("spec.repo.id", r.ID, repoIDRE, "repo id")
	c.match("spec.repo.name", r.Name, repoValueRE, "repo name")
	c.match("spec.repo.file", r.File, repoFileRE, "repo file name (want NAME.repo)")
	c.url("spec.repo.url", r.URL)
	c.url("spec.repo.gpgKey", r.GPGKey)
	c.enum("spec.repo.distro", r.Distro, []string{DistroMajor, DistroMinor})
	if r.Distro == DistroMinor && len(r.RHELMinors) == 0 {
		c.fail("spec.repo.rhelMinors", "distro: minor needs the list of published RHEL minors")
	}
	for i, m := range r.RHELMinors {
		c.match(fmt.Sprintf("spec.repo.rhelMinors[%d]", i), m, minorRE, "RHEL version")
	}
	for _, k := range sortedKeys(r.Extra) {
		v := r.Extra[k]
		c.match("spec.repo.extra."+k, k, repoIDRE, "repo option name")
		c.match("spec.repo.extra."+k, v, repoValueRE, "repo option value")
	}
	variants := make([]string, len(s.Variants))
	for i, v := range s.Variants {
		path := fmt.Sprintf("spec.variants[%d]", i)
		c.match(path+".name", v.Name, layerNameRE, "variant name")
		c.packages(path+".packages", v.Packages, packageRE)
		variants[i] = v.Name
	}
	c.unique("spec.variants", variants)
	if !contains(variants, s.DefaultVariant) {
		c.fail("spec.defaultVariant", "unknown variant %q; known: %s", s.DefaultVariant, knownList(variants))
	}
	// Two entries of one layer are fine when their variants do not overlap.
	layerFor := map[string]map[string]bool{}
	for i, l := range s.Layers {
		path := fmt.Sprintf("spec.layers[%d]", i)
		c.match(path+".name", l.Name, layerNameRE, "layer name")
		applies := l.Variants
		if len(applies) == 0 {
			applies = variants
		}
		for j, v := range l.Variants {
			if !contains(variants, v) {
				c.fail(fmt.Sprintf("%s.variants[%d]", path, j), "unknown variant %q; known: %s", v, knownList(variants))
			}
		}
		if layerFor[l.Name] == nil {
			layerFor[l.Name] = map[string]bool{}
		}
		for _, v := range applies {
			if layerFor[l.Name][v] {
				c.fail(path+".name", "layer %q appears twice for variant %q", l.Name, v)
			}
			layerFor[l.Name][v] = true
		}
	}
	for _, k := range sortedKeys(s.Node.OtherConfig) {
		checkOtherConfig(c, "spec.node.otherConfig", k, s.Node.OtherConfig[k])
	}
	c.packages("spec.verify.packagesPresent", s.Verify.PackagesPresent, packageRE)
	c.packages("spec.verify.packagesAbsent", s.Verify.PackagesAbsent, packageGlobRE)
	c.match("spec.verify.datapathType", s.Verify.DatapathType, layerNameRE, "datapath type")
	for i, v := range s.Support.Releases {
		c.match(fmt.Sprintf("spec.support.releases[%d]", i), v, minorRE, "release (want MAJOR.MINOR)")
	}
	for i, v := range s.Support.Platforms {
		c.match(fmt.Sprintf("spec.support.platforms[%d]", i), v, nameRE, "platform name")
	}
	for i, u := range r.Unsigned {
		c.packages(fmt.Sprintf("spec.repo.unsigned[%d].packages", i), u.Packages, packageRE)
		for j, v := range u.Versions {
			c.match(fmt.Sprintf("spec.repo.unsigned[%d].versions[%d]", i, j), v, docaVerRE, "version (want X.Y.Z)")
		}
		for j, d := range u.Distros {
			c.match(fmt.Sprintf("spec.repo.unsigned[%d].distros[%d]", i, j), d, repoIDRE, "distro directory (e.g. rhel9.6)")
		}
	}
	checkSources(c, st.Sources, reflect.TypeOf(*st))
	return c.errs
}

var (
	otherConfigKeyRE   = lazyre.New(`^[a-z0-9][a-z0-9_-]*$`)
	otherConfigValueRE = lazyre.New(`^[A-Za-z0-9._:,/+-]*$`)
)

// other_config pairs go into an ovs-vsctl command in a systemd unit.
func checkOtherConfig(c *checker, path, k, v string) {
	p := join(path, k)
	if !otherConfigKeyRE.MatchString(k) {
		c.fail(p, "invalid other_config key %q (want lower-case letters, digits, - and _)", k)
	}
	if !otherConfigValueRE.MatchString(v) {
		c.fail(p, "invalid other_config value %q (want letters, digits and ._:,/+-)", v)
	}
	if k == "doca-init" || k == "hw-offload" {
		c.fail(p, "set %s with the dedicated field (docaInit / hwOffload), not otherConfig", k)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
