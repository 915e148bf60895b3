package gate

import (
	"context"
	"time"

	"github.com/mosc-dev/mosc/internal/cluster"
	"github.com/mosc-dev/mosc/internal/profile"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CheckPushCredential (check id push-token) judges the secret the live
// MachineOSConfig pushes with (the plan's name before there is one). Every
// upgrade builds, so this is the credential the upgrade's build pushes with:
//   - mosc's service-account token (apply's default): passes while its token
//     Secret exists (it does not expire), fails once that is gone;
//   - a token with an expiry (--push-credential token): fails once expired or
//     when it would expire before a build started now pushes, warns within
//     --min-token-days, and otherwise passes saying nothing renews it;
//   - the builder's image pull secret (builder-dockercfg-*, the MCO
//     quickstart's): warns, since its one-hour token is copied when a build
//     starts (docs/decisions.md "Push credentials");
//   - credentials without a readable expiry (an external registry): passes,
//     saying the expiry is unknown.
func CheckPushCredential(ctx context.Context, cl *Cluster, plan *profile.Plan, now time.Time, minDays int) Check {
	name := plan.MOSC.PushSecretName
	moscName := plan.MOSC.Name
	if moscName == "" {
		moscName = plan.Pool
	}
	if m, err := cl.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(ctx, moscName, metav1.GetOptions{}); err == nil && m.Spec.RenderedImagePushSecret.Name != "" {
		name = m.Spec.RenderedImagePushSecret.Name
	}
	pc, err := cluster.PushCredentialOf(ctx, cl.Kube, name)
	return pushCredentialCheck(pc, err, now, minDays)
}

// pushCredentialCheck turns an assessed push credential into the check.
func pushCredentialCheck(pc cluster.PushCredential, err error, now time.Time, minDays int) Check {
	c := Check{ID: IDPushToken}
	if err != nil {
		c.Status, c.Message = Fail, err.Error()
		c.Remedy = "mosc apply writes the push secret"
		return c
	}
	level, text, remedy := pc.Verdict(now, minDays)
	c.Message, c.Remedy = text, remedy
	c.Details = map[string]any{"secret": pc.Secret, "kind": pc.Kind, "minTokenDays": minDays}
	if pc.TokenSecret != "" {
		c.Details["tokenSecret"] = pc.TokenSecret
	}
	if pc.Binding != "" {
		c.Details["binding"] = pc.Binding
	}
	if !pc.Expiry.IsZero() {
		c.Details["expires"] = pc.Expiry.UTC().Format(time.RFC3339)
		c.Details["registry"] = pc.Registry
		c.Details["daysLeft"] = int(pc.Expiry.Sub(now).Hours() / 24)
	}
	switch level {
	case "ok":
		c.Status = Pass
	case "warn":
		c.Status = Warn
	default:
		c.Status = Fail
	}
	return c
}
