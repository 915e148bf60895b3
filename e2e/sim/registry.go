package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	operatorv1 "github.com/openshift/api/operator/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/mosc-dev/mosc/internal/cluster"
)

// RegistryOperator plays the cluster-image-registry-operator's status
// reporting for the registry Config "cluster", as
// openshift/cluster-image-registry-operator (release-4.16 … release-4.22)
// does it in pkg/operator/controller.go (sync) and pkg/operator/status.go
// (syncStatus); the status logic is the same on every release mosc supports:
//
//   - Removed: no deployment; Available=True reason Removed ("The registry is
//     removed"), Progressing=False Removed, Degraded=False Removed, and the
//     operator's own Removed=True condition.
//   - Unmanaged: Available=True reason Unmanaged; nothing else is touched.
//   - Managed without a storage back-end: a permanent error
//     (controller.go createOrUpdateResources: StorageNotConfigured):
//     Available=False, Degraded=True, reason StorageNotConfigured.
//   - Managed with storage: the deployment rolls out. Until it has an
//     available replica: Available=False NoReplicasAvailable (or
//     DeploymentNotFound before it exists), Progressing=True. Then
//     Available=True Ready. A storage/replicas change rolls the deployment:
//     with strategy Recreate the old pods go first (unavailable meanwhile), with
//     RollingUpdate the old ones serve until the new ones are ready.
//     A PVC back-end whose claim does not exist never gets a ready pod.
//   - Every reconcile ends with status.observedGeneration = metadata.generation
//     (controller.go: cr.Status.ObservedGeneration = cr.Generation), so
//     conditions written for an older generation can be told apart.
type RegistryOperator struct {
	c       *cluster.Clients
	rollout time.Duration
	logf    func(string, ...any)

	mu sync.Mutex
	// rolled is the deployment's spec (storage, replicas, strategy) as it
	// was last rolled out, and readyAt when that rollout completes.
	rolled  string
	readyAt time.Time
	// available is whether the previous rollout had ready pods.
	available bool
	started   bool
}

func findCond(cs []operatorv1.OperatorCondition, t string) *operatorv1.OperatorCondition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// NewRegistryOperator makes a registry operator whose rollouts take
// rollout (the real one takes a minute or so; 0 means 500 ms).
func NewRegistryOperator(c *cluster.Clients, rollout time.Duration, logf func(string, ...any)) *RegistryOperator {
	if rollout <= 0 {
		rollout = 500 * time.Millisecond
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &RegistryOperator{c: c, rollout: rollout, logf: logf}
}

// Run reconciles the Config on every change (and when a rollout completes)
// until ctx is done.
func (r *RegistryOperator) Run(ctx context.Context) error {
	cfgs := r.c.ImageRegistry.ImageregistryV1().Configs()
	for ctx.Err() == nil {
		cfg, err := cfgs.Get(ctx, RegistryConfigName, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !apierrors.IsNotFound(err) {
				r.logf("registry operator: %v", err)
			}
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		next, err := r.reconcile(ctx, cfg)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.logf("registry operator: %v (retrying)", err)
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		w, err := cfgs.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + RegistryConfigName, ResourceVersion: cfg.ResourceVersion})
		if err != nil {
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		var timer <-chan time.Time
		if next > 0 {
			timer = time.After(next)
		}
		func() {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-timer:
					return
				case ev, ok := <-w.ResultChan():
					if !ok || ev.Type == watch.Error || ev.Type == watch.Added || ev.Type == watch.Modified || ev.Type == watch.Deleted {
						return
					}
				}
			}
		}()
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// RegistryConfigName is the registry Config the operator reconciles.
const RegistryConfigName = "cluster"

// reconcile writes the status the operator would and returns when to look
// again (a rollout in progress), 0 for "on the next change".
func (r *RegistryOperator) reconcile(ctx context.Context, cfg *imageregistryv1.Config) (time.Duration, error) {
	now := time.Now()
	type cond struct{ status, reason, message string }
	var avail, prog, degr cond
	removed := cond{string(operatorv1.ConditionFalse), "", ""}
	var next time.Duration
	readyReplicas := int32(0)

	r.mu.Lock()
	if !r.started {
		// A registry already rolled out before this operator started (the
		// harness seeds a cloud cluster's): its deployment is there.
		r.started = true
		if avail := findCond(cfg.Status.Conditions, "Available"); avail != nil && avail.Status == operatorv1.ConditionTrue &&
			avail.Reason == "Ready" && cfg.Status.ObservedGeneration == cfg.Generation {
			key, _ := json.Marshal([]any{cfg.Spec.Storage, cfg.Spec.Replicas, cfg.Spec.RolloutStrategy})
			r.rolled, r.readyAt, r.available = string(key), now, true
		}
	}
	switch cfg.Spec.ManagementState {
	case operatorv1.Unmanaged:
		msg := "The registry configuration is set to unmanaged mode"
		avail = cond{"True", "Unmanaged", msg}
		prog = cond{"False", "Unmanaged", msg}
		degr = cond{"False", "Unmanaged", msg}
	case operatorv1.Removed, "":
		// RemoveResources deletes the deployment.
		r.rolled, r.available = "", false
		avail = cond{"True", "Removed", "The registry is removed"}
		prog = cond{"False", "Removed", "All registry resources are removed"}
		degr = cond{"False", "Removed", "The registry is removed"}
		removed = cond{"True", "Removed", "The registry is removed"}
	default: // Managed
		backends := storageBackends(cfg.Spec.Storage)
		switch {
		case len(backends) == 0:
			r.rolled, r.available = "", false
			msg := "Error: unable to apply resources: storage backend not configured"
			avail = cond{"False", "StorageNotConfigured", msg}
			prog = cond{"False", "Error", "Unable to apply resources: storage backend not configured"}
			degr = cond{"True", "StorageNotConfigured", msg}
		default:
			key, _ := json.Marshal([]any{cfg.Spec.Storage, cfg.Spec.Replicas, cfg.Spec.RolloutStrategy})
			if string(key) != r.rolled {
				// A new rollout. RollingUpdate keeps serving from the old pods.
				keep := r.available && r.rolled != "" && cfg.Spec.RolloutStrategy != "Recreate"
				r.rolled, r.readyAt, r.available = string(key), now.Add(r.rollout), keep
				r.logf("registry operator: rolling out the registry on %v storage (%d replicas)", backends, cfg.Spec.Replicas)
			}
			claimMissing := ""
			if cfg.Spec.Storage.PVC != nil {
				claim := cfg.Spec.Storage.PVC.Claim
				if claim == "" {
					claim = "image-registry-storage" // the operator's default claim name
				}
				if _, err := r.c.Kube.CoreV1().PersistentVolumeClaims(RegistryNamespace).Get(ctx, claim, metav1.GetOptions{}); apierrors.IsNotFound(err) {
					claimMissing = claim
				}
				if err := r.placeRegistryVolume(ctx, claim); err != nil { // registrystorage.go
					r.logf("registry operator: placing the registry: %v", err)
				}
			}
			switch {
			case claimMissing != "":
				r.available = false
				avail = cond{"False", "NoReplicasAvailable", "The deployment does not have available replicas"}
				prog = cond{"True", "DeploymentNotCompleted", "The deployment has not completed"}
				degr = cond{"False", "", ""}
			case now.Before(r.readyAt):
				next = time.Until(r.readyAt)
				if r.available {
					avail = cond{"True", "MinimumAvailability", "The registry has minimum availability"}
					readyReplicas = 1
				} else {
					avail = cond{"False", "NoReplicasAvailable", "The deployment does not have available replicas"}
				}
				prog = cond{"True", "DeploymentNotCompleted", "The deployment has not completed"}
				degr = cond{"False", "", ""}
			default:
				r.available = true
				readyReplicas = cfg.Spec.Replicas
				avail = cond{"True", "Ready", "The registry is ready"}
				prog = cond{"False", "Ready", "The registry is ready"}
				degr = cond{"False", "", ""}
			}
		}
	}
	r.mu.Unlock()

	st := cfg.Status.DeepCopy()
	set := func(t string, c cond) {
		lt := metav1.NewTime(now)
		for _, old := range st.Conditions {
			if old.Type == t && string(old.Status) == c.status {
				lt = old.LastTransitionTime
			}
		}
		nc := operatorv1.OperatorCondition{Type: t, Status: operatorv1.ConditionStatus(c.status), Reason: c.reason, Message: c.message, LastTransitionTime: lt}
		for i := range st.Conditions {
			if st.Conditions[i].Type == t {
				st.Conditions[i] = nc
				return
			}
		}
		st.Conditions = append(st.Conditions, nc)
	}
	set("Available", avail)
	set("Progressing", prog)
	set("Degraded", degr)
	set("Removed", removed)
	st.ObservedGeneration = cfg.Generation
	st.ReadyReplicas = readyReplicas
	if statusEqual(&cfg.Status, st) {
		return next, nil
	}
	cfg = cfg.DeepCopy()
	cfg.Status = *st
	if _, err := r.c.ImageRegistry.ImageregistryV1().Configs().UpdateStatus(ctx, cfg, metav1.UpdateOptions{}); err != nil {
		return 0, fmt.Errorf("registry Config status: %w", err)
	}
	return next, nil
}

func statusEqual(a, b *imageregistryv1.ImageRegistryStatus) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// RegistryNamespace is where the registry and its claim live.
const RegistryNamespace = "openshift-image-registry"

// storageBackends lists the configured storage back-ends of the Config.
func storageBackends(s imageregistryv1.ImageRegistryConfigStorage) []string {
	var out []string
	if s.EmptyDir != nil {
		out = append(out, "emptyDir")
	}
	if s.S3 != nil {
		out = append(out, "s3")
	}
	if s.GCS != nil {
		out = append(out, "gcs")
	}
	if s.Swift != nil {
		out = append(out, "swift")
	}
	if s.PVC != nil {
		out = append(out, "pvc")
	}
	if s.Azure != nil {
		out = append(out, "azure")
	}
	if s.IBMCOS != nil {
		out = append(out, "ibmcos")
	}
	if s.OSS != nil {
		out = append(out, "oss")
	}
	return out
}
