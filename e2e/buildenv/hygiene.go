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
// finds no other holder (an exclusive flock succeeds) prunes before taking
// its shared lock — and even then only what is older than LeftAfter, since
// a process of older code, or a build run by hand, takes no lock.

// StaleAfter is how long an image of the harness may go unused by any Start
// before the prune removes it.
const StaleAfter = 12 * time.Hour

// LeftAfter is the age from which a working container or a dangling image
// counts as left behind. A process of code that takes no in-use lock (an
// older checkout, a mosc build run by hand) may be building right now, and a
// running multi-stage build holds unnamed stage images; no single build
// takes this long.
const LeftAfter = 2 * time.Hour

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

// prune removes working containers and dangling images older than
// LeftAfter, and the harness's images no Start has used for StaleAfter. Only
// called when no other process holding the in-use lock uses the storage.
func (e *Env) prune() string {
	return e.pruneAt(time.Now())
}

func (e *Env) pruneAt(now time.Time) string {
	var done []string
	if ids := e.leftContainers(now); len(ids) > 0 {
		n := 0
		for _, id := range ids {
			if _, err := e.buildahOut("rm", id); err == nil {
				n++
			}
		}
		done = append(done, fmt.Sprintf("%d working container(s)", n))
	}
	if ids := e.leftImages(now); len(ids) > 0 {
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
	if stale := e.staleImages(now); len(stale) > 0 {
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

// leftContainers are the working containers created LeftAfter ago or more.
// buildah shows no creation time; containers/storage records it in the
// driver's containers.json (GRAPHROOT/vfs-containers/containers.json).
func (e *Env) leftContainers(now time.Time) []string {
	b, err := os.ReadFile(filepath.Join(e.cache, "containers", "graph", "vfs-containers", "containers.json"))
	if err != nil {
		return nil
	}
	var ctrs []struct {
		ID      string    `json:"id"`
		Created time.Time `json:"created"`
	}
	if json.Unmarshal(b, &ctrs) != nil {
		return nil
	}
	var ids []string
	for _, c := range ctrs {
		if now.Sub(c.Created) >= LeftAfter {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// leftImages are the dangling images created LeftAfter ago or more.
func (e *Env) leftImages(now time.Time) []string {
	out, err := e.buildahOut("images", "--filter", "dangling=true", "--json")
	if err != nil {
		return nil
	}
	var imgs []struct {
		ID      string `json:"id"`
		Created int64  `json:"created"`
	}
	if json.Unmarshal([]byte(out), &imgs) != nil {
		return nil
	}
	var ids []string
	for _, i := range imgs {
		if now.Sub(time.Unix(i.Created, 0)) >= LeftAfter {
			ids = append(ids, i.ID)
		}
	}
	return ids
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
