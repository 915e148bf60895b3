package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	mcfglisters "github.com/openshift/client-go/machineconfiguration/listers/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/mosc-dev/mosc/internal/kube"
	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/node"
	"github.com/mosc-dev/mosc/internal/profile"
)

// Node annotations of the machine-config daemon (FACTS.md §1).
const (
	annCurrentConfig = "machineconfiguration.openshift.io/currentConfig"
	annDesiredConfig = "machineconfiguration.openshift.io/desiredConfig"
	annState         = "machineconfiguration.openshift.io/state"
	annCurrentImage  = "machineconfiguration.openshift.io/currentImage"
	annDesiredImage  = "machineconfiguration.openshift.io/desiredImage"
)

// otherConfigKey finds the keys an ovs-vsctl command line in a MachineConfig
// sets (templates/doca-init-machineconfig.yaml.tmpl: `ovs-vsctl --no-wait
// set Open_vSwitch . other_config:K=V ...`).
var otherConfigKey = lazyre.New(`other_config:([A-Za-z0-9_-]+)=`)

// OVSKeys lists the other_config keys mosc set on the nodes of pool: those
// its MachineConfigs for the pool write at boot, and doca-init, which
// `mosc watch --enable-doca-init` may have set by hand. Read it before
// remove deletes the MachineConfigs.
func OVSKeys(ctx context.Context, c *Clients, site, pool string) ([]string, error) {
	sel, err := siteSelector(site)
	if err != nil {
		return nil, err
	}
	sel += "," + LabelMCRole + "=" + pool
	list, err := c.MachineConfig.MachineconfigurationV1().MachineConfigs().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("listing machineconfigs of pool %s: %w", pool, err)
	}
	keys := []string{"doca-init"}
	for _, mc := range list.Items {
		for _, m := range otherConfigKey.FindAllSubmatch(mc.Spec.Config.Raw, -1) {
			if k := string(m[1]); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// RevertOptions are the knobs of WaitReverted and ClearNodes.
type RevertOptions struct {
	Pool string
	// Gone are the MachineConfigs remove deleted: the pool's rendered
	// config must no longer be made of them.
	Gone    []string
	Timeout time.Duration
	Log     io.Writer // progress (stderr)
	Out     io.Writer // one line per node checked (stdout)
}

// WaitReverted follows the pool's revert rollout (informers on the pool and
// its nodes, no polling) until every node runs the rendered config without
// the deleted MachineConfigs on the stock image (no currentImage or
// desiredImage), and returns the pool's nodes.
func WaitReverted(ctx context.Context, c *Clients, o RevertOptions) ([]string, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	// One informer per kind (kube.NewInformer: client-go's informer
	// factories link every clientset).
	poolInf := kube.NewInformer(c.MachineConfig.MachineconfigurationV1().MachineConfigPools(), &mcfgv1.MachineConfigPool{}, nil)
	nodeInf := kube.NewInformer(c.Kube.CoreV1().Nodes(), &corev1.Node{}, nil)
	nudge := make(chan struct{}, 1)
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke(nudge) },
		UpdateFunc: func(any, any) { poke(nudge) },
		DeleteFunc: func(any) { poke(nudge) },
	}
	for _, inf := range []cache.SharedIndexInformer{poolInf, nodeInf} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return nil, err
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	go poolInf.Run(stop)
	go nodeInf.Run(stop)
	if !cache.WaitForCacheSync(ctx.Done(), poolInf.HasSynced, nodeInf.HasSynced) {
		return nil, fmt.Errorf("reading pool %s and its nodes: %w", o.Pool, context.Cause(ctx))
	}
	poolLister := mcfglisters.NewMachineConfigPoolLister(poolInf.GetIndexer())
	nodeLister := corelisters.NewNodeLister(nodeInf.GetIndexer())
	seen := map[string]string{}
	pausedSaid := false
	stuck := "the pool"
	for {
		pool, err := poolLister.Get(o.Pool)
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("machineconfigpool %s not found", o.Pool)
		}
		if err != nil {
			return nil, err
		}
		done, names, what := revertState(pool, nodeLister, o.Gone, seen, o.Log)
		if done {
			fmt.Fprintf(o.Log, "machineconfigpool/%s reverted: %d node(s) on the stock image with %s\n", o.Pool, len(names), pool.Spec.Configuration.Name)
			return names, nil
		}
		stuck = what
		if pool.Spec.Paused && !pausedSaid {
			fmt.Fprintf(o.Log, "machineconfigpool/%s is paused: its nodes revert once it is unpaused\n", o.Pool)
			pausedSaid = true
		}
		select {
		case <-nudge:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("pool %s did not revert within %s: %s", o.Pool, o.Timeout, stuck)
			}
			return nil, ctx.Err()
		}
	}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// revertState says whether the pool has reverted, its nodes, and what is
// still waited for; it prints each node's state changes.
func revertState(pool *mcfgv1.MachineConfigPool, nodes interface {
	List(labels.Selector) ([]*corev1.Node, error)
}, gone []string, seen map[string]string, log io.Writer) (bool, []string, string) {
	target := pool.Spec.Configuration.Name
	for _, s := range pool.Spec.Configuration.Source {
		if slices.Contains(gone, s.Name) {
			return false, nil, fmt.Sprintf("the pool's rendered config %s still includes %s (the render controller has not re-rendered it)", target, s.Name)
		}
	}
	if pool.Spec.NodeSelector == nil {
		return false, nil, "the pool has no node selector"
	}
	sel, err := metav1.LabelSelectorAsSelector(pool.Spec.NodeSelector)
	if err != nil {
		return false, nil, err.Error()
	}
	list, err := nodes.List(sel)
	if err != nil {
		return false, nil, err.Error()
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	var names, waiting []string
	for _, n := range list {
		a := n.Annotations
		names = append(names, n.Name)
		stock := a[annCurrentImage] == "" && a[annDesiredImage] == ""
		ok := a[annState] == "Done" && a[annCurrentConfig] == target && a[annDesiredConfig] == target && stock
		state := a[annState]
		if ok {
			state = "Done on the stock image"
		} else if state == "Done" && a[annDesiredImage] != "" {
			state = "Done, still on " + a[annCurrentImage]
		}
		if seen[n.Name] != state {
			seen[n.Name] = state
			fmt.Fprintf(log, "node/%s %s\n", n.Name, state)
		}
		if !ok {
			waiting = append(waiting, n.Name+" "+a[annState])
		}
	}
	if len(waiting) > 0 {
		return false, names, "not reverted yet: " + strings.Join(waiting, ", ")
	}
	return true, names, ""
}

// ClearNodes runs, node after node, the clear-ovs check pod: it removes
// keys from other_config and checks stock Open vSwitch. It returns an error
// naming every node that failed.
func ClearNodes(ctx context.Context, c *Clients, nodes, keys []string, image string, v profile.VerifyPlan, o RevertOptions) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ch := &node.Checker{Kube: c.Kube, Image: image, RunID: "remove-" + hex.EncodeToString(b),
		OnPod: func(n, pod, action, what string) {
			fmt.Fprintf(o.Log, "pod/%s/%s %s (%s on node %s)\n", node.CheckNamespace, pod, what, action, n)
		}}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = node.DeleteRun(dctx, c.Kube, node.CheckNamespace, ch.RunID)
	}()
	restart := ""
	if node.NeedsRestart(keys) {
		restart = ", openvswitch restarted"
	}
	var failed []string
	for _, n := range nodes {
		out, err := ch.ClearNode(ctx, n, v, keys)
		if err != nil {
			failed = append(failed, fmt.Sprintf("node/%s: %v", n, err))
			continue
		}
		if len(out.Problems) > 0 {
			var ps []string
			for _, p := range out.Problems {
				ps = append(ps, p.String())
			}
			failed = append(failed, fmt.Sprintf("node/%s: %s", n, strings.Join(ps, "; ")))
			continue
		}
		fmt.Fprintf(o.Out, "node/%s other_config %s cleared%s; stock Open vSwitch %s verified (%s)\n",
			n, strings.Join(keys, ", "), restart, out.Result.OVSVersion, strings.Join(out.Result.StockPresent, ", "))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d node(s) not back on stock Open vSwitch:\n%s", len(failed), len(nodes), strings.Join(failed, "\n"))
	}
	return nil
}
