package watch

import (
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

// The GVRs are built from our constant so they are laid out statically (no
// init code at start-up); it must stay the API's group name.
func TestMachineConfigGroupIsTheAPIs(t *testing.T) {
	if mcfgGroup != mcfgv1.GroupName {
		t.Fatalf("mcfgGroup %q, API group %q", mcfgGroup, mcfgv1.GroupName)
	}
	for _, gvr := range []string{GVRMachineOSConfigV1alpha1.Group, GVRMachineOSBuildV1alpha1.Group} {
		if gvr != mcfgv1.GroupName {
			t.Fatalf("GVR group %q, API group %q", gvr, mcfgv1.GroupName)
		}
	}
}
