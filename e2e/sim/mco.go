package sim

import (
	"crypto/md5" //nolint:gosec // a name hash, as the MCO uses, not security
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

// Names the Machine Config Operator uses (FACTS.md §1).
const (
	MCONamespace = "openshift-machine-config-operator"

	AnnotationCurrentConfig = "machineconfiguration.openshift.io/currentConfig"
	AnnotationDesiredConfig = "machineconfiguration.openshift.io/desiredConfig"
	AnnotationState         = "machineconfiguration.openshift.io/state"
	AnnotationReason        = "machineconfiguration.openshift.io/reason"
	AnnotationCurrentImage  = "machineconfiguration.openshift.io/currentImage"
	AnnotationDesiredImage  = "machineconfiguration.openshift.io/desiredImage"

	StateDone      = "Done"
	StateWorking   = "Working"
	StateRebooting = "Rebooting"
	StateDegraded  = "Degraded"

	AnnotationCurrentMOSB = "machineconfiguration.openshift.io/current-machine-os-build"
	AnnotationRebuild     = "machineconfiguration.openshift.io/rebuild"
	// AnnotationReleaseImageVersion is the release a rendered config was
	// rendered by (ctrlcommon.ReleaseImageVersionAnnotationKey).
	AnnotationReleaseImageVersion = "machineconfiguration.openshift.io/release-image-version"

	LabelTargetPool      = "machineconfiguration.openshift.io/target-machine-config-pool"
	LabelRenderedConfig  = "machineconfiguration.openshift.io/rendered-machine-config"
	LabelMachineOSConfig = "machineconfiguration.openshift.io/machine-os-config"
	LabelMachineOSBuild  = "machineconfiguration.openshift.io/machine-os-build"
	LabelMCRole          = "machineconfiguration.openshift.io/role"
	LabelOnClusterBuild  = "machineconfiguration.openshift.io/on-cluster-layering"

	// Simulator bookkeeping kept on the Node so it survives restarts.
	AnnotationSimDocaInit = "sim.mosc.dev/doca-init"   // "true" once other_config:doca-init=true is set
	AnnotationSimOS       = "sim.mosc.dev/os-packages" // "layered-doca" while the node runs an image with OVS-DOCA
	LabelSeed             = "sim.mosc.dev/seed"        // objects the harness seeds (kept by Reset)
)

// RenderedConfigName is the MCO's rendered MachineConfig name for a pool: a
// hash over the pool's source MachineConfigs, so adding or changing one gives
// the pool a new configuration (and a layered pool a new build). osImages
// are the release's OS images the rendered config carries: as the MCO's
// hash covers the whole rendered config, a new release renders anew
// (upgrade.go).
func RenderedConfigName(pool string, sources []*mcfgv1.MachineConfig, osImages ...string) string {
	sorted := append([]*mcfgv1.MachineConfig(nil), sources...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	h := md5.New() //nolint:gosec
	fmt.Fprint(h, pool)
	for _, mc := range sorted {
		// Like the MCO, the name depends on content, not on object identity.
		spec, _ := json.Marshal(mc.Spec)
		fmt.Fprintf(h, "|%s|%s", mc.Name, spec)
	}
	for _, img := range osImages {
		fmt.Fprintf(h, "|os|%s", img)
	}
	return "rendered-" + pool + "-" + hex.EncodeToString(h.Sum(nil))
}

// SourceConfigs picks the MachineConfigs a pool renders from: those matching
// the pool's machineConfigSelector, except rendered ones.
func SourceConfigs(pool *mcfgv1.MachineConfigPool, all []*mcfgv1.MachineConfig) []*mcfgv1.MachineConfig {
	var out []*mcfgv1.MachineConfig
	for _, mc := range all {
		if strings.HasPrefix(mc.Name, "rendered-") || mc.DeletionTimestamp != nil {
			continue
		}
		if selectorMatches(pool.Spec.MachineConfigSelector, mc.Labels) {
			out = append(out, mc)
		}
	}
	return out
}
