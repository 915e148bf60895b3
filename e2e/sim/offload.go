package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/verify"
)

// What a node's NIC and OVS do about hardware offload, set per node by tests
// (mosc verify's proof, docs/verify.md). A layered OVS-DOCA node offloads
// when hw-offload is on, its eswitch is switchdev and flows are not refused.
const (
	// AnnotationSimHWOffload "true": other_config:hw-offload=true (absent: off,
	// as the walkthrough's host left it), and the bridges are netdev.
	AnnotationSimHWOffload = "sim.mosc.dev/hw-offload"
	// AnnotationSimEswitch is the PFs' eswitch mode: switchdev (default) or legacy.
	AnnotationSimEswitch = "sim.mosc.dev/eswitch"
	// AnnotationSimOffloadFlows "0": every flow stays in software (the NAT/ACL
	// case: offload configured, nothing offloaded).
	AnnotationSimOffloadFlows = "sim.mosc.dev/offload-flows"
	// AnnotationSimLDDMissing lists libraries ovs-vswitchd cannot find
	// (comma-separated): DOCA content left under /opt on an updated node.
	AnnotationSimLDDMissing = "sim.mosc.dev/ldd-missing"
)

// offloads says whether the node's datapath flows land in hardware.
func offloads(nd *corev1.Node) bool {
	a := nd.Annotations
	return a[AnnotationSimOS] == osLayeredDoca && a[AnnotationSimHWOffload] == "true" &&
		a[AnnotationSimEswitch] != "legacy" && a[AnnotationSimOffloadFlows] != "0"
}

// lddSection is the check script's reduced `ldd ovs-vswitchd` (protocol.go):
// OVS-DOCA links DOCA and DPDK from the relocated /usr/lib/opt/mellanox
// (docs/build.md); stock OVS only system libraries.
func lddSection(nd *corev1.Node) string {
	var b strings.Builder
	b.WriteString("/usr/sbin/ovs-vswitchd\n")
	resolved, dirs := 38, "/lib64"
	if nd.Annotations[AnnotationSimOS] == osLayeredDoca {
		resolved, dirs = 96, "/lib64 /usr/lib/opt/mellanox/doca/lib64 /usr/lib/opt/mellanox/dpdk/lib64"
	}
	for _, lib := range strings.Split(nd.Annotations[AnnotationSimLDDMissing], ",") {
		if lib = strings.TrimSpace(lib); lib != "" {
			fmt.Fprintf(&b, "\t%s => not found\n", lib)
			resolved--
		}
	}
	fmt.Fprintf(&b, "resolved %d: %s\n", resolved, dirs)
	return b.String()
}

// inspectSections answers ActionInspect's extra commands: bridges, devlink
// and the datapath flows, with the flows of any iperf3 test running through
// the node.
func (s *Simulator) inspectSections(nd *corev1.Node, section func(string, int, string)) {
	dp := ""
	if nd.Annotations[AnnotationSimHWOffload] == "true" {
		dp = "netdev"
	}
	section(node.SectionBridges, 0, fmt.Sprintf(`{"data":[["br-ex",%q],["br-int",%q]],"headings":["name","datapath_type"]}`+"\n", dp, dp))

	if nd.Annotations[AnnotationSimOS] != osLayeredDoca {
		section(node.SectionDevlink, 0, "")
	} else {
		mode := nd.Annotations[AnnotationSimEswitch]
		if mode == "" {
			mode = "switchdev"
		}
		// devlink's line format: torvalds/linux Documentation/networking/devlink/devlink-eswitch-attr.rst.
		section(node.SectionDevlink, 0, fmt.Sprintf("pci/0000:03:00.0: mode %s inline-mode none encap-mode basic\npci/0000:03:00.1: mode %s inline-mode none encap-mode basic\n", mode, mode))
	}

	hw := offloads(nd)
	var b strings.Builder
	flow := func(i int, match string, packets int) {
		// The -m line format of upstream OVS (lib/dpif.c), as printed in
		// ovn-org/ovn-kubernetes' hardware offload docs.
		marker := "dp:ovs"
		if hw {
			marker = "offloaded:yes, dp:tc"
		}
		fmt.Fprintf(&b, "ufid:%08x-0000-4000-8000-%012x, skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),%s, packets:%d, bytes:%d, used:0.260s, %s, actions:%d\n",
			i, i, match, packets, packets*1448, marker, 2+i%2)
	}
	// Background: ARP and the node's own traffic.
	flow(1, "in_port(2),packet_type(ns=0/0,id=0/0),eth(src=0a:58:0a:80:00:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806)", 12)
	flow(2, "in_port(3),packet_type(ns=0/0,id=0/0),eth(src=0a:58:0a:80:00:02,dst=0a:58:0a:80:00:01),eth_type(0x0800),ipv4(src=10.128.0.2,dst=10.128.0.1,proto=6,tos=0/0,ttl=0/0,frag=no)", 340)
	// Each iperf3 stream through this node: one flow each way.
	for i := 0; i < s.trafficStreams(nd.Name); i++ {
		flow(100+2*i, fmt.Sprintf("in_port(4),packet_type(ns=0/0,id=0/0),eth_type(0x0800),ipv4(src=10.129.0.5,dst=10.128.0.9,proto=6,tos=0/0,ttl=0/0,frag=no),tcp(src=0/0,dst=%d)", 5201), 2156610)
		flow(101+2*i, fmt.Sprintf("in_port(5),packet_type(ns=0/0,id=0/0),eth_type(0x0800),ipv4(src=10.128.0.9,dst=10.129.0.5,proto=6,tos=0/0,ttl=0/0,frag=no),tcp(src=5201,dst=%d)", 40000+i), 71200)
	}
	section(node.SectionDpctl, 0, b.String())
}

// trafficStreams is how many iperf3 streams run through the node now.
func (s *Simulator) trafficStreams(nodeName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.traffic[nodeName]
}

// trafficProc is a running iperf3 of a traffic pod.
type trafficProc struct {
	cancel context.CancelFunc
	ip     string
	node   string
	// A client's streams and the server's node, counted in Simulator.traffic
	// while it runs.
	peer    string
	streams int
}

// stopTraffic kills the iperf3 of a pod that is gone.
func (s *Simulator) stopTraffic(key string) {
	s.mu.Lock()
	p := s.procs[key]
	delete(s.procs, key)
	s.mu.Unlock()
	if p != nil {
		p.cancel()
		if s.opts.Logs != nil {
			ns, name, _ := strings.Cut(key, "/")
			s.opts.Logs.Forget(ns, name)
		}
	}
}

// loopbackIP picks an unused address of 127/8 for a pod: every pod of the
// simulation lives on this machine, and Linux answers all of 127/8 on lo, so
// iperf3 servers of parallel tests (several e2e runs share the machine) do
// not collide on port 5201.
func (s *Simulator) loopbackIP() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		ip := fmt.Sprintf("127.%d.%d.%d", 64+rand.IntN(190), rand.IntN(256), 1+rand.IntN(254))
		used := false
		for _, p := range s.procs {
			used = used || p.ip == ip
		}
		if !used {
			return ip
		}
	}
}

// reconcileTrafficPod plays the kubelet for mosc verify's iperf3 pods: it
// REALLY runs iperf3 as the pod describes (server: `iperf3 -s -p 5201 -1`
// bound to the pod's loopback IP; client: the pod's command as given, which
// names the server pod's IP), streams the client's output as the pod log,
// and ends the pod with iperf3's exit code.
func (s *Simulator) reconcileTrafficPod(ctx context.Context, pod *corev1.Pod, nd *corev1.Node) (time.Duration, error) {
	key := pod.Namespace + "/" + pod.Name
	s.mu.Lock()
	_, started := s.procs[key]
	s.mu.Unlock()
	if started {
		return 0, nil
	}
	if len(pod.Spec.Containers) != 1 || pod.Spec.Containers[0].Name != verify.TrafficContainer {
		return 0, s.failPod(ctx, pod, fmt.Sprintf("want one container %q", verify.TrafficContainer))
	}
	args := pod.Spec.Containers[0].Command
	if len(args) < 2 || args[0] != "iperf3" {
		return 0, s.failPod(ctx, pod, fmt.Sprintf("command %q is not iperf3", args))
	}
	bin, err := exec.LookPath("iperf3")
	if err != nil {
		return 0, s.failPod(ctx, pod, "iperf3 is not installed on the test machine (hack/install-deps.sh installs it)")
	}
	ip := s.loopbackIP()
	pctx, cancel := context.WithCancel(ctx)
	proc := &trafficProc{cancel: cancel, ip: ip, node: nd.Name}
	s.mu.Lock()
	s.procs[key] = proc
	s.mu.Unlock()

	server := args[1] == "-s"
	cmdArgs := append([]string(nil), args[1:]...)
	if server {
		// The pod's own address; unbuffered output so the banner shows at once.
		cmdArgs = append(cmdArgs, "-B", ip, "--forceflush")
	}
	cmd := exec.CommandContext(pctx, bin, cmdArgs...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.stopTraffic(key)
		return 0, s.failPod(ctx, pod, "starting iperf3: "+err.Error())
	}
	if server {
		port := "5201"
		for i, a := range cmdArgs {
			if a == "-p" && i+1 < len(cmdArgs) {
				port = cmdArgs[i+1]
			}
		}
		if err := waitListening(pctx, out); err != nil {
			cancel()
			_ = cmd.Wait()
			s.stopTraffic(key)
			return 0, s.failPod(ctx, pod, fmt.Sprintf("iperf3 server did not listen on %s:%s: %v: %s", ip, port, err, out.String()))
		}
	} else {
		// The client's traffic crosses its node and the server's.
		target := ""
		for i, a := range cmdArgs {
			if a == "-c" && i+1 < len(cmdArgs) {
				target = cmdArgs[i+1]
			}
		}
		streams := 1
		for i, a := range cmdArgs {
			if a == "-P" && i+1 < len(cmdArgs) {
				if n, err := strconv.Atoi(cmdArgs[i+1]); err == nil {
					streams = n
				}
			}
		}
		var peer string
		s.mu.Lock()
		for _, p := range s.procs {
			if p.ip == target {
				peer = p.node
			}
		}
		s.traffic[nd.Name] += streams
		if peer != "" && peer != nd.Name {
			s.traffic[peer] += streams
		}
		proc.peer, proc.streams = peer, streams
		s.mu.Unlock()
	}
	if err := s.runningPod(ctx, pod, ip); err != nil {
		cancel()
		return 0, err
	}
	s.opts.Logf("sim: traffic pod %s on %s: iperf3 %s (pod IP %s)", pod.Name, nd.Name, strings.Join(cmdArgs, " "), ip)
	go func() {
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = 1
		}
		if !server {
			s.mu.Lock()
			s.traffic[nd.Name] -= proc.streams
			if proc.peer != "" && proc.peer != nd.Name {
				s.traffic[proc.peer] -= proc.streams
			}
			s.mu.Unlock()
		}
		if pctx.Err() != nil {
			return // the pod was deleted: nothing to report to
		}
		if s.opts.Logs != nil {
			s.opts.Logs.Append(pod.Namespace, pod.Name, verify.TrafficContainer, out.String())
			s.opts.Logs.CloseLog(pod.Namespace, pod.Name, verify.TrafficContainer)
		}
		phase, reason := corev1.PodSucceeded, "Completed"
		if code != 0 {
			phase, reason = corev1.PodFailed, "Error"
		}
		cur, err := s.c.Kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return
		}
		if err := s.finishTrafficPod(ctx, cur, phase, int32(code), reason, ip); err != nil && ctx.Err() == nil {
			s.opts.Logf("sim: traffic pod %s: %v", pod.Name, err)
		}
	}()
	return 0, nil
}

// waitListening waits for iperf3's "Server listening on PORT" banner. Not a
// probe connection: `iperf3 -s -1` would take it for its one client.
func waitListening(ctx context.Context, out *syncBuffer) error {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Server listening on") {
		if time.Now().After(deadline) {
			return errors.New("no \"Server listening\" within 10s")
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// syncBuffer collects a process's output while others read it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (s *Simulator) runningPod(ctx context.Context, pod *corev1.Pod, ip string) error {
	p := pod.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	p.Status.StartTime = &now
	p.Status.HostIP, p.Status.PodIP = "127.0.0.1", ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	c := p.Spec.Containers[0]
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: boolp(true), ContainerID: "cri-o://" + strings.Repeat("e", 64),
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
	}}
	if _, err := s.c.Kube.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("traffic pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

func (s *Simulator) finishTrafficPod(ctx context.Context, pod *corev1.Pod, phase corev1.PodPhase, code int32, reason, ip string) error {
	p := pod.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = phase
	p.Status.PodIP = ip
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady || p.Status.Conditions[i].Type == corev1.ContainersReady {
			p.Status.Conditions[i].Status, p.Status.Conditions[i].Reason = corev1.ConditionFalse, "PodCompleted"
		}
	}
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		started := now
		if cs.State.Running != nil {
			started = cs.State.Running.StartedAt
		}
		cs.Ready, cs.Started = false, boolp(false)
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: now, ContainerID: cs.ContainerID}}
	}
	if _, err := s.c.Kube.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	s.opts.Logf("sim: traffic pod %s on %s %s (exit %d)", p.Name, p.Spec.NodeName, phase, code)
	return nil
}
