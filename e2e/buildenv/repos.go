package buildenv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// KeyFile is the armored public key's name inside a repo tree (served at
// /keys/<KeyFile> too).
const KeyFile = "RPM-GPG-KEY-mosc-e2e"

// FixtureNames are the negative fixtures, each served under
// /fixtures/<name>/ with the healthy repos for every path it does not change.
var FixtureNames = []string{"unsigned", "no-doca-openvswitch", "weakdep-ovs", "no-mlnx-dpdk"}

func fixtureByName(n string) Fixtures {
	switch n {
	case "unsigned":
		return Fixtures{UnsignedPackage: true}
	case "no-doca-openvswitch":
		return Fixtures{NoDOCAOpenvswitch: true}
	case "weakdep-ovs":
		return Fixtures{WeakDepOVS: true}
	case "no-mlnx-dpdk":
		return Fixtures{NoMLNXDPDK: true}
	}
	return Fixtures{}
}

// buildTree builds every repository into dir (which must not exist): the
// ELFs, the RPMs, signatures with a freshly generated key, createrepo_c
// metadata, and dir/keys/KeyFile. The healthy repos are at their real paths;
// each negative fixture adds only the repos it changes under
// dir/fixtures/<name>/.
func buildTree(dir string) error {
	work, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bins, err := compileELFs(filepath.Join(work, "elf"))
	if err != nil {
		return err
	}
	root := filepath.Join(work, "tree")
	s, err := newSigner()
	if err != nil {
		return err
	}
	defer s.close()
	if err := os.MkdirAll(filepath.Join(root, "keys"), 0o755); err != nil {
		return err
	}
	key := filepath.Join(root, "keys", KeyFile)
	if err := s.exportPublic(key); err != nil {
		return err
	}
	healthy := allRepos(Fixtures{}, bins)
	if err := buildRepos(root, healthy, nil, s, key); err != nil {
		return err
	}
	for _, n := range FixtureNames {
		if err := buildRepos(filepath.Join(root, "fixtures", n), allRepos(fixtureByName(n), bins), healthy, s, key); err != nil {
			return err
		}
	}
	if err := os.Rename(root, dir); err != nil {
		// Another process built the same tree first: use theirs.
		if _, statErr := os.Stat(filepath.Join(dir, "keys", KeyFile)); statErr == nil {
			return nil
		}
		return err
	}
	return nil
}

// buildRepos builds the repos of rs under root, skipping those identical to
// base's.
func buildRepos(root string, rs, base repoSet, s *signer, key string) error {
	paths := make([]string, 0, len(rs))
	for p := range rs {
		if base != nil && hashOf(nil, rs[p]) == hashOf(nil, base[p]) {
			continue
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		rdir := filepath.Join(root, filepath.FromSlash(p))
		if err := buildRPMs(filepath.Join(rdir, "Packages"), rs[p]); err != nil {
			return err
		}
		var signed, unsigned []string
		for _, pk := range rs[p] {
			f := filepath.Join(rdir, "Packages", pk.fileName())
			if pk.Unsigned {
				unsigned = append(unsigned, f)
			} else {
				signed = append(signed, f)
			}
		}
		if err := s.sign(signed); err != nil {
			return err
		}
		// The repos must never ship an unsigned package by accident, nor a
		// deliberately unsigned one signed.
		if err := verifySigned(key, signed); err != nil {
			return err
		}
		for _, u := range unsigned {
			if verifySigned(key, []string{u}) == nil {
				return fmt.Errorf("buildenv: %s should be unsigned but verifies", u)
			}
		}
		if out, err := exec.Command("createrepo_c", "--quiet", "--no-database", rdir).CombinedOutput(); err != nil {
			return fmt.Errorf("buildenv: createrepo_c %s: %w\n%s", p, err, out)
		}
	}
	return nil
}

// compileELFs builds the stand-in ovs-vswitchd per doca-openvswitch version,
// linked (without rpath) against the librte_eal of its DPDK version, so the
// dynamic loader finds the library only through /etc/ld.so.conf.d.
func compileELFs(dir string) (elfs, error) {
	b := elfs{vswitchd: map[string]string{}, librte: map[string]string{}}
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return b, err
	}
	for _, n := range []string{"ovs-vswitchd.c", "librte.c"} {
		data, err := assets.ReadFile("assets/" + n)
		if err != nil {
			return b, err
		}
		if err := os.WriteFile(filepath.Join(src, n), data, 0o644); err != nil {
			return b, err
		}
	}
	for _, d := range docaRepos {
		ld := filepath.Join(dir, "dpdk-"+d.DPDK)
		if err := os.MkdirAll(ld, 0o755); err != nil {
			return b, err
		}
		lib := filepath.Join(ld, "librte_eal.so.24")
		if err := gcc("-shared", "-fPIC", "-O2", "-Wl,-soname,librte_eal.so.24", fmt.Sprintf("-DDPDK_VERSION=%q", d.DPDK), "-o", lib, filepath.Join(src, "librte.c")); err != nil {
			return b, err
		}
		exe := filepath.Join(dir, "ovs-vswitchd-"+d.OVS)
		if err := gcc("-O2", fmt.Sprintf("-DOVS_VERSION=%q", d.OVS), "-o", exe, filepath.Join(src, "ovs-vswitchd.c"), "-L"+ld, "-l:librte_eal.so.24"); err != nil {
			return b, err
		}
		b.librte[d.DPDK], b.vswitchd[d.OVS] = lib, exe
	}
	return b, nil
}

func gcc(args ...string) error {
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("buildenv: gcc %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// contentHash names a cache entry after everything that goes into it,
// including the named embedded assets.
func contentHash(assetNames []string, parts ...any) string {
	return hashOf(assetNames, parts...)
}

// Assets each cache entry depends on.
var (
	repoAssets    = []string{"ovs-vswitchd.c", "librte.c"}
	standinAssets = []string{"rpm-ostree", "ostree", "bootc", "customize.sh"}
)

func hashOf(assetNames []string, parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			panic(err)
		}
		h.Write(b)
		h.Write([]byte{0})
	}
	for _, n := range assetNames {
		b, err := assets.ReadFile("assets/" + n)
		if err != nil {
			panic(err)
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
