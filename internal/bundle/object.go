// Package bundle holds the ordered set of objects a plan renders to, their
// strict typed decoding, and the writers (YAML stream, directory with
// kustomization.yaml, JSON).
package bundle

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ApplyMode says how an object reaches the cluster.
type ApplyMode string

const (
	// ModeApply: server-side apply with field manager "mosc"; mosc owns the object.
	ModeApply ApplyMode = "Apply"
	// ModeMergePatch: a JSON merge patch of only the fields given, on an object
	// mosc does not own (the image registry Config "cluster"). Never deleted by
	// `mosc remove`; reverted only with --registry.
	ModeMergePatch ApplyMode = "MergePatch"
)

// Object is one rendered manifest. Content is the canonical form written to
// output and sent to the cluster; it has been strictly decoded into its real
// Go type (openshift/api, k8s.io/api) before it was accepted into a Bundle.
type Object struct {
	Content *unstructured.Unstructured
	Mode    ApplyMode
	// FileName is the file this object gets with `-o DIR`, e.g.
	// "20-configmap-etc-yum-repos-d.yaml". Unique within a bundle.
	FileName string
	// Secret marks objects carrying credentials (never written unless asked).
	Secret bool
}

// Bundle is the ordered output of a render.
type Bundle struct {
	Objects []Object
}
