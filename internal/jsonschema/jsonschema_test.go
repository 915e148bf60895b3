package jsonschema

import (
	"strings"
	"testing"
)

func TestValidatePattern(t *testing.T) {
	s := map[string]any{"type": "string", "pattern": `^(release-payload|target-kernel)(@[0-9]+\.[0-9]+)?$`}
	for _, tt := range []struct {
		v    any
		want string
	}{
		{"release-payload", ""},
		{"target-kernel@4.19", ""},
		{"release-payload@", "does not match"},
		{"pool-health", "does not match"},
		{3.0, "not a string"},
	} {
		errs := Validate(s, tt.v)
		if (len(errs) == 0) != (tt.want == "") || (tt.want != "" && !strings.Contains(strings.Join(errs, ";"), tt.want)) {
			t.Errorf("%v: %v, want %q", tt.v, errs, tt.want)
		}
	}
	if errs := Validate(map[string]any{"type": "string", "pattern": "("}, "x"); len(errs) != 1 || !strings.Contains(errs[0], "bad pattern") {
		t.Errorf("bad pattern: %v", errs)
	}
}
