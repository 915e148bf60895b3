package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/cluster"
)

type countingRT struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// BenchmarkRollout1000Nodes rolls a layered image out to a 1000-node worker
// pool: build, then every node Working → Rebooting → Done, pool Updated. It
// reports the simulator's API requests per rollout. Seeding the 1000 nodes is
// not timed.
func BenchmarkRollout1000Nodes(b *testing.B) {
	for _, mu := range []string{"10%", "1"} {
		b.Run("maxUnavailable="+mu, func(b *testing.B) { benchRollout(b, 1000, mu) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := env.Reset(ctx); err != nil { // back to the default small cluster
		b.Fatal(err)
	}
}

func benchRollout(b *testing.B, nodes int, maxUnavailable string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	opts := env.Options()
	opts.WorkerNodes, opts.MaxUnavailable = nodes, maxUnavailable
	var requests atomic.Int64
	cfg := rest.CopyConfig(env.RESTConfig)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingRT{next: rt, n: &requests} })
	clients, err := cluster.NewClients(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.StopTimer()
	var total int64
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := env.ResetWith(ctx, opts); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d nodes in %s", nodes, time.Since(t0).Round(time.Millisecond))
		s := sim.New(clients, sim.Options{Logs: env.Kubelet, RegistryHost: env.Registry.Host()})
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(sctx) }()
		<-s.Ready()
		push := pushToTestRegistry(b, ctx, "push-secret")
		requests.Store(0)
		b.StartTimer()
		createMOSC(b, ctx, newMOSC("worker", push, "push-secret", docaContainerfile))
		built := waitMOSB(b, ctx, "worker", mcfgv1.MachineOSBuildSucceeded)
		image := string(built.Status.DigestedImagePushSpec)
		err := harness.WaitFor(ctx, env.NodesLW("node-role.kubernetes.io/worker"), func(ns []*corev1.Node) (bool, string) {
			done := 0
			for _, n := range ns {
				if n.Annotations[sim.AnnotationCurrentImage] == image && n.Annotations[sim.AnnotationState] == sim.StateDone {
					done++
				}
			}
			return done == nodes, fmt.Sprintf("%d/%d nodes on the image", done, nodes)
		})
		if err != nil {
			b.Fatal(err)
		}
		waitPool(b, ctx, "worker", "updated", harness.PoolUpdated)
		b.StopTimer()
		total += requests.Load()
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/float64(b.N), "requests/op")
	b.ReportMetric(float64(nodes), "nodes")
}
