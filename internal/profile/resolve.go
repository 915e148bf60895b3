package profile

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Defaults used when neither the site file nor a flag sets a value.
const (
	DefaultPlatform     = "rhel9-x86_64"
	DefaultStack        = "doca-3.3"
	DefaultPool         = "worker"
	DefaultSiteName     = "default"
	DefaultPushSpec     = "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest"
	DefaultRegistrySize = "100Gi"
	// DefaultTokenTTL is the builder token lifetime: 30 days, as mosc apply
	// (cluster.DefaultTokenTTL) and the apply issue set it. A site file from
	// mosc init carries this value, so it must not differ from apply's.
	DefaultTokenTTL = Duration(30 * 24 * time.Hour)
	// MinTokenTTL is the TokenRequest API minimum.
	MinTokenTTL = Duration(10 * time.Minute)
)

// Push credentials apply can write for the internal registry
// (spec.secrets.pushCredential, apply --push-credential).
const (
	// PushCredentialLongLived is the token of a service-account token Secret
	// (mosc-builder-token): it does not expire, and deleting the Secret
	// revokes it. The default: the MCO copies the push secret once per
	// build, so a short-lived token can expire mid-build (docs/decisions.md).
	PushCredentialLongLived = "long-lived"
	// PushCredentialToken is a TokenRequest token that expires after
	// tokenTTL, for sites that forbid non-expiring credentials.
	PushCredentialToken = "token"
)

const (
	PushSecretName          = "push-secret"
	BaseImagePullSecretName = "pull-and-push-secret"
	// MOSCAPIVersionV1 is the MachineOSConfig API of OpenShift 4.18.20+.
	MOSCAPIVersionV1  = "machineconfiguration.openshift.io/v1"
	RegistryClaimName = "registry-claim"
	EPELRepoID        = "epel"
	EPELLayer         = "epel"
	InstallLayer      = "install"
	CleanupLayer      = "cleanup"
	// UnsignedRepoSuffix names a stack repo's gpgcheck exception section
	// ("doca" -> "doca-unsigned").
	UnsignedRepoSuffix = "-unsigned"
)

// ValidatePushSpec checks a push spec against the CRD's rule and explains
// the common mistakes (missing tag, digest instead of tag).
func ValidatePushSpec(spec string) error {
	switch {
	case len(spec) > 447:
		return fmt.Errorf("push spec is %d characters; the MachineOSConfig CRD allows at most 447", len(spec))
	case strings.Contains(spec, "@"):
		return fmt.Errorf("push spec %q has a digest; it needs a tag (host[:port][/namespace]/name:tag)", spec)
	case !MatchPushSpecRule(spec): // the CRD's rule (PushSpecRule): a tag is mandatory
		last := spec[strings.LastIndex(spec, "/")+1:]
		if strings.Contains(spec, "/") && !strings.Contains(last, ":") {
			return fmt.Errorf("push spec %q has no tag; the MachineOSConfig CRD requires host[:port][/namespace]/name:tag, e.g. %s:latest", spec, spec)
		}
		return fmt.Errorf("push spec %q does not match host[:port][/namespace]/name:tag (the MachineOSConfig CRD's pattern)", spec)
	}
	return nil
}

// InternalRegistryHost is the in-cluster address of OpenShift's image
// registry, the host of DefaultPushSpec.
const InternalRegistryHost = "image-registry.openshift-image-registry.svc:5000"

// pushSpecRepository is the repository path of a push spec: between the
// host and the tag.
func pushSpecRepository(spec string) string {
	_, path, _ := strings.Cut(spec, "/")
	if i := strings.LastIndex(path, ":"); i >= 0 {
		path = path[:i]
	}
	return path
}

var hugepageSizes = []string{"1G", "2M"}

type resolver struct {
	c    *Catalog
	s    *Site
	errs ErrorList
	plan *Plan
	// keyNames maps a key (its fingerprints) to its file name in Secret
	// etc-pki-rpm-gpg; keyOwners the other way.
	keyNames, keyOwners map[string]string
}

func (r *resolver) fail(path, format string, args ...any) {
	r.errs = append(r.errs, r.s.errAt(path, format, args...))
}

func (r *resolver) warn(path, format string, args ...any) {
	w := Warning{Where: r.s.where(path), Field: r.s.displayField(path), Message: fmt.Sprintf(format, args...)}
	if r.s.SetBy(path) != "" {
		// "--pool: spec.pool: …" would say the same thing twice.
		w.Field = ""
	}
	r.plan.Warnings = append(r.plan.Warnings, w)
}

// explicitlyEmpty reports a field written in the file with an empty value.
func (r *resolver) explicitlyEmpty(path, value string) bool {
	_, ok := r.s.pos[path]
	return ok && value == "" && r.s.SetBy(path) == ""
}

// Resolve merges release × platform × stacks × site into a Plan, checking
// the whole combination. All findings are returned together as an ErrorList.
func (c *Catalog) Resolve(s *Site) (*Plan, error) {
	if s == nil {
		s = NewSite()
	}
	if s.pos == nil {
		s.pos = map[string]Pos{}
	}
	r := &resolver{c: c, s: s, plan: &Plan{}}
	r.resolve()
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	return r.plan, nil
}

func (r *resolver) resolve() {
	s, p := r.s, r.plan

	p.Site = s.Metadata.Name
	if p.Site == "" && !r.explicitlyEmpty("metadata.name", "") {
		p.Site = DefaultSiteName
	}
	if msgs := LabelValueErrors(p.Site); p.Site == "" || len(msgs) > 0 {
		r.fail("metadata.name", "invalid site name %q: it becomes the %s label value (%s)", p.Site, LabelSite, labelRule)
	}

	rel := r.release()
	plat := r.platform()
	if rel != nil && plat != nil && rel.RHELMajor != plat.Spec.RHELMajor {
		r.fail("spec.platform", "platform %s is for RHEL %s, but OpenShift %s is based on RHEL %s", plat.Metadata.Name, plat.Spec.RHELMajor, rel.Version, rel.RHEL)
	}
	if rel != nil {
		p.OpenShift = *rel
	}
	if plat != nil {
		p.Platform = PlatformInfo{
			Name:                plat.Metadata.Name,
			RPMArch:             plat.Spec.RPMArch,
			DocaArch:            plat.Spec.DocaArch,
			ContainerfileArch:   plat.Spec.ContainerfileArch,
			CentOSStreamBaseURL: plat.Spec.Sources.CentOSStream.BaseURL,
			EPELReleaseURL:      plat.Spec.Sources.EPEL.ReleaseURL,
			DPU:                 plat.Spec.DPU,
		}
	}
	gpgCheck := true
	if s.Spec.Repos.GPGCheck != nil {
		gpgCheck = *s.Spec.Repos.GPGCheck
	}
	stacks := r.stacks(rel, plat)
	r.mirrors(stacks, plat)
	r.pool(plat)
	r.registry()
	r.secrets()
	if rel != nil && plat != nil && len(stacks) > 0 && len(r.errs) == 0 {
		r.repoFiles(stacks, plat, gpgCheck)
		r.layers(stacks)
		r.node(stacks, plat)
		r.verify(stacks, rel)
		r.warnings(rel, plat, gpgCheck)
	}
}

const labelRule = "at most 63 characters: letters, digits, '-', '_' or '.', starting and ending with a letter or digit"

func (r *resolver) release() *ReleaseInfo {
	v := r.s.Spec.OpenShift
	if v == "" {
		e := r.s.errAt("spec.openshift", "OpenShift release not set: pass --openshift (e.g. --openshift 4.20) or set spec.openshift in the site file; known: %s", knownList(r.c.releaseNames()))
		if r.s.File == "" {
			e.Flag = "--openshift"
		}
		r.errs = append(r.errs, e)
		return nil
	}
	rel, err := r.c.Release(v)
	if err != nil {
		r.fail("spec.openshift", "%s", err.(*Error).Message)
		return nil
	}
	_, z, hasZ, _ := ParseVersion(v) // Release has parsed it already
	span := rel.At(z, hasZ)
	sp := &rel.Spec
	major, _, _ := strings.Cut(sp.RHEL, ".")
	info := &ReleaseInfo{
		Version:               rel.Metadata.Name,
		Requested:             strings.TrimSpace(v),
		RHEL:                  sp.RHEL,
		RHELMajor:             major,
		KernelFamily:          sp.KernelFamily,
		StockOVS:              append([]string(nil), sp.OpenvSwitch.Packages...),
		StockOVSGlob:          sp.OpenvSwitch.RemoveGlob,
		MOSCAPIVersion:        span.OCL.APIVersion,
		ImageBuilderType:      span.OCL.ImageBuilderType,
		LintCommand:           sp.Lint.Command,
		OCLSupport:            span.OCL.Support,
		HasImageBuildDegraded: span.OCL.ImageBuildDegraded,
	}
	if span.Split {
		info.ZStream = span.String()
		if !hasZ {
			spans := rel.ZRanges()
			var others []string
			for _, o := range spans[:len(spans)-1] {
				others = append(others, fmt.Sprintf("%s has %s", o, o.Describe()))
			}
			r.warn("spec.openshift", "OpenShift %s is taken as %s (%s); %s: give the full version (e.g. --openshift %s.%d) for an older cluster",
				v, span, span.Describe(), strings.Join(others, "; "), rel.Metadata.Name, spans[len(spans)-2].To)
		}
	}
	return info
}

// shortAPIVersion: "machineconfiguration.openshift.io/v1alpha1" → "v1alpha1".
func shortAPIVersion(gv string) string {
	if i := strings.LastIndex(gv, "/"); i >= 0 {
		return gv[i+1:]
	}
	return gv
}

func (r *resolver) platform() *Platform {
	name := r.s.Spec.Platform
	if r.explicitlyEmpty("spec.platform", name) {
		r.fail("spec.platform", "must not be empty; known: %s", knownList(r.c.platformNames()))
		return nil
	}
	if name == "" {
		name = DefaultPlatform
	}
	plat, err := r.c.Platform(name)
	if err != nil {
		r.fail("spec.platform", "%s", err.(*Error).Message)
		return nil
	}
	return plat
}

type resolvedStack struct {
	path    string
	stack   *Stack
	variant *Variant
	info    StackInfo
}

func (r *resolver) stacks(rel *ReleaseInfo, plat *Platform) []*resolvedStack {
	refs := r.s.Spec.Stacks
	if len(refs) == 0 {
		if r.explicitlyEmpty("spec.stacks", "") {
			// `stacks: []` reads as "no stack"; layering the default
			// instead would surprise.
			r.fail("spec.stacks", "empty: list at least one stack (leave the field out for the default, %s); known: %s", DefaultStack, knownList(r.c.stackNames()))
			return nil
		}
		refs = []StackRef{{Name: DefaultStack}}
	}
	var out []*resolvedStack
	seen := map[string]string{}
	provided := map[string]string{}
	for i, ref := range refs {
		path := fmt.Sprintf("spec.stacks[%d]", i)
		if ref.Name == "" {
			r.fail(path, "empty stack name; known: %s", knownList(r.c.stackNames()))
			continue
		}
		st, err := r.c.Stack(ref.Name)
		if err != nil {
			r.fail(path, "%s", err.(*Error).Message)
			continue
		}
		if prev, ok := seen[ref.Name]; ok {
			r.fail(path, "stack %s is already listed at %s", ref.Name, prev)
			continue
		}
		seen[ref.Name] = path
		sp := &st.Spec
		ok := true
		for _, what := range sp.Provides {
			if other, dup := provided[what]; dup {
				r.fail(path, "stack %s conflicts with %s: both provide %s; pick one", ref.Name, other, what)
				ok = false
			}
			provided[what] = ref.Name
		}

		variantName := ref.Variant
		if variantName == "" {
			variantName = sp.DefaultVariant
		}
		var variant *Variant
		var variantNames []string
		for j := range sp.Variants {
			variantNames = append(variantNames, sp.Variants[j].Name)
			if sp.Variants[j].Name == variantName {
				variant = &sp.Variants[j]
			}
		}
		if variant == nil {
			r.fail(path+".variant", "unknown variant %q of stack %s; known: %s", variantName, ref.Name, knownList(variantNames))
			ok = false
		}

		version := sp.Version
		if ref.Version != "" {
			known := append([]string{sp.Version}, sp.Versions...)
			if !contains(known, ref.Version) {
				r.fail(path+".version", "unknown version %q of stack %s; known: %s", ref.Version, ref.Name, knownList(known))
				ok = false
			}
			version = ref.Version
		}

		if rel != nil && !contains(sp.Support.Releases, rel.Version) {
			r.fail(path, "stack %s does not support OpenShift %s (RHEL %s); supported releases: %s", ref.Name, rel.Version, rel.RHEL, knownList(sp.Support.Releases))
			ok = false
		}
		if plat != nil && !contains(sp.Support.Platforms, plat.Metadata.Name) {
			r.fail(path, "stack %s does not support platform %s; supported platforms: %s", ref.Name, plat.Metadata.Name, knownList(sp.Support.Platforms))
			ok = false
		}
		distro := ""
		if rel != nil && ok {
			switch sp.Repo.Distro {
			case DistroMajor:
				distro = "rhel" + rel.RHELMajor
			case DistroMinor:
				if !contains(sp.Repo.RHELMinors, rel.RHEL) {
					r.fail(path, "DOCA %s publishes repositories per RHEL minor for RHEL %s only; OpenShift %s is based on RHEL %s", version, knownList(sp.Repo.RHELMinors), rel.Version, rel.RHEL)
					ok = false
				}
				distro = "rhel" + rel.RHEL
			}
		}
		if !ok || plat == nil || rel == nil {
			continue
		}
		var unsigned []string
		for _, u := range sp.Repo.Unsigned {
			if (len(u.Versions) == 0 || contains(u.Versions, version)) && (len(u.Distros) == 0 || contains(u.Distros, distro)) {
				for _, pkg := range u.Packages {
					if !contains(unsigned, pkg) {
						unsigned = append(unsigned, pkg)
					}
				}
			}
		}
		out = append(out, &resolvedStack{
			path:    path,
			stack:   st,
			variant: variant,
			info: StackInfo{
				Name:          st.Metadata.Name,
				Version:       version,
				Variant:       variant.Name,
				Packages:      append([]string(nil), variant.Packages...),
				LTS:           sp.LTS,
				RepoDistro:    distro,
				RepoBaseURL:   fmt.Sprintf("%s/%s/%s/%s/", strings.TrimRight(sp.Repo.URL, "/"), version, distro, plat.Spec.DocaArch),
				Unsigned:      unsigned,
				KernelModules: variant.KernelModules,
			},
		})
	}
	for _, rs := range out {
		r.plan.Stacks = append(r.plan.Stacks, rs.info)
	}
	return out
}

// mirrors checks spec.repos.mirrors and gpgKeys, and applies the mirrors to
// the DOCA repos.
func (r *resolver) mirrors(stacks []*resolvedStack, plat *Platform) {
	m := r.s.Spec.Repos.Mirrors
	keys := r.s.Spec.Repos.GPGKeys
	if len(m) == 0 && len(keys) == 0 {
		return
	}
	known := map[string]bool{EPELRepoID: true}
	for _, rs := range stacks {
		known[rs.stack.Spec.Repo.ID] = true
	}
	if plat != nil {
		for _, repo := range plat.Spec.Sources.CentOSStream.Repos {
			known[repo.ID] = true
		}
	}
	for _, id := range sortedKeys(m) {
		path := join("spec.repos.mirrors", id)
		if len(stacks) > 0 && plat != nil && !known[id] {
			r.fail(path, "no repository %q to mirror; known: %s", id, knownList(sortedKeys(known)))
			continue
		}
		if err := checkURL(m[id]); err != nil {
			r.fail(path, "%v", err)
		}
	}
	for _, id := range sortedKeys(keys) {
		path := join("spec.repos.gpgKeys", id)
		if len(stacks) > 0 && plat != nil && !known[id] {
			r.fail(path, "no repository %q to set a key for; known: %s", id, knownList(sortedKeys(known)))
		}
		if id == EPELRepoID && m[EPELRepoID] == "" {
			// Without a mirror EPEL comes from the epel-release package,
			// which brings its own repo file and key: this key is never read.
			r.warn(path, "ignored: EPEL is installed from the epel-release package with its own key; the key applies only with spec.repos.mirrors.epel")
		}
	}
	for i := range stacks {
		if u, ok := m[stacks[i].stack.Spec.Repo.ID]; ok {
			stacks[i].info.RepoBaseURL = u
			r.plan.Stacks[i].RepoBaseURL = u
		}
	}
}

func (r *resolver) pool(plat *Platform) {
	pool := r.s.Spec.Pool
	if r.explicitlyEmpty("spec.pool", pool) {
		r.fail("spec.pool", "must not be empty: name the MachineConfigPool to layer (e.g. worker)")
		return
	}
	if pool == "" {
		pool = DefaultPool
		if plat != nil && plat.Spec.Defaults.Pool != "" {
			pool = plat.Spec.Defaults.Pool
		}
	}
	if msgs := SubdomainErrors(pool); len(msgs) > 0 {
		r.fail("spec.pool", "invalid pool name %q: %s", pool, strings.Join(msgs, "; "))
		return
	}
	r.plan.Pool = pool
	r.plan.MOSC = MOSCPlan{
		Name:             pool,
		APIVersion:       r.plan.OpenShift.MOSCAPIVersion,
		ImageBuilderType: r.plan.OpenShift.ImageBuilderType,
		PushSecretName:   PushSecretName,
	}
	// v1 (4.18.20+ / 4.19+): baseImagePullSecret is optional, and without it
	// the MCO uses global-pull-secret-copy, which its operator keeps in sync
	// with openshift-config/pull-secret (openshift/machine-config-operator,
	// release-4.20, pkg/controller/build/buildrequest/buildrequestopts.go
	// getOpts; pkg/operator/sync.go reconcileGlobalPullSecretCopy). A merged
	// copy of mosc's would go stale when the cluster pull secret is rotated
	// or gains mirror credentials, and the next (upgrade) build could not
	// pull rhel-coreos. Only v1alpha1 requires the field (and pulls the built
	// image with the same secret).
	if r.plan.OpenShift.MOSCAPIVersion != MOSCAPIVersionV1 {
		r.plan.MOSC.BaseImagePullSecretName = BaseImagePullSecretName
	}
	if pool == "master" {
		r.warn("spec.pool", "pool master is the control plane (single-node OpenShift): the OCL docs do not support SNO, and every control-plane node reboots into the layered image")
	}
}

func (r *resolver) registry() {
	reg := &r.s.Spec.Registry
	spec := reg.PushSpec
	if r.explicitlyEmpty("spec.registry.pushSpec", spec) {
		r.fail("spec.registry.pushSpec", "must not be empty (default %s)", DefaultPushSpec)
	} else {
		if spec == "" {
			spec = DefaultPushSpec
		}
		if err := ValidatePushSpec(spec); err != nil {
			r.fail("spec.registry.pushSpec", "%v", err)
		} else if repo := pushSpecRepository(spec); strings.ToLower(repo) != repo {
			// The CRD's pattern allows it; the image reference grammar and
			// every registry do not, and the push comes after the whole build.
			r.warn("spec.registry.pushSpec", "repository %q has upper-case letters: the CRD accepts them, but registries refuse the push (after the whole build); use lower case", repo)
		}
		r.plan.MOSC.PushSpec = spec
	}
	internal := reg.Internal != nil && *reg.Internal
	if internal && r.plan.MOSC.PushSpec != "" && !strings.HasPrefix(r.plan.MOSC.PushSpec, InternalRegistryHost+"/") {
		r.warn("spec.registry.internal", "the internal registry is enabled, but builds push to %s: this MachineOSConfig does not use it", r.plan.MOSC.PushSpec)
	}
	if !internal {
		for _, f := range []struct{ path, value string }{{"spec.registry.storageClass", reg.StorageClass}, {"spec.registry.size", reg.Size}} {
			if f.value != "" {
				r.warn(f.path, "ignored: the internal registry is not enabled (spec.registry.internal / --internal-registry)")
			}
		}
		return
	}
	size := reg.Size
	if size == "" {
		size = DefaultRegistrySize
	}
	if q, err := resource.ParseQuantity(size); err != nil || q.Sign() <= 0 {
		r.fail("spec.registry.size", "invalid size %q: want a positive Kubernetes quantity such as 100Gi", size)
	}
	if reg.StorageClass != "" {
		if msgs := SubdomainErrors(reg.StorageClass); len(msgs) > 0 {
			r.fail("spec.registry.storageClass", "invalid storage class name %q: %s", reg.StorageClass, strings.Join(msgs, "; "))
		}
	}
	r.plan.Registry = &RegistryPlan{
		ClaimName:       RegistryClaimName,
		StorageClass:    reg.StorageClass,
		Size:            size,
		AccessMode:      "ReadWriteOnce",
		Replicas:        1,
		RolloutStrategy: "Recreate",
		DefaultRoute:    true,
	}
}

func (r *resolver) secrets() {
	sec := &r.s.Spec.Secrets
	mode := SecretMode(sec.Mode)
	if mode == "" {
		mode = SecretsNone
	}
	if mode != SecretsNone && mode != SecretsPlaceholder {
		r.fail("spec.secrets.mode", "unsupported secret mode %q; supported: %s, %s", sec.Mode, SecretsNone, SecretsPlaceholder)
	}
	cred := sec.PushCredential
	switch cred {
	case "":
		cred = PushCredentialLongLived
	case PushCredentialLongLived, PushCredentialToken:
	default:
		r.fail("spec.secrets.pushCredential", "unsupported push credential %q; supported: %s (a service-account token Secret that does not expire), %s (a token that expires after tokenTTL)", sec.PushCredential, PushCredentialLongLived, PushCredentialToken)
	}
	ttl := sec.TokenTTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	} else if ttl < MinTokenTTL {
		r.fail("spec.secrets.tokenTTL", "token lifetime %s is below the TokenRequest minimum of %s", ttl, MinTokenTTL)
	} else if ttl != DefaultTokenTTL && cred == PushCredentialLongLived {
		// A lifetime the user chose and that nothing honours is worth a word.
		r.warn("spec.secrets.tokenTTL", "ignored: the %s push credential does not expire; set spec.secrets.pushCredential: %s for a token that expires after %s", PushCredentialLongLived, PushCredentialToken, ttl)
	}
	authFile := sec.PushAuthFile
	// A relative path in the site file is relative to that file, as in kustomize.
	if authFile != "" && !filepath.IsAbs(authFile) && r.s.File != "" && r.s.SetBy("spec.secrets.pushAuthFile") == "" {
		authFile = filepath.Join(filepath.Dir(r.s.File), authFile)
	}
	r.plan.Secrets = SecretsPlan{Mode: mode, PushAuthFile: authFile, PushCredential: cred, TokenTTLSeconds: int64(time.Duration(ttl) / time.Second)}
}

func (r *resolver) repoFiles(stacks []*resolvedStack, plat *Platform, gpgCheck bool) {
	keyFiles := map[string]string{} // site key path → file:// URL, read once
	key := func(repoID, url string) string {
		if !gpgCheck {
			return ""
		}
		if k, ok := r.s.Spec.Repos.GPGKeys[repoID]; ok {
			return r.siteKey(repoID, k, keyFiles)
		}
		return url
	}
	mirrors := r.s.Spec.Repos.Mirrors
	byFile := map[string]int{}
	addRepo := func(file string, repo Repo) {
		i, ok := byFile[file]
		if !ok {
			i = len(r.plan.RepoFiles)
			byFile[file] = i
			r.plan.RepoFiles = append(r.plan.RepoFiles, RepoFile{FileName: file})
		}
		r.plan.RepoFiles[i].Repos = append(r.plan.RepoFiles[i].Repos, repo)
	}
	for _, rs := range stacks {
		sr := &rs.stack.Spec.Repo
		var extra map[string]string
		if len(sr.Extra) > 0 {
			extra = make(map[string]string, len(sr.Extra))
			for k, v := range sr.Extra {
				extra[k] = v
			}
		}
		unsigned := rs.info.Unsigned
		if !gpgCheck {
			unsigned = nil // the whole repo is unchecked already (warned)
		}
		if len(unsigned) > 0 {
			if extra == nil {
				extra = map[string]string{}
			}
			// The signed section never offers the unsigned packages...
			extra["excludepkgs"] = strings.Join(append(strings.Fields(extra["excludepkgs"]), unsigned...), " ")
		}
		addRepo(sr.File, Repo{
			ID:       sr.ID,
			Name:     fmt.Sprintf("%s %s", sr.Name, rs.info.Version),
			BaseURL:  rs.info.RepoBaseURL,
			GPGCheck: gpgCheck,
			GPGKey:   key(sr.ID, sr.GPGKey),
			Extra:    extra,
		})
		r.plan.EnableRepos = append(r.plan.EnableRepos, sr.ID)
		if len(unsigned) > 0 {
			// ...and this section offers only them, without the check.
			id := sr.ID + UnsignedRepoSuffix
			addRepo(sr.File, Repo{
				ID:      id,
				Name:    fmt.Sprintf("%s %s: unsigned packages only (%s)", sr.Name, rs.info.Version, strings.Join(unsigned, ", ")),
				BaseURL: rs.info.RepoBaseURL,
				Comment: []string{
					fmt.Sprintf("gpgcheck exception (stack %s, spec.repo.unsigned), published without a", rs.info.Name),
					fmt.Sprintf("signature: %s. Only these come from this section; every other package", strings.Join(unsigned, ", ")),
					fmt.Sprintf("of [%s] keeps gpgcheck=1. mosc enables it on the stack install alone.", sr.ID),
				},
				Extra: map[string]string{"includepkgs": strings.Join(unsigned, " ")},
			})
			r.plan.UnsignedRepos = append(r.plan.UnsignedRepos, id)
		}
		if rs.info.KernelModules && !contains(r.plan.Extensions, ExtensionKernelDevel) {
			r.plan.Extensions = append(r.plan.Extensions, ExtensionKernelDevel)
		}
	}
	cs := &plat.Spec.Sources.CentOSStream
	for _, repo := range cs.Repos {
		base := fmt.Sprintf("%s/%s/%s/os/", strings.TrimRight(cs.BaseURL, "/"), repo.Path, plat.Spec.RPMArch)
		if u, ok := mirrors[repo.ID]; ok {
			base = u
		}
		addRepo(cs.File, Repo{
			ID:       repo.ID,
			Name:     repo.Name,
			BaseURL:  base,
			GPGCheck: gpgCheck,
			GPGKey:   key(repo.ID, cs.GPGKey),
		})
		if repo.Enabled == nil || *repo.Enabled {
			r.plan.EnableRepos = append(r.plan.EnableRepos, repo.ID)
		}
	}
	// A disconnected cluster cannot fetch the EPEL release RPM: a mirrored
	// EPEL becomes a plain repo file and the epel layer is dropped.
	if u, ok := mirrors[EPELRepoID]; ok {
		addRepo("epel.repo", Repo{
			ID:       EPELRepoID,
			Name:     fmt.Sprintf("Extra Packages for Enterprise Linux %s (mirror)", plat.Spec.RHELMajor),
			BaseURL:  u,
			GPGCheck: gpgCheck,
			GPGKey:   key(EPELRepoID, plat.Spec.Sources.EPEL.GPGKey),
		})
		r.plan.EnableRepos = append(r.plan.EnableRepos, EPELRepoID)
	}
}

// GPGKeyDir is where MCO mounts Secret etc-pki-rpm-gpg in the build.
const GPGKeyDir = "/etc/pki/rpm-gpg"

// maxGPGKeySize bounds a key file read from disk (armored keys are a few KiB).
const maxGPGKeySize = 64 << 10

// siteKey turns a spec.repos.gpgKeys value into the repo's gpgkey: a URL is
// used as is; a local file is read, checked, added to the plan's GPGKeys
// (Secret etc-pki-rpm-gpg) and referenced as file:///etc/pki/rpm-gpg/NAME.
func (r *resolver) siteKey(repoID, value string, done map[string]string) string {
	path := join("spec.repos.gpgKeys", repoID)
	if strings.Contains(value, "://") {
		if err := checkURL(value); err != nil {
			r.fail(path, "%v", err)
		}
		return value
	}
	file := value
	if !filepath.IsAbs(file) && r.s.File != "" && r.s.SetBy(path) == "" {
		file = filepath.Join(filepath.Dir(r.s.File), file)
	}
	if u, ok := done[file]; ok {
		return u
	}
	data, err := readLimited(file, maxGPGKeySize)
	if err != nil {
		r.fail(path, "reading GPG key: %v", err)
		return ""
	}
	fps, err := ParseGPGKey(data)
	if err != nil {
		r.fail(path, "%s (repo %s): %v", value, repoID, err)
		return ""
	}
	// One file per key: repos sharing a key (another path, same key) share it.
	id := strings.Join(fps, "-")
	if name, ok := r.keyNames[id]; ok {
		u := "file://" + GPGKeyDir + "/" + name
		done[file] = u
		return u
	}
	if r.keyNames == nil {
		r.keyNames, r.keyOwners = map[string]string{}, map[string]string{}
	}
	name := GPGKeyFileName(file, fps, r.keyOwners)
	r.keyNames[id], r.keyOwners[name] = name, id
	r.plan.GPGKeys = append(r.plan.GPGKeys, GPGKey{FileName: name, Armored: string(data)})
	u := "file://" + GPGKeyDir + "/" + name
	done[file] = u
	return u
}

func (r *resolver) layers(stacks []*resolvedStack) {
	extra := r.s.Spec.ExtraPackages
	for i, pkg := range extra {
		if !packageRE.MatchString(pkg) {
			r.fail(fmt.Sprintf("spec.extraPackages[%d]", i), "invalid package name %q", pkg)
		}
	}
	_, epelMirrored := r.s.Spec.Repos.Mirrors[EPELRepoID]
	seen := map[string]bool{}
	var cleanup []LayerInvocation
	extraPlaced := false
	for _, rs := range stacks {
		for _, l := range rs.stack.Spec.Layers {
			if len(l.Variants) > 0 && !contains(l.Variants, rs.variant.Name) {
				continue
			}
			// Stacks share common layers (epel, var-opt): run each once.
			if seen[l.Name] || (l.Name == EPELLayer && epelMirrored) {
				continue
			}
			seen[l.Name] = true
			inv := LayerInvocation{Name: l.Name, Params: deepCopyParams(l.Params)}
			if l.Name == InstallLayer && len(extra) > 0 && !extraPlaced {
				if inv.Params == nil {
					inv.Params = map[string]any{}
				}
				list := make([]any, len(extra))
				for i, p := range extra {
					list[i] = p
				}
				inv.Params["extra"] = list
				extraPlaced = true
			}
			// Cleanup removes repo files: it must follow every install.
			if l.Name == CleanupLayer {
				cleanup = append(cleanup, inv)
				continue
			}
			r.plan.Layers = append(r.plan.Layers, inv)
		}
	}
	if len(extra) > 0 && !extraPlaced {
		r.fail("spec.extraPackages", "no %q layer in the selected stacks to install extra packages with", InstallLayer)
	}
	r.plan.Layers = append(r.plan.Layers, cleanup...)
}

func deepCopyParams(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyAny(v)
	}
	return out
}

func deepCopyAny(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return deepCopyParams(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopyAny(x)
		}
		return out
	}
	return v
}

func (r *resolver) node(stacks []*resolvedStack, plat *Platform) {
	sn := &r.s.Spec.Node
	n := NodeSettings{HWOffload: plat.Spec.Defaults.HWOffload}
	selectable := false
	for _, rs := range stacks {
		st := &rs.stack.Spec.Node
		n.DocaInit = n.DocaInit || st.DocaInit
		n.HWOffload = n.HWOffload || st.HWOffload
		selectable = selectable || st.HWOffloadSelectable
		for k, v := range st.OtherConfig {
			if n.OtherConfig == nil {
				n.OtherConfig = map[string]string{}
			}
			n.OtherConfig[k] = v
		}
	}
	if sn.DocaInit != nil {
		n.DocaInit = *sn.DocaInit
	}
	if sn.HWOffload != nil && *sn.HWOffload != n.HWOffload {
		if !selectable {
			r.fail("spec.node.hwOffload", "the selected stacks do not allow changing hw-offload (default %t)", n.HWOffload)
		}
		n.HWOffload = *sn.HWOffload
	}
	c := &checker{src: &Source{}}
	for _, k := range sortedKeys(sn.OtherConfig) {
		checkOtherConfig(c, "spec.node.otherConfig", k, sn.OtherConfig[k])
		if n.OtherConfig == nil {
			n.OtherConfig = map[string]string{}
		}
		n.OtherConfig[k] = sn.OtherConfig[k]
	}
	for _, e := range c.errs {
		r.fail(e.Field, "%s", e.Message)
	}
	if hp := sn.Hugepages; hp != nil {
		h := &Hugepages{DefaultSize: hp.DefaultSize, Size: hp.Size, Count: hp.Count}
		if h.DefaultSize == "" {
			h.DefaultSize = h.Size
		}
		if !contains(hugepageSizes, hp.Size) {
			r.fail("spec.node.hugepages.size", "unsupported hugepage size %q; supported: %s", hp.Size, knownList(hugepageSizes))
		}
		if hp.DefaultSize != "" && !contains(hugepageSizes, hp.DefaultSize) {
			r.fail("spec.node.hugepages.defaultSize", "unsupported hugepage size %q; supported: %s", hp.DefaultSize, knownList(hugepageSizes))
		}
		if hp.Count <= 0 {
			r.fail("spec.node.hugepages.count", "must be a positive number of pages, got %d", hp.Count)
		}
		n.Hugepages = h
	}
	r.plan.Node = n
}

func (r *resolver) verify(stacks []*resolvedStack, rel *ReleaseInfo) {
	v := VerifyPlan{PackagesAbsent: []string{rel.StockOVSGlob}}
	for _, rs := range stacks {
		sv := &rs.stack.Spec.Verify
		for _, p := range sv.PackagesPresent {
			if !contains(v.PackagesPresent, p) {
				v.PackagesPresent = append(v.PackagesPresent, p)
			}
		}
		for _, p := range sv.PackagesAbsent {
			if !contains(v.PackagesAbsent, p) {
				v.PackagesAbsent = append(v.PackagesAbsent, p)
			}
		}
		if v.DatapathType == "" {
			v.DatapathType = sv.DatapathType
		}
		v.DocaInitialized = v.DocaInitialized || sv.DocaInitialized
	}
	// doca_initialized can only become true when doca-init is set.
	v.DocaInitialized = v.DocaInitialized && r.plan.Node.DocaInit
	r.plan.Verify = v
}

func (r *resolver) warnings(rel *ReleaseInfo, plat *Platform, gpgCheck bool) {
	if !gpgCheck {
		var ids []string
		for _, f := range r.plan.RepoFiles {
			for _, repo := range f.Repos {
				ids = append(ids, repo.ID)
			}
		}
		r.warn("spec.repos.gpgCheck", "gpgcheck=0: packages from %s are installed without signature verification", knownList(ids))
		if len(r.s.Spec.Repos.GPGKeys) > 0 {
			r.warn("spec.repos.gpgKeys", "ignored: gpgCheck is false")
		}
	}
	if plat.Spec.ContainerfileArch != "AMD64" {
		r.warn("spec.platform", "On-Cluster Layering is documented for AMD64 only; platform %s is %s", plat.Metadata.Name, plat.Spec.ContainerfileArch)
	}
	switch rel.OCLSupport {
	case "TechPreviewNoUpgrade":
		r.warn("spec.openshift", "On-Cluster Layering on OpenShift %s needs featureSet TechPreviewNoUpgrade, which can never be undone and blocks upgrades", rel.Label())
	case "TechPreview":
		r.warn("spec.openshift", "On-Cluster Layering is Technology Preview on OpenShift %s", rel.Label())
	}
}
