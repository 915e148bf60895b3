package watch

import (
	"context"
	"crypto/md5" //nolint:gosec // MCO's name hash, not security
	"fmt"
	"slices"
	"strings"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/internal/kube"
)

// The MachineOSBuild for a MachineOSConfig's spec has a deterministic name,
// "<mosc>-<md5>", which the MCO computes before it creates the build and
// long before it moves the MOSC's current-machine-os-build annotation (that
// happens once the build's Job exists; openshift/machine-config-operator,
// release-4.20, pkg/controller/build/reconciler.go startBuild →
// updateMachineOSConfigStatus). Following the annotation therefore reads the
// previous build for a while: a retry after a failed build saw the old
// failure (issue 10, finding 3). mosc computes the name as the MCO does and
// waits for that build.
//
// openshift/machine-config-operator, release-4.18 … release-4.22 and main,
// pkg/controller/build/buildrequest/machineosbuild.go getHashedName: md5 over
// a fixed salt, then the YAML (github.com/ghodss/yaml: JSON, then YAML with
// sorted keys — sigs.k8s.io/yaml is its maintained fork and writes the same
// bytes) of, in order, the pool's spec.configuration, the MOSC's spec, and
// an OSImageURLConfig struct {BaseOSContainerImage,
// BaseOSExtensionsContainerImage, OSImageURL, ReleaseVersion}:
//   - release-4.18 … release-4.21: read from the ConfigMap
//     openshift-machine-config-operator/machine-config-osimageurl (keys
//     baseOSContainerImage, baseOSExtensionsContainerImage, osImageURL,
//     releaseVersion; pkg/controller/common/images.go ParseOSImageURLConfigMap);
//   - release-4.22 and main: from the pool's rendered MachineConfig:
//     spec.osImageURL, spec.baseOSExtensionsContainerImage, "" and the
//     annotation machineconfiguration.openshift.io/release-image-version
//     ("To maintain stable hashing" the OSImageURL field stays empty).

// mosbSalt is MCO's salt ("Do not change it"), copied from
// pkg/controller/build/buildrequest/machineosbuild.go.
var mosbSalt = []byte{
	16, 124, 206, 228, 139, 56, 175, 175, 79, 229, 134, 118, 157, 154, 211, 110,
	25, 93, 47, 253, 172, 106, 37, 7, 174, 13, 160, 185, 110, 17, 87, 52,
	219, 131, 12, 206, 218, 141, 116, 135, 188, 181, 192, 151, 233, 62, 126, 165,
	64, 83, 179, 119, 15, 168, 208, 197, 146, 107, 58, 227, 133, 188, 238, 26,
	33, 26, 235, 202, 32, 173, 31, 234, 41, 144, 148, 79, 6, 206, 23, 22,
}

// OSImageURLConfig is the third input of the MOSB name hash. Its field names
// (no JSON tags) are part of the hash: keep them as the MCO has them.
type OSImageURLConfig struct {
	BaseOSContainerImage           string
	BaseOSExtensionsContainerImage string
	OSImageURL                     string
	ReleaseVersion                 string
}

// The ConfigMap the MCO reads the OS image URLs from before 4.22, and the
// rendered-config annotation it reads the release version from in 4.22+.
const (
	OSImageURLConfigMap           = "machine-config-osimageurl"
	AnnotationReleaseImageVersion = "machineconfiguration.openshift.io/release-image-version"
)

// OSImageURLFromConfigMap is ParseOSImageURLConfigMap (4.18–4.21); a
// missing key is an error, as there.
func OSImageURLFromConfigMap(data map[string]string) (OSImageURLConfig, error) {
	for _, k := range []string{"baseOSContainerImage", "baseOSExtensionsContainerImage", "osImageURL", "releaseVersion"} {
		if _, ok := data[k]; !ok {
			return OSImageURLConfig{}, fmt.Errorf("ConfigMap %s/%s lacks key %q", MCONamespace, OSImageURLConfigMap, k)
		}
	}
	return OSImageURLConfig{
		BaseOSContainerImage:           data["baseOSContainerImage"],
		BaseOSExtensionsContainerImage: data["baseOSExtensionsContainerImage"],
		OSImageURL:                     data["osImageURL"],
		ReleaseVersion:                 data["releaseVersion"],
	}, nil
}

// OSImageURLFromRenderedConfig is the 4.22+ input, from the pool's rendered
// MachineConfig; the MCO refuses one without the release-image-version
// annotation, so does this.
func OSImageURLFromRenderedConfig(mc *mcfgv1.MachineConfig) (OSImageURLConfig, error) {
	v := mc.Annotations[AnnotationReleaseImageVersion]
	if v == "" {
		return OSImageURLConfig{}, fmt.Errorf("MachineConfig %s has no %s annotation", mc.Name, AnnotationReleaseImageVersion)
	}
	return OSImageURLConfig{
		BaseOSContainerImage:           mc.Spec.OSImageURL,
		BaseOSExtensionsContainerImage: mc.Spec.BaseOSExtensionsContainerImage,
		ReleaseVersion:                 v,
	}, nil
}

// MachineOSBuildName is the name the MCO gives the MachineOSBuild for this
// MachineOSConfig spec, pool configuration and OS image inputs.
func MachineOSBuildName(mosc *mcfgv1.MachineOSConfig, pool *mcfgv1.MachineConfigPool, img OSImageURLConfig) (string, error) {
	if pool.Name != mosc.Spec.MachineConfigPool.Name {
		return "", fmt.Errorf("name mismatch, MachineConfigPool has %q, MachineOSConfig has %q", pool.Name, mosc.Spec.MachineConfigPool.Name)
	}
	h := md5.New() //nolint:gosec
	h.Write(mosbSalt)
	for _, obj := range []any{pool.Spec.Configuration, mosc.Spec, img} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return "", fmt.Errorf("MachineOSBuild name: %w", err)
		}
		h.Write(b)
	}
	return fmt.Sprintf("%s-%x", mosc.Name, h.Sum(nil)), nil
}

// mosbNamer reads the name inputs once per pool configuration (a rendered
// config's content never changes; an upgrade brings a new one along with the
// new osimageurl ConfigMap), so following the build costs no polling.
type mosbNamer struct {
	kube kube.Interface
	mc   kube.MachineConfigInterface

	config string // pool spec.configuration.name the inputs were read for
	imgs   []OSImageURLConfig
	// The last answer, for the MOSC generation and pool generation it was
	// computed for: a 1000-node rollout evaluates thousands of times.
	lastKey   string
	lastNames []string
	// Problem says why no name could be computed ("" when one was).
	Problem string
}

// Expected returns the MOSB names for the MOSC's current spec, one per
// release family whose inputs could be read (the cluster's MCO uses one of
// them: reading both keeps an upgrade between the two from confusing mosc).
func (n *mosbNamer) Expected(ctx context.Context, mosc *mcfgv1.MachineOSConfig, pool *mcfgv1.MachineConfigPool) []string {
	if mosc == nil || pool == nil || pool.Spec.Configuration.Name == "" {
		return nil
	}
	if cfg := pool.Spec.Configuration.Name; cfg != n.config {
		n.config, n.imgs, n.Problem = cfg, nil, ""
		var problems []string
		// 4.18–4.21.
		cm, err := n.kube.CoreV1().ConfigMaps(MCONamespace).Get(ctx, OSImageURLConfigMap, metav1.GetOptions{})
		if err == nil {
			var img OSImageURLConfig
			if img, err = OSImageURLFromConfigMap(cm.Data); err == nil {
				n.imgs = append(n.imgs, img)
			}
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
		// 4.22 and later.
		rmc, err := n.mc.MachineconfigurationV1().MachineConfigs().Get(ctx, cfg, metav1.GetOptions{})
		if err == nil {
			var img OSImageURLConfig
			if img, err = OSImageURLFromRenderedConfig(rmc); err == nil {
				n.imgs = append(n.imgs, img)
			}
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
		if len(n.imgs) == 0 {
			n.Problem = strings.Join(problems, "; ")
		}
	}
	key := fmt.Sprintf("%s/%d/%d/%s", mosc.UID, mosc.Generation, pool.Generation, n.config)
	if key == n.lastKey && mosc.UID != "" {
		return n.lastNames
	}
	var names []string
	for _, img := range n.imgs {
		if name, err := MachineOSBuildName(mosc, pool, img); err == nil && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	n.lastKey, n.lastNames = key, names
	return names
}
