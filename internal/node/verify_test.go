package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVerify(t *testing.T) {
	before, err := ParseMessage("n1", readFixture(t, "walkthrough-before-doca-init.txt"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseMessage("n1", readFixture(t, "walkthrough-enable-doca-init.txt"))
	if err != nil {
		t.Fatal(err)
	}
	stock, err := ParseMessage("n1", readFixture(t, "stock-ovs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	initSetNotUp := *before
	initSetNotUp.OtherConfig = map[string]string{"doca-init": "true"}
	noDoca := *after
	noDoca.DatapathTypes = []string{"netdev", "system"}
	noInitWanted := DefaultVerify
	noInitWanted.DocaInitialized = false

	tests := []struct {
		name      string
		r         *Result
		plan      func() any
		want      []string
		needsInit bool
	}{
		{"after doca-init passes", after, nil, nil, false},
		{"before doca-init", before, nil, []string{"doca-initialized"}, true},
		{"doca-init set but not initialized", &initSetNotUp, nil, []string{"doca-initialized"}, false},
		{"no doca datapath", &noDoca, nil, []string{"datapath"}, false},
		{"stock OVS", stock, nil, []string{"package", "ovs", "stock-package"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := Verify(tt.r, DefaultVerify)
			var got []string
			for _, p := range probs {
				got = append(got, p.Check)
				if p.Message == "" {
					t.Errorf("problem %s has no message", p.Check)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Verify checks (-want +got):\n%s\n%v", d, probs)
			}
			if n := NeedsDocaInit(tt.r, DefaultVerify); n != tt.needsInit {
				t.Errorf("NeedsDocaInit = %v, want %v", n, tt.needsInit)
			}
		})
	}
	if p := Verify(before, noInitWanted); len(p) != 0 {
		t.Errorf("plan without doca_initialized: %v", p)
	}
}
