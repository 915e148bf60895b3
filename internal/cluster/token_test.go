package cluster

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// jwt builds an unsigned JWT with the given payload (mosc never verifies).
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestTokenExpiry(t *testing.T) {
	exp := time.Date(2026, 12, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, token, err string
		want             time.Time
	}{
		{name: "exp", token: jwt(fmt.Sprintf(`{"exp":%d,"sub":"system:serviceaccount:x:builder"}`, exp.Unix())), want: exp},
		{name: "float exp", token: jwt(fmt.Sprintf(`{"exp":%d.0}`, exp.Unix())), want: exp},
		{name: "padded payload", token: strings.Replace(jwt(`{"exp":1}`), ".c2ln", "", 1) + "==.c2ln", want: time.Unix(1, 0).UTC()},
		{name: "two parts", token: "a.b", err: "not a JWT"},
		{name: "bad base64", token: "a.%%%.c", err: "base64url"},
		{name: "not json", token: jwt(`exp=1`), err: "JSON"},
		{name: "no exp", token: jwt(`{"sub":"x"}`), err: "no exp"},
		{name: "string exp", token: jwt(`{"exp":"soon"}`), err: "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TokenExpiry(tt.token)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v; want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), tt.token) {
					t.Fatalf("error holds the token: %v", err)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("TokenExpiry = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestDecideToken(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	ttl := 30 * 24 * time.Hour
	tok := func(left time.Duration) string { return jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(left).Unix())) }
	tests := []struct {
		name     string
		token    string
		have     bool
		rotate   bool
		wantMint bool
		reason   string
	}{
		{name: "none yet", wantMint: true, reason: "no builder token"},
		{name: "fresh", token: tok(29 * 24 * time.Hour), have: true, wantMint: false, reason: "valid until"},
		{name: "just over half", token: tok(ttl/2 + time.Hour), have: true, wantMint: false},
		{name: "half gone", token: tok(ttl / 2), have: true, wantMint: true, reason: "within half"},
		{name: "expired", token: tok(-time.Hour), have: true, wantMint: true, reason: "expired"},
		{name: "rotate", token: tok(29 * 24 * time.Hour), have: true, rotate: true, wantMint: true, reason: "--rotate-token"},
		{name: "unreadable", token: "opaque-token", have: true, wantMint: true, reason: "unreadable"},
		{name: "walkthrough's 900 days", token: tok(900 * 24 * time.Hour), have: true, wantMint: true, reason: "longer than --token-ttl 30d"},
		{name: "fresh, server clock ahead", token: tok(ttl + 30*time.Minute), have: true, wantMint: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideToken(tt.token, tt.have, ttl, tt.rotate, now)
			if d.Mint != tt.wantMint || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("DecideToken = %+v; want mint=%v reason containing %q", d, tt.wantMint, tt.reason)
			}
			if tt.token != "" && strings.Contains(d.Reason, tt.token) {
				t.Fatalf("reason holds the token")
			}
		})
	}
}

func FuzzTokenExpiry(f *testing.F) {
	f.Add(jwt(`{"exp":1700000000}`))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := TokenExpiry(tok)
		if err != nil && len(tok) > 8 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error holds the token: %v", err)
		}
	})
}
