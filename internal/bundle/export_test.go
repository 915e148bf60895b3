package bundle

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Test access for the external tests (emit_test.go, package bundle_test,
// which renders the catalog through internal/render).

// EmitYAML is emitYAML: the bytes, or false where the legacy path is taken.
func EmitYAML(obj map[string]any) ([]byte, bool) { return emitYAML(nil, obj) }

// MarshalYAMLLegacy is what mosc wrote before the emitter: the oracle.
func MarshalYAMLLegacy(obj map[string]any) ([]byte, error) {
	return marshalYAMLLegacy(Object{Content: &unstructured.Unstructured{Object: obj}, FileName: "x.yaml"})
}

var (
	KeyLess        = keyLess
	YAMLStyleFloat = yamlStyleFloat
	IsBase60Float  = isBase60Float
	EmitMaxDepth   = emitMaxDepth
	YAMLReadable   = yamlReadable
)

// EmitYAMLTo is emitYAML appending to dst, as WriteDir uses it.
func EmitYAMLTo(dst []byte, obj map[string]any) ([]byte, bool) { return emitYAML(dst, obj) }

// JSONDocContent is the map the YAML walk built (nil: DecodeStrict decodes
// the JSON for it).
func JSONDocContent(d JSONDoc) map[string]any { return d.content }

// MetaOf is metaOf: apiVersion and kind from the walk's map, or false.
var MetaOf = metaOf

// SingleObject is singleObject of the walk's map; ExpandList is expandList.
func SingleObject(d JSONDoc) bool { return singleObject(d.content) }

var ExpandList = expandList

// YAMLFast is yamlFast (false: not handled); YAMLToJSONStrictV2 is the
// yaml.v2 path it is held to.
var (
	YAMLFast           = yamlFast
	YAMLToJSONStrictV2 = yamlToJSONStrictV2
)

// SetObserveYAML sets the hook that sees YAMLToJSONStrict's inputs (nil:
// none). Set it only while nothing converts.
func SetObserveYAML(f func(y []byte)) { observeYAML = f }
