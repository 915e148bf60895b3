package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mosc-dev/mosc/internal/profile"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mosc-dev/mosc/internal/kube"
)

// MinTokenTTL is the shortest lifetime the TokenRequest API grants (600 s).
const MinTokenTTL = 10 * time.Minute

// tokenSkew is how far the local clock may be ahead of or behind the API
// server's before a freshly minted token looks too long-lived.
const tokenSkew = time.Hour

// DefaultTokenTTL is 30 days: long enough for builds and rebuilds, short
// enough that a leaked push secret does not stay useful for years (the
// walkthrough's 900 days only on request, with --token-ttl).
const DefaultTokenTTL = 30 * 24 * time.Hour

// TokenExpiry reads the exp claim of a JWT without verifying it: mosc only
// needs to know whether the token it minted earlier is still worth keeping;
// the API server verifies it when it is used. The error never holds the token.
func TokenExpiry(token string) (time.Time, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("token is not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, errors.New("token payload is not base64url")
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, errors.New("token payload is not a JSON object")
	}
	if claims.Exp == nil {
		return time.Time{}, errors.New("token has no exp claim")
	}
	f, err := claims.Exp.Float64()
	if err != nil {
		return time.Time{}, errors.New("token exp claim is not a number")
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

// TokenDecision says whether apply mints a new builder token.
type TokenDecision struct {
	Mint   bool
	Reason string
	// Expiry of the kept token when Mint is false.
	Expiry time.Time
}

// DecideToken keeps the existing token while more than half its requested
// lifetime remains, so a second apply changes nothing; --rotate-token forces
// a new one.
func DecideToken(existing string, have bool, ttl time.Duration, rotate bool, now time.Time) TokenDecision {
	switch {
	case rotate:
		return TokenDecision{Mint: true, Reason: "--rotate-token"}
	case !have:
		return TokenDecision{Mint: true, Reason: "no builder token in the push secret yet"}
	}
	exp, err := TokenExpiry(existing)
	if err != nil {
		return TokenDecision{Mint: true, Reason: "the push secret's token is unreadable (" + err.Error() + ")"}
	}
	left := exp.Sub(now)
	if left <= 0 {
		return TokenDecision{Mint: true, Reason: "the push secret's token expired at " + exp.Format(time.RFC3339)}
	}
	if left <= ttl/2 {
		return TokenDecision{Mint: true, Reason: fmt.Sprintf("the push secret's token expires at %s, within half of --token-ttl %v", exp.Format(time.RFC3339), humanDuration(ttl))}
	}
	// A token that outlives the lifetime asked for (the walkthrough's 900
	// days, or a --token-ttl lowered since) is replaced, so the bound holds.
	// The slack absorbs clock skew between here and the API server.
	if left > ttl+tokenSkew {
		return TokenDecision{Mint: true, Reason: fmt.Sprintf("the push secret's token is valid until %s, longer than --token-ttl %v", exp.Format(time.RFC3339), humanDuration(ttl))}
	}
	return TokenDecision{Mint: false, Reason: "the push secret's token is valid until " + exp.Format(time.RFC3339), Expiry: exp}
}

// MintBuilderToken asks the TokenRequest API for a token of SA builder in the
// MCO namespace (what `oc create token builder --duration=D` does) and
// returns it with the expiry the server really granted, which may be shorter.
func MintBuilderToken(ctx context.Context, kube kube.Interface, ttl time.Duration) (string, time.Time, error) {
	secs := int64(ttl / time.Second)
	tr, err := kube.CoreV1().ServiceAccounts(profile.MCONamespace).CreateToken(ctx, BuilderSA,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}},
		metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token for serviceaccount %s/%s: %w", profile.MCONamespace, BuilderSA, err)
	}
	if tr.Status.Token == "" {
		return "", time.Time{}, fmt.Errorf("token for serviceaccount %s/%s: the API server returned no token", profile.MCONamespace, BuilderSA)
	}
	return tr.Status.Token, tr.Status.ExpirationTimestamp.UTC(), nil
}
