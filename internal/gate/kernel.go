package gate

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IDTargetKernel: the target release's kernel (read from the payload)
// against the nodes' kernel, and the kernel-devel the layer build needs.
const IDTargetKernel = "target-kernel"

// CheckTargetKernel compares the kernel of the target's rhel-coreos (its
// meta.json) with the kernel the pool's nodes run. A layer that builds
// kernel modules (DOCA 3.2+ ships its drivers as DKMS source, built in the
// layer build against MCO's kernel-devel extension) is rebuilt against the
// new kernel at every upgrade that changes it: the
// rhel-coreos-extensions image of the same payload must carry kernel-devel
// for exactly that kernel (openshift/os extensions: the extensions
// repository pins kernel-devel to the node image's kernel), else DKMS has
// nothing to build against and the upgrade's build fails.
func CheckTargetKernel(p *release.Payload, stream string, target *profile.Plan, nodes []corev1.Node, nodesRead bool) Check {
	c := Check{ID: IDTargetKernel}
	if p == nil {
		c.Status, c.Message = Skip, "the target payload was not read (see "+IDReleasePayload+")"
		return c
	}
	var modules []string
	if target != nil {
		for _, s := range target.Stacks {
			if s.KernelModules {
				n := s.Name
				if s.Variant != "" {
					n += ":" + s.Variant
				}
				modules = append(modules, n)
			}
		}
	}
	builds := "no stack builds kernel modules"
	switch len(modules) {
	case 0:
	case 1:
		builds = modules[0] + " builds kernel modules (DKMS) in the layer build"
	default:
		builds = strings.Join(modules, ", ") + " build kernel modules (DKMS) in the layer build"
	}
	prim, ext, _ := p.Stream(stream)
	current := nodeKernels(nodes)
	c.Details = map[string]any{"target": prim.Kernel, "current": current, "modules": modules, "kernelDevel": ext.Extensions["kernel-devel"]}
	if prim.Kernel == "" {
		msg := fmt.Sprintf("the target's rhel-coreos has no metalayer (label %s, /usr/share/openshift/base/meta.json): its kernel is unknown", release.LabelMetalayer)
		if len(modules) == 0 {
			c.Status, c.Message = Pass, msg+"; "+builds
			return c
		}
		c.Status, c.Message = Warn, msg+", and "+builds
		c.Remedy = "build the layer on the target's base image before the upgrade (mosc gate --build)"
		return c
	}
	devel := ext.Extensions["kernel-devel"]
	if len(modules) > 0 {
		switch {
		case ext.Tag == "":
			c.Status = Fail
			c.Message = fmt.Sprintf("the target payload has no %s image: %s need kernel-devel-%s from it", release.TagRHCOSExtensions, builds, prim.Kernel)
		case ext.Extensions == nil:
			c.Status = Warn
			c.Message = fmt.Sprintf("target kernel %s; the payload's %s has no /usr/share/rpm-ostree/extensions.json, so whether it has kernel-devel-%s is unknown, and %s", prim.Kernel, release.TagRHCOSExtensions, prim.Kernel, builds)
			c.Remedy = "build the layer on the target's base image before the upgrade (mosc gate --build)"
			return c
		case devel == "":
			c.Status = Fail
			c.Message = fmt.Sprintf("target kernel %s, but the payload's %s has no kernel-devel: %s, and DKMS has nothing to build them against", prim.Kernel, release.TagRHCOSExtensions, builds)
		case devel != prim.Kernel:
			c.Status = Fail
			c.Message = fmt.Sprintf("target kernel %s, but the payload's %s has kernel-devel-%s: %s, and DKMS would build them for another kernel", prim.Kernel, release.TagRHCOSExtensions, devel, builds)
		}
		if c.Status == Fail {
			c.Remedy = "do not upgrade to this payload with a DKMS stack: use the ovs variant (NIC drivers from the NVIDIA Network Operator) or another z-stream whose extensions match its kernel"
			return c
		}
	}
	switch {
	case !nodesRead:
		c.Status = Pass
		c.Message = fmt.Sprintf("target kernel %s (the nodes' kernel is not read without the cluster); %s", prim.Kernel, builds)
	case len(current) == 0:
		c.Status = Pass
		c.Message = fmt.Sprintf("target kernel %s (no node of the pool reports its kernel); %s", prim.Kernel, builds)
	case len(current) == 1 && current[0] == prim.Kernel:
		c.Status = Pass
		c.Message = fmt.Sprintf("the kernel stays %s; %s", prim.Kernel, builds)
	case len(modules) == 0:
		c.Status = Pass
		c.Message = fmt.Sprintf("the kernel changes %s → %s; %s", strings.Join(current, ", "), prim.Kernel, builds)
	default:
		c.Status = Warn
		c.Message = fmt.Sprintf("the kernel changes %s → %s: %s, and the upgrade's rebuild compiles them for the new kernel (kernel-devel-%s is in %s)",
			strings.Join(current, ", "), prim.Kernel, builds, devel, release.TagRHCOSExtensions)
		c.Remedy = "a module that does not build for the new kernel fails the upgrade's layer build, and the MCO does not retry it: build it on the target's base image first (mosc gate --build), and follow the upgrade with mosc gate --after"
	}
	return c
}

// nodeKernels are the distinct kernels the nodes report (kubelet's
// nodeInfo.kernelVersion, e.g. 5.14.0-570.62.1.el9_6.x86_64).
func nodeKernels(nodes []corev1.Node) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range nodes {
		if k := n.Status.NodeInfo.KernelVersion; k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// targetKernelCheck reads the pool's nodes (when the cluster is there) for
// CheckTargetKernel.
func targetKernelCheck(ctx context.Context, o Options, payload *release.Payload) Check {
	if o.Offline {
		return Check{ID: IDTargetKernel, Status: Skip, Message: "--offline: the release payload is not read"}
	}
	var nodes []corev1.Node
	read := false
	if o.Cluster != nil {
		if mcp, err := o.Cluster.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, o.Current.Pool, metav1.GetOptions{}); err == nil {
			if sel, err := metav1.LabelSelectorAsSelector(mcp.Spec.NodeSelector); err == nil {
				if list, err := o.Cluster.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String()}); err == nil {
					nodes, read = list.Items, true
				}
			}
		}
	}
	stream := ""
	if payload != nil {
		stream = PayloadStream(payload, o.PoolStream)
	}
	return CheckTargetKernel(payload, stream, o.Target, nodes, read)
}
