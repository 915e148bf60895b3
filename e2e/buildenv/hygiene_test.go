package buildenv

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPrune: what a killed build leaves in the storage — a working
// container, a dangling image — and a harness image no Start has used for
// StaleAfter go; an image in use, and anything not the harness's, stay. In
// a private storage (XDG_CACHE_HOME), with real buildah.
func TestPrune(t *testing.T) {
	if err := MissingTools(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	e, err := newEnv(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// vfs leaves read-only directories behind; buildah removes them.
		_, _ = e.buildahOut("rm", "--all")
		_, _ = e.buildahOut("rmi", "--all", "--force")
	})
	img := func(ref string) string {
		ctr := e.Buildah(t, "from", "--pull-never", "scratch")
		e.Buildah(t, "config", "--label", "made-by="+ref, ctr)
		args := []string{"commit", "--quiet", "--rm", ctr}
		if ref != "" {
			args = append(args, ref)
		}
		return e.Buildah(t, args...)
	}
	const (
		used   = "localhost/mosc-e2e/rhcos-standin:420-used"
		stale  = "localhost/mosc-e2e/rhcos-standin:420-stale"
		user   = "localhost/someone/else:1"
		result = "localhost/mosc-build-worker:latest"
	)
	for _, ref := range []string{used, stale, user, result} {
		img(ref)
	}
	dangling := img("")
	ctr := e.Buildah(t, "from", "--pull-never", used)
	e.touch(used)
	e.touch(stale)
	old := time.Now().Add(-StaleAfter - time.Hour)
	if err := os.Chtimes(e.stampPath(stale), old, old); err != nil {
		t.Fatal(err)
	}

	// The container and the dangling image are young: another process may
	// be building with them. The stale image goes.
	first := e.pruneAt(time.Now())
	t.Log(first)
	if strings.Contains(first, "container") || strings.Contains(first, "dangling") || !strings.Contains(first, "1 image(s) unused") {
		t.Errorf("prune now says %q; want only the stale image removed", first)
	}
	if !slices.Contains(slices.Collect(maps.Values(e.Containers(t))), ctr) {
		t.Errorf("the young container %s was removed", ctr)
	}
	msg := e.pruneAt(time.Now().Add(LeftAfter + time.Minute))
	t.Log(msg)
	if !strings.Contains(msg, "1 working container(s)") || !strings.Contains(msg, "1 dangling image(s)") {
		t.Errorf("prune %s later says %q", LeftAfter, msg)
	}
	if left := e.Containers(t); len(left) != 0 {
		t.Errorf("containers left: %v (the killed build's was %s)", left, ctr)
	}
	images := e.Buildah(t, "images", "--noheading", "--no-trunc", "--format", "{{.ID}} {{.Name}}:{{.Tag}}")
	for _, gone := range []string{stale, dangling} {
		if strings.Contains(images, strings.TrimPrefix(gone, "sha256:")) {
			t.Errorf("%s still in the storage:\n%s", gone, images)
		}
	}
	for _, kept := range []string{used, user, result} {
		if !strings.Contains(images, kept) {
			t.Errorf("%s was removed:\n%s", kept, images)
		}
	}
	// result had no stamp: it has one now, and goes StaleAfter later.
	if _, err := os.Stat(e.stampPath(result)); err != nil {
		t.Errorf("no stamp for %s: %v", result, err)
	}
	if _, err := os.Stat(filepath.Join(e.cache, "used")); err != nil {
		t.Error(err)
	}
}
