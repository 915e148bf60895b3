//go:build ignore

// Regenerates testdata/rpmheader: real package files for TestRPMHeaderOracle
// and FuzzRPMHeader (readRPMHeader against go-rpmutils), beside
// testdata/sigrepo's. Packages:
//
//	doca-all, doca-repo-key (noarch)  e2e/dnfrepo's Build and Sign, as the e2e
//	                                  gate tests make them (xz payload, RSA)
//	epoch                             Epoch: 3, signed with an Ed25519 key
//	                                  (rpm puts EdDSA in the DSA tag)
//	v3                                rpmsign --rpmv3: RSA header signature
//	                                  and a header+payload PGP signature
//	epoch-...src.rpm                  a source package (lead type 1), unsigned
//
// Needs rpmbuild, rpmsign, gpg, createrepo_c. Run from internal/repo:
// go run testdata/gen-rpmheader.go
package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/mosc-dev/mosc/e2e/dnfrepo"
)

func main() {
	out, err := filepath.Abs(filepath.Join("testdata", "rpmheader"))
	check(err)
	check(os.RemoveAll(out))
	check(os.MkdirAll(out, 0o755))
	work, err := os.MkdirTemp("", "rpmh-")
	check(err)
	defer os.RemoveAll(work)

	repo := filepath.Join(work, "repo")
	check(dnfrepo.Build(repo, []dnfrepo.Package{
		{Name: "doca-all", Version: "3.3.0", Release: "0040.el9"},
		{Name: "doca-repo-key", Version: "1.0", Release: "1", Arch: "noarch"},
	}))
	_, err = dnfrepo.Sign(repo)
	check(err)
	m, _ := filepath.Glob(filepath.Join(repo, "*.rpm"))
	if len(m) != 2 {
		log.Fatalf("dnfrepo built %v", m)
	}
	for _, f := range m {
		run("cp", f, out)
	}

	spec := func(name, extra string) string {
		f := filepath.Join(work, name+".spec")
		check(os.WriteFile(f, []byte(fmt.Sprintf(`Name: %s
Version: 1.0
Release: 1.el9
%sSummary: mosc header test package %s
License: Apache-2.0
BuildArch: x86_64
%%description
test
%%install
mkdir -p %%{buildroot}/usr/share/mosc-test
echo %s > %%{buildroot}/usr/share/mosc-test/%s
%%files
/usr/share/mosc-test/%s
`, name, extra, name, name, name, name)), 0o644))
		return f
	}
	top := filepath.Join(work, "top")
	build := func(mode, specFile string) {
		run("rpmbuild", mode, "--quiet", "--define", "_topdir "+top, "--define", "_build_id_links none", specFile)
	}
	build("-ba", spec("epoch", "Epoch: 3\n"))
	build("-bb", spec("v3", ""))
	rpms, _ := filepath.Glob(filepath.Join(top, "RPMS", "x86_64", "*.rpm"))
	srpms, _ := filepath.Glob(filepath.Join(top, "SRPMS", "*.rpm"))
	for _, f := range append(rpms, srpms...) {
		run("cp", f, out)
	}

	gpgHome := func(algo string) string {
		h, err := os.MkdirTemp("", "rpmhg-") // short: gpg-agent's socket
		check(err)
		run("gpg", "--batch", "--homedir", h, "--pinentry-mode", "loopback", "--passphrase", "",
			"--quick-generate-key", "mosc header test <h@mosc.invalid>", algo, "sign", "never")
		return h
	}
	sign := func(home string, extra []string, files ...string) {
		gpg, err := exec.LookPath("gpg")
		check(err)
		args := append([]string{"--addsign", "--define", "_gpg_name mosc header test", "--define", "_gpg_path " + home,
			"--define", "__gpg " + gpg, "--define", "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''"}, extra...)
		run("rpmsign", append(args, files...)...)
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		_ = os.RemoveAll(home)
	}
	sign(gpgHome("ed25519"), nil, filepath.Join(out, "epoch-1.0-1.el9.x86_64.rpm"))
	sign(gpgHome("rsa2048"), []string{"--rpmv3"}, filepath.Join(out, "v3-1.0-1.el9.x86_64.rpm"))
}

func run(name string, args ...string) {
	if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		log.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
