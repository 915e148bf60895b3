package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/watch"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPushCredentialOutlivesAMonth (issue 10, finding 1): a month after
// apply, the next build (here a new MachineConfig; every upgrade does the
// same) must still push, with nobody running mosc in between. The
// simulator's clock jumps ahead and its registry refuses a token past its exp
// (e2e/sim/pushcred.go); the harness plays kube-controller-manager's token
// controller (e2e/harness/tokens.go), and the real kube-apiserver accepts a
// Secret-based token only while that Secret exists. The minted 30-day token
// (the mosc before the fix, now --push-credential token) stalls the pool; the
// default, mosc-builder-token's token, still builds more than a year later.
func TestPushCredentialOutlivesAMonth(t *testing.T) {
	resetCluster(t)
	ctx := context.Background()
	s := startSim(t, sim.Faults{BuildDuration: 1500 * time.Millisecond, NodeStep: 50 * time.Millisecond})
	mcs := env.Clients.MachineConfig.MachineconfigurationV1()
	secrets := env.Clients.Kube.CoreV1().Secrets(mcoNS)
	builds := func() int {
		t.Helper()
		l, err := mcs.MachineOSBuilds().List(ctx, metav1.ListOptions{})
		must(t, err)
		return len(l.Items)
	}
	// newMC adds a MachineConfig to the pool and waits until the MCO has
	// rendered it and started a build, so a watch follows that build.
	newMC := func(name string) {
		t.Helper()
		before := builds()
		mc := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{sim.LabelMCRole: "worker"}}}
		mc.Spec.Config.Raw = []byte(`{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/etc/` + name + `","contents":{"source":"data:,x"},"mode":420}]}}`)
		_, err := mcs.MachineConfigs().Create(ctx, mc, metav1.CreateOptions{})
		must(t, err)
		for deadline := time.Now().Add(time.Minute); builds() == before; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no MachineOSBuild for MachineConfig %s within a minute", name)
			}
		}
	}
	// statusCred is status -o json's pushCredential (a document, not a line).
	statusCred := func() *watch.PushCredential {
		t.Helper()
		out, errOut, _ := runMosc(t, "status", "--pool", "worker", "-o", "json")
		var st watch.Status
		if err := json.Unmarshal([]byte(out), &st); err != nil || st.PushCredential == nil {
			t.Fatalf("status -o json: no pushCredential (%v)\n%s\n%s", err, out, errOut)
		}
		if strings.Contains(out, "eyJ") { // a JWT's header: the token itself
			t.Fatalf("status -o json prints a token:\n%s", out)
		}
		return st.PushCredential
	}
	status := func(want ...string) {
		t.Helper()
		out, errOut, _ := runMosc(t, "status", "--pool", "worker")
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("status lacks %q:\n%s\n%s", w, out, errOut)
			}
		}
	}

	// Before: a minted 30-day token, which nothing renews, chosen in the
	// site file (the flag --push-credential token is used further down).
	site := filepath.Join(t.TempDir(), "mosc.yaml")
	must(t, os.WriteFile(site, []byte("apiVersion: mosc.dev/v1alpha1\nkind: Site\nmetadata:\n  name: lab\nspec:\n  pool: worker\n  secrets:\n    pushCredential: token\n"), 0o600))
	out, errOut, code := runMosc(t, "apply", "-f", site, "--wait", "--timeout", "90s")
	if code != 0 || !strings.Contains(errOut, "minted a token") {
		t.Fatalf("apply -f (spec.secrets.pushCredential: token): exit %d\n%s\n%s", code, out, errOut)
	}
	status("push credential: secret push-secret: the push token for "+internalHost+" expires in ", "nothing renews it")
	if pc := statusCred(); pc.Kind != "token" || pc.Verdict != "ok" || pc.Expiry == nil || pc.Secret != "push-secret" || pc.Registry != internalHost {
		t.Errorf("status -o json pushCredential for a minted token: %+v", pc)
	}
	must(t, s.Advance(ctx, 31*24*time.Hour))
	newMC("60-e2e-month-1")
	out, errOut, code = runMosc(t, "watch", "--pool", "worker", "--timeout", "90s")
	if code != 1 || !strings.Contains(out+errOut, "token expired at") {
		t.Fatalf("a build a month after a minted token: exit %d, want 1 (push refused)\n%s\n%s", code, out, errOut)
	}
	// mosc runs on the real clock, so its own verdict (EXPIRED, FAIL) is the
	// unit tests'; here status names the refused push.
	status("token expired at", "CAUSE   push-denied")

	// The fix: apply's default writes the token of a service-account token
	// Secret; the failed build is asked for again.
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--rebuild", "--timeout", "90s")
	if code != 0 || !strings.Contains(errOut, "push credential: the token of secret mosc-builder-token") {
		t.Fatalf("apply --rebuild: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("$ mosc apply --pool worker --site lab --rebuild --timeout 90s\n%s%s", errOut, out) // docs/apply.md
	if a := actions(t, out); a["secret/mosc-builder-token"] != "created" || a["secret/push-secret"] != "configured" {
		t.Errorf("apply: %v", a)
	}
	tok, err := secrets.Get(ctx, "mosc-builder-token", metav1.GetOptions{})
	must(t, err)
	if tok.Type != corev1.SecretTypeServiceAccountToken || tok.Annotations[corev1.ServiceAccountNameKey] != "builder" || tok.Labels["mosc.dev/site"] != "lab" {
		t.Errorf("token secret: type %s, annotations %v, labels %v", tok.Type, tok.Annotations, tok.Labels)
	}
	status("push credential: secret push-secret: a service-account token from secret mosc-builder-token; it does not expire")
	if pc := statusCred(); pc.Kind != "service-account-token" || pc.Verdict != "ok" || pc.Expiry != nil || pc.TokenSecret != "mosc-builder-token" {
		t.Errorf("status -o json pushCredential for the token Secret: %+v", pc)
	}

	// More than a year later, nobody having run mosc, a build still pushes.
	must(t, s.Advance(ctx, 400*24*time.Hour))
	newMC("60-e2e-month-14")
	out, errOut, code = runMosc(t, "watch", "--pool", "worker", "--timeout", "90s")
	if code != 0 || !strings.Contains(out, "done: 3/3 nodes of pool worker updated and verified") {
		t.Fatalf("a build 14 months later with the service-account token: exit %d\n%s\n%s", code, out, errOut)
	}
	// A second apply changes nothing and mints nothing.
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "lab")
	if code != 0 || strings.Contains(errOut, "minted") {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("$ mosc apply --pool worker --site lab\n%s%s", errOut, out) // docs/apply.md
	for ref, act := range actions(t, out) {
		if act != "unchanged" {
			t.Errorf("second apply: %s %s", ref, act)
		}
	}

	// Deleting the token Secret revokes the token for real (the API server
	// looks the Secret up): the next build fails, and status says why.
	must(t, secrets.Delete(ctx, "mosc-builder-token", metav1.DeleteOptions{}))
	// The API server caches a successful authentication for 10 s
	// (k8s.io/kubernetes pkg/kubeapiserver/options/authentication.go TokenSuccessCacheTTL): wait it out.
	deadline := time.Now().Add(time.Minute)
	for {
		tr, err := env.Clients.Kube.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: string(tok.Data[corev1.ServiceAccountTokenKey])}}, metav1.CreateOptions{})
		must(t, err)
		if !tr.Status.Authenticated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the API server still accepts the token of the deleted secret")
		}
		time.Sleep(time.Second)
	}
	status("which is gone", "(FAIL; fix: mosc apply")
	if pc := statusCred(); pc.Verdict != "fail" || !strings.HasPrefix(pc.Remedy, "mosc apply") {
		t.Errorf("status -o json pushCredential with its token Secret gone: %+v", pc)
	}
	newMC("60-e2e-revoked")
	out, errOut, code = runMosc(t, "watch", "--pool", "worker", "--timeout", "90s")
	if code != 1 || !strings.Contains(out+errOut, "token rejected") {
		t.Fatalf("a build after the token secret was deleted: exit %d, want 1\n%s\n%s", code, out, errOut)
	}

	// --push-credential token again: the unused token Secret goes (its
	// token is revoked), and `remove` takes whatever mosc made.
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "lab")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runMosc(t, "apply", "--pool", "worker", "--site", "lab", "--push-credential", "token")
	if code != 0 || !strings.Contains(errOut, "secret/mosc-builder-token: deleted (--push-credential token)") {
		t.Fatalf("apply --push-credential token: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := secrets.Get(ctx, "mosc-builder-token", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the unused token secret is still there: %v", err)
	}
}
