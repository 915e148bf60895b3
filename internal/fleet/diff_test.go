package fleet

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/diff"
	"github.com/mosc-dev/mosc/internal/profile"
)

// renderFleetText renders an inventory given as text (the test fleet with
// edits), relative to testdata so group site files resolve.
func renderFleetText(t *testing.T, text string) *Result {
	t.Helper()
	f, err := profile.DecodeFleet("testdata/fleet.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	_, cat := loadTestFleet(t)
	r, err := Render(f, cat)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Moving the two 4.20.15 edge clusters to 4.21.4 changes both the same
// way: one group of two; a new cluster is added, a dropped one removed,
// and the rest are unchanged. A tree written from the old inventory
// reads back as the same "from" side.
func TestDiffGroupsIdenticalChanges(t *testing.T) {
	old, err := os.ReadFile("testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(old), `openshift: "4.20.15"`, `openshift: "4.21.4"`)
	text = strings.Replace(text, "  - name: core-1\n", "  - name: sno-new\n    openshift: \"4.21.4\"\n    group: edge-sno\n  - name: core-1x\n", 1)
	from, to := mustRender(t), renderFleetText(t, text)
	rep := Diff(SideOf("old", from), SideOf("new", to))
	var got []string
	for _, g := range rep.Groups {
		got = append(got, string(g.Change)+":"+strings.Join(g.Clusters, ","))
	}
	want := "changed:sno-east-1,sno-east-2 | removed:core-1 | added:core-1x | added:sno-new"
	if strings.Join(got, " | ") != want {
		t.Errorf("groups %s\nwant   %s", strings.Join(got, " | "), want)
	}
	if strings.Join(rep.Unchanged, ",") != "sno-west-1" {
		t.Errorf("unchanged %v", rep.Unchanged)
	}
	g := rep.Groups[0]
	if g.FromBase != "edge-4.20.15-master" || g.ToBase != "edge-4.21.4-master" || g.Diff.Summary.Changed == 0 {
		t.Errorf("group 0: %s → %s, %+v", g.FromBase, g.ToBase, g.Diff.Summary)
	}
	if !strings.Contains(g.Headline, "MachineOSConfig master") {
		t.Errorf("headline %q", g.Headline)
	}
	var text1 bytes.Buffer
	if err := WriteDiffText(&text1, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"--- old\n+++ new\n", "\n2 clusters: MachineOSConfig master ", "  sno-east-1, sno-east-2\n  base edge-4.20.15-master → edge-4.21.4-master\n", "\n1 cluster: removed from the inventory", "\n5 clusters changed, 1 unchanged\n"} {
		if !strings.Contains(text1.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, text1.String())
		}
	}
	var js bytes.Buffer
	if err := WriteDiffJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema string
		Groups []struct {
			Change   diff.Change
			Clusters []string
		}
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || doc.Schema != DiffSchema || len(doc.Groups) != 4 {
		t.Errorf("json: %v %+v", err, doc)
	}

	// The old tree as the "from" side gives the same groups.
	dir := t.TempDir()
	if _, err := Write(dir, from, "test"); err != nil {
		t.Fatal(err)
	}
	tree, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep2 := Diff(tree, SideOf("new", to))
	var got2 []string
	for _, g := range rep2.Groups {
		got2 = append(got2, string(g.Change)+":"+strings.Join(g.Clusters, ","))
	}
	if strings.Join(got2, " | ") != want {
		t.Errorf("from the tree: %s", strings.Join(got2, " | "))
	}
	// No change: an empty report.
	if r := Diff(tree, SideOf("same", from)); !r.Empty() || len(r.Unchanged) != 4 {
		t.Errorf("same inventory: %+v", r)
	}
	if _, err := ReadTree(filepath.Join(dir, "bases")); err == nil {
		t.Error("a directory without clusters/ read as a tree")
	}
}
