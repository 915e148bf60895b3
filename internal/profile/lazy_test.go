package profile

import (
	"io/fs"
	"path"
	"testing"

	"github.com/mosc-dev/mosc/profiles"
)

// TestEmbeddedCatalogPaths decodes every embedded profile the way the lazy
// catalog does on first use, and checks that each file's path names its
// kind and name (the lazy catalog finds profiles by path).
func TestEmbeddedCatalogPaths(t *testing.T) {
	n := 0
	err := fs.WalkDir(profiles.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isYAMLFile(p) {
			return err
		}
		n++
		data, err := fs.ReadFile(profiles.FS, p)
		if err != nil {
			return err
		}
		prof, err := DecodeProfile(path.Join("profiles", p), data)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		key, ok := embeddedKey(p)
		if !ok || key != prof.ProfileKind()+"/"+prof.ProfileName() {
			t.Errorf("%s is %s %q: its path says %q (ok=%v)", p, prof.ProfileKind(), prof.ProfileName(), key, ok)
		}
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("walked %d files: %v", n, err)
	}
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Profiles()); got != n {
		t.Errorf("catalog has %d profiles, %d embedded files", got, n)
	}
	if len(c.lazy) != 0 {
		t.Errorf("%d profiles still undecoded after Profiles()", len(c.lazy))
	}
}

// A render decodes only the profiles it resolves.
func TestCatalogDecodesLazily(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	total := len(c.lazy)
	if _, err := c.Stack("doca-3.3"); err != nil {
		t.Fatal(err)
	}
	if len(c.lazy) != total-1 {
		t.Errorf("Stack(doca-3.3) decoded %d profiles", total-len(c.lazy))
	}
	if _, err := c.Release("4.20.3"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Release("9.99"); err == nil {
		t.Error("unknown release found")
	}
	if len(c.lazy) != total-2 {
		t.Errorf("after two lookups %d profiles decoded", total-len(c.lazy))
	}
}
