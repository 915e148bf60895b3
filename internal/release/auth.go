package release

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain resolves credentials from a dockerconfigjson document (a pull
// secret), as oc --registry-config and podman do: keys are registry hosts,
// optionally with a repository path ("quay.io/openshift-release-dev"); the
// longest key that prefixes the repository wins.
type Keychain struct {
	entries map[string]authn.AuthConfig
}

// LoadKeychain reads a dockerconfigjson (or legacy dockercfg) file. Errors
// never include the file's content: it holds credentials.
func LoadKeychain(file string) (*Keychain, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--registry-config: %w", err)
	}
	k, err := ParseKeychain(b)
	if err != nil {
		return nil, fmt.Errorf("--registry-config %s: %w", file, err)
	}
	return k, nil
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// ParseKeychain decodes {"auths":{host:{auth:base64(user:pass)}}} or the
// legacy dockercfg form {host:{auth:...}}.
func ParseKeychain(b []byte) (*Keychain, error) {
	var doc struct {
		Auths map[string]dockerAuth `json:"auths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		// Do not wrap the decoder's error: it may quote the input.
		return nil, fmt.Errorf("not a valid dockerconfigjson document")
	}
	auths := doc.Auths
	if auths == nil {
		var legacy map[string]dockerAuth
		if err := json.Unmarshal(b, &legacy); err != nil {
			return nil, fmt.Errorf("not a valid dockerconfigjson document")
		}
		auths = legacy
	}
	k := &Keychain{entries: map[string]authn.AuthConfig{}}
	for key, a := range auths {
		cfg := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("auths[%q].auth: not base64", key)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("auths[%q].auth: not user:password", key)
			}
			cfg.Username, cfg.Password = user, pass
		}
		k.entries[normalizeKey(key)] = cfg
	}
	return k, nil
}

// normalizeKey strips the scheme and trailing slash; docker.io's legacy
// index URL maps to index.docker.io, as ggcr names it.
func normalizeKey(k string) string {
	k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
	k = strings.TrimSuffix(k, "/")
	k = strings.TrimSuffix(k, "/v1")
	k = strings.TrimSuffix(k, "/v2")
	if k == "docker.io" || k == "registry-1.docker.io" {
		k = "index.docker.io"
	}
	return k
}

// Resolve implements authn.Keychain.
func (k *Keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	target := r.String() // registry/repository for a repository resource
	best, bestLen := authn.AuthConfig{}, -1
	for key, cfg := range k.entries {
		if (target == key || strings.HasPrefix(target, key+"/")) && len(key) > bestLen {
			best, bestLen = cfg, len(key)
		}
	}
	if bestLen < 0 {
		if cfg, ok := k.entries[r.RegistryStr()]; ok {
			return authn.FromConfig(cfg), nil
		}
		return authn.Anonymous, nil
	}
	return authn.FromConfig(best), nil
}
