package cluster

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding.EncodeToString
	b, _ := json.Marshal(claims)
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc(b) + "." + enc([]byte("sig"))
}

func TestAssessPushCredential(t *testing.T) {
	reg := "image-registry.openshift-image-registry.svc:5000"
	exp := time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)
	legacy := testJWT(map[string]any{"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/secret.name": BuilderTokenSecret})
	minted := testJWT(map[string]any{"iss": "https://kubernetes.default.svc", "exp": exp.Unix()})
	dcj := func(tok string) *corev1.Secret {
		return dockerSecret("push-secret", "lab", TokenPushAuth(reg, tok).DockerConfigJSON())
	}
	for _, tt := range []struct {
		name string
		s    *corev1.Secret
		want PushCredential
		err  string
	}{
		{"long-lived", dcj(legacy), PushCredential{Secret: "push-secret", Kind: CredServiceAccountToken, Registry: reg, TokenSecret: BuilderTokenSecret}, ""},
		{"minted", dcj(minted), PushCredential{Secret: "push-secret", Kind: CredToken, Registry: reg, Expiry: exp}, ""},
		{"password", dcj("hunter2"), PushCredential{Secret: "push-secret", Kind: CredUnknown}, ""},
		{"managed dockercfg", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "builder-dockercfg-abcde", Annotations: map[string]string{AnnotationDockercfgSA: "builder", AnnotationDockercfgBinding: "bound"}},
			Type: corev1.SecretTypeDockercfg, Data: map[string][]byte{corev1.DockerConfigKey: []byte(`{"` + reg + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("<token>:"+minted)) + `"}}`)}},
			PushCredential{Secret: "builder-dockercfg-abcde", Kind: CredManaged, Binding: "bound", Registry: reg, Expiry: exp}, ""},
		{"no data", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, PushCredential{}, "secret x has no .dockerconfigjson or .dockercfg"},
		{"bad json", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte("{")}}, PushCredential{}, "is not valid JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AssessPushCredential(tt.s)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParsePushCredential(t *testing.T) {
	for in, want := range map[string]string{"": PushCredentialLongLived, "long-lived": PushCredentialLongLived, "token": PushCredentialToken} {
		if got, err := ParsePushCredential(in); err != nil || got != want {
			t.Errorf("ParsePushCredential(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParsePushCredential("rotated"); err == nil || !strings.Contains(err.Error(), "--push-credential \"rotated\"") {
		t.Errorf("bad value: %v", err)
	}
}

func TestPushCredentialVerdict(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		pc    PushCredential
		level string
		text  string
	}{
		{PushCredential{Secret: "push-secret", Kind: CredServiceAccountToken, TokenSecret: BuilderTokenSecret}, "ok", "does not expire"},
		{PushCredential{Secret: "push-secret", Kind: CredServiceAccountToken, TokenSecret: BuilderTokenSecret, TokenSecretMissing: true}, "fail", "which is gone"},
		{PushCredential{Secret: "push-secret", Kind: CredToken, Registry: "r", Expiry: now.Add(30 * 24 * time.Hour)}, "ok", "expires in 30 days"},
		{PushCredential{Secret: "push-secret", Kind: CredToken, Registry: "r", Expiry: now.Add(3 * 24 * time.Hour)}, "warn", "expires in 3 day(s)"},
		{PushCredential{Secret: "push-secret", Kind: CredToken, Registry: "r", Expiry: now.Add(30 * time.Minute)}, "fail", "before a build started now would push"},
		{PushCredential{Secret: "push-secret", Kind: CredToken, Registry: "r", Expiry: now.Add(-time.Minute)}, "fail", "EXPIRED"},
		{PushCredential{Secret: "b", Kind: CredManaged, Binding: "legacy"}, "ok", "legacy token that does not expire"},
		{PushCredential{Secret: "b", Kind: CredManaged, Binding: "bound"}, "warn", "copies it when a build starts"},
		{PushCredential{Secret: "p", Kind: CredUnknown}, "ok", "expiry unknown"},
	} {
		level, text, _ := tt.pc.Verdict(now, 14)
		if level != tt.level || !strings.Contains(text, tt.text) {
			t.Errorf("%+v: %s %q, want %s %q", tt.pc, level, text, tt.level, tt.text)
		}
	}
}
