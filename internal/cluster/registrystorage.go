package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/profile"
	configv1 "github.com/openshift/api/config/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Why this file (issue 10, finding 9): the machine-config daemon drains a
// node before it pulls the layered image, except on a single-node cluster
// (openshift/machine-config-operator, release-4.16 … release-4.22,
// pkg/daemon/drain.go drainRequired: `return
// !isSingleNodeTopology(dn.getControlPlaneTopology())`, the topology being
// Infrastructure status.controlPlaneTopology as the node controller copies
// it to the node annotation). With the registry on a ReadWriteOnce volume
// that lives on one node (LVM Storage's lvms-vg1, local volumes, hostpath),
// draining that node evicts the registry, which cannot start anywhere else;
// the node then cannot pull the image it is updating to, and the rollout
// stops there. mosc refuses such a storage class unless the cluster is
// single-node, or the registry's nodeSelector keeps it off the pool's nodes.

// NodeLocalProvisioners are provisioners whose volumes live on one node (a
// function, not a package-level map: no init code at every start-up).
func NodeLocalProvisioners() map[string]string {
	return map[string]string{
		"topolvm.io":                       "LVM Storage (LVMS/TopoLVM)",
		"kubernetes.io/no-provisioner":     "local persistent volumes (Local Storage Operator)",
		"kubevirt.io.hostpath-provisioner": "the hostpath provisioner",
		"kubevirt.io/hostpath-provisioner": "the hostpath provisioner",
		"rancher.io/local-path":            "local-path-provisioner",
		"openebs.io/local":                 "OpenEBS local PV",
		"local.csi.openebs.io":             "OpenEBS LVM local PV",
		"zfs.csi.openebs.io":               "OpenEBS ZFS local PV",
		"lvm.csi.metal-stack.io":           "csi-driver-lvm",
		"hostpath.csi.k8s.io":              "the CSI hostpath driver",
	}
}

// NodeLocalFlag names the site field and flag in messages.
const NodeLocalFlag = "--storage-class"

// nodeLocal says whether sc keeps its volumes on one node, and why.
func nodeLocal(sc *storagev1.StorageClass) (bool, string) {
	if what, ok := NodeLocalProvisioners()[sc.Provisioner]; ok {
		return true, fmt.Sprintf("provisioner %s: %s", sc.Provisioner, what)
	}
	// A class restricted to single hosts is node-local whatever its driver.
	for _, t := range sc.AllowedTopologies {
		for _, e := range t.MatchLabelExpressions {
			if e.Key == "kubernetes.io/hostname" {
				return true, fmt.Sprintf("allowedTopologies pins volumes to hosts (%s)", strings.Join(e.Values, ", "))
			}
		}
	}
	return false, ""
}

// RegistryStorageCheck is the outcome of CheckRegistryStorage.
type RegistryStorageCheck struct {
	// Refuse is set when the plan must not go ahead; it is the whole message.
	Refuse string
	// Notes are printed as they are (not warnings: they say what was checked).
	Notes []string
	// Warnings are printed with "warning: ".
	Warnings []string
}

// CheckRegistryStorage reads the storage class the registry claim will use
// (the plan's, else the existing claim's, else the cluster default) and the
// cluster topology, and refuses a node-local class on a multi-node cluster
// unless the registry's nodeSelector keeps it off the pool's nodes. What mosc
// may not read it reports as a warning: it cannot decide then.
func CheckRegistryStorage(ctx context.Context, c *Clients, r *profile.RegistryPlan, pool string) RegistryStorageCheck {
	var out RegistryStorageCheck
	name, source := r.StorageClass, "--storage-class (spec.registry.storageClass)"
	if name == "" {
		if pvc, err := c.Kube.CoreV1().PersistentVolumeClaims(RegistryNamespace).Get(ctx, r.ClaimName, metav1.GetOptions{}); err == nil && pvc.Spec.StorageClassName != nil {
			name, source = *pvc.Spec.StorageClassName, "the existing claim "+RegistryNamespace+"/"+r.ClaimName
		}
	}
	var sc *storagev1.StorageClass
	if name != "" {
		got, err := c.Kube.StorageV1().StorageClasses().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			out.Warnings = append(out.Warnings, fmt.Sprintf("storageclass %s (%s) does not exist: the registry claim stays Pending until it does", name, source))
			return out
		case err != nil:
			out.Warnings = append(out.Warnings, fmt.Sprintf("storageclass %s: %v; not checked whether its volumes are node-local", name, err))
			return out
		}
		sc = got
	} else {
		list, err := c.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
		if err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("listing storage classes: %v; not checked whether the default class is node-local", err))
			return out
		}
		for i := range list.Items {
			if list.Items[i].Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
				sc = &list.Items[i]
				source = "the cluster's default storage class"
			}
		}
		if sc == nil {
			out.Warnings = append(out.Warnings, "no --storage-class and no default storage class: the registry claim stays Pending until one is set")
			return out
		}
	}
	local, why := nodeLocal(sc)
	if !local {
		return out
	}
	infra, err := c.OpenShift.ConfigV1().Infrastructures().Get(ctx, "cluster", metav1.GetOptions{})
	if err != nil {
		out.Warnings = append(out.Warnings, fmt.Sprintf("storageclass %s keeps volumes on one node (%s), and reading infrastructure/cluster failed (%v): if this cluster has more than one node, a rollout can deadlock on the node holding the registry", sc.Name, why, err))
		return out
	}
	if infra.Status.ControlPlaneTopology == configv1.SingleReplicaTopologyMode {
		out.Notes = append(out.Notes, fmt.Sprintf("note: storageclass %s keeps volumes on one node (%s); fine on this single-node cluster (controlPlaneTopology SingleReplica: the machine-config daemon does not drain)", sc.Name, why))
		return out
	}
	off, detail := registryOffPool(ctx, c, pool)
	if off {
		out.Notes = append(out.Notes, fmt.Sprintf("note: storageclass %s keeps volumes on one node (%s); the registry's nodeSelector keeps it off pool %s (%s), so draining the pool's nodes does not strand it", sc.Name, why, pool, detail))
		return out
	}
	subject := fmt.Sprintf("%s %s (spec.registry.storageClass)", NodeLocalFlag, sc.Name)
	if r.StorageClass == "" {
		subject = fmt.Sprintf("the registry claim's storage class %s (from %s; choose another with %s)", sc.Name, source, NodeLocalFlag)
	}
	out.Refuse = fmt.Sprintf("%s: storageclass %s keeps volumes on one node (%s), and this cluster has controlPlaneTopology %s. "+
		"The machine-config daemon drains each node before it pulls the layered image; when it drains the node holding the registry's volume, "+
		"the registry cannot start on another node and that node cannot pull its new image, so the rollout of pool %s stops there. "+
		"Use a storage class other nodes can attach (ODF, NFS, a cloud disk), an external registry (--push-spec with --push-auth), "+
		"or keep the registry off pool %s (image registry Config spec.nodeSelector matching none of its nodes; %s)",
		subject, sc.Name, why, orUnset(string(infra.Status.ControlPlaneTopology)), pool, pool, detail)
	return out
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// registryOffPool reports whether the registry Config's spec.nodeSelector
// selects at least one node and none of the pool's nodes.
func registryOffPool(ctx context.Context, c *Clients, pool string) (bool, string) {
	cfg, err := c.ImageRegistry.ImageregistryV1().Configs().Get(ctx, RegistryConfigName, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Sprintf("reading the registry Config: %v", err)
	}
	if len(cfg.Spec.NodeSelector) == 0 {
		return false, "it has none now"
	}
	mcp, err := c.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
	if err != nil || mcp.Spec.NodeSelector == nil {
		return false, "the pool's nodes are unknown"
	}
	poolSel, err := metav1.LabelSelectorAsSelector(mcp.Spec.NodeSelector)
	if err != nil {
		return false, "the pool's nodeSelector is invalid"
	}
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(cfg.Spec.NodeSelector).String()})
	if err != nil {
		return false, fmt.Sprintf("listing nodes: %v", err)
	}
	var inPool []string
	for _, n := range nodes.Items {
		if poolSel.Matches(labels.Set(n.Labels)) {
			inPool = append(inPool, n.Name)
		}
	}
	sel := labels.SelectorFromSet(cfg.Spec.NodeSelector).String()
	switch {
	case len(nodes.Items) == 0:
		return false, fmt.Sprintf("its nodeSelector %s matches no node", sel)
	case len(inPool) > 0:
		sort.Strings(inPool)
		return false, fmt.Sprintf("its nodeSelector %s matches the pool's node(s) %s", sel, strings.Join(inPool, ", "))
	}
	return true, "nodeSelector " + sel
}
