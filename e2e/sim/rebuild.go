package sim

// The rebuild annotation, as the MCO plays it (openshift/machine-config-operator,
// release-4.18 … release-4.22, pkg/controller/build/reconciler.go):
//   - updateMachineOSConfig: when a MachineOSConfig gains
//     machineconfiguration.openshift.io/rebuild, rebuildMachineOSConfig
//     deletes the MachineOSBuild named in its current-machine-os-build
//     annotation ("does not have current build annotation ... skipping
//     rebuild" when there is none) and creates the build for the current
//     spec again (same name, new UID);
//   - updateMachineOSConfigStatus removes the annotation ("Cleared rebuild
//     annotation"). The simulator removes it at once, one step earlier.
//
// release-4.16 and release-4.17 (v1alpha1, pkg/controller/build/
// build_controller.go) have no such annotation: the simulator ignores it
// there.

// honoursRebuild says whether the simulated release knows the rebuild
// annotation (4.18 on; an unknown version is taken as the newest).
func (s *Simulator) honoursRebuild() bool {
	m := s.minorVersion()
	return m == 0 || m >= 18
}
