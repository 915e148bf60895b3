package registry

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// StartTLS is Start serving HTTPS with cert: a registry that clients must
// reach by a name the certificate holds, with its CA trusted — as a
// disconnected cluster's mirror registry with a private CA.
func StartTLS(user, pass string, cert tls.Certificate) (*Server, error) {
	if user == "" || pass == "" {
		return nil, fmt.Errorf("registry: user and password are required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registry: listen: %w", err)
	}
	s := &Server{user: user, pass: pass, ln: ln}
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	s.srv = &http.Server{Handler: s.auth(untagOnDelete(inner)), ErrorLog: log.New(io.Discard, "", 0)}
	go func() {
		_ = s.srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}()
	return s, nil
}
