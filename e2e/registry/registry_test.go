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
