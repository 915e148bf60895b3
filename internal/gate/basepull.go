package gate

import (
	"context"
	"fmt"
	"strings"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IDBasePull: the credentials the layered build pulls its base images with
// can read the target's rhel-coreos and rhel-coreos-extensions.
const IDBasePull = "base-pull-secret"

// The cluster pull secret: without spec.baseImagePullSecret the MCO's build
// uses its copy of it, which the MCO keeps in sync (machine-config-operator,
// release-4.20, pkg/controller/build/buildrequest/buildrequestopts.go:
// "falling back to global pull secret"), so the original is read here.
const (
	ClusterPullSecretNamespace = "openshift-config"
	ClusterPullSecretName      = "pull-secret"
)

// BasePullProbe is one target image read with the build's credentials.
type BasePullProbe struct {
	Tag, Image string
	Err        error
	// From is where the image answered; Mirror when a mirror did.
	From   string
	Mirror bool
}

// CheckBasePull: every probe succeeded. secret names where the credentials
// came from; secretErr is the error reading them.
func CheckBasePull(secret string, secretErr error, probes []BasePullProbe) Check {
	c := Check{ID: IDBasePull, Details: map[string]any{"secret": secret}}
	if secretErr != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("the build's base image pull secret %s: %v", secret, secretErr)
		c.Remedy = "the MCO cannot pull the new base image without it: recreate it from the cluster pull secret (oc get secret -n openshift-config pull-secret) or remove spec.baseImagePullSecret from the MachineOSConfig so the MCO uses the cluster pull secret"
		return c
	}
	var ok, bad, mirrored []string
	var det []map[string]any
	for _, p := range probes {
		d := map[string]any{"tag": p.Tag, "image": p.Image, "readable": p.Err == nil}
		det = append(det, d)
		if p.Err != nil {
			bad = append(bad, fmt.Sprintf("%s %s: %v", p.Tag, p.Image, p.Err))
			continue
		}
		d["from"] = p.From
		if p.Mirror {
			mirrored = append(mirrored, fmt.Sprintf("%s from mirror %s", p.Tag, repoOf(p.From)))
		}
		ok = append(ok, p.Tag)
	}
	c.Details["images"] = det
	switch {
	case len(bad) > 0:
		c.Status = Fail
		c.Message = fmt.Sprintf("with %s the layered build cannot pull the target's base images, so the upgrade's rebuild fails and the pool stays on the old image:\n%s", secret, strings.Join(bad, "\n"))
		c.Remedy = fmt.Sprintf("refresh %s from the cluster pull secret (a copy does not follow its rotation), or remove spec.baseImagePullSecret so the MCO uses openshift-config/pull-secret", secret)
	default:
		c.Status = Pass
		c.Message = fmt.Sprintf("%s can read the target's %s", secret, strings.Join(ok, " and "))
		if len(mirrored) > 0 {
			c.Message += " (" + strings.Join(mirrored, ", ") + ")"
		}
	}
	return c
}

// basePullCheck reads the MachineOSConfig's baseImagePullSecret (else the
// cluster pull secret) and asks the registry for the payload's rhel-coreos
// and rhel-coreos-extensions with it.
func basePullCheck(ctx context.Context, o Options, p *release.Payload) Check {
	if p == nil {
		return Check{ID: IDBasePull, Status: Skip, Message: "the target payload was not read (see " + IDReleasePayload + ")"}
	}
	kube := o.Cluster.Kube.CoreV1()
	ns, name := ClusterPullSecretNamespace, ClusterPullSecretName
	if o.Current.MOSC.Name != "" {
		m, err := o.Cluster.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Get(ctx, o.Current.MOSC.Name, metav1.GetOptions{})
		switch {
		case err == nil && m.Spec.BaseImagePullSecret != nil && m.Spec.BaseImagePullSecret.Name != "":
			ns, name = profile.MCONamespace, m.Spec.BaseImagePullSecret.Name
		case err != nil && !apierrors.IsNotFound(err) && !strings.Contains(err.Error(), "the server could not find the requested resource"):
			return Check{ID: IDBasePull, Status: Fail, Message: fmt.Sprintf("MachineOSConfig %s: %v", o.Current.MOSC.Name, err), Remedy: "check cluster access (get machineosconfigs)"}
		}
	}
	secret := ns + "/" + name
	s, err := kube.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return CheckBasePull(secret, err, nil)
	}
	b := s.Data[corev1.DockerConfigJsonKey]
	if len(b) == 0 {
		b = s.Data[corev1.DockerConfigKey]
	}
	if len(b) == 0 {
		return CheckBasePull(secret, fmt.Errorf("no %s", corev1.DockerConfigJsonKey), nil)
	}
	if _, err := release.ParseKeychain(b); err != nil {
		return CheckBasePull(secret, err, nil)
	}
	ro := release.Options{DockerConfigJSON: b, RPMArch: o.Current.Platform.RPMArch, Transport: o.Release.Transport, Mirrors: o.Mirrors, Network: o.Network}
	var probes []BasePullProbe
	osImg, ext, _ := p.Stream(PayloadStream(p, o.PoolStream))
	for _, co := range []release.CoreOS{osImg, ext} {
		if co.Image == "" {
			continue
		}
		ans, err := release.CanRead(ctx, co.Image, ro)
		probes = append(probes, BasePullProbe{Tag: co.Tag, Image: co.Image, Err: err, From: ans.From, Mirror: ans.Mirror})
	}
	c := CheckBasePull(secret, nil, probes)
	mirrorDetails(o, &c)
	return c
}
