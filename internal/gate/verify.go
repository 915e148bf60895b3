package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/verify"
)

// IDVerify is the optional check (gate --verify) that runs mosc verify's quick
// part on the pool's nodes: is the offload working before the upgrade?
const IDVerify = "verify"

// addVerifyCheck adds the verify check when Options.Verify asks for it.
func addVerifyCheck(ctx context.Context, o Options, r *Report, timed func(func() Check)) {
	if !o.Verify {
		return
	}
	timed(func() Check {
		switch {
		case o.Offline:
			return Check{ID: IDVerify, Status: Skip, Message: "--offline: the nodes are not inspected"}
		case o.Cluster == nil:
			return Check{ID: IDVerify, Status: Skip, Message: "no cluster: " + o.ClusterSkip}
		}
		return CheckVerify(ctx, o)
	})
}

// CheckVerify inspects every node of the current plan's pool (mosc verify
// without --throughput) and sums the per-node checks up as one gate check;
// the whole verify report is in its details.
func CheckVerify(ctx context.Context, o Options) Check {
	c := Check{ID: IDVerify}
	pool := o.Current.Pool
	mcp, err := o.Cluster.MachineConfig.MachineconfigurationV1().MachineConfigPools().Get(ctx, pool, metav1.GetOptions{})
	if err != nil {
		c.Status, c.Message, c.Remedy = Fail, fmt.Sprintf("pool %s: %v", pool, err), "check cluster access and the pool name"
		return c
	}
	sel, err := metav1.LabelSelectorAsSelector(mcp.Spec.NodeSelector)
	if err != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("pool %s: bad nodeSelector: %v", pool, err)
		return c
	}
	list, err := o.Cluster.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		c.Status, c.Message, c.Remedy = Fail, fmt.Sprintf("listing the nodes of pool %s: %v", pool, err), "check cluster access"
		return c
	}
	var nodes []string
	for _, n := range list.Items {
		nodes = append(nodes, n.Name)
	}
	if len(nodes) == 0 {
		c.Status, c.Message = Skip, fmt.Sprintf("pool %s has no nodes", pool)
		return c
	}
	checker := o.NodeChecker
	if checker == nil {
		checker = &node.Checker{Kube: o.Cluster.Kube}
	}
	rep, err := verify.Run(ctx, verify.Options{Pool: pool, Expect: verify.ExpectFromPlan(o.Current), Nodes: nodes, Checker: checker, Kube: o.Cluster.Kube})
	if err != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("mosc verify could not run: %v", err)
		return c
	}
	var buf bytes.Buffer
	_ = verify.WriteJSON(&buf, rep)
	var doc map[string]any
	_ = json.Unmarshal(buf.Bytes(), &doc)
	c.Details = map[string]any{"verify": doc}
	var failed, warned []string
	for _, n := range rep.Nodes {
		for _, ch := range n.Checks {
			line := n.Node + "/" + ch.ID + ": " + ch.Message
			switch ch.Status {
			case verify.Fail:
				failed = append(failed, line)
			case verify.Warn:
				warned = append(warned, line)
			}
		}
	}
	offload := "off"
	if rep.HWOffloadExpected {
		offload = "on"
	}
	switch {
	case len(failed) > 0:
		c.Status = Fail
		c.Message = fmt.Sprintf("%d of %d nodes' checks failed:\n%s", countNodes(failed), len(nodes), strings.Join(failed, "\n"))
		c.Remedy = fmt.Sprintf("mosc verify --pool %s shows each check with its remedy; fix the offload before upgrading, or the upgrade's result cannot be compared", pool)
	case len(warned) > 0:
		c.Status = Warn
		c.Message = fmt.Sprintf("%d nodes verified (hw-offload expected %s), with warnings:\n%s", len(nodes), offload, strings.Join(warned, "\n"))
		c.Remedy = fmt.Sprintf("mosc verify --pool %s lists them with remedies", pool)
	default:
		c.Status = Pass
		c.Message = fmt.Sprintf("%d nodes of pool %s verified (hw-offload expected %s): %s", len(nodes), pool, offload, rep.Verdict())
	}
	return c
}

func countNodes(lines []string) int {
	seen := map[string]bool{}
	for _, l := range lines {
		n, _, _ := strings.Cut(l, "/")
		seen[n] = true
	}
	return len(seen)
}
