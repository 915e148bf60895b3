package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/node"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MCO annotations and labels (FACTS.md §1).
const (
	annCurrentMOSB    = "machineconfiguration.openshift.io/current-machine-os-build"
	labelMOSBConfig   = "machineconfiguration.openshift.io/machine-os-config"
	annCurrentConfig  = "machineconfiguration.openshift.io/currentConfig"
	annDesiredConfig  = "machineconfiguration.openshift.io/desiredConfig"
	annState          = "machineconfiguration.openshift.io/state"
	annReason         = "machineconfiguration.openshift.io/reason"
	annCurrentImage   = "machineconfiguration.openshift.io/currentImage"
	annDesiredImage   = "machineconfiguration.openshift.io/desiredImage"
	nodeStateDone     = "Done"
	conditionTrue     = "True"
	mcpDegradedPrefix = "Degraded"
)

// CheckPoolHealth: the pool is Updated and nothing in it is Degraded.
func CheckPoolHealth(pool string, mcp *mcfgv1.MachineConfigPool, err error) Check {
	c := Check{ID: IDPoolHealth}
	if err != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("MachineConfigPool %s: %v", pool, err)
		c.Remedy = "check --pool and the cluster (oc get mcp)"
		return c
	}
	st := mcp.Status
	c.Details = map[string]any{
		"machineCount": st.MachineCount, "updatedMachineCount": st.UpdatedMachineCount, "readyMachineCount": st.ReadyMachineCount,
		"degradedMachineCount": st.DegradedMachineCount, "unavailableMachineCount": st.UnavailableMachineCount, "configuration": st.Configuration.Name,
	}
	// Degraded repeats NodeDegraded's (or another *Degraded's) text: group
	// the condition types by their reason and message.
	var degraded []string
	byDetail := map[string][]string{}
	updated, updating := false, false
	for _, cond := range st.Conditions {
		if string(cond.Status) != conditionTrue {
			continue
		}
		switch t := string(cond.Type); {
		case t == "Updated":
			updated = true
		case t == "Updating":
			updating = true
		case strings.HasSuffix(t, mcpDegradedPrefix) || t == "BuildFailed":
			d := strings.TrimSpace(cond.Reason + ": " + cond.Message)
			d = strings.Trim(d, ": ")
			if _, ok := byDetail[d]; !ok {
				degraded = append(degraded, d)
			}
			byDetail[d] = append(byDetail[d], t)
		}
	}
	for i, d := range degraded {
		types := byDetail[d]
		sort.Strings(types)
		degraded[i] = strings.Join(types, ", ")
		if d != "" {
			degraded[i] += " (" + d + ")"
		}
	}
	sort.Strings(degraded)
	counts := fmt.Sprintf("%d/%d machines updated, %d degraded", st.UpdatedMachineCount, st.MachineCount, st.DegradedMachineCount)
	switch {
	case len(degraded) > 0:
		c.Status = Fail
		c.Message = fmt.Sprintf("pool %s is degraded: %s; %s", pool, strings.Join(degraded, "; "), counts)
		c.Remedy = fmt.Sprintf("fix the pool before upgrading: mosc status --pool %s, oc describe mcp %s", pool, pool)
	case mcp.Spec.Paused:
		// A paused pool never becomes Updated on a new config: "still rolling
		// out" would send the user to a watch that never ends. The MCO's render
		// controller still renders (and, layered, builds) for it; only the
		// node controller holds back: syncMachineConfigPool returns after
		// syncStatusOnly for spec.paused (machine-config-operator,
		// release-4.20, pkg/controller/node/node_controller.go).
		c.Status = Warn
		c.Details["paused"] = true
		state := "Updated"
		if !updated || updating {
			state = "not Updated"
		}
		c.Message = fmt.Sprintf("pool %s is paused (spec.paused, %s: %s): its nodes take no new config or image, so an upgrade leaves them on the current release and layered image until it is unpaused; the layer is still built for the new release", pool, state, counts)
		c.Remedy = fmt.Sprintf("unpause it to roll out (oc patch mcp %s --type merge -p '{\"spec\":{\"paused\":false}}'); for an EUS-to-EUS upgrade keep it paused through the intermediate minor and gate each hop with its payload (mosc gate --to the intermediate, then the final release)", pool)
	case updated && !updating:
		c.Status, c.Message = Pass, fmt.Sprintf("pool %s is Updated: %s", pool, counts)
	default:
		c.Status = Warn
		c.Message = fmt.Sprintf("pool %s is still rolling out (Updated is not True): %s", pool, counts)
		c.Remedy = fmt.Sprintf("let the rollout finish first (mosc watch --pool %s)", pool)
	}
	return c
}

// CheckLastBuild: the MachineOSConfig's current (else newest) build Succeeded.
func CheckLastBuild(pool string, mosc *mcfgv1.MachineOSConfig, moscErr error, builds []mcfgv1.MachineOSBuild) Check {
	c := Check{ID: IDLastBuild}
	if moscErr != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("MachineOSConfig %s: %v", pool, moscErr)
		c.Remedy = "check cluster access"
		return c
	}
	if mosc == nil {
		c.Status = Warn
		c.Message = fmt.Sprintf("no MachineOSConfig %s: pool %s is not layered, so there is nothing for the upgrade to break", pool, pool)
		c.Remedy = "apply the layer first (mosc apply) if it should be there"
		return c
	}
	var mine []mcfgv1.MachineOSBuild
	for _, b := range builds {
		if b.Spec.MachineOSConfig.Name == mosc.Name || b.Labels[labelMOSBConfig] == mosc.Name {
			mine = append(mine, b)
		}
	}
	if len(mine) == 0 {
		c.Status, c.Message = Fail, fmt.Sprintf("MachineOSConfig %s has no MachineOSBuild", mosc.Name)
		c.Remedy = "the Machine Config Operator has not started a build: check oc get machineosbuild and the MCO logs"
		return c
	}
	// The build the MOSC names is the one its nodes get; else the newest.
	sort.Slice(mine, func(i, j int) bool {
		ti, tj := mine[i].CreationTimestamp, mine[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return tj.Before(&ti)
		}
		return mine[i].Name > mine[j].Name
	})
	b := mine[0]
	if cur := mosc.Annotations[annCurrentMOSB]; cur != "" {
		for _, m := range mine {
			if m.Name == cur {
				b = m
			}
		}
	}
	state, cond := buildState(b)
	c.Details = map[string]any{"machineOSBuild": b.Name, "state": state, "image": b.Status.DigestedImagePushSpec}
	switch state {
	case "Succeeded":
		c.Status = Pass
		c.Message = fmt.Sprintf("MachineOSBuild %s Succeeded", b.Name)
		if b.Status.DigestedImagePushSpec != "" {
			c.Message += ": " + string(b.Status.DigestedImagePushSpec)
		}
	case "Failed", "Interrupted":
		c.Status = Fail
		c.Message = fmt.Sprintf("MachineOSBuild %s %s", b.Name, state)
		if cond != nil && cond.Message != "" {
			c.Message += ": " + cond.Message
		}
		c.Remedy = fmt.Sprintf("a failed build is never retried: fix the cause (mosc status --pool %s shows the build log), then mosc apply --rebuild", pool)
	default:
		c.Status = Warn
		c.Message = fmt.Sprintf("MachineOSBuild %s is %s", b.Name, state)
		c.Remedy = fmt.Sprintf("wait for the build to finish (mosc watch --pool %s)", pool)
	}
	return c
}

// buildState is the True condition among the five MOSB conditions.
func buildState(b mcfgv1.MachineOSBuild) (string, *metav1.Condition) {
	for _, t := range []string{"Failed", "Interrupted", "Succeeded", "Building", "Prepared"} {
		for i := range b.Status.Conditions {
			if c := &b.Status.Conditions[i]; c.Type == t && c.Status == metav1.ConditionTrue {
				return t, c
			}
		}
	}
	return "Pending", nil
}

// NodeView is what the nodes check knows of one node of the pool.
type NodeView struct {
	Node corev1.Node
	// Outcome is the on-node verification, nil when node checks were off.
	Outcome *node.Outcome
	// CheckErr is the error running the check pod.
	CheckErr error
}

// CheckNodes: every node of the pool is done on the layered image (node
// annotations: currentConfig == desiredConfig == the pool's configuration,
// state Done, currentImage == desiredImage == the MOSC's current image)
// and, when node checks ran, verifies OVS-DOCA on the node.
func CheckNodes(pool string, mcp *mcfgv1.MachineConfigPool, mosc *mcfgv1.MachineOSConfig, nodes []NodeView, ran bool) Check {
	c := Check{ID: IDNodes}
	if mcp == nil {
		c.Status, c.Message = Skip, "no MachineConfigPool (see "+IDPoolHealth+")"
		return c
	}
	if len(nodes) == 0 {
		c.Status, c.Message = Warn, fmt.Sprintf("pool %s selects no nodes", pool)
		c.Remedy = "check the pool's nodeSelector"
		return c
	}
	image := ""
	if mosc != nil {
		image = string(mosc.Status.CurrentImagePullSpec)
	}
	want := mcp.Spec.Configuration.Name
	var bad []string
	var details []map[string]any
	verified := 0
	for _, nv := range nodes {
		a := nv.Node.Annotations
		d := map[string]any{"node": nv.Node.Name, "state": a[annState], "currentConfig": a[annCurrentConfig], "currentImage": a[annCurrentImage]}
		details = append(details, d)
		var why []string
		if a[annState] != nodeStateDone {
			w := "state " + orNone(a[annState])
			if r := a[annReason]; r != "" {
				w += " (" + r + ")"
			}
			why = append(why, w)
		}
		if a[annCurrentConfig] != a[annDesiredConfig] || (want != "" && a[annCurrentConfig] != want) {
			why = append(why, fmt.Sprintf("config %s, pool wants %s", orNone(a[annCurrentConfig]), orNone(want)))
		}
		if image != "" && (a[annCurrentImage] != image || a[annDesiredImage] != image) {
			why = append(why, fmt.Sprintf("image %s, layered image is %s", orNone(a[annCurrentImage]), image))
		}
		if nv.CheckErr != nil {
			why = append(why, "check pod: "+nv.CheckErr.Error())
		} else if nv.Outcome != nil {
			d["problems"] = nv.Outcome.Problems
			for _, p := range nv.Outcome.Problems {
				why = append(why, p.String())
			}
		}
		d["ok"] = len(why) == 0
		if len(why) > 0 {
			bad = append(bad, nv.Node.Name+": "+strings.Join(why, "; "))
			continue
		}
		verified++
	}
	c.Details = map[string]any{"nodes": details, "onNodeChecks": ran}
	what := "run the layered image"
	if ran {
		what += " and verify OVS-DOCA on the node"
	}
	if len(bad) > 0 {
		c.Status = Fail
		c.Message = fmt.Sprintf("%d/%d nodes of pool %s %s; %d do not:\n%s", verified, len(nodes), pool, what, len(bad), strings.Join(bad, "\n"))
		c.Remedy = fmt.Sprintf("bring every node to the layered image before upgrading (mosc status --pool %s)", pool)
		return c
	}
	c.Status = Pass
	c.Message = fmt.Sprintf("%d/%d nodes of pool %s %s", verified, len(nodes), pool, what)
	return c
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
