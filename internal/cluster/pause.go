package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Why pools are paused around a multi-object change: the node controller
// acts on a MachineOSConfig change at once, but the render controller only
// re-renders a pool renderDelay (5 s) after a MachineConfig changes
// (openshift/machine-config-operator, release-4.16 … release-4.22,
// pkg/controller/render/render_controller.go: renderDelay, enqueueDefault).
// Deleting the MachineOSConfig and then the MachineConfigs therefore makes
// every node revert twice: once to the stock image with the old rendered
// config, once more for the new rendered config. A paused pool gets no node
// updates (pkg/controller/node/node_controller.go syncMachineConfigPool:
// `if pool.Spec.Paused { return ctrl.syncStatusOnly(pool) }`) while the
// render controller keeps rendering, so: pause, change everything, wait for
// the render, unpause — each node then updates once, to the final state.

// DefaultRenderTimeout bounds the wait for the render controller.
const DefaultRenderTimeout = 2 * time.Minute

// poolHold pauses pools for the length of a multi-object change and puts
// their previous paused state back.
type poolHold struct {
	c      *Clients
	log    io.Writer
	dry    DryRun
	paused []string // pools this hold paused (to unpause)
	kept   []string // pools the user had paused (left paused)
	// renderedBefore: pools whose MachineConfigs changed content; the render
	// is done when spec.configuration names another rendered config.
	renderedBefore map[string]string
}

// holdPools pauses every named pool that is not paused yet. why says what
// for, in the progress line.
func holdPools(ctx context.Context, c *Clients, names []string, dry DryRun, log io.Writer, why string) (*poolHold, error) {
	h := &poolHold{c: c, log: log, dry: dry}
	pools := c.MachineConfig.MachineconfigurationV1().MachineConfigPools()
	for _, n := range names {
		p, err := pools.Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // nothing rolls out on a pool that is gone
		}
		if err != nil {
			return h, fmt.Errorf("machineconfigpool %s: %w", n, err)
		}
		if p.Spec.Paused {
			h.kept = append(h.kept, n)
			continue
		}
		if dry == DryRunClient {
			fmt.Fprintf(log, "machineconfigpool/%s would be paused while mosc %s, so each node updates once (dry run)\n", n, why)
			continue
		}
		if err := setPaused(ctx, c, n, true, dry); err != nil {
			return h, err
		}
		h.paused = append(h.paused, n)
		fmt.Fprintf(log, "machineconfigpool/%s paused while mosc %s, so each node updates once%s\n", n, why, dry.suffix())
	}
	return h, nil
}

func setPaused(ctx context.Context, c *Clients, pool string, paused bool, dry DryRun) error {
	body, _ := json.Marshal(map[string]any{"spec": map[string]any{"paused": paused}})
	_, err := c.MachineConfig.MachineconfigurationV1().MachineConfigPools().Patch(ctx, pool, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: FieldManager, DryRun: dry.opts()})
	if err != nil {
		verb := "pausing"
		if !paused {
			verb = "unpausing"
		}
		return fmt.Errorf("%s machineconfigpool %s: %w", verb, pool, err)
	}
	return nil
}

// waitRendered waits until each pool's spec.configuration sources no longer
// name any of gone and name all of want (the render controller has caught
// up with the deletes and writes). Pools not in the maps are not waited for.
func (h *poolHold) waitRendered(ctx context.Context, gone, want map[string][]string, timeout time.Duration) error {
	if h.dry != DryRunNone {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pools := h.c.MachineConfig.MachineconfigurationV1().MachineConfigPools()
	names := map[string]bool{}
	for p := range gone {
		names[p] = true
	}
	for p := range want {
		names[p] = true
	}
	for p := range names {
		for {
			mcp, err := pools.Get(ctx, p, metav1.GetOptions{})
			if err == nil && rendered(mcp, gone[p], want[p]) && (h.renderedBefore[p] == "" || mcp.Spec.Configuration.Name != h.renderedBefore[p]) {
				break
			}
			if ctx.Err() != nil {
				cur := "unknown"
				if mcp != nil && err == nil {
					cur = mcp.Spec.Configuration.Name
				}
				return fmt.Errorf("machineconfigpool %s was not re-rendered within %v (spec.configuration %s)", p, timeout, cur)
			}
			if err != nil {
				return fmt.Errorf("machineconfigpool %s: %w", p, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

func rendered(p *mcfgv1.MachineConfigPool, gone, want []string) bool {
	src := map[string]bool{}
	for _, s := range p.Spec.Configuration.Source {
		src[s.Name] = true
	}
	for _, g := range gone {
		if src[g] {
			return false
		}
	}
	for _, w := range want {
		if !src[w] {
			return false
		}
	}
	return true
}

// release unpauses the pools this hold paused, even when ctx is already
// cancelled (an interrupted remove must not leave a pool paused), and says
// which ones stay paused because the user had paused them.
func (h *poolHold) release(ctx context.Context) error {
	var errs []string
	for _, p := range h.paused {
		uctx := ctx
		if ctx.Err() != nil {
			var cancel context.CancelFunc
			uctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
		}
		if err := setPaused(uctx, h.c, p, false, h.dry); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		fmt.Fprintf(h.log, "machineconfigpool/%s unpaused%s\n", p, h.dry.suffix())
	}
	for _, p := range h.kept {
		fmt.Fprintf(h.log, "machineconfigpool/%s stays paused, as it was before: its nodes update when you unpause it\n", p)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s; unpause by hand: oc patch mcp <pool> --type merge -p '{\"spec\":{\"paused\":false}}'", strings.Join(errs, "; "))
	}
	return nil
}

// poolsOfMachineConfig returns the pools whose machineConfigSelector
// selects a MachineConfig with these labels.
func poolsOfMachineConfig(pools []mcfgv1.MachineConfigPool, mcLabels map[string]string) []string {
	var out []string
	for _, p := range pools {
		if p.Spec.MachineConfigSelector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.MachineConfigSelector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(mcLabels)) {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	return out
}
