package profile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/mosc-dev/mosc/profiles"
)

// yamlParsable reports whether every document in data parses as YAML.
func yamlParsable(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// checkPlaced fails when a decode error on parsable YAML has no position.
func checkPlaced(t *testing.T, data []byte, err error) {
	if err == nil || !yamlParsable(data) {
		return
	}
	var l ErrorList
	if !errors.As(err, &l) || len(l) == 0 {
		t.Fatalf("error is not an ErrorList: %T %v", err, err)
	}
	for _, e := range l {
		if e.File != "f.yaml" || e.Line <= 0 || e.Column <= 0 {
			t.Fatalf("error without file:line:col on parsable input: %q", e.Error())
		}
	}
}

func addSeeds(f *testing.F) {
	err := fs.WalkDir(profiles.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(profiles.FS, p)
		f.Add(b)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(siteDoc("spec:", "  openshift: 4.20", "  stacks: [doca-3.3:ovs, {name: doca-2.9}]", "  node: {hugepages: {size: 1G, count: 2}}")))
	f.Add([]byte("apiVersion: mosc.dev/v1alpha1\nkind: Site\nspec: &a {pool: *a}\n"))
	f.Add([]byte("a: [\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("apiVersion: mosc.dev/v1alpha1\nkind: Stack\nspec:\n  layers:\n  - name: x\n    params: {a: [1, 2.5, true, null, {b: 0x10}]}\n"))
}

func FuzzDecodeProfile(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeProfile("f.yaml", data)
		checkPlaced(t, data, err)
		if err == nil && (p == nil || p.ProfileName() == "") {
			t.Fatalf("no error and no named profile")
		}
	})
}

func FuzzDecodeSite(f *testing.F) {
	addSeeds(f)
	c, err := LoadCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSite("f.yaml", data)
		checkPlaced(t, data, err)
		if err != nil {
			return
		}
		// Whatever decodes must resolve or fail cleanly, never panic.
		p, err := c.Resolve(s)
		if (p == nil) == (err == nil) {
			t.Fatalf("Resolve returned plan %v and error %v", p, err)
		}
		if err != nil {
			for _, e := range err.(ErrorList) {
				if e.Flag == "" && e.File != "f.yaml" {
					t.Fatalf("resolve error without a place: %q", e.Error())
				}
			}
		}
	})
}
