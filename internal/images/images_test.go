package images

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/internal/watch"
)

const repo = "quay.example.com/acme/os-image"

func digest(c string) string { return repo + "@sha256:" + strings.Repeat(c, 64) }

func mosb(name string, age time.Duration, state, image string) *mcfgv1.MachineOSBuild {
	b := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC).Add(-age)),
		Labels:            map[string]string{watch.LabelMachineOSConfig: "worker"}},
		Spec: mcfgv1.MachineOSBuildSpec{MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: "worker"},
			MachineConfig:         mcfgv1.MachineConfigReference{Name: "rendered-worker-" + name},
			RenderedImagePushSpec: mcfgv1.ImageTagFormat(repo + ":" + name)},
		Status: mcfgv1.MachineOSBuildStatus{DigestedImagePushSpec: mcfgv1.ImageDigestFormat(image)},
	}
	if state != "" {
		b.Status.Conditions = []metav1.Condition{{Type: state, Status: metav1.ConditionTrue, Reason: state}}
	}
	return b
}

func node(name, cur, des string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"node-role.kubernetes.io/worker": ""},
		Annotations: map[string]string{watch.AnnotationCurrentImage: cur, watch.AnnotationDesiredImage: des}}}
}

// snapshot: five builds of worker, newest first e (current, rolling out),
// d (the image worker-0 still runs), c, b (unused), a (failed).
func snapshot() watch.Snapshot {
	pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: mcfgv1.MachineConfigPoolSpec{NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/worker": ""}}}}
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker",
		Labels:      map[string]string{"app.kubernetes.io/managed-by": "mosc"},
		Annotations: map[string]string{watch.AnnotationCurrentMOSB: "e"}},
		Spec:   mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: "worker"}},
		Status: mcfgv1.MachineOSConfigStatus{CurrentImagePullSpec: mcfgv1.ImageDigestFormat(digest("e"))}}
	other := mosb("z", time.Minute, watch.BuildSucceeded, digest("9"))
	other.Labels[watch.LabelMachineOSConfig], other.Spec.MachineOSConfig.Name = "master", "master"
	return watch.Snapshot{Pool: "worker", MOSC: "worker", MOSCObj: mosc, Pools: []*mcfgv1.MachineConfigPool{pool},
		MOSBs: []*mcfgv1.MachineOSBuild{
			mosb("a", 50*time.Minute, watch.BuildFailed, ""),
			mosb("b", 40*time.Minute, watch.BuildSucceeded, digest("b")),
			mosb("c", 30*time.Minute, watch.BuildSucceeded, digest("c")),
			mosb("d", 20*time.Minute, watch.BuildSucceeded, digest("d")),
			mosb("e", 10*time.Minute, watch.BuildSucceeded, digest("e")),
			other,
		},
		Nodes: []*corev1.Node{
			// worker-0 runs d and is updating to e; worker-1 is on e; worker-2 on the stock image
			// (the registry reached under another name: same digest).
			node("worker-0", digest("d"), digest("e")),
			node("worker-1", "mirror.example.com/acme/os-image@sha256:"+strings.Repeat("e", 64), digest("e")),
			node("worker-2", "", ""),
		}}
}

func TestFromSnapshot(t *testing.T) {
	p := FromSnapshot(snapshot(), watch.APIv1)
	var names []string
	for _, b := range p.Builds {
		names = append(names, b.Name)
	}
	if strings.Join(names, " ") != "e d c b a" {
		t.Fatalf("builds %q: want the MachineOSConfig's, newest first", names)
	}
	e, d := p.Builds[0], p.Builds[1]
	if !e.Current || !e.Target || strings.Join(e.NodesCurrent, ",") != "worker-1" || strings.Join(e.NodesDesired, ",") != "worker-0,worker-1" {
		t.Errorf("e: %+v", e)
	}
	if d.Current || d.Target || strings.Join(d.NodesCurrent, ",") != "worker-0" || len(d.NodesDesired) != 0 {
		t.Errorf("d: %+v", d)
	}
	if !p.Managed || p.CurrentBuild != "e" || len(p.Nodes) != 3 || p.Nodes[0].CurrentBuild != "d" || p.Nodes[0].DesiredBuild != "e" || p.Nodes[2].CurrentBuild != "" {
		t.Errorf("pool: %+v", p)
	}
	if p.Builds[4].State != watch.BuildFailed || p.Builds[4].Tag() != repo+":a" {
		t.Errorf("a: %+v", p.Builds[4])
	}
}

func TestDecide(t *testing.T) {
	p := FromSnapshot(snapshot(), watch.APIv1)
	for _, tc := range []struct {
		keep int
		want string // build:delete?
	}{
		{0, "e:keep d:keep c:del b:del a:del"},
		{1, "e:keep d:keep c:keep b:del a:del"},
		{2, "e:keep d:keep c:keep b:keep a:del"},
		{9, "e:keep d:keep c:keep b:keep a:del"},
	} {
		var got []string
		for _, d := range Decide(p, tc.keep) {
			v := "keep"
			if d.Delete {
				v = "del"
			}
			if d.Reason == "" {
				t.Errorf("keep %d: %s has no reason", tc.keep, d.Build.Name)
			}
			got = append(got, d.Build.Name+":"+v)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("keep %d: %s, want %s", tc.keep, strings.Join(got, " "), tc.want)
		}
	}
	ds := Decide(p, 0)
	for _, want := range []string{"the MachineOSConfig's current build", "its image is the MachineOSConfig's currentImagePullSpec", "node(s) worker-1 run its image", "node(s) worker-0 are updating to its image"} {
		if !strings.Contains(ds[0].Reason, want) {
			t.Errorf("e's reason %q lacks %q", ds[0].Reason, want)
		}
	}
	if ds[1].Reason != "node(s) worker-0 run its image" {
		t.Errorf("d's reason: %q", ds[1].Reason)
	}

	// A running build is never deleted, nor one already going.
	s := snapshot()
	s.MOSBs[1].Status.Conditions = []metav1.Condition{{Type: watch.BuildBuilding, Status: metav1.ConditionTrue}}
	now := metav1.Now()
	s.MOSBs[2].DeletionTimestamp = &now
	for _, d := range Decide(FromSnapshot(s, watch.APIv1), 0) {
		if (d.Build.Name == "b" || d.Build.Name == "c") && d.Delete {
			t.Errorf("%s deleted: %s", d.Build.Name, d.Reason)
		}
	}
}

// v1alpha1 builds pushed <push spec>:<rendered MachineConfig>; the newest is current.
func TestFromSnapshotV1alpha1(t *testing.T) {
	s := snapshot()
	delete(s.MOSCObj.Annotations, watch.AnnotationCurrentMOSB)
	for _, b := range s.MOSBs {
		b.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat(repo + ":latest")
	}
	p := FromSnapshot(s, watch.APIv1alpha1)
	if p.CurrentBuild != "e" || p.Builds[1].Tag() != repo+":rendered-worker-d" {
		t.Errorf("v1alpha1: current %q, d's tag %q", p.CurrentBuild, p.Builds[1].Tag())
	}
	var b bytes.Buffer
	if err := WriteTable(&b, &Report{Pools: []Pool{p}}, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "BUILD  STATE      AGE  TAG                IMAGE") || !strings.Contains(b.String(), "d      Succeeded  20m  rendered-worker-d  os-image@sha256:dddddddddddd  -            run: worker-0") {
		t.Errorf("v1alpha1 table: want the TAG column (the rendered MachineConfig):\n%s", b.String())
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	p := FromSnapshot(snapshot(), watch.APIv1)
	if err := WriteTable(&b, &Report{Pools: []Pool{p}}, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"pool worker: machineosconfig/worker (v1, created by mosc), current build e, image os-image@sha256:eeeeeeeeeeee",
		"each build pushed to quay.example.com/acme/os-image:<build name>",
		"BUILD  STATE      AGE  IMAGE                         CURRENT      NODES",
		"e      Succeeded  10m  os-image@sha256:eeeeeeeeeeee  build,image  run: worker-1; updating to it: worker-0",
		"a      Failed     50m  -                             -            -",
		"worker-2  (stock)                       -      (stock)                       -",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestAuthFromSecret(t *testing.T) {
	sec := &corev1.Secret{Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"https://quay.example.com/":{"auth":"dTpw"},"r.example.com":{"username":"a","password":"b"}}}`)}}
	for host, want := range map[string]string{"quay.example.com": "u:p", "r.example.com": "a:b", "other": ""} {
		a, ok := AuthFromSecret(sec, host)
		if want == "" {
			if ok {
				t.Errorf("%s: credentials found", host)
			}
			continue
		}
		cfg, err := a.Authorization()
		if !ok || err != nil || cfg.Username+":"+cfg.Password != want {
			t.Errorf("%s: %v %v %+v", host, ok, err, cfg)
		}
	}
	if _, ok := AuthFromSecret(nil, "x"); ok {
		t.Error("nil secret")
	}
}

// fakeRegistry describes images by digest letter: each has a layer of its
// own and one shared base layer.
type fakeRegistry struct{ fail string }

func (f fakeRegistry) Blobs(_ context.Context, image string) (map[string]int64, error) {
	if f.fail != "" && image == f.fail {
		return nil, context.DeadlineExceeded
	}
	return map[string]int64{"manifest-" + image: 500, "own-" + image: 1000, "base": 1 << 30}, nil
}

func TestMeasure(t *testing.T) {
	ds := Decide(FromSnapshot(snapshot(), watch.APIv1), 0) // c and b go (a has no image)
	freed, un := measure(context.Background(), fakeRegistry{}, ds)
	if freed != 2*1500 || un != nil {
		t.Errorf("freed %d (%v), want the two deleted images' own blobs, not the shared base", freed, un)
	}
	freed, un = measure(context.Background(), fakeRegistry{fail: digest("c")}, ds)
	if freed != -1 || len(un) != 1 || !strings.Contains(un[0], "machineosbuild/c") {
		t.Errorf("unreadable image: freed %d, %q", freed, un)
	}
}
