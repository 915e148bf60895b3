package node

import (
	"fmt"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/profile"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultImage runs the check script when neither --check-image nor the
// cluster's `openshift/tools` image stream is available. It is the image
// `oc debug node/…` falls back to; the script only needs sh and chroot, since
// every real command runs from the host under `chroot /host`.
const DefaultImage = "registry.redhat.io/rhel9/support-tools:latest"

// LabelNode is set on check pods to the node they check (names of nodes can be
// longer than a label value allows, so it is truncated; nodeName is exact).
const LabelNode = "mosc.dev/node"

// LabelRun is set on check pods to the id of the mosc run that made them.
const LabelRun = "mosc.dev/run"

// PodOptions say what pod to build.
type PodOptions struct {
	Node      string
	Action    string // ActionVerify or ActionEnableDocaInit
	Image     string
	Namespace string // default CheckNamespace
	Verify    profile.VerifyPlan
	// ClearKeys are the other_config keys ActionClearOVS removes, and
	// Restart restarts openvswitch after (clear.go).
	ClearKeys []string
	Restart   bool
}

// packageArg keeps package names and globs safe to pass to the script
// through the environment (they are never interpolated into shell text).
var packageArg = lazyre.New(`^[A-Za-z0-9._+*?\[\]-]+$`)

// Script is the check run by the pod. Commands run from the host
// (`chroot /host`) but the script stays in the container, because
// /dev/termination-log is the container's, not the host's. Package names come
// from the environment with globbing off, never from shell text.
const Script = `set -u
set -f
out=${MOSC_TERMINATION_LOG:-/dev/termination-log}
if [ "$MOSC_ACTION" = inspect ]; then
  # The flow dump does not fit a termination message: every section goes to
  # stdout (pods/log), the termination log only says so.
  printf -- '--- mosc:log rc=0 ---\n' >"$out"
  out=/dev/stdout
else
  : >"$out"
fi
tmp=$(mktemp)
raw=$(mktemp)
section() { printf -- '--- mosc:%s rc=%s ---\n' "$1" "$2" >>"$out"; cat "$tmp" >>"$out"; }
if [ "$MOSC_ACTION" = enable-doca-init ]; then
  chroot /host /bin/sh -c 'ovs-vsctl --no-wait set Open_vSwitch . other_config:doca-init=true && systemctl restart openvswitch' >"$tmp" 2>&1
  section enable $?
fi
if [ "$MOSC_ACTION" = clear-ovs ]; then
  chroot /host /bin/sh -c 'ovs-vsctl --no-wait remove Open_vSwitch . other_config $MOSC_CLEAR_KEYS && { [ "$MOSC_RESTART" != 1 ] || systemctl restart openvswitch; }' >"$tmp" 2>&1
  section clear $?
fi
chroot /host rpm -q $MOSC_PRESENT >"$tmp" 2>&1
section rpm $?
: >"$tmp"; rc=0
for g in $MOSC_ABSENT; do
  chroot /host rpm -qa "$g" >>"$tmp" 2>&1 || rc=$?
done
section rpm-absent $rc
chroot /host ovs-vsctl --format=json --columns="$MOSC_COLUMNS" list Open_vSwitch >"$tmp" 2>&1
section ovs $?
bin=$(chroot /host /bin/sh -c 'command -v ovs-vswitchd || echo /usr/sbin/ovs-vswitchd')
chroot /host ldd "$bin" >"$raw" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
  { echo "$bin"; grep -F '=> not found' "$raw"
    awk '$2 == "=>" && substr($3, 1, 1) == "/" { n++; d = $3; sub(/\/[^\/]*$/, "", d); if (!(d in seen)) { seen[d] = 1; dirs = dirs " " d } }
      END { printf "resolved %d:%s\n", n, dirs }' "$raw"; } >"$tmp"
else
  head -c 300 "$raw" >"$tmp"
fi
section ldd $rc
if [ "$MOSC_ACTION" = inspect ]; then
  chroot /host ovs-vsctl --format=json --columns=name,datapath_type list Bridge >"$tmp" 2>&1
  section bridges $?
  chroot /host /bin/sh -c 'for p in /sys/bus/pci/drivers/mlx5_core/0000:*; do [ -e "$p/sriov_totalvfs" ] || continue; devlink dev eswitch show "pci/${p##*/}" 2>&1; done' >"$tmp" 2>&1
  section devlink $?
  chroot /host ovs-appctl dpctl/dump-flows -m >"$tmp" 2>&1
  section dpctl $?
fi
rm -f "$tmp" "$raw"
exit 0
`

// BuildPod returns the check pod for one node.
func BuildPod(o PodOptions) (*corev1.Pod, error) {
	if o.Node == "" {
		return nil, fmt.Errorf("check pod: no node name")
	}
	if o.Action != ActionVerify && o.Action != ActionEnableDocaInit && o.Action != ActionInspect && o.Action != ActionClearOVS {
		return nil, fmt.Errorf("check pod: unknown action %q", o.Action)
	}
	columns, clearEnv, err := clearOptions(o)
	if err != nil {
		return nil, err
	}
	present := o.Verify.PackagesPresent
	if len(present) == 0 {
		return nil, fmt.Errorf("check pod: plan verify.packagesPresent is empty: nothing says what OVS-DOCA package to look for")
	}
	for _, p := range append(append([]string{}, present...), o.Verify.PackagesAbsent...) {
		if !packageArg.MatchString(p) {
			return nil, fmt.Errorf("check pod: plan verify package %q has characters outside [A-Za-z0-9._+*?[]-]", p)
		}
	}
	ns := o.Namespace
	if ns == "" {
		ns = CheckNamespace
	}
	img := o.Image
	if img == "" {
		img = DefaultImage
	}
	privileged := true
	var zero int64
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: podNamePrefix(o.Node),
			Namespace:    ns,
			Labels: map[string]string{
				LabelRole:                      RoleNodeCheck,
				"app.kubernetes.io/managed-by": "mosc",
				LabelNode:                      labelValue(o.Node),
			},
			Annotations: map[string]string{AnnotationAction: o.Action},
		},
		Spec: corev1.PodSpec{
			NodeName:                      o.Node,
			HostPID:                       true,
			HostNetwork:                   true,
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &zero,
			// Tolerate every taint so master/control-plane and cordoned nodes work.
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name:    ContainerName,
				Image:   img,
				Command: []string{"/bin/sh", "-c", Script},
				Env: append([]corev1.EnvVar{
					{Name: "MOSC_ACTION", Value: o.Action},
					{Name: "MOSC_PRESENT", Value: strings.Join(present, " ")},
					{Name: "MOSC_ABSENT", Value: strings.Join(o.Verify.PackagesAbsent, " ")},
					{Name: "MOSC_COLUMNS", Value: columns},
				}, clearEnv...),
				SecurityContext:          &corev1.SecurityContext{Privileged: &privileged, RunAsUser: &zero},
				TerminationMessagePath:   corev1.TerminationMessagePathDefault,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				VolumeMounts:             []corev1.VolumeMount{{Name: "host", MountPath: "/host"}},
			}},
			Volumes: []corev1.Volume{{
				Name:         "host",
				VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}},
			}},
		},
	}, nil
}

// podNamePrefix keeps generated names within 63 characters.
func podNamePrefix(node string) string {
	n := strings.ToLower(node)
	n = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, n)
	if len(n) > 40 {
		n = n[:40]
	}
	return "mosc-check-" + strings.Trim(n, "-") + "-"
}

func labelValue(s string) string {
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-_.")
}
