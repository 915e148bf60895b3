package profile

import (
	"strings"
	"testing"
)

func fleetDoc(lines ...string) string {
	return "apiVersion: mosc.dev/v1alpha1\nkind: Fleet\nmetadata:\n  name: ran\n" + strings.Join(lines, "\n") + "\n"
}

// Every decode error names file:line:col and the fleet field path.
func TestDecodeFleetErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"no clusters", fleetDoc("spec:", "  defaults: {platform: rhel9-x86_64}"),
			[]string{`f.yaml:6:3: spec.clusters: missing required field "clusters"`}},
		{"unknown field", fleetDoc("spec:", "  clusters:", "  - name: a", "    openshift: 4.20", "    pool: worker"),
			[]string{`f.yaml:9:5: spec.clusters[0].pool: unknown field "pool"; did you mean "pools"?`}},
		{"site field typo in overrides", fleetDoc("spec:", "  clusters:", "  - name: a", "    openshift: 4.20", "    overrides:", "      registry: {sise: 1Gi}"),
			[]string{`f.yaml:10:18: spec.clusters[0].overrides.registry.sise: unknown field "sise"; did you mean "size"?`}},
		{"bad cluster name", fleetDoc("spec:", "  clusters:", "  - name: SNO_1", "    openshift: 4.20"),
			[]string{`f.yaml:7:11: spec.clusters[0].name: cluster name "SNO_1": a lowercase RFC 1123 label must consist of`}},
		{"duplicate cluster", fleetDoc("spec:", "  clusters:", "  - {name: a, openshift: 4.20}", "  - {name: a, openshift: 4.21}"),
			[]string{`f.yaml:8:12: spec.clusters[1].name: cluster "a" is already listed at f.yaml:7:12`}},
		{"unknown group", fleetDoc("spec:", "  groups:", "  - name: edge", "  clusters:", "  - {name: a, openshift: 4.20, group: egde}"),
			[]string{`f.yaml:9:39: spec.clusters[0].group: unknown group "egde"; known: edge`}},
		{"missing openshift", fleetDoc("spec:", "  clusters:", "  - name: a"),
			[]string{`f.yaml:7:5: spec.clusters[0]: missing required field "openshift"`}},
		{"openshift from defaults", fleetDoc("spec:", "  defaults: {openshift: 4.20}", "  clusters:", "  - name: a"), nil},
		{"bad label", fleetDoc("spec:", "  clusters:", "  - name: a", "    openshift: 4.20", "    labels: {\"bad key!\": x, region: \"a b\"}"),
			[]string{`f.yaml:9:26: spec.clusters[0].labels.bad key!: label key "bad key!"`, `spec.clusters[0].labels.region: label value "a b"`}},
		{"openshift in overrides", fleetDoc("spec:", "  clusters:", "  - name: a", "    openshift: 4.20", "    overrides: {pool: worker}"),
			[]string{`f.yaml:9:23: spec.clusters[0].overrides.pool: set it on the cluster (spec.clusters[].pools), not in overrides`}},
		{"pool twice", fleetDoc("spec:", "  clusters:", "  - name: a", "    openshift: 4.20", "    pools: [worker, worker]"),
			[]string{`f.yaml:9:21: spec.clusters[0].pools[1]: pool "worker" is listed twice`}},
		{"empty pools", fleetDoc("spec:", "  clusters:", "  - name: a", "    openshift: 4.20", "    pools: []"),
			[]string{`f.yaml:9:12: spec.clusters[0].pools: must not be empty`}},
		{"wrong kind", "apiVersion: mosc.dev/v1alpha1\nkind: Site\n",
			[]string{`f.yaml:2:7: kind: unknown kind "Site"; known: Fleet`}},
		{"openshift a number stays text", fleetDoc("spec:", "  clusters:", "  - {name: a, openshift: 4.20}"), nil},
		{"group site file missing", fleetDoc("spec:", "  groups:", "  - {name: edge, site: nope.yaml}", "  clusters:", "  - {name: a, openshift: 4.20, group: edge}"),
			[]string{`f.yaml:7:24: spec.groups[0].site: reading site file: `}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeFleet("f.yaml", []byte(tt.doc))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			got := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", got, w)
				}
			}
			if n := len(err.(ErrorList)); n != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%s", n, len(tt.want), got)
			}
		})
	}
}

// Layers: defaults < group site file < group spec < cluster fields <
// overrides; maps merge by key; every value keeps the place it came from.
func TestFleetClusterSites(t *testing.T) {
	f, err := LoadFleet("testdata/fleet/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cs := f.Clusters()
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "core-1,sno-east-1,sno-east-2,sno-west-1" {
		t.Fatalf("clusters %s (want sorted by name)", got)
	}
	core, east, west := cs[0], cs[1], cs[3]
	if len(core.Sites) != 2 || core.Sites[0].Spec.Pool != "worker" || core.Sites[1].Spec.Pool != "dpu-worker" {
		t.Fatalf("core-1 pools: %+v", core.Sites)
	}
	if core.Sites[0].Metadata.Name != "core" || east.Sites[0].Metadata.Name != "edge" {
		t.Errorf("site names %q %q: want the group name, else the group site file's", core.Sites[0].Metadata.Name, east.Sites[0].Metadata.Name)
	}
	if east.Labels["region"] != "east" || east.Labels["mosc.dev/profile"] != "edge" || len(cs[2].Labels) != 1 {
		t.Errorf("labels %v %v", east.Labels, cs[2].Labels)
	}
	ws := west.Sites[0]
	if ws.Spec.Registry.Size != "50Gi" || ws.Spec.Registry.StorageClass != "lvms-vg1" || *ws.Spec.Registry.Internal != true || ws.Spec.Secrets.Mode != "placeholder" || ws.Spec.OpenShift != "4.21.4" {
		t.Errorf("west site %+v", ws.Spec)
	}
	for _, tt := range []struct {
		site *Site
		path string
		want string
	}{
		{ws, "spec.registry.size", "testdata/fleet/fleet.yaml:37:15 spec.clusters[2].overrides.registry.size"},
		{ws, "spec.registry.storageClass", "testdata/fleet/sites/edge.yaml:11:19 spec.registry.storageClass"},
		{ws, "spec.secrets.mode", "testdata/fleet/fleet.yaml:9:13 spec.defaults.secrets.mode"},
		{ws, "spec.openshift", "testdata/fleet/fleet.yaml:33:16 spec.clusters[2].openshift"},
		{ws, "metadata.name", "testdata/fleet/sites/edge.yaml:4:9 metadata.name"},
		{core.Sites[1], "spec.pool", "testdata/fleet/fleet.yaml:41:21 spec.clusters[3].pools[1]"},
		{core.Sites[1], "spec.node.hugepages.count", "testdata/fleet/fleet.yaml:22:18 spec.groups[1].spec.node.hugepages.count"},
		{core.Sites[0], "metadata.name", "testdata/fleet/fleet.yaml:15:11 spec.groups[1].name"},
	} {
		p, _ := tt.site.Pos(tt.path)
		if got := p.String() + " " + tt.site.displayField(tt.path); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.path, got, tt.want)
		}
	}
	for _, c := range cs {
		for _, s := range c.Sites {
			if _, err := cat.Resolve(s); err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
		}
	}
	// Layers never share maps or slices: one cluster's pool is not another's.
	if cs[1].Sites[0] == cs[2].Sites[0] {
		t.Fatal("sites shared")
	}
}

// A resolution error about a value a layer set points at that layer's
// file, line and fleet path.
func TestFleetResolveErrorsPointIntoTheFleet(t *testing.T) {
	doc := fleetDoc("spec:",
		"  groups:",
		"  - name: old",
		"    spec:",
		"      stacks: [doca-2.9]",
		"  clusters:",
		"  - {name: a, openshift: \"4.22\", group: old}",
		"  - name: b",
		"    openshift: \"4.20\"",
		"    overrides:",
		"      registry: {pushSpec: \"quay.io/x/y\"}")
	f, err := DecodeFleet("f.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a": `f.yaml:9:16: spec.groups[0].spec.stacks[0]: stack doca-2.9 does not support OpenShift 4.22`,
		"b": `f.yaml:15:28: spec.clusters[1].overrides.registry.pushSpec: push spec "quay.io/x/y" has no tag`,
	}
	for _, c := range f.Clusters() {
		_, err := cat.Resolve(c.Sites[0])
		if err == nil || !strings.Contains(err.Error(), want[c.Name]) {
			t.Errorf("%s: %v\nwant %s", c.Name, err, want[c.Name])
		}
	}
}

func FuzzDecodeFleet(f *testing.F) {
	addSeeds(f)
	f.Add([]byte(fleetDoc("spec:", "  defaults: {openshift: 4.20, node: {otherConfig: {a: b}}}", "  groups: [{name: g, spec: {pool: worker}, labels: {a: b}}]",
		"  clusters: [{name: a, group: g, pools: [x, y], overrides: {repos: {mirrors: {doca: http://m/}}}}]")))
	c, err := LoadCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := decodeFleetDoc("f.yaml", data)
		checkPlaced(t, data, err)
		if err != nil {
			return
		}
		// Group site files are not read here (no file access in a fuzz
		// target); everything else must resolve or fail with a place.
		for _, cl := range fl.Clusters() {
			for _, s := range cl.Sites {
				p, err := c.Resolve(s)
				if (p == nil) == (err == nil) {
					t.Fatalf("Resolve returned plan %v and error %v", p, err)
				}
				if err != nil {
					for _, e := range err.(ErrorList) {
						if e.File != "f.yaml" {
							t.Fatalf("resolve error without a place: %q", e.Error())
						}
					}
				}
			}
		}
	})
}
