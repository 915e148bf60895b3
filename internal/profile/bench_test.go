package profile

import "testing"

func BenchmarkLoadCatalog(b *testing.B) {
	for b.Loop() {
		if _, err := LoadCatalog(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveWalkthrough(b *testing.B) {
	c := mustCatalog(b)
	for b.Loop() {
		s := NewSite()
		s.Override(Overrides{OpenShift: "4.20.15", Stacks: []string{"doca-3.3"}, Pool: "master", InternalRegistry: boolPtr(true), StorageClass: "lvms-vg1"})
		if _, err := c.Resolve(s); err != nil {
			b.Fatal(err)
		}
	}
}

// The whole release × platform × stack matrix (63 resolutions).
func BenchmarkMatrix(b *testing.B) {
	c := mustCatalog(b)
	for b.Loop() {
		if m := c.Matrix("", "", ""); len(m) != 63 {
			b.Fatalf("%d cells", len(m))
		}
	}
}

func BenchmarkDecodeSite(b *testing.B) {
	doc := []byte(siteDoc("metadata: {name: lab}", "spec:", "  openshift: \"4.20\"", "  pool: master", "  stacks: [doca-3.3:ovs]",
		"  registry: {internal: true, storageClass: lvms-vg1}", "  node: {hugepages: {size: 1G, count: 16}, otherConfig: {max-idle: \"10000\"}}"))
	for b.Loop() {
		if _, err := DecodeSite("mosc.yaml", doc); err != nil {
			b.Fatal(err)
		}
	}
}
