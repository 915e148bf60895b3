package gate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IDClusterUpgradeable: the cluster-version operator will accept the
// upgrade (ClusterVersion conditions, feature set, admin-acks, every
// MachineConfigPool, the target among the offered updates).
const IDClusterUpgradeable = "cluster-upgradeable"

// Where the cluster-version operator keeps the admin gates and their acks
// (cluster-version-operator, release-4.20, pkg/internal/constants.go).
const (
	AdminGatesNamespace = "openshift-config-managed"
	AdminGatesConfigMap = "admin-gates"
	AdminAcksNamespace  = "openshift-config"
	AdminAcksConfigMap  = "admin-acks"
)

// adminAckGate is the CVO's adminAckGateFmt ("^ack-[4-5][.]([0-9]{1,})-[^-]",
// pkg/cvo/upgradeable.go): a gate applies while the cluster runs that minor.
var adminAckGate = lazyre.New(`^ack-([4-5])[.]([0-9]{1,})-[^-]`)

// UpgradeState is what the cluster says about upgrading, read once per run.
type UpgradeState struct {
	ClusterVersion *configv1.ClusterVersion
	CVErr          error
	// FeatureSet is FeatureGate cluster's spec.featureSet ("" = Default).
	FeatureSet     configv1.FeatureSet
	FeatureGateErr error
	// AdminGates and AdminAcks are nil when the ConfigMap does not exist.
	AdminGates, AdminAcks *corev1.ConfigMap
	AdminErr              error
	// Pools are all MachineConfigPools: MCO's Upgradeable covers every one.
	Pools    []mcfgv1.MachineConfigPool
	PoolsErr error
}

// Offer is the target as ClusterVersion offers it.
type Offer struct {
	Version string
	// Image is the payload pull spec by digest (quay.io/…/ocp-release@sha256:…).
	Image string
	// Conditional: from conditionalUpdates (with Risks); Recommended is its
	// Recommended condition.
	Conditional bool
	Recommended bool
	Reason      string
	Message     string
	Risks       []configv1.ConditionalUpdateRisk
}

// ResolveTarget finds the target in ClusterVersion's availableUpdates, then
// conditionalUpdates. A minor target ("4.21") takes the newest offered
// patch of that minor, preferring recommended updates.
func ResolveTarget(cv *configv1.ClusterVersion, target string) (Offer, bool) {
	if cv == nil {
		return Offer{}, false
	}
	minorOnly := strings.Count(target, ".") == 1
	var offers []Offer
	for _, r := range cv.Status.AvailableUpdates {
		offers = append(offers, Offer{Version: r.Version, Image: r.Image, Recommended: true})
	}
	for _, u := range cv.Status.ConditionalUpdates {
		o := Offer{Version: u.Release.Version, Image: u.Release.Image, Conditional: true, Risks: u.Risks}
		if c := findCondition(u.Conditions, "Recommended"); c != nil {
			o.Recommended = c.Status == metav1.ConditionTrue
			o.Reason, o.Message = c.Reason, c.Message
		}
		offers = append(offers, o)
	}
	var best *Offer
	for i := range offers {
		o := &offers[i]
		match := o.Version == target
		if minorOnly {
			match = minorOf(o.Version) == target
		}
		if !match {
			continue
		}
		if best == nil || better(*o, *best) {
			best = o
		}
	}
	if best == nil {
		return Offer{}, false
	}
	return *best, true
}

// better: recommended first, then the higher patch level.
func better(a, b Offer) bool {
	if a.Recommended != b.Recommended {
		return a.Recommended
	}
	if a.Conditional != b.Conditional {
		return !a.Conditional
	}
	return patchOf(a.Version) > patchOf(b.Version)
}

func minorOf(v string) string {
	p := strings.SplitN(v, ".", 3)
	if len(p) < 2 {
		return v
	}
	return p[0] + "." + p[1]
}

func patchOf(v string) int {
	p := strings.SplitN(v, ".", 3)
	if len(p) < 3 {
		return -1
	}
	n, _ := strconv.Atoi(strings.FieldsFunc(p[2], func(r rune) bool { return r == '-' || r == '+' })[0])
	return n
}

func findCondition(cs []metav1.Condition, t string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

func cvCondition(cv *configv1.ClusterVersion, t configv1.ClusterStatusConditionType) *configv1.ClusterOperatorStatusCondition {
	for i := range cv.Status.Conditions {
		if cv.Status.Conditions[i].Type == t {
			return &cv.Status.Conditions[i]
		}
	}
	return nil
}

// CurrentVersion is the version the cluster runs: the newest Completed
// entry of the history, as the CVO's GetCurrentVersion reads it
// (pkg/payload/precondition/clusterversion/upgradeable.go), else desired.
func CurrentVersion(cv *configv1.ClusterVersion) string {
	for _, h := range cv.Status.History {
		if h.State == configv1.CompletedUpdate {
			return h.Version
		}
	}
	return cv.Status.Desired.Version
}

// noUpgradeSets are the feature sets openshift/api (config/v1/types_feature.go)
// says "CANNOT BE UNDONE and PREVENTS UPGRADES"; its CEL rules refuse to
// change them back.
func noUpgradeSet(fs configv1.FeatureSet) bool {
	switch fs {
	case configv1.TechPreviewNoUpgrade, configv1.DevPreviewNoUpgrade, configv1.CustomNoUpgrade:
		return true
	}
	return false
}

// CheckClusterUpgradeable predicts whether the cluster-version operator
// accepts the upgrade from current to target. Minor upgrades are refused
// while ClusterVersion Upgradeable=False (the CVO's ClusterVersionUpgradeable
// precondition, pkg/payload/precondition/clusterversion/upgradeable.go;
// patch updates within the minor are allowed), which the MCO sets for any
// Degraded or BuildInterrupted pool (machine-config-operator,
// pkg/operator/status.go syncUpgradeableStatus) and the CVO for missing
// admin-acks (pkg/cvo/upgradeable.go). A target not offered in
// availableUpdates or conditionalUpdates is refused by the
// RecommendedUpdate precondition unless forced.
func CheckClusterUpgradeable(target string, st UpgradeState) Check {
	c := Check{ID: IDClusterUpgradeable}
	if st.CVErr != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("reading clusterversion/version: %v", st.CVErr)
		c.Remedy = "check cluster access (get clusterversions, featuregates, machineconfigpools; configmaps in openshift-config and openshift-config-managed)"
		return c
	}
	cv := st.ClusterVersion
	current := CurrentVersion(cv)
	offer, found := ResolveTarget(cv, target)
	if found {
		target = offer.Version // "4.21" names the offered 4.21.z from here on
	}
	minor := minorOf(target) != minorOf(current)
	details := map[string]any{"current": current, "channel": cv.Spec.Channel, "minorUpgrade": minor, "featureSet": string(st.FeatureSet)}
	c.Details = details

	var fails, warns, notes, remedies []string
	block := func(msg, remedy string) {
		if minor {
			fails = append(fails, msg)
		} else {
			warns = append(warns, msg+" (blocks minor upgrades only)")
		}
		if remedy != "" {
			remedies = append(remedies, remedy)
		}
	}
	// Feature set: never undone, never upgraded past.
	switch {
	case st.FeatureGateErr != nil:
		warns = append(warns, fmt.Sprintf("FeatureGate cluster: %v: the feature set is not known", st.FeatureGateErr))
		remedies = append(remedies, "allow get featuregates.config.openshift.io (cluster)")
	case noUpgradeSet(st.FeatureSet):
		msg := fmt.Sprintf("FeatureGate cluster has featureSet %s, which can never be unset and blocks minor upgrades for good", st.FeatureSet)
		if st.FeatureSet == configv1.TechPreviewNoUpgrade {
			msg += " (On-Cluster Layering on 4.16/4.17 needs it); removing the layer does not lift it"
		}
		block(msg, fmt.Sprintf("this cluster stays on OpenShift %s (patch updates only): to run a later release, install a new cluster at 4.18.20+ (On-Cluster Layering GA, no feature set) and move the workloads", minorOf(current)))
	}

	// Every pool: the MCO reports Upgradeable=False for any of them.
	if st.PoolsErr != nil {
		warns = append(warns, fmt.Sprintf("listing MachineConfigPools: %v", st.PoolsErr))
		remedies = append(remedies, "allow list machineconfigpools")
	}
	var paused []string
	for _, p := range st.Pools {
		switch {
		case poolCondTrue(&p, string(mcfgv1.MachineConfigPoolDegraded)):
			block(fmt.Sprintf("pool %s is Degraded: the Machine Config Operator reports Upgradeable=False (DegradedPool)", p.Name),
				fmt.Sprintf("fix pool %s first (oc describe mcp %s; mosc status --pool %s)", p.Name, p.Name, p.Name))
		case poolCondTrue(&p, "BuildInterrupted"):
			block(fmt.Sprintf("pool %s has an interrupted image build: the Machine Config Operator reports Upgradeable=False (InterruptedBuild)", p.Name),
				fmt.Sprintf("build pool %s's image again: mosc rebuild --pool %s (the MCO's machineconfiguration.openshift.io/rebuild annotation on its MachineOSConfig)", p.Name, p.Name))
		}
		if p.Spec.Paused {
			paused = append(paused, p.Name)
		}
	}
	if len(paused) > 0 {
		details["pausedPools"] = paused
		notes = append(notes, fmt.Sprintf("paused pool(s) %s take no new config or image until unpaused (see %s)", strings.Join(paused, ", "), IDPoolHealth))
	}

	// ClusterVersion conditions.
	if u := cvCondition(cv, configv1.OperatorUpgradeable); u != nil && u.Status == configv1.ConditionFalse {
		details["upgradeable"] = map[string]string{"reason": u.Reason, "message": u.Message}
		block(fmt.Sprintf("ClusterVersion Upgradeable=False (%s): %s", u.Reason, oneLine(u.Message)),
			"resolve what the message names (oc adm upgrade; oc get clusteroperators shows which operator sets Upgradeable=False)")
	}
	if f := cvCondition(cv, "Failing"); f != nil && f.Status == configv1.ConditionTrue {
		fails = append(fails, fmt.Sprintf("ClusterVersion Failing=True (%s): %s", f.Reason, oneLine(f.Message)))
		remedies = append(remedies, "fix what the cluster-version operator reports (oc adm upgrade; oc get clusteroperators)")
	}
	if p := cvCondition(cv, configv1.OperatorProgressing); p != nil && p.Status == configv1.ConditionTrue {
		fails = append(fails, fmt.Sprintf("an update is in progress (Progressing=True): %s", oneLine(p.Message)))
		remedies = append(remedies, "let the running update finish (oc adm upgrade; mosc watch) and gate again")
	}
	if a := cvCondition(cv, "ReleaseAccepted"); a != nil && a.Status == configv1.ConditionFalse {
		fails = append(fails, fmt.Sprintf("ClusterVersion ReleaseAccepted=False (%s): %s", a.Reason, oneLine(a.Message)))
		remedies = append(remedies, "the desired payload was refused (verification or preconditions): oc adm upgrade shows why; retarget to an offered update")
	}

	// Admin acks (only gates for the current minor apply).
	if st.AdminErr != nil {
		warns = append(warns, fmt.Sprintf("admin-acks: %v", st.AdminErr))
		remedies = append(remedies, "allow get configmaps admin-gates (openshift-config-managed) and admin-acks (openshift-config)")
	} else if st.AdminGates != nil {
		var missing, keys []string
		for k := range st.AdminGates.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m := adminAckGate.FindStringSubmatch(k)
			if m == nil || m[1]+"."+m[2] != minorOf(current) {
				continue
			}
			if st.AdminAcks != nil && st.AdminAcks.Data[k] == "true" {
				continue
			}
			missing = append(missing, k)
			block(fmt.Sprintf("admin-ack %s is not given: %s", k, oneLine(st.AdminGates.Data[k])),
				fmt.Sprintf(`oc -n %s patch configmap %s --type=merge --patch '{"data":{"%s":"true"}}' (after reading what it acknowledges)`, AdminAcksNamespace, AdminAcksConfigMap, k))
		}
		if len(missing) > 0 {
			details["missingAdminAcks"] = missing
		}
	}

	// Is the target offered?
	retrieved := cvCondition(cv, configv1.RetrievedUpdates)
	switch {
	case found && !offer.Conditional:
		details["offer"] = offerDetails(offer)
		notes = append(notes, fmt.Sprintf("%s is a recommended update (availableUpdates, channel %s): %s", offer.Version, orNone(cv.Spec.Channel), offer.Image))
	case found && offer.Recommended:
		details["offer"] = offerDetails(offer)
		notes = append(notes, fmt.Sprintf("%s is a conditional update whose risks do not apply to this cluster (Recommended=True): %s", offer.Version, offer.Image))
	case found:
		details["offer"] = offerDetails(offer)
		var risks []string
		for _, r := range offer.Risks {
			risks = append(risks, fmt.Sprintf("%s: %s (%s)", r.Name, oneLine(r.Message), r.URL))
		}
		warns = append(warns, fmt.Sprintf("%s is a conditional update, not recommended for this cluster (%s): %s", offer.Version, orNone(offer.Reason), strings.Join(risks, "; ")))
		remedies = append(remedies, fmt.Sprintf("read the risks; if they do not apply: oc adm upgrade --to %s --allow-not-recommended", offer.Version))
	case retrieved == nil || retrieved.Status != configv1.ConditionTrue:
		why := "no RetrievedUpdates condition"
		if retrieved != nil {
			why = fmt.Sprintf("RetrievedUpdates=%s, %s: %s", retrieved.Status, retrieved.Reason, oneLine(retrieved.Message))
		}
		warns = append(warns, fmt.Sprintf("the cluster has no update recommendations (%s): whether %s is offered is not known", why, target))
		remedies = append(remedies, fmt.Sprintf("set a channel that offers %s (oc adm upgrade channel stable-%s) or an update service (disconnected: OpenShift Update Service); without one the upgrade is oc adm upgrade --to-image <payload digest> --allow-explicit-upgrade", target, minorOf(target)))
	default:
		var offered []string
		for _, r := range cv.Status.AvailableUpdates {
			offered = append(offered, r.Version)
		}
		for _, u := range cv.Status.ConditionalUpdates {
			offered = append(offered, u.Release.Version+" (conditional)")
		}
		sort.Strings(offered)
		fails = append(fails, fmt.Sprintf("%s is not offered to this cluster in channel %s (offered: %s): the cluster-version operator refuses it", target, orNone(cv.Spec.Channel), orNone(strings.Join(offered, ", "))))
		remedies = append(remedies, fmt.Sprintf("switch to a channel that offers it (oc adm upgrade channel stable-%s) and gate again; oc adm upgrade lists what is offered", minorOf(target)))
	}

	switch {
	case len(fails) > 0:
		c.Status = Fail
		c.Message = fmt.Sprintf("the cluster-version operator would refuse %s → %s:\n%s", current, target, strings.Join(append(fails, warns...), "\n"))
	case len(warns) > 0:
		c.Status = Warn
		c.Message = fmt.Sprintf("%s → %s may proceed, with warnings:\n%s", current, target, strings.Join(warns, "\n"))
	default:
		c.Status = Pass
		kind := "patch update"
		if minor {
			kind = "minor upgrade"
		}
		c.Message = fmt.Sprintf("%s → %s (%s): Upgradeable, not Progressing or Failing, no admin-ack missing, %d pool(s) neither Degraded nor BuildInterrupted", current, target, kind, len(st.Pools))
	}
	if len(notes) > 0 {
		c.Message += "\n" + strings.Join(notes, "\n")
	}
	c.Remedy = strings.Join(dedupe(remedies), "; ")
	return c
}

func offerDetails(o Offer) map[string]any {
	d := map[string]any{"version": o.Version, "image": o.Image, "conditional": o.Conditional, "recommended": o.Recommended}
	if len(o.Risks) > 0 {
		var names []string
		for _, r := range o.Risks {
			names = append(names, r.Name)
		}
		d["risks"] = names
	}
	return d
}

func poolCondTrue(p *mcfgv1.MachineConfigPool, t string) bool {
	for _, c := range p.Status.Conditions {
		if string(c.Type) == t && string(c.Status) == conditionTrue {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ReadUpgradeState reads what CheckClusterUpgradeable needs. A missing
// FeatureGate or admin ConfigMap is not an error (Default feature set, no
// gates): the ClusterVersion's own Upgradeable condition still tells.
func ReadUpgradeState(ctx context.Context, cl *Cluster) UpgradeState {
	var st UpgradeState
	if cl.Config == nil {
		st.CVErr = errors.New("no config.openshift.io client")
		return st
	}
	st.ClusterVersion, st.CVErr = cl.Config.ConfigV1().ClusterVersions().Get(ctx, "version", metav1.GetOptions{})
	fg, err := cl.Config.ConfigV1().FeatureGates().Get(ctx, "cluster", metav1.GetOptions{})
	switch {
	case err == nil:
		st.FeatureSet = fg.Spec.FeatureSet
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
	default:
		st.FeatureGateErr = err
	}
	cms := cl.Kube.CoreV1()
	getCM := func(ns, name string) *corev1.ConfigMap {
		cm, err := cms.ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if !apierrors.IsNotFound(err) && st.AdminErr == nil {
				st.AdminErr = fmt.Errorf("configmap %s/%s: %w", ns, name, err)
			}
			return nil
		}
		return cm
	}
	st.AdminGates = getCM(AdminGatesNamespace, AdminGatesConfigMap)
	st.AdminAcks = getCM(AdminAcksNamespace, AdminAcksConfigMap)
	pools, err := cl.MachineConfig.MachineconfigurationV1().MachineConfigPools().List(ctx, metav1.ListOptions{})
	if err != nil {
		st.PoolsErr = err
	} else {
		st.Pools = pools.Items
	}
	return st
}
