package gate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	mcfgfake "github.com/openshift/client-go/machineconfiguration/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/mosc-dev/mosc/internal/kube/kubetest"
)

// legacyJWT is a Secret-based service-account token as kube-controller-
// manager writes it: issuer kubernetes/serviceaccount, no exp.
func legacyJWT(secret string) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:openshift-machine-config-operator:builder",
		"kubernetes.io/serviceaccount/namespace": "openshift-machine-config-operator", "kubernetes.io/serviceaccount/secret.name": secret,
		"kubernetes.io/serviceaccount/service-account.name": "builder"})
	return enc([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc(claims) + "." + enc([]byte("signature"))
}

func TestCheckPushCredential(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	reg := "image-registry.openshift-image-registry.svc:5000"
	tokenSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "mosc-builder-token", Namespace: "openshift-machine-config-operator"}, Type: corev1.SecretTypeServiceAccountToken}
	managed := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "builder-dockercfg-x7k2p", Namespace: "openshift-machine-config-operator",
		Annotations: map[string]string{"openshift.io/internal-registry-auth-token.service-account": "builder", "openshift.io/internal-registry-auth-token.binding": "bound"}},
		Type: corev1.SecretTypeDockercfg, Data: map[string][]byte{corev1.DockerConfigKey: []byte(`{"` + reg + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("<token>:"+jwt(now.Add(40*time.Minute)))) + `"}}`)}}
	tests := []struct {
		name    string
		objs    []runtime.Object
		mosc    string // the live MachineOSConfig's push secret ("": none)
		status  Status
		msg     []string
		details map[string]any
	}{
		{"long-lived service-account token", []runtime.Object{pushSecret(map[string]string{reg: legacyJWT("mosc-builder-token")}), tokenSecret}, "", Pass,
			[]string{"service-account token from secret mosc-builder-token", "does not expire"}, map[string]any{"kind": "service-account-token", "tokenSecret": "mosc-builder-token"}},
		{"its token secret deleted", []runtime.Object{pushSecret(map[string]string{reg: legacyJWT("mosc-builder-token")})}, "", Fail,
			[]string{"secret mosc-builder-token, which is gone", "fails to push"}, nil},
		{"a year left", []runtime.Object{pushSecret(map[string]string{reg: jwt(now.Add(365 * 24 * time.Hour))})}, "", Pass,
			[]string{"expires in 365 days, on 2027-11-21T12:00:00Z", "nothing renews it"}, map[string]any{"daysLeft": 365}},
		{"five days left", []runtime.Object{pushSecret(map[string]string{reg: jwt(now.Add(5*24*time.Hour + time.Hour))})}, "", Warn,
			[]string{"expires in 5 day(s)", "--min-token-days 14"}, nil},
		{"an hour left: shorter than a build", []runtime.Object{pushSecret(map[string]string{reg: jwt(now.Add(time.Hour))})}, "", Fail,
			[]string{"before a build started now would push"}, nil},
		{"expired", []runtime.Object{pushSecret(map[string]string{reg: jwt(now.Add(-time.Hour))})}, "", Fail,
			[]string{"EXPIRED at 2026-11-21T11:00:00Z", "stalls the pool"}, nil},
		{"earliest of two", []runtime.Object{pushSecret(map[string]string{reg: jwt(now.Add(400 * 24 * time.Hour)), "quay.io": jwt(now.Add(2 * 24 * time.Hour))})}, "", Warn,
			[]string{"push token for quay.io expires in 2 day(s)"}, nil},
		{"external password", []runtime.Object{pushSecret(map[string]string{"quay.io": "robot-password"})}, "", Pass,
			[]string{"expiry unknown"}, map[string]any{"kind": "unknown"}},
		{"the builder's image pull secret, named by the live MachineOSConfig", []runtime.Object{managed}, "builder-dockercfg-x7k2p", Warn,
			[]string{"secret builder-dockercfg-x7k2p: the builder's image pull secret", "copies it when a build starts"}, map[string]any{"binding": "bound"}},
		{"missing", nil, "", Fail, []string{`"push-secret" not found`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mcObjs []runtime.Object
			if tt.mosc != "" {
				m := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
				m.Spec.RenderedImagePushSecret.Name = tt.mosc
				mcObjs = append(mcObjs, m)
			}
			cl := &Cluster{Kube: kubetest.Kube(kubefake.NewSimpleClientset(tt.objs...)), MachineConfig: kubetest.MachineConfig(mcfgfake.NewSimpleClientset(mcObjs...))}
			c := CheckPushCredential(context.Background(), cl, plan(t, "4.20"), now, DefaultMinTokenDays)
			expect(t, c, tt.status, tt.msg...)
			for k, v := range tt.details {
				if c.Details[k] != v {
					t.Errorf("details[%s] = %v, want %v", k, c.Details[k], v)
				}
			}
			out, _ := json.Marshal(c)
			if strings.Contains(string(out), "eyJ") || strings.Contains(string(out), "robot-password") {
				t.Errorf("credential material leaked: %s", out)
			}
		})
	}
}
