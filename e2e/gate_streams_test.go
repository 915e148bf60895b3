package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// serveOSStreamPools makes the API server serve OpenShift 4.21's
// MachineConfigPool CRD with OS streams (TechPreviewNoUpgrade:
// spec/status.osImageStream, e2e/testdata/crds/openshift-4.21) until the
// test ends, when the pinned CRD is put back.
func serveOSStreamPools(t *testing.T, ctx context.Context) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "crds", "openshift-4.21", "machineconfigpools-TechPreviewNoUpgrade.crd.yaml"))
	must(t, err)
	var want apiextv1.CustomResourceDefinition
	must(t, yaml.Unmarshal(b, &want))
	cs, err := apiextclient.NewForConfig(env.RESTConfig)
	must(t, err)
	crds := cs.ApiextensionsV1().CustomResourceDefinitions()
	old, err := crds.Get(ctx, want.Name, metav1.GetOptions{})
	must(t, err)
	pinned := old.Spec.DeepCopy()
	old.Spec = want.Spec
	_, err = crds.Update(ctx, old, metav1.UpdateOptions{})
	must(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The streams leave the pools before the field leaves the schema.
		for _, p := range []string{"worker", "master"} {
			_, _ = env.Clients.Dynamic.Resource(poolsGVR).Patch(ctx, p, types.MergePatchType, []byte(`{"spec":{"osImageStream":null}}`), metav1.PatchOptions{})
		}
		cur, err := crds.Get(ctx, want.Name, metav1.GetOptions{})
		if err == nil {
			cur.Spec = *pinned
			_, err = crds.Update(ctx, cur, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Errorf("restoring the pinned MachineConfigPool CRD: %v", err)
		}
	})
	// Established; setPoolStream then retries until a write of the field
	// survives (the schema reaches the serving handler a moment later).
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := crds.Get(ctx, want.Name, metav1.GetOptions{})
		must(t, err)
		established := false
		for _, cond := range c.Status.Conditions {
			established = established || (cond.Type == apiextv1.Established && cond.Status == apiextv1.ConditionTrue)
		}
		if established {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 4.21 MachineConfigPool CRD is not served: %+v", c.Status.Conditions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var poolsGVR = schema.GroupVersionResource{Group: "machineconfiguration.openshift.io", Version: "v1", Resource: "machineconfigpools"}

// setPoolStream sets the worker pool's spec.osImageStream ("" removes it)
// and waits until the server keeps it (the schema change is eventually
// consistent across the server's watch cache).
func setPoolStream(t *testing.T, ctx context.Context, stream string) {
	t.Helper()
	patch := `{"spec":{"osImageStream":null}}`
	if stream != "" {
		patch = `{"spec":{"osImageStream":{"name":"` + stream + `"}}}`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		u, err := env.Clients.Dynamic.Resource(poolsGVR).Patch(ctx, "worker", types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		must(t, err)
		got, _, _ := unstructuredString(u.Object, "spec", "osImageStream", "name")
		if got == stream {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool worker keeps spec.osImageStream %q, want %q", got, stream)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[f]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

// TestGateOSStream: a pool that chooses its OS stream (spec.osImageStream,
// OpenShift 4.21+, Tech Preview: the cluster runs TechPreviewNoUpgrade and
// serves 4.21's MachineConfigPool CRD) on a 4.21.3 cluster, gated to a
// real-shaped 4.22.1 payload with two streams: rhel-9 (RHEL 9.8, the
// default) and rhel-10 (RHEL 10.2), UBI-based extensions images per stream
// (machine-config-operator release-4.22 pkg/osimagestream: streams are the
// io.openshift.os.streamclass labels; the default of a 4.x release is
// rhel-9, streams.go GetBuiltinDefaultStreamName). The pool naming rhel-9
// has release-payload read that stream's image, and says the pool chose
// it; the pool naming rhel-10 (the non-default stream) is refused before
// anything is read: mosc layers RHEL 9 only.
func TestGateOSStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resetEnvVersion(t, ctx, "4.21.3")
	dir := t.TempDir()
	site := gateSite(t, dir, "mosc.yaml", docaRepo(t), "")
	ref, _ := pushPayload(t, dir, "4.22.1", "9.8")
	dig := digestRef(t, ref)
	t.Cleanup(env.Registry.AllowAnonymousPull("openshift-release-dev/ocp-release"))
	clusterPullSecretWithRegistry(t, ctx)
	cvs := env.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	_, err := cvs.Patch(ctx, "version", types.MergePatchType, []byte(`{"spec":{"channel":"stable-4.22"}}`), metav1.PatchOptions{})
	must(t, err)
	must(t, env.SetClusterVersionStatus(ctx, map[string]any{
		"availableUpdates": []any{map[string]any{"version": "4.22.1", "image": dig}},
		"conditions": []any{
			cvCond(configv1.OperatorProgressing, configv1.ConditionFalse, "", "Cluster version is 4.21.3"),
			cvCond(configv1.RetrievedUpdates, configv1.ConditionTrue, "", ""),
			cvCond(configv1.OperatorUpgradeable, configv1.ConditionTrue, "", ""),
		},
	}))
	// OS streams are Tech Preview in 4.21: the cluster has the feature set
	// that serves them (and that blocks minor upgrades for good).
	fgs := env.Clients.OpenShift.ConfigV1().FeatureGates()
	fg, err := fgs.Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)
	fg.Spec.FeatureSet = configv1.TechPreviewNoUpgrade
	_, err = fgs.Update(ctx, fg, metav1.UpdateOptions{})
	must(t, err)
	serveOSStreamPools(t, ctx)
	args := []string{"-f", site, "--to", "4.22", "--node-checks=false"}

	t.Run("the pool chooses rhel-9", func(t *testing.T) {
		setPoolStream(t, ctx, "rhel-9")
		r := runGate(t, 1, args...) // TechPreviewNoUpgrade: cluster-upgradeable fails
		expectChecks(t, r, map[string]string{"release-payload": "pass", "target-kernel": "warn", "base-pull-secret": "pass", "cluster-upgradeable": "fail"}, map[string][]string{
			// The stream's node image and its own extensions image (not rhel-10's 6.12 kernel).
			"target-kernel":       {"the kernel changes 5.14.0-570.62.1.el9_6.x86_64 → 5.14.0-687.5.1.el9_8.x86_64", "kernel-devel-5.14.0-687.5.1.el9_8.x86_64 is in rhel-coreos-extensions"},
			"release-payload":     {"payload 4.22.1: rhel-coreos (stream rhel-9) is RHEL 9.8", "rhel-coreos-10 is RHEL 10.2; pool worker's spec.osImageStream is rhel-9"},
			"cluster-upgradeable": {"featureSet TechPreviewNoUpgrade"},
		})
		for _, c := range r.Checks {
			if c.ID == "release-payload" && (c.Details["stream"] != "rhel-9" || len(c.Details["streams"].([]any)) != 2) {
				t.Errorf("release-payload stream %v of %v", c.Details["stream"], c.Details["streams"])
			}
		}
		// Without the field the same stream is the payload's default.
		setPoolStream(t, ctx, "")
		r = runGate(t, 1, args...)
		expectChecks(t, r, map[string]string{"release-payload": "pass"}, map[string][]string{"release-payload": {"the default stream is rhel-9"}})
	})

	t.Run("the pool chooses rhel-10, the non-default stream", func(t *testing.T) {
		setPoolStream(t, ctx, "rhel-10")
		_, stderr, code := runMoscWith(t, moscRun{Timeout: 3 * time.Minute}, append([]string{"gate", "-o", "json"}, args...)...)
		if code != 2 || !strings.Contains(stderr, `machineconfigpool worker uses OS image stream "rhel-10" (spec.osImageStream.name): mosc layers the default RHEL 9 stream only`) ||
			!strings.Contains(stderr, "nothing was changed") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}
