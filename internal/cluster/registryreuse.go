package cluster

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Why this file: `--internal-registry` used to null whatever storage the
// registry had and force a PVC, one replica and Recreate. On an IPI cloud
// cluster the cluster-image-registry-operator bootstraps the registry Managed
// on object storage with two replicas (openshift/cluster-image-registry-operator,
// release-4.20, pkg/storage/storage.go GetPlatformStorage; pkg/operator/bootstrap.go),
// and every ImageStream image of every namespace lives there. Replacing that
// storage loses them all and drops the registry's high availability, so mosc
// now uses such a registry as it is and replaces storage only on an explicit
// opt-in that names the loss.

// DiscardImagesFlag is the opt-in to replace a working registry's storage.
const DiscardImagesFlag = "--discard-registry-images"

// RegistryState is what mosc reads from the live registry Config to decide.
type RegistryState struct {
	ManagementState string   // spec.managementState ("" when unset)
	Storage         []string // configured back-ends (keys of spec.storage), sorted
	Claim           string   // spec.storage.pvc.claim
	Replicas        int64    // spec.replicas
	Ready           bool     // see RegistryReady
	Status          string   // e.g. "Available=True Ready", for messages
}

// RegistryStateOf reads the registry Config.
func RegistryStateOf(u *unstructured.Unstructured) RegistryState {
	st := RegistryState{}
	st.ManagementState, _, _ = unstructured.NestedString(u.Object, "spec", "managementState")
	storage, _, _ := unstructured.NestedMap(u.Object, "spec", "storage")
	for _, t := range storageTypes {
		if v, ok := storage[t]; ok && v != nil {
			st.Storage = append(st.Storage, t)
		}
	}
	sort.Strings(st.Storage)
	st.Claim, _, _ = unstructured.NestedString(u.Object, "spec", "storage", "pvc", "claim")
	st.Replicas = intAt(u, "spec", "replicas")
	st.Ready, st.Status = RegistryReady(u)
	return st
}

// RegistryReady says whether the registry serves images for the spec it has
// now. Available=True alone is not enough: the operator reports
// Available=True with reason "Removed" for a Removed registry (no deployment
// at all), and until it has observed the latest spec its conditions describe
// the previous one (openshift/cluster-image-registry-operator, release-4.16
// to release-4.22, pkg/operator/status.go syncStatus; pkg/operator/controller.go
// sync sets status.observedGeneration = generation after each reconcile).
func RegistryReady(u *unstructured.Unstructured) (bool, string) {
	ms, _, _ := unstructured.NestedString(u.Object, "spec", "managementState")
	st, reason, msg, found := condition(u, "Available")
	state := "no Available condition yet"
	if found {
		state = "Available=" + st
		if reason != "" {
			state += " " + reason
		}
		if msg != "" {
			state += ": " + msg
		}
	}
	if ms != "Managed" {
		if ms == "" {
			ms = "(unset)"
		}
		return false, "managementState " + ms + "; " + state
	}
	gen := u.GetGeneration()
	observed := intAt(u, "status", "observedGeneration")
	if observed < gen {
		return false, fmt.Sprintf("the operator has not observed generation %d yet (observedGeneration %d); %s", gen, observed, state)
	}
	return found && st == "True" && reason != "Removed", state
}

// RegistryAction is what apply does with the registry.
type RegistryAction int

const (
	// RegistryEnable creates the claim and merge-patches the Config onto it.
	RegistryEnable RegistryAction = iota
	// RegistryReuse leaves a registry that already has storage as it is.
	RegistryReuse
	// RegistryUnmanaged leaves an Unmanaged registry alone (its admin runs it).
	RegistryUnmanaged
)

// RegistryDecision is apply's choice and the lines it prints about it.
type RegistryDecision struct {
	Action   RegistryAction
	Note     string   // one line for stderr ("" for the plain enable)
	Warnings []string // printed as "warning: ..."
}

// DecideRegistry chooses between enabling the registry on mosc's claim and
// using the registry as it is. claim is the plan's claim name; discard is
// DiscardImagesFlag.
func DecideRegistry(st RegistryState, claim string, discard bool) RegistryDecision {
	switch st.ManagementState {
	case "", "Removed":
		// Bare metal, vSphere, SNO, None: the operator bootstraps Removed
		// (no storage, no deployment); nothing is lost by enabling it.
		return RegistryDecision{Action: RegistryEnable}
	case "Unmanaged":
		return RegistryDecision{Action: RegistryUnmanaged,
			Note: "the image registry is Unmanaged: mosc leaves it as it is and does not wait for it; make sure it serves " + InternalRegistryHostNote}
	}
	ours := len(st.Storage) == 1 && st.Storage[0] == "pvc" && st.Claim == claim
	if len(st.Storage) == 0 || ours {
		// No storage yet (the operator reports StorageNotConfigured), or the
		// claim mosc made: nothing another user stored is at stake.
		return RegistryDecision{Action: RegistryEnable}
	}
	where := storageDesc(st)
	if discard {
		return RegistryDecision{Action: RegistryEnable, Warnings: []string{fmt.Sprintf(
			"%s: replacing the image registry's %s storage with pvc %q: every image it stores (ImageStreams of every namespace) is lost, and it runs 1 replica instead of %d",
			DiscardImagesFlag, where, claim, st.Replicas)}}
	}
	d := RegistryDecision{Action: RegistryReuse,
		Note: fmt.Sprintf("the image registry is Managed on %s storage (%d replicas, %s); mosc uses it as it is (%s replaces its storage, losing every image it stores)",
			where, st.Replicas, st.Status, DiscardImagesFlag)}
	if contains(st.Storage, "emptyDir") {
		d.Warnings = append(d.Warnings, "the image registry stores images in emptyDir: each registry restart loses the built image, and a node that then needs it cannot pull it; give the registry persistent storage (or "+DiscardImagesFlag+" to move it to mosc's claim)")
	}
	return d
}

// InternalRegistryHostNote is the in-cluster registry address, for messages.
const InternalRegistryHostNote = "image-registry.openshift-image-registry.svc:5000"

func storageDesc(st RegistryState) string {
	parts := make([]string, 0, len(st.Storage))
	for _, s := range st.Storage {
		if s == "pvc" && st.Claim != "" {
			s += " (claim " + st.Claim + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "+")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// intAt reads an integer field, whether it was decoded as int64 (the API
// machinery) or float64 (plain JSON).
func intAt(u *unstructured.Unstructured, path ...string) int64 {
	v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	if !ok {
		return 0
	}
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}
