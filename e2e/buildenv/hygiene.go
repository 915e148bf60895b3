package buildenv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Why this file: the harness's storage once held 28 GB of leftovers, in vfs
// (a full copy of the image per container and per image): working
// containers (rhcos-standin-working-container-N) and dangling images of
// builds that were killed, and stand-in images of earlier content hashes
// (each change of the assets or of the catalog's stock packages builds a
// new one). buildah removes a failed build's containers itself (with its
// default --layers=false) and an interrupted one's on SIGINT or SIGTERM,
// but not a killed one's: a test's timeout, or mosc build's own --timeout,
// which killed its builder until internal/build's builderCommand.
// Tests remove the images they make in a t.Cleanup (RemoveImageAtEnd);
// what a killed process left, Start removes.
//
// Several test processes share the storage (`go test ./e2e/...` runs e2e and
// e2e/buildenv at once, other checkouts run theirs), so a container may be
// another process's build in progress. Each process using the storage holds
// a shared flock on CACHE/in-use for its lifetime (the kernel drops it when
// the process dies, however it dies); the first Start of a process that
// finds no other holder (an exclusive flock succeeds) prunes everything
// before taking its shared lock.

// StaleAfter is how long an image of the harness may go unused by any Start
// before the prune removes it.
const StaleAfter = 12 * time.Hour

var (
	inUseOnce sync.Once
	inUseErr  error
	pruned    string // what the process's prune did
)

// holdStorage takes the process's shared in-use lock, pruning first when no
// other process holds it. Called under the cache's builder lock.
func (e *Env) holdStorage() error {
	inUseOnce.Do(func() {
		f, err := os.OpenFile(filepath.Join(e.cache, "in-use"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			inUseErr = err
			return
		}
		// Kept open (and locked) until the process exits.
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			pruned = e.prune()
		} else {
			pruned = "another test process uses the storage: prune skipped"
		}
		inUseErr = syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
		if pruned != "" {
			e.logf("buildenv: %s", pruned) // once, in the test that pruned
		}
	})
	return inUseErr
}

// prune removes every working container, dangling images, and the harness's
// images no Start has used for StaleAfter. Only called when no other process
// uses the storage.
func (e *Env) prune() string {
	var done []string
	if ids := e.lines("containers", "--all", "--quiet", "--noheading", "--notruncate"); len(ids) > 0 {
		if _, err := e.buildahOut(append([]string{"rm"}, ids...)...); err != nil {
			return fmt.Sprintf("prune: %v", err)
		}
		done = append(done, fmt.Sprintf("%d working container(s)", len(ids)))
	}
	if ids := e.lines("images", "--filter", "dangling=true", "--quiet", "--noheading", "--no-trunc"); len(ids) > 0 {
		// One at a time: an image a remaining one builds on is refused,
		// and the rest still go.
		n := 0
		for _, id := range ids {
			if _, err := e.buildahOut("rmi", id); err == nil {
				n++
			}
		}
		done = append(done, fmt.Sprintf("%d dangling image(s)", n))
	}
	if stale := e.staleImages(time.Now()); len(stale) > 0 {
		n := 0
		for _, ref := range stale {
			if _, err := e.buildahOut("rmi", ref); err == nil {
				n++
				_ = os.Remove(e.stampPath(ref))
			}
		}
		done = append(done, fmt.Sprintf("%d image(s) unused for %s", n, StaleAfter))
	}
	if len(done) == 0 {
		return ""
	}
	return "pruned " + strings.Join(done, ", ")
}

func (e *Env) lines(args ...string) []string {
	out, err := e.buildahOut(args...)
	if err != nil {
		return nil
	}
	return strings.Fields(out)
}

// harnessImage says whether an image name is one the harness or the e2e
// tests make: the stand-ins and their Debian base, the builds' default and
// test tags.
func harnessImage(name string) bool {
	for _, p := range []string{"localhost/mosc-e2e/", "localhost/mosc-build-", "localhost/mosc-gate-build:"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// staleImages lists the harness's image names no Start has used for
// StaleAfter. A name without a stamp (made before stamps existed, or by a
// test) gets one now, so it goes StaleAfter later unless used.
func (e *Env) staleImages(now time.Time) []string {
	out, err := e.buildahOut("images", "--json")
	if err != nil {
		return nil
	}
	var imgs []struct {
		Names []string `json:"names"`
	}
	if err := json.Unmarshal([]byte(out), &imgs); err != nil {
		return nil
	}
	var stale []string
	for _, img := range imgs {
		for _, n := range img.Names {
			if !harnessImage(n) {
				continue
			}
			fi, err := os.Stat(e.stampPath(n))
			if err != nil {
				e.touch(n)
				continue
			}
			if now.Sub(fi.ModTime()) > StaleAfter {
				stale = append(stale, n)
			}
		}
	}
	return stale
}

func (e *Env) stampPath(ref string) string {
	h := sha256.Sum256([]byte(ref))
	return filepath.Join(e.cache, "used", hex.EncodeToString(h[:8]))
}

// touch records that ref is in use now.
func (e *Env) touch(ref string) {
	p := e.stampPath(ref)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil {
		_ = os.WriteFile(p, []byte(ref+"\n"), 0o644)
	}
}

// Containers lists the storage's working containers (ID and name), for
// tests that assert none is left.
func (e *Env) Containers(t testing.TB) map[string]string {
	t.Helper()
	out := e.Buildah(t, "containers", "--all", "--noheading", "--notruncate", "--format", "{{.ContainerID}} {{.ContainerName}}")
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			m[f[0]] = f[1]
		}
	}
	return m
}

// RemoveImageAtEnd removes ref from the storage when the test ends (vfs keeps
// a full copy of each image).
func (e *Env) RemoveImageAtEnd(t testing.TB, ref string) {
	t.Cleanup(func() { _ = e.Command("buildah", "rmi", ref).Run() })
}
