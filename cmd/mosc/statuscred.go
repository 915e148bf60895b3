package main

import (
	"context"
	"strings"
	"time"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/watch"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

// pushCredentialStatus is status's word on the secret the MachineOSConfig
// pushes with: whether anything renews it, and when it stops working (every
// upgrade builds, so an expired one stalls the pool). nil when the pool has
// no MachineOSConfig. Judged as gate's push-token check does. m is the
// MachineOSConfig status already read (v1, or v1alpha1 converted).
func pushCredentialStatus(ctx context.Context, clients *cluster.Clients, m *mcfgv1.MachineOSConfig, now time.Time) *watch.PushCredential {
	if m == nil || m.Spec.RenderedImagePushSecret.Name == "" {
		return nil
	}
	pc, err := cluster.PushCredentialOf(ctx, clients.Kube, m.Spec.RenderedImagePushSecret.Name)
	if err != nil {
		return &watch.PushCredential{Secret: m.Spec.RenderedImagePushSecret.Name, Verdict: "error", Message: err.Error()}
	}
	level, text, remedy := pc.Verdict(now, gate.DefaultMinTokenDays)
	st := &watch.PushCredential{Secret: pc.Secret, Kind: pc.Kind, Registry: pc.Registry, TokenSecret: pc.TokenSecret, Verdict: level, Message: text, Remedy: remedy}
	if !pc.Expiry.IsZero() {
		exp := pc.Expiry.UTC()
		st.Expiry = &exp
	}
	return st
}

// pushCredentialLine is the table's last line for pushCredentialStatus.
func pushCredentialLine(pc *watch.PushCredential) string {
	if pc == nil {
		return ""
	}
	line := "push credential: " + pc.Message
	if pc.Verdict == "warn" || pc.Verdict == "fail" {
		line += " (" + strings.ToUpper(pc.Verdict) + "; fix: " + pc.Remedy + ")"
	}
	return line
}
