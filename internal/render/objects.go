package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"text/template"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/templates"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Annotations mosc puts on the MachineOSConfig so later commands (gate,
// diff, status) know what was rendered without the site file.
const (
	AnnotationOpenShift = "mosc.dev/openshift"
	AnnotationPlatform  = "mosc.dev/platform"
	AnnotationStacks    = "mosc.dev/stacks"
	// AnnotationPlaceholder on a placeholder Secret says what mints the real one.
	AnnotationPlaceholder = "mosc.dev/placeholder"
	// LabelMCPRole selects the pool a MachineConfig belongs to.
	LabelMCPRole = "machineconfiguration.openshift.io/role"
)

// objectSpec is one slot of the bundle: the fixed order and file-name
// prefix, the template, when it applies, and how it is applied.
type objectSpec struct {
	slot     int
	template string
	gvk      schema.GroupVersionKind
	mode     bundle.ApplyMode
	secret   bool
	when     func(*profile.Plan) bool
	// items renders the template once per item (nil: once, Item nil).
	items func(*profile.Plan) []any
}

// placeholder is the Item of a placeholder Secret.
type placeholder struct {
	Name    string
	Purpose string
}

func hasDocaInitUnit(p *profile.Plan) bool {
	return p.Node.DocaInit || p.Node.HWOffload || len(p.Node.OtherConfig) > 0
}

// bundleOrder is the fixed order of a bundle: what the build reads must
// exist before the MachineOSConfig that starts it.
var bundleOrder = []objectSpec{
	{slot: 10, template: "registry-pvc.yaml.tmpl", gvk: bundle.GVKPersistentVolumeClaim, mode: bundle.ModeApply,
		when: func(p *profile.Plan) bool { return p.Registry != nil }},
	{slot: 11, template: "registry-config.yaml.tmpl", gvk: bundle.GVKImageRegistryConfig, mode: bundle.ModeMergePatch,
		when: func(p *profile.Plan) bool { return p.Registry != nil }},
	{slot: 20, template: "yum-repos-configmap.yaml.tmpl", gvk: bundle.GVKConfigMap, mode: bundle.ModeApply,
		when: func(p *profile.Plan) bool { return len(p.RepoFiles) > 0 }},
	{slot: 21, template: "gpg-keys-secret.yaml.tmpl", gvk: bundle.GVKSecret, mode: bundle.ModeApply,
		when: func(p *profile.Plan) bool { return len(p.GPGKeys) > 0 }},
	{slot: 30, template: "placeholder-secret.yaml.tmpl", gvk: bundle.GVKSecret, mode: bundle.ModeApply, secret: true,
		when: func(p *profile.Plan) bool { return p.Secrets.Mode == profile.SecretsPlaceholder },
		items: func(p *profile.Plan) []any {
			var out []any
			if p.MOSC.PushSecretName != "" {
				out = append(out, placeholder{p.MOSC.PushSecretName,
					"push credentials for " + p.MOSC.PushSpec + "; mosc apply mints them (a builder service-account token for the internal registry)"})
			}
			if n := p.MOSC.BaseImagePullSecretName; n != "" && n != p.MOSC.PushSecretName {
				out = append(out, placeholder{n,
					"the cluster pull secret merged with the push credentials; mosc apply builds it from openshift-config/pull-secret"})
			}
			return out
		}},
	{slot: 40, template: "hugepages-machineconfig.yaml.tmpl", gvk: bundle.GVKMachineConfig, mode: bundle.ModeApply,
		when: func(p *profile.Plan) bool { return p.Node.Hugepages != nil }},
	{slot: 41, template: "doca-init-machineconfig.yaml.tmpl", gvk: bundle.GVKMachineConfig, mode: bundle.ModeApply,
		when: hasDocaInitUnit},
	{slot: 42, template: "extensions-machineconfig.yaml.tmpl", gvk: bundle.GVKMachineConfig, mode: bundle.ModeApply,
		when: func(p *profile.Plan) bool { return len(p.Extensions) > 0 }},
	{slot: 50, template: "machineosconfig-v1.yaml.tmpl", gvk: bundle.GVKMachineOSConfig, mode: bundle.ModeApply,
		when: func(p *profile.Plan) bool {
			return p.MOSC.APIVersion == bundle.GVKMachineOSConfig.GroupVersion().String()
		}},
	{slot: 50, template: "machineosconfig-v1alpha1.yaml.tmpl", gvk: bundle.GVKMachineOSConfigV1alpha1, mode: bundle.ModeApply,
		when: func(p *profile.Plan) bool {
			return p.MOSC.APIVersion == bundle.GVKMachineOSConfigV1alpha1.GroupVersion().String()
		}},
}

var (
	templatesOnce sync.Once
	templatesSet  *template.Template
	templatesErr  error
)

func loadTemplates() (*template.Template, error) {
	templatesOnce.Do(func() { templatesSet, templatesErr = parseTemplates(templates.FS) })
	return templatesSet, templatesErr
}

func parseTemplates(fsys fs.FS) (*template.Template, error) {
	names, err := globSuffix(fsys, ".yaml.tmpl")
	if err != nil {
		return nil, err
	}
	srcs := make([]source, len(names))
	for i, n := range names {
		text, err := readSource(fsys, n, "templates/"+n)
		if err != nil {
			return nil, err
		}
		srcs[i] = source{"templates/" + n, text}
	}
	return newSet("templates", srcs)
}

// objData is what a manifest template sees: the plan's fields plus the
// values every template needs computed once. The plan's fields are its
// own (planFields), not promoted from an embedded *profile.Plan: text/template
// finds a field with reflect's FieldByName, which for a promoted field runs
// a breadth-first search over the embedded structs that allocates three
// maps (~4.8 K instructions a look-up, 22 in a walkthrough render; issue
// 15). TestTemplateDataHasPlanFields holds both data types to profile.Plan.
type objData struct {
	// profile.Plan's fields, in its order (copied by newObjData).
	Site          string
	OpenShift     profile.ReleaseInfo
	Platform      profile.PlatformInfo
	Stacks        []profile.StackInfo
	Pool          string
	MOSC          profile.MOSCPlan
	Registry      *profile.RegistryPlan
	RepoFiles     []profile.RepoFile
	GPGKeys       []profile.GPGKey
	EnableRepos   []string
	UnsignedRepos []string
	Extensions    []string
	Layers        []profile.LayerInvocation
	Node          profile.NodeSettings
	Secrets       profile.SecretsPlan
	Verify        profile.VerifyPlan
	Warnings      []profile.Warning

	Namespace   string
	Labels      map[string]string
	RoleLabels  map[string]string
	Annotations map[string]string
	// Containerfile is the composed MOSC Containerfile.
	Containerfile string
	// OVSOtherConfig is every other_config key the doca-init unit sets.
	OVSOtherConfig map[string]string
	Item           any
}

func newObjData(p *profile.Plan, containerfile string) *objData {
	labels := map[string]string{profile.LabelManagedBy: profile.LabelManagedByValue, profile.LabelSite: p.Site}
	role := map[string]string{LabelMCPRole: p.Pool}
	for k, v := range labels {
		role[k] = v
	}
	stacks := make([]string, len(p.Stacks))
	for i, s := range p.Stacks {
		stacks[i] = s.Name
		if s.Variant != "" {
			stacks[i] += ":" + s.Variant
		}
	}
	ovs := map[string]string{}
	for k, v := range p.Node.OtherConfig {
		ovs[k] = v
	}
	if p.Node.DocaInit {
		ovs["doca-init"] = "true"
	}
	if p.Node.HWOffload {
		ovs["hw-offload"] = "true"
	}
	return &objData{
		Site: p.Site, OpenShift: p.OpenShift, Platform: p.Platform, Stacks: p.Stacks, Pool: p.Pool, MOSC: p.MOSC,
		Registry: p.Registry, RepoFiles: p.RepoFiles, GPGKeys: p.GPGKeys, EnableRepos: p.EnableRepos,
		UnsignedRepos: p.UnsignedRepos, Extensions: p.Extensions, Layers: p.Layers, Node: p.Node, Secrets: p.Secrets,
		Verify: p.Verify, Warnings: p.Warnings,

		Namespace:  profile.MCONamespace,
		Labels:     labels,
		RoleLabels: role,
		Annotations: map[string]string{
			AnnotationOpenShift: p.OpenShift.Label(),
			AnnotationPlatform:  p.Platform.Name,
			AnnotationStacks:    strings.Join(stacks, ","),
		},
		Containerfile:  containerfile,
		OVSOtherConfig: ovs,
	}
}

// renderObjects executes the applicable templates in bundle order and
// strictly decodes each result into its real Go type. The objects render
// on up to GOMAXPROCS goroutines (serial set: one); the bundle, and which
// error is returned when several fail, are those of rendering them one
// after another (the checks run in bundle order once all are done).
func renderObjects(p *profile.Plan, containerfile string, memo *Memo) (*bundle.Bundle, error) {
	t, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	base := newObjData(p, containerfile)
	type job struct {
		spec objectSpec
		i    int
		item any
		file string
		u    *unstructured.Unstructured
		err  error
	}
	var jobs []*job
	for _, spec := range bundleOrder {
		if !spec.when(p) {
			continue
		}
		items := []any{nil}
		if spec.items != nil {
			items = spec.items(p)
		}
		for i, item := range items {
			jobs = append(jobs, &job{spec: spec, i: i, item: item, file: "templates/" + spec.template})
		}
	}
	do := func(j *job) {
		base.Item = j.item // one object at a time (below): base is not shared
		var out bytes.Buffer
		if err := t.ExecuteTemplate(&out, j.file, base); err != nil {
			j.err = templateError(err)
			return
		}
		// The output is decoded in place, and copied into a memo key only
		// when there is a memo (render --all): a single render's heap is all
		// first-touch pages (issue 15).
		var key string
		if memo != nil {
			key = j.file + "\x00" + out.String()
		}
		u, ok := memo.get(key)
		if !ok {
			doc, err := bundle.YAMLToJSONStrict(out.Bytes())
			if err != nil {
				j.err = fmt.Errorf("%s: rendered YAML: %v", j.file, err)
				return
			}
			if u, err = doc.DecodeStrict(); err != nil {
				j.err = fmt.Errorf("%s: %v", j.file, err)
				return
			}
			memo.put(key, u)
		}
		j.u = u
	}
	// One after another, on the calling goroutine: a bundle is a handful
	// of objects, about 2 ms of work, and handing half of them to another
	// goroutine cost more than it saved — waking a second CPU and giving it
	// its own heap spans made the walkthrough render ~2.5 ms slower on the
	// 2-core bench VM (issue 15). render --all runs whole plans in parallel
	// (RenderEach).
	for _, j := range jobs {
		if do(j); j.err != nil {
			break // the loop below returns it after the earlier objects' checks
		}
	}
	b := &bundle.Bundle{}
	seen := map[string]bool{}
	moscs := 0
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
		u, spec, file := j.u, j.spec, j.file
		if u.GroupVersionKind() != spec.gvk {
			return nil, fmt.Errorf("%s: rendered %s, want %s", file, u.GroupVersionKind(), spec.gvk)
		}
		name := fmt.Sprintf("%02d-%s-%s.yaml", spec.slot+j.i, strings.ToLower(u.GetKind()), u.GetName())
		if seen[name] {
			return nil, fmt.Errorf("%s: object file %s rendered twice", file, name)
		}
		seen[name] = true
		if spec.gvk.Kind == "MachineOSConfig" {
			moscs++
		}
		b.Objects = append(b.Objects, bundle.Object{Content: u, Mode: spec.mode, FileName: name, Secret: spec.secret})
	}
	if moscs != 1 {
		return nil, &Finding{Setting: SettingOpenShift, Field: "MOSC.APIVersion",
			Message: fmt.Sprintf("unsupported MachineOSConfig API version %q; known: %s, %s", p.MOSC.APIVersion,
				bundle.GVKMachineOSConfig.GroupVersion(), bundle.GVKMachineOSConfigV1alpha1.GroupVersion())}
	}
	return b, nil
}
