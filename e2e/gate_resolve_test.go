package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/mosc-dev/mosc/e2e/buildenv"
	"github.com/mosc-dev/mosc/e2e/dnfrepo"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/release/releasetest"
)

// TestGateResolve: gate's install-resolve check (issue 12 finding 2) runs
// dnf against the target payload's real node image — the build harness's
// RHCOS stand-in (buildah-built, rpm database in /usr/share/rpm), pushed to
// the harness registry as the payload's rhel-coreos — and the harness's
// signed DOCA, BaseOS, AppStream, CRB and EPEL repositories, whose packages
// depend on each other and on the base image by soname with symbol
// version, by file and by version (e2e/buildenv fixtures.go).
//   - healthy: the transaction resolves, gate passes;
//   - the target's RHCOS ships an older numactl-libs (its libnuma lacks the
//     libnuma_1.6 symbol version DPDK needs; no repo has numactl-libs): fail
//     naming it and mlnx-dpdk;
//   - the DOCA repository lacks mlnx-dpdk, which doca-openvswitch requires
//     at an exact version: fail naming both.
//
// No cluster: the cluster checks skip.
func TestGateResolve(t *testing.T) {
	be := buildenv.Start(t, buildenv.Options{})
	host := env.Registry.Host()
	dir := t.TempDir()
	push := func(local, repo, tag string) string {
		t.Helper()
		df := filepath.Join(t.TempDir(), "digest")
		if out, err := be.Command("buildah", "push", "--quiet", "--tls-verify=false", "--creds", env.Registry.User()+":"+env.Registry.Password(),
			"--digestfile", df, local, "docker://"+host+"/"+repo+":"+tag).CombinedOutput(); err != nil {
			t.Fatalf("buildah push %s: %v\n%s", local, err, out)
		}
		d, err := os.ReadFile(df)
		must(t, err)
		return host + "/" + repo + "@" + strings.TrimSpace(string(d))
	}
	base := push(be.BaseImage, "mosc-e2e/rhcos", "resolve")
	ext := push(be.ExtensionsImage, "mosc-e2e/rhcos-extensions", "resolve")
	auth := base64.StdEncoding.EncodeToString([]byte(env.Registry.User() + ":" + env.Registry.Password()))
	regcfg := filepath.Join(dir, "pull-secret.json")
	must(t, os.WriteFile(regcfg, []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600))
	payload := func(tag, rhcos string) string {
		t.Helper()
		ref, err := releasetest.Push(host+"/openshift-release-dev", releasetest.Spec{
			Version: "4.21.11", Tag: tag,
			CoreOS:    map[string]map[string]string{"rhel-coreos-10": releasetest.Labels("10.2", "20251112-0")},
			Images:    map[string]string{"rhel-coreos": rhcos, "rhel-coreos-extensions": ext},
			OtherTags: []string{"cli", "machine-config-operator", "ovn-kubernetes"},
		}, remote.WithAuth(env.Registry.Authenticator()))
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	gate := func(t *testing.T, site, ref string, wantCode int, format string) (gateReport, string, string) {
		t.Helper()
		start := time.Now()
		out, errOut, code := runMoscWith(t, moscRun{Dir: dir, Env: []string{"KUBECONFIG=", "HOME=" + t.TempDir()}, Timeout: 5 * time.Minute},
			"gate", "-f", site, "--to", "4.21.11", "--release-image", ref, "--registry-config", regcfg, "-o", format)
		t.Logf("mosc gate: exit %d in %s", code, time.Since(start).Round(time.Second))
		if code != wantCode {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, out, errOut)
		}
		var r gateReport
		if format == "json" {
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, c := range r.Checks {
				t.Logf("%-20s %s: %s", c.ID, c.Status, firstLineOf(c.Message))
			}
		}
		return r, out, errOut
	}
	site := be.WriteSite(t, dir, buildenv.SiteOptions{OpenShift: "4.20", Stack: "doca-3.3", Variant: "full"})

	t.Run("healthy", func(t *testing.T) {
		r, _, errOut := gate(t, site, payload("4.21.11-x86_64-resolve", base), 0, "json")
		// Progress on stderr: the download, then dnf.
		if !strings.Contains(errOut, "install-resolve: reading the rpm database of the target's rhel-coreos "+base) || !strings.Contains(errOut, "install-resolve: read /usr/share/rpm from layer 2 of 2 (") {
			t.Errorf("stderr:\n%s", errOut)
		}
		for _, l := range strings.Split(errOut, "\n") {
			if strings.HasPrefix(l, "install-resolve: ") {
				t.Logf("stderr: %s", l)
			}
		}
		expectChecks(t, r, map[string]string{"install-resolve": "pass", "release-payload": "pass", "repo-preflight": "pass"}, map[string][]string{
			"install-resolve": {"dnf resolves the layer's package transaction (removes openvswitch3.5; replaces libibverbs-0:2601mlnx60-1.2601040.x86_64, rdma-core-0:2601mlnx60-1.2601040.x86_64; upgrades ",
				"on rhel-coreos's rpm database (", " packages, /usr/share/rpm in layer 2 of 2, ", " read) with repos ",
				"with repos doca, baseos, appstream, crb, epel ($basearch x86_64, $releasever 9): the build installs ",
				// openssl-devel pulls CentOS's newer openssl-libs over RHCOS's.
				"\nreplaces the node image's ", "openssl-libs-1:3.5.1-3.el9 (baseos)"},
		})
		for _, c := range r.Checks {
			if c.ID != "install-resolve" {
				continue
			}
			t.Logf("install-resolve's message (docs/gate.md shows it):\n%s", c.Message)
			o, _ := c.Details["outcome"].(map[string]any)
			counts, _ := o["counts"].(map[string]any)
			// doca-all's closure (doca-all, doca-openvswitch, mlnx-dpdk,
			// doca-sdk-common, doca-extra, mlnx-ofa_kernel-dkms, kernel-devel,
			// libyaml, libpcap, libzip, libunwind, jsoncpp) and the build deps.
			if n, _ := counts["Install"].(float64); n < 12 {
				t.Errorf("install count %v: %v", counts["Install"], c.Details)
			}
			if cmd, _ := c.Details["command"].(string); !strings.HasPrefix(cmd, "dnf --installroot $ROOT ") || !strings.Contains(cmd, " --assumeno ") || !strings.Contains(cmd, "--forcearch x86_64") || !strings.HasSuffix(cmd, " doca-all") {
				t.Errorf("command %s", cmd)
			}
		}
	})

	t.Run("target base has an older library", func(t *testing.T) {
		older := olderBase(t, base, buildenv.NumactlLibs("2.0.14", 5))
		ref := payload("4.21.11-x86_64-oldnuma", older)
		r, _, _ := gate(t, site, ref, 1, "json")
		expectChecks(t, r, map[string]string{"install-resolve": "fail", "release-payload": "pass", "repo-preflight": "pass"}, map[string][]string{
			"install-resolve": {"dnf cannot resolve the layer's package transaction", ": nothing provides libnuma.so.1(libnuma_1.6)(64bit) needed by mlnx-dpdk-22.11.2601.1.0-1.el9.x86_64",
				"libnuma.so.1(libnuma_1.6)(64bit) comes from neither the target's rhel-coreos nor any enabled repository"},
		})
		// The table, as docs/gate.md shows it.
		_, out, _ := gate(t, site, ref, 1, "table")
		t.Logf("mosc gate (table):\n%s", out)
	})

	t.Run("repo lacks a transitive dependency", func(t *testing.T) {
		fx := buildenv.Start(t, buildenv.Options{Fixtures: buildenv.Fixtures{NoMLNXDPDK: true}})
		fsite := fx.WriteSite(t, t.TempDir(), buildenv.SiteOptions{OpenShift: "4.20", Stack: "doca-3.3", Variant: "full"})
		r, _, _ := gate(t, fsite, payload("4.21.11-x86_64-resolve", base), 1, "json")
		expectChecks(t, r, map[string]string{"install-resolve": "fail"}, map[string][]string{
			// libsolv names both of what mlnx-dpdk would have brought: the
			// package at its exact version and the soname it provides.
			"install-resolve": {": nothing provides librte_eal.so.24()(64bit) needed by doca-openvswitch-3.3.0040-1.el9.x86_64", "\nnothing provides mlnx-dpdk = 22.11.2601.1.0-1.el9 needed by doca-openvswitch-3.3.0040-1.el9.x86_64"},
		})
		if _, msg := r.status("install-resolve"); !strings.Contains(msg, "no enabled repository has mlnx-dpdk = 22.11.2601.1.0-1.el9, which doca-openvswitch-3.3.0040-1.el9.x86_64 requires by name") {
			t.Errorf("remedy: %s", msg)
		}
	})
}

// olderBase pushes base with one more layer whose rpm database has numactl
// replaced by pkg, as a later RHCOS build that shipped another version
// would: the database is the stand-in's own (read back with mosc's
// release.FetchRPMDB), changed with rpm.
func olderBase(t *testing.T, base string, pkg buildenv.Package) string {
	t.Helper()
	root := t.TempDir()
	opts := release.Options{DockerConfigJSON: []byte(`{"auths":{"` + env.Registry.Host() + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte(env.Registry.User()+":"+env.Registry.Password())) + `"}}}`)}
	db, err := release.FetchRPMDB(context.Background(), base, opts, root)
	if err != nil {
		t.Fatal(err)
	}
	dbDir := filepath.Join(root, filepath.FromSlash(db.Dir))
	rpms := t.TempDir()
	dp := dnfrepo.Package{Name: pkg.Name, Version: pkg.Version, Release: pkg.Release, Provides: pkg.Provides, Requires: pkg.Requires}
	must(t, dnfrepo.Build(rpms, []dnfrepo.Package{dp}))
	files, _ := filepath.Glob(filepath.Join(rpms, "*.rpm"))
	for _, args := range [][]string{
		{"--dbpath", dbDir, "-e", "--justdb", "--nodeps", pkg.Name},
		append([]string{"--dbpath", dbDir, "-i", "--justdb", "--nodeps"}, files...),
	} {
		if out, err := exec.Command("rpm", args...).CombinedOutput(); err != nil {
			t.Fatalf("rpm %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("rpm", "--dbpath", dbDir, "-q", pkg.Name).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), pkg.Name+"-"+pkg.Version+"-") {
		t.Fatalf("rpm -q %s: %v\n%s", pkg.Name, err, out)
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	entries, err := os.ReadDir(dbDir)
	must(t, err)
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == ".rpm.lock" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dbDir, e.Name()))
		must(t, err)
		must(t, tw.WriteHeader(&tar.Header{Name: db.Dir + "/" + e.Name(), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err = tw.Write(data)
		must(t, err)
	}
	must(t, tw.Close())
	data := b.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	must(t, err)
	src, err := name.ParseReference(base, name.Insecure)
	must(t, err)
	img, err := remote.Image(src, remote.WithAuth(env.Registry.Authenticator()))
	must(t, err)
	img, err = mutate.AppendLayers(img, layer)
	must(t, err)
	dst, err := name.ParseReference(env.Registry.Host()+"/mosc-e2e/rhcos:older-"+pkg.Name, name.Insecure)
	must(t, err)
	must(t, remote.Write(dst, img, remote.WithAuth(env.Registry.Authenticator())))
	d, err := img.Digest()
	must(t, err)
	return env.Registry.Host() + "/mosc-e2e/rhcos@" + d.String()
}
