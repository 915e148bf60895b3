package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unreachableKubeconfig points at a port nothing listens on.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWatchAndStatusFlags(t *testing.T) {
	kc := unreachableKubeconfig(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad output", []string{"watch", "--pool", "worker", "-o", "yaml"}, exitError, `--output "yaml": want live, plain or json`},
		{"negative timeout", []string{"watch", "--pool", "worker", "--timeout", "-1s"}, exitError, "--timeout and --stall-warning must not be negative"},
		{"zero check timeout", []string{"watch", "--pool", "worker", "--check-timeout", "0s"}, exitError, "--check-timeout must be positive"},
		{"no parallel checks", []string{"watch", "--pool", "worker", "--check-parallel", "0"}, exitError, "--check-parallel 0: must be at least 1"},
		{"unreachable cluster", []string{"watch", "--pool", "worker", "-o", "plain"}, exitError, "machineconfigpool worker"},
		{"status bad output", []string{"status", "--pool", "worker", "-o", "yaml"}, exitError, `--output "yaml": want table or json`},
		{"status unreachable", []string{"status", "--pool", "worker"}, exitError, "listing machineconfigpools"},
		{"bad site file", []string{"watch", "-f", "/nonexistent/mosc.yaml"}, exitError, "/nonexistent/mosc.yaml"},
		// "mosc status worker" reads like "the worker pool": refuse rather than ignore it.
		{"watch argument", []string{"watch", "worker"}, exitError, `watch takes no arguments, got "worker" (name the pool with --pool)`},
		{"status argument", []string{"status", "worker"}, exitError, `status takes no arguments, got "worker" (name the pool with --pool)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append(tt.args, "--kubeconfig", kc)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d (want %d); stderr %q lacks %q", code, tt.code, errOut, tt.want)
			}
			if out != "" && tt.name != "unreachable cluster" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}
