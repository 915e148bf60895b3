package gate

import (
	"context"

	"github.com/mosc-dev/mosc/internal/watch"

	"github.com/mosc-dev/mosc/internal/kube"
)

// explainLastBuild adds, to a last-build check that failed because the
// build Failed or was Interrupted, the cause mosc watch and status name
// (watch.ClassifyBuild: from the build log, else the build pods'
// termination messages) and its remedy (issue 13).
func explainLastBuild(ctx context.Context, kube kube.Interface, c Check, pool string) Check {
	if c.Status != Fail || c.Details == nil || kube == nil {
		return c
	}
	state, _ := c.Details["state"].(string)
	mosb, _ := c.Details["machineOSBuild"].(string)
	if (state != watch.BuildFailed && state != watch.BuildInterrupted) || mosb == "" {
		return c
	}
	cause := watch.ClassifyBuild(ctx, kube, watch.BuildStatus{MOSB: mosb, State: state, Message: c.Message}, pool)
	c.Message += "; " + cause.String()
	c.Remedy = cause.Remedy
	c.Details["cause"] = cause.ID
	if len(cause.Details) > 0 {
		c.Details["causeDetails"] = cause.Details
	}
	if len(cause.LogTail) > 0 {
		c.Details["logTail"] = cause.LogTail
	}
	return c
}
