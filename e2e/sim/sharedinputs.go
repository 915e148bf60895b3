package sim

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Build inputs one per cluster, mounted into the build of every
// MachineOSConfig whenever they exist (issue 10, finding 8):
// openshift/machine-config-operator, release-4.18 … release-4.22,
// pkg/controller/build/buildrequest/buildrequestopts.go looks up ConfigMap
// etc-yum-repos-d and Secret etc-pki-rpm-gpg by those fixed names in its
// namespace (getOptionalConfigMap/getOptionalSecret), and buildrequest.go
// mounts them into the build pod when found (HasEtcYumReposDConfigs,
// HasEtcPkiRpmGpgKeys) at the mount points of envvolumemount.go
// (optsForEtcYumReposD, optsForEtcRpmGpgKeys), with the env vars
// buildah-build.sh reads.
const (
	EtcYumReposDName = "etc-yum-repos-d"
	EtcPkiRpmGpgName = "etc-pki-rpm-gpg"
)

// mountSharedInputs adds the shared inputs that exist now to a build pod.
func (s *Simulator) mountSharedInputs(ctx context.Context, spec *corev1.PodSpec) error {
	mode := int32(0o755) // envvolumemount.go mountMode
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	var envs []corev1.EnvVar
	if _, err := s.c.Kube.CoreV1().ConfigMaps(MCONamespace).Get(ctx, EtcYumReposDName, metav1.GetOptions{}); err == nil {
		vols = append(vols, corev1.Volume{Name: EtcYumReposDName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: EtcYumReposDName}, DefaultMode: &mode}}})
		mounts = append(mounts, corev1.VolumeMount{Name: EtcYumReposDName, MountPath: "/etc/yum.repos.d"})
		envs = append(envs, corev1.EnvVar{Name: "ETC_YUM_REPOS_D_MOUNTPOINT", Value: "/etc/yum.repos.d"})
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	if _, err := s.c.Kube.CoreV1().Secrets(MCONamespace).Get(ctx, EtcPkiRpmGpgName, metav1.GetOptions{}); err == nil {
		vols = append(vols, corev1.Volume{Name: EtcPkiRpmGpgName, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: EtcPkiRpmGpgName, DefaultMode: &mode}}})
		mounts = append(mounts, corev1.VolumeMount{Name: EtcPkiRpmGpgName, MountPath: "/etc/pki/rpm-gpg"})
		envs = append(envs, corev1.EnvVar{Name: "ETC_PKI_RPM_GPG_MOUNTPOINT", Value: "/etc/pki/rpm-gpg"})
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	spec.Volumes = append(spec.Volumes, vols...)
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if cs[i].Name == containerImageBuild {
				cs[i].VolumeMounts = append(cs[i].VolumeMounts, mounts...)
				cs[i].Env = append(cs[i].Env, envs...)
			}
		}
	}
	return nil
}
