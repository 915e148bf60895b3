package kubelet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "k"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func get(t *testing.T, s *Server, path string) (*http.Response, error) {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test server
	return c.Get(fmt.Sprintf("https://127.0.0.1:%d%s", s.Port(), path))
}

func TestContainerLogsFollow(t *testing.T) {
	s, err := Start(selfSigned(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Append("ns", "p", "c", "one\n")
	resp, err := get(t, s, "/containerLogs/ns/p/c?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "one\n" {
		t.Fatalf("first read %q %v", buf, err)
	}
	// Content appended after the request arrives on the open stream.
	s.Append("ns", "p", "c", "two\n")
	s.CloseLog("ns", "p", "c")
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "two\n" {
		t.Fatalf("rest %q %v", rest, err)
	}
}

func TestContainerLogsQuery(t *testing.T) {
	s, err := Start(selfSigned(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Append("ns", "p", "c", "a\nb\nc\n")
	tests := []struct{ path, want string }{
		{"/containerLogs/ns/p/c", "a\nb\nc\n"},
		{"/containerLogs/ns/p/c?tailLines=2", "b\nc\n"},
		{"/containerLogs/ns/p/c?tailLines=0", ""},
		{"/containerLogs/ns/p/c?limitBytes=3", "a\nb"},
		{"/containerLogs/ns/p/other", ""},
	}
	for _, tc := range tests {
		resp, err := get(t, s, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.want {
			t.Errorf("%s = %q, want %q", tc.path, b, tc.want)
		}
	}
	resp, err := get(t, s, "/containerLogs/ns/p")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("short path: %s", resp.Status)
	}
}

func FuzzLastLines(f *testing.F) {
	f.Add([]byte("a\nb\n"), 1)
	f.Add([]byte("no newline"), 3)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1000 {
			return
		}
		out := lastLines(b, n)
		if len(out) > len(b)+n { // at most one added newline per line
			t.Fatalf("lastLines grew the input: %d > %d", len(out), len(b)+n)
		}
	})
}
