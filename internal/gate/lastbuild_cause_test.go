package gate

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mosc-dev/mosc/internal/watch"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
)

// A failed last build gets the cause and remedy mosc watch shows, here from
// the build pod's termination message (FallbackToLogsOnError).
func TestExplainLastBuild(t *testing.T) {
	msg := `Error: pushing image "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:worker-1" to "docker://image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:worker-1": writing blob: initiating layer upload to /v2/openshift-machine-config-operator/os-image/blobs/uploads/ in image-registry.openshift-image-registry.svc:5000: unauthorized: authentication required`
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "build-worker-1-abcde", Namespace: watch.MCONamespace, Labels: map[string]string{watch.LabelJobName: "build-worker-1"}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: watch.BuildContainer,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: msg}}}}},
	}
	kube := fake.NewSimpleClientset(pod)
	c := Check{ID: IDLastBuild, Status: Fail, Message: "MachineOSBuild worker-1 Failed: Failed: Build Failed",
		Details: map[string]any{"machineOSBuild": "worker-1", "state": "Failed"}}
	got := explainLastBuild(context.Background(), kubetest.Kube(kube), c, "worker")
	if got.Details["cause"] != watch.CausePushDenied || !strings.Contains(got.Message, "cause push-denied") || !strings.Contains(got.Remedy, "push secret") {
		t.Errorf("explained check: %+v", got)
	}
	// A passing check is left as it is.
	pass := Check{ID: IDLastBuild, Status: Pass, Message: "MachineOSBuild worker-1 Succeeded", Details: map[string]any{"state": "Succeeded"}}
	if got := explainLastBuild(context.Background(), kubetest.Kube(kube), pass, "worker"); got.Message != pass.Message || got.Details["cause"] != nil {
		t.Errorf("passing check changed: %+v", got)
	}
}
