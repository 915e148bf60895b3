package cluster

import (
	"context"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
	"github.com/mosc-dev/mosc/internal/profile"
	configv1 "github.com/openshift/api/config/v1"
	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	configfake "github.com/openshift/client-go/config/clientset/versioned/fake"
	irfake "github.com/openshift/client-go/imageregistry/clientset/versioned/fake"
	mcfgfake "github.com/openshift/client-go/machineconfiguration/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

func sc(name, provisioner string, def bool) *storagev1.StorageClass {
	s := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner}
	if def {
		s.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	}
	return s
}

func infra(topology configv1.TopologyMode) *configv1.Infrastructure {
	return &configv1.Infrastructure{ObjectMeta: metav1.ObjectMeta{Name: "cluster"},
		Status: configv1.InfrastructureStatus{ControlPlaneTopology: topology, InfrastructureTopology: topology}}
}

func testNode(name string, l map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

func TestCheckRegistryStorage(t *testing.T) {
	worker := map[string]string{"node-role.kubernetes.io/worker": ""}
	infraNode := map[string]string{"node-role.kubernetes.io/infra": ""}
	pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: mcfgv1.MachineConfigPoolSpec{NodeSelector: &metav1.LabelSelector{MatchLabels: worker}}}
	registry := func(sel map[string]string) *imageregistryv1.Config {
		return &imageregistryv1.Config{ObjectMeta: metav1.ObjectMeta{Name: "cluster"}, Spec: imageregistryv1.ImageRegistrySpec{NodeSelector: sel}}
	}
	for _, tc := range []struct {
		name     string
		class    string
		kube     []runtime.Object
		config   []runtime.Object
		registry *imageregistryv1.Config
		refuse   string // substring; "" = not refused
		note     string
		warn     string
	}{
		{name: "lvms on a multi-node cluster", class: "lvms-vg1",
			kube: []runtime.Object{sc("lvms-vg1", "topolvm.io", false), testNode("w0", worker)}, config: []runtime.Object{infra(configv1.HighlyAvailableTopologyMode)},
			refuse: "--storage-class lvms-vg1 (spec.registry.storageClass): storageclass lvms-vg1 keeps volumes on one node (provisioner topolvm.io: LVM Storage (LVMS/TopoLVM)), and this cluster has controlPlaneTopology HighlyAvailable"},
		{name: "lvms on a single-node cluster", class: "lvms-vg1",
			kube: []runtime.Object{sc("lvms-vg1", "topolvm.io", false)}, config: []runtime.Object{infra(configv1.SingleReplicaTopologyMode)},
			note: "fine on this single-node cluster"},
		{name: "default class is local", class: "",
			kube: []runtime.Object{sc("local", "kubernetes.io/no-provisioner", true), sc("nfs", "nfs.csi.k8s.io", false)}, config: []runtime.Object{infra(configv1.HighlyAvailableTopologyMode)},
			refuse: "the registry claim's storage class local (from the cluster's default storage class; choose another with --storage-class)"},
		{name: "shared storage", class: "ocs-storagecluster-cephfs",
			kube: []runtime.Object{sc("ocs-storagecluster-cephfs", "openshift-storage.cephfs.csi.ceph.com", false)}, config: []runtime.Object{infra(configv1.HighlyAvailableTopologyMode)}},
		{name: "hostname topology", class: "pinned",
			kube:   []runtime.Object{&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "pinned"}, Provisioner: "example.com/csi", AllowedTopologies: []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: "kubernetes.io/hostname", Values: []string{"w0"}}}}}}},
			config: []runtime.Object{infra(configv1.HighlyAvailableTopologyMode)},
			refuse: "allowedTopologies pins volumes to hosts (w0)"},
		{name: "registry kept off the pool", class: "lvms-vg1",
			kube: []runtime.Object{sc("lvms-vg1", "topolvm.io", false), testNode("w0", worker), testNode("i0", infraNode)}, config: []runtime.Object{infra(configv1.HighlyAvailableTopologyMode)},
			registry: registry(infraNode), note: "the registry's nodeSelector keeps it off pool worker"},
		{name: "registry selector hits the pool", class: "lvms-vg1",
			kube: []runtime.Object{sc("lvms-vg1", "topolvm.io", false), testNode("w0", worker)}, config: []runtime.Object{infra(configv1.HighlyAvailableTopologyMode)},
			registry: registry(worker), refuse: "matches the pool's node(s) w0"},
		{name: "missing class", class: "lvms-vg1",
			config: []runtime.Object{infra(configv1.HighlyAvailableTopologyMode)},
			warn:   "storageclass lvms-vg1 (--storage-class (spec.registry.storageClass)) does not exist"},
		{name: "no infrastructure", class: "lvms-vg1",
			kube: []runtime.Object{sc("lvms-vg1", "topolvm.io", false)},
			warn: "if this cluster has more than one node, a rollout can deadlock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := tc.registry
			if reg == nil {
				reg = registry(nil)
			}
			c := &Clients{Kube: kubetest.Kube(kubefake.NewSimpleClientset(tc.kube...)), OpenShift: kubetest.Config(configfake.NewSimpleClientset(tc.config...)),
				ImageRegistry: kubetest.ImageRegistry(irfake.NewSimpleClientset(reg)), MachineConfig: kubetest.MachineConfig(mcfgfake.NewSimpleClientset(pool))}
			got := CheckRegistryStorage(context.Background(), c, &profile.RegistryPlan{ClaimName: "registry-claim", StorageClass: tc.class}, "worker")
			if (tc.refuse == "") != (got.Refuse == "") || !strings.Contains(got.Refuse, tc.refuse) {
				t.Errorf("Refuse = %q\nwant it to contain %q", got.Refuse, tc.refuse)
			}
			if tc.refuse != "" && !strings.Contains(got.Refuse, "--storage-class") {
				t.Errorf("the refusal does not name the flag: %s", got.Refuse)
			}
			if j := strings.Join(got.Notes, "\n"); !strings.Contains(j, tc.note) || (tc.note == "") != (j == "") {
				t.Errorf("Notes = %q, want %q", got.Notes, tc.note)
			}
			if j := strings.Join(got.Warnings, "\n"); !strings.Contains(j, tc.warn) || (tc.warn == "") != (j == "") {
				t.Errorf("Warnings = %q, want %q", got.Warnings, tc.warn)
			}
		})
	}
}
