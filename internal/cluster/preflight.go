package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/mosc-dev/mosc/internal/profile"
	configv1 "github.com/openshift/api/config/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mosc-dev/mosc/internal/kube"
)

// FieldManager is the server-side apply field manager of everything mosc writes.
const FieldManager = "mosc"

// Reachable checks that the API server answers, with an error naming it.
func Reachable(c *Clients) error {
	if _, err := c.Kube.Discovery().ServerVersion(); err != nil {
		return fmt.Errorf("cannot reach the API server at %s: %w", c.Config.Host, err)
	}
	return nil
}

// OpenShiftVersion reads the cluster's version from ClusterVersion "version":
// status.desired.version (what the cluster is at or moving to), else the
// latest Completed entry of status.history.
func OpenShiftVersion(ctx context.Context, c *Clients) (string, error) {
	cv, err := c.OpenShift.ConfigV1().ClusterVersions().Get(ctx, "version", metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("reading clusterversion/version: %w", err)
	}
	return versionOf(cv)
}

func versionOf(cv *configv1.ClusterVersion) (string, error) {
	if v := cv.Status.Desired.Version; v != "" {
		return v, nil
	}
	// History is newest first.
	for _, h := range cv.Status.History {
		if h.State == configv1.CompletedUpdate && h.Version != "" {
			return h.Version, nil
		}
	}
	return "", errors.New("clusterversion/version reports no version (status.desired.version and status.history are empty)")
}

// Minor returns "4.20" for "4.20.15", "4.20.0-ec.3" or "4.20".
func Minor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	minor := parts[1]
	if i := strings.IndexAny(minor, "-+"); i >= 0 {
		minor = minor[:i]
	}
	return parts[0] + "." + minor
}

// PoolExists checks the MachineConfigPool the plan targets, listing the
// pools that do exist when it is missing.
func PoolExists(ctx context.Context, c *Clients, pool string) error {
	_, err := c.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("machineconfigpool %q: %w", pool, err)
	}
	have := "none"
	if list, lerr := c.MachineConfig.MachineconfigurationV1().MachineConfigPools().List(ctx, metav1.ListOptions{}); lerr == nil && len(list.Items) > 0 {
		names := make([]string, len(list.Items))
		for i, p := range list.Items {
			names[i] = p.Name
		}
		sort.Strings(names)
		have = strings.Join(names, ", ")
	}
	return fmt.Errorf("machineconfigpool %q not found (the cluster has: %s)", pool, have)
}

// PoolMachineConfigs reads the MachineConfigs of a pool that decide whether
// the plan can layer it (kernelType, extensions): those labelled with the
// pool's role, other than mosc's own (mosc's extensions MachineConfig is in
// the plan already).
func PoolMachineConfigs(ctx context.Context, c *Clients, pool string) ([]profile.PoolMachineConfig, error) {
	list, err := c.MachineConfig.MachineconfigurationV1().MachineConfigs().List(ctx, metav1.ListOptions{
		LabelSelector: "machineconfiguration.openshift.io/role=" + pool})
	if err != nil {
		return nil, fmt.Errorf("listing the MachineConfigs of pool %s: %w", pool, err)
	}
	var out []profile.PoolMachineConfig
	for _, mc := range list.Items {
		if mc.Labels[profile.LabelManagedBy] == profile.LabelManagedByValue {
			continue
		}
		out = append(out, profile.PoolMachineConfig{Name: mc.Name, KernelType: mc.Spec.KernelType, Extensions: mc.Spec.Extensions})
	}
	return out, nil
}

// PoolCompatible refuses, before anything is written, a pool whose
// MachineConfigs conflict with the plan (profile.PoolConflicts: kernel-devel
// with a non-default kernelType, the ipsec extension).
func PoolCompatible(ctx context.Context, c *Clients, p *profile.Plan) error {
	mcs, err := PoolMachineConfigs(ctx, c, p.Pool)
	if err != nil {
		if apierrors.IsForbidden(err) {
			return nil // not a permission apply needs; gate reports it
		}
		return err
	}
	if conflicts := profile.PoolConflicts(p, p.Pool, mcs); len(conflicts) > 0 {
		return fmt.Errorf("pool %s cannot be layered with this plan:\n  %s", p.Pool, strings.Join(conflicts, "\n  "))
	}
	return nil
}

// NewMapper maps kinds to resources through discovery, so a bundle can only
// name kinds the cluster really serves (a v1alpha1 MOSC on a 4.20 cluster is
// caught here, before any write).
func NewMapper(c *Clients) meta.RESTMapper {
	return kube.NewMapper(c.Kube.Discovery())
}

// Permission is one access check: verb on group/resource[/subresource],
// optionally in a namespace and for one name.
type Permission struct {
	Verb        string
	Group       string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
}

func (p Permission) String() string {
	res := p.Resource
	if p.Group != "" {
		res += "." + p.Group
	}
	if p.Subresource != "" {
		res += "/" + p.Subresource
	}
	s := p.Verb + " " + res
	if p.Name != "" {
		s += fmt.Sprintf(" %q", p.Name)
	}
	if p.Namespace != "" {
		s += " in namespace " + p.Namespace
	} else {
		s += " (cluster-scoped)"
	}
	return s
}

// Target is one object mosc will write.
type Target struct {
	GVR       schema.GroupVersionResource
	Namespace string
	Name      string
	// MergePatch is true for objects mosc patches but does not own.
	MergePatch bool
}

// ApplyNeeds lists every permission apply uses: get+create+patch for each
// server-side applied object (apply creates when absent), get+patch for
// merge-patched ones, plus the reads and the token request around them.
func ApplyNeeds(targets []Target, mintToken, registry bool) []Permission {
	var ps []Permission
	add := func(p Permission) { ps = append(ps, p) }
	for _, t := range targets {
		verbs := []string{"get", "create", "patch"}
		if t.MergePatch {
			verbs = []string{"get", "patch"}
		}
		for _, v := range verbs {
			add(Permission{Verb: v, Group: t.GVR.Group, Resource: t.GVR.Resource, Namespace: t.Namespace, Name: t.Name})
		}
	}
	add(Permission{Verb: "get", Group: "machineconfiguration.openshift.io", Resource: "machineconfigpools"})
	add(Permission{Verb: "get", Resource: "secrets", Namespace: PullSecretNamespace, Name: PullSecretName})
	if mintToken {
		add(Permission{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: profile.MCONamespace, Name: BuilderSA})
	}
	if registry {
		add(Permission{Verb: "watch", Group: registryGVR.Group, Resource: registryGVR.Resource, Name: RegistryConfigName})
		for _, v := range []string{"get", "create", "patch"} {
			add(Permission{Verb: v, Resource: "configmaps", Namespace: RegistryNamespace, Name: RegistryRecordName})
		}
	}
	return dedupe(ps)
}

// RemoveNeeds lists what remove uses on each kind it cleans up.
func RemoveNeeds(kinds []RemoveKind, registry bool) []Permission {
	var ps []Permission
	for _, k := range kinds {
		if k.Registry && !registry {
			continue
		}
		for _, v := range []string{"list", "delete"} {
			ps = append(ps, Permission{Verb: v, Group: k.GVR.Group, Resource: k.GVR.Resource, Namespace: k.Namespace})
		}
	}
	// Pools are paused around the deletes (pause.go).
	for _, v := range []string{"list", "get", "patch"} {
		ps = append(ps, Permission{Verb: v, Group: "machineconfiguration.openshift.io", Resource: "machineconfigpools"})
	}
	if registry {
		ps = append(ps,
			Permission{Verb: "get", Resource: "configmaps", Namespace: RegistryNamespace, Name: RegistryRecordName},
			Permission{Verb: "patch", Group: registryGVR.Group, Resource: registryGVR.Resource, Name: RegistryConfigName})
	}
	return dedupe(ps)
}

func dedupe(ps []Permission) []Permission {
	seen := map[Permission]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// PermissionError lists every permission the caller lacks.
type PermissionError struct {
	User    string
	Missing []Permission
}

func (e *PermissionError) Error() string {
	var b strings.Builder
	who := "you"
	if e.User != "" {
		who = e.User
	}
	fmt.Fprintf(&b, "%s may not do %d thing(s) mosc needs; nothing was changed. Missing permissions:", who, len(e.Missing))
	for _, p := range e.Missing {
		b.WriteString("\n  - " + p.String())
	}
	return b.String()
}

// CheckPermissions asks SelfSubjectAccessReview about each permission and
// returns a *PermissionError listing all that are denied.
func CheckPermissions(ctx context.Context, c *Clients, needs []Permission) error {
	// A few reviews at a time: twenty round trips in a row are slow on a
	// remote cluster; the answers keep the order of needs.
	allowed := make([]bool, len(needs))
	errs := make([]error, len(needs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, p := range needs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r, err := c.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: p.Verb, Group: p.Group, Resource: p.Resource, Subresource: p.Subresource,
					Namespace: p.Namespace, Name: p.Name,
				}},
			}, metav1.CreateOptions{})
			if err != nil {
				errs[i] = fmt.Errorf("checking permission to %s: %w", p, err)
				return
			}
			allowed[i] = r.Status.Allowed
		}()
	}
	wg.Wait()
	var missing []Permission
	for i, p := range needs {
		if errs[i] != nil {
			return errs[i]
		}
		if !allowed[i] {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	pe := &PermissionError{Missing: missing}
	if rv, err := c.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{}); err == nil {
		pe.User = rv.Status.UserInfo.Username
	}
	return pe
}
