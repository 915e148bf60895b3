package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/yaml"
)

// CRDFiles are the OpenShift CRDs the harness installs, relative to the
// pinned github.com/openshift/api module directory.
var CRDFiles = []string{
	"machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineosconfigs.crd.yaml",
	"machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineosbuilds.crd.yaml",
	"machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineconfigpools.crd.yaml",
	"machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineconfigs.crd.yaml",
	"machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineconfignodes-Default.crd.yaml",
	"imageregistry/v1/zz_generated.crd-manifests/00_configs.crd.yaml",
	"config/v1/zz_generated.crd-manifests/0000_00_cluster-version-operator_01_clusterversions-Default.crd.yaml",
	"config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_infrastructures-Default.crd.yaml",
	"config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_featuregates.crd.yaml",
	// Mirrored and disconnected clusters (gate's registry and repo reads).
	"config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_imagedigestmirrorsets.crd.yaml",
	"config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_imagetagmirrorsets.crd.yaml",
	"operator/v1alpha1/zz_generated.crd-manifests/0000_10_config-operator_01_imagecontentsourcepolicies.crd.yaml",
	"config/v1/zz_generated.crd-manifests/0000_03_config-operator_01_proxies.crd.yaml",
	"config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_images-Default.crd.yaml",
}

const openshiftAPIModule = "github.com/openshift/api"

// OpenShiftAPIDir finds the module directory of the openshift/api version this
// binary was built with (so CRDs match the Go types exactly).
func OpenShiftAPIDir() (string, error) {
	version := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == openshiftAPIModule {
				version = d.Version
				if d.Replace != nil {
					version = d.Replace.Version
				}
			}
		}
	}
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
			modcache = strings.TrimSpace(string(out))
		}
	}
	if version != "" && modcache != "" {
		dir := filepath.Join(modcache, "github.com", "openshift", "api@"+version)
		if _, err := os.Stat(dir); err == nil {
			return dir, nil
		}
	}
	// Fall back to asking the go command from the module root.
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", openshiftAPIModule)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return "", fmt.Errorf("cannot locate %s in the module cache (go list: %v); run `go mod download %s`", openshiftAPIModule, err, openshiftAPIModule)
	}
	return strings.TrimSpace(string(out)), nil
}

func (c *Cluster) installCRDs(ctx context.Context) error {
	dir, err := OpenShiftAPIDir()
	if err != nil {
		return err
	}
	cs, err := apiextclient.NewForConfig(c.RESTConfig)
	if err != nil {
		return err
	}
	var names []string
	for _, f := range CRDFiles {
		p := filepath.Join(dir, f)
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("CRD: %w", err)
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			return fmt.Errorf("CRD %s: %w", p, err)
		}
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", crd.Name, err)
		}
		names = append(names, crd.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, n := range names {
		if err := waitEstablished(ctx, cs, n); err != nil {
			return err
		}
	}
	return nil
}

func established(crd *apiextv1.CustomResourceDefinition) bool {
	for _, cond := range crd.Status.Conditions {
		if cond.Type == apiextv1.Established && cond.Status == apiextv1.ConditionTrue {
			return true
		}
	}
	return false
}

func waitEstablished(ctx context.Context, cs apiextclient.Interface, name string) error {
	crds := cs.ApiextensionsV1().CustomResourceDefinitions()
	for {
		crd, err := crds.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("CRD %s: %w", name, err)
		}
		if established(crd) {
			return nil
		}
		w, err := crds.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(), ResourceVersion: crd.ResourceVersion})
		if err != nil {
			return fmt.Errorf("CRD %s: watch: %w", name, err)
		}
		func() {
			defer w.Stop()
			for ev := range w.ResultChan() {
				if ev.Type == watch.Error {
					return
				}
				if crd, ok := ev.Object.(*apiextv1.CustomResourceDefinition); ok && established(crd) {
					return
				}
			}
		}()
		if ctx.Err() != nil {
			return fmt.Errorf("CRD %s not Established: %w", name, ctx.Err())
		}
	}
}
