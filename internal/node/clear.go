package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/profile"
)

// What `mosc remove --wait` does on each reverted node: remove the
// other_config keys mosc set in the Open vSwitch database (the database
// survives the reboot to the stock image, and so would hw-offload=true),
// restart openvswitch when a key other than doca-init went (stock OVS
// ignores doca-init; hw-offload and the others take effect only on a
// restart), and check that stock Open vSwitch runs.

// ovsKey keeps other_config keys safe to pass through the environment to
// the pod's shell (they are expanded unquoted there).
var ovsKey = lazyre.New(`^[A-Za-z0-9_-]+$`)

// clearOptions gives the columns and extra environment of a pod's action.
func clearOptions(o PodOptions) (string, []corev1.EnvVar, error) {
	if o.Action != ActionClearOVS {
		return OVSColumns, nil, nil
	}
	if len(o.ClearKeys) == 0 {
		return "", nil, fmt.Errorf("check pod: %s without other_config keys to clear", ActionClearOVS)
	}
	for _, k := range o.ClearKeys {
		if !ovsKey.MatchString(k) {
			return "", nil, fmt.Errorf("check pod: other_config key %q has characters outside [A-Za-z0-9_-]", k)
		}
	}
	restart := "0"
	if o.Restart {
		restart = "1"
	}
	return StockOVSColumns, []corev1.EnvVar{
		{Name: "MOSC_CLEAR_KEYS", Value: strings.Join(o.ClearKeys, " ")},
		{Name: "MOSC_RESTART", Value: restart},
	}, nil
}

// NeedsRestart says whether clearing keys changes what a running stock
// ovs-vswitchd does: every key but doca-init (which only OVS-DOCA reads).
func NeedsRestart(keys []string) bool {
	for _, k := range keys {
		if k != "doca-init" {
			return true
		}
	}
	return false
}

// StockProblems judges a node that should run stock Open vSwitch again:
// none of the stack's packages (v.PackagesPresent), a stock package (one
// matching v.PackagesAbsent), ovs-vsctl answering, no doca datapath, and
// none of cleared left in other_config.
func StockProblems(r *Result, v profile.VerifyPlan, cleared []string) []Problem {
	var out []Problem
	if s, ok := r.Section(SectionClear); ok && s.RC != 0 {
		out = append(out, Problem{"clear", fmt.Sprintf("removing other_config %s exited %d: %s", strings.Join(cleared, ", "), s.RC, truncate(s.Output, 300))})
	}
	for _, name := range v.PackagesPresent {
		if p, ok := r.Packages[name]; ok && p.Installed {
			out = append(out, Problem{"package", fmt.Sprintf("%s is still installed (%s): the node does not run the stock image", name, strings.Join(p.NVRAs, ", "))})
		}
	}
	if len(v.PackagesAbsent) > 0 && len(r.StockPresent) == 0 {
		out = append(out, Problem{"stock-package", fmt.Sprintf("no stock Open vSwitch package installed (none matches %s)", strings.Join(v.PackagesAbsent, ", "))})
	}
	if r.OVSError != "" {
		return append(out, Problem{"ovs", r.OVSError})
	}
	if slices.Contains(r.DatapathTypes, "doca") {
		out = append(out, Problem{"datapath", "datapath_types still lists doca"})
	}
	for _, k := range cleared {
		if v, ok := r.OtherConfig[k]; ok {
			out = append(out, Problem{"other-config", fmt.Sprintf("other_config:%s=%s is still set", k, v)})
		}
	}
	return out
}

// ClearNode removes keys from the node's other_config (restarting
// openvswitch when NeedsRestart), then checks stock Open vSwitch; a check
// that finds ovsdb not answering yet (just restarted) is repeated up to
// three times. Nodes go one at a time across the Checker: a restart cuts
// the node's network for a moment.
func (c *Checker) ClearNode(ctx context.Context, nodeName string, v profile.VerifyPlan, keys []string) (*Outcome, error) {
	c.enableMu.Lock()
	defer c.enableMu.Unlock()
	pod, err := BuildPod(PodOptions{Node: nodeName, Action: ActionClearOVS, Verify: v, ClearKeys: keys, Restart: NeedsRestart(keys)})
	if err != nil {
		return nil, err
	}
	r, err := c.runPod(ctx, nodeName, ActionClearOVS, pod)
	if err != nil {
		return nil, err
	}
	first, _ := r.Section(SectionClear)
	for attempt := 1; r.OVSError != "" && attempt <= 3; attempt++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 2 * time.Second):
		}
		// Again without the restart: removing keys already gone is a no-op.
		vp, err := BuildPod(PodOptions{Node: nodeName, Action: ActionClearOVS, Verify: v, ClearKeys: keys})
		if err != nil {
			return nil, err
		}
		if r, err = c.runPod(ctx, nodeName, ActionClearOVS, vp); err != nil {
			return nil, err
		}
	}
	problems := StockProblems(r, v, keys)
	if first.RC != 0 {
		if s, _ := r.Section(SectionClear); s.RC == 0 {
			problems = append([]Problem{{"clear", fmt.Sprintf("removing other_config %s exited %d: %s", strings.Join(keys, ", "), first.RC, truncate(first.Output, 300))}}, problems...)
		}
	}
	return &Outcome{Node: nodeName, Result: r, Problems: problems}, nil
}
