package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/sim"
)

// TestBuildSeesRotatedPullSecret: the cluster pull secret is rotated (the old
// quay.io token stops working); the next build must pull rhel-coreos with
// the new one. On v1 mosc names no baseImagePullSecret, so the MCO uses its
// own copy of the cluster pull secret, which follows the rotation; mosc's
// old merged copy kept the revoked token and the build failed
// (issue 10 finding 5).
func TestBuildSeesRotatedPullSecret(t *testing.T) {
	resetCluster(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 50 * time.Millisecond})
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--wait", "--timeout", "90s")
	if code != 0 {
		t.Fatalf("apply --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	ctx := context.Background()
	mc := env.Clients.MachineConfig.MachineconfigurationV1()
	mosc, err := mc.MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{})
	must(t, err)
	if mosc.Spec.BaseImagePullSecret != nil {
		t.Errorf("v1 MachineOSConfig names baseImagePullSecret %q", mosc.Spec.BaseImagePullSecret.Name)
	}

	// Rotate the quay.io credentials of the cluster pull secret.
	secrets := env.Clients.Kube.CoreV1().Secrets("openshift-config")
	ps, err := secrets.Get(ctx, "pull-secret", metav1.GetOptions{})
	must(t, err)
	var dc map[string]map[string]map[string]string
	must(t, json.Unmarshal(ps.Data[corev1.DockerConfigJsonKey], &dc))
	dc["auths"]["quay.io"]["auth"] = base64.StdEncoding.EncodeToString([]byte("e2e-quay:rotated-token"))
	ps.Data[corev1.DockerConfigJsonKey], _ = json.Marshal(dc)
	_, err = secrets.Update(ctx, ps, metav1.UpdateOptions{})
	must(t, err)

	// The next build (a rebuild here; an upgrade on a real cluster).
	name := mosc.Annotations[sim.AnnotationCurrentMOSB]
	old, err := mc.MachineOSBuilds().Get(ctx, name, metav1.GetOptions{})
	must(t, err)
	_, err = mc.MachineOSConfigs().Patch(ctx, "worker", types.MergePatchType, []byte(`{"metadata":{"annotations":{"`+sim.AnnotationRebuild+`":""}}}`), metav1.PatchOptions{})
	must(t, err)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := mc.MachineOSBuilds().Get(ctx, name, metav1.GetOptions{})
		if err == nil && b.UID != old.UID {
			if meta.IsStatusConditionTrue(b.Status.Conditions, string(mcfgv1.MachineOSBuildSucceeded)) {
				return
			}
			if c := meta.FindStatusCondition(b.Status.Conditions, string(mcfgv1.MachineOSBuildFailed)); c != nil && c.Status == metav1.ConditionTrue {
				t.Fatalf("the build after the pull secret rotation failed: %s", c.Message)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new build of %s finished within 60s", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
