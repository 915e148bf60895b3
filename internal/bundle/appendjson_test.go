package bundle_test

import (
	"encoding/json"
	"testing"

	"github.com/mosc-dev/mosc/internal/bundle"
)

// AppendJSONStrings and AppendJSONStringMap write json.Marshal's bytes
// (render's toJson and build-inputs line use them; FuzzToJSON and
// FuzzBuildInputsJSON cover them too).
func TestAppendJSONStringsAndMap(t *testing.T) {
	lists := [][]string{nil, {}, {""}, {"a", "<b>&", "\u2028", "\xff", "é\n\t"}}
	for _, l := range lists {
		want, _ := json.Marshal(l)
		if got := bundle.AppendJSONStrings([]byte("x"), l); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s, want %s", l, got, want)
		}
	}
	maps := []map[string]string{nil, {}, {"": ""}, {"b": "1", "a": "<2>", "\u2029k": "\x00", "a&": "é"}}
	for _, m := range maps {
		want, _ := json.Marshal(m)
		if got := bundle.AppendJSONStringMap([]byte("x"), m); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s, want %s", m, got, want)
		}
	}
}
