package buildenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// keyUID names the test's signing key; its private half never leaves the
// temporary GNUPGHOME.
const keyUID = "mosc e2e repository signing key <e2e@mosc.invalid>"

// signer is a throw-away GnuPG home with one RSA signing key and no passphrase.
type signer struct{ home string }

// newSigner generates the key. The home is short (/tmp/...) because
// gpg-agent's socket path must fit in sun_path.
func newSigner() (*signer, error) {
	home, err := os.MkdirTemp("", "bgpg-")
	if err != nil {
		return nil, err
	}
	s := &signer{home: home}
	if out, err := s.gpg("--quick-generate-key", keyUID, "rsa3072", "sign", "never"); err != nil {
		s.close()
		return nil, fmt.Errorf("buildenv: gpg key generation: %w\n%s", err, out)
	}
	return s, nil
}

func (s *signer) gpg(args ...string) ([]byte, error) {
	cmd := exec.Command("gpg", append([]string{"--batch", "--homedir", s.home, "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
	return cmd.CombinedOutput()
}

// exportPublic writes the armored public key to path (what the site file's
// spec.repos.gpgKeys points at; mosc ships it in Secret etc-pki-rpm-gpg).
func (s *signer) exportPublic(path string) error {
	out, err := exec.Command("gpg", "--batch", "--homedir", s.home, "--armor", "--export", keyUID).Output()
	if err != nil || len(out) == 0 {
		return fmt.Errorf("buildenv: gpg --export: %v", err)
	}
	return os.WriteFile(path, out, 0o644)
}

// sign adds an RPM v4 signature to every given file with rpmsign.
func (s *signer) sign(files []string) error {
	if len(files) == 0 {
		return nil
	}
	args := []string{"--addsign",
		"--define", "_gpg_name " + keyUID,
		"--define", "_gpg_path " + s.home,
		"--define", "__gpg " + gpgPath(),
		// Batch signing without a pinentry (the key has no passphrase).
		"--define", "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''",
	}
	cmd := exec.Command("rpmsign", append(args, files...)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+s.home, "HOME="+s.home)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("buildenv: rpmsign: %w\n%s", err, out)
	}
	return nil
}

func gpgPath() string {
	if p, err := exec.LookPath("gpg"); err == nil {
		return p
	}
	return "/usr/bin/gpg"
}

func (s *signer) close() {
	_ = exec.Command("gpgconf", "--homedir", s.home, "--kill", "all").Run()
	_ = os.RemoveAll(s.home)
}

// verifySigned checks with the host's rpm that each file carries a signature
// from the exported key (a keyring made only of it): the repos must never
// ship an unsigned package by accident.
func verifySigned(pubKey string, files []string) error {
	db, err := os.MkdirTemp("", "buildenv-rpmdb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(db)
	if out, err := exec.Command("rpmkeys", "--dbpath", db, "--import", pubKey).CombinedOutput(); err != nil {
		return fmt.Errorf("buildenv: rpmkeys --import: %w\n%s", err, out)
	}
	for _, f := range files {
		out, err := exec.Command("rpmkeys", "--dbpath", db, "--checksig", f).CombinedOutput()
		// An unsigned package passes --checksig on its digests alone.
		if err != nil || !strings.Contains(string(out), "signatures OK") {
			return fmt.Errorf("buildenv: %s is not signed by the test key: %s", filepath.Base(f), out)
		}
	}
	return nil
}
