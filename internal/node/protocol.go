// Package node checks OVS-DOCA on a node through a short-lived privileged pod
// pinned to it, and enables doca-init there when asked.
package node

// The check pod protocol, shared by mosc and the end-to-end simulator's node
// agent (which plays the node's answer on a test API server).
//
// mosc creates, per node, a Pod in CheckNamespace with:
//   - labels LabelRole=RoleNodeCheck and app.kubernetes.io/managed-by=mosc;
//   - annotation AnnotationAction = ActionVerify or ActionEnableDocaInit;
//   - spec.nodeName = the node, hostPID, hostNetwork, privileged container
//     ContainerName, restartPolicy Never, a toleration for every taint;
//   - a script run under `chroot /host` that writes its findings to
//     /dev/termination-log (terminationMessagePolicy File).
//
// The termination message is a sequence of sections; each starts with a line
//
//	--- mosc:<section> rc=<exit code> ---
//
// followed by that command's raw output, exactly as a real node prints it:
//   - SectionRPM:       `rpm -q <PackagesPresent...>` (one line per package:
//     "doca-openvswitch-3.3.0040-1.el9.x86_64" or "package X is not installed")
//   - SectionRPMAbsent: `rpm -qa '<glob>'` for each PackagesAbsent glob (lines of
//     installed NVRAs; empty when none is installed)
//   - SectionOVS:       `ovs-vsctl --format=json --columns=<OVSColumns> list Open_vSwitch`
//     (OVSDB JSON: {"data":[[...]],"headings":[...]}, maps as ["map",[[k,v]...]],
//     sets as ["set",[...]], one-element sets as the bare element)
//   - SectionEnable (ActionEnableDocaInit only, first): output of
//     `ovs-vsctl --no-wait set Open_vSwitch . other_config:doca-init=true &&
//     systemctl restart openvswitch`
//   - SectionClear (ActionClearOVS only, first): output of
//     `ovs-vsctl --no-wait remove Open_vSwitch . other_config $MOSC_CLEAR_KEYS`
//     and, when MOSC_RESTART=1, `systemctl restart openvswitch` (clear.go);
//     ActionClearOVS lists the stock columns (StockOVSColumns)
//   - SectionLDD:       `ldd <ovs-vswitchd>` reduced to fit the message: the
//     binary's path, every "lib => not found" line verbatim, then
//     "resolved N: DIR..." (how many libraries resolved, from which
//     directories). A real ldd lists ~100 libraries for OVS-DOCA, more than the
//     4096 bytes the kubelet keeps; on failure (no binary) the raw output.
//     Catalog issue 11 finding 2: /opt content that an update never places.
//
// ActionInspect (mosc verify) writes the same sections and these to the
// container's stdout (read back through pods/log: a flow dump does not fit a
// termination message), and only a SectionLog header to the termination log:
//   - SectionBridges: `ovs-vsctl --format=json --columns=name,datapath_type list Bridge`
//   - SectionDevlink: `devlink dev eswitch show pci/<PF>` for each mlx5_core PF
//     (devices with sriov_totalvfs), e.g.
//     "pci/0000:08:00.0: mode switchdev inline-mode none encap-mode basic"
//   - SectionDpctl:   `ovs-appctl dpctl/dump-flows -m`: every datapath flow,
//     offloaded ones marked "offloaded:yes" (dp:tc, dp:doca, ...)
//
// The pod exits 0 when every command ran (findings are judged by mosc, not by
// the script); the container's terminated state carries the message.
const (
	CheckNamespace       = "openshift-machine-config-operator"
	ContainerName        = "check"
	LabelRole            = "mosc.dev/role"
	RoleNodeCheck        = "node-check"
	AnnotationAction     = "mosc.dev/action"
	ActionVerify         = "verify"
	ActionEnableDocaInit = "enable-doca-init"
	ActionClearOVS       = "clear-ovs"
	// ActionInspect is mosc verify's deeper look (bridges, eswitch, flows).
	ActionInspect = "inspect"
	// RoleTraffic labels mosc verify's iperf3 server and client pods.
	RoleTraffic = "verify-traffic"

	SectionRPM       = "rpm"
	SectionRPMAbsent = "rpm-absent"
	SectionOVS       = "ovs"
	SectionEnable    = "enable"
	SectionClear     = "clear"
	SectionLDD       = "ldd"
	SectionBridges   = "bridges"
	SectionDevlink   = "devlink"
	SectionDpctl     = "dpctl"
	// SectionLog, alone in a termination message, says the sections are in
	// the container's log.
	SectionLog = "log"

	// OVSColumns keeps the message well under the kubelet's 4096-byte limit.
	OVSColumns = "ovs_version,doca_version,doca_initialized,dpdk_initialized,dpdk_version,datapath_types,iface_types,other_config"
	// StockOVSColumns are the columns stock Open vSwitch has (no doca_*:
	// asking for them fails the whole command there).
	StockOVSColumns = "ovs_version,dpdk_initialized,datapath_types,iface_types,other_config"
)
