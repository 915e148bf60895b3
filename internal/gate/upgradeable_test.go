package gate

import (
	"errors"
	"testing"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	img2111 = "quay.io/openshift-release-dev/ocp-release@sha256:2111"
	img2109 = "quay.io/openshift-release-dev/ocp-release@sha256:2109"
	img2112 = "quay.io/openshift-release-dev/ocp-release@sha256:2112"
)

// cvAt is a ClusterVersion at 4.20.15 in channel stable-4.21 offering
// 4.21.9 and 4.21.11, and 4.21.12 conditionally.
func cvAt(conds ...configv1.ClusterOperatorStatusCondition) *configv1.ClusterVersion {
	cv := &configv1.ClusterVersion{ObjectMeta: metav1.ObjectMeta{Name: "version"}}
	cv.Spec.Channel = "stable-4.21"
	cv.Status.Desired.Version = "4.20.15"
	cv.Status.History = []configv1.UpdateHistory{{State: configv1.CompletedUpdate, Version: "4.20.15"}}
	cv.Status.AvailableUpdates = []configv1.Release{{Version: "4.21.9", Image: img2109}, {Version: "4.21.11", Image: img2111}}
	cv.Status.ConditionalUpdates = []configv1.ConditionalUpdate{{
		Release:    configv1.Release{Version: "4.21.12", Image: img2112},
		Risks:      []configv1.ConditionalUpdateRisk{{Name: "OVNNodeReboot", Message: "Nodes with OVN may reboot twice.", URL: "https://issues.redhat.com/browse/OCPBUGS-1"}},
		Conditions: []metav1.Condition{{Type: "Recommended", Status: metav1.ConditionFalse, Reason: "OVNNodeReboot", Message: "Nodes with OVN may reboot twice."}},
	}}
	base := []configv1.ClusterOperatorStatusCondition{
		{Type: configv1.OperatorAvailable, Status: configv1.ConditionTrue},
		{Type: configv1.OperatorProgressing, Status: configv1.ConditionFalse},
		{Type: configv1.RetrievedUpdates, Status: configv1.ConditionTrue},
	}
	for _, c := range conds {
		replaced := false
		for i := range base {
			if base[i].Type == c.Type {
				base[i], replaced = c, true
			}
		}
		if !replaced {
			base = append(base, c)
		}
	}
	cv.Status.Conditions = base
	return cv
}

func mcpWith(name string, paused bool, conds ...string) mcfgv1.MachineConfigPool {
	p := mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}}
	p.Spec.Paused = paused
	for _, c := range conds {
		p.Status.Conditions = append(p.Status.Conditions, mcfgv1.MachineConfigPoolCondition{Type: mcfgv1.MachineConfigPoolConditionType(c), Status: corev1.ConditionTrue})
	}
	return p
}

func TestResolveTarget(t *testing.T) {
	cv := cvAt()
	tests := []struct {
		target, version, image string
		conditional, found     bool
	}{
		{"4.21.11", "4.21.11", img2111, false, true},
		{"4.21", "4.21.11", img2111, false, true}, // newest recommended, not the conditional 4.21.12
		{"4.21.12", "4.21.12", img2112, true, true},
		{"4.21.10", "", "", false, false},
		{"4.22", "", "", false, false},
	}
	for _, tt := range tests {
		o, ok := ResolveTarget(cv, tt.target)
		if ok != tt.found || o.Version != tt.version || o.Image != tt.image || o.Conditional != tt.conditional {
			t.Errorf("ResolveTarget(%s) = %+v, %v", tt.target, o, ok)
		}
	}
	// Only a conditional offer for the minor: it is taken.
	cv.Status.AvailableUpdates = nil
	if o, ok := ResolveTarget(cv, "4.21"); !ok || o.Version != "4.21.12" || !o.Conditional {
		t.Errorf("conditional only: %+v %v", o, ok)
	}
}

func TestCheckClusterUpgradeable(t *testing.T) {
	gates := &corev1.ConfigMap{Data: map[string]string{
		"ack-4.20-kube-1.34-api-removals-in-4.21": "Kubernetes 1.34 removes several APIs; see https://access.redhat.com/articles/1",
		"ack-4.19-old": "applies to 4.19 only",
	}}
	acked := &corev1.ConfigMap{Data: map[string]string{"ack-4.20-kube-1.34-api-removals-in-4.21": "true"}}
	healthy := []mcfgv1.MachineConfigPool{mcpWith("master", false), mcpWith("worker", false)}
	tests := []struct {
		name   string
		target string
		st     UpgradeState
		status Status
		msg    []string
	}{
		{"healthy minor", "4.21.11", UpgradeState{ClusterVersion: cvAt(), Pools: healthy, AdminGates: gates, AdminAcks: acked}, Pass,
			[]string{"4.20.15 → 4.21.11 (minor upgrade)", "2 pool(s)", "4.21.11 is a recommended update (availableUpdates, channel stable-4.21): " + img2111}},
		{"upgradeable false", "4.21.11", UpgradeState{ClusterVersion: cvAt(configv1.ClusterOperatorStatusCondition{Type: configv1.OperatorUpgradeable, Status: configv1.ConditionFalse, Reason: "DegradedPool", Message: "Cluster operator machine-config should not be upgraded between minor versions: One or more machine config pools are degraded"}), Pools: healthy}, Fail,
			[]string{"would refuse 4.20.15 → 4.21.11", "Upgradeable=False (DegradedPool)", "oc get clusteroperators"}},
		{"upgradeable false, patch", "4.20.16", UpgradeState{ClusterVersion: func() *configv1.ClusterVersion {
			cv := cvAt(configv1.ClusterOperatorStatusCondition{Type: configv1.OperatorUpgradeable, Status: configv1.ConditionFalse, Reason: "AdminAckRequired", Message: "x"})
			cv.Status.AvailableUpdates = append(cv.Status.AvailableUpdates, configv1.Release{Version: "4.20.16", Image: "i"})
			return cv
		}(), Pools: healthy}, Warn, []string{"(blocks minor upgrades only)"}},
		{"degraded infra pool", "4.21.11", UpgradeState{ClusterVersion: cvAt(), Pools: append(healthy, mcpWith("infra", false, "Degraded"))}, Fail,
			[]string{"pool infra is Degraded", "DegradedPool", "oc describe mcp infra"}},
		{"interrupted build", "4.21.11", UpgradeState{ClusterVersion: cvAt(), Pools: append(healthy, mcpWith("gpu", false, "BuildInterrupted"))}, Fail,
			[]string{"pool gpu has an interrupted image build", "mosc rebuild --pool gpu"}},
		{"tech preview", "4.21.11", UpgradeState{ClusterVersion: cvAt(), Pools: healthy, FeatureSet: configv1.TechPreviewNoUpgrade}, Fail,
			[]string{"featureSet TechPreviewNoUpgrade", "can never be unset", "removing the layer does not lift it", "install a new cluster at 4.18.20+"}},
		{"missing admin ack", "4.21.11", UpgradeState{ClusterVersion: cvAt(), Pools: healthy, AdminGates: gates, AdminAcks: &corev1.ConfigMap{}}, Fail,
			[]string{"admin-ack ack-4.20-kube-1.34-api-removals-in-4.21 is not given: Kubernetes 1.34 removes", `oc -n openshift-config patch configmap admin-acks --type=merge --patch '{"data":{"ack-4.20-kube-1.34-api-removals-in-4.21":"true"}}'`}},
		{"conditional", "4.21.12", UpgradeState{ClusterVersion: cvAt(), Pools: healthy}, Warn,
			[]string{"4.21.12 is a conditional update, not recommended for this cluster (OVNNodeReboot): OVNNodeReboot: Nodes with OVN may reboot twice. (https://issues.redhat.com/browse/OCPBUGS-1)", "--allow-not-recommended"}},
		{"not offered", "4.21.10", UpgradeState{ClusterVersion: cvAt(), Pools: healthy}, Fail,
			[]string{"4.21.10 is not offered to this cluster in channel stable-4.21 (offered: 4.21.11, 4.21.12 (conditional), 4.21.9)", "oc adm upgrade channel stable-4.21"}},
		{"no recommendations", "4.21.10", UpgradeState{ClusterVersion: cvAt(configv1.ClusterOperatorStatusCondition{Type: configv1.RetrievedUpdates, Status: configv1.ConditionFalse, Reason: "NoChannel", Message: "The update channel has not been configured."}), Pools: healthy}, Warn,
			[]string{"RetrievedUpdates=False, NoChannel", "--allow-explicit-upgrade"}},
		{"progressing", "4.21.11", UpgradeState{ClusterVersion: cvAt(configv1.ClusterOperatorStatusCondition{Type: configv1.OperatorProgressing, Status: configv1.ConditionTrue, Message: "Working towards 4.20.16: 512 of 955 done (53% complete)"}), Pools: healthy}, Fail,
			[]string{"an update is in progress (Progressing=True): Working towards 4.20.16", "let the running update finish"}},
		{"failing", "4.21.11", UpgradeState{ClusterVersion: cvAt(configv1.ClusterOperatorStatusCondition{Type: "Failing", Status: configv1.ConditionTrue, Reason: "ClusterOperatorDegraded", Message: "Cluster operator network is degraded"}), Pools: healthy}, Fail,
			[]string{"Failing=True (ClusterOperatorDegraded): Cluster operator network is degraded"}},
		{"release not accepted", "4.21.11", UpgradeState{ClusterVersion: cvAt(configv1.ClusterOperatorStatusCondition{Type: "ReleaseAccepted", Status: configv1.ConditionFalse, Reason: "RetrievePayload", Message: "Retrieving payload failed"}), Pools: healthy}, Fail,
			[]string{"ReleaseAccepted=False (RetrievePayload)"}},
		{"paused pool noted", "4.21.11", UpgradeState{ClusterVersion: cvAt(), Pools: append(healthy, mcpWith("edge", true))}, Pass,
			[]string{"paused pool(s) edge take no new config or image"}},
		{"no clusterversion", "4.21.11", UpgradeState{CVErr: errors.New("forbidden")}, Fail, []string{"reading clusterversion/version: forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { expect(t, CheckClusterUpgradeable(tt.target, tt.st), tt.status, tt.msg...) })
	}
}

func TestCheckPoolHealthPaused(t *testing.T) {
	p := pool(map[string]string{"Updated": "True"}, 3, 3, 0)
	p.Spec.Paused = true
	expect(t, CheckPoolHealth("worker", p, nil), Warn, "pool worker is paused (spec.paused, Updated: 3/3", "oc patch mcp worker --type merge", "EUS-to-EUS")
	p = pool(map[string]string{"Updating": "True"}, 1, 3, 0)
	p.Spec.Paused = true
	c := CheckPoolHealth("worker", p, nil)
	expect(t, c, Warn, "paused (spec.paused, not Updated: 1/3")
	if c.Details["paused"] != true {
		t.Errorf("details: %v", c.Details)
	}
}

func TestCheckBasePull(t *testing.T) {
	expect(t, CheckBasePull("openshift-config/pull-secret", nil, []BasePullProbe{{Tag: "rhel-coreos", Image: "q/a@sha256:1"}, {Tag: "rhel-coreos-extensions", Image: "q/a@sha256:2"}}), Pass,
		"openshift-config/pull-secret can read the target's rhel-coreos and rhel-coreos-extensions")
	expect(t, CheckBasePull("openshift-machine-config-operator/frozen", nil, []BasePullProbe{{Tag: "rhel-coreos", Image: "q/a@sha256:1", Err: errors.New("UNAUTHORIZED: authentication required")}}), Fail,
		"cannot pull the target's base images", "rhel-coreos q/a@sha256:1: UNAUTHORIZED", "a copy does not follow its rotation")
	expect(t, CheckBasePull("openshift-machine-config-operator/gone", errors.New(`secrets "gone" not found`), nil), Fail, "not found", "remove spec.baseImagePullSecret")
}
