package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// V1alpha1CRDDir holds, unmodified, the MachineOSConfig and MachineOSBuild
// CRDs OpenShift 4.16, 4.17 and 4.18.0-19 serve (v1alpha1, TechPreviewNoUpgrade),
// from openshift/api release branches (see its SOURCES.md). Relative to the
// module root.
const V1alpha1CRDDir = "e2e/testdata/crds/openshift-v1alpha1"

// V1alpha1CRDSet names the subdirectory of V1alpha1CRDDir for a release:
// "4.16", "4.17" or "4.18.0-19".
func V1alpha1CRDSet(release string) (string, error) {
	switch release {
	case "4.16", "4.17":
		return release, nil
	case "4.18":
		return "4.18.0-19", nil
	}
	return "", fmt.Errorf("no v1alpha1 CRDs for OpenShift %s (known: 4.16, 4.17, 4.18)", release)
}

// layeringCRDNames are the two CRDs whose version differs between a v1 and a
// v1alpha1 cluster. One CRD name cannot carry both as separate CRDs, so a
// v1alpha1 cluster is made by replacing them.
var layeringCRDNames = []string{"machineosconfigs.machineconfiguration.openshift.io", "machineosbuilds.machineconfiguration.openshift.io"}

// UseV1alpha1Cluster turns the cluster into one of OpenShift version
// (e.g. "4.18.15", "4.17.3"): the v1 MachineOSConfig/MachineOSBuild CRDs (and
// every object of them) are replaced by that release's v1alpha1 CRDs and
// ClusterVersion reports version. The returned restore puts the v1 CRDs and
// the cluster's own version back; call it (t.Cleanup) before the next test.
func (c *Cluster) UseV1alpha1Cluster(ctx context.Context, version string) (restore func(context.Context) error, err error) {
	minor := version
	if m := minorOf(version); m != "" {
		minor = m
	}
	set, err := V1alpha1CRDSet(minor)
	if err != nil {
		return nil, err
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, V1alpha1CRDDir, set)
	var crds []*apiextv1.CustomResourceDefinition
	for _, f := range []string{"machineosconfigs-TechPreviewNoUpgrade.crd.yaml", "machineosbuilds-TechPreviewNoUpgrade.crd.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("v1alpha1 CRD: %w", err)
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			return nil, fmt.Errorf("v1alpha1 CRD %s: %w", f, err)
		}
		crds = append(crds, &crd)
	}
	cs, err := apiextclient.NewForConfig(c.RESTConfig)
	if err != nil {
		return nil, err
	}
	if err := c.swapLayeringCRDs(ctx, cs, crds); err != nil {
		return nil, err
	}
	if err := c.seedClusterVersion(ctx, version); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if err := deleteCRDs(ctx, cs, layeringCRDNames); err != nil {
			return err
		}
		if err := c.installCRDs(ctx); err != nil {
			return err
		}
		return c.seedClusterVersion(ctx, c.opts.OpenShiftVersion)
	}, nil
}

func minorOf(v string) string {
	var a, b int
	if n, _ := fmt.Sscanf(v, "%d.%d", &a, &b); n == 2 {
		return fmt.Sprintf("%d.%d", a, b)
	}
	return ""
}

func (c *Cluster) swapLayeringCRDs(ctx context.Context, cs apiextclient.Interface, crds []*apiextv1.CustomResourceDefinition) error {
	if err := deleteCRDs(ctx, cs, layeringCRDNames); err != nil {
		return err
	}
	for _, crd := range crds {
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create v1alpha1 CRD %s: %w", crd.Name, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, crd := range crds {
		if err := waitEstablished(wctx, cs, crd.Name); err != nil {
			return err
		}
	}
	return nil
}

// deleteCRDs deletes the CRDs and waits until they are gone (their objects
// with them), so a CRD of the same name can be created again.
func deleteCRDs(ctx context.Context, cs apiextclient.Interface, names []string) error {
	crds := cs.ApiextensionsV1().CustomResourceDefinitions()
	for _, n := range names {
		if err := crds.Delete(ctx, n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete CRD %s: %w", n, err)
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for _, n := range names {
		for {
			_, err := crds.Get(ctx, n, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if err != nil {
				return fmt.Errorf("CRD %s: %w", n, err)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s still there 90s after its deletion", n)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
