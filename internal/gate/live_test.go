package gate

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/internal/node"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pool(conds map[string]string, updated, total, degraded int32) *mcfgv1.MachineConfigPool {
	p := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	p.Spec.Configuration.Name = "rendered-worker-abc"
	p.Status.MachineCount, p.Status.UpdatedMachineCount, p.Status.DegradedMachineCount = total, updated, degraded
	for _, t := range []string{"Updated", "Updating", "Degraded", "NodeDegraded", "RenderDegraded", "ImageBuildDegraded"} {
		st := corev1.ConditionFalse
		if v, ok := conds[t]; ok {
			st = corev1.ConditionStatus(v)
		}
		c := mcfgv1.MachineConfigPoolCondition{Type: mcfgv1.MachineConfigPoolConditionType(t), Status: st}
		if (t == "NodeDegraded" || t == "Degraded") && st == corev1.ConditionTrue {
			c.Reason, c.Message = "1 nodes are reporting degraded status on sync", `Node worker-1 is reporting: "unexpected on-disk state"`
		}
		p.Status.Conditions = append(p.Status.Conditions, c)
	}
	return p
}

func TestCheckPoolHealth(t *testing.T) {
	tests := []struct {
		name   string
		mcp    *mcfgv1.MachineConfigPool
		err    error
		status Status
		msg    []string
	}{
		{"updated", pool(map[string]string{"Updated": "True"}, 3, 3, 0), nil, Pass, []string{"pool worker is Updated: 3/3 machines updated, 0 degraded"}},
		{"degraded", pool(map[string]string{"Degraded": "True", "NodeDegraded": "True"}, 2, 3, 1), nil, Fail, []string{"pool worker is degraded: Degraded, NodeDegraded (1 nodes are reporting degraded status on sync: Node worker-1 is reporting: \"unexpected on-disk state\"); 2/3 machines updated, 1 degraded", "oc describe mcp worker"}},
		{"image build degraded", pool(map[string]string{"Updated": "True", "ImageBuildDegraded": "True"}, 3, 3, 0), nil, Fail, []string{"pool worker is degraded: ImageBuildDegraded; 3/3"}},
		{"updating", pool(map[string]string{"Updating": "True"}, 1, 3, 0), nil, Warn, []string{"still rolling out", "1/3", "mosc watch"}},
		{"not found", nil, errors.New(`machineconfigpools.machineconfiguration.openshift.io "worker" not found`), Fail, []string{"not found", "--pool"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { expect(t, CheckPoolHealth("worker", tt.mcp, tt.err), tt.status, tt.msg...) })
	}
}

func mosb(name string, age time.Duration, state string) mcfgv1.MachineOSBuild {
	b := mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(1_800_000_000, 0).Add(-age))}}
	b.Spec.MachineOSConfig.Name = "worker"
	for _, t := range []string{"Prepared", "Building", "Succeeded", "Failed", "Interrupted"} {
		st := metav1.ConditionFalse
		if t == state {
			st = metav1.ConditionTrue
		}
		c := metav1.Condition{Type: t, Status: st, Reason: t}
		if t == "Failed" && st == metav1.ConditionTrue {
			c.Message = "Job build-worker-b failed: BackoffLimitExceeded"
		}
		b.Status.Conditions = append(b.Status.Conditions, c)
	}
	if state == "Succeeded" {
		b.Status.DigestedImagePushSpec = "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image@sha256:aa"
	}
	return b
}

func TestCheckLastBuild(t *testing.T) {
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	moscCur := mosc.DeepCopy()
	moscCur.Annotations = map[string]string{annCurrentMOSB: "worker-a"}
	other := mosb("infra-x", 0, "Failed")
	other.Spec.MachineOSConfig.Name = "infra"
	tests := []struct {
		name   string
		mosc   *mcfgv1.MachineOSConfig
		err    error
		builds []mcfgv1.MachineOSBuild
		status Status
		msg    []string
	}{
		{"newest succeeded", mosc, nil, []mcfgv1.MachineOSBuild{mosb("worker-a", time.Hour, "Failed"), mosb("worker-b", time.Minute, "Succeeded"), other}, Pass, []string{"MachineOSBuild worker-b Succeeded: image-registry"}},
		{"newest failed", mosc, nil, []mcfgv1.MachineOSBuild{mosb("worker-a", time.Hour, "Succeeded"), mosb("worker-b", time.Minute, "Failed")}, Fail, []string{"worker-b Failed: Job build-worker-b failed", "never retried"}},
		{"annotation names the build", moscCur, nil, []mcfgv1.MachineOSBuild{mosb("worker-a", time.Hour, "Succeeded"), mosb("worker-b", time.Minute, "Failed")}, Pass, []string{"worker-a Succeeded"}},
		{"building", mosc, nil, []mcfgv1.MachineOSBuild{mosb("worker-c", 0, "Building")}, Warn, []string{"worker-c is Building"}},
		{"interrupted", mosc, nil, []mcfgv1.MachineOSBuild{mosb("worker-c", 0, "Interrupted")}, Fail, []string{"Interrupted"}},
		{"no builds", mosc, nil, []mcfgv1.MachineOSBuild{other}, Fail, []string{"has no MachineOSBuild"}},
		{"no mosc", nil, nil, nil, Warn, []string{"not layered"}},
		{"error", nil, errors.New("forbidden"), nil, Fail, []string{"forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, CheckLastBuild("worker", tt.mosc, tt.err, tt.builds), tt.status, tt.msg...)
		})
	}
}

func nodeView(name, state, cfg, img string, problems ...node.Problem) NodeView {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{
		annState: state, annCurrentConfig: cfg, annDesiredConfig: cfg, annCurrentImage: img, annDesiredImage: img,
	}}}
	v := NodeView{Node: n}
	if problems != nil {
		v.Outcome = &node.Outcome{Node: name, Problems: problems}
	}
	return v
}

func TestCheckNodes(t *testing.T) {
	mcp := pool(map[string]string{"Updated": "True"}, 2, 2, 0)
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	img := "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image@sha256:aa"
	mosc.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(img)
	good := nodeView("worker-0", "Done", "rendered-worker-abc", img)
	tests := []struct {
		name   string
		nodes  []NodeView
		ran    bool
		status Status
		msg    []string
	}{
		{"all done", []NodeView{good, nodeView("worker-1", "Done", "rendered-worker-abc", img)}, false, Pass, []string{"2/2 nodes of pool worker run the layered image"}},
		{"verified", []NodeView{good, nodeView("worker-1", "Done", "rendered-worker-abc", img, []node.Problem{}...)}, true, Pass, []string{"verify OVS-DOCA on the node"}},
		{"working", []NodeView{good, nodeView("worker-1", "Working", "rendered-worker-old", "quay.io/rhcos@sha256:bb")}, false, Fail, []string{"1/2 nodes of pool worker run the layered image; 1 do not:\nworker-1: state Working", "config rendered-worker-old, pool wants rendered-worker-abc", "image quay.io/rhcos@sha256:bb"}},
		{"doca not initialized", []NodeView{nodeView("worker-1", "Done", "rendered-worker-abc", img, node.Problem{Check: "doca_initialized", Message: "false"})}, true, Fail, []string{"worker-1: doca_initialized: false"}},
		{"check pod error", []NodeView{{Node: good.Node, CheckErr: errors.New("did not finish within 5m0s")}}, true, Fail, []string{"check pod: did not finish"}},
		{"empty pool", nil, false, Warn, []string{"selects no nodes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { expect(t, CheckNodes("worker", mcp, mosc, tt.nodes, tt.ran), tt.status, tt.msg...) })
	}
	expect(t, CheckNodes("worker", nil, nil, nil, false), Skip)
}

// jwt builds an unsigned token with an exp claim (signature irrelevant:
// only the claim is read).
func jwt(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:openshift-machine-config-operator:builder", "exp": exp.Unix()})
	return enc([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc(claims) + "." + enc([]byte("signature"))
}

func pushSecret(tokens map[string]string) *corev1.Secret {
	auths := map[string]any{}
	for reg, tok := range tokens {
		auths[reg] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("builder:" + tok))}
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push-secret", Namespace: "openshift-machine-config-operator"}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: b}}
}
