package harness

import (
	"context"
	"fmt"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// WaitFor runs an informer over lw and evaluates cond over all objects after
// the initial list and after every watch event, until cond reports done or
// ctx ends. The error then carries cond's last status line. No polling: it
// reacts to the API's own events (and survives API server restarts, as the
// reflector re-lists).
func WaitFor[T runtime.Object](ctx context.Context, lw cache.ListerWatcher, cond func(objs []T) (done bool, status string)) error {
	var zero T
	changed := make(chan struct{}, 1)
	notify := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	store, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    newOf(zero),
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: notify, DeleteFunc: notify,
			UpdateFunc: func(_, o any) { notify(o) },
		},
	})
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	go ctrl.RunWithContext(ictx)
	if !cache.WaitForCacheSync(ictx.Done(), ctrl.HasSynced) {
		return fmt.Errorf("wait: list failed: %w", ctx.Err())
	}
	last := ""
	for {
		var objs []T
		for _, o := range store.List() {
			if t, ok := o.(T); ok {
				objs = append(objs, t)
			}
		}
		done, status := cond(objs)
		if done {
			return nil
		}
		last = status
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %s", ctx.Err(), last)
		case <-changed:
		}
	}
}

func newOf[T runtime.Object](zero T) runtime.Object {
	switch any(zero).(type) {
	case *mcfgv1.MachineConfigPool:
		return &mcfgv1.MachineConfigPool{}
	case *mcfgv1.MachineOSBuild:
		return &mcfgv1.MachineOSBuild{}
	case *mcfgv1.MachineOSConfig:
		return &mcfgv1.MachineOSConfig{}
	case *mcfgv1.MachineConfigNode:
		return &mcfgv1.MachineConfigNode{}
	case *corev1.Node:
		return &corev1.Node{}
	case *corev1.Pod:
		return &corev1.Pod{}
	case *corev1.Secret:
		return &corev1.Secret{}
	case *corev1.ConfigMap:
		return &corev1.ConfigMap{}
	}
	panic(fmt.Sprintf("harness.WaitFor: add %T to newOf", zero))
}

// ListWatch lists and watches one resource through a typed client's REST
// client, e.g. c.Clients.MachineConfig.MachineconfigurationV1().RESTClient().
func ListWatch(rc cache.Getter, resource, namespace, labelSelector string) cache.ListerWatcher {
	return cache.NewFilteredListWatchFromClient(rc, resource, namespace, func(o *metav1.ListOptions) {
		o.LabelSelector = labelSelector
		o.FieldSelector = fields.Everything().String()
	})
}

// Shorthands for the resources tests wait on most.
func (c *Cluster) PoolsLW() cache.ListerWatcher {
	return ListWatch(c.Clients.MachineConfig.MachineconfigurationV1().RESTClient(), "machineconfigpools", "", "")
}
func (c *Cluster) MOSBsLW() cache.ListerWatcher {
	return ListWatch(c.Clients.MachineConfig.MachineconfigurationV1().RESTClient(), "machineosbuilds", "", "")
}
func (c *Cluster) MOSCsLW() cache.ListerWatcher {
	return ListWatch(c.Clients.MachineConfig.MachineconfigurationV1().RESTClient(), "machineosconfigs", "", "")
}
func (c *Cluster) NodesLW(labelSelector string) cache.ListerWatcher {
	return ListWatch(c.Clients.Kube.CoreV1().RESTClient(), "nodes", "", labelSelector)
}
func (c *Cluster) PodsLW(namespace, labelSelector string) cache.ListerWatcher {
	return ListWatch(c.Clients.Kube.CoreV1().RESTClient(), "pods", namespace, labelSelector)
}

// PoolUpdated reports whether a pool has finished: Updated=True and all
// machines updated, not degraded.
func PoolUpdated(p *mcfgv1.MachineConfigPool) bool {
	if p.Status.UpdatedMachineCount != p.Status.MachineCount || p.Status.DegradedMachineCount != 0 {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == mcfgv1.MachineConfigPoolUpdated {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PoolSummary is a one-line view of a pool for wait status messages.
func PoolSummary(p *mcfgv1.MachineConfigPool) string {
	conds := ""
	for _, c := range p.Status.Conditions {
		if c.Status == corev1.ConditionTrue {
			conds += " " + string(c.Type)
		}
	}
	return fmt.Sprintf("pool %s: machines %d updated %d ready %d unavailable %d degraded %d; true:%s",
		p.Name, p.Status.MachineCount, p.Status.UpdatedMachineCount, p.Status.ReadyMachineCount,
		p.Status.UnavailableMachineCount, p.Status.DegradedMachineCount, conds)
}
