package profile

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
)

// ParseGPGKey parses armored OpenPGP public keys the way rpm and dnf will
// need them: the armour (with its checksum) and every packet of every key.
// Checking only the BEGIN/END lines let a file with garbage between them
// through, and the build then failed with "GPG key retrieval failed". It
// returns the primary keys' fingerprints (upper-case hex), in file order.
func ParseGPGKey(data []byte) ([]string, error) {
	if !bytes.Contains(data, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		return nil, errors.New("not an armored PGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)")
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a valid armored PGP public key: %s", pgpError(err))
	}
	if len(ring) == 0 {
		return nil, errors.New("the armour holds no public key")
	}
	var fps []string
	for _, e := range ring {
		if e.PrivateKey != nil {
			return nil, errors.New("holds a private key: ship only the public key")
		}
		fps = append(fps, strings.ToUpper(fmt.Sprintf("%x", e.PrimaryKey.Fingerprint)))
	}
	return fps, nil
}

// pgpError words the library's errors without its package prefixes.
func pgpError(err error) string {
	var se pgperrors.StructuralError
	if errors.As(err, &se) {
		return "malformed key packets: " + string(se)
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "openpgp: ")
	if msg == "EOF" || msg == "unexpected EOF" {
		return "truncated armour or key data"
	}
	return msg
}

// GPGKeyFileName names a key file in Secret etc-pki-rpm-gpg after the key,
// not after the first repo that uses it: the source file's name when it is
// a plain file name no other key took, else RPM-GPG-KEY-<fingerprint>.
func GPGKeyFileName(source string, fingerprints []string, taken map[string]string) string {
	id := strings.Join(fingerprints, "-")
	if base := filepath.Base(source); matchKeyFileName(base) {
		if owner, ok := taken[base]; !ok || owner == id {
			return base
		}
	}
	return "RPM-GPG-KEY-" + fingerprints[0]
}
