package render

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// Push spec rules, copied from the CEL x-kubernetes-validations of the
// MachineOSConfig CRDs in openshift/api (TestPushSpecRulesMatchCRD keeps
// the v1 copy honest against the pinned module's CRD YAML). The two with
// counted repetitions ({1,61}, {0,61}) are matched by hand-written
// functions in package profile (profile.PushSpecRule and
// PushSpecV1alpha1NameRule hold their text; fuzzed against it): compiling
// them cost every render a quarter of a millisecond each.
var (
	// v1: machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineosconfigs.crd.yaml
	// (profile.PushSpecRule) or:
	pushSpecSvc = lazyre.New(`^[^.]+\.[^.]+\.svc:\d+\/[^\/]+\/[^\/]+:[^\/]+$`)
	// v1alpha1 (4.16/4.17 branches): both rules split the spec at ':'
	// (the name part: profile.PushSpecV1alpha1NameRule).
	pushSpecV1alpha1Tag = lazyre.New(`^([a-zA-Z0-9-./:])+$`)
)

const pushSpecMaxChars = 447

// PushSpecError returns why spec is not a valid renderedImagePushSpec for
// the MachineOSConfig apiVersion, or "" when it is.
func PushSpecError(apiVersion, spec string) string {
	n := utf8.RuneCountInString(spec)
	if n < 1 || n > pushSpecMaxChars {
		return fmt.Sprintf("must be 1 to %d characters, got %d", pushSpecMaxChars, n)
	}
	last := spec[strings.LastIndex(spec, "/")+1:]
	if !strings.Contains(last, ":") {
		return fmt.Sprintf("%q has no tag: the push spec needs one, e.g. %s:latest", spec, spec)
	}
	if strings.Contains(spec, "@") {
		return fmt.Sprintf("%q: a push spec takes a tag, not a digest", spec)
	}
	switch apiVersion {
	case bundle.GVKMachineOSConfigV1alpha1.GroupVersion().String():
		parts := strings.Split(spec, ":")
		ok1 := (len(parts) == 2 && pushSpecV1alpha1Tag.MatchString(parts[1])) || pushSpecSvc.MatchString(spec)
		ok2 := (len(parts) == 2 && profile.MatchPushSpecV1alpha1Name(parts[0])) || pushSpecSvc.MatchString(spec)
		if !ok1 || !ok2 {
			return fmt.Sprintf("%q does not match the v1alpha1 CRD rules: host[/namespace]/name:tag (no port, the 4.16/4.17 rule splits at ':'), or svc.namespace.svc:port/repository/name:tag", spec)
		}
	default:
		if !profile.MatchPushSpecRule(spec) && !pushSpecSvc.MatchString(spec) {
			return fmt.Sprintf("%q does not match the CRD rule: host[:port][/namespace]/name:tag (host has a dot; path segments 1-61 of [a-zA-Z0-9-_]), or svc.namespace.svc:port/repository/name:tag", spec)
		}
	}
	return ""
}

// CheckContainerfile returns the errors of a MOSC Containerfile: size, and
// `FROM configs AS final` first with no later stage.
func CheckContainerfile(content string) []string {
	var errs []string
	if n := utf8.RuneCountInString(content); n > MaxContainerfileChars {
		errs = append(errs, fmt.Sprintf("Containerfile is %d characters, %d over the %d limit", n, n-MaxContainerfileChars, MaxContainerfileChars))
	}
	cont := false
	first := true
	for i, raw := range strings.Split(content, "\n") {
		line := strings.TrimSpace(raw)
		wasCont := cont
		cont = strings.HasSuffix(line, "\\")
		if wasCont || line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		isFrom := strings.EqualFold(fields[0], "FROM")
		if first {
			first = false
			if !isFrom || len(fields) != 4 || fields[1] != "configs" || !strings.EqualFold(fields[2], "AS") || fields[3] != "final" {
				errs = append(errs, fmt.Sprintf("line %d: the Containerfile must start with %q (MCO appends it to its own build), got %q", i+1, ContainerfileFrom, line))
			}
			continue
		}
		if isFrom {
			errs = append(errs, fmt.Sprintf("line %d: %q starts a later stage; the %q stage must be the last", i+1, line, ContainerfileFrom))
		}
	}
	if first {
		errs = append(errs, fmt.Sprintf("the Containerfile is empty; it must start with %q", ContainerfileFrom))
	}
	return errs
}

// ValidateBundle checks rendered objects the way the cluster (and MCO)
// would: MachineOSConfig push spec, name == pool, Containerfile, and
// warnings for gpgcheck=0 repos and the master pool. It works without a
// plan, so `mosc validate DIR` runs it on manifests from git.
func ValidateBundle(b *bundle.Bundle) (errs, warns []*Finding) {
	moscNames := map[string]bool{}
	for _, o := range b.Objects {
		u := o.Content
		obj := u.GetKind() + "/" + u.GetName()
		switch u.GroupVersionKind() {
		case bundle.GVKMachineOSConfig, bundle.GVKMachineOSConfigV1alpha1:
			if moscNames[u.GetName()] {
				errs = append(errs, &Finding{Object: obj, Field: "metadata.name", Setting: SettingPool, Message: "two MachineOSConfigs for the same pool"})
			}
			moscNames[u.GetName()] = true
			e, w := validateMOSC(u)
			for _, f := range e {
				f.Object = obj
			}
			for _, f := range w {
				f.Object = obj
			}
			errs, warns = append(errs, e...), append(warns, w...)
		case bundle.GVKConfigMap:
			if u.GetName() == "etc-yum-repos-d" {
				errs = append(errs, buildInputNamespace(u, obj)...)
				warns = append(warns, repoWarnings(u, obj)...)
			}
		case bundle.GVKSecret:
			if u.GetName() == "etc-pki-rpm-gpg" {
				errs = append(errs, buildInputNamespace(u, obj)...)
				errs = append(errs, gpgKeyFindings(u, obj, keyUsers(b))...)
			}
		case bundle.GVKMachineConfig:
			if u.GetLabels()[LabelMCPRole] == "" {
				warns = append(warns, &Finding{Object: obj, Field: "metadata.labels", Setting: SettingPool,
					Message: fmt.Sprintf("no %s label: no pool's selector picks this MachineConfig up", LabelMCPRole)})
			}
		case bundle.GVKImageRegistryConfig:
			if u.GetName() != "cluster" {
				errs = append(errs, &Finding{Object: obj, Field: "metadata.name", Setting: SettingRegistrySize,
					Message: "the image registry operator reads only the Config named cluster"})
			}
		}
	}
	errs = append(errs, poolConflicts(b)...)
	return errs, warns
}

func validateMOSC(u *unstructured.Unstructured) (errs, warns []*Finding) {
	v1 := u.GroupVersionKind() == bundle.GVKMachineOSConfig
	pool, _, _ := unstructured.NestedString(u.Object, "spec", "machineConfigPool", "name")
	pushPath := []string{"spec", "renderedImagePushSpec"}
	cfPath := []string{"spec", "containerFile"}
	noArch := "NoArch"
	if !v1 {
		pushPath = []string{"spec", "buildInputs", "renderedImagePushspec"}
		cfPath = []string{"spec", "buildInputs", "containerFile"}
		noArch = "noarch"
	}
	if u.GetName() != pool {
		errs = append(errs, &Finding{Field: "metadata.name", Setting: SettingPool,
			Message: fmt.Sprintf("MachineOSConfig name %q must equal its pool %q (the CRD allows one MachineOSConfig per pool, named after it)", u.GetName(), pool)})
	}
	for _, m := range profile.SubdomainErrors(pool) {
		errs = append(errs, &Finding{Field: "spec.machineConfigPool.name", Setting: SettingPool, Message: fmt.Sprintf("pool %q: %s", pool, m)})
	}
	if pool == "master" {
		warns = append(warns, &Finding{Field: "spec.machineConfigPool.name", Setting: SettingPool,
			Message: "layering the master pool: On-Cluster Layering documents worker and custom pools; single-node OpenShift is not supported by the docs (the walkthrough ran on SNO), and every control-plane node reboots into the new image"})
	}
	spec, _, _ := unstructured.NestedString(u.Object, pushPath...)
	if msg := PushSpecError(u.GetAPIVersion(), spec); msg != "" {
		errs = append(errs, &Finding{Field: strings.Join(pushPath, "."), Setting: SettingPushSpec, Message: msg})
	}
	cfs, _, _ := unstructured.NestedSlice(u.Object, cfPath...)
	found := 0
	for i, c := range cfs {
		m, _ := c.(map[string]any)
		arch, _ := m["containerfileArch"].(string)
		if arch == "" {
			arch = noArch // the CRD default
		}
		field := fmt.Sprintf("%s[%d]", strings.Join(cfPath, "."), i)
		if arch != noArch {
			warns = append(warns, &Finding{Field: field, Setting: SettingPlatform,
				Message: fmt.Sprintf("containerfileArch %s is ignored: MCO builds only the %s entry", arch, noArch)})
			continue
		}
		found++
		content, _ := m["content"].(string)
		for _, msg := range CheckContainerfile(content) {
			errs = append(errs, &Finding{Field: field + ".content", Setting: SettingStack, Message: msg})
		}
	}
	if found != 1 {
		errs = append(errs, &Finding{Field: strings.Join(cfPath, "."), Setting: SettingStack,
			Message: fmt.Sprintf("want exactly one %s Containerfile entry (the only one MCO builds), found %d", noArch, found)})
	}
	return errs, warns
}

// buildInputNamespace: MCO mounts build inputs (etc-yum-repos-d,
// etc-pki-rpm-gpg) only from its own namespace; elsewhere they are ignored
// silently and the build fails later for want of repositories.
func buildInputNamespace(u *unstructured.Unstructured, obj string) []*Finding {
	if u.GetNamespace() == profile.MCONamespace {
		return nil
	}
	return []*Finding{{Object: obj, Field: "metadata.namespace", Setting: SettingRepos,
		Message: fmt.Sprintf("namespace %q: MCO mounts build inputs only from %s", u.GetNamespace(), profile.MCONamespace)}}
}

// repoWarnings warns for every repo section with gpgcheck=0.
func repoWarnings(u *unstructured.Unstructured, obj string) []*Finding {
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*Finding
	for _, k := range keys {
		section := ""
		for _, line := range strings.Split(data[k], "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
				section = strings.Trim(line, "[]")
				continue
			}
			key, val, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(key) == "gpgcheck" && strings.TrimSpace(val) == "0" {
				out = append(out, &Finding{Object: obj, Field: fmt.Sprintf("data[%s][%s]", k, section), Setting: SettingRepos,
					Message: "gpgcheck=0: packages from this repository are installed without signature checks"})
			}
		}
	}
	return out
}

// checkPlan validates what the templates cannot see wrong by themselves.
func checkPlan(p *profile.Plan) []*Finding {
	var errs []*Finding
	add := func(setting, field, format string, args ...any) {
		errs = append(errs, &Finding{Setting: setting, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if p.Pool == "" {
		add(SettingPool, "pool", "no pool: name the MachineConfigPool to layer (e.g. worker)")
	}
	if p.MOSC.Name != p.Pool {
		add(SettingPool, "MOSC.Name", "MachineOSConfig name %q must equal the pool %q", p.MOSC.Name, p.Pool)
	}
	for _, m := range profile.LabelValueErrors(p.Site) {
		add(SettingSite, "site", "site name %q is not a valid label value: %s", p.Site, m)
	}
	if p.Site == "" {
		add(SettingSite, "site", "site name is empty; it becomes the %s label", profile.LabelSite)
	}
	switch {
	case p.MOSC.APIVersion == bundle.GVKMachineOSConfig.GroupVersion().String() && p.MOSC.ImageBuilderType != "Job",
		p.MOSC.APIVersion == bundle.GVKMachineOSConfigV1alpha1.GroupVersion().String() && p.MOSC.ImageBuilderType != "PodImageBuilder":
		add(SettingOpenShift, "MOSC.ImageBuilderType", "image builder %q does not go with %s (v1: Job; v1alpha1: PodImageBuilder)", p.MOSC.ImageBuilderType, p.MOSC.APIVersion)
	}
	for _, n := range []struct{ field, name string }{
		{"MOSC.PushSecretName", p.MOSC.PushSecretName},
		{"MOSC.BaseImagePullSecretName", p.MOSC.BaseImagePullSecretName},
	} {
		if n.name == "" && n.field == "MOSC.BaseImagePullSecretName" {
			continue // optional in v1 (MCO defaults to the cluster pull secret); v1alpha1's template requires it
		}
		for _, m := range profile.SubdomainErrors(n.name) {
			add(SettingSecrets, n.field, "secret name %q: %s", n.name, m)
		}
	}
	switch p.Secrets.Mode {
	case profile.SecretsNone, profile.SecretsPlaceholder, "":
	default:
		add(SettingSecrets, "Secrets.Mode", "unknown secret mode %q; known: none, placeholder", p.Secrets.Mode)
	}
	if r := p.Registry; r != nil {
		if q, err := resource.ParseQuantity(r.Size); err != nil || q.Sign() <= 0 {
			add(SettingRegistrySize, "Registry.Size", "registry size %q is not a positive quantity (e.g. 100Gi)", r.Size)
		}
		if r.StorageClass != "" {
			for _, m := range profile.SubdomainErrors(r.StorageClass) {
				add(SettingStorageClass, "Registry.StorageClass", "storage class %q: %s", r.StorageClass, m)
			}
		}
		switch r.AccessMode {
		case "ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod":
		default:
			add(SettingRegistrySize, "Registry.AccessMode", "access mode %q; known: ReadWriteOnce, ReadWriteMany, ReadWriteOncePod", r.AccessMode)
		}
		switch r.RolloutStrategy {
		case "Recreate", "RollingUpdate":
		default:
			add(SettingRegistrySize, "Registry.RolloutStrategy", "rollout strategy %q; known: Recreate, RollingUpdate", r.RolloutStrategy)
		}
		if r.Replicas < 1 {
			add(SettingRegistrySize, "Registry.Replicas", "replicas must be at least 1, got %d", r.Replicas)
		}
		if r.ClaimName == "" {
			add(SettingRegistrySize, "Registry.ClaimName", "empty claim name")
		}
	}
	if h := p.Node.Hugepages; h != nil {
		for _, s := range []string{h.DefaultSize, h.Size} {
			if s != "" && !matchHugepageSize(s) {
				add(SettingStack, "Node.Hugepages", "hugepage size %q; want 2M or 1G", s)
			}
		}
		if h.Size == "" || h.Count < 1 {
			add(SettingStack, "Node.Hugepages", "hugepages need a size and a count of at least 1")
		}
	}
	keys := make([]string, 0, len(p.Node.OtherConfig))
	for k := range p.Node.OtherConfig {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// The values go unquoted into a systemd ExecStart= and ovs-vsctl's
		// argument syntax; a small character set keeps both exact.
		if !matchOVSToken(k) || !matchOVSToken(p.Node.OtherConfig[k]) {
			add(SettingStack, "Node.OtherConfig["+k+"]", "other_config %s=%s: keys and values must match %s", k, p.Node.OtherConfig[k], ovsToken)
		}
	}
	for i, rf := range p.RepoFiles {
		if !matchRepoFileName(rf.FileName) {
			add(SettingRepos, fmt.Sprintf("RepoFiles[%d]", i), "repo file name %q must match %s (a ConfigMap key ending in .repo)", rf.FileName, repoFileName)
		}
		for j, r := range rf.Repos {
			for _, v := range append([]string{r.ID, r.Name, r.BaseURL, r.GPGKey}, r.Comment...) {
				if strings.ContainsAny(v, "\n\r") {
					add(SettingRepos, fmt.Sprintf("RepoFiles[%d].Repos[%d]", i, j), "repo values must be single lines")
				}
			}
			if r.ID == "" || r.BaseURL == "" {
				add(SettingRepos, fmt.Sprintf("RepoFiles[%d].Repos[%d]", i, j), "repo needs an id and a baseurl")
			}
			if r.GPGCheck && r.GPGKey == "" {
				add(SettingRepos, fmt.Sprintf("RepoFiles[%d].Repos[%d]", i, j), "repo %s has gpgcheck=1 but no gpgkey", r.ID)
			}
		}
	}
	for i, k := range p.GPGKeys {
		if !matchRepoFileNameAny(k.FileName) {
			add(SettingRepos, fmt.Sprintf("GPGKeys[%d]", i), "GPG key %q must have a plain file name", k.FileName)
		}
		if _, err := profile.ParseGPGKey([]byte(k.Armored)); err != nil {
			add(SettingRepos, fmt.Sprintf("GPGKeys[%d]", i), "GPG key %s: %v", k.FileName, err)
		}
	}
	return errs
}

// The matchers in match.go implement these; the expressions are their
// reference (TestMatchers) and name the rule in messages.
var (
	hugepageSize    = lazyre.New(`^(2M|1G)$`)
	ovsToken        = lazyre.New(`^[A-Za-z0-9._:/-]+$`)
	repoFileName    = lazyre.New(`^[A-Za-z0-9._-]+\.repo$`)
	repoFileNameAny = lazyre.New(`^[A-Za-z0-9._-]+$`)
)

// keyUsers maps a key file name under /etc/pki/rpm-gpg to the repos of
// ConfigMap etc-yum-repos-d whose gpgkey names it.
func keyUsers(b *bundle.Bundle) map[string][]string {
	out := map[string][]string{}
	for _, o := range b.Objects {
		u := o.Content
		if u.GroupVersionKind() != bundle.GVKConfigMap || u.GetName() != "etc-yum-repos-d" {
			continue
		}
		data, _, _ := unstructured.NestedStringMap(u.Object, "data")
		for file, text := range data {
			section := ""
			for _, line := range strings.Split(text, "\n") {
				line = strings.TrimSpace(line)
				if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
					section = strings.Trim(line, "[]")
					continue
				}
				k, v, ok := strings.Cut(line, "=")
				if !ok || strings.TrimSpace(k) != "gpgkey" {
					continue
				}
				for _, url := range strings.Fields(strings.ReplaceAll(v, ",", " ")) {
					if name, ok := strings.CutPrefix(url, "file://"+profile.GPGKeyDir+"/"); ok {
						out[name] = append(out[name], file+" ["+section+"]")
					}
				}
			}
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// gpgKeyFindings parses every key file of Secret etc-pki-rpm-gpg (issue 9:
// garbage between the armour lines passed), naming the file and the repos
// that use it.
func gpgKeyFindings(u *unstructured.Unstructured, obj string, users map[string][]string) []*Finding {
	var out []*Finding
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		raw, err := base64.StdEncoding.DecodeString(data[name])
		if err == nil {
			_, err = profile.ParseGPGKey(raw)
		}
		if err == nil {
			continue
		}
		repos := "no repo uses it"
		if r := users[name]; len(r) > 0 {
			repos = "used by " + strings.Join(r, ", ")
		}
		out = append(out, &Finding{Object: obj, Field: "data." + name, Setting: SettingRepos,
			Message: fmt.Sprintf("key file %s (%s): %v", name, repos, err)})
	}
	return out
}
