package sim

import (
	"context"
	"fmt"
	"reflect"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The base image pull secret of a build, as the MCO picks it.
//
// On the v1 API, MachineOSConfig spec.baseImagePullSecret is optional; without
// it the build uses global-pull-secret-copy in the MCO namespace
// (openshift/machine-config-operator, release-4.18 … release-4.22,
// pkg/controller/build/buildrequest/buildrequestopts.go getOpts: "falling
// back to global pull secret"), which the operator creates from
// openshift-config/pull-secret while any pool is layered, updates whenever
// that changes, and deletes when none is (pkg/operator/sync.go
// reconcileGlobalPullSecretCopy, getLayeredMachineConfigPools).
const (
	GlobalPullSecretCopyName = "global-pull-secret-copy"
	ClusterPullSecretNS      = "openshift-config"
	ClusterPullSecretName    = "pull-secret"
	// BaseImageHost is where the seeded base image (rhel-coreos) comes from.
	BaseImageHost = "quay.io"
)

// syncGlobalPullSecretCopy plays reconcileGlobalPullSecretCopy: a copy of the
// cluster pull secret while a MachineOSConfig exists, none otherwise.
func (s *Simulator) syncGlobalPullSecretCopy(ctx context.Context) error {
	secrets := s.c.Kube.CoreV1().Secrets(MCONamespace)
	moscs, err := s.moscs.List(labels.Everything())
	if err != nil {
		return err
	}
	layered := false
	for _, m := range moscs {
		if m.DeletionTimestamp == nil {
			layered = true
		}
	}
	cur, err := secrets.Get(ctx, GlobalPullSecretCopyName, metav1.GetOptions{})
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if !layered {
		if exists {
			if err := secrets.Delete(ctx, GlobalPullSecretCopyName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			s.opts.Logf("sim: deleted %s (no layered pool)", GlobalPullSecretCopyName)
		}
		return nil
	}
	global, err := s.c.Kube.CoreV1().Secrets(ClusterPullSecretNS).Get(ctx, ClusterPullSecretName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("error fetching cluster pull secret: %w", err)
	}
	cp := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: GlobalPullSecretCopyName, Namespace: MCONamespace},
		Data: global.Data, Type: corev1.SecretTypeDockerConfigJson}
	switch {
	case !exists:
		if _, err := secrets.Create(ctx, cp, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		s.opts.Logf("sim: created %s", GlobalPullSecretCopyName)
	case !reflect.DeepEqual(cur.Data, global.Data):
		cur.Data = global.Data
		if _, err := secrets.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return err
		}
		s.opts.Logf("sim: updated %s", GlobalPullSecretCopyName)
	}
	return nil
}

// basePullSecret returns the secret a build pulls its base image with.
func (s *Simulator) basePullSecret(ctx context.Context, mosc *mcfgv1.MachineOSConfig) (*corev1.Secret, error) {
	name := GlobalPullSecretCopyName
	if mosc.Spec.BaseImagePullSecret != nil && mosc.Spec.BaseImagePullSecret.Name != "" {
		name = mosc.Spec.BaseImagePullSecret.Name
	}
	sec, err := s.c.Kube.CoreV1().Secrets(MCONamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("could not get base image pull secret %s: could not fetch secret %s: %w", name, name, err)
	}
	return sec, nil
}

// checkBasePull plays the registry serving the base image: it accepts only
// the credentials the cluster pull secret holds now. A rotated cluster pull
// secret revokes the old token, so a copy taken before the rotation (mosc's
// old pull-and-push-secret) no longer pulls rhel-coreos.
func (s *Simulator) checkBasePull(ctx context.Context, base *corev1.Secret) error {
	global, err := s.c.Kube.CoreV1().Secrets(ClusterPullSecretNS).Get(ctx, ClusterPullSecretName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the cluster pull secret: %w", err)
	}
	wantUser, wantPass, ok := credentialsFor(global, BaseImageHost)
	if !ok {
		return nil // nothing to compare against: the seed always has quay.io
	}
	// Only stale credentials fail: test fixtures that name a secret without
	// quay.io at all (the test registry's) stand for a mirror setup.
	user, pass, ok := credentialsFor(base, BaseImageHost)
	if ok && (user != wantUser || pass != wantPass) {
		return fmt.Errorf("creating build container: initializing source docker://%s/openshift-release-dev/ocp-v4.0-art-dev: reading manifest: unauthorized: access to the requested resource is not authorized (base image pull secret %s)", BaseImageHost, base.Name)
	}
	return nil
}
