package watch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/node"

	"github.com/mosc-dev/mosc/internal/kube"
)

const mcfgGroup = "machineconfiguration.openshift.io"

// NeedsOptions say which optional reads a watch makes.
type NeedsOptions struct {
	Pool, MOSC string
	// Status: mosc status (plain reads, no check pods) instead of mosc watch.
	Status bool
	// MCN: the cluster serves machineconfignodes.
	MCN bool
	// Logs: --logs follows the build pod's log.
	Logs bool
}

// Needs lists what mosc watch (or mosc status) reads and writes, for a
// SelfSubjectAccessReview preflight: an informer whose LIST is forbidden
// retries forever and never syncs, so a missing right is found up front and
// named instead of hanging until --timeout (issue 10, finding 12).
func Needs(o NeedsOptions) []cluster.Permission {
	var ps []cluster.Permission
	add := func(group, resource, ns, name string, verbs ...string) {
		for _, v := range verbs {
			ps = append(ps, cluster.Permission{Verb: v, Group: group, Resource: resource, Namespace: ns, Name: name})
		}
	}
	if o.Status {
		add(mcfgGroup, "machineosconfigs", "", o.MOSC, "get")
		add(mcfgGroup, "machineosbuilds", "", "", "list")
		add(mcfgGroup, "machineconfigpools", "", "", "list")
		if o.MCN {
			add(mcfgGroup, "machineconfignodes", "", "", "list")
		}
		add("", "nodes", "", "", "list")
		add("", "pods", MCONamespace, "", "list")
		return ps
	}
	add(mcfgGroup, "machineconfigpools", "", o.Pool, "get")
	add(mcfgGroup, "machineosconfigs", "", "", "list", "watch")
	add(mcfgGroup, "machineosbuilds", "", "", "list", "watch")
	add(mcfgGroup, "machineconfigpools", "", "", "list", "watch")
	if o.MCN {
		add(mcfgGroup, "machineconfignodes", "", "", "list", "watch")
	}
	add("", "nodes", "", "", "list", "watch")
	// Build pods (informer) and check pods (create, follow, delete, sweep).
	add("", "pods", MCONamespace, "", "list", "watch")
	add("", "pods", node.CheckNamespace, "", "create", "delete", "deletecollection")
	if node.CheckNamespace != MCONamespace {
		add("", "pods", node.CheckNamespace, "", "list", "watch")
	}
	if o.Logs {
		ps = append(ps, cluster.Permission{Verb: "get", Resource: "pods", Subresource: "log", Namespace: MCONamespace})
	}
	return ps
}

// ForbiddenError is a 403 met while watching: the RBAC rights changed after
// the preflight, or a check the preflight cannot make (an SCC) failed.
type ForbiddenError struct {
	// What was denied, e.g. "list machineosbuilds" or "create check pod on node worker-0".
	What string
	Err  error
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("forbidden: cannot %s: %v (mosc watch needs the permissions listed in docs/watch.md#permissions)", e.What, e.Err)
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// forbidden reports whether err is a 403 from the API server.
func forbidden(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsForbidden(err) {
		return true
	}
	var se apierrors.APIStatus
	return errors.As(err, &se) && se.Status().Code == 403
}

// ServesMachineConfigNodes says whether the cluster serves the v1
// machineconfignodes the watch follows when it can.
func ServesMachineConfigNodes(d kube.DiscoveryInterface) bool {
	return hasResource(d, mcfgv1.GroupVersion.String(), "machineconfignodes")
}

// DefaultForbiddenGrace: a kube-apiserver that has just started denies
// requests until its RBAC informers have synced (seen in the e2e suite right
// after a restart); a 403 that outlives this, and that a
// SelfSubjectAccessReview confirms, is real.
const DefaultForbiddenGrace = 5 * time.Second

type informerResource struct{ group, resource, namespace string }

func (r informerResource) String() string {
	s := r.resource
	if r.group != "" {
		s += "." + r.group
	}
	if r.namespace != "" {
		s += " in namespace " + r.namespace
	}
	return s
}

// forbiddenWatch follows one informer's 403s.
type forbiddenWatch struct {
	res    informerResource
	grace  time.Duration
	kube   kube.Interface
	denied chan<- error
	now    func() time.Time

	mu          sync.Mutex
	first, last time.Time
	reported    bool
}

// report is the informer's watch error handler. The reflector backs off
// between attempts (0.8 s doubling up to 30 s), so a streak of 403s is one
// whose errors come less than a minute apart.
func (f *forbiddenWatch) report(ctx context.Context, err error) {
	if !forbidden(err) {
		return
	}
	f.mu.Lock()
	now := f.now()
	if f.last.IsZero() || now.Sub(f.last) > time.Minute {
		f.first = now
	}
	f.last = now
	if f.reported || now.Sub(f.first) < f.grace {
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	if f.allowed(ctx) {
		return
	}
	f.mu.Lock()
	f.reported = true
	f.mu.Unlock()
	select {
	case f.denied <- &ForbiddenError{What: "list/watch " + f.res.String(), Err: err}:
	default:
	}
}

// allowed asks the API server whether list and watch are allowed now; an
// error answering counts as allowed (the informer keeps retrying).
func (f *forbiddenWatch) allowed(ctx context.Context) bool {
	for _, verb := range []string{"list", "watch"} {
		r, err := f.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: verb, Group: f.res.group, Resource: f.res.resource, Namespace: f.res.namespace,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			return true
		}
		if !r.Status.Allowed {
			return false
		}
	}
	return true
}
