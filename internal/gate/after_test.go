package gate

import (
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// afterFixture is a worker pool mid-upgrade 4.20.15 → 4.21.11, every step
// done: tests take steps back.
func afterFixture() AfterState {
	const img = "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image@sha256:new"
	cv := &configv1.ClusterVersion{Status: configv1.ClusterVersionStatus{
		Desired: configv1.Release{Version: "4.21.11"},
		History: []configv1.UpdateHistory{{State: configv1.PartialUpdate, Version: "4.21.11"}, {State: configv1.CompletedUpdate, Version: "4.20.15"}},
	}}
	rendered := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: "rendered-worker-new", Annotations: map[string]string{annotationReleaseImageVersion: "4.21.11"}},
		Spec: mcfgv1.MachineConfigSpec{OSImageURL: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:rhcos421"}}
	mcp := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	mcp.Spec.Configuration.Name = rendered.Name
	mcp.Status.Configuration.Name = rendered.Name
	mcp.Status.MachineCount, mcp.Status.UpdatedMachineCount = 2, 2
	mcp.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionTrue}}
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker", Annotations: map[string]string{annCurrentMOSB: "worker-new"}}}
	mosc.Status.CurrentImagePullSpec = img
	mosc.Spec.MachineConfigPool.Name = "worker"
	mosb := func(name, config, cond string, age time.Duration) mcfgv1.MachineOSBuild {
		b := mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(1e9, 0).Add(-age))}}
		b.Spec.MachineOSConfig.Name, b.Spec.MachineConfig.Name = "worker", config
		b.Status.Conditions = []metav1.Condition{{Type: cond, Status: metav1.ConditionTrue, Message: "Build " + cond}}
		if cond == "Succeeded" {
			b.Status.DigestedImagePushSpec = img
		}
		return b
	}
	node := func(name string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{
			annCurrentConfig: rendered.Name, annDesiredConfig: rendered.Name, annCurrentImage: img, annDesiredImage: img, annState: nodeStateDone}}}
	}
	st := AfterState{
		Pool: "worker", MOSCName: "worker", ClusterVersion: cv,
		OSImageURL: map[string]string{"releaseVersion": "4.21.11", "baseOSContainerImage": rendered.Spec.OSImageURL},
		MCP:        mcp, Rendered: rendered, MOSC: mosc,
		MOSBs: []mcfgv1.MachineOSBuild{mosb("worker-old", "rendered-worker-old", "Succeeded", time.Hour), mosb("worker-new", rendered.Name, "Succeeded", time.Minute)},
		Nodes: []corev1.Node{node("worker-0"), node("worker-1")},
	}
	// The build for the new release has the name the MCO gives it.
	names := expectedBuilds(st)
	st.MOSBs[1].Name = names[len(names)-1]
	st.MOSC.Annotations[annCurrentMOSB] = st.MOSBs[1].Name
	return st
}

func TestEvaluateAfter(t *testing.T) {
	type want struct {
		release, build, rollout Status // "" = pending
		settled                 bool
		msgs                    map[string][]string
	}
	for _, tc := range []struct {
		name   string
		target string
		edit   func(*AfterState)
		want   want
	}{
		{name: "done", target: "4.21.11", want: want{Pass, Pass, Pass, true, map[string][]string{
			IDAfterRelease: {"ClusterVersion 4.21.11 (Partial, from 4.20.15); the Machine Config Operator's OS images are 4.21.11's"},
			IDAfterBuild:   {"(release 4.21.11's rendered config rendered-worker-new) Succeeded"},
			IDAfterRollout: {"pool worker is Updated: 2/2 nodes run release 4.21.11's layered image"}}}},
		{name: "a minor --to takes the desired z", target: "4.21", want: want{Pass, Pass, Pass, true, nil}},
		{name: "no --to takes the desired release", target: "", want: want{Pass, Pass, Pass, true, nil}},
		{name: "not started", target: "4.21.11", edit: func(s *AfterState) { s.ClusterVersion.Status.Desired.Version = "4.20.15" },
			want: want{msgs: map[string][]string{IDAfterRelease: {"ClusterVersion's desired release is 4.20.15, not 4.21.11: the upgrade has not started"}}}},
		{name: "the MCO's OS images are the old release's", target: "4.21.11", edit: func(s *AfterState) { s.OSImageURL["releaseVersion"] = "4.20.15" },
			want: want{msgs: map[string][]string{IDAfterRelease: {"still 4.20.15's (ConfigMap openshift-machine-config-operator/machine-config-osimageurl releaseVersion)"}}}},
		{name: "not rendered yet", target: "4.21.11", edit: func(s *AfterState) { s.Rendered.Annotations[annotationReleaseImageVersion] = "4.20.15" },
			want: want{msgs: map[string][]string{IDAfterRelease: {"rendered config rendered-worker-new is still for 4.20.15"}}}},
		{name: "no build yet: the old one does not count", target: "4.21.11", edit: func(s *AfterState) { s.MOSBs = s.MOSBs[:1] },
			want: want{release: Pass, msgs: map[string][]string{IDAfterBuild: {"has not created the MachineOSBuild for rendered-worker-new"}}}},
		{name: "building", target: "4.21.11", edit: func(s *AfterState) { s.MOSBs[1].Status.Conditions[0].Type = "Building" },
			want: want{release: Pass, msgs: map[string][]string{IDAfterBuild: {" is Building"}}}},
		{name: "the build failed, CVO Completed", target: "4.21.11", edit: func(s *AfterState) {
			s.MOSBs[1].Status.Conditions[0].Type, s.MOSBs[1].Status.Conditions[0].Message = "Failed", "Build Failed"
			s.ClusterVersion.Status.History[0].State = configv1.CompletedUpdate
			s.MOSC.Status.CurrentImagePullSpec = "old-image"
		}, want: want{Pass, Fail, Fail, true, map[string][]string{
			IDAfterBuild: {"(release 4.21.11's rendered config rendered-worker-new) Failed: Build Failed", "does not retry it: pool worker stays on its previous layered image old-image until a rebuild is asked for",
				"ClusterVersion reports 4.21.11 Completed all the same", "OCPBUGS-73800", "mosc rebuild --pool worker"},
			IDAfterRollout: {"stays on its previous layered image old-image"}}}},
		{name: "interrupted", target: "4.21.11", edit: func(s *AfterState) { s.MOSBs[1].Status.Conditions[0].Type = "Interrupted" },
			want: want{Pass, Fail, Fail, true, map[string][]string{IDAfterBuild: {"Interrupted"}}}},
		{name: "paused", target: "4.21.11", edit: func(s *AfterState) { s.MCP.Spec.Paused = true },
			want: want{Pass, Pass, Fail, true, map[string][]string{IDAfterRollout: {"pool worker is paused (spec.paused)", "EUS-to-EUS"}}}},
		{name: "MOSC not on the new image", target: "4.21.11", edit: func(s *AfterState) { s.MOSC.Status.CurrentImagePullSpec = "old" },
			want: want{release: Pass, build: Pass, msgs: map[string][]string{IDAfterRollout: {"does not point at"}}}},
		{name: "a node still rolling", target: "4.21.11", edit: func(s *AfterState) { s.Nodes[1].Annotations[annState] = "Working" },
			want: want{release: Pass, build: Pass, msgs: map[string][]string{IDAfterRollout: {"1/2 nodes of pool worker run 4.21.11's layered image (waiting: worker-1)"}}}},
		{name: "a node degraded", target: "4.21.11", edit: func(s *AfterState) {
			s.Nodes[1].Annotations[annState] = "Degraded"
			s.Nodes[1].Annotations[annReason] = "unexpected on-disk state"
		}, want: want{Pass, Pass, Fail, true, map[string][]string{IDAfterRollout: {"worker-1: Degraded (unexpected on-disk state)"}}}},
		{name: "not layered", target: "4.21.11", edit: func(s *AfterState) { s.MOSC = nil },
			want: want{Pass, Fail, Skip, true, map[string][]string{IDAfterBuild: {"no MachineOSConfig worker"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := afterFixture()
			if tc.edit != nil {
				tc.edit(&st)
			}
			r := EvaluateAfter(tc.target, st)
			for _, c := range []struct {
				got  Check
				want Status
			}{{r.Release, tc.want.release}, {r.Build, tc.want.build}, {r.Rollout, tc.want.rollout}} {
				if c.got.Status != c.want {
					t.Errorf("%s = %q, want %q: %s", c.got.ID, c.got.Status, c.want, c.got.Message)
				}
			}
			if r.Settled != tc.want.settled {
				t.Errorf("settled = %v", r.Settled)
			}
			all := map[string]string{IDAfterRelease: r.Release.Message + "\n" + r.Release.Remedy, IDAfterBuild: r.Build.Message + "\n" + r.Build.Remedy, IDAfterRollout: r.Rollout.Message + "\n" + r.Rollout.Remedy}
			for id, ms := range tc.want.msgs {
				for _, m := range ms {
					if !strings.Contains(all[id], m) {
						t.Errorf("%s lacks %q: %s", id, m, all[id])
					}
				}
			}
			// Pending checks become failures saying why.
			for _, c := range r.Checks("within --timeout 1h") {
				if c.Status == "" || (c.Status == Fail && c.Remedy == "") {
					t.Errorf("final %s: %+v", c.ID, c)
				}
			}
		})
	}
}

// A release whose OS images equal the previous one's renders the same
// config: the previous release's build for it is not the upgrade's.
func TestEvaluateAfterSameRenderedConfig(t *testing.T) {
	st := afterFixture()
	old := st.MOSBs[1]
	st.MOSBs = []mcfgv1.MachineOSBuild{st.MOSBs[0], old}
	st.MOSBs[1].Name = "worker-previous-release"
	st.MOSC.Annotations[annCurrentMOSB] = "worker-previous-release"
	r := EvaluateAfter("4.21.11", st)
	if r.Build.Status != "" || !strings.Contains(r.Build.Message, "has not created the MachineOSBuild for rendered-worker-new") {
		t.Errorf("build = %q: %s", r.Build.Status, r.Build.Message)
	}
}
