// Command demo-cluster runs the end-to-end harness for people: a real
// kube-apiserver with the OpenShift CRDs, seeded like a fresh cluster, and the
// Machine Config Operator simulator, until Ctrl-C. Point mosc at it with the
// printed KUBECONFIG line.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		masters  = flag.Int("masters", 1, "nodes in the master pool (0 for none)")
		workers  = flag.Int("workers", 3, "nodes in the worker pool (0 for none)")
		version  = flag.String("openshift-version", harness.DefaultOpenShiftVersion, "ClusterVersion status.desired.version")
		maxUnav  = flag.String("max-unavailable", "1", "pools' spec.maxUnavailable (a number or a percentage)")
		buildDur = flag.Duration("build-duration", 20*time.Second, "how long a simulated image build runs (its log streams over it)")
		nodeStep = flag.Duration("node-step", 3*time.Second, "how long each node update state (Working, Rebooting) lasts")
		quiet    = flag.Bool("quiet", false, "do not print the simulator's events")
	)
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo-cluster: unexpected argument %q\n", flag.Arg(0))
		return 2
	}
	for name, n := range map[string]int{"--masters": *masters, "--workers": *workers} {
		if n < 0 || n > 1000 {
			fmt.Fprintf(os.Stderr, "demo-cluster: %s must be between 0 and 1000, got %d\n", name, n)
			return 2
		}
	}
	opts := harness.Options{MasterNodes: orNone(*masters), WorkerNodes: orNone(*workers), OpenShiftVersion: *version, MaxUnavailable: *maxUnav,
		Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := harness.FindBinaries(true); err != nil {
		fmt.Fprintf(os.Stderr, "demo-cluster: %v\n", err)
		return 1
	}
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	c, err := harness.Start(startCtx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-cluster: %v\n", err)
		return 1
	}
	defer c.Stop()

	// A push secret for the test registry, so a MachineOSConfig can push there.
	const pushSecret = "demo-registry-push"
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: pushSecret, Namespace: sim.MCONamespace, Labels: map[string]string{sim.LabelSeed: "true"}},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: c.Registry.DockerConfigJSON()},
	}
	if _, err := c.Clients.Kube.CoreV1().Secrets(sim.MCONamespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		fmt.Fprintf(os.Stderr, "demo-cluster: %v\n", err)
		return 1
	}

	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+f+"\n", a...) }
	if *quiet {
		logf = nil
	}
	s := c.NewSimulator(sim.Faults{BuildDuration: *buildDur, NodeStep: *nodeStep}, logf)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		fmt.Fprintf(os.Stderr, "demo-cluster: simulator: %v\n", err)
		return 1
	}
	// The simulator also plays the image registry operator (sim.RegistryOperator).

	fmt.Printf(`# OpenShift %s look-alike: kube-apiserver %s + etcd + OpenShift CRDs + simulated MCO.
# Pools: master (%s), worker (%s). Logs and certificates: %s
export KUBECONFIG=%s
# Test registry (basic auth; push secret %s/%s holds its credentials):
#   renderedImagePushSpec: %s/openshift-machine-config-operator/os-image:latest
# The internal registry (image-registry.openshift-image-registry.svc:5000) also works:
# pushes are checked with a TokenReview of the builder token and stored in the test registry.
# Ctrl-C stops everything.
`, *version, harness.KubeVersion, nodes(*masters), nodes(*workers), c.Dir, c.Kubeconfig, sim.MCONamespace, pushSecret, c.Registry.Host())

	select {
	case <-ctx.Done():
	case err := <-done:
		if err != nil {
			fmt.Fprintf(os.Stderr, "demo-cluster: simulator: %v\n", err)
			return 1
		}
	}
	fmt.Fprintln(os.Stderr, "demo-cluster: stopping")
	stop()
	<-done
	return 0
}

func nodes(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

// orNone maps 0 to the harness's "empty pool" value.
func orNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
