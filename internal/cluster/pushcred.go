package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mosc-dev/mosc/internal/kube"
	"github.com/mosc-dev/mosc/internal/profile"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Why this file (issue 10, finding 1; docs/decisions.md "Push credentials").
// Every OCP upgrade builds (the MachineOSBuild name hashes the osimageurl
// ConfigMap), so the push secret must still work months after apply, with
// nobody running mosc. Three candidates, and what the sources say:
//
//   - A TokenRequest token (what mosc minted before, 30 days): nothing
//     renews it; the first build after it expires fails to push.
//   - The builder service account's image pull secret, builder-dockercfg-*
//     (the MCO quickstart's choice): from 4.16 openshift-controller-manager
//     fills it with a token bound to the secret with the API's default
//     lifetime, one hour, and renews it once less than 40% is left
//     (openshift/openshift-controller-manager, release-4.16 … release-4.22,
//     pkg/internalregistry/controllers/image_pull_secret_controller.go:
//     TokenRequest without expirationSeconds, refreshThresholdTime). But the
//     MCO copies the push secret once, when a build starts, into an
//     ephemeral "<name>-canonical" secret the build pod mounts
//     (openshift/machine-config-operator, release-4.18 … release-4.22,
//     pkg/controller/build/buildrequest/buildrequest.go Secrets,
//     imagebuilder/preparer.go createSecret), so a build pushes with a token
//     that had 24 to 60 minutes left when it started, and a DOCA build takes
//     20–40 minutes. The MCO's own e2e suites do not use it for that reason
//     (test/helpers/longlivedsecrets.go: the default image pull secrets are
//     rotated "on an hourly basis; even if they were just created";
//     test/e2e-ocl-shared/helpers.go: a long-lived secret "so that it will not
//     get automatically rotated while the test is running"), and its
//     troubleshooting guide ("Legacy-style secrets get out of sync") advises
//     a longer-lived secret.
//   - A service-account token Secret (type kubernetes.io/service-account-token,
//     annotated kubernetes.io/service-account.name: builder): kube-controller-
//     manager's token controller fills it with a token that does not expire
//     and stays valid while the Secret exists (the API server looks the
//     Secret up on every use), so deleting it revokes the token. OpenShift
//     4.16 documents creating one ("Creating and using secrets", service
//     account token secret); Kubernetes only garbage-collects auto-generated
//     ones (those listed in the service account's secrets, which this is not).
//
// mosc uses the last by default (PushCredentialLongLived): it creates
// BuilderTokenSecret, waits for the token, and writes it into the push
// secret. --push-credential token keeps the TokenRequest token for sites that
// forbid non-expiring credentials; gate and status then say when it expires.

// Push credential modes (--push-credential).
const (
	PushCredentialLongLived = profile.PushCredentialLongLived
	PushCredentialToken     = profile.PushCredentialToken
)

// BuilderTokenSecret is the service-account token Secret mosc creates for
// the builder service account; AnnotationTokenFor names the push secret that
// carries its token, so `remove --pool` keeps both together.
const (
	BuilderTokenSecret = "mosc-builder-token"
	AnnotationTokenFor = "mosc.dev/push-secret"
	// legacyTokenIssuer is the iss of a Secret-based service-account token
	// (k8s.io/kubernetes pkg/serviceaccount/legacy.go LegacyIssuer).
	legacyTokenIssuer = "kubernetes/serviceaccount"
)

// Annotations openshift-controller-manager sets on the image pull secrets it
// manages (pkg/internalregistry/controllers/annotations.go).
const (
	AnnotationDockercfgSA      = "openshift.io/internal-registry-auth-token.service-account"
	AnnotationDockercfgBinding = "openshift.io/internal-registry-auth-token.binding"
)

// TokenSecretWait bounds the wait for kube-controller-manager to fill the
// token Secret (it does so within a second on a healthy cluster).
var TokenSecretWait = 60 * time.Second

// ParsePushCredential checks --push-credential.
func ParsePushCredential(s string) (string, error) {
	switch s {
	case "", PushCredentialLongLived:
		return PushCredentialLongLived, nil
	case PushCredentialToken:
		return PushCredentialToken, nil
	}
	return "", fmt.Errorf("--push-credential %q: want %s (a service-account token Secret that does not expire; revoked by deleting secret %s) or %s (a TokenRequest token that expires after --token-ttl and that nothing renews)",
		s, PushCredentialLongLived, BuilderTokenSecret, PushCredentialToken)
}

// builderTokenSecret is the Secret apply creates; kube-controller-manager
// adds data.token, data.ca.crt and data.namespace.
func builderTokenSecret(site, pushSecret string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        BuilderTokenSecret,
			Namespace:   profile.MCONamespace,
			Labels:      Labels(site),
			Annotations: map[string]string{corev1.ServiceAccountNameKey: BuilderSA, AnnotationTokenFor: pushSecret},
		},
		Type: corev1.SecretTypeServiceAccountToken,
	}
}

// waitServiceAccountToken polls the token Secret until kube-controller-
// manager has filled it. The error never holds the token.
func waitServiceAccountToken(ctx context.Context, kc kube.Interface, name string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := kc.CoreV1().Secrets(profile.MCONamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("secret %s/%s: %w", profile.MCONamespace, name, err)
		}
		if err == nil && len(s.Data[corev1.ServiceAccountTokenKey]) > 0 {
			return string(s.Data[corev1.ServiceAccountTokenKey]), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("secret %s/%s: kube-controller-manager did not fill in the service account token within %v "+
				"(its token controller fills every kubernetes.io/service-account-token Secret; check `oc get secret -n %s %s -o yaml` and the kube-controller-manager logs), "+
				"or pass --push-credential %s (a TokenRequest token, which expires)",
				profile.MCONamespace, name, timeout, profile.MCONamespace, name, PushCredentialToken)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// PushCredential describes the secret a MachineOSConfig pushes with, read
// without keeping or showing any credential.
type PushCredential struct {
	Secret string `json:"secret"`
	// Kind: "service-account-token" (a token that does not expire, from
	// TokenSecret), "token" (a JWT with an expiry, Expiry), "managed" (an
	// image pull secret openshift-controller-manager renews; Binding is
	// bound or legacy), "unknown" (a password or a token without a readable
	// expiry: an external registry's credentials).
	Kind        string    `json:"kind"`
	Registry    string    `json:"registry,omitempty"`
	Expiry      time.Time `json:"expiry,omitempty"`
	TokenSecret string    `json:"tokenSecret,omitempty"`
	Binding     string    `json:"binding,omitempty"`
	// TokenSecretMissing: the Secret a service-account token comes from is
	// gone, so the API server refuses the token.
	TokenSecretMissing bool `json:"tokenSecretMissing,omitempty"`
}

// Push credential kinds.
const (
	CredServiceAccountToken = "service-account-token"
	CredToken               = "token"
	CredManaged             = "managed"
	CredUnknown             = "unknown"
)

type jwtClaims struct {
	Iss        string       `json:"iss"`
	Exp        *json.Number `json:"exp"`
	SecretName string       `json:"kubernetes.io/serviceaccount/secret.name"`
}

// readJWT decodes a JWT's claims without verifying them (the API server
// verifies the token when it is used); ok is false for anything else.
func readJWT(tok string) (jwtClaims, bool) {
	var c jwtClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

// AssessPushCredential reads a push secret: the credential of each registry,
// the earliest expiry among them. The error names the secret and key, never
// a credential.
func AssessPushCredential(s *corev1.Secret) (PushCredential, error) {
	pc := PushCredential{Secret: s.Name, Kind: CredUnknown}
	if s.Type == corev1.SecretTypeDockercfg && s.Annotations[AnnotationDockercfgSA] != "" {
		pc.Kind, pc.Binding = CredManaged, s.Annotations[AnnotationDockercfgBinding]
	}
	type entry struct {
		Auth     string `json:"auth"`
		Password string `json:"password"`
	}
	var auths map[string]entry
	switch {
	case len(s.Data[corev1.DockerConfigJsonKey]) > 0:
		var doc struct {
			Auths map[string]entry `json:"auths"`
		}
		if json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &doc) != nil {
			return pc, fmt.Errorf("secret %s: %s is not valid JSON", s.Name, corev1.DockerConfigJsonKey)
		}
		auths = doc.Auths
	case len(s.Data[corev1.DockerConfigKey]) > 0:
		if json.Unmarshal(s.Data[corev1.DockerConfigKey], &auths) != nil {
			return pc, fmt.Errorf("secret %s: %s is not valid JSON", s.Name, corev1.DockerConfigKey)
		}
	default:
		return pc, fmt.Errorf("secret %s has no %s or %s", s.Name, corev1.DockerConfigJsonKey, corev1.DockerConfigKey)
	}
	regs := make([]string, 0, len(auths))
	for r := range auths {
		regs = append(regs, r)
	}
	sort.Strings(regs)
	for _, r := range regs {
		pass := auths[r].Password
		if a := auths[r].Auth; a != "" {
			raw, err := base64.StdEncoding.DecodeString(a)
			if err != nil {
				return pc, fmt.Errorf("secret %s: auths[%q].auth is not base64", s.Name, r)
			}
			_, pass, _ = strings.Cut(string(raw), ":")
		}
		c, ok := readJWT(pass)
		if !ok {
			continue // a password: its expiry is not knowable here
		}
		if c.Exp != nil {
			f, err := c.Exp.Float64()
			if err != nil {
				continue
			}
			exp := time.Unix(int64(f), 0).UTC()
			if pc.Expiry.IsZero() || exp.Before(pc.Expiry) {
				pc.Expiry, pc.Registry = exp, r
			}
			if pc.Kind != CredManaged {
				pc.Kind = CredToken
			}
			continue
		}
		if c.Iss == legacyTokenIssuer && c.SecretName != "" && pc.Kind == CredUnknown {
			pc.Kind, pc.TokenSecret, pc.Registry = CredServiceAccountToken, c.SecretName, r
		}
	}
	return pc, nil
}

// BuildWindow is how long before expiry a credential is too short-lived for
// a build started now: a DOCA build takes 20–40 minutes, and pushes last.
const BuildWindow = 2 * time.Hour

// Verdict is what gate and status say about a push credential: level is
// "ok", "warn" or "fail"; text and remedy never hold a credential.
func (pc PushCredential) Verdict(now time.Time, minDays int) (level, text, remedy string) {
	stall := "every upgrade, MachineConfig or mirror-config change builds, and the first build after that fails to push and stalls the pool"
	switchRemedy := "mosc apply (its default --push-credential " + PushCredentialLongLived + " writes a service-account token that does not expire)"
	switch pc.Kind {
	case CredServiceAccountToken:
		if pc.TokenSecretMissing {
			return "fail", fmt.Sprintf("secret %s: its service-account token comes from secret %s, which is gone, so the API server refuses it: %s", pc.Secret, pc.TokenSecret, stall),
				"mosc apply (creates the token secret again)"
		}
		return "ok", fmt.Sprintf("secret %s: a service-account token from secret %s; it does not expire (deleting that secret revokes it)", pc.Secret, pc.TokenSecret), ""
	case CredManaged:
		if pc.Binding == "legacy" {
			return "ok", fmt.Sprintf("secret %s: the builder's image pull secret with a legacy token that does not expire (openshift-controller-manager)", pc.Secret), ""
		}
		return "warn", fmt.Sprintf("secret %s: the builder's image pull secret; openshift-controller-manager renews its one-hour token, but the MCO copies it when a build starts, so a build that pushes more than 24 minutes later can fail with unauthorized (DOCA builds take 20-40 minutes)", pc.Secret),
			switchRemedy
	case CredUnknown:
		return "ok", fmt.Sprintf("secret %s: expiry unknown (registry credentials without a token expiry mosc can read); if they expire, the first build after that fails to push, and nothing here would say so", pc.Secret), ""
	}
	exp := pc.Expiry.UTC().Format(time.RFC3339)
	left := pc.Expiry.Sub(now)
	days := int(left.Hours() / 24)
	switch {
	case left <= 0:
		return "fail", fmt.Sprintf("secret %s: the push token for %s EXPIRED at %s: %s", pc.Secret, pc.Registry, exp, stall), switchRemedy
	case left < BuildWindow:
		return "fail", fmt.Sprintf("secret %s: the push token for %s expires at %s, before a build started now would push: %s", pc.Secret, pc.Registry, exp, stall), switchRemedy
	case left < time.Duration(minDays)*24*time.Hour:
		return "warn", fmt.Sprintf("secret %s: the push token for %s expires in %d day(s), on %s (within --min-token-days %d), and nothing renews it: %s", pc.Secret, pc.Registry, days, exp, minDays, stall), switchRemedy
	}
	return "ok", fmt.Sprintf("secret %s: the push token for %s expires in %d days, on %s, and nothing renews it: after that %s", pc.Secret, pc.Registry, days, exp, stall), ""
}

// PushCredentialOf reads the push secret a live MachineOSConfig names, and
// for a service-account token whether its Secret still exists.
func PushCredentialOf(ctx context.Context, kc kube.Interface, secretName string) (PushCredential, error) {
	secrets := kc.CoreV1().Secrets(profile.MCONamespace)
	s, err := secrets.Get(ctx, secretName, metav1.GetOptions{})
	if err != nil {
		return PushCredential{Secret: secretName}, fmt.Errorf("push secret %s/%s: %w", profile.MCONamespace, secretName, err)
	}
	pc, err := AssessPushCredential(s)
	if err != nil {
		return pc, err
	}
	if pc.Kind == CredServiceAccountToken {
		ts, err := secrets.Get(ctx, pc.TokenSecret, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			pc.TokenSecretMissing = true
		case err == nil && ts.DeletionTimestamp != nil:
			pc.TokenSecretMissing = true
		}
	}
	return pc, nil
}
