package harness

import (
	"context"
	"fmt"

	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// What the cluster-version operator reads before an upgrade, seeded as a
// fresh cluster has it (mosc gate's cluster-upgradeable reads them):
//   - FeatureGate cluster with the Default feature set. TechPreviewNoUpgrade
//     can never be changed back (openshift/api config/v1 types_feature.go
//     CEL rule), so a test that sets it is undone by deleting the object.
//   - ConfigMaps openshift-config-managed/admin-gates and
//     openshift-config/admin-acks, empty (cluster-version-operator
//     release-4.20 pkg/internal/constants.go; the CVO reports
//     Upgradeable=False when either is missing).
//   - no conditionalUpdates on the ClusterVersion (seedClusterVersion's merge
//     patch would keep a test's).
const (
	AdminGatesNamespace = "openshift-config-managed"
	AdminGatesName      = "admin-gates"
	AdminAcksNamespace  = "openshift-config"
	AdminAcksName       = "admin-acks"
)

func (c *Cluster) seedUpgradeState(ctx context.Context) error {
	fgs := c.Clients.OpenShift.ConfigV1().FeatureGates()
	fg, err := fgs.Get(ctx, "cluster", metav1.GetOptions{})
	if err == nil && fg.Spec.FeatureSet != configv1.Default {
		if err := fgs.Delete(ctx, "cluster", metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("seed FeatureGate: %w", err)
		}
		err = apierrors.NewNotFound(configv1.Resource("featuregates"), "cluster")
	}
	if apierrors.IsNotFound(err) {
		_, err = fgs.Create(ctx, &configv1.FeatureGate{ObjectMeta: metav1.ObjectMeta{Name: "cluster"}}, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed FeatureGate: %w", err)
	}

	kube := c.Clients.Kube
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: AdminGatesNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("seed namespace %s: %w", AdminGatesNamespace, err)
	}
	for _, cm := range []struct{ ns, name string }{{AdminGatesNamespace, AdminGatesName}, {AdminAcksNamespace, AdminAcksName}} {
		obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm.name, Namespace: cm.ns}}
		cms := kube.CoreV1().ConfigMaps(cm.ns)
		old, err := cms.Get(ctx, cm.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = cms.Create(ctx, obj, metav1.CreateOptions{})
		case err == nil:
			old.Data = nil
			_, err = cms.Update(ctx, old, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("seed ConfigMap %s/%s: %w", cm.ns, cm.name, err)
		}
	}

	cvs := c.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	if _, err := cvs.Patch(ctx, "version", types.MergePatchType, []byte(`{"status":{"conditionalUpdates":null}}`), metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("seed ClusterVersion conditionalUpdates: %w", err)
	}
	return nil
}

// SetClusterVersionStatus merge-patches ClusterVersion version's status
// (availableUpdates, conditionalUpdates, conditions as the CVO writes them).
// Reset restores the seeded status.
func (c *Cluster) SetClusterVersionStatus(ctx context.Context, status map[string]any) error {
	cvs := c.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	u := &unstructured.Unstructured{Object: map[string]any{"status": status}}
	b, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = cvs.Patch(ctx, "version", types.MergePatchType, b, metav1.PatchOptions{}, "status")
	return err
}
