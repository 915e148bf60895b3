package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/images"
	"github.com/mosc-dev/mosc/internal/watch"
)

// tagExists asks the test registry whether ref (repo:tag or repo@digest)
// resolves.
func tagExists(t *testing.T, ref string) bool {
	t.Helper()
	r, err := name.ParseReference(ref, name.WeakValidation)
	must(t, err)
	_, err = remote.Head(r, remote.WithAuth(env.Registry.Authenticator()))
	var terr *transport.Error
	switch {
	case err == nil:
		return true
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return false
	}
	t.Fatalf("HEAD %s: %v", ref, err)
	return false
}

func imagesJSON(t *testing.T, pool string) images.Pool {
	t.Helper()
	out, errOut, code := runMosc(t, "status", "--images", "--pool", pool, "-o", "json")
	var r images.Report
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Schema != images.Schema || len(r.Pools) != 1 {
		t.Fatalf("status --images -o json: exit %d\n%s\n%s", code, out, errOut)
	}
	return r.Pools[0]
}

// TestStatusImagesAndPrune: three builds of pool worker pushed to a real
// registry (one tag per build, <push spec>:<build name>, as the 4.18+ MCO
// pushes), then a fourth built while the pool is paused, so the nodes still
// run the third. status --images matches the cluster (MachineOSConfig
// annotation and status, node annotations, MachineOSBuilds); prune lists
// without --yes and deletes nothing; prune --yes --keep 0 never deletes the
// current build nor the one the nodes run, deletes the rest, and the
// simulated MCO then deletes their tags from the registry (reconciler.go
// deleteMOSBImage); the kept tags stay.
func TestStatusImagesAndPrune(t *testing.T) {
	resetCluster(t)
	startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 50 * time.Millisecond})
	ctx := context.Background()
	auth := filepath.Join(t.TempDir(), "auth.json")
	must(t, os.WriteFile(auth, env.Registry.DockerConfigJSON(), 0o600))
	repo := env.Registry.Host() + "/mosc-e2e/os-image"
	base := []string{"--pool", "worker", "--site", "lab", "--push-spec", repo + ":latest", "--push-auth", auth}
	mc := env.Clients.MachineConfig.MachineconfigurationV1()
	var builds []string // oldest first
	for _, stack := range []string{"doca-3.3:full", "doca-3.3:ovs", "doca-3.2"} {
		args := append(append([]string{"apply"}, base...), "--stack", stack, "--wait", "--timeout", "120s")
		out, errOut, code := runMosc(t, args...)
		if code != 0 {
			t.Fatalf("apply --stack %s --wait: exit %d\n%s\n%s", stack, code, out, errOut)
		}
		m, err := mc.MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{})
		must(t, err)
		builds = append(builds, m.Annotations[sim.AnnotationCurrentMOSB])
	}
	if len(builds) != 3 || builds[0] == builds[1] || builds[1] == builds[2] || builds[0] == builds[2] {
		t.Fatalf("want three builds, got %q", builds)
	}
	for _, b := range builds {
		if !tagExists(t, repo+":"+b) {
			t.Fatalf("the build %s pushed no tag %s:%s", b, repo, b)
		}
	}
	// A fourth build while the pool is paused: the MCO builds, the nodes wait.
	_, err := mc.MachineConfigPools().Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{})
	must(t, err)
	out, errOut, code := runMosc(t, append(append([]string{"apply"}, base...), "--stack", "doca-3.2:ovs")...)
	if code != 0 {
		t.Fatalf("apply doca-3.2:ovs: exit %d\n%s\n%s", code, out, errOut)
	}
	var fourth string
	deadline := time.Now().Add(90 * time.Second)
	for fourth == "" && time.Now().Before(deadline) {
		m, err := mc.MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{})
		must(t, err)
		if cur := m.Annotations[sim.AnnotationCurrentMOSB]; cur != builds[2] && cur != "" {
			if b, err := mc.MachineOSBuilds().Get(ctx, cur, metav1.GetOptions{}); err == nil && b.Status.DigestedImagePushSpec != "" &&
				m.Status.CurrentImagePullSpec == b.Status.DigestedImagePushSpec {
				fourth = cur
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if fourth == "" {
		t.Fatal("no fourth build within 90s")
	}
	builds = append(builds, fourth)

	// status --images matches what the cluster says.
	p := imagesJSON(t, "worker")
	var names []string
	for _, b := range p.Builds {
		names = append(names, b.Name)
	}
	if want := []string{builds[3], builds[2], builds[1], builds[0]}; !slices.Equal(names, want) {
		t.Fatalf("status --images builds %q, want newest first %q", names, want)
	}
	m, err := mc.MachineOSConfigs().Get(ctx, "worker", metav1.GetOptions{})
	must(t, err)
	if p.CurrentBuild != m.Annotations[sim.AnnotationCurrentMOSB] || p.CurrentImage != string(m.Status.CurrentImagePullSpec) || !p.Managed {
		t.Errorf("status --images pool: %+v; MachineOSConfig annotation %q, status %q", p, m.Annotations[sim.AnnotationCurrentMOSB], m.Status.CurrentImagePullSpec)
	}
	nodes, err := env.Clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/worker"})
	must(t, err)
	workers := map[string]string{}
	for _, n := range nodes.Items {
		if _, master := n.Labels["node-role.kubernetes.io/master"]; !master {
			workers[n.Name] = n.Annotations[sim.AnnotationCurrentImage]
		}
	}
	if len(p.Nodes) != len(workers) {
		t.Errorf("status --images nodes %+v, cluster %v", p.Nodes, workers)
	}
	for _, n := range p.Nodes {
		if workers[n.Name] != n.CurrentImage || n.CurrentBuild != builds[2] {
			t.Errorf("node %s: status --images says %q (build %s), the node's annotation %q (want build %s)", n.Name, n.CurrentImage, n.CurrentBuild, workers[n.Name], builds[2])
		}
	}
	for i, b := range p.Builds {
		mb, err := mc.MachineOSBuilds().Get(ctx, b.Name, metav1.GetOptions{})
		must(t, err)
		if b.Image != string(mb.Status.DigestedImagePushSpec) || b.PushSpec != string(mb.Spec.RenderedImagePushSpec) || b.State != "Succeeded" ||
			b.PushSpec != repo+":"+b.Name || b.Current != (i == 0) || b.Target != (i == 0) || (len(b.NodesCurrent) == len(workers)) != (i == 1) {
			t.Errorf("build %d %s: %+v; cluster: image %s, push spec %s", i, b.Name, b, mb.Status.DigestedImagePushSpec, mb.Spec.RenderedImagePushSpec)
		}
	}
	out, errOut, code = runMosc(t, "status", "--images", "--pool", "worker")
	transcript(t, []string{"status", "--images", "--pool", "worker"}, out, errOut)
	if code != 0 || !strings.Contains(out, "pool worker: machineosconfig/worker (v1, created by mosc), current build "+builds[3]) ||
		!strings.Contains(out, "run: worker-0,worker-1,worker-2") || !strings.Contains(out, "build,image") {
		t.Errorf("status --images: exit %d\n%s\n%s", code, out, errOut)
	}

	// Without --yes: the list, nothing deleted.
	out, errOut, code = runMosc(t, "prune", "--pool", "worker")
	transcript(t, []string{"prune", "--pool", "worker"}, out, errOut)
	if code != 0 || out != "machineosbuild/"+builds[0]+" deleted (dry run)\n" ||
		!strings.Contains(errOut, "machineosbuild/"+builds[1]+" kept: one of the 1 newest builds not in use (--keep 1)") ||
		!strings.Contains(errOut, "machineosbuild/"+builds[2]+" kept: node(s) worker-0, worker-1, worker-2 run its image") ||
		!strings.Contains(errOut, "machineosbuild/"+builds[3]+" kept: the MachineOSConfig's current build") ||
		!strings.Contains(errOut, "registry space: ") || !strings.Contains(errOut, "re-run with --yes") {
		t.Errorf("prune (dry run): exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := mc.MachineOSBuilds().Get(ctx, builds[0], metav1.GetOptions{}); err != nil {
		t.Fatalf("the dry run deleted %s: %v", builds[0], err)
	}

	out, errOut, code = runMosc(t, "prune", "--pool", "worker", "--keep", "0", "--yes")
	transcript(t, []string{"prune", "--pool", "worker", "--keep", "0", "--yes"}, out, errOut)
	if code != 0 || out != "machineosbuild/"+builds[1]+" deleted\nmachineosbuild/"+builds[0]+" deleted\n" ||
		!strings.Contains(errOut, "the MCO deletes its image "+repo+":"+builds[0]) {
		t.Errorf("prune --yes --keep 0: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, b := range builds[2:] {
		if _, err := mc.MachineOSBuilds().Get(ctx, b, metav1.GetOptions{}); err != nil {
			t.Errorf("prune deleted %s (in use or current): %v", b, err)
		}
	}
	// The MCO deletes the deleted builds' tags, and only theirs.
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && (tagExists(t, repo+":"+builds[0]) || tagExists(t, repo+":"+builds[1])) {
		time.Sleep(200 * time.Millisecond)
	}
	for i, b := range builds {
		if got, want := tagExists(t, repo+":"+b), i >= 2; got != want {
			t.Errorf("tag %s of build %d: exists %v, want %v", b, i, got, want)
		}
	}
	if p := imagesJSON(t, "worker"); len(p.Builds) != 2 {
		t.Errorf("after prune, status --images lists %d builds: %+v", len(p.Builds), p.Builds)
	}

	// The pool rolls out the fourth build; the third is then free to go.
	_, err = mc.MachineConfigPools().Patch(ctx, "worker", types.MergePatchType, []byte(`{"spec":{"paused":false}}`), metav1.PatchOptions{})
	must(t, err)
	fourthImage := p.CurrentImage
	deadline = time.Now().Add(90 * time.Second)
	for rolled := false; !rolled; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the pool did not roll out the fourth build within 90s")
		}
		rolled = true
		for n := range workers {
			node, err := env.Clients.Kube.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
			must(t, err)
			if node.Annotations[sim.AnnotationCurrentImage] != fourthImage || node.Annotations[sim.AnnotationDesiredImage] != fourthImage {
				rolled = false
			}
		}
	}
	out, errOut, code = runMosc(t, "prune", "--pool", "worker", "--keep", "0", "--yes", "-o", "json")
	var res images.PruneResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Schema != images.PruneSchema || !res.MCODeletesImages || res.DryRun {
		t.Fatalf("prune -o json: exit %d\n%s\n%s", code, out, errOut)
	}
	var deleted []string
	for _, d := range res.Decisions {
		if d.Delete {
			deleted = append(deleted, d.Build.Name)
		}
	}
	if !slices.Equal(deleted, []string{builds[2]}) || res.Freed <= 0 {
		t.Errorf("prune after the rollout deleted %q (freed %d), want only %s", deleted, res.Freed, builds[2])
	}
}

// prune refuses a MachineOSConfig mosc did not create and a pool without one.
func TestPruneRefusals(t *testing.T) {
	resetCluster(t)
	_, errOut, code := runMosc(t, "prune", "--pool", "worker")
	if code != 2 || !strings.Contains(errOut, "pool worker has no MachineOSConfig: nothing to prune") {
		t.Errorf("prune without a MachineOSConfig: exit %d\n%s", code, errOut)
	}
	ctx := context.Background()
	m := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: "worker"},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: mcfgv1.JobBuilder},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push-secret"},
			RenderedImagePushSpec:   mcfgv1.ImageTagFormat(sim.InternalRegistryHost + "/openshift-machine-config-operator/os-image:latest")}}
	_, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Create(ctx, m, metav1.CreateOptions{})
	must(t, err)
	_, errOut, code = runMosc(t, "prune", "--pool", "worker", "--yes")
	if code != 2 || !strings.Contains(errOut, "machineosconfig/worker (pool worker) is not created by mosc") {
		t.Errorf("prune of a MachineOSConfig mosc did not create: exit %d\n%s", code, errOut)
	}
	for _, args := range [][]string{{"prune", "--keep", "-1"}, {"prune", "-o", "yaml"}, {"prune", "worker"}} {
		if _, errOut, code := runMosc(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, errOut)
		}
	}
}

// TestPruneV1alpha1: on 4.17 (MachineOSBuild v1alpha1) the MCO deletes no
// image, and every build of a pool pushed <push spec>:<rendered
// MachineConfig> (release-4.17 build_controller.go). prune deletes the old
// build, never the one the nodes run nor the newest (current) one, and then
// the image itself: on the internal registry (the only one a 4.17
// MachineOSConfig can name with a port, so the only one this test can use)
// its ImageStreamTag. The test API server serves no image.openshift.io (an
// OpenShift API server kind, not a CRD), so prune says it cannot, names the
// tag and exits 1; the registry API path is tested in internal/images
// against a real OCI registry (TestRemoteRegistry).
func TestPruneV1alpha1(t *testing.T) {
	resetCluster(t)
	useV1alpha1Cluster(t, "4.17.3")
	ctx := context.Background()
	if out, errOut, code := runMosc(t, "apply", "--pool", "worker", "--site", "lab"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	repo := sim.InternalRegistryHost + "/openshift-machine-config-operator/os-image"
	var digests []string
	for i := 1; i <= 3; i++ {
		rendered := fmt.Sprintf("rendered-worker-%d", i)
		digests = append(digests, repo+"@sha256:"+strings.Repeat(fmt.Sprint(i), 64))
		m := &mco417{t: t, pool: "worker", rendered: rendered, mosb: "worker-" + rendered + "-builder", pod: "build-" + rendered}
		m.startBuild(repo + ":latest")
		m.succeed(digests[i-1])
		if i == 2 {
			m.rollout(digests[1])
		}
		time.Sleep(1100 * time.Millisecond) // creationTimestamp has second precision
	}
	out, errOut, code := runMosc(t, "status", "--images", "--pool", "worker")
	transcript(t, []string{"status", "--images", "--pool", "worker"}, out, errOut)
	if code != 0 || !strings.Contains(out, "(v1alpha1, created by mosc), current build worker-rendered-worker-3-builder") ||
		!strings.Contains(out, "TAG") || !strings.Contains(out, "  rendered-worker-2  ") {
		t.Errorf("status --images: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runMosc(t, "prune", "--pool", "worker", "--keep", "0")
	transcript(t, []string{"prune", "--pool", "worker", "--keep", "0"}, out, errOut)
	if code != 0 || out != "machineosbuild/worker-rendered-worker-1-builder deleted (dry run)\nimagestreamtag/openshift-machine-config-operator/os-image:rendered-worker-1 deleted (dry run)\n" {
		t.Errorf("prune dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runMosc(t, "prune", "--pool", "worker", "--keep", "0", "--yes")
	transcript(t, []string{"prune", "--pool", "worker", "--keep", "0", "--yes"}, out, errOut)
	if code != 1 || out != "machineosbuild/worker-rendered-worker-1-builder deleted\n" ||
		!strings.Contains(errOut, "machineosbuild/worker-rendered-worker-2-builder kept: node(s) worker-0, worker-1, worker-2 run its image") ||
		!strings.Contains(errOut, "machineosbuild/worker-rendered-worker-3-builder kept: the MachineOSConfig's current build") ||
		!strings.Contains(errOut, "imagestreamtag openshift-machine-config-operator/os-image:rendered-worker-1 cannot be deleted") {
		t.Errorf("prune --yes: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	gvr := watch.GVRMachineOSBuildV1alpha1
	if _, err := env.Clients.Dynamic.Resource(gvr).Get(ctx, "worker-rendered-worker-1-builder", metav1.GetOptions{}); err == nil {
		t.Error("the first MachineOSBuild is still there")
	}
	for _, b := range []string{"worker-rendered-worker-2-builder", "worker-rendered-worker-3-builder"} {
		if _, err := env.Clients.Dynamic.Resource(gvr).Get(ctx, b, metav1.GetOptions{}); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}
