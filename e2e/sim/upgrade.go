package sim

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// OSImageURLConfigMap names the release's OS images. The cluster-version
// operator applies it with every release (machine-config-operator,
// release-4.20, install/0000_80_machine-config_05_osimageurl.yaml, the
// placeholders replaced by the payload's rhel-coreos and
// rhel-coreos-extensions digests), so an upgrade is, for the MCO, this
// ConfigMap changing: the operator copies it into the controller config,
// and the render controller renders every pool again with the new
// osImageURL (render_controller.go generateRenderedMachineConfig, which
// also stamps release-image-version), which gives each pool a new rendered
// config, and a layered pool a new MachineOSBuild.
const OSImageURLConfigMap = "machine-config-osimageurl"

// osImages returns the base OS images the render controller puts into a
// rendered config, and the release they belong to, from the ConfigMap (""
// when it is absent). The release-image-version annotation comes from the
// same place as the images (the controller config), not from ClusterVersion.
func (s *Simulator) osImages(ctx context.Context) (base, extensions, release string, err error) {
	var cm *corev1.ConfigMap
	if s.osimg != nil {
		cm, err = s.osimg.ConfigMaps(MCONamespace).Get(OSImageURLConfigMap)
	} else {
		cm, err = s.c.Kube.CoreV1().ConfigMaps(MCONamespace).Get(ctx, OSImageURLConfigMap, metav1.GetOptions{})
	}
	if apierrors.IsNotFound(err) {
		return "", "", "", nil
	}
	if err != nil {
		return "", "", "", err
	}
	return cm.Data["baseOSContainerImage"], cm.Data["baseOSExtensionsContainerImage"], cm.Data["releaseVersion"], nil
}

// osImageURLInformer watches the ConfigMap: a change re-renders every pool.
func (s *Simulator) osImageURLInformer(kube kubernetes.Interface) (kubeinformers.SharedInformerFactory, cache.SharedIndexInformer) {
	f := kubeinformers.NewSharedInformerFactoryWithOptions(kube, 0, kubeinformers.WithNamespace(MCONamespace),
		kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=" + OSImageURLConfigMap }))
	s.osimg = f.Core().V1().ConfigMaps().Lister()
	return f, f.Core().V1().ConfigMaps().Informer()
}

// releaseRenderPending says whether the pool's rendered config still
// carries another release's OS image than the ConfigMap names: the render
// controller has a new release's config to render. The MCO's build
// controller starts builds on a new rendered config or MachineOSConfig
// spec, never on the ConfigMap itself (machine-config-operator,
// release-4.20, pkg/controller/build/reconciler.go: the pool and
// MachineOSConfig handlers), so no build is started for the old config
// with the new images in between.
func (s *Simulator) releaseRenderPending(ctx context.Context, pool string, config string) bool {
	base, _, _, err := s.osImages(ctx)
	if err != nil || base == "" {
		return false
	}
	mc, err := s.mcs.Get(config)
	if err != nil || mc.Spec.OSImageURL == "" {
		return false
	}
	if mc.Spec.OSImageURL != base {
		s.opts.Logf("sim: pool %s: %s has the previous release's OS image; no build until it is rendered again", pool, config)
		return true
	}
	return false
}

// syncReleaseAnnotation: a release whose OS images equal the previous
// one's renders the same config; the render controller then applies the
// generated config over the existing one, so its release-image-version
// follows the release (machine-config-operator, release-4.20,
// pkg/controller/render/render_controller.go syncGeneratedMachineConfig →
// ApplyMachineConfig).
func (s *Simulator) syncReleaseAnnotation(ctx context.Context, rendered, release string) error {
	if release == "" {
		return nil
	}
	mc, err := s.mcs.Get(rendered)
	if err != nil || mc.Annotations[AnnotationReleaseImageVersion] == release {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationReleaseImageVersion, release)
	if _, err := s.c.MachineConfig.MachineconfigurationV1().MachineConfigs().Patch(ctx, rendered, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("rendered MachineConfig %s: release annotation: %w", rendered, err)
	}
	s.opts.Logf("sim: rendered %s now for release %s (same OS images)", rendered, release)
	return nil
}
