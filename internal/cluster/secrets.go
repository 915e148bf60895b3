package cluster

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/mosc-dev/mosc/internal/profile"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Cluster pull secret and the names MCO reads (FACTS.md §1, §4).
const (
	PullSecretNamespace = "openshift-config"
	PullSecretName      = "pull-secret"
	BuilderSA           = "builder"
)

// PushHost returns the registry host (host[:port]) of a renderedImagePushSpec.
// The spec must name its registry and carry a tag, as the MOSC CRD demands:
// a malformed spec is an error here, before anything is written.
func PushHost(pushSpec string) (string, error) {
	if pushSpec == "" {
		return "", errors.New("push spec is empty")
	}
	tag, err := name.NewTag(pushSpec, name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("push spec %q: %w (want host[:port]/path/name:tag)", pushSpec, err)
	}
	host := tag.RegistryStr()
	// StrictValidation still accepts "os-image:latest" as a repository on the
	// default registry; a push spec must name its registry explicitly.
	if !strings.HasPrefix(pushSpec, host+"/") {
		return "", fmt.Errorf("push spec %q: no registry host (want host[:port]/path/name:tag)", pushSpec)
	}
	return host, nil
}

// dockerConfig is a .dockerconfigjson document whose auth entries are kept as
// raw bytes, so a merge never rewrites an entry it does not own.
type dockerConfig struct {
	auths map[string]json.RawMessage
	// other top-level keys (rare in pull secrets), kept verbatim.
	other map[string]json.RawMessage
}

func parseDockerConfig(data []byte) (*dockerConfig, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a dockerconfigjson document: %w", err)
	}
	if top == nil {
		return nil, errors.New(`not a dockerconfigjson document: want an object with "auths"`)
	}
	dc := &dockerConfig{auths: map[string]json.RawMessage{}, other: map[string]json.RawMessage{}}
	for k, v := range top {
		if k != "auths" {
			dc.other[k] = v
			continue
		}
		if err := json.Unmarshal(v, &dc.auths); err != nil {
			return nil, fmt.Errorf(`"auths": want an object of registry entries: %w`, err)
		}
		if dc.auths == nil {
			dc.auths = map[string]json.RawMessage{}
		}
	}
	if _, ok := top["auths"]; !ok {
		return nil, errors.New(`not a dockerconfigjson document: no "auths" object`)
	}
	return dc, nil
}

// bytes writes the document with keys sorted and every raw entry unchanged.
func (d *dockerConfig) bytes() []byte {
	var b bytes.Buffer
	writeObj := func(m map[string]json.RawMessage, first bool) bool {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !first {
				b.WriteByte(',')
			}
			first = false
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			b.Write(m[k])
		}
		return first
	}
	b.WriteString(`{"auths":{`)
	writeObj(d.auths, true)
	b.WriteByte('}')
	writeObj(d.other, false)
	b.WriteByte('}')
	return b.Bytes()
}

// hostOf normalises a dockerconfig key ("https://quay.io/v1/", "quay.io/ns")
// to its host[:port], the way container tools match them.
func hostOf(key string) string {
	k := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	if i := strings.IndexByte(k, '/'); i >= 0 {
		k = k[:i]
	}
	return k
}

// authEntry is the part of an auth entry mosc reads.
type authEntry struct {
	Auth     string `json:"auth"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// credentials returns user and password of an entry, from "auth" or the
// username/password pair. The error never contains the values.
func (e authEntry) credentials() (string, string, error) {
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return "", "", errors.New(`"auth" is not valid base64`)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok || user == "" || pass == "" {
			return "", "", errors.New(`"auth" does not decode to user:password`)
		}
		return user, pass, nil
	}
	if e.Username != "" && e.Password != "" {
		return e.Username, e.Password, nil
	}
	return "", "", errors.New(`no "auth" and no "username"/"password"`)
}

// PushAuth is the credential mosc writes into the push secret.
type PushAuth struct {
	Host string
	// entry is the raw auth entry (JSON object) for Host.
	entry json.RawMessage
}

// DockerConfigJSON is the push secret's .dockerconfigjson.
func (p *PushAuth) DockerConfigJSON() []byte {
	return (&dockerConfig{auths: map[string]json.RawMessage{p.Host: p.entry}}).bytes()
}

// TokenPushAuth wraps a builder token as `oc create secret docker-registry`
// does: auth = base64("builder:" + token).
func TokenPushAuth(host, token string) *PushAuth {
	e, _ := json.Marshal(map[string]string{
		"auth":     base64.StdEncoding.EncodeToString([]byte(BuilderSA + ":" + token)),
		"username": BuilderSA,
		"password": token,
	})
	return &PushAuth{Host: host, entry: e}
}

// ReadPushAuthFile reads an external registry's push credentials: a
// dockerconfigjson file that must hold a usable auth for host. Only that
// entry is used. source says where the path came from ("--push-auth",
// "mosc.yaml: spec.secrets.pushAuthFile"). Errors name it, the file and the
// host, never a credential.
func ReadPushAuthFile(source, path, host string) (*PushAuth, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", source, err)
	}
	var warnings []string
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		warnings = append(warnings, fmt.Sprintf("%s %s: file is readable by others (mode %v); credentials files should be 0600", source, path, fi.Mode().Perm()))
	}
	p, err := ParsePushAuth(data, host)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", source, path, err)
	}
	return p, warnings, nil
}

// ParsePushAuth picks host's entry out of a dockerconfigjson document.
func ParsePushAuth(data []byte, host string) (*PushAuth, error) {
	dc, err := parseDockerConfig(data)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(dc.auths))
	for k := range dc.auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// An exact key wins over a normalised match ("https://host/v1/").
	pick := ""
	for _, k := range keys {
		if k == host {
			pick = k
			break
		}
		if pick == "" && hostOf(k) == host {
			pick = k
		}
	}
	if pick == "" {
		return nil, fmt.Errorf("no auth for the push registry %q (auths has %s)", host, quoteList(keys))
	}
	var e authEntry
	if err := json.Unmarshal(dc.auths[pick], &e); err != nil {
		return nil, fmt.Errorf("auths[%q]: not an auth object", pick)
	}
	if _, _, err := e.credentials(); err != nil {
		return nil, fmt.Errorf("auths[%q]: %v", pick, err)
	}
	return &PushAuth{Host: host, entry: dc.auths[pick]}, nil
}

func quoteList(keys []string) string {
	if len(keys) == 0 {
		return "no entries"
	}
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ")
}

// MergePullSecret returns pull + push: every auth of the cluster pull secret
// kept byte for byte, and the push auth added. On a host clash the push auth
// replaces that one entry (it must, or pushes fail); clash names it.
func MergePullSecret(pull []byte, push *PushAuth) (merged []byte, clash string, err error) {
	dc, err := parseDockerConfig(pull)
	if err != nil {
		return nil, "", fmt.Errorf("%s/%s: %w", PullSecretNamespace, PullSecretName, err)
	}
	for k := range dc.auths {
		if k == push.Host {
			clash = k
		}
	}
	dc.auths[push.Host] = push.entry
	return dc.bytes(), clash, nil
}

// existingPushToken returns the password of the push secret's auth for host,
// when that auth is the builder's (the token mosc minted last time).
func existingPushToken(secret *corev1.Secret, host string) (string, bool) {
	if secret == nil || secret.Type != corev1.SecretTypeDockerConfigJson {
		return "", false
	}
	dc, err := parseDockerConfig(secret.Data[corev1.DockerConfigJsonKey])
	if err != nil {
		return "", false
	}
	raw, ok := dc.auths[host]
	if !ok {
		return "", false
	}
	var e authEntry
	if json.Unmarshal(raw, &e) != nil {
		return "", false
	}
	user, pass, err := e.credentials()
	if err != nil || user != BuilderSA {
		return "", false
	}
	return pass, true
}

// dockerSecret builds a labelled kubernetes.io/dockerconfigjson Secret in the
// MCO namespace.
func dockerSecret(name, site string, data []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: profile.MCONamespace,
			Labels:    Labels(site),
		},
		Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: data},
	}
}

// Labels are the labels mosc puts on everything it creates.
func Labels(site string) map[string]string {
	return map[string]string{profile.LabelManagedBy: profile.LabelManagedByValue, profile.LabelSite: site}
}
