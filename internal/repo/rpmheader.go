package repo

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
)

// This file reads what the header-signature check needs of an RPM package
// file: the lead, the signature header and the main header, and checks the
// main header against the digest the signature header records. The format
// is rpm.org's (rpm-software-management/rpm, master, docs/manual/
// format_v4.md, format_lead.md, format_header.md; tag numbers from
// include/rpm/rpmtag.h).
//
// mosc read these with github.com/sassoftware/go-rpmutils (v0.4.0
// rpmutils.go ReadHeader) until issue 15: linking it put two xz decoders,
// zstd, cpio and crc64 and their package init into every mosc command, for
// a header parse of ~150 lines. It stays as the test oracle: FuzzRPMHeader
// and TestRPMHeaderOracle hold this reader to its ReadHeader, GetNEVRA,
// GetBytes, HasTag and GetRange. Where go-rpmutils panics or allocates what
// the header claims (index offsets outside the data, a string tag with no
// count, a 4 GiB data length) this reader returns an error instead.

const (
	rpmLeadSize = 96
	// rpmLeadMagic starts every package file (format_lead.md).
	rpmLeadMagic = 0xedabeedb
	// rpmHeaderMagic starts both headers: 8e ad e8 and header version 01
	// (format_header.md); the next four bytes are reserved.
	rpmHeaderMagic = 0x8eade801
	// rpm's own bounds on a header (lib/header_internal.hh HEADER_TAGS_MAX,
	// HEADER_DATA_MAX): a header claiming more is refused before anything
	// of that size is read or allocated.
	rpmMaxEntries = 0xffff
	rpmMaxData    = 256 << 20
)

// Tags (include/rpm/rpmtag.h). The signature header's numbers clash with the
// main header's (RPMSIGTAG_PGP is 1002 there, RPMTAG_RELEASE here), so each
// is looked up in its own header.
const (
	sigTagDSA    = 267  // RPMSIGTAG_DSA: OpenPGP signature of the main header (DSA, ECDSA, EdDSA keys)
	sigTagRSA    = 268  // RPMSIGTAG_RSA: the same with an RSA key
	sigTagSHA1   = 269  // RPMSIGTAG_SHA1: hex SHA-1 of the main header
	sigTagSHA256 = 273  // RPMSIGTAG_SHA256: hex SHA-256 of the main header (RPMTAG_SIG_BASE+17)
	sigTagPGP    = 1002 // RPMSIGTAG_PGP: RSA signature of header+payload (rpm v3 style)
	sigTagGPG    = 1005 // RPMSIGTAG_GPG: the same with a DSA key

	tagName    = 1000
	tagVersion = 1001
	tagRelease = 1002
	tagEpoch   = 1003
	tagArch    = 1022
)

// Header data types (format_header.md).
const (
	rpmTypeNull        = 0
	rpmTypeChar        = 1
	rpmTypeInt8        = 2
	rpmTypeInt16       = 3
	rpmTypeInt32       = 4
	rpmTypeInt64       = 5
	rpmTypeString      = 6
	rpmTypeBin         = 7
	rpmTypeStringArray = 8
	rpmTypeI18NString  = 9
)

// rpmTypeSize is the size of one value of a fixed-size type; the string
// types (and, as go-rpmutils reads them, unknown types) are NUL-terminated
// instead.
func rpmTypeSize(typ int32) (int64, bool) {
	switch typ {
	case rpmTypeNull:
		return 0, true
	case rpmTypeChar, rpmTypeInt8, rpmTypeBin:
		return 1, true
	case rpmTypeInt16:
		return 2, true
	case rpmTypeInt32:
		return 4, true
	case rpmTypeInt64:
		return 8, true
	}
	return 0, false
}

func isStringType(typ int32) bool {
	return typ == rpmTypeString || typ == rpmTypeStringArray || typ == rpmTypeI18NString
}

// digestError is a main header that does not hash to the digest its
// signature header records: a corrupt download or a changed header.
type digestError struct{ algo string }

func (e *digestError) Error() string {
	return fmt.Sprintf("the header's %s digest is not the one its signature header records (a corrupt download or a changed header)", e.algo)
}

// rpmEntry is one index entry and its data.
type rpmEntry struct {
	tag, typ, count int32
	data            []byte
}

// rpmPackageHeader is a package file's lead, signature header and main
// header, as read.
type rpmPackageHeader struct {
	// raw is every byte read: lead, signature header (with its padding)
	// and main header.
	raw []byte
	// mainStart and mainEnd delimit the main header in raw: the bytes the
	// header signature signs.
	mainStart, mainEnd int
	sig, main          []rpmEntry
}

// rpmNEVRA is the identity the main header records.
type rpmNEVRA struct {
	Name, Epoch, Version, Release, Arch string
}

func (n rpmNEVRA) String() string {
	return n.Name + "-" + n.Version + "-" + n.Release + "." + n.Arch
}

// readRPMHeader reads the lead and both headers from r, leaving it at the
// payload, and checks the main header's digest (the SHA-256 the signature
// header records, else its SHA-1; a header recording neither is not
// checked, as go-rpmutils does not). It returns the bytes it read, also on
// error.
func readRPMHeader(r io.Reader) (*rpmPackageHeader, int64, error) {
	rd := &rpmReader{r: r}
	rd.buf.Grow(8 << 10) // real headers: a few KiB to a few MiB
	h, err := rd.read()
	return h, int64(rd.buf.Len()), err
}

type rpmReader struct {
	r   io.Reader
	buf bytes.Buffer
}

// truncatedError is a file that ends inside its headers.
type truncatedError struct {
	what      string
	got, want int64
}

func (e *truncatedError) Error() string {
	return fmt.Sprintf("%s: the file ends after %d of its %d bytes", e.what, e.got, e.want)
}

// next reads n more bytes into buf and returns where they start. Growing
// with what arrives (not by the size a header claims) bounds memory by the
// bytes the server sends.
func (rd *rpmReader) next(n int64, what string) (int, error) {
	start := rd.buf.Len()
	got, err := io.CopyN(&rd.buf, rd.r, n)
	if err == io.EOF {
		return 0, &truncatedError{what, got, n}
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", what, err)
	}
	return start, nil
}

func (rd *rpmReader) read() (*rpmPackageHeader, error) {
	_, err := rd.next(rpmLeadSize, "RPM lead")
	if b := rd.buf.Bytes(); len(b) >= 4 && binary.BigEndian.Uint32(b) != rpmLeadMagic {
		// An HTML error page or a redirect target's body, typically.
		return nil, fmt.Errorf("not an RPM package: it starts with % x, not the RPM lead magic ed ab ee db", b[:4])
	}
	if err != nil {
		return nil, err
	}
	sigStart, sigEnd, err := rd.header("signature header", true)
	if err != nil {
		return nil, err
	}
	mainStart, mainEnd, err := rd.header("header", false)
	if err != nil {
		return nil, err
	}
	raw := rd.buf.Bytes()
	h := &rpmPackageHeader{raw: raw, mainStart: mainStart, mainEnd: mainEnd}
	if h.sig, err = parseEntries("signature header", raw[sigStart:sigEnd]); err != nil {
		return nil, err
	}
	// The digest before the main header's index: a damaged download is
	// then reported as one.
	if err := h.checkDigest(); err != nil {
		return nil, err
	}
	if h.main, err = parseEntries("header", raw[mainStart:mainEnd]); err != nil {
		return nil, err
	}
	return h, nil
}

// header reads one header (intro, index, data; the signature header's data
// is zero-padded to a multiple of 8 bytes: format_v4.md) and returns its
// span in buf, padding included.
func (rd *rpmReader) header(what string, pad bool) (start, end int, err error) {
	start, err = rd.next(16, what)
	if err != nil {
		return 0, 0, err
	}
	intro := rd.buf.Bytes()[start:]
	if m := binary.BigEndian.Uint32(intro); m != rpmHeaderMagic {
		return 0, 0, fmt.Errorf("%s at byte %d: magic % x, not 8e ad e8 01", what, start, intro[:4])
	}
	il, dl := int64(binary.BigEndian.Uint32(intro[8:])), int64(binary.BigEndian.Uint32(intro[12:]))
	if il > rpmMaxEntries {
		return 0, 0, fmt.Errorf("%s at byte %d: %d index entries, more than rpm's limit of %d", what, start, il, rpmMaxEntries)
	}
	if dl > rpmMaxData {
		return 0, 0, fmt.Errorf("%s at byte %d: %d bytes of data, more than rpm's limit of %d", what, start, dl, rpmMaxData)
	}
	if pad {
		dl = (dl + 7) &^ 7
	}
	if _, err := rd.next(il*16+dl, what); err != nil {
		return 0, 0, err
	}
	return start, rd.buf.Len(), nil
}

// parseEntries checks and slices a header's index (hdr is intro, index and
// data). Every entry must lie inside the data and every string be
// NUL-terminated there, as go-rpmutils requires of each entry whatever its
// tag. A tag given twice reads as its last entry, as there.
func parseEntries(what string, hdr []byte) ([]rpmEntry, error) {
	il := int(binary.BigEndian.Uint32(hdr[8:]))
	index, data := hdr[16:16+il*16], hdr[16+il*16:]
	out := make([]rpmEntry, il)
	for i := range out {
		e := index[i*16:]
		tag, typ := int32(binary.BigEndian.Uint32(e)), int32(binary.BigEndian.Uint32(e[4:]))
		off, count := int64(int32(binary.BigEndian.Uint32(e[8:]))), int64(int32(binary.BigEndian.Uint32(e[12:])))
		bad := func(why string) error {
			return fmt.Errorf("%s: index entry %d (tag %d, type %d): %s", what, i, tag, typ, why)
		}
		if off < 0 || off > int64(len(data)) {
			return nil, bad(fmt.Sprintf("offset %d outside the %d-byte data", off, len(data)))
		}
		end := off
		if size, ok := rpmTypeSize(typ); ok {
			end = off + size*count
			if end < off || end > int64(len(data)) {
				return nil, bad(fmt.Sprintf("%d values at offset %d run outside the %d-byte data", count, off, len(data)))
			}
		} else {
			for range count {
				n := bytes.IndexByte(data[end:], 0)
				if n < 0 {
					return nil, bad(fmt.Sprintf("string at offset %d is not NUL-terminated within the data", end))
				}
				end += int64(n) + 1
			}
		}
		out[i] = rpmEntry{tag: tag, typ: typ, count: int32(count), data: data[off:end]}
	}
	return out, nil
}

// find returns the last entry of tag, or nil.
func find(entries []rpmEntry, tag int32) *rpmEntry {
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].tag == tag {
			return &entries[i]
		}
	}
	return nil
}

// firstString is the first string of a string-typed entry.
func (e *rpmEntry) firstString() (string, error) {
	if !isStringType(e.typ) {
		return "", fmt.Errorf("tag %d has type %d, not a string", e.tag, e.typ)
	}
	if e.count < 1 {
		return "", fmt.Errorf("tag %d holds %d strings", e.tag, e.count)
	}
	s, _, _ := bytes.Cut(e.data, []byte{0})
	return string(s), nil
}

// checkDigest compares the main header with the digest the signature header
// records, choosing it as go-rpmutils (v0.4.0 signatures.go getHashAndType)
// does: SHA-256 when that tag holds a non-empty string, else SHA-1.
func (h *rpmPackageHeader) checkDigest() error {
	want, name, sum := "", "", func([]byte) string { return "" }
	for _, d := range []struct {
		tag  int32
		name string
		sum  func([]byte) string
	}{
		{sigTagSHA256, "SHA-256", func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }},
		{sigTagSHA1, "SHA-1", func(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }},
	} {
		e := find(h.sig, d.tag)
		if e == nil {
			continue
		}
		if s, err := e.firstString(); err == nil && s != "" {
			want, name, sum = s, d.name, d.sum
			break
		} else if err != nil && isStringType(e.typ) {
			return fmt.Errorf("signature header: %s digest: %v", d.name, err)
		}
	}
	if want == "" {
		return nil
	}
	if sum(h.raw[h.mainStart:h.mainEnd]) != want {
		return &digestError{algo: name}
	}
	return nil
}

// nevra reads the package's identity from the main header; a missing
// EPOCH is 0.
func (h *rpmPackageHeader) nevra() (rpmNEVRA, error) {
	var n rpmNEVRA
	for _, f := range []struct {
		tag  int32
		name string
		to   *string
	}{{tagName, "NAME", &n.Name}, {tagVersion, "VERSION", &n.Version}, {tagRelease, "RELEASE", &n.Release}, {tagArch, "ARCH", &n.Arch}} {
		e := find(h.main, f.tag)
		if e == nil {
			return n, fmt.Errorf("no %s tag", f.name)
		}
		s, err := e.firstString()
		if err != nil {
			return n, fmt.Errorf("%s: %v", f.name, err)
		}
		*f.to = s
	}
	n.Epoch = "0"
	if e := find(h.main, tagEpoch); e != nil {
		size, ok := rpmTypeSize(e.typ)
		if !ok || e.typ == rpmTypeNull || e.typ == rpmTypeBin {
			return n, fmt.Errorf("EPOCH has type %d, not an integer", e.typ)
		}
		if len(e.data) > 0 {
			var v uint64
			for _, b := range e.data[:size] {
				v = v<<8 | uint64(b)
			}
			n.Epoch = strconv.FormatUint(v, 10)
		}
	}
	return n, nil
}

// sigBytes is a binary signature-header tag's value (nil when absent or of
// another type).
func (h *rpmPackageHeader) sigBytes(tag int32) []byte {
	if e := find(h.sig, tag); e != nil && e.typ == rpmTypeBin {
		return e.data
	}
	return nil
}

// hasSigTag says whether the signature header has tag, of any type.
func (h *rpmPackageHeader) hasSigTag(tag int32) bool {
	return find(h.sig, tag) != nil
}

// signed is the main header: the bytes RSA and DSA header signatures sign.
func (h *rpmPackageHeader) signed() []byte {
	return h.raw[h.mainStart:h.mainEnd]
}
