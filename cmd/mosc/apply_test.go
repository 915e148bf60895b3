package main

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/urfave/cli/v2"
)

// deadKubeconfig points at a loopback port nobody listens on.
func deadKubeconfig(t *testing.T) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	server := "https://" + addr
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	data := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.WriteFile(kc, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc, server
}

func TestApplyRemoveUsageErrors(t *testing.T) {
	kc, server := deadKubeconfig(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad dry-run", []string{"apply", "--dry-run=maybe", "--kubeconfig", kc}, `--dry-run: "maybe" is not one of none, client, server`},
		{"bad registry timeout", []string{"apply", "--registry-timeout=0s", "--kubeconfig", kc}, "--registry-timeout"},
		{"bad push credential", []string{"apply", "--push-credential=rotated", "--kubeconfig", kc}, `--push-credential "rotated": want long-lived`},
		{"token-ttl with long-lived", []string{"apply", "--push-credential=long-lived", "--token-ttl=48h", "--kubeconfig", kc}, "--token-ttl applies to --push-credential token; the long-lived credential does not expire"},
		{"missing kubeconfig", []string{"apply", "--kubeconfig", filepath.Join(t.TempDir(), "nope")}, "cluster access"},
		{"unreachable", []string{"apply", "--kubeconfig", kc}, "cannot reach the API server at " + server},
		{"remove unreachable", []string{"remove", "--kubeconfig", kc}, "cannot reach the API server at " + server},
		{"remove bad dry-run", []string{"remove", "--dry-run=yes", "--kubeconfig", kc}, "--dry-run"},
		{"remove empty site", []string{"remove", "--site=", "--kubeconfig", kc}, "--site must not be empty"},
		{"apply argument", []string{"apply", "master", "--kubeconfig", kc}, `apply takes no arguments, got "master" (use --pool / -f)`},
		{"remove argument", []string{"remove", "worker", "--dry-run=client", "--kubeconfig", kc}, `remove takes no arguments, got "worker" (use --site / -f)`},
		{"empty kubeconfig", []string{"remove", "--kubeconfig", os.DevNull}, "no kubeconfig found and not running in a pod: pass --kubeconfig, set KUBECONFIG, or log in with `oc login`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tt.args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", code, errOut, exitError, tt.want)
			}
			if out != "" {
				t.Fatalf("stdout should be empty on error, got %q", out)
			}
		})
	}
}

func TestTokenTTL(t *testing.T) {
	plan := func(d time.Duration) *profile.Plan {
		return &profile.Plan{Secrets: profile.SecretsPlan{TokenTTLSeconds: int64(d / time.Second)}}
	}
	tests := []struct {
		name string
		args []string
		plan *profile.Plan
		want time.Duration
		err  string
	}{
		{name: "plan (profile default or site file)", plan: plan(365 * 24 * time.Hour), want: 365 * 24 * time.Hour},
		{name: "plan without a value", plan: plan(0), want: 30 * 24 * time.Hour},
		{name: "flag wins", args: []string{"--token-ttl=21600h"}, plan: plan(365 * 24 * time.Hour), want: 21600 * time.Hour},
		{name: "too short", args: []string{"--token-ttl=5m"}, plan: plan(0), err: "at least 10m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			f := &cli.DurationFlag{Name: "token-ttl", Value: 30 * 24 * time.Hour}
			if err := f.Apply(fs); err != nil {
				t.Fatal(err)
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			c := cli.NewContext(cli.NewApp(), fs, nil)
			got, err := tokenTTL(c, tt.plan)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("tokenTTL = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPushCredentialPrecedence(t *testing.T) {
	plan := func(cred string) *profile.Plan {
		return &profile.Plan{Secrets: profile.SecretsPlan{PushCredential: cred}}
	}
	tests := []struct {
		name string
		args []string
		plan *profile.Plan
		want string
	}{
		{name: "site file", plan: plan(profile.PushCredentialToken), want: cluster.PushCredentialToken},
		{name: "plan without a value", plan: plan(""), want: cluster.PushCredentialLongLived},
		{name: "flag beats site file", args: []string{"--push-credential=long-lived"}, plan: plan(profile.PushCredentialToken), want: cluster.PushCredentialLongLived},
		{name: "a lifetime implies a token", args: []string{"--token-ttl=48h"}, plan: plan(profile.PushCredentialLongLived), want: cluster.PushCredentialToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			for _, f := range []cli.Flag{
				&cli.StringFlag{Name: "push-credential", Value: cluster.PushCredentialLongLived},
				&cli.DurationFlag{Name: "token-ttl", Value: 30 * 24 * time.Hour},
			} {
				if err := f.Apply(fs); err != nil {
					t.Fatal(err)
				}
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if got := pushCredential(cli.NewContext(cli.NewApp(), fs, nil), tt.plan); got != tt.want {
				t.Errorf("pushCredential = %q, want %q", got, tt.want)
			}
		})
	}
}
