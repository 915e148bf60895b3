package harness

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mosc-dev/mosc/internal/kube"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The token controller of kube-controller-manager, which the harness does
// not run (issue 10, finding 1: mosc's push credential is a service-account
// token Secret). As k8s.io/kubernetes pkg/controller/serviceaccount/
// tokens_controller.go does for every Secret of type
// kubernetes.io/service-account-token annotated
// kubernetes.io/service-account.name: it fills data.token with a token signed
// by the service-account key (pkg/serviceaccount/legacy.go LegacyClaims:
// issuer "kubernetes/serviceaccount", no exp, the secret and service account
// named in private claims), data.ca.crt and data.namespace, and records the
// service account's UID; a Secret whose service account does not exist is
// deleted. The real kube-apiserver then authenticates the token only while
// that Secret exists and holds it (pkg/serviceaccount/legacy.go Validate),
// so deleting the Secret revokes the token here as on a cluster.

// runTokenController fills token Secrets until ctx ends.
func (c *Cluster) runTokenController(ctx context.Context, keyPath string) error {
	key, err := readRSAKey(keyPath)
	if err != nil {
		return err
	}
	kube := c.Clients.Kube
	go func() {
		for ctx.Err() == nil {
			if err := fillTokenSecrets(ctx, kube, key, c.pki.caPEM); err != nil && ctx.Err() == nil {
				c.opts.Logf("harness: token controller: %v", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return nil
}

func readRSAKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New(path + ": no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New(path + ": not an RSA key")
	}
	return rk, nil
}

func fillTokenSecrets(ctx context.Context, kc kube.Interface, key *rsa.PrivateKey, caPEM []byte) error {
	list, err := kc.CoreV1().Secrets("").List(ctx, metav1.ListOptions{FieldSelector: "type=" + string(corev1.SecretTypeServiceAccountToken)})
	if err != nil {
		return err
	}
	for i := range list.Items {
		s := &list.Items[i]
		saName := s.Annotations[corev1.ServiceAccountNameKey]
		if saName == "" || len(s.Data[corev1.ServiceAccountTokenKey]) > 0 || s.DeletionTimestamp != nil {
			continue
		}
		sa, err := kc.CoreV1().ServiceAccounts(s.Namespace).Get(ctx, saName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			uid := s.UID
			_ = kc.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			continue
		}
		if err != nil {
			return err
		}
		tok, err := legacyToken(key, sa, s.Name)
		if err != nil {
			return err
		}
		s = s.DeepCopy()
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[corev1.ServiceAccountTokenKey] = []byte(tok)
		s.Data[corev1.ServiceAccountRootCAKey] = caPEM
		s.Data[corev1.ServiceAccountNamespaceKey] = []byte(s.Namespace)
		s.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
		if _, err := kc.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	return nil
}

// legacyToken signs the claims pkg/serviceaccount/legacy.go LegacyClaims
// makes, with the key ID pkg/serviceaccount/jwt.go keyIDFromPublicKey
// derives, RS256.
func legacyToken(key *rsa.PrivateKey, sa *corev1.ServiceAccount, secret string) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	kid := sha256.Sum256(der)
	enc := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": enc(kid[:])})
	claims, _ := json.Marshal(map[string]string{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + sa.Namespace + ":" + sa.Name,
		"kubernetes.io/serviceaccount/namespace": sa.Namespace,
		"kubernetes.io/serviceaccount/secret.name":          secret,
		"kubernetes.io/serviceaccount/service-account.name": sa.Name,
		"kubernetes.io/serviceaccount/service-account.uid":  string(sa.UID),
	})
	signing := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc(sig), nil
}
