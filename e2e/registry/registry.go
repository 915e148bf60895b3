// Package registry runs a real OCI registry (go-containerregistry's
// pkg/registry) in-process on loopback, behind HTTP basic auth, so tests can
// prove that credentials mosc hands to the cluster really work.
package registry

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/authn"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// Server is a running registry. Every request needs the basic-auth user and
// password given to Start; without them it answers 401 with a Basic challenge,
// as a real registry does.
type Server struct {
	user, pass string
	ln         net.Listener
	srv        *http.Server
	unauth     atomic.Int64
	requests   atomic.Int64
	// public are repositories anonymous clients may pull from.
	mu     sync.Mutex
	public map[string]bool
}

// Start listens on a free 127.0.0.1 port. go-containerregistry talks plain
// HTTP to loopback registries, so no TLS is needed.
func Start(user, pass string) (*Server, error) {
	if user == "" || pass == "" {
		return nil, fmt.Errorf("registry: user and password are required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registry: listen: %w", err)
	}
	s := &Server{user: user, pass: pass, ln: ln}
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	s.srv = &http.Server{Handler: s.auth(inner)}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.isPublic(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(s.user)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(s.pass)) != 1 {
			s.unauth.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="mosc-e2e"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AllowAnonymousPull lets clients without credentials pull (GET, HEAD)
// from repository repo ("openshift-release-dev/ocp-release"), as quay.io
// serves the public release payloads while their component images
// (ocp-v4.0-art-dev) need the OpenShift pull secret. Everything else still
// needs the credentials. It returns a function that takes it back.
func (s *Server) AllowAnonymousPull(repo string) (undo func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.public == nil {
		s.public = map[string]bool{}
	}
	s.public[repo] = true
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.public, repo)
	}
}

// isPublic: path is /v2/<repo>/(manifests|blobs)/… of a public repository.
func (s *Server) isPublic(path string) bool {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for repo := range s.public {
		if tail, ok := strings.CutPrefix(rest, repo+"/"); ok && (strings.HasPrefix(tail, "manifests/") || strings.HasPrefix(tail, "blobs/")) {
			return true
		}
	}
	return false
}

// Host is "127.0.0.1:PORT", the registry part of an image reference.
func (s *Server) Host() string { return s.ln.Addr().String() }

// URL is "http://127.0.0.1:PORT".
func (s *Server) URL() string { return "http://" + s.Host() }

// User and Password are the credentials the registry accepts.
func (s *Server) User() string     { return s.user }
func (s *Server) Password() string { return s.pass }

// Authenticator returns the registry's credentials for go-containerregistry.
func (s *Server) Authenticator() authn.Authenticator {
	return &authn.Basic{Username: s.user, Password: s.pass}
}

// Auth is the dockerconfigjson "auth" value: base64(user:password).
func (s *Server) Auth() string {
	return base64.StdEncoding.EncodeToString([]byte(s.user + ":" + s.pass))
}

// DockerConfigJSON returns a kubernetes.io/dockerconfigjson payload with this
// registry's credentials.
func (s *Server) DockerConfigJSON() []byte {
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{
		s.Host(): map[string]string{"auth": s.Auth()},
	}})
	return b
}

// Unauthorized counts requests answered 401 (for assertions).
func (s *Server) Unauthorized() int64 { return s.unauth.Load() }

// Requests counts all requests.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Close stops the server.
func (s *Server) Close() { _ = s.srv.Close() }
