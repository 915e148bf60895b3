package cluster

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const internalHost = "image-registry.openshift-image-registry.svc:5000"

func TestPushHost(t *testing.T) {
	tests := []struct {
		spec, host, err string
	}{
		{spec: internalHost + "/openshift-machine-config-operator/os-image:latest", host: internalHost},
		{spec: "quay.io/acme/os-image:4.20", host: "quay.io"},
		{spec: "registry.local:5000/os:v1", host: "registry.local:5000"},
		{spec: "", err: "empty"},
		{spec: "quay.io/acme/os-image", err: "tag"},
		{spec: "os-image:latest", err: "registry"},
		{spec: "quay.io/Acme/os-image:latest", err: "push spec"},
		{spec: "quay.io/acme/os image:latest", err: "push spec"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			host, err := PushHost(tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("PushHost(%q) = %q, %v; want error containing %q", tt.spec, host, err, tt.err)
				}
				return
			}
			if err != nil || host != tt.host {
				t.Fatalf("PushHost(%q) = %q, %v; want %q", tt.spec, host, err, tt.host)
			}
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParsePushAuth(t *testing.T) {
	const secret = "s3cr3t-value"
	tests := []struct {
		name, doc, host, err string
	}{
		{name: "auth", doc: `{"auths":{"quay.io":{"auth":"` + b64("robot:"+secret) + `"}}}`, host: "quay.io"},
		{name: "user and password", doc: `{"auths":{"quay.io":{"username":"robot","password":"` + secret + `"}}}`, host: "quay.io"},
		{name: "normalised key", doc: `{"auths":{"https://quay.io/v1/":{"auth":"` + b64("robot:"+secret) + `"}}}`, host: "quay.io"},
		{name: "other host only", doc: `{"auths":{"docker.io":{"auth":"` + b64("robot:"+secret) + `"}}}`, host: "quay.io", err: `no auth for the push registry "quay.io" (auths has "docker.io")`},
		{name: "empty auths", doc: `{"auths":{}}`, host: "quay.io", err: "no entries"},
		{name: "no auths", doc: `{"credsStore":"desktop"}`, host: "quay.io", err: `no "auths"`},
		{name: "not json", doc: `auths: {}`, host: "quay.io", err: "not a dockerconfigjson"},
		{name: "null", doc: `null`, host: "quay.io", err: "not a dockerconfigjson"},
		{name: "auths not object", doc: `{"auths":[]}`, host: "quay.io", err: `"auths"`},
		{name: "bad base64", doc: `{"auths":{"quay.io":{"auth":"%%` + secret + `"}}}`, host: "quay.io", err: "not valid base64"},
		{name: "no colon", doc: `{"auths":{"quay.io":{"auth":"` + b64(secret) + `"}}}`, host: "quay.io", err: "user:password"},
		{name: "no credentials", doc: `{"auths":{"quay.io":{"email":"a@b"}}}`, host: "quay.io", err: `no "auth"`},
		{name: "entry not object", doc: `{"auths":{"quay.io":"x"}}`, host: "quay.io", err: "not an auth object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePushAuth([]byte(tt.doc), tt.host)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v; want it to contain %q", err, tt.err)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), b64("robot:"+secret)) {
					t.Fatalf("error leaks the credential: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var out map[string]map[string]json.RawMessage
			if err := json.Unmarshal(p.DockerConfigJSON(), &out); err != nil {
				t.Fatal(err)
			}
			if _, ok := out["auths"][tt.host]; !ok || len(out["auths"]) != 1 {
				t.Fatalf("push secret auths = %s; want exactly %q", p.DockerConfigJSON(), tt.host)
			}
		})
	}
}

func TestReadPushAuthFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "push.json")
	if err := os.WriteFile(good, []byte(`{"auths":{"quay.io":{"auth":"`+b64("u:p")+`"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p, warns, err := ReadPushAuthFile("--push-auth", good, "quay.io")
	if err != nil || p.Host != "quay.io" {
		t.Fatalf("ReadPushAuthFile = %v, %v", p, err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "0600") {
		t.Fatalf("warnings = %q; want one about mode 0644", warns)
	}
	_, _, err = ReadPushAuthFile("--push-auth", good, "registry.example.com")
	if err == nil || !strings.Contains(err.Error(), good) || !strings.Contains(err.Error(), "registry.example.com") {
		t.Fatalf("err = %v; want it to name the file and the host", err)
	}
	_, _, err = ReadPushAuthFile("--push-auth", filepath.Join(dir, "missing.json"), "quay.io")
	if err == nil || !strings.Contains(err.Error(), "--push-auth") {
		t.Fatalf("err = %v; want it to name the flag", err)
	}
}

// randAuthEntry makes an auth entry with arbitrary formatting, so the test
// sees whether the merge keeps it byte for byte.
func randAuthEntry(r *rand.Rand) string {
	ws := []string{"", " ", "\n  ", "\t"}
	w := func() string { return ws[r.IntN(len(ws))] }
	user := fmt.Sprintf("user%d", r.IntN(1000))
	e := fmt.Sprintf(`{%s"auth"%s:%s%q`, w(), w(), w(), b64(user+":"+fmt.Sprint(r.Uint64())))
	if r.IntN(2) == 0 {
		e += fmt.Sprintf(`,%s"email":%q`, w(), user+"@example.com")
	}
	if r.IntN(3) == 0 {
		e += `,"identitytoken":"` + strings.Repeat("x", r.IntN(50)) + `"`
	}
	return e + w() + "}"
}

func randHost(r *rand.Rand) string {
	hosts := []string{"quay.io", "registry.redhat.io", "registry.connect.redhat.com", "cloud.openshift.com", "docker.io", internalHost}
	if r.IntN(3) == 0 {
		return hosts[r.IntN(len(hosts))]
	}
	h := fmt.Sprintf("r%d.example.com", r.IntN(100000))
	switch r.IntN(4) {
	case 0:
		h += fmt.Sprintf(":%d", 1+r.IntN(65535))
	case 1:
		h = "https://" + h + "/v1/"
	case 2:
		h = "münchen-" + h // keys are arbitrary strings
	}
	return h
}

// TestMergePullSecretProperty: for many generated pull secrets, every auth
// of the original survives byte for byte, the push auth is added, and
// nothing else appears.
func TestMergePullSecretProperty(t *testing.T) {
	for seed := uint64(0); seed < 500; seed++ {
		r := rand.New(rand.NewPCG(seed, 42))
		orig := map[string]string{}
		n := r.IntN(40)
		for range n {
			orig[randHost(r)] = randAuthEntry(r)
		}
		var doc strings.Builder
		doc.WriteString(`{"auths":{`)
		first := true
		for k, v := range orig {
			if !first {
				doc.WriteString(",\n")
			}
			first = false
			kb, _ := json.Marshal(k)
			doc.Write(kb)
			doc.WriteString(": ")
			doc.WriteString(v)
		}
		doc.WriteString("}")
		if r.IntN(5) == 0 {
			doc.WriteString(`, "credHelpers": {"x.io": "helper"}`)
		}
		doc.WriteString("}")

		pushHost := randHost(r)
		if r.IntN(4) == 0 && len(orig) > 0 {
			for k := range orig {
				pushHost = k
				break
			}
		}
		push := TokenPushAuth(pushHost, "header.payload.signature")
		merged, clash, err := MergePullSecret([]byte(doc.String()), push)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var got struct {
			Auths map[string]json.RawMessage `json:"auths"`
		}
		if err := json.Unmarshal(merged, &got); err != nil {
			t.Fatalf("seed %d: merged is not JSON: %v\n%s", seed, err, merged)
		}
		_, hadHost := orig[pushHost]
		if (clash != "") != hadHost {
			t.Fatalf("seed %d: clash = %q, host present before = %v", seed, clash, hadHost)
		}
		for k, v := range orig {
			if k == pushHost {
				continue
			}
			if !bytes.Equal(got.Auths[k], []byte(v)) {
				t.Fatalf("seed %d: auth %q changed:\n was %s\n now %s", seed, k, v, got.Auths[k])
			}
		}
		if !bytes.Equal(got.Auths[pushHost], push.entry) {
			t.Fatalf("seed %d: push auth for %q = %s", seed, pushHost, got.Auths[pushHost])
		}
		want := len(orig)
		if !hadHost {
			want++
		}
		if len(got.Auths) != want {
			t.Fatalf("seed %d: %d auths, want %d", seed, len(got.Auths), want)
		}
		if strings.Contains(doc.String(), "credHelpers") && !bytes.Contains(merged, []byte(`"credHelpers":{"x.io": "helper"}`)) {
			t.Fatalf("seed %d: other top-level keys lost: %s", seed, merged)
		}
		// Deterministic: the same input merges to the same bytes.
		again, _, _ := MergePullSecret([]byte(doc.String()), push)
		if !bytes.Equal(again, merged) {
			t.Fatalf("seed %d: merge is not deterministic", seed)
		}
	}
}

func TestMergePullSecretRejectsBadPullSecret(t *testing.T) {
	_, _, err := MergePullSecret([]byte(`{"auths":`), TokenPushAuth("quay.io", "t"))
	if err == nil || !strings.Contains(err.Error(), "openshift-config/pull-secret") {
		t.Fatalf("err = %v; want it to name openshift-config/pull-secret", err)
	}
}

func TestExistingPushToken(t *testing.T) {
	mk := func(doc string) *corev1.Secret {
		return &corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(doc)}}
	}
	tok, ok := existingPushToken(dockerSecret("push-secret", "lab", TokenPushAuth(internalHost, "a.b.c").DockerConfigJSON()), internalHost)
	if !ok || tok != "a.b.c" {
		t.Fatalf("own token = %q, %v", tok, ok)
	}
	for name, s := range map[string]*corev1.Secret{
		"nil":        nil,
		"other host": mk(`{"auths":{"quay.io":{"auth":"` + b64("builder:a.b.c") + `"}}}`),
		"other user": mk(`{"auths":{"` + internalHost + `":{"auth":"` + b64("robot:a.b.c") + `"}}}`),
		"garbage":    mk(`{`),
		"opaque":     {Type: corev1.SecretTypeOpaque},
	} {
		if tok, ok := existingPushToken(s, internalHost); ok {
			t.Errorf("%s: got token %q; want none", name, tok)
		}
	}
}

func FuzzParsePushAuth(f *testing.F) {
	f.Add([]byte(`{"auths":{"quay.io":{"auth":"dTpw"}}}`), "quay.io")
	f.Add([]byte(`{"auths":{"https://quay.io/v1/":{"username":"u","password":"p"}}}`), "quay.io")
	f.Add([]byte(`{"auths":null}`), "x")
	f.Fuzz(func(t *testing.T, data []byte, host string) {
		p, err := ParsePushAuth(data, host)
		if err != nil {
			return
		}
		// Whatever was accepted must merge into a valid document that keeps it.
		merged, _, err := MergePullSecret([]byte(`{"auths":{}}`), p)
		if err != nil {
			t.Fatalf("merging an accepted auth: %v", err)
		}
		if !json.Valid(merged) {
			t.Fatalf("merged is not JSON: %s", merged)
		}
	})
}
