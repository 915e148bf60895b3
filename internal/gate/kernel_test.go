package gate

import (
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	corev1 "k8s.io/api/core/v1"
)

func TestCheckTargetKernel(t *testing.T) {
	const k = "5.14.0-570.42.1.el9_6.x86_64"
	payload := func(kernel, devel string, ext bool) *release.Payload {
		p := &release.Payload{CoreOS: []release.CoreOS{{Tag: release.TagRHCOS, Kernel: kernel}}}
		if ext {
			e := release.CoreOS{Tag: release.TagRHCOSExtensions, Extensions: map[string]string{"usbguard": "1.0.0-15.el9.x86_64"}}
			if devel != "" {
				e.Extensions["kernel-devel"] = devel
			}
			p.CoreOS = append(p.CoreOS, e)
		}
		return p
	}
	dkms := &profile.Plan{Stacks: []profile.StackInfo{{Name: "doca-3.3", Variant: "full", KernelModules: true}}}
	ovs := &profile.Plan{Stacks: []profile.StackInfo{{Name: "doca-3.3", Variant: "ovs"}}}
	node := func(kv string) corev1.Node {
		var n corev1.Node
		n.Status.NodeInfo.KernelVersion = kv
		return n
	}
	old := []corev1.Node{node("5.14.0-570.30.1.el9_6.x86_64"), node("5.14.0-570.30.1.el9_6.x86_64")}
	for _, tc := range []struct {
		name   string
		p      *release.Payload
		plan   *profile.Plan
		nodes  []corev1.Node
		read   bool
		status Status
		msg    string
	}{
		{"no payload", nil, dkms, nil, false, Skip, "was not read"},
		{"kernel changes, DKMS", payload(k, k, true), dkms, old, true, Warn, "the kernel changes 5.14.0-570.30.1.el9_6.x86_64 → " + k + ": doca-3.3:full builds kernel modules (DKMS) in the layer build, and the upgrade's rebuild compiles them"},
		{"kernel changes, no modules", payload(k, k, true), ovs, old, true, Pass, "no stack builds kernel modules"},
		{"kernel stays", payload(k, k, true), dkms, []corev1.Node{node(k)}, true, Pass, "the kernel stays " + k},
		{"kernel-devel of another kernel", payload(k, "5.14.0-570.30.1.el9_6.x86_64", true), dkms, old, true, Fail, "has kernel-devel-5.14.0-570.30.1.el9_6.x86_64"},
		{"no kernel-devel", payload(k, "", true), dkms, old, true, Fail, "has no kernel-devel"},
		{"no extensions image", payload(k, "", false), dkms, old, true, Fail, "has no rhel-coreos-extensions image"},
		{"no metalayer, DKMS", payload("", k, true), dkms, old, true, Warn, "its kernel is unknown, and doca-3.3:full builds"},
		{"no metalayer, no modules", payload("", k, true), ovs, old, true, Pass, "its kernel is unknown; no stack"},
		{"no cluster", payload(k, k, true), dkms, nil, false, Pass, "not read without the cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CheckTargetKernel(tc.p, "", tc.plan, tc.nodes, tc.read)
			if c.Status != tc.status || !strings.Contains(c.Message, tc.msg) || (c.Status == Fail || c.Status == Warn) && c.Remedy == "" {
				t.Errorf("%s: %s\n%s", c.Status, c.Message, c.Remedy)
			}
		})
	}
}
