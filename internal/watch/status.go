package watch

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/mosc-dev/mosc/internal/kube"
)

// Fetch reads one snapshot with plain List calls (mosc status: no waiting,
// no informers), on a cluster serving the v1 layering API.
func Fetch(ctx context.Context, kube kube.Interface, mc kube.MachineConfigInterface, pool, mosc string) (Snapshot, error) {
	return FetchWith(ctx, kube, mc, nil, pool, mosc)
}

// FetchWith is Fetch that also follows clusters serving only v1alpha1
// (4.16, 4.17, 4.18.0-19) through dyn, converting what it reads to v1.
func FetchWith(ctx context.Context, kube kube.Interface, mc kube.MachineConfigInterface, dyn dynamic.Interface, pool, mosc string) (Snapshot, error) {
	if mosc == "" {
		mosc = pool
	}
	s := Snapshot{Pool: pool, MOSC: mosc, MCNs: map[string]*mcfgv1.MachineConfigNode{}}
	layering, err := LayeringAPI(mc.Discovery())
	if err != nil {
		return s, err
	}
	if layering == APIv1alpha1 && dyn == nil {
		return s, requireMOSC(mc.Discovery())
	}
	api := mc.MachineconfigurationV1()
	pools, err := api.MachineConfigPools().List(ctx, metav1.ListOptions{})
	if err != nil {
		return s, fmt.Errorf("listing machineconfigpools: %w", err)
	}
	var self *mcfgv1.MachineConfigPool
	for i := range pools.Items {
		s.Pools = append(s.Pools, &pools.Items[i])
		if pools.Items[i].Name == pool {
			self = &pools.Items[i]
		}
	}
	if self == nil {
		return s, fmt.Errorf("machineconfigpool %q not found (--pool)", pool)
	}
	sel, err := selectorOf(self)
	if err != nil {
		return s, fmt.Errorf("machineconfigpool %s: spec.nodeSelector: %w", pool, err)
	}
	if layering == APIv1alpha1 {
		if err := fetchV1alpha1(ctx, dyn, &s); err != nil {
			return s, err
		}
	} else {
		m, err := api.MachineOSConfigs().Get(ctx, mosc, metav1.GetOptions{})
		switch {
		case err == nil:
			s.MOSCObj = m
		case !apierrors.IsNotFound(err):
			return s, fmt.Errorf("reading machineosconfig %s: %w", mosc, err)
		}
		mosbs, err := api.MachineOSBuilds().List(ctx, metav1.ListOptions{})
		if err != nil {
			return s, fmt.Errorf("listing machineosbuilds: %w", err)
		}
		for i := range mosbs.Items {
			s.MOSBs = append(s.MOSBs, &mosbs.Items[i])
		}
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return s, fmt.Errorf("listing nodes: %w", err)
	}
	for i := range nodes.Items {
		s.Nodes = append(s.Nodes, &nodes.Items[i])
	}
	if hasResource(mc.Discovery(), mcfgv1.GroupVersion.String(), "machineconfignodes") {
		mcns, err := api.MachineConfigNodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return s, fmt.Errorf("listing machineconfignodes: %w", err)
		}
		for i := range mcns.Items {
			s.MCNs[mcns.Items[i].Name] = &mcns.Items[i]
		}
	}
	if layering == APIv1 {
		// v1alpha1 builds are named otherwise; the annotation is followed there.
		namer := &mosbNamer{kube: kube, mc: mc}
		s.ExpectedMOSBs = namer.Expected(ctx, s.MOSCObj, self)
	}
	podSel := LabelJobName
	if layering == APIv1alpha1 {
		podSel = LabelEphemeralBuildObject
	}
	pods, err := kube.CoreV1().Pods(MCONamespace).List(ctx, metav1.ListOptions{LabelSelector: podSel})
	if err != nil {
		return s, fmt.Errorf("listing build pods in %s: %w", MCONamespace, err)
	}
	for i := range pods.Items {
		s.BuildPods = append(s.BuildPods, &pods.Items[i])
	}
	return s, nil
}

// ForStatus adjusts an evaluation for `mosc status`, which runs no check
// pods: updated nodes are "not checked" rather than pending.
func ForStatus(st *Status) {
	for i := range st.Nodes {
		if st.Nodes[i].Check.State == CheckPending {
			st.Nodes[i].Check.State = "not-run"
		}
	}
	if st.Phase == PhaseVerify {
		st.Waiting = fmt.Sprintf("all %d nodes updated; on-node checks are run by mosc watch", st.Total)
	}
}

// WriteStatusTable prints a status snapshot for people.
func WriteStatusTable(w io.Writer, st *Status, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "POOL\t%s\t", st.Pool)
	p := st.PoolStatus
	fmt.Fprintf(tw, "updated %d/%d, ready %d, unavailable %d, degraded %d", p.Updated, p.Machines, p.Ready, p.Unavailable, p.Degraded)
	var conds []string
	for _, t := range PoolConditionTypes {
		if v := p.Conditions[t]; v != "" {
			conds = append(conds, t+"="+v)
		}
	}
	if len(conds) > 0 {
		fmt.Fprintf(tw, "; %s", strings.Join(conds, " "))
	}
	fmt.Fprintln(tw)
	b := st.Build
	fmt.Fprintf(tw, "BUILD\t%s\t%s", orDash(b.MOSB), b.State)
	if b.Start != nil {
		fmt.Fprintf(tw, " (%s)", b.Duration(now))
	}
	if b.Message != "" && b.State != BuildBuilding && b.State != BuildPrepared && b.State != BuildSucceeded {
		fmt.Fprintf(tw, ": %s", b.Message)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "IMAGE\t%s\t%s\n", st.MOSC, orDash(st.TargetImage))
	phase := string(st.Phase)
	if st.Waiting != "" {
		phase += ": " + st.Waiting
	}
	if st.Failure != nil {
		phase += ": " + st.Failure.Object + ": " + st.Failure.Reason
	}
	fmt.Fprintf(tw, "PHASE\t%s\n", phase)
	if f := st.Failure; f != nil && f.Cause != nil {
		fmt.Fprintf(tw, "CAUSE\t%s\t%s\n", f.Cause.ID, f.Cause.Summary)
		fmt.Fprintf(tw, "REMEDY\t\t%s\n", f.Cause.Remedy)
		for _, l := range f.Cause.Evidence {
			fmt.Fprintf(tw, "LOG\t\t%s\n", l)
		}
		for _, l := range f.Cause.LogTail {
			fmt.Fprintf(tw, "LOG\t\t%s\n", l)
		}
		if f.Evidence != "" {
			fmt.Fprintf(tw, "SAVED\t%s\t\n", f.Evidence)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Nodes) == 0 {
		_, err := fmt.Fprintln(w, "\nno nodes in the pool")
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tUPDATED\tCHECK\tCURRENT IMAGE\tDETAIL")
	for _, n := range st.Nodes {
		upd := "no"
		if n.Updated {
			upd = "yes"
		}
		detail := n.Reason
		switch {
		case detail != "" || n.Updated:
		case n.DesiredImage != n.CurrentImage:
			detail = "→ " + shortImage(n.DesiredImage)
		case n.Waiting != "state "+n.State:
			detail = n.Waiting
		}
		if len(n.Check.Problems) > 0 {
			detail = strings.Join(n.Check.Problems, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, orDash(n.State), upd, orDash(n.Check.State), shortImage(n.CurrentImage), detail)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
