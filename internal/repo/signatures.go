package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Signature states of one package.
const (
	SigSigned     = "signed"      // a header signature verifies with one of the repo's keys
	SigUnsigned   = "unsigned"    // the header carries no signature
	SigUnknownKey = "unknown-key" // signed, by a key the repo does not name
	SigBad        = "bad"         // the signature, the header or the download is wrong
)

// SignatureQuery says which packages of a repository to check, and with
// which keys (the repo's gpgkey).
type SignatureQuery struct {
	BaseURL string
	Arches  []string
	// Roots are the packages the layer installs from this repository; their
	// closure within it is checked.
	Roots []string
	Keys  openpgp.EntityList
}

// PackageSignature is one package's verdict.
type PackageSignature struct {
	Package
	Status string `json:"status"`
	// KeyID is the signing key's id (16 hex digits) when the header is signed.
	KeyID string `json:"keyID,omitempty"`
	// Signer is the signing key's fingerprint when it is one of the keys.
	Signer string `json:"signer,omitempty"`
	Error  string `json:"error,omitempty"`
}

// SignatureResult is the check of one repository.
type SignatureResult struct {
	BaseURL  string             `json:"baseURL"`
	Revision string             `json:"revision,omitempty"`
	Packages []PackageSignature `json:"packages"`
	Missing  []string           `json:"missing,omitempty"`
	// External are requirements other repositories (or the base) satisfy.
	External   []string `json:"external,omitempty"`
	Unfollowed []string `json:"unfollowed,omitempty"`
	// HeaderBytes is what was downloaded of the packages: their headers.
	HeaderBytes int64 `json:"headerBytes"`
}

// With returns the packages whose status is one of statuses.
func (r *SignatureResult) With(statuses ...string) []PackageSignature {
	var out []PackageSignature
	for _, p := range r.Packages {
		for _, s := range statuses {
			if p.Status == s {
				out = append(out, p)
			}
		}
	}
	return out
}

// maxHeader bounds one header download when primary.xml gives no range
// (rpm refuses headers above 256 MiB; real ones are kilobytes to a few MiB).
const maxHeader = 64 << 20

// Signatures computes the closure of q.Roots in the repository and checks
// the header signature of every package in it, reading only each file's
// header: a range request for bytes [0, rpm:header-range end). The header is
// parsed by readRPMHeader (rpmheader.go, which also checks the header digest
// the signature header records) and its signature verified with go-crypto
// against q.Keys, as rpm does for a header-only (RSA/DSA tag) signature.
func (c *Client) Signatures(ctx context.Context, q SignatureQuery) (*SignatureResult, error) {
	var entries []Entry
	md, _, err := c.readPrimary(ctx, q.BaseURL, func(plain io.Reader) (int, error) {
		return ScanPrimaryEntries(plain, func(e Entry) { entries = append(entries, e) })
	})
	if err != nil {
		return nil, err
	}
	cl := ComputeClosure(entries, q.Roots, q.Arches)
	res := &SignatureResult{BaseURL: q.BaseURL, Revision: md.Revision, Missing: cl.Missing, External: cl.External, Unfollowed: cl.Unfollowed,
		Packages: make([]PackageSignature, len(cl.Packages))}
	base := strings.TrimRight(q.BaseURL, "/") + "/"
	// A few requests at a time: real closures are ~100 packages.
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, e := range cl.Packages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ps, n := c.checkPackage(ctx, base, e, q.Keys)
			res.Packages[i] = ps
			mu.Lock()
			res.HeaderBytes += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// checkPackage reads one package's header and verifies its signature. It
// returns the verdict and the bytes read.
func (c *Client) checkPackage(ctx context.Context, base string, e Entry, keys openpgp.EntityList) (PackageSignature, int64) {
	ps := PackageSignature{Package: e.Package}
	fail := func(err error) PackageSignature {
		ps.Status, ps.Error = SigBad, err.Error()
		return ps
	}
	if e.Location == "" {
		return fail(errors.New("primary.xml gives no location")), 0
	}
	u, err := resolveHref(base, e.Location)
	if err != nil {
		return fail(err), 0
	}
	body, err := c.openHeader(ctx, u, e.HeaderEnd)
	if err != nil {
		return fail(err), 0
	}
	defer body.Close()
	hdr, n, err := readRPMHeader(body)
	var te *truncatedError
	switch {
	case errors.As(err, &te) && e.HeaderEnd > 0 && n == e.HeaderEnd:
		// Read all the range said: primary.xml and the file disagree.
		return fail(fmt.Errorf("%s: %v, but primary.xml's rpm:header-range ends at byte %d (metadata older than the file?)", u, err, e.HeaderEnd)), n
	case err != nil:
		return fail(fmt.Errorf("%s: %v", u, err)), n
	}
	if nevra, err := hdr.nevra(); err != nil {
		return fail(fmt.Errorf("%s: the header has no name-version-release.arch (%v); primary.xml says %s", u, err, e.NEVRA())), n
	} else if nevra.Name != e.Name || nevra.Version != e.Version || nevra.Release != e.Release || nevra.Arch != e.Arch {
		return fail(fmt.Errorf("%s: the header is %s, primary.xml says %s (stale mirror?)", u, nevra, e.NEVRA())), n
	}
	var sig []byte
	for _, tag := range []int32{sigTagRSA, sigTagDSA} {
		if b := hdr.sigBytes(tag); len(b) > 0 {
			sig = b
			break
		}
	}
	if sig == nil {
		ps.Status = SigUnsigned
		if hdr.hasSigTag(sigTagPGP) || hdr.hasSigTag(sigTagGPG) {
			// Only a header+payload signature (rpm < 4.1 style): rpm's
			// header check would call it unsigned too.
			ps.Error = "only a header+payload signature, which cannot be checked from the header"
		}
		return ps, n
	}
	if p, err := packet.Read(bytes.NewReader(sig)); err == nil {
		if s, ok := p.(*packet.Signature); ok && s.IssuerKeyId != nil {
			ps.KeyID = fmt.Sprintf("%016X", *s.IssuerKeyId)
		}
	}
	signer, err := openpgp.CheckDetachedSignature(keys, bytes.NewReader(hdr.signed()), bytes.NewReader(sig), nil)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		ps.Status = SigUnknownKey
		return ps, n
	case err != nil:
		return fail(fmt.Errorf("header signature: %v", err)), n
	}
	ps.Status = SigSigned
	if signer != nil && signer.PrimaryKey != nil {
		ps.Signer = strings.ToUpper(fmt.Sprintf("%x", signer.PrimaryKey.Fingerprint))
	}
	return ps, n
}

// openHeader opens the first end bytes of a package file (the whole stream
// when end is 0; the caller stops reading after the header).
func (c *Client) openHeader(ctx context.Context, u string, end int64) (io.ReadCloser, error) {
	limit := end
	if limit <= 0 {
		limit = maxHeader
	}
	body, err := c.openRange(ctx, u, end)
	if err != nil {
		return nil, err
	}
	return readCloser{io.LimitReader(body, limit), body}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Fetch reads a small document (a gpgkey URL) over http(s) or file://.
func (c *Client) Fetch(ctx context.Context, u string) ([]byte, error) {
	body, err := c.open(ctx, u)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB, not a key file", u)
	}
	return b, nil
}
