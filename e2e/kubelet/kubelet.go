// Package kubelet plays the one part of a kubelet the API server needs for
// `pods/log`: a TLS server answering /containerLogs/<ns>/<pod>/<container>,
// with follow. Log content comes from whoever plays the workload (the MCO
// simulator's build pods).
package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the fake kubelet. The API server reaches it through a Node whose
// InternalIP is 127.0.0.1 and whose status.daemonEndpoints.kubeletEndpoint.Port
// is Port().
type Server struct {
	ln  net.Listener
	srv *http.Server

	mu   sync.Mutex
	logs map[string]*stream
}

type stream struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	closed  bool
	changed chan struct{} // closed and replaced on every append/close
}

// Start serves on a free 127.0.0.1 port with the given certificate (which the
// API server verifies against --kubelet-certificate-authority).
func Start(cert tls.Certificate) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake kubelet: listen: %w", err)
	}
	s := &Server{ln: ln, logs: map[string]*stream{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/containerLogs/", s.containerLogs)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	s.srv = &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = s.srv.ServeTLS(ln, "", "") }()
	return s, nil
}

// Port is the kubelet port to put in Node status.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server and ends every follower.
func (s *Server) Close() {
	s.mu.Lock()
	for _, st := range s.logs {
		st.close()
	}
	s.mu.Unlock()
	_ = s.srv.Close()
}

func key(ns, pod, container string) string { return ns + "/" + pod + "/" + container }

func (s *Server) get(ns, pod, container string, create bool) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(ns, pod, container)
	st := s.logs[k]
	if st == nil && create {
		st = &stream{changed: make(chan struct{})}
		s.logs[k] = st
	}
	return st
}

// Append adds log text (usually whole lines ending in "\n") to a container's log.
func (s *Server) Append(ns, pod, container, text string) {
	st := s.get(ns, pod, container, true)
	st.mu.Lock()
	st.buf.WriteString(text)
	ch := st.changed
	st.changed = make(chan struct{})
	st.mu.Unlock()
	close(ch)
}

// CloseLog marks the container as terminated: followers get EOF.
func (s *Server) CloseLog(ns, pod, container string) {
	s.get(ns, pod, container, true).close()
}

// Forget drops a container's log (its pod was deleted).
func (s *Server) Forget(ns, pod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.logs {
		if strings.HasPrefix(k, ns+"/"+pod+"/") {
			st.close()
			delete(s.logs, k)
		}
	}
}

func (st *stream) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.closed = true
	close(st.changed)
	st.changed = make(chan struct{})
}

// snapshot returns the content from offset, whether the log is closed, and
// a channel closed on the next change.
func (st *stream) snapshot(off int) ([]byte, bool, <-chan struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buf.Bytes()
	var out []byte
	if off < len(b) {
		out = append([]byte(nil), b[off:]...)
	}
	return out, st.closed, st.changed
}

// containerLogs implements GET /containerLogs/{ns}/{pod}/{container} with the
// query parameters the API server forwards: follow, tailLines, limitBytes.
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		http.Error(w, "path must be /containerLogs/<namespace>/<pod>/<container>", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	follow, _ := strconv.ParseBool(q.Get("follow"))
	tail := -1
	if v := q.Get("tailLines"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			tail = n
		}
	}
	limit := int64(-1)
	if v := q.Get("limitBytes"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			limit = n
		}
	}
	st := s.get(parts[0], parts[1], parts[2], follow)
	w.Header().Set("Content-Type", "text/plain")
	if st == nil { // a container that has printed nothing
		w.WriteHeader(http.StatusOK)
		return
	}
	flusher, _ := w.(http.Flusher)
	written := int64(0)
	emit := func(b []byte) bool {
		if limit >= 0 && written+int64(len(b)) > limit {
			b = b[:limit-written]
		}
		n, err := w.Write(b)
		written += int64(n)
		if flusher != nil {
			flusher.Flush()
		}
		return err == nil && (limit < 0 || written < limit)
	}
	data, closed, changed := st.snapshot(0)
	off := len(data)
	if tail >= 0 {
		data = lastLines(data, tail)
	}
	if len(data) > 0 && !emit(data) {
		return
	}
	if !follow {
		return
	}
	ctx := r.Context()
	for !closed {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(30 * time.Second): // keep idle proxies honest
		}
		data, closed, changed = st.snapshot(off)
		off += len(data)
		if len(data) > 0 && !emit(data) {
			return
		}
	}
}

func lastLines(b []byte, n int) []byte {
	if n == 0 {
		return nil
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, append(append([]byte(nil), sc.Bytes()...), '\n'))
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, nil)
}

// WaitReady waits until the server answers (it starts asynchronously).
func (s *Server) WaitReady(ctx context.Context) error {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // probing our own loopback server
	for {
		resp, err := c.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", s.Port()))
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fake kubelet not ready: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
