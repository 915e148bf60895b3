package watch

import (
	"context"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	mcfgfake "github.com/openshift/client-go/machineconfiguration/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
)

// The expected names were computed by MCO's own code: getHashedName copied
// verbatim from openshift/machine-config-operator release-4.20 and
// release-4.22, pkg/controller/build/buildrequest/machineosbuild.go, built
// with the module versions MCO's release-4.20 go.mod pins
// (github.com/ghodss/yaml v1.0.1-0.20190212211648-25d852aebe32,
// github.com/openshift/api v0.0.0-20250811150514-cc869c87a7f0), run on the
// inputs below. The program is testdata/mcohash/main.go.txt (go.mod: module mcohash, with
// those two requirements).
func TestMachineOSBuildNameMatchesMCO(t *testing.T) {
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker"}, Spec: mcfgv1.MachineOSConfigSpec{
		MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
		ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: mcfgv1.JobBuilder},
		RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push-secret"},
		RenderedImagePushSpec:   "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest",
		Containerfile: []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch,
			Content: "FROM configs AS final\nRUN dnf install -y doca-openvswitch && dnf clean all\n"}},
	}}
	pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}, Spec: mcfgv1.MachineConfigPoolSpec{
		Configuration: mcfgv1.MachineConfigPoolStatusConfiguration{
			ObjectReference: corev1.ObjectReference{Name: "rendered-worker-0123456789abcdef0123456789abcdef", Kind: "MachineConfig", APIVersion: "machineconfiguration.openshift.io/v1"},
			Source: []corev1.ObjectReference{
				{Kind: "MachineConfig", APIVersion: "machineconfiguration.openshift.io/v1", Name: "00-worker"},
				{Kind: "MachineConfig", APIVersion: "machineconfiguration.openshift.io/v1", Name: "99-worker-doca-init"}},
		}}}
	base := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:5c8cdaa9f6bdb5a1fa77e2e1bb8ef6cc1d7ad4e5c4e8cb3b6ad7a0c2cfc0f0ad"
	ext := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

	// 4.18–4.21: the machine-config-osimageurl ConfigMap.
	cm, err := OSImageURLFromConfigMap(map[string]string{"baseOSContainerImage": base, "baseOSExtensionsContainerImage": ext, "osImageURL": "", "releaseVersion": "4.20.15"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := MachineOSBuildName(mosc, pool, cm)
	if err != nil || got != "worker-afa387ba206921ca13f2bb17bd858471" {
		t.Errorf("4.20 name = %q, %v; MCO computes worker-afa387ba206921ca13f2bb17bd858471", got, err)
	}
	// 4.22+: the rendered MachineConfig.
	rmc := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: pool.Spec.Configuration.Name, Annotations: map[string]string{AnnotationReleaseImageVersion: "4.22.3"}},
		Spec: mcfgv1.MachineConfigSpec{OSImageURL: base, BaseOSExtensionsContainerImage: ext}}
	img, err := OSImageURLFromRenderedConfig(rmc)
	if err != nil {
		t.Fatal(err)
	}
	got, err = MachineOSBuildName(mosc, pool, img)
	if err != nil || got != "worker-1143a4d63b65d5a5512adbccf7fb9c9b" {
		t.Errorf("4.22 name = %q, %v; MCO computes worker-1143a4d63b65d5a5512adbccf7fb9c9b", got, err)
	}

	// Every input counts: a changed spec, rendered config or release is another build.
	other := mosc.DeepCopy()
	other.Spec.Containerfile[0].Content += "RUN true\n"
	if n, _ := MachineOSBuildName(other, pool, cm); n == "worker-afa387ba206921ca13f2bb17bd858471" {
		t.Error("Containerfile change kept the name")
	}
	cm2 := cm
	cm2.ReleaseVersion = "4.20.16"
	if n, _ := MachineOSBuildName(mosc, pool, cm2); n == "worker-afa387ba206921ca13f2bb17bd858471" {
		t.Error("release change kept the name")
	}
	if _, err := OSImageURLFromConfigMap(map[string]string{"baseOSContainerImage": base}); err == nil {
		t.Error("ConfigMap without keys accepted")
	}
	if _, err := OSImageURLFromRenderedConfig(&mcfgv1.MachineConfig{}); err == nil {
		t.Error("rendered config without release-image-version accepted")
	}
}

// The watcher reads the inputs once per rendered config and says why when
// it cannot (then the annotation is followed).
func TestMOSBNamerInputs(t *testing.T) {
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker"}, Spec: mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: "worker"}}}
	pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	pool.Spec.Configuration.Name = "rendered-worker-1"
	kube := kubefake.NewClientset()
	mc := mcfgfake.NewClientset()
	n := &mosbNamer{kube: kubetest.Kube(kube), mc: kubetest.MachineConfig(mc)}
	if got := n.Expected(context.Background(), mosc, pool); got != nil || !strings.Contains(n.Problem, "machine-config-osimageurl") || !strings.Contains(n.Problem, "rendered-worker-1") {
		t.Fatalf("no inputs: %v, problem %q", got, n.Problem)
	}
	// Read once per rendered config: a ConfigMap created later is seen with
	// the next config.
	if _, err := kube.CoreV1().ConfigMaps(MCONamespace).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: OSImageURLConfigMap, Namespace: MCONamespace},
		Data: map[string]string{"baseOSContainerImage": "a", "baseOSExtensionsContainerImage": "b", "osImageURL": "", "releaseVersion": "4.20.1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := n.Expected(context.Background(), mosc, pool); got != nil {
		t.Errorf("re-read the inputs for the same config: %v", got)
	}
	pool.Spec.Configuration.Name = "rendered-worker-2"
	got := n.Expected(context.Background(), mosc, pool)
	want, _ := MachineOSBuildName(mosc, pool, OSImageURLConfig{"a", "b", "", "4.20.1"})
	if len(got) != 1 || got[0] != want || n.Problem != "" {
		t.Errorf("ConfigMap only: %v (want %s), problem %q", got, want, n.Problem)
	}
}
