package cluster

import (
	"context"
	"fmt"

	"github.com/mosc-dev/mosc/internal/profile"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// longLived: the internal registry's push credential is the token of the
// builder's service-account token Secret (pushcred.go).
func (a *Applier) longLived() bool {
	return a.opts.PushAuth == nil && a.opts.PushCredential != PushCredentialToken
}

// ownTokenSecret says whether s is the token Secret mosc makes: anything
// else under that name is the user's, and apply leaves it alone.
func ownTokenSecret(s *corev1.Secret) bool {
	return s.Type == corev1.SecretTypeServiceAccountToken && s.Annotations[corev1.ServiceAccountNameKey] == BuilderSA &&
		s.Labels[profile.LabelManagedBy] == profile.LabelManagedByValue
}

// applyBuilderTokenSecret creates (or keeps) the builder's service-account
// token Secret and returns the token kube-controller-manager put in it.
// --rotate-token replaces the Secret, which revokes the old token at once.
// In a dry run nothing is created and the token is a placeholder unless the
// Secret already holds one.
func (a *Applier) applyBuilderTokenSecret(ctx context.Context, p *Prepared) (*Result, string, error) {
	secrets := a.c.Kube.CoreV1().Secrets(profile.MCONamespace)
	ref := "secret/" + BuilderTokenSecret
	cur, err := secrets.Get(ctx, BuilderTokenSecret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cur = nil
	case err != nil:
		return nil, "", fmt.Errorf("%s: %w", ref, err)
	case !ownTokenSecret(cur):
		return nil, "", fmt.Errorf("secret %s/%s exists and is not the builder service-account token Secret mosc creates (type %s, labels %v); mosc does not change what it did not create: "+
			"delete or rename it, or pass --push-credential %s", profile.MCONamespace, BuilderTokenSecret, cur.Type, cur.Labels, PushCredentialToken)
	}
	if cur == nil || a.opts.RotateToken {
		// Nothing may change when a write would be refused: find a field
		// conflict on the secrets that carry the token before creating it.
		if err := a.checkSecretsWritable(ctx, p); err != nil {
			return nil, "", err
		}
	}
	if cur != nil && a.opts.RotateToken {
		if a.opts.DryRun != DryRunNone {
			fmt.Fprintf(a.opts.Log, "%s: would be replaced (--rotate-token), revoking its token; not in a dry run\n", ref)
			return &Result{Ref: ref, Action: "replaced", DryRun: a.opts.DryRun}, "dry-run-placeholder", nil
		}
		uid := cur.UID
		if err := secrets.Delete(ctx, BuilderTokenSecret, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil && !apierrors.IsNotFound(err) {
			return nil, "", fmt.Errorf("--rotate-token: deleting %s: %w", ref, err)
		}
		fmt.Fprintf(a.opts.Log, "%s: deleted (--rotate-token); its token is revoked\n", ref)
		cur = nil
	}
	u, err := toUnstructured(builderTokenSecret(p.Plan.Site, p.Plan.MOSC.PushSecretName))
	if err != nil {
		return nil, "", err
	}
	r, err := a.applyObject(ctx, u, secretGVR)
	if err != nil {
		return nil, "", err
	}
	if a.opts.DryRun != DryRunNone {
		if cur != nil && len(cur.Data[corev1.ServiceAccountTokenKey]) > 0 {
			return &r, string(cur.Data[corev1.ServiceAccountTokenKey]), nil
		}
		fmt.Fprintf(a.opts.Log, "%s: kube-controller-manager fills in its token once it exists; not in a dry run\n", ref)
		return &r, "dry-run-placeholder", nil
	}
	tok, err := waitServiceAccountToken(ctx, a.c.Kube, BuilderTokenSecret, TokenSecretWait)
	if err != nil {
		return &r, "", err
	}
	fmt.Fprintf(a.opts.Log, "%s: push credential: the token of secret %s (serviceaccount %s/%s): it does not expire; deleting that secret revokes it\n",
		p.Plan.MOSC.PushSecretName, BuilderTokenSecret, profile.MCONamespace, BuilderSA)
	return &r, tok, nil
}

// checkSecretsWritable server-dry-runs the push secret (and the merged pull
// secret) with a placeholder token: another field manager owning their data
// is a conflict whatever the token, and the real write would fail after the
// token Secret exists.
func (a *Applier) checkSecretsWritable(ctx context.Context, p *Prepared) error {
	if a.opts.DryRun == DryRunClient {
		return nil
	}
	placeholder := TokenPushAuth(p.PushHost, "conflict-check").DockerConfigJSON()
	force := a.opts.ForceConflicts
	for _, n := range []string{p.Plan.MOSC.PushSecretName, p.Plan.MOSC.BaseImagePullSecretName} {
		if n == "" {
			continue
		}
		u, err := toUnstructured(dockerSecret(n, p.Plan.Site, placeholder))
		if err != nil {
			return err
		}
		body, err := applyBody(u)
		if err != nil {
			return err
		}
		ref := refOf(u, secretGVR)
		_, err = a.resource(secretGVR, profile.MCONamespace).Patch(ctx, n, types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &force, DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			if c, ok := ParseConflict(err); ok {
				return &ConflictError{Ref: ref, Managers: c}
			}
			return fmt.Errorf("%s: %w", ref, err)
		}
	}
	return nil
}

// dropBuilderTokenSecret deletes mosc's token Secret once the push secret no
// longer carries its token (--push-credential token): a credential that does
// not expire should not outlive its use. Failing to is a warning.
func (a *Applier) dropBuilderTokenSecret(ctx context.Context) {
	if a.opts.DryRun != DryRunNone {
		return
	}
	secrets := a.c.Kube.CoreV1().Secrets(profile.MCONamespace)
	cur, err := secrets.Get(ctx, BuilderTokenSecret, metav1.GetOptions{})
	if err != nil || !ownTokenSecret(cur) {
		return
	}
	uid := cur.UID
	if err := secrets.Delete(ctx, BuilderTokenSecret, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(a.opts.Log, "warning: secret/%s is no longer used (--push-credential %s), but deleting it failed: %v; delete it to revoke its token\n", BuilderTokenSecret, PushCredentialToken, err)
		return
	}
	fmt.Fprintf(a.opts.Log, "secret/%s: deleted (--push-credential %s); its token is revoked\n", BuilderTokenSecret, PushCredentialToken)
}
