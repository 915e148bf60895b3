package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/e2e/sim"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestApplySharedInputs (issue 10, finding 8, apply side): etc-yum-repos-d
// and etc-pki-rpm-gpg are mounted into every pool's build (the simulator's
// build pods mount them as the MCO's buildrequest.go does). A second pool's
// apply warns about the first; one that would change a repo file the first
// pool's build uses is refused, naming it, and changes nothing, unless
// --overwrite-shared-inputs. The mosc before the fix rewrote doca.repo for
// both pools without a word.
func TestApplySharedInputs(t *testing.T) {
	resetCluster(t)
	ctx := context.Background()
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 50 * time.Millisecond})
	// The MCO deletes a build's pod once it succeeds: look while it runs.
	mounted := make(chan bool, 1)
	pollCtx, stopPoll := context.WithTimeout(ctx, 90*time.Second)
	defer stopPoll()
	go func() {
		defer close(mounted)
		for pollCtx.Err() == nil {
			pods, err := env.Clients.Kube.CoreV1().Pods(mcoNS).List(pollCtx, metav1.ListOptions{LabelSelector: sim.LabelMachineOSConfig + "=worker"})
			if err == nil && len(pods.Items) > 0 {
				mounted <- mounts(pods.Items[0], sim.EtcYumReposDName, "/etc/yum.repos.d")
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--stack", "doca-3.3", "--wait", "--timeout", "90s")
	if code != 0 {
		t.Fatalf("apply worker: exit %d\n%s\n%s", code, out, errOut)
	}
	if !<-mounted {
		t.Fatalf("the worker build pod does not mount %s at /etc/yum.repos.d", sim.EtcYumReposDName)
	}
	cms := env.Clients.Kube.CoreV1().ConfigMaps(mcoNS)
	before, err := cms.Get(ctx, "etc-yum-repos-d", metav1.GetOptions{})
	must(t, err)

	// Same stack for master: nothing the worker uses changes; a warning says why it matters.
	out, errOut, code = runMosc(t, "apply", "--pool", "master", "--site", "lab", "--stack", "doca-3.3")
	if code != 0 || !strings.Contains(errOut, "warning: machineosconfig worker (pool worker) also exists: the MCO mounts configmap/etc-yum-repos-d and secret/etc-pki-rpm-gpg into every pool's build") {
		t.Fatalf("apply master, same inputs: exit %d\n%s\n%s", code, out, errOut)
	}

	// Another DOCA for master would rewrite the worker's doca.repo.
	args := []string{"apply", "--pool", "master", "--site", "lab", "--stack", "doca-3.2"}
	out, errOut, code = runMosc(t, args...)
	if code != 2 || !strings.Contains(errOut, "changes etc-yum-repos-d doca.repo, which the build of worker uses") || !strings.Contains(errOut, "--overwrite-shared-inputs") {
		t.Fatalf("apply master doca-3.2: exit %d, want 2 naming doca.repo and the flag\n%s\n%s", code, out, errOut)
	}
	t.Logf("$ mosc %s\n%s", strings.Join(args, " "), errOut)
	after, err := cms.Get(ctx, "etc-yum-repos-d", metav1.GetOptions{})
	must(t, err)
	if after.Data["doca.repo"] != before.Data["doca.repo"] {
		t.Errorf("the refused apply changed doca.repo:\n%s", after.Data["doca.repo"])
	}
	out, errOut, code = runMosc(t, append(args, "--overwrite-shared-inputs")...)
	if code != 0 || !strings.Contains(errOut, "changes etc-yum-repos-d doca.repo, which the build of worker uses") {
		t.Fatalf("apply --overwrite-shared-inputs: exit %d\n%s\n%s", code, out, errOut)
	}
	after, err = cms.Get(ctx, "etc-yum-repos-d", metav1.GetOptions{})
	must(t, err)
	if !strings.Contains(after.Data["doca.repo"], "/doca/3.2") {
		t.Errorf("doca.repo after --overwrite-shared-inputs:\n%s", after.Data["doca.repo"])
	}
}

func mounts(p corev1.Pod, volume, path string) bool {
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			if m.Name == volume && m.MountPath == path {
				return true
			}
		}
	}
	return false
}
