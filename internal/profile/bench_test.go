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

// What a walkthrough render loads: the catalog and its three profiles (in
// a process, once; the embedded ones come from embedded_gen.go).
func BenchmarkLoadWalkthroughProfiles(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c, err := LoadCatalog()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Release("4.20"); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Platform("rhel9-x86_64"); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Stack("doca-3.3"); err != nil {
			b.Fatal(err)
		}
	}
}
