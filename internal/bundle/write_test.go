package bundle

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ownFileName is the regexp it replaced.
func TestOwnFileName(t *testing.T) {
	re := regexp.MustCompile(`^[0-9]{2}-[a-z0-9.-]+\.yaml$`)
	for _, name := range []string{
		"20-configmap-etc-yum-repos-d.yaml", "00-x.yaml", "99-a.b-c.yaml", "00-.yaml.yaml", "00--.yaml",
		"", "0-x.yaml", "000-x.yaml", "ab-x.yaml", "00_x.yaml", "00-.yaml", "00-X.yaml", "00-x.yml", "00-x.yaml~", "00-x y.yaml",
		"00-é.yaml", "00-x.YAML", "kustomization.yaml", "00-x.yaml/", ".mosc-123", "12-x_y.yaml",
	} {
		if got, want := ownFileName(name), re.MatchString(name); got != want {
			t.Errorf("ownFileName(%q) = %v, regexp %v", name, got, want)
		}
	}
}

// A file mosc wrote that differs from the new content only by its length
// (the same bytes plus a tail, or a prefix of them) is rewritten; a
// directory with an object file's name is not removed as stale; no
// temporary file is left behind.
func TestWriteDirRewritesChangedLength(t *testing.T) {
	dir := t.TempDir()
	if err := WriteDir(dir, sample(t), "dev"); err != nil {
		t.Fatal(err)
	}
	cm := filepath.Join(dir, "20-configmap-etc-yum-repos-d.yaml")
	want, _ := os.ReadFile(cm)
	for name, content := range map[string][]byte{
		"longer":  append(bytes.Clone(want), "extra: tail\n"...),
		"shorter": want[:len(want)-3],
	} {
		os.WriteFile(cm, content, 0o644)
		if err := WriteDir(dir, sample(t), "dev"); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(cm); !bytes.Equal(got, want) {
			t.Errorf("%s: not rewritten:\n%s", name, got)
		}
	}
	sub := filepath.Join(dir, "40-configmap-gone.yaml")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, sample(t), "dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sub); err != nil {
		t.Errorf("directory removed: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".mosc-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
