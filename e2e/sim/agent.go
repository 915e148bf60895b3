package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/internal/node"
)

// What a node's RPM database holds, by OS image (FACTS.md §2–4 and the
// walkthrough's `rpm -qa | grep openvswitch`).
var (
	stockPackages = []string{
		"openvswitch3.5-3.5.0-19.el9fdp.x86_64",
		"openvswitch-selinux-extra-policy-1.0-39.el9fdp.noarch",
		"NetworkManager-ovs-1.52.0-5.el9_6.x86_64",
		"rdma-core-54.0-1.el9.x86_64",
		"libibverbs-54.0-1.el9.x86_64",
	}
	docaPackages = []string{
		"doca-openvswitch-3.3.0040-1.el9.x86_64",
		"openvswitch-selinux-extra-policy-1.0-39.el9fdp.noarch",
		"NetworkManager-ovs-1.52.0-5.el9_6.x86_64",
		"rdma-core-2601mlnx61-1.2601019.x86_64",
		"libibverbs-2601mlnx61-1.2601019.x86_64",
		"doca-sdk-common-3.3.0109-1.el9.x86_64",
	}
	stockIfaceTypes = []string{"bareudp", "erspan", "geneve", "gre", "gtpu", "internal", "ip6erspan", "ip6gre", "lisp", "patch", "srv6", "stt", "system", "tap", "vxlan"}
)

const (
	osStock       = "stock"
	osLayeredDoca = "layered-doca"
	osLayered     = "layered" // a layered image without OVS-DOCA
)

// osAfterReboot says what a node runs after booting image (and config), and
// whether doca-init is set by a MachineConfig at boot.
func (s *Simulator) osAfterReboot(pool *mcfgv1.MachineConfigPool, image, config string) (string, bool) {
	docaInit := s.configSetsDocaInit(config)
	if image == "" {
		return osStock, docaInit
	}
	all, _ := s.mosbs.List(labels.Everything())
	for _, b := range all {
		if string(b.Status.DigestedImagePushSpec) == image {
			if b.Annotations[AnnotationSimInstallsDoca] == "true" {
				return osLayeredDoca, docaInit
			}
			return osLayered, docaInit
		}
	}
	return osLayered, docaInit
}

var docaInitRe = regexp.MustCompile(`other_config:doca-init=("?)true`)

// configSetsDocaInit looks through a rendered config's source MachineConfigs
// for a unit or file that sets other_config:doca-init=true at boot.
func (s *Simulator) configSetsDocaInit(rendered string) bool {
	rmc, err := s.mcs.Get(rendered)
	if err != nil {
		return false
	}
	var sources []string
	_ = json.Unmarshal([]byte(rmc.Annotations["sim.mosc.dev/sources"]), &sources)
	if len(sources) == 0 {
		sources = []string{rendered}
	}
	for _, name := range sources {
		mc, err := s.mcs.Get(name)
		if err != nil {
			continue
		}
		if ignitionMentions(mc.Spec.Config.Raw, docaInitRe) {
			return true
		}
	}
	return false
}

// ignitionMentions searches an Ignition config, including its data: URLs
// (percent- or base64-encoded), for a pattern.
func ignitionMentions(raw []byte, re *regexp.Regexp) bool {
	if re.Match(raw) {
		return true
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			for _, x := range t {
				if walk(x) {
					return true
				}
			}
		case []any:
			for _, x := range t {
				if walk(x) {
					return true
				}
			}
		case string:
			if strings.HasPrefix(t, "data:") {
				meta, data, _ := strings.Cut(strings.TrimPrefix(t, "data:"), ",")
				if strings.HasSuffix(meta, ";base64") {
					if b, err := base64.StdEncoding.DecodeString(data); err == nil {
						return re.Match(b)
					}
				}
				if u, err := url.PathUnescape(data); err == nil {
					return re.MatchString(u)
				}
			}
			return re.MatchString(t)
		}
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	return walk(v)
}

// reconcilePod plays the kubelet and the node for mosc's check pods: it runs
// "the script" against the simulated node and completes the pod with the
// termination message the real commands would leave.
func (s *Simulator) reconcilePod(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		s.stopTraffic(key) // a deleted iperf3 pod's process ends with it
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	phase := pod.Status.Phase
	done := phase == corev1.PodSucceeded || phase == corev1.PodFailed
	if pod.DeletionTimestamp != nil {
		// The kubelet confirms a graceful delete once the containers stopped.
		if !done {
			err := s.c.Kube.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return 0, err
			}
		}
		return 0, nil
	}
	if done || pod.Spec.NodeName == "" {
		return 0, nil // no scheduler here: an unbound pod stays Pending
	}
	nd, err := s.nodes.Get(pod.Spec.NodeName)
	if err == nil {
		nd = s.freshNode(nd)
	}
	if apierrors.IsNotFound(err) {
		return 0, nil // a pod bound to a missing node never starts
	}
	if err != nil {
		return 0, err
	}
	if !nodeReady(nd) {
		return 250 * time.Millisecond, nil // rebooting: the pod starts once the kubelet is back
	}
	if pod.Labels[node.LabelRole] == node.RoleTraffic {
		return s.reconcileTrafficPod(ctx, pod, nd)
	}
	var ctr *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == node.ContainerName {
			ctr = &pod.Spec.Containers[i]
		}
	}
	if ctr == nil {
		return 0, s.failPod(ctx, pod, fmt.Sprintf("no container named %q", node.ContainerName))
	}
	env := map[string]string{}
	for _, e := range ctr.Env {
		env[e.Name] = e.Value
	}
	action := env["MOSC_ACTION"]
	if action == "" {
		action = pod.Annotations[node.AnnotationAction]
	}
	var msg strings.Builder
	section := func(name string, rc int, out string) {
		fmt.Fprintf(&msg, "--- mosc:%s rc=%d ---\n", name, rc)
		msg.WriteString(out)
	}
	docaInit := nd.Annotations[AnnotationSimDocaInit] == "true"
	if action == node.ActionEnableDocaInit {
		if !docaInit {
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, AnnotationSimDocaInit)
			patched, err := s.c.Kube.CoreV1().Nodes().Patch(ctx, nd.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			if err != nil {
				return 0, fmt.Errorf("node %s: set doca-init: %w", nd.Name, err)
			}
			s.wroteNode(patched)
			docaInit = true
			s.opts.Logf("sim: node %s other_config:doca-init=true", nd.Name)
		}
		section(node.SectionEnable, 0, "")
	}
	if action == node.ActionClearOVS {
		out, rc, err := s.clearOVS(ctx, nd, strings.Fields(env["MOSC_CLEAR_KEYS"]))
		if err != nil {
			return 0, err
		}
		if rc == 0 && slices.Contains(strings.Fields(env["MOSC_CLEAR_KEYS"]), "doca-init") {
			docaInit = false
		}
		section(node.SectionClear, rc, out)
	}
	installed := stockPackages
	os := nd.Annotations[AnnotationSimOS]
	if os == osLayeredDoca {
		installed = docaPackages
	}
	present := strings.Fields(env["MOSC_PRESENT"])
	out, rc := rpmQ(installed, present)
	section(node.SectionRPM, rc, out)
	var absent strings.Builder
	for _, g := range strings.Fields(env["MOSC_ABSENT"]) {
		absent.WriteString(rpmQA(installed, g))
	}
	section(node.SectionRPMAbsent, 0, absent.String())
	cols := env["MOSC_COLUMNS"]
	if cols == "" {
		cols = node.OVSColumns
	}
	out, rc = ovsVsctl(os == osLayeredDoca, docaInit, hwOffload(nd), strings.Split(cols, ","))
	section(node.SectionOVS, rc, out)
	section(node.SectionLDD, 0, lddSection(nd))
	if action != node.ActionInspect {
		return 0, s.completePod(ctx, pod, msg.String())
	}
	// mosc verify's inspection: the sections go to the container log (the
	// flow dump does not fit a termination message), as the script does.
	s.inspectSections(nd, section)
	if s.opts.Logs == nil {
		return 0, s.failPod(ctx, pod, "the simulator has no kubelet for pod logs")
	}
	s.opts.Logs.Append(ns, name, node.ContainerName, msg.String())
	s.opts.Logs.CloseLog(ns, name, node.ContainerName)
	return 0, s.completePod(ctx, pod, "--- mosc:"+node.SectionLog+" rc=0 ---\n")
}

// rpmQ is `rpm -q NAME...`: one line per name, rc = number not installed.
func rpmQ(installed, names []string) (string, int) {
	if len(names) == 0 {
		return "rpm: no arguments given for query\n", 1
	}
	var b strings.Builder
	rc := 0
	for _, n := range names {
		found := false
		for _, p := range installed {
			if nvraName(p) == n || p == n {
				b.WriteString(p + "\n")
				found = true
			}
		}
		if !found {
			fmt.Fprintf(&b, "package %s is not installed\n", n)
			rc++
		}
	}
	return b.String(), rc
}

// rpmQA is `rpm -qa 'GLOB'`: installed packages whose name (or NVRA) matches.
func rpmQA(installed []string, glob string) string {
	var out []string
	for _, p := range installed {
		if ok, _ := path.Match(glob, nvraName(p)); ok {
			out = append(out, p)
		} else if ok, _ := path.Match(glob, p); ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// nvraName strips -VERSION-RELEASE.ARCH from an NVRA.
func nvraName(nvra string) string {
	s := nvra
	for i := 0; i < 2; i++ {
		if j := strings.LastIndexByte(s, '-'); j > 0 {
			s = s[:j]
		}
	}
	return s
}

// ovsVsctl is `ovs-vsctl --format=json --columns=COLS list Open_vSwitch` on
// stock OVS (no doca_* columns: an error) or OVS-DOCA.
func ovsVsctl(doca, docaInit, hwOffload bool, cols []string) (string, int) {
	other := [][2]string{{"bundle-idle-timeout", "0"}, {"vlan-limit", "0"}}
	if docaInit {
		other = append(other, [2]string{"doca-init", "true"})
	}
	if hwOffload {
		other = append(other, [2]string{"hw-offload", "true"})
	}
	sort.Slice(other, func(i, j int) bool { return other[i][0] < other[j][0] })
	datapaths := []string{"netdev", "system"}
	ifaces := append([]string(nil), stockIfaceTypes...)
	if doca {
		datapaths = []string{"doca", "netdev", "system"}
		if docaInit {
			ifaces = append(ifaces, "doca", "docavdpa")
			sort.Strings(ifaces)
		}
	}
	var row []any
	for _, c := range cols {
		c = strings.TrimSpace(c)
		switch c {
		case "ovs_version":
			if doca {
				row = append(row, "3.3.0040")
			} else {
				row = append(row, "3.5.2-19.el9fdp")
			}
		case "doca_version", "doca_initialized":
			if !doca {
				return fmt.Sprintf("ovs-vsctl: Open_vSwitch does not contain a column whose name matches %q\n", c), 1
			}
			if c == "doca_version" {
				row = append(row, "3.3.0109")
			} else {
				row = append(row, docaInit)
			}
		case "dpdk_initialized":
			row = append(row, doca && docaInit)
		case "dpdk_version":
			if doca {
				row = append(row, "DPDK 25.11.0+doca2601")
			} else {
				row = append(row, ovsSet(nil))
			}
		case "datapath_types":
			row = append(row, ovsSet(datapaths))
		case "iface_types":
			row = append(row, ovsSet(ifaces))
		case "other_config":
			pairs := make([][]string, 0, len(other))
			for _, kv := range other {
				pairs = append(pairs, []string{kv[0], kv[1]})
			}
			row = append(row, []any{"map", pairs})
		case "system_type":
			row = append(row, "rhel")
		case "system_version":
			row = append(row, "9.6")
		default:
			return fmt.Sprintf("ovs-vsctl: Open_vSwitch does not contain a column whose name matches %q\n", c), 1
		}
	}
	b, _ := json.Marshal(map[string]any{"data": []any{row}, "headings": cols})
	return string(b) + "\n", 0
}

// ovsSet encodes an OVSDB set: one element bare, otherwise ["set",[...]].
func ovsSet(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	if v == nil {
		v = []string{}
	}
	return []any{"set", v}
}

func (s *Simulator) completePod(ctx context.Context, pod *corev1.Pod, message string) error {
	return s.terminatePod(ctx, pod, corev1.PodSucceeded, 0, "Completed", message)
}

func (s *Simulator) failPod(ctx context.Context, pod *corev1.Pod, message string) error {
	return s.terminatePod(ctx, pod, corev1.PodFailed, 1, "Error", message)
}

func (s *Simulator) terminatePod(ctx context.Context, pod *corev1.Pod, phase corev1.PodPhase, code int32, reason, message string) error {
	p := pod.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = phase
	p.Status.StartTime = &now
	p.Status.HostIP, p.Status.PodIP = "127.0.0.1", "127.0.0.1"
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "PodCompleted", LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "PodCompleted", LastTransitionTime: now},
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, ContainerID: "cri-o://" + strings.Repeat("d", 64), Started: boolp(false),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: code, Reason: reason, Message: message, StartedAt: now, FinishedAt: now,
				ContainerID: "cri-o://" + strings.Repeat("d", 64)}},
		})
	}
	if _, err := s.c.Kube.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("check pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	s.opts.Logf("sim: check pod %s on %s %s", p.Name, p.Spec.NodeName, phase)
	return nil
}

// hwOffload: other_config:hw-offload=true on the node (AnnotationSimHWOffload).
func hwOffload(nd *corev1.Node) bool { return nd.Annotations[AnnotationSimHWOffload] == "true" }

// freshNode is the newer of the lister's copy of a node and the one the
// agent's own last patch returned: the verify pod mosc runs right after an
// enable-doca-init pod must see doca-init set, as it would on a real node:
// `ovs-vsctl set` applies its commands "as a single atomic transaction
// against the database" and, by default, exits only after ovs-vswitchd has
// reconfigured (openvswitch/ovs, main, utilities/ovs-vsctl.8.in,
// DESCRIPTION), so a later `ovs-vsctl get` on that node reads the value.
// The lister may not have caught up yet (under load a 1000-node benchmark
// saw it unset). Resource versions are compared as numbers, as etcd
// revisions.
func (s *Simulator) freshNode(nd *corev1.Node) *corev1.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	own := s.ownNodes[nd.Name]
	if own == nil {
		return nd
	}
	a, errA := strconv.ParseUint(nd.ResourceVersion, 10, 64)
	b, errB := strconv.ParseUint(own.ResourceVersion, 10, 64)
	if errA != nil || errB != nil || a >= b {
		delete(s.ownNodes, nd.Name) // the lister has it
		return nd
	}
	return own
}

// wroteNode records a node the agent's patch returned (freshNode).
func (s *Simulator) wroteNode(n *corev1.Node) {
	s.mu.Lock()
	s.ownNodes[n.Name] = n
	s.mu.Unlock()
}
