package buildenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The Debian side of the stand-in: what dnf and rpm need, from bookworm
// (mmdebstrap's essential variant: Essential:yes packages plus these).
var (
	debianSuite    = "bookworm"
	debianPackages = []string{"rpm", "dnf", "python3", "ca-certificates", "findutils", "gzip"}
)

// Image names in the harness's own container storage.
const (
	debianImage  = "localhost/mosc-e2e/debian-dnf"
	standinImage = "localhost/mosc-e2e/rhcos-standin"
)

// imageExists reports whether ref is in the harness's storage.
func (e *Env) imageExists(ref string) bool {
	cmd := exec.Command("buildah", "inspect", "--type", "image", "--format", "{{.FromImageID}}", ref)
	cmd.Env = e.Env
	return cmd.Run() == nil
}

// ensureDebian imports the mmdebstrap rootfs as an image, building the
// tarball first when the cache has none.
func (e *Env) ensureDebian() (string, error) {
	h := hashOf(nil, "debian", debianSuite, debianPackages)
	ref := debianImage + ":" + h
	if e.imageExists(ref) {
		return ref, nil
	}
	tar := filepath.Join(e.cache, "debian-"+h+".tar")
	if _, err := os.Stat(tar); err != nil {
		tmp := tar + ".tmp"
		e.logf("buildenv: mmdebstrap %s (%s) -> %s", debianSuite, strings.Join(debianPackages, ","), tar)
		cmd := exec.Command("mmdebstrap", "--variant=essential", "--include="+strings.Join(debianPackages, ","), "--quiet", debianSuite, tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("buildenv: mmdebstrap: %w\n%s", err, tail(out, 40))
		}
		if err := os.Rename(tmp, tar); err != nil {
			return "", err
		}
	}
	ctr, err := e.buildahOut("from", "--pull-never", "scratch")
	if err != nil {
		return "", err
	}
	defer e.buildahOut("rm", ctr) //nolint:errcheck
	if _, err := e.buildahOut("add", ctr, tar, "/"); err != nil {
		return "", err
	}
	if _, err := e.buildahOut("config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--cmd", "/bin/bash", ctr); err != nil {
		return "", err
	}
	if _, err := e.buildahOut("commit", "--quiet", "--rm", ctr, ref); err != nil {
		return "", err
	}
	return ref, nil
}

// rhcosLabels are the labels of a real rhel-coreos image that mosc's
// payload reading uses (com.coreos.stream names the RHEL minor; FACTS.md
// section 2), so a payload naming the stand-in reads like a real one.
func rhcosLabels(r Release) string {
	return fmt.Sprintf("com.coreos.osname=rhcos com.coreos.stream=rhel-%s org.opencontainers.image.version=%s.20251110-0", r.RHEL, r.RHEL)
}

// ensureStandin builds the RHCOS stand-in for a release on top of the Debian
// image: stock RPMs in /usr/share/rpm, the RHCOS layout and the
// rpm-ostree/ostree/bootc stand-ins (assets/customize.sh).
func (e *Env) ensureStandin(r Release) (string, error) {
	deb, err := e.ensureDebian()
	if err != nil {
		return "", err
	}
	e.debian = deb
	stock := stockPackages(r)
	h := contentHash(standinAssets, "standin", deb, r, stock, rhcosLabels(r))
	ref := standinImage + ":" + strings.ReplaceAll(r.OpenShift, ".", "") + "-" + h
	if e.imageExists(ref) {
		return ref, nil
	}
	ctx, err := os.MkdirTemp(e.cache, ".standin-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(ctx)
	if err := buildRPMs(filepath.Join(ctx, "stock"), stock); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(ctx, "tools"), 0o755); err != nil {
		return "", err
	}
	for _, n := range []string{"rpm-ostree", "ostree", "bootc", "customize.sh"} {
		b, err := assets.ReadFile("assets/" + n)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(ctx, "tools", n), b, 0o755); err != nil {
			return "", err
		}
	}
	cf := fmt.Sprintf(`FROM %s
COPY stock/ /tmp/mosc-build/stock/
COPY tools/ /tmp/mosc-build/tools/
RUN KVER=%s RHEL=%s OCP=%s bash /tmp/mosc-build/tools/customize.sh && rm -rf /tmp/mosc-build
# The stock image lints clean, as RHCOS does: what a layer adds is what shows.
RUN bootc container lint --fatal-warnings
LABEL ostree.bootable=true containers.bootc=1 ostree.linux=%s version=%s io.openshift.build.versions="machine-os=%s" mosc.dev/e2e-standin=true
LABEL %s
`, deb, r.Kernel, r.RHEL, r.OpenShift, r.Kernel, r.OpenShift, r.OpenShift, rhcosLabels(r))
	if err := os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(cf), 0o644); err != nil {
		return "", err
	}
	e.logf("buildenv: building %s", ref)
	if out, err := e.buildahOut("build", "--pull-never", "--layers=false", "-f", filepath.Join(ctx, "Containerfile"), "-t", ref, ctx); err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	return ref, nil
}

// extensionsImage is the stand-in for the payload's rhel-coreos-extensions
// image: an rpm-md repo at /usr/share/rpm-ostree/extensions/ (where MCO's
// Containerfile template binds it from) holding kernel-devel and
// kernel-headers of the release's kernel, and extensions.json.
func (e *Env) ensureExtensions(r Release, repoDir string) (string, error) {
	ref := "localhost/mosc-e2e/rhcos-extensions:" + strings.ReplaceAll(r.OpenShift, ".", "") + "-" + contentHash(nil, "extensions", r, filepath.Base(repoDir))
	if e.imageExists(ref) {
		return ref, nil
	}
	src := filepath.Join(repoDir, filepath.FromSlash(ExtensionsRepoPath(r.RHEL)))
	kv, kr := r.kernelVR()
	js := filepath.Join(e.cache, fmt.Sprintf(".extensions-%d.json", os.Getpid()))
	if err := os.WriteFile(js, []byte(fmt.Sprintf("{\n  \"kernel-devel\": \"%s-%s\",\n  \"kernel-headers\": \"%s-%s\"\n}\n", kv, kr, kv, kr)), 0o644); err != nil {
		return "", err
	}
	defer os.Remove(js)
	ctr, err := e.buildahOut("from", "--pull-never", "scratch")
	if err != nil {
		return "", err
	}
	defer e.buildahOut("rm", ctr) //nolint:errcheck
	if _, err := e.buildahOut("add", ctr, src, "/usr/share/rpm-ostree/extensions/"); err != nil {
		return "", err
	}
	if _, err := e.buildahOut("add", ctr, js, "/usr/share/rpm-ostree/extensions.json"); err != nil {
		return "", err
	}
	if _, err := e.buildahOut("commit", "--quiet", "--rm", ctr, ref); err != nil {
		return "", err
	}
	return ref, nil
}

// buildahOut runs buildah with the harness environment; the error carries the
// output's tail.
func (e *Env) buildahOut(args ...string) (string, error) {
	cmd := exec.Command("buildah", args...)
	cmd.Env = e.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("buildenv: buildah %s: %w\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	return strings.TrimSpace(string(out)), nil
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
