package harness

import (
	"context"
	"encoding/json"
	"fmt"

	configv1 "github.com/openshift/api/config/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// seedInfrastructure writes Infrastructure "cluster" with the topology a
// cluster of that many nodes reports: SingleReplica for one node (SNO),
// HighlyAvailable otherwise (config.openshift.io/v1 InfrastructureStatus;
// the installer sets it, and the machine-config daemon skips drains only on
// SingleReplica: openshift/machine-config-operator release-4.20
// pkg/daemon/drain.go drainRequired). Written through the dynamic client:
// the typed spec would send fields the Default CRD prunes anyway.
func (c *Cluster) seedInfrastructure(ctx context.Context, nodes int) error {
	topo := configv1.HighlyAvailableTopologyMode
	if nodes == 1 {
		topo = configv1.SingleReplicaTopologyMode
	}
	return c.SeedTopology(ctx, topo)
}

// SeedTopology sets Infrastructure "cluster" status.controlPlaneTopology and
// infrastructureTopology (a bare-metal platform, as the registry seed).
func (c *Cluster) SeedTopology(ctx context.Context, topo configv1.TopologyMode) error {
	infras := c.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("infrastructures"))
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure",
		"metadata": map[string]any{"name": "cluster", "labels": map[string]any{"sim.mosc.dev/seed": "true"}},
		"spec":     map[string]any{"platformSpec": map[string]any{"type": "BareMetal"}},
	}}
	if _, err := infras.Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("seed Infrastructure: %w", err)
	}
	st := map[string]any{"status": map[string]any{
		"infrastructureName":     "e2e-mosc-x7k2p",
		"platform":               "BareMetal",
		"platformStatus":         map[string]any{"type": "BareMetal"},
		"controlPlaneTopology":   string(topo),
		"infrastructureTopology": string(topo),
		"cpuPartitioning":        "None",
		"apiServerURL":           c.Server,
		"apiServerInternalURI":   c.Server,
		"etcdDiscoveryDomain":    "",
	}}
	b, _ := json.Marshal(st)
	if _, err := infras.Patch(ctx, "cluster", types.MergePatchType, b, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("seed Infrastructure status: %w", err)
	}
	return nil
}

// SeedStorageClass creates (or replaces) a StorageClass; Reset deletes
// every StorageClass, since a fresh harness cluster has none.
func (c *Cluster) SeedStorageClass(ctx context.Context, name, provisioner string) error {
	scs := c.Clients.Kube.StorageV1().StorageClasses()
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &wait}
	if err := scs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if _, err := scs.Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("seed StorageClass %s: %w", name, err)
	}
	return nil
}
