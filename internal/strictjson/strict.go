/*
Copyright 2021 The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package strictjson is the decoding half of sigs.k8s.io/json
// (v0.0.0-20241014173422-cfa47c3a1cc8: json.go's UnmarshalStrict and
// internal/golang/encoding/json's decode.go, scanner.go, fold.go, tags.go,
// kubernetes_patch.go, unchanged but for the package name and the stream
// Decoder's methods) with one change: typeFields (fields.go) no longer builds
// each field's encoder. There it built, on the first decode of a type, the
// encoders and fields of every type reachable from it: for the kinds mosc
// renders, about 230 KB of allocation and a twentieth of a `mosc render`
// process, whose heap is never collected (issue 15). For the same reason
// its field lists are smaller (no name maps: look-ups scan the list; no
// omitEmpty; room reserved up front), 52 -> 16 KB for a render. FuzzUnmarshalStrict
// holds results and errors to sigs.k8s.io/json's. LICENSE is the module's.
package strictjson

// UnmarshalStrict is sigs.k8s.io/json.UnmarshalStrict with
// DisallowUnknownFields and DisallowDuplicateFields: case-sensitive keys,
// integers kept as int64 in untyped fields; strict problems come back as
// strictErrors, anything else as err.
func UnmarshalStrict(data []byte, v any) (strictErrors []error, err error) {
	err = Unmarshal(data, v, CaseSensitive, PreserveInts, DisallowDuplicateFields, DisallowUnknownFields)
	if strictErr, ok := err.(*UnmarshalStrictError); ok {
		return strictErr.Errors, nil
	}
	return nil, err
}

// UnmarshalStrictValid is UnmarshalStrict for data that is valid JSON by
// construction (an encoder wrote it: bundle.YAMLToJSONStrict's writer, which
// its tests hold to encoding/json's bytes). It skips Unmarshal's first scan,
// which only checks well-formedness: one of the two passes over the data
// (issue 15). Data that is not valid JSON panics.
func UnmarshalStrictValid(data []byte, v any) (strictErrors []error, err error) {
	err = unmarshalValid(data, v, CaseSensitive, PreserveInts, DisallowDuplicateFields, DisallowUnknownFields)
	if strictErr, ok := err.(*UnmarshalStrictError); ok {
		return strictErr.Errors, nil
	}
	return nil, err
}
