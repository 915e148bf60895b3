package main

import (
	"context"
	"strings"
	"time"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/profile"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pushCredentialLine is status's word on the secret the MachineOSConfig
// pushes with: whether anything renews it, and when it stops working (every
// upgrade builds, so an expired one stalls the pool). "" when the pool has
// no MachineOSConfig. Judged as gate's push-token check does.
func pushCredentialLine(ctx context.Context, clients *cluster.Clients, plan *profile.Plan, now time.Time) string {
	name := plan.MOSC.Name
	if name == "" {
		name = plan.Pool
	}
	m, err := clients.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(ctx, name, metav1.GetOptions{})
	if err != nil || m.Spec.RenderedImagePushSecret.Name == "" {
		return ""
	}
	pc, err := cluster.PushCredentialOf(ctx, clients.Kube, m.Spec.RenderedImagePushSecret.Name)
	if err != nil {
		return "push credential: " + err.Error()
	}
	level, text, remedy := pc.Verdict(now, gate.DefaultMinTokenDays)
	line := "push credential: " + text
	if level != "ok" {
		line += " (" + strings.ToUpper(level) + "; fix: " + remedy + ")"
	}
	return line
}
