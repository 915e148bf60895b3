package gate

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/internal/repo"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	mcfgfake "github.com/openshift/client-go/machineconfiguration/clientset/versioned/fake"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
)

// fakeCluster is a layered worker pool of two nodes (plus a master that the
// pool's nodeSelector must leave out), in fake clientsets.
func fakeCluster(t *testing.T, degraded bool, tokenLeft time.Duration, now time.Time) *Cluster {
	t.Helper()
	img := "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image@sha256:aa"
	conds := map[string]string{"Updated": "True"}
	updated := int32(2)
	if degraded {
		conds = map[string]string{"Degraded": "True", "NodeDegraded": "True"}
		updated = 1
	}
	mcp := pool(conds, updated, 2, map[bool]int32{true: 1, false: 0}[degraded])
	mcp.Spec.NodeSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/worker": ""}}
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker", Annotations: map[string]string{annCurrentMOSB: "worker-b"}}}
	mosc.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(img)
	b := mosb("worker-b", time.Minute, "Succeeded")
	node := func(name, role, state string) runtime.Object {
		n := nodeView(name, state, "rendered-worker-abc", img).Node
		n.Labels = map[string]string{"node-role.kubernetes.io/" + role: ""}
		return &n
	}
	w1 := "Done"
	if degraded {
		w1 = "Degraded"
	}
	kube := kubefake.NewSimpleClientset(
		node("worker-0", "worker", "Done"), node("worker-1", "worker", w1), node("master-0", "master", "Working"),
		pushSecret(map[string]string{"image-registry.openshift-image-registry.svc:5000": jwt(now.Add(tokenLeft))}),
	)
	mc := mcfgfake.NewSimpleClientset(mcp, mosc, &b)
	return &Cluster{Kube: kubetest.Kube(kube), MachineConfig: kubetest.MachineConfig(mc)}
}

func TestRunLive(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	cur, tgt := plan(t, "4.20"), plan(t, "4.21")
	tests := []struct {
		name     string
		degraded bool
		left     time.Duration
		want     map[string]Status
		msgs     map[string]string
	}{
		{"healthy", false, 300 * 24 * time.Hour,
			map[string]Status{IDPoolHealth: Pass, IDLastBuild: Pass, IDNodes: Pass, IDPushToken: Pass},
			map[string]string{IDNodes: "2/2 nodes of pool worker run the layered image", IDLastBuild: "worker-b Succeeded"}},
		{"degraded, token expiring", true, 3 * 24 * time.Hour,
			map[string]Status{IDPoolHealth: Fail, IDLastBuild: Pass, IDNodes: Fail, IDPushToken: Warn},
			map[string]string{IDNodes: "worker-1: state Degraded", IDPushToken: "expires in 3 day(s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), Options{
				Catalog: catalog(t), Current: cur, CurrentVersion: "4.20.15", Target: tgt, TargetVersion: "4.21",
				Cluster: fakeCluster(t, tt.degraded, tt.left, now), MinTokenDays: DefaultMinTokenDays, Now: func() time.Time { return now },
				// No network in unit tests: payload and repos are covered elsewhere.
				Repo: noNetwork,
			})
			got := map[string]Check{}
			for _, c := range r.Checks {
				got[c.ID] = c
			}
			for id, st := range tt.want {
				if got[id].Status != st {
					t.Errorf("%s = %s, want %s: %s", id, got[id].Status, st, got[id].Message)
				}
			}
			for id, m := range tt.msgs {
				if !strings.Contains(got[id].Message, m) {
					t.Errorf("%s: %q lacks %q", id, got[id].Message, m)
				}
			}
			if nodes := got[IDNodes].Details["nodes"].([]map[string]any); len(nodes) != 2 {
				t.Errorf("the pool's nodeSelector must pick the 2 workers, got %v", nodes)
			}
		})
	}
}

func TestRunLiveMissingObjects(t *testing.T) {
	cur := plan(t, "4.20")
	r := Run(context.Background(), Options{Catalog: catalog(t), Current: cur, CurrentVersion: "4.20", TargetVersion: "4.21", Repo: noNetwork,
		Cluster: &Cluster{Kube: kubetest.Kube(kubefake.NewSimpleClientset()), MachineConfig: kubetest.MachineConfig(mcfgfake.NewSimpleClientset())}, MinTokenDays: 14})
	want := map[string]Status{IDPoolHealth: Fail, IDLastBuild: Warn, IDNodes: Skip, IDPushToken: Fail}
	for _, c := range r.Checks {
		if st, ok := want[c.ID]; ok && c.Status != st {
			t.Errorf("%s = %s, want %s: %s", c.ID, c.Status, st, c.Message)
		}
	}
	// v1alpha1 releases: builds are not read with the v1 client.
	r = Run(context.Background(), Options{Catalog: catalog(t), Current: plan(t, "4.17"), CurrentVersion: "4.17", TargetVersion: "4.18", Repo: noNetwork,
		Cluster: &Cluster{Kube: kubetest.Kube(kubefake.NewSimpleClientset()), MachineConfig: kubetest.MachineConfig(mcfgfake.NewSimpleClientset())}, MinTokenDays: 14})
	for _, c := range r.Checks {
		if c.ID == IDLastBuild && (c.Status != Skip || !strings.Contains(c.Message, "v1alpha1")) {
			t.Errorf("last-build on 4.17 = %+v", c)
		}
	}
}

// noNetwork makes repository reads fail at once: unit tests stay offline.
var noNetwork = &repo.Client{HTTP: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
	return nil, errors.New("network disabled in unit tests")
})}}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
