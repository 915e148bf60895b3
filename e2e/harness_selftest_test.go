package e2e

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// The seeded cluster looks like a fresh OpenShift cluster.
func TestHarnessSeed(t *testing.T) {
	resetEnv(t)
	ctx := testCtx(t, time.Minute)
	pools, err := env.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pools.Items) != 2 {
		t.Fatalf("pools = %d, want 2", len(pools.Items))
	}
}
