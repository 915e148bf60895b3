package verify

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/node"

	"github.com/mosc-dev/mosc/internal/kube"
)

// DefaultImage runs iperf3 in the traffic pods. OpenShift's own images
// (openshift/tools, network-tools: openshift/oc images/tools/Dockerfile,
// openshift/network-tools Dockerfile on main) carry no iperf3, so mosc uses
// the public iperf3 image ovn-org/ovn-kubernetes' offload docs run; mirror it
// and pass --image on a disconnected cluster. The OVS side (flows, devlink)
// runs from the host in the check pods, so this image needs only iperf3.
const DefaultImage = "docker.io/networkstatic/iperf3:latest"

// IperfPort is the iperf3 server port (iperf3's default).
const IperfPort = 5201

// LabelTraffic says which end of the test a traffic pod is: server or client.
const LabelTraffic = "mosc.dev/traffic"

// Options of a verify run.
type Options struct {
	Pool   string
	Expect Expect
	// Nodes to check, by name.
	Nodes   []string
	Checker *node.Checker
	Kube    kube.Interface
	// Parallel bounds the check pods at once (default 4).
	Parallel int

	// Throughput runs iperf3 between two nodes of the pool.
	Throughput  bool
	Duration    time.Duration
	Streams     int
	HostNetwork bool    // also between host-network pods
	MinGbps     float64 // fail the throughput check below this (0: no gate)
	Image       string  // traffic pods' image (DefaultImage)
	// PodTimeout bounds waiting for a traffic pod to start (image pull).
	PodTimeout time.Duration
	// Progress, when set, hears about each step.
	Progress func(format string, args ...any)
}

// Run checks every node, then runs the traffic tests, and returns the report.
// Errors of single nodes are checks; an error return means nothing could run.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	rep := &Report{Pool: o.Pool, HWOffloadExpected: o.Expect.HWOffload, Started: time.Now()}
	for _, s := range o.Expect.Stacks {
		name := s.Name
		if s.Variant != "" {
			name += ":" + s.Variant
		}
		rep.Stacks = append(rep.Stacks, name)
	}
	nodes := append([]string(nil), o.Nodes...)
	sort.Strings(nodes)
	results := make([]*node.Result, len(nodes))
	errs := make([]error, len(nodes))
	inspectAll(ctx, o, nodes, results, errs, progress, "before")
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}

	during := map[string]*node.FlowDump{}
	if o.Throughput {
		rep.Image = o.Image
		var ok []string
		for i, n := range nodes {
			if errs[i] == nil {
				ok = append(ok, n)
			}
		}
		modes := []bool{false}
		if o.HostNetwork {
			modes = append(modes, true)
		}
		before := map[string]*node.FlowDump{}
		for i, n := range nodes {
			if errs[i] == nil {
				before[n] = results[i].Flows
			}
		}
		for _, host := range modes {
			c, d := throughput(ctx, o, ok, host, before, progress)
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			rep.Traffic = append(rep.Traffic, c)
			if !host { // the pod network is what OVS-DOCA carries
				for n, f := range d {
					during[n] = f
				}
			}
		}
	}
	for i, n := range nodes {
		nr := NodeReport{Node: n}
		if errs[i] != nil {
			nr.Checks = []Check{{ID: IDCheckPod, Status: Fail, Message: errs[i].Error(),
				Remedy: "the node could not be inspected: check the node is Ready and the check image can be pulled (--check-image)"}}
		} else {
			nr.Checks = Evaluate(results[i], o.Expect, during[n])
			nr.Result = results[i]
		}
		rep.Nodes = append(rep.Nodes, nr)
	}
	rep.count()
	return rep, nil
}

// inspectAll runs an inspect check pod on each node (bounded parallelism).
func inspectAll(ctx context.Context, o Options, nodes []string, results []*node.Result, errs []error, progress func(string, ...any), when string) {
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func(i int, n string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			progress("node/%s: inspecting (%s)", n, when)
			results[i], errs[i] = o.Checker.Run(ctx, n, node.ActionInspect, o.Expect.Verify)
		}(i, n)
	}
	wg.Wait()
}

// throughput runs iperf3 from a client pod on nodes[1] to a server pod on
// nodes[0], and inspects both nodes' flows while the client runs.
func throughput(ctx context.Context, o Options, nodes []string, host bool, before map[string]*node.FlowDump, progress func(string, ...any)) (Check, map[string]*node.FlowDump) {
	c := Check{ID: IDThroughput}
	network := "pod network"
	if host {
		c.ID, network = IDThroughputHost, "host network"
	}
	if len(nodes) < 2 {
		c.Status = Fail
		c.Message = fmt.Sprintf("the throughput test needs two inspected nodes in pool %s, found %d", o.Pool, len(nodes))
		c.Remedy = "run it on a pool with at least two Ready nodes"
		return c, nil
	}
	srvNode, cliNode := nodes[0], nodes[1]
	dur := o.Duration
	if dur <= 0 {
		dur = 10 * time.Second
	}
	streams := max(o.Streams, 1)
	det := map[string]any{"server": srvNode, "client": cliNode, "network": network, "durationSeconds": int(dur / time.Second), "streams": streams, "image": o.Image}
	c.Details = det

	ns := o.Checker.Namespace
	if ns == "" {
		ns = node.CheckNamespace
	}
	timeout := o.PodTimeout
	if timeout <= 0 {
		timeout = node.DefaultPodTimeout
	}
	var created []*corev1.Pod
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, p := range created {
			_ = node.DeletePod(dctx, o.Kube, p.Namespace, p.Name)
			progress("pod/%s/%s deleted", p.Namespace, p.Name)
		}
	}()
	create := func(p *corev1.Pod) (*corev1.Pod, error) {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		got, err := o.Kube.CoreV1().Pods(ns).Create(cctx, p, metav1.CreateOptions{})
		if err == nil {
			created = append(created, got)
			progress("pod/%s/%s created (iperf3 %s on node %s, %s)", got.Namespace, got.Name, p.Labels[LabelTraffic], p.Spec.NodeName, network)
		}
		return got, err
	}
	fail := func(format string, args ...any) (Check, map[string]*node.FlowDump) {
		c.Status, c.Message = Fail, fmt.Sprintf(format, args...)
		if c.Remedy == "" {
			c.Remedy = fmt.Sprintf("the test pods need the image %s (--image) and the pod network between the nodes", o.Image)
		}
		return c, nil
	}

	srv, err := create(trafficPod(o, ns, srvNode, host, "server", []string{"iperf3", "-s", "-p", strconv.Itoa(IperfPort), "-1"}))
	if err != nil {
		return fail("creating the iperf3 server pod on %s: %v", srvNode, err)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	srv, err = node.WaitPod(wctx, o.Kube, srv, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" || p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
	})
	cancel()
	if ctx.Err() != nil {
		return c, nil
	}
	if err != nil || srv.Status.Phase != corev1.PodRunning {
		return fail("the iperf3 server pod %s on %s did not start: %v", srv.Name, srvNode, errOrPhase(err, srv))
	}
	det["serverIP"] = srv.Status.PodIP
	args := []string{"iperf3", "-c", srv.Status.PodIP, "-p", strconv.Itoa(IperfPort), "-t", strconv.Itoa(int(dur / time.Second)), "-P", strconv.Itoa(streams), "-J"}
	cli, err := create(trafficPod(o, ns, cliNode, host, "client", args))
	if err != nil {
		return fail("creating the iperf3 client pod on %s: %v", cliNode, err)
	}
	wctx, cancel = context.WithTimeout(ctx, timeout)
	cli, err = node.WaitPod(wctx, o.Kube, cli, func(p *corev1.Pod) bool { return p.Status.Phase != corev1.PodPending && p.Status.Phase != "" })
	cancel()
	if ctx.Err() != nil {
		return c, nil
	}
	if err != nil {
		return fail("the iperf3 client pod %s on %s did not start: %v", cli.Name, cliNode, err)
	}
	// Flows while the traffic runs (a datapath flow expires ~10 s after its
	// last packet, so before/after would miss them on a quick test).
	pair := []string{srvNode, cliNode}
	flows := map[string]*node.FlowDump{}
	if !host {
		res := make([]*node.Result, 2)
		errs := make([]error, 2)
		inspectAll(ctx, o, pair, res, errs, progress, "during traffic")
		for i, n := range pair {
			if errs[i] == nil && res[i].Flows != nil {
				flows[n] = res[i].Flows
			}
		}
	}
	wctx, cancel = context.WithTimeout(ctx, dur+timeout)
	cli, err = node.WaitPod(wctx, o.Kube, cli, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
	cancel()
	if ctx.Err() != nil {
		return c, nil
	}
	if err != nil {
		return fail("the iperf3 client pod %s did not finish: %v", cli.Name, err)
	}
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	log, err := node.PodLog(lctx, o.Kube, cli.Namespace, cli.Name, TrafficContainer)
	cancel()
	if err != nil {
		return fail("reading the iperf3 client's report (pod %s): %v", cli.Name, err)
	}
	res, err := ParseIperf([]byte(log))
	if err != nil {
		return fail("the iperf3 client (pod %s, %s) printed no report: %v", cli.Name, cli.Status.Phase, err)
	}
	det["iperf3"] = res
	if res.Error != "" {
		return fail("iperf3 %s → %s: %s", cliNode, srvNode, res.Error)
	}
	c.Message = fmt.Sprintf("%s → %s (%s): %.2f Gbit/s received, %d retransmits, %d streams, %.0f s", cliNode, srvNode, network, res.ReceivedGbps(), res.Retransmits, res.Streams, res.Seconds)
	if len(flows) > 0 {
		var parts []string
		deltas := map[string]int{}
		for _, n := range pair {
			if f, ok := flows[n]; ok {
				b := 0
				if before[n] != nil {
					b = before[n].Offloaded
				}
				deltas[n] = f.Offloaded - b
				parts = append(parts, fmt.Sprintf("%s %+d (%d of %d)", n, f.Offloaded-b, f.Offloaded, f.Flows))
			}
		}
		det["offloadedDelta"] = deltas
		c.Message += "; offloaded flows during the test: " + strings.Join(parts, ", ")
	}
	det["gbps"] = res.ReceivedGbps()
	if o.MinGbps > 0 {
		det["minGbps"] = o.MinGbps
		if res.ReceivedGbps() < o.MinGbps {
			c.Status = Fail
			c.Message = fmt.Sprintf("%s: below --min-gbps %g", c.Message, o.MinGbps)
			c.Remedy = "check the offload-flows and eswitch checks of both nodes: the DPU design measured 20.4 Gbit/s pod to pod with OVS hardware offload and about 3 Gbit/s without (docs/verify.md)"
			return c, flows
		}
	}
	c.Status = Pass
	return c, flows
}

func errOrPhase(err error, p *corev1.Pod) string {
	if err != nil {
		return err.Error()
	}
	return "phase " + string(p.Status.Phase)
}

// TrafficContainer is the iperf3 container's name.
const TrafficContainer = "iperf3"

// trafficPod is an iperf3 pod pinned to a node. On the pod network it is an
// ordinary pod (its traffic goes through OVN-Kubernetes and OVS, the path
// the offload accelerates); with host it shares the node's network.
func trafficPod(o Options, ns, nodeName string, host bool, role string, args []string) *corev1.Pod {
	var zero int64
	labels := map[string]string{
		node.LabelRole:                 node.RoleTraffic,
		"app.kubernetes.io/managed-by": "mosc",
		LabelTraffic:                   role,
	}
	if o.Checker.RunID != "" {
		labels[node.LabelRun] = o.Checker.RunID
	}
	name := "mosc-iperf3-" + role + "-"
	if host {
		name = "mosc-iperf3-host-" + role + "-"
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:                      nodeName,
			HostNetwork:                   host,
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &zero,
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name:    TrafficContainer,
				Image:   o.Image,
				Command: args,
			}},
		},
	}
	if role == "server" {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "iperf3", ContainerPort: IperfPort, Protocol: corev1.ProtocolTCP}}
	}
	return p
}
