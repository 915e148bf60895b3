package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// DryRun is apply's and remove's --dry-run mode.
type DryRun string

const (
	DryRunNone   DryRun = ""
	DryRunClient DryRun = "client" // nothing sent that changes state
	DryRunServer DryRun = "server" // every write sent with dryRun=All
)

// ParseDryRun reads the --dry-run flag value ("none" = off, as kubectl).
func ParseDryRun(s string) (DryRun, error) {
	switch s {
	case "", "none":
		return DryRunNone, nil
	case "client":
		return DryRunClient, nil
	case "server":
		return DryRunServer, nil
	}
	return "", fmt.Errorf("--dry-run: %q is not one of none, client, server", s)
}

func (d DryRun) opts() []string {
	if d == DryRunServer {
		return []string{metav1.DryRunAll}
	}
	return nil
}

func (d DryRun) suffix() string {
	switch d {
	case DryRunClient:
		return " (dry run)"
	case DryRunServer:
		return " (server dry run)"
	}
	return ""
}

// ApplyOptions are the knobs of `mosc apply`.
type ApplyOptions struct {
	DryRun         DryRun
	ForceConflicts bool
	TokenTTL       time.Duration
	RotateToken    bool
	// PushAuth holds external push credentials (--push-auth); nil means the
	// internal registry, with PushCredential.
	PushAuth *PushAuth
	// PushCredential is --push-credential: PushCredentialLongLived (default:
	// the token of a service-account token Secret, which does not expire) or
	// PushCredentialToken (a TokenRequest token of TokenTTL). pushcred.go.
	PushCredential  string
	WaitRegistry    bool
	RegistryTimeout time.Duration
	// DiscardRegistryImages replaces the storage of a registry that already
	// has some (DiscardImagesFlag); without it such a registry is used as it is.
	DiscardRegistryImages bool
	// OverwriteSharedInputs lets apply change repo files and keys that other
	// pools' builds use (OverwriteSharedFlag; sharedinputs.go).
	OverwriteSharedInputs bool
	// RenderTimeout bounds the wait for the render controller before a pool
	// paused around a multi-object change is unpaused (DefaultRenderTimeout).
	RenderTimeout time.Duration
	// Out gets one line per object ("configmap/x created"); Log gets progress
	// and warnings. Neither ever sees a credential.
	Out, Log io.Writer
	Now      func() time.Time
}

// Result is the outcome for one object, printed like kubectl.
type Result struct {
	Ref    string // "configmap/etc-yum-repos-d"
	Action string // created, configured, unchanged
	DryRun DryRun
}

func (r Result) String() string { return r.Ref + " " + r.Action + r.DryRun.suffix() }

// Applier applies a plan's bundle to one cluster.
type Applier struct {
	c      *Clients
	mapper meta.RESTMapper
	opts   ApplyOptions
}

// NewApplier prepares an applier; mapper may be nil (discovery is used).
func NewApplier(c *Clients, mapper meta.RESTMapper, opts ApplyOptions) *Applier {
	if mapper == nil {
		mapper = NewMapper(c)
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.PushCredential == "" {
		opts.PushCredential = PushCredentialLongLived
	}
	return &Applier{c: c, mapper: mapper, opts: opts}
}

// Prepared is a bundle resolved against the cluster: every object mapped to
// its resource, the push host known. Prepare writes nothing.
type Prepared struct {
	Plan     *profile.Plan
	PushHost string
	// registryPVC is the claim to apply when the plan enables the registry.
	registryPVC *unstructured.Unstructured
	// registry is the Preflight's decision about the live registry.
	registry RegistryDecision
	// storage is the Preflight's check of the registry claim's storage class.
	storage RegistryStorageCheck
	// shared is the Preflight's check of the build inputs other pools share.
	shared  SharedInputsCheck
	objects []preparedObject
	targets []Target
}

type preparedObject struct {
	obj  *unstructured.Unstructured
	gvr  schema.GroupVersionResource
	mode bundle.ApplyMode
}

var pvcGVR = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Prepare validates the plan's push spec, maps every bundle object to its
// resource through discovery, and sorts out which objects the registry and
// secret steps handle themselves.
func (a *Applier) Prepare(plan *profile.Plan, b *bundle.Bundle) (*Prepared, error) {
	host, err := PushHost(plan.MOSC.PushSpec)
	if err != nil {
		return nil, err
	}
	if a.opts.PushAuth != nil && a.opts.PushAuth.Host != host {
		return nil, fmt.Errorf("--push-auth has credentials for %q, but the push spec's registry is %q", a.opts.PushAuth.Host, host)
	}
	if plan.MOSC.PushSecretName == "" {
		return nil, errors.New("the plan names no push secret")
	}
	if plan.Site == "" {
		return nil, errors.New("the plan has no site name: mosc labels everything it creates with it, so `mosc remove` can find it")
	}
	p := &Prepared{Plan: plan, PushHost: host}
	if plan.Registry != nil {
		p.registryPVC = RegistryPVC(plan.Registry, plan.Site)
	}
	ownSecrets := map[string]bool{plan.MOSC.PushSecretName: true}
	if n := plan.MOSC.BaseImagePullSecretName; n != "" {
		ownSecrets[n] = true
	}
	for _, o := range b.Objects {
		u := o.Content.DeepCopy()
		gvk := u.GroupVersionKind()
		m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			if meta.IsNoMatchError(err) {
				return nil, fmt.Errorf("%s %s: the cluster does not serve %s (is On-Cluster Layering available in this OpenShift release?)", o.FileName, refOf(u, schema.GroupVersionResource{Group: gvk.Group}), gvk.GroupVersion().String()+", Kind="+gvk.Kind)
			}
			return nil, fmt.Errorf("%s: mapping %s: %w", o.FileName, gvk, err)
		}
		ns := u.GetNamespace()
		if m.Scope.Name() == meta.RESTScopeNameNamespace && ns == "" {
			return nil, fmt.Errorf("%s: %s %q is namespaced but has no namespace", o.FileName, gvk.Kind, u.GetName())
		}
		switch {
		case m.Resource == registryGVR && o.Mode == bundle.ModeMergePatch:
			// The registry step builds this patch from the plan.
			continue
		case m.Resource.GroupResource() == pvcGVR.GroupResource() && ns == RegistryNamespace && plan.Registry != nil && u.GetName() == plan.Registry.ClaimName:
			p.registryPVC = u
			continue
		case m.Resource.GroupResource() == secretGVR.GroupResource() && ns == profile.MCONamespace && ownSecrets[u.GetName()]:
			// The secret step writes the real credentials.
			continue
		}
		if o.Mode != bundle.ModeMergePatch {
			ensureLabels(u, plan.Site)
		}
		p.objects = append(p.objects, preparedObject{obj: u, gvr: m.Resource, mode: o.Mode})
	}
	if p.registryPVC != nil {
		ensureLabels(p.registryPVC, plan.Site)
		p.targets = append(p.targets,
			Target{GVR: pvcGVR, Namespace: RegistryNamespace, Name: p.registryPVC.GetName()},
			Target{GVR: registryGVR, Name: RegistryConfigName, MergePatch: true})
	}
	for _, n := range []string{plan.MOSC.PushSecretName, plan.MOSC.BaseImagePullSecretName} {
		if n != "" {
			p.targets = append(p.targets, Target{GVR: secretGVR, Namespace: profile.MCONamespace, Name: n})
		}
	}
	if a.longLived() {
		p.targets = append(p.targets, Target{GVR: secretGVR, Namespace: profile.MCONamespace, Name: BuilderTokenSecret})
	}
	for _, o := range p.objects {
		p.targets = append(p.targets, Target{GVR: o.gvr, Namespace: o.obj.GetNamespace(), Name: o.obj.GetName(), MergePatch: o.mode == bundle.ModeMergePatch})
	}
	return p, nil
}

// ensureLabels adds mosc's labels when the renderer did not.
func ensureLabels(u *unstructured.Unstructured, site string) {
	l := u.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	for k, v := range Labels(site) {
		if _, ok := l[k]; !ok {
			l[k] = v
		}
	}
	u.SetLabels(l)
}

// Preflight checks, before any write, that the pool exists, that the
// builder service account is there to mint a token for, and that the caller
// may do everything apply will do. A *PermissionError lists what is missing.
func (a *Applier) Preflight(ctx context.Context, p *Prepared) error {
	if p.registryPVC != nil {
		a.decideRegistry(ctx, p)
	}
	// Permissions first: a restricted user gets the whole list at once.
	mint := a.opts.PushAuth == nil && !a.longLived()
	needs := ApplyNeeds(p.targets, mint, p.registryPVC != nil)
	if a.longLived() && a.opts.RotateToken {
		// --rotate-token replaces the token Secret, which revokes the old token.
		needs = append(needs, Permission{Verb: "delete", Resource: "secrets", Namespace: profile.MCONamespace, Name: BuilderTokenSecret})
	}
	if err := CheckPermissions(ctx, a.c, needs); err != nil {
		return err
	}
	if err := PoolExists(ctx, a.c, p.Plan.Pool); err != nil {
		return err
	}
	if err := PoolCompatible(ctx, a.c, p.Plan); err != nil {
		return err
	}
	shared, err := a.checkSharedInputs(ctx, p, a.opts.OverwriteSharedInputs)
	if err != nil {
		return err
	}
	if shared.Refuse != "" {
		return errors.New(shared.Refuse)
	}
	p.shared = shared
	if a.opts.PushAuth == nil {
		_, err := a.c.Kube.CoreV1().ServiceAccounts(profile.MCONamespace).Get(ctx, BuilderSA, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("serviceaccount %s/%s not found: it pushes the built image; on OpenShift the controller manager creates it", profile.MCONamespace, BuilderSA)
		}
		if err != nil && !apierrors.IsForbidden(err) { // reading it is not a permission apply needs
			return fmt.Errorf("serviceaccount %s/%s: %w", profile.MCONamespace, BuilderSA, err)
		}
	}
	if _, err := a.c.Kube.CoreV1().Secrets(PullSecretNamespace).Get(ctx, PullSecretName, metav1.GetOptions{}); err != nil {
		return fmt.Errorf("the cluster pull secret %s/%s: %w", PullSecretNamespace, PullSecretName, err)
	}
	if p.registryPVC != nil && p.Plan.Registry != nil && p.registry.Action == RegistryEnable {
		if err := checkRegistryClaim(ctx, a.c, p.Plan.Registry); err != nil {
			return err
		}
		// A node-local volume deadlocks a multi-node rollout (registrystorage.go).
		p.storage = CheckRegistryStorage(ctx, a.c, p.Plan.Registry, p.Plan.Pool)
		if p.storage.Refuse != "" {
			return errors.New(p.storage.Refuse)
		}
	}
	return nil
}

// decideRegistry reads the live registry Config and decides whether to
// enable it on mosc's claim or use it as it is; when it is used as it is,
// the claim and the Config patch leave the plan (and the permissions asked
// for). A Config mosc may not read is decided later by the permission check.
func (a *Applier) decideRegistry(ctx context.Context, p *Prepared) {
	live, err := a.c.Dynamic.Resource(registryGVR).Get(ctx, RegistryConfigName, metav1.GetOptions{})
	if err != nil {
		return
	}
	p.registry = DecideRegistry(RegistryStateOf(live), p.Plan.Registry.ClaimName, a.opts.DiscardRegistryImages)
	if p.registry.Action == RegistryEnable {
		return
	}
	var keep []Target
	for _, t := range p.targets {
		if t.GVR == pvcGVR && t.Namespace == RegistryNamespace {
			continue
		}
		if t.GVR == registryGVR {
			continue
		}
		keep = append(keep, t)
	}
	p.targets = keep
}

// checkRegistryClaim refuses, before any write, a storage class the existing
// registry PVC cannot take: spec.storageClassName is immutable once set, and
// the API server's answer to the apply would be a bare "field is immutable".
func checkRegistryClaim(ctx context.Context, c *Clients, r *profile.RegistryPlan) error {
	if r.StorageClass == "" {
		return nil // the rendered PVC leaves the field alone
	}
	pvc, err := c.Kube.CoreV1().PersistentVolumeClaims(RegistryNamespace).Get(ctx, r.ClaimName, metav1.GetOptions{})
	if err != nil {
		return nil // absent: apply creates it; other errors surface on the write
	}
	if cur := pvc.Spec.StorageClassName; cur != nil && *cur != "" && *cur != r.StorageClass {
		return fmt.Errorf("persistentvolumeclaim %s/%s exists with storage class %s; its storage class cannot change to %s: "+
			"use --storage-class %s (spec.registry.storageClass), or delete the claim first (mosc remove --registry; the registry's images go with it)",
			RegistryNamespace, r.ClaimName, *cur, r.StorageClass, *cur)
	}
	return nil
}

// Apply writes, in order: the registry (PVC, Config patch, wait), the push
// and pull-and-push secrets, then the bundle in its order (the MOSC last).
// It stops at the first failure: later objects depend on earlier ones.
func (a *Applier) Apply(ctx context.Context, p *Prepared) ([]Result, error) {
	var results []Result
	emit := func(rs ...Result) {
		for _, r := range rs {
			fmt.Fprintln(a.opts.Out, r.String())
			results = append(results, r)
		}
	}
	if p.registryPVC != nil {
		for _, w := range p.registry.Warnings {
			fmt.Fprintf(a.opts.Log, "warning: %s\n", w)
		}
		if p.registry.Note != "" {
			fmt.Fprintln(a.opts.Log, p.registry.Note)
		}
		if p.registry.Action == RegistryReuse && p.Plan.Registry.StorageClass != "" {
			fmt.Fprintf(a.opts.Log, "note: --storage-class %s (spec.registry.storageClass) is not used: the registry keeps its storage\n", p.Plan.Registry.StorageClass)
		}
		for _, w := range p.storage.Warnings {
			fmt.Fprintf(a.opts.Log, "warning: %s\n", w)
		}
		for _, n := range p.storage.Notes {
			fmt.Fprintln(a.opts.Log, n)
		}
		if p.registry.Action == RegistryEnable {
			r, err := a.applyObject(ctx, p.registryPVC, pvcGVR)
			if err != nil {
				return results, err
			}
			emit(r)
			rs, err := a.enableRegistry(ctx, p.Plan.Registry, p.Plan.Site)
			emit(rs...)
			if err != nil {
				return results, err
			}
		}
		if a.opts.WaitRegistry && a.opts.DryRun == DryRunNone && p.registry.Action != RegistryUnmanaged {
			start := time.Now()
			waited := false
			err := WaitRegistryAvailable(ctx, a.c, a.opts.RegistryTimeout, func() {
				waited = true
				fmt.Fprintf(a.opts.Log, "waiting up to %v for the image registry to report Available...\n", a.opts.RegistryTimeout)
			})
			if err != nil {
				return results, err
			}
			if waited {
				fmt.Fprintf(a.opts.Log, "the image registry is available (after %v)\n", time.Since(start).Round(time.Second))
			}
		}
	}
	for _, w := range p.shared.Warnings {
		fmt.Fprintf(a.opts.Log, "warning: %s\n", w)
	}
	rs, err := a.applySecrets(ctx, p)
	emit(rs...)
	if err != nil {
		return results, err
	}
	// More than one object that rolls the pool (MachineConfigs, the
	// MachineOSConfig) changing at once: pause the pool around the writes so
	// its nodes update once, to the end state (pause.go).
	hold, wantMC, err := a.pauseForApply(ctx, p)
	if err != nil {
		if hold != nil {
			_ = hold.release(ctx)
		}
		return results, err
	}
	if hold != nil {
		defer func() {
			if rerr := hold.release(ctx); rerr != nil {
				fmt.Fprintf(a.opts.Log, "error: %v\n", rerr)
			}
		}()
	}
	for _, o := range p.objects {
		var r Result
		var err error
		if o.mode == bundle.ModeMergePatch {
			r, err = a.mergePatchObject(ctx, o)
		} else {
			r, err = a.applyObject(ctx, o.obj, o.gvr)
		}
		if err != nil {
			return results, err
		}
		emit(r)
	}
	if hold != nil {
		if err := hold.waitRendered(ctx, nil, wantMC, a.renderTimeout()); err != nil {
			return results, fmt.Errorf("%w; the pool is unpaused anyway, so its nodes may update twice", err)
		}
	}
	return results, nil
}

func (a *Applier) renderTimeout() time.Duration {
	if a.opts.RenderTimeout > 0 {
		return a.opts.RenderTimeout
	}
	return DefaultRenderTimeout
}

// pauseForApply pauses the plan's pool when its MachineOSConfig already
// exists and more than one of its MachineConfigs and MachineOSConfig would
// change spec (judged client-side, as --dry-run=client does): the node
// controller acts on the MachineOSConfig at once, the render controller 5 s
// later, so an existing build that matches the new spec (MCO reuses a
// MachineOSBuild of the same name) would roll out before the MachineConfig
// change and then again after it. A first apply needs no pause: the pool
// waits for its first build, which starts from the config rendered with the
// new MachineConfigs. It returns the hold (nil when nothing was paused) and,
// per pool, the new MachineConfigs the render must include before unpausing.
func (a *Applier) pauseForApply(ctx context.Context, p *Prepared) (*poolHold, map[string][]string, error) {
	changing := 0
	mcSpecChanged := false
	moscExists := false
	var created []string
	for _, o := range p.objects {
		k := o.obj.GetKind()
		if o.gvr.Group != "machineconfiguration.openshift.io" || (k != "MachineConfig" && k != "MachineOSConfig") {
			continue
		}
		live, err := a.resource(o.gvr, "").Get(ctx, o.obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			live = nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", refOf(o.obj, o.gvr), err)
		}
		if k == "MachineOSConfig" && live != nil {
			moscExists = true
		}
		want, _, _ := unstructured.NestedFieldNoCopy(o.obj.Object, "spec")
		b, _ := json.Marshal(map[string]any{"spec": want})
		if clientChange(b, live) == "unchanged" {
			continue // labels alone roll nothing
		}
		changing++
		if k == "MachineConfig" {
			if live == nil {
				created = append(created, o.obj.GetName())
			} else {
				mcSpecChanged = true // same source names, new content: wait for a new rendered name
			}
		}
	}
	if !moscExists || changing < 2 || a.opts.DryRun == DryRunServer {
		return nil, nil, nil
	}
	before := ""
	if mcSpecChanged {
		pool, err := a.c.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, p.Plan.Pool, metav1.GetOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("machineconfigpool %s: %w", p.Plan.Pool, err)
		}
		before = pool.Spec.Configuration.Name
	}
	h, err := holdPools(ctx, a.c, []string{p.Plan.Pool}, a.opts.DryRun, a.opts.Log, "writes its MachineConfigs and MachineOSConfig")
	if err != nil {
		return h, nil, err
	}
	if len(h.paused) == 0 && len(h.kept) == 0 {
		return nil, nil, nil
	}
	if before != "" {
		h.renderedBefore = map[string]string{p.Plan.Pool: before}
	}
	return h, map[string][]string{p.Plan.Pool: created}, nil
}

// applySecrets writes the push secret (the token of the builder's
// service-account token Secret; with --push-credential token a builder token
// minted only when the old one is missing or past half its life; or external
// credentials) and the merged pull-and-push secret.
func (a *Applier) applySecrets(ctx context.Context, p *Prepared) ([]Result, error) {
	plan := p.Plan
	push := a.opts.PushAuth
	var results []Result
	if push == nil && a.longLived() {
		r, tok, err := a.applyBuilderTokenSecret(ctx, p)
		if r != nil {
			results = append(results, *r)
		}
		if err != nil {
			return results, err
		}
		push = TokenPushAuth(p.PushHost, tok)
	}
	if push == nil {
		existing, err := a.c.Kube.CoreV1().Secrets(profile.MCONamespace).Get(ctx, plan.MOSC.PushSecretName, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("secret %s/%s: %w", profile.MCONamespace, plan.MOSC.PushSecretName, err)
		}
		if err != nil {
			existing = nil
		}
		old, have := existingPushToken(existing, p.PushHost)
		d := DecideToken(old, have, a.opts.TokenTTL, a.opts.RotateToken, a.opts.Now())
		switch {
		case !d.Mint:
			fmt.Fprintf(a.opts.Log, "%s: keeping the builder token (%s)\n", plan.MOSC.PushSecretName, d.Reason)
			push = TokenPushAuth(p.PushHost, old)
		case a.opts.DryRun != DryRunNone:
			// TokenRequest has no dry-run: a real request would mint a real token.
			fmt.Fprintf(a.opts.Log, "%s: a new builder token would be minted (%s); not in a dry run, since the TokenRequest API has no dry-run\n", plan.MOSC.PushSecretName, d.Reason)
			// A placeholder, so the dry run shows both secrets changing.
			push = TokenPushAuth(p.PushHost, "dry-run-placeholder")
		default:
			tok, exp, err := MintBuilderToken(ctx, a.c.Kube, a.opts.TokenTTL)
			if err != nil {
				return nil, err
			}
			got := exp.Sub(a.opts.Now()).Round(time.Minute)
			fmt.Fprintf(a.opts.Log, "%s: minted a token for serviceaccount %s/%s (%s), valid until %s (%s)\n",
				plan.MOSC.PushSecretName, profile.MCONamespace, BuilderSA, d.Reason, exp.Format(time.RFC3339), humanDuration(got))
			if got < a.opts.TokenTTL-time.Minute {
				fmt.Fprintf(a.opts.Log, "warning: the API server granted %s of the requested --token-ttl %s\n", humanDuration(got), humanDuration(a.opts.TokenTTL))
			}
			push = TokenPushAuth(p.PushHost, tok)
		}
	}
	secrets := []*corev1.Secret{dockerSecret(plan.MOSC.PushSecretName, plan.Site, push.DockerConfigJSON())}
	// The merged copy only where the API requires a base image pull secret
	// (v1alpha1); on v1 the MCO reads the cluster pull secret itself.
	if plan.MOSC.BaseImagePullSecretName != "" {
		pull, err := a.c.Kube.CoreV1().Secrets(PullSecretNamespace).Get(ctx, PullSecretName, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("the cluster pull secret %s/%s: %w", PullSecretNamespace, PullSecretName, err)
		}
		merged, clash, err := MergePullSecret(pull.Data[corev1.DockerConfigJsonKey], push)
		if err != nil {
			return nil, err
		}
		if clash != "" {
			fmt.Fprintf(a.opts.Log, "note: %s/%s already has an auth for %q; in %s the push auth replaces it for that host (the cluster pull secret is not changed)\n",
				PullSecretNamespace, PullSecretName, clash, plan.MOSC.BaseImagePullSecretName)
		}
		secrets = append(secrets, dockerSecret(plan.MOSC.BaseImagePullSecretName, plan.Site, merged))
	}
	for _, s := range secrets {
		u, err := toUnstructured(s)
		if err != nil {
			return results, err
		}
		r, err := a.applyObject(ctx, u, secretGVR)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	if a.opts.PushAuth == nil && !a.longLived() {
		a.dropBuilderTokenSecret(ctx)
	}
	return results, nil
}

func toUnstructured(v any) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return u, nil
}

func humanDuration(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) < time.Hour {
		return fmt.Sprintf("%dd", int(d.Round(24*time.Hour)/(24*time.Hour)))
	}
	return d.Round(time.Minute).String()
}

func (a *Applier) resource(gvr schema.GroupVersionResource, ns string) dynamic.ResourceInterface {
	if ns == "" {
		return a.c.Dynamic.Resource(gvr)
	}
	return a.c.Dynamic.Resource(gvr).Namespace(ns)
}

// applyObject server-side applies one object as field manager "mosc" and
// says whether it was created, configured or left unchanged.
func (a *Applier) applyObject(ctx context.Context, obj *unstructured.Unstructured, gvr schema.GroupVersionResource) (Result, error) {
	ref := refOf(obj, gvr)
	ri := a.resource(gvr, obj.GetNamespace())
	before, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		before = nil
	} else if err != nil {
		return Result{}, fmt.Errorf("%s: %w", ref, err)
	}
	if before != nil && before.GetDeletionTimestamp() != nil {
		return Result{}, fmt.Errorf("%s is being deleted (finalizers: %s); apply again once it is gone", ref, strings.Join(before.GetFinalizers(), ", "))
	}
	res := Result{Ref: ref, DryRun: a.opts.DryRun}
	body, err := applyBody(obj)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", ref, err)
	}
	if a.opts.DryRun == DryRunClient {
		res.Action = clientChange(body, before)
		return res, nil
	}
	force := a.opts.ForceConflicts
	patch := func(dryRun []string) (*unstructured.Unstructured, error) {
		after, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &force, DryRun: dryRun})
		if err != nil {
			if c, ok := ParseConflict(err); ok {
				return nil, &ConflictError{Ref: ref, Managers: c}
			}
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		return after, nil
	}
	// A server dry run first: some kinds (PersistentVolumeClaims) get a new
	// resourceVersion from an apply that changes nothing, so an object that
	// is already as mosc wants it is not written at all.
	after, err := patch([]string{metav1.DryRunAll})
	if err != nil {
		return Result{}, err
	}
	res.Action = changeOf(before, after, DryRunServer)
	if res.Action == "unchanged" || a.opts.DryRun == DryRunServer {
		return res, nil
	}
	if _, err := patch(nil); err != nil {
		return Result{}, err
	}
	return res, nil
}

// applyBody is the object as an apply configuration: only what mosc sets.
func applyBody(obj *unstructured.Unstructured) ([]byte, error) {
	u := obj.DeepCopy()
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(u.Object, "status")
	return u.MarshalJSON()
}

// changeOf compares the object before and after a write. A real write that
// changed nothing keeps the resourceVersion; a server dry run never bumps
// it, so then the content is compared instead.
func changeOf(before, after *unstructured.Unstructured, d DryRun) string {
	if before == nil {
		return "created"
	}
	if d == DryRunServer {
		if equality.Semantic.DeepEqual(contentOf(before), contentOf(after)) {
			return "unchanged"
		}
		return "configured"
	}
	if before.GetResourceVersion() == after.GetResourceVersion() {
		return "unchanged"
	}
	return "configured"
}

// clientChange guesses, without asking the server, what a write of body
// (an apply configuration or a merge patch) would do to live: unchanged
// when live already holds every field of body with the same value (null in
// a merge patch: the field is absent). Server-side defaulting can make a
// guess "configured" where the server would change nothing; never the
// other way round.
func clientChange(body []byte, live *unstructured.Unstructured) string {
	if live == nil {
		return "created"
	}
	var want, have any
	if json.Unmarshal(body, &want) != nil {
		return "configured"
	}
	lb, err := live.MarshalJSON()
	if err != nil || json.Unmarshal(lb, &have) != nil {
		return "configured"
	}
	if subsetOf(want, have) {
		return "unchanged"
	}
	return "configured"
}

// subsetOf reports whether have holds everything want says (values decoded
// from JSON, so numbers compare as float64).
func subsetOf(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			hv, present := h[k]
			if wv == nil {
				if present && hv != nil {
					return false
				}
				continue
			}
			if !present || !subsetOf(wv, hv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !subsetOf(w[i], h[i]) {
				return false
			}
		}
		return true
	}
	return want == have
}

func contentOf(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	for _, f := range []string{"resourceVersion", "managedFields", "generation"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	return c.Object
}

// mergePatchObject sends a bundle object's fields (all but apiVersion, kind
// and metadata) as a JSON merge patch.
func (a *Applier) mergePatchObject(ctx context.Context, o preparedObject) (Result, error) {
	ref := refOf(o.obj, o.gvr)
	ri := a.resource(o.gvr, o.obj.GetNamespace())
	live, err := ri.Get(ctx, o.obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", ref, err)
	}
	patch := map[string]any{}
	for k, v := range o.obj.Object {
		if k != "apiVersion" && k != "kind" && k != "metadata" {
			patch[k] = v
		}
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", ref, err)
	}
	return a.mergePatch(ctx, live, o.gvr, body)
}

func (a *Applier) mergePatch(ctx context.Context, live *unstructured.Unstructured, gvr schema.GroupVersionResource, body []byte) (Result, error) {
	ref := refOf(live, gvr)
	if a.opts.DryRun == DryRunClient {
		return Result{Ref: ref, Action: clientChange(body, live), DryRun: DryRunClient}, nil
	}
	after, err := a.resource(gvr, live.GetNamespace()).Patch(ctx, live.GetName(), types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: FieldManager, DryRun: a.opts.DryRun.opts()})
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", ref, err)
	}
	return Result{Ref: ref, Action: changeOf(live, after, a.opts.DryRun), DryRun: a.opts.DryRun}, nil
}

// refOf names an object as kubectl does: "configmap/x",
// "machineosconfig.machineconfiguration.openshift.io/master". With a nil
// object it returns only the type part.
func refOf(u *unstructured.Unstructured, gvr schema.GroupVersionResource) string {
	kind := ""
	group := gvr.Group
	if u != nil {
		kind = strings.ToLower(u.GetKind())
		if g := u.GroupVersionKind().Group; g != "" {
			group = g
		}
	}
	if kind == "" {
		// Resource names are plural; the registry Config is "configs".
		kind = strings.TrimSuffix(gvr.Resource, "s")
	}
	if group != "" {
		kind += "." + group
	}
	if u == nil {
		return kind
	}
	return kind + "/" + u.GetName()
}

// ConflictError is a server-side apply conflict: other field managers own
// fields mosc wants to set.
type ConflictError struct {
	Ref string
	// Managers maps each other manager to the fields it owns.
	Managers map[string][]string
}

func (e *ConflictError) Error() string {
	names := make([]string, 0, len(e.Managers))
	for m := range e.Managers {
		names = append(names, m)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, m := range names {
		parts[i] = fmt.Sprintf("field manager %q owns %s", m, strings.Join(e.Managers[m], ", "))
	}
	return fmt.Sprintf("%s: conflict: %s; re-run with --force-conflicts to take these fields over", e.Ref, strings.Join(parts, "; "))
}

// ParseConflict reads the other managers and their fields out of an apply
// conflict (status causes of type FieldManagerConflict, messages like
// `conflict with "kubectl-edit" using v1 at 2026-01-02T03:04:05Z`).
func ParseConflict(err error) (map[string][]string, bool) {
	var se apierrors.APIStatus
	if !errors.As(err, &se) || !apierrors.IsConflict(err) {
		return nil, false
	}
	st := se.Status()
	if st.Details == nil {
		return nil, false
	}
	out := map[string][]string{}
	for _, c := range st.Details.Causes {
		if c.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		mgr := strings.TrimPrefix(c.Message, "conflict with ")
		if q, err := strconv.QuotedPrefix(mgr); err == nil {
			if s, err := strconv.Unquote(q); err == nil {
				mgr = s
			}
		}
		out[mgr] = append(out[mgr], c.Field)
	}
	if len(out) == 0 {
		return nil, false
	}
	for m := range out {
		sort.Strings(out[m])
	}
	return out, true
}
