package registry

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestBasicAuth(t *testing.T) {
	if _, err := Start("", "x"); err == nil {
		t.Fatal("Start without a user succeeded")
	}
	s, err := Start("u", "p")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name       string
		user, pass string
		set        bool
		want       int
	}{
		{"anonymous", "", "", false, http.StatusUnauthorized},
		{"wrong password", "u", "x", true, http.StatusUnauthorized},
		{"wrong user", "x", "p", true, http.StatusUnauthorized},
		{"right", "u", "p", true, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2/", nil)
			if tc.set {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without a Basic challenge")
			}
		})
	}
	var cfg struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(s.DockerConfigJSON(), &cfg); err != nil || cfg.Auths[s.Host()].Auth != "dTpw" {
		t.Errorf("DockerConfigJSON = %s (%v)", s.DockerConfigJSON(), err)
	}
}

// A public repository answers anonymous pulls; pushes to it and pulls from
// any other repository still need the credentials.
func TestAllowAnonymousPull(t *testing.T) {
	s, err := Start("u", "p")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	undo := s.AllowAnonymousPull("openshift-release-dev/ocp-release")
	do := func(method, path string) int {
		req, _ := http.NewRequest(method, s.URL()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/v2/openshift-release-dev/ocp-release/manifests/4.21.11-x86_64", http.StatusNotFound}, // reached the registry
		{http.MethodHead, "/v2/openshift-release-dev/ocp-release/manifests/4.21.11-x86_64", http.StatusNotFound},
		{http.MethodGet, "/v2/openshift-release-dev/ocp-v4.0-art-dev/manifests/sha256:00", http.StatusUnauthorized},
		{http.MethodGet, "/v2/openshift-release-dev/ocp-release-other/manifests/x", http.StatusUnauthorized},
		{http.MethodPost, "/v2/openshift-release-dev/ocp-release/blobs/uploads/", http.StatusUnauthorized},
		{http.MethodGet, "/v2/", http.StatusUnauthorized},
	} {
		if got := do(tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, got, tc.want)
		}
	}
	undo()
	if got := do(http.MethodGet, "/v2/openshift-release-dev/ocp-release/manifests/4.21.11-x86_64"); got != http.StatusUnauthorized {
		t.Errorf("after undo: %d", got)
	}
}
