package harness

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/sim"
)

// ManagedByLabel marks objects mosc creates; Reset deletes them everywhere.
const ManagedByLabel = "app.kubernetes.io/managed-by=mosc"

// Reset deletes everything tests create — MachineOSConfigs, MachineOSBuilds,
// non-seeded MachineConfigs, mosc-managed Secrets/ConfigMaps, PVCs in
// openshift-image-registry, Jobs/Pods in openshift-machine-config-operator,
// Roles, ClusterRoles and their bindings labelled mosc-e2e/test — and re-seeds with
// the cluster's start options. Stop any simulator first: one running during
// Reset would react to the deletions.
func (c *Cluster) Reset(ctx context.Context) error {
	return c.ResetWith(ctx, c.opts)
}

// ResetWith is Reset with different seed options (e.g. a 1000-node pool).
func (c *Cluster) ResetWith(ctx context.Context, opts Options) error {
	mc := c.Clients.MachineConfig.MachineconfigurationV1()
	kube := c.Clients.Kube
	all := metav1.ListOptions{}
	bg := metav1.DeletePropagationBackground
	// Zero grace: there is no kubelet to confirm pod deletion, and no garbage
	// collector, so dependants are deleted explicitly and never orphaned.
	now := metav1.DeleteOptions{GracePeriodSeconds: new(int64), PropagationPolicy: &bg}
	notSeed := metav1.ListOptions{LabelSelector: "!" + sim.LabelSeed}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"MachineOSConfigs", func() error { return mc.MachineOSConfigs().DeleteCollection(ctx, now, all) }},
		{"MachineOSBuilds", func() error { return mc.MachineOSBuilds().DeleteCollection(ctx, now, all) }},
		{"MachineConfigs", func() error { return mc.MachineConfigs().DeleteCollection(ctx, now, notSeed) }},
		{"Jobs", func() error { return kube.BatchV1().Jobs(sim.MCONamespace).DeleteCollection(ctx, now, all) }},
		{"Pods", func() error { return kube.CoreV1().Pods(sim.MCONamespace).DeleteCollection(ctx, now, all) }},
		{"PVCs", func() error {
			return kube.CoreV1().PersistentVolumeClaims(RegistryNamespace).DeleteCollection(ctx, now, all)
		}},
		{"StorageClasses", func() error {
			return kube.StorageV1().StorageClasses().DeleteCollection(ctx, now, all)
		}},
		{"test ClusterRoleBindings", func() error {
			return kube.RbacV1().ClusterRoleBindings().DeleteCollection(ctx, now, metav1.ListOptions{LabelSelector: "mosc-e2e/test"})
		}},
		{"test ClusterRoles", func() error {
			return kube.RbacV1().ClusterRoles().DeleteCollection(ctx, now, metav1.ListOptions{LabelSelector: "mosc-e2e/test"})
		}},
		{"mirror rules, Proxy and image config", func() error { return c.resetMirrorConfig(ctx) }}, // proxy.go
	}
	nss, err := kube.CoreV1().Namespaces().List(ctx, all)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	for _, ns := range nss.Items {
		if ns.Status.Phase == corev1.NamespaceTerminating {
			continue
		}
		name := ns.Name
		steps = append(steps,
			struct {
				what string
				fn   func() error
			}{"Secrets in " + name, func() error {
				return kube.CoreV1().Secrets(name).DeleteCollection(ctx, now, metav1.ListOptions{LabelSelector: ManagedByLabel})
			}},
			struct {
				what string
				fn   func() error
			}{"non-seeded Secrets/ConfigMaps in " + name, func() error {
				if name != sim.MCONamespace {
					return nil
				}
				// The MCO namespace only ever holds what tests and the simulator put there.
				if err := kube.CoreV1().Secrets(name).DeleteCollection(ctx, now, notSeed); err != nil {
					return err
				}
				return kube.CoreV1().ConfigMaps(name).DeleteCollection(ctx, now, notSeed)
			}},
			struct {
				what string
				fn   func() error
			}{"ConfigMaps in " + name, func() error {
				return kube.CoreV1().ConfigMaps(name).DeleteCollection(ctx, now, metav1.ListOptions{LabelSelector: ManagedByLabel})
			}},
			struct {
				what string
				fn   func() error
			}{"RoleBindings in " + name, func() error {
				return kube.RbacV1().RoleBindings(name).DeleteCollection(ctx, now, metav1.ListOptions{LabelSelector: "mosc-e2e/test"})
			}},
			struct {
				what string
				fn   func() error
			}{"Roles in " + name, func() error {
				return kube.RbacV1().Roles(name).DeleteCollection(ctx, now, metav1.ListOptions{LabelSelector: "mosc-e2e/test"})
			}},
		)
	}
	for _, s := range steps {
		if err := s.fn(); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("reset: delete %s: %w", s.what, err)
		}
	}
	if err := c.releaseClaims(ctx); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return c.Seed(ctx, opts)
}

// releaseClaims waits until the registry namespace has no PVC left. The API
// server's StorageObjectInUseProtection admission puts the
// kubernetes.io/pvc-protection finalizer on every claim, and only
// kube-controller-manager's pvc-protection controller removes it once no pod
// uses the claim; the harness runs no controller manager and no registry
// pod, so Reset plays that controller for the claims it deleted. Without
// this a deleted claim stayed Terminating into the next test, whose create
// of a claim of the same name (registry-claim) failed "already exists".
func (c *Cluster) releaseClaims(ctx context.Context) error {
	pvcs := c.Clients.Kube.CoreV1().PersistentVolumeClaims(RegistryNamespace)
	for {
		list, err := pvcs.List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list PVCs: %w", err)
		}
		if len(list.Items) == 0 {
			return nil
		}
		for _, p := range list.Items {
			switch {
			case p.DeletionTimestamp == nil:
				// Created after the delete (a test's operator still running).
				err = pvcs.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
			case len(p.Finalizers) > 0:
				_, err = pvcs.Patch(ctx, p.Name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
			}
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("release PVC %s: %w", p.Name, err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("PVCs still in %s: %w", RegistryNamespace, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
