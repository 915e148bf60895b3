package bundle

import (
	"bytes"
	"testing"
)

// The manifest reader behind `mosc validate PATH` takes files from anywhere:
// it must never panic, and whatever it accepts must survive a write/read
// round trip unchanged.
func FuzzReadManifests(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata: {x: y}\n"))
	f.Add([]byte("# h\n---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Secret, metadata: {name: s}, type: Opaque}]\n---\n"))
	f.Add([]byte(`{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineConfig","metadata":{"name":"m"},"spec":{"config":{"ignition":{"version":"3.2.0"}}}}`))
	f.Add([]byte("--- \n---\n\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, srcs, err := parseFiles([]namedData{{"in.yaml", data}})
		if err != nil {
			return
		}
		if len(srcs) != len(b.Objects) {
			t.Fatalf("%d sources for %d objects", len(srcs), len(b.Objects))
		}
		var buf bytes.Buffer
		if err := WriteYAML(&buf, b, "fuzz"); err != nil {
			t.Fatal(err)
		}
		b2, _, err := parseFiles([]namedData{{"out.yaml", buf.Bytes()}})
		if err != nil {
			t.Fatalf("re-reading own output: %v\n%s", err, buf.Bytes())
		}
		var buf2 bytes.Buffer
		if err := WriteYAML(&buf2, b2, "fuzz"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("round trip changed the output:\n%s\n---\n%s", buf.Bytes(), buf2.Bytes())
		}
	})
}
