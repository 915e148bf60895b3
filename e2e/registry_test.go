package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	operatorv1 "github.com/openshift/api/operator/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/e2e/harness"
)

// TestApplyKeepsCloudRegistry: on an IPI cloud cluster the registry is
// Managed and Available on object storage; --internal-registry uses it as it
// is (issue 10 finding 2). Replacing its storage takes
// --discard-registry-images, which names the loss, and remove --registry
// puts the object storage back.
func TestApplyKeepsCloudRegistry(t *testing.T) {
	resetCluster(t)
	ctx := context.Background()
	must(t, env.SeedRegistry(ctx, harness.PlatformAWS))
	runRegistryOperator(t)
	cfgs := env.Clients.ImageRegistry.ImageregistryV1().Configs()
	before, err := cfgs.Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)

	args := []string{"apply", "--pool", "worker", "--internal-registry", "--storage-class", "lvms-vg1", "--site", "lab", "--registry-timeout", "3m"}
	out, errOut, code := runMosc(t, args...)
	if code != 0 {
		t.Fatalf("apply on a cloud registry: exit %d\n%s\n%s", code, out, errOut)
	}
	got := actions(t, out)
	if _, ok := got[refPVC]; ok {
		t.Errorf("apply created a claim for a registry on S3:\n%s", out)
	}
	if _, ok := got[refRegistry]; ok {
		t.Errorf("apply patched a working registry:\n%s", out)
	}
	if got["machineosconfig.machineconfiguration.openshift.io/worker"] != "created" {
		t.Errorf("MachineOSConfig not created:\n%s", out)
	}
	for _, want := range []string{"the image registry is Managed on s3 storage (2 replicas", "--discard-registry-images replaces its storage, losing every image it stores",
		"--storage-class lvms-vg1 (spec.registry.storageClass) is not used"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	after, err := cfgs.Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)
	if b, a := mustJSON(t, before.Spec), mustJSON(t, after.Spec); b != a {
		t.Errorf("registry Config spec changed:\nbefore %s\nafter  %s", b, a)
	}
	if _, err := env.Clients.Kube.CoreV1().PersistentVolumeClaims(registryNS).Get(ctx, "registry-claim", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("registry-claim: %v; want NotFound", err)
	}
	if _, err := env.Clients.Kube.CoreV1().ConfigMaps(registryNS).Get(ctx, "mosc-registry-previous", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("registry record: %v; want NotFound (nothing was changed)", err)
	}

	// The opt-in replaces the storage, says what is lost, and records the
	// S3 settings so remove --registry puts them back.
	out, errOut, code = runMosc(t, append(args, "--discard-registry-images")...)
	if code != 0 {
		t.Fatalf("apply --discard-registry-images: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, `warning: --discard-registry-images: replacing the image registry's s3 storage with pvc "registry-claim": every image it stores (ImageStreams of every namespace) is lost, and it runs 1 replica instead of 2`) {
		t.Errorf("no loss warning:\n%s", errOut)
	}
	got = actions(t, out)
	if got[refPVC] != "created" || got[refRegistry] != "configured" || got[refRecord] != "created" {
		t.Errorf("apply --discard-registry-images:\n%s", out)
	}
	if !strings.Contains(errOut, "the image registry is available (after") {
		t.Errorf("apply did not wait for the new rollout:\n%s", errOut)
	}
	cfg, err := cfgs.Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)
	if cfg.Spec.Storage.S3 != nil || cfg.Spec.Storage.PVC == nil || cfg.Spec.Replicas != 1 {
		t.Errorf("registry after the opt-in: %s", mustJSON(t, cfg.Spec))
	}
	out, errOut, code = runMosc(t, "remove", "--site", "lab", "--registry")
	if code != 0 {
		t.Fatalf("remove --registry: exit %d\n%s\n%s", code, out, errOut)
	}
	cfg, err = cfgs.Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)
	if b, a := mustJSON(t, before.Spec), mustJSON(t, cfg.Spec); b != a {
		t.Errorf("remove --registry did not restore the S3 registry:\nbefore %s\nafter  %s", b, a)
	}
	// And the operator reports it Ready again on S3.
	deadline := time.Now().Add(30 * time.Second)
	for {
		cfg, err = cfgs.Get(ctx, "cluster", metav1.GetOptions{})
		must(t, err)
		ready := false
		for _, c := range cfg.Status.Conditions {
			ready = ready || (c.Type == "Available" && c.Status == operatorv1.ConditionTrue && c.Reason == "Ready" && cfg.Status.ObservedGeneration == cfg.Generation)
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry not Ready after restore: %s", mustJSON(t, cfg.Status))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}
