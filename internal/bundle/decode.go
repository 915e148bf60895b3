package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mosc-dev/mosc/internal/strictjson"
	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group/version/kinds mosc renders. Anything else in a bundle is an error:
// mosc never emits a kind it cannot strictly decode.
var (
	GVKConfigMap               = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	GVKSecret                  = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	GVKPersistentVolumeClaim   = schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}
	GVKMachineConfig           = mcfgv1.GroupVersion.WithKind("MachineConfig")
	GVKMachineOSConfig         = mcfgv1.GroupVersion.WithKind("MachineOSConfig")
	GVKMachineOSConfigV1alpha1 = schema.GroupVersionKind{Group: mcfgv1.GroupName, Version: "v1alpha1", Kind: "MachineOSConfig"}
	GVKImageRegistryConfig     = imageregistryv1.GroupVersion.WithKind("Config")
)

// typeFor returns a fresh value of the real Go type for gvk.
func typeFor(gvk schema.GroupVersionKind) (any, bool) {
	switch gvk {
	case GVKConfigMap:
		return &corev1.ConfigMap{}, true
	case GVKSecret:
		return &corev1.Secret{}, true
	case GVKPersistentVolumeClaim:
		return &corev1.PersistentVolumeClaim{}, true
	case GVKMachineConfig:
		return &mcfgv1.MachineConfig{}, true
	case GVKMachineOSConfig:
		return &mcfgv1.MachineOSConfig{}, true
	case GVKMachineOSConfigV1alpha1:
		return &MachineOSConfigV1alpha1{}, true
	case GVKImageRegistryConfig:
		return &imageregistryv1.Config{}, true
	}
	return nil, false
}

// KnownKinds lists the kinds DecodeStrict accepts, for error messages.
func KnownKinds() string {
	return "v1 ConfigMap, v1 Secret, v1 PersistentVolumeClaim, " +
		"machineconfiguration.openshift.io/v1 MachineConfig, machineconfiguration.openshift.io/v1 MachineOSConfig, " +
		"machineconfiguration.openshift.io/v1alpha1 MachineOSConfig, imageregistry.operator.openshift.io/v1 Config"
}

// DecodeStrict decodes one JSON object into its real Go type, rejecting
// unknown fields, duplicate fields and wrong types. Matching is
// case-sensitive (sigs.k8s.io/json, as the API server does), so the
// v1alpha1 spelling "renderedImagePushspec" cannot slip into a v1 object.
// It returns the object as Unstructured (the canonical output form, which
// keeps exactly the fields given: marshalling the typed struct would add
// empty non-omitempty fields such as MachineConfig's osImageURL).
func DecodeStrict(data []byte) (*unstructured.Unstructured, error) {
	return JSONDoc{Data: data}.DecodeStrict()
}

// DecodeStrict is DecodeStrict(d.Data) without parsing d.Data again for
// apiVersion/kind and for the Unstructured map where the YAML walk built
// them (TestYAMLToJSONMatches: the same object and the same errors). The
// returned object owns that map: call it once per JSONDoc.
func (d JSONDoc) DecodeStrict() (*unstructured.Unstructured, error) {
	data := d.Data
	apiVersion, kind, ok := metaOf(d.content)
	if !ok {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := json.Unmarshal(data, &meta); err != nil {
			return nil, err
		}
		apiVersion, kind = meta.APIVersion, meta.Kind
	}
	if apiVersion == "" || kind == "" {
		return nil, errors.New("apiVersion and kind are required")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion: %v", err)
	}
	gvk := gv.WithKind(kind)
	typed, ok := typeFor(gvk)
	if !ok {
		return nil, fmt.Errorf("%s %s is not a kind mosc renders; known: %s", apiVersion, kind, KnownKinds())
	}
	// strictjson is sigs.k8s.io/json's strict decode without the encoders
	// it built for every type reachable from the kind (issue 15). JSON the
	// YAML walk wrote (content set) is valid by construction: no
	// well-formedness pass.
	unmarshal := strictjson.UnmarshalStrict
	if d.content != nil {
		unmarshal = strictjson.UnmarshalStrictValid
	}
	strictErrs, err := unmarshal(data, typed)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", kind, err)
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("%s: %s", kind, strings.Join(msgs, "; "))
	}
	if mc, ok := typed.(*mcfgv1.MachineConfig); ok && len(mc.Spec.Config.Raw) > 0 {
		if err := decodeIgnition(mc.Spec.Config.Raw, unmarshal); err != nil {
			return nil, fmt.Errorf("MachineConfig: spec.config: %v", err)
		}
	}
	if d.content != nil {
		return &unstructured.Unstructured{Object: d.content}, nil
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

// metaOf reads apiVersion and kind from the map the YAML walk built, as
// json.Unmarshal into a struct of the two would: false (decode the JSON)
// where that needs more than a look-up: a key that matches either field
// case-insensitively (encoding/json takes it) or a value that is not a
// string or null.
func metaOf(m map[string]any) (apiVersion, kind string, ok bool) {
	if m == nil {
		return "", "", false
	}
	for k := range m {
		if k == "apiVersion" || k == "kind" {
			continue
		}
		for i := 0; i < len(k); i++ {
			if k[i] >= utf8.RuneSelf {
				return "", "", false // non-ASCII case folding: let encoding/json decide
			}
		}
		if strings.EqualFold(k, "apiVersion") || strings.EqualFold(k, "kind") {
			return "", "", false
		}
	}
	if apiVersion, ok = stringOrNull(m["apiVersion"]); !ok {
		return "", "", false
	}
	if kind, ok = stringOrNull(m["kind"]); !ok {
		return "", "", false
	}
	return apiVersion, kind, true
}

// stringOrNull is what decoding v's JSON into a string field leaves there
// (null leaves it empty); false for any other JSON type (a decode error).
func stringOrNull(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	}
	return "", false
}

// ignitionVersion is the Ignition spec range MCO accepts in MachineConfigs
// on OpenShift 4.16+ (3.0.0 through 3.4.0; 3.5.0 is UNVERIFIED on 4.16).
// (TestIgnitionVersion holds matchIgnitionVersion to it on every short
// string; compiling it cost each render a compile, issue 15.)
const ignitionVersion = `^3\.[0-4]\.0$`

func matchIgnitionVersion(v string) bool {
	return len(v) == 5 && v[0] == '3' && v[1] == '.' && v[2] >= '0' && v[2] <= '4' && v[3] == '.' && v[4] == '0'
}

// Ignition is the subset of the Ignition 3.x config mosc writes into
// MachineConfigs. Decoding strictly into it catches template typos inside
// spec.config, which MachineConfig's RawExtension would otherwise accept.
type Ignition struct {
	Ignition struct {
		Version string `json:"version"`
	} `json:"ignition"`
	Storage *struct {
		Files []struct {
			Path      string `json:"path"`
			Mode      *int   `json:"mode,omitempty"`
			Overwrite *bool  `json:"overwrite,omitempty"`
			Contents  *struct {
				Source      string `json:"source,omitempty"`
				Compression string `json:"compression,omitempty"`
			} `json:"contents,omitempty"`
		} `json:"files,omitempty"`
	} `json:"storage,omitempty"`
	Systemd *struct {
		Units []IgnitionUnit `json:"units,omitempty"`
	} `json:"systemd,omitempty"`
}

// IgnitionUnit is one systemd unit of an Ignition config.
type IgnitionUnit struct {
	Name     string `json:"name"`
	Enabled  *bool  `json:"enabled,omitempty"`
	Mask     *bool  `json:"mask,omitempty"`
	Contents string `json:"contents,omitempty"`
	Dropins  []struct {
		Name     string `json:"name"`
		Contents string `json:"contents,omitempty"`
	} `json:"dropins,omitempty"`
}

// decodeIgnition checks spec.config, raw (a copy of that value's JSON),
// decoded with unmarshal: UnmarshalStrictValid where the object's JSON is.
func decodeIgnition(raw []byte, unmarshal func([]byte, any) ([]error, error)) error {
	var ign Ignition
	strictErrs, err := unmarshal(raw, &ign)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		return strictErrs[0]
	}
	if !matchIgnitionVersion(ign.Ignition.Version) {
		return fmt.Errorf("ignition.version %q: want 3.0.0 to 3.4.0", ign.Ignition.Version)
	}
	if ign.Systemd != nil {
		for i, u := range ign.Systemd.Units {
			if u.Name == "" {
				return fmt.Errorf("systemd.units[%d].name: required", i)
			}
		}
	}
	return nil
}

// MachineOSConfigV1alpha1 is the v1alpha1 MachineOSConfig of OpenShift
// 4.16-4.17 (feature gate OnClusterBuild). Its Go types were deleted from
// openshift/api before the module version mosc pins, so this is a faithful
// copy of the field names and JSON tags of
// machineconfiguration/v1alpha1/types_machineosconfig.go (4.16/4.17 branches).
type MachineOSConfigV1alpha1 struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata"`
	Spec struct {
		MachineConfigPool V1alpha1NameRef `json:"machineConfigPool"`
		BuildInputs       struct {
			BaseOSExtensionsImagePullspec string          `json:"baseOSExtensionsImagePullspec,omitempty"`
			BaseOSImagePullspec           string          `json:"baseOSImagePullspec,omitempty"`
			BaseImagePullSecret           V1alpha1NameRef `json:"baseImagePullSecret"`
			ImageBuilder                  *struct {
				ImageBuilderType string `json:"imageBuilderType"`
			} `json:"imageBuilder"`
			RenderedImagePushSecret V1alpha1NameRef `json:"renderedImagePushSecret"`
			// Lower-case "s" in v1alpha1 (v1 spells it renderedImagePushSpec).
			RenderedImagePushspec string `json:"renderedImagePushspec"`
			ReleaseVersion        string `json:"releaseVersion,omitempty"`
			Containerfile         []struct {
				// Lower-case enum in v1alpha1: noarch, amd64, arm64, ...
				ContainerfileArch string `json:"containerfileArch"`
				Content           string `json:"content"`
			} `json:"containerFile"`
		} `json:"buildInputs"`
		BuildOutputs struct {
			CurrentImagePullSecret V1alpha1NameRef `json:"currentImagePullSecret,omitempty"`
		} `json:"buildOutputs,omitempty"`
	} `json:"spec"`
}

// V1alpha1NameRef is v1alpha1's MachineConfigPoolReference / ImageSecretObjectReference.
type V1alpha1NameRef struct {
	Name string `json:"name"`
}
