package repo

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rpmutils "github.com/sassoftware/go-rpmutils"
)

// go-rpmutils is readRPMHeader's test oracle (as go-cmp is internal/diff's):
// mosc used its ReadHeader until issue 15, and the binary must not link it
// again (cmd/mosc TestImportGraph).

// seedRPMs are real package files: testdata/sigrepo's (rpmbuild and rpmsign,
// testdata/gen-sigrepo.sh) and testdata/rpmheader's (e2e/dnfrepo's Build and
// Sign, as the e2e gate tests make them, plus a source package, an epoch, an
// EdDSA (DSA tag) and an rpm v3 (PGP tag) signature:
// testdata/gen-rpmheader.go).
func seedRPMs(t testing.TB) map[string][]byte {
	t.Helper()
	var files []string
	for _, g := range []string{"sigrepo/Packages/*.rpm", "rpmheader/*.rpm"} {
		m, err := filepath.Glob(filepath.Join("testdata", g))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 6 {
		t.Fatalf("only %d seed RPMs under testdata", len(files))
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// headerView is what signatures.go reads of a package file.
type headerView struct {
	read       int64 // bytes consumed: lead and both headers
	start, end int   // the main header's span
	nevra      string
	nevraErr   bool
	rsa, dsa   []byte
	pgp, gpg   bool
}

func (v headerView) String() string {
	return fmt.Sprintf("read %d, main %d-%d, nevra %q (err %v), rsa %d bytes, dsa %d bytes, pgp %v, gpg %v",
		v.read, v.start, v.end, v.nevra, v.nevraErr, len(v.rsa), len(v.dsa), v.pgp, v.gpg)
}

// oracleView reads b with go-rpmutils; a panic counts as an error (in mosc
// it was a crash). digest is the digest go-rpmutils chose to check.
func oracleView(b []byte) (v headerView, digest string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("go-rpmutils panicked: %v", r)
		}
	}()
	cr := &countingReader{r: bytes.NewReader(b)}
	h, err := rpmutils.ReadHeader(cr)
	if err != nil {
		return v, "", err
	}
	v.read = cr.n
	r := h.GetRange()
	v.start, v.end = r.Start, r.End
	func() {
		defer func() {
			if recover() != nil {
				v.nevraErr = true
			}
		}()
		n, err := h.GetNEVRA()
		if err != nil {
			v.nevraErr = true
			return
		}
		v.nevra = n.Name + "-" + n.Epoch + ":" + n.Version + "-" + n.Release + "." + n.Arch
	}()
	if s, err := h.GetBytes(rpmutils.SIG_RSA); err == nil {
		v.rsa = s
	}
	if s, err := h.GetBytes(rpmutils.SIG_DSA); err == nil {
		v.dsa = s
	}
	v.pgp, v.gpg = h.HasTag(rpmutils.SIG_PGP), h.HasTag(rpmutils.SIG_GPG)
	// ReadHeader returned, so these did not panic there.
	for _, tag := range []int{rpmutils.SIG_SHA256, rpmutils.SIG_SHA1} {
		if s, err := h.GetStrings(tag); err == nil && s[0] != "" {
			return v, s[0], nil
		}
	}
	return v, "", nil
}

func ourView(b []byte) (headerView, error) {
	h, n, err := readRPMHeader(bytes.NewReader(b))
	if err != nil {
		return headerView{read: n}, err
	}
	v := headerView{read: n, start: h.mainStart, end: h.mainEnd,
		rsa: h.sigBytes(sigTagRSA), dsa: h.sigBytes(sigTagDSA), pgp: h.hasSigTag(sigTagPGP), gpg: h.hasSigTag(sigTagGPG)}
	if nv, err := h.nevra(); err != nil {
		v.nevraErr = true
	} else {
		v.nevra = nv.Name + "-" + nv.Epoch + ":" + nv.Version + "-" + nv.Release + "." + nv.Arch
	}
	if !bytes.Equal(h.signed(), b[h.mainStart:h.mainEnd]) {
		return v, errors.New("signed() is not the main header's bytes")
	}
	return v, nil
}

// claimsMore says whether b's headers claim more bytes than b has (read
// from the intros as format_header.md lays them out). go-rpmutils
// allocates what a header claims before reading it (up to 4 GiB), so the
// oracle is not asked; readRPMHeader must refuse such a file.
func claimsMore(b []byte) bool {
	off := int64(rpmLeadSize)
	for i := range 2 {
		if off+16 > int64(len(b)) {
			return false // both fail reading the intro
		}
		il, dl := int64(binary.BigEndian.Uint32(b[off+8:])), int64(binary.BigEndian.Uint32(b[off+12:]))
		if i == 0 {
			dl = (dl + 7) / 8 * 8
		}
		off += 16 + il*16 + dl
		if off > int64(len(b)) {
			return true
		}
	}
	return false
}

// checkOracle holds readRPMHeader to go-rpmutils on b: both refuse it, or
// both read the same view of it. readRPMHeader refuses more in two ways,
// each checked here: where go-rpmutils panics, and a one-character digest
// (go-rpmutils checks only digests longer than one character, so any
// header passed).
func checkOracle(t *testing.T, name string, b []byte) (verdict string) {
	t.Helper()
	ours, ourErr := ourView(b)
	if claimsMore(b) {
		if ourErr == nil {
			t.Fatalf("%s: the headers claim more than the %d bytes, yet read: %v", name, len(b), ours)
		}
		return "claims more"
	}
	want, digest, oracleErr := oracleView(b)
	switch {
	case oracleErr != nil && ourErr != nil:
		if strings.Contains(oracleErr.Error(), "panicked") {
			return "both refuse (go-rpmutils panics)"
		}
		return "both refuse"
	case oracleErr != nil:
		t.Fatalf("%s: go-rpmutils refuses (%v), readRPMHeader reads %v", name, oracleErr, ours)
	case ourErr != nil:
		var de *digestError
		if errors.As(ourErr, &de) && len(digest) == 1 {
			return "one-character digest"
		}
		t.Fatalf("%s: go-rpmutils reads %v, readRPMHeader refuses: %v", name, want, ourErr)
	default:
		if ours.String() != want.String() || !bytes.Equal(ours.rsa, want.rsa) || !bytes.Equal(ours.dsa, want.dsa) {
			t.Fatalf("%s:\nreadRPMHeader %v\ngo-rpmutils   %v", name, ours, want)
		}
		if ours.nevraErr {
			return "both read, no NEVRA"
		}
	}
	return "both read"
}

// entryAt finds tag's index entry in the header starting at off and
// returns the entry's offset in b, and the header's data offset.
func entryAt(b []byte, off int, tag uint32) (entry, data int) {
	il := int(binary.BigEndian.Uint32(b[off+8:]))
	data = off + 16 + il*16
	for i := range il {
		if off+16+i*16+16 > len(b) {
			break
		}
		e := off + 16 + i*16
		if binary.BigEndian.Uint32(b[e:]) == tag {
			return e, data
		}
	}
	return -1, data
}

// mainOffset is where the main header starts (-1 past the end of b).
func mainOffset(b []byte) int {
	il, dl := int64(binary.BigEndian.Uint32(b[rpmLeadSize+8:])), int64(binary.BigEndian.Uint32(b[rpmLeadSize+12:]))
	if o := rpmLeadSize + 16 + il*16 + (dl+7)/8*8; o <= int64(len(b)) {
		return int(o)
	}
	return -1
}

// redigest writes the digests of b's main header into its signature
// header, so a changed main header is read past the digest check; false
// when b's layout does not allow it.
func redigest(b []byte) bool {
	if len(b) < rpmLeadSize+16 {
		return false
	}
	mo := mainOffset(b)
	if mo < 0 || mo+16 > len(b) {
		return false
	}
	end := int64(mo) + 16 + 16*int64(binary.BigEndian.Uint32(b[mo+8:])) + int64(binary.BigEndian.Uint32(b[mo+12:]))
	if end > int64(len(b)) {
		return false
	}
	done := false
	for _, d := range []struct {
		tag uint32
		sum func([]byte) []byte
	}{
		{sigTagSHA256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
		{sigTagSHA1, func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
	} {
		e, data := entryAt(b, rpmLeadSize, d.tag)
		if e < 0 {
			continue
		}
		at := int64(data) + int64(int32(binary.BigEndian.Uint32(b[e+8:])))
		sum := hex.EncodeToString(d.sum(b[mo:end]))
		if at < int64(data) || at+int64(len(sum)) > int64(mo) {
			continue
		}
		copy(b[at:], sum)
		done = true
	}
	return done
}

// mutations are targeted changes to a real package file: the fields
// signatures.go depends on, and the ones go-rpmutils trusts.
func mutations(b []byte) map[string][]byte {
	out := map[string][]byte{}
	mo := mainOffset(b)
	edit := func(name string, f func(c []byte) bool) {
		c := append([]byte(nil), b...)
		if !f(c) {
			return
		}
		out[name] = c
		if d := append([]byte(nil), c...); !bytes.Equal(c[mo:], b[mo:]) && redigest(d) {
			out[name+", redigested"] = d
		}
	}
	put := func(c []byte, at int, v uint32) { binary.BigEndian.PutUint32(c[at:], v) }
	for _, tg := range []struct {
		name   string
		hdr    int
		tag    uint32
		inMain bool
	}{{"RSA", rpmLeadSize, sigTagRSA, false}, {"DSA", rpmLeadSize, sigTagDSA, false}, {"SHA256", rpmLeadSize, sigTagSHA256, false},
		{"SHA1", rpmLeadSize, sigTagSHA1, false}, {"PGP", rpmLeadSize, sigTagPGP, false},
		{"NAME", mo, tagName, true}, {"EPOCH", mo, tagEpoch, true}, {"ARCH", mo, tagArch, true}, {"RELEASE", mo, tagRelease, true}} {
		e, data := entryAt(b, tg.hdr, tg.tag)
		if e < 0 {
			continue
		}
		edit(tg.name+" renumbered", func(c []byte) bool { put(c, e, 999); return true })
		for _, typ := range []uint32{rpmTypeNull, rpmTypeInt8, rpmTypeInt32, rpmTypeInt64, rpmTypeString, rpmTypeBin, rpmTypeStringArray, 15, 0xffffffff} {
			edit(fmt.Sprintf("%s type %d", tg.name, typ), func(c []byte) bool { put(c, e+4, typ); return true })
		}
		for _, off := range []uint32{0, 1, 0x7fffffff, 0xffffffff, uint32(len(b))} {
			edit(fmt.Sprintf("%s offset %d", tg.name, off), func(c []byte) bool { put(c, e+8, off); return true })
		}
		for _, n := range []uint32{0, 2, 1 << 20, 0xffffffff} {
			edit(fmt.Sprintf("%s count %d", tg.name, n), func(c []byte) bool { put(c, e+12, n); return true })
		}
		at := data + int(binary.BigEndian.Uint32(b[e+8:]))
		edit(tg.name+" first byte flipped", func(c []byte) bool { c[at] ^= 0x20; return true })
		edit(tg.name+" emptied", func(c []byte) bool { c[at] = 0; return true })
		edit(tg.name+" one character", func(c []byte) bool {
			if at+1 >= len(c) {
				return false
			}
			c[at+1] = 0
			return true
		})
		if tg.inMain {
			continue
		}
		// The same tag twice: the later entry wins in both readers.
		edit(tg.name+" duplicated", func(c []byte) bool {
			if e == rpmLeadSize+16 {
				return false
			}
			copy(c[e-16:e], c[e:e+16])
			return true
		})
	}
	for _, h := range []struct {
		name string
		off  int
	}{{"signature header", rpmLeadSize}, {"header", mo}} {
		edit(h.name+" magic", func(c []byte) bool { c[h.off+2] ^= 1; return true })
		edit(h.name+" reserved", func(c []byte) bool { c[h.off+5] = 7; return true })
		for _, d := range []int{-1, 1, 8, 1 << 16, 1 << 28, 0xfffffff8 - int(binary.BigEndian.Uint32(b[h.off+12:]))} {
			edit(fmt.Sprintf("%s data length %+d", h.name, d), func(c []byte) bool {
				put(c, h.off+12, uint32(int(binary.BigEndian.Uint32(b[h.off+12:]))+d))
				return true
			})
			edit(fmt.Sprintf("%s index length %+d", h.name, d), func(c []byte) bool {
				put(c, h.off+8, uint32(int(binary.BigEndian.Uint32(b[h.off+8:]))+d))
				return true
			})
		}
	}
	edit("lead magic", func(c []byte) bool { c[0] = 0xee; return true })
	edit("source package", func(c []byte) bool { c[7] = 1; return true })
	return out
}

// TestRPMHeaderOracle: readRPMHeader against go-rpmutils on the seed files,
// truncations of their headers, targeted mutations and flipped bits.
func TestRPMHeaderOracle(t *testing.T) {
	verdicts := map[string]int{}
	for name, b := range seedRPMs(t) {
		checkOracle(t, name, b)
		v, err := ourView(b)
		if err != nil || v.nevraErr {
			t.Fatalf("%s: %v %v", name, v, err)
		}
		// Every third cut and fifth byte keep this at a second or two; the
		// fuzz target walks the rest.
		for n := 0; n < int(v.read); n += 3 {
			verdicts[checkOracle(t, fmt.Sprintf("%s cut at %d", name, n), b[:n])]++
		}
		for m, c := range mutations(b) {
			verdicts[checkOracle(t, name+": "+m, c)]++
		}
		// In the main header, with its digests rewritten: else the digest
		// check refuses every one.
		mo := mainOffset(b)
		for i := 0; i < int(v.read); i += 5 {
			c := append([]byte(nil), b...)
			c[i] ^= 1 << (i % 8)
			if i >= mo {
				redigest(c)
			}
			verdicts[checkOracle(t, fmt.Sprintf("%s: bit %d of byte %d", name, i%8, i), c)]++
		}
	}
	// Each kind of case is reached (the mutations reach past the digest).
	for _, v := range []string{"both read", "both read, no NEVRA", "both refuse", "both refuse (go-rpmutils panics)", "claims more", "one-character digest"} {
		if verdicts[v] == 0 {
			t.Errorf("no case where %s", v)
		}
	}
	t.Logf("%v", verdicts)
}

// FuzzRPMHeader: readRPMHeader against go-rpmutils on mutations of real
// package files (make fuzz).
func FuzzRPMHeader(f *testing.F) {
	for name, b := range seedRPMs(f) {
		// The headers only: the reader stops before the payload, and
		// smaller inputs fuzz (and minimize) faster.
		v, err := ourView(b)
		if err != nil {
			f.Fatal(err)
		}
		b = b[:v.read]
		f.Add(b)
		// Mutations of the files with an RSA, a DSA-tag (EdDSA) and a PGP
		// signature and an EPOCH: each tag mutations() edits; more only
		// lengthen the baseline run.
		switch name {
		case "app-1.0-1.el9.x86_64.rpm", "epoch-1.0-1.el9.x86_64.rpm", "v3-1.0-1.el9.x86_64.rpm":
			for _, c := range mutations(b) {
				f.Add(c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkOracle(t, "input", b)
		// Past the digest check too: a changed main header with its digests
		// rewritten.
		if c := append([]byte(nil), b...); redigest(c) && !bytes.Equal(b, c) {
			checkOracle(t, "redigested input", c)
		}
	})
}

// TestReadRPMHeader: what signatures.go reads of the seed files, and the
// errors a broken file gets.
func TestReadRPMHeader(t *testing.T) {
	seeds := seedRPMs(t)
	for name, want := range map[string]struct {
		nevra         string
		rsa, dsa, pgp bool
	}{
		"app-1.0-1.el9.x86_64.rpm":           {"app-0:1.0-1.el9.x86_64", true, false, false},
		"extra-1.0-1.el9.x86_64.rpm":         {"extra-0:1.0-1.el9.x86_64", false, false, false},
		"doca-all-3.3.0-0040.el9.x86_64.rpm": {"doca-all-0:3.3.0-0040.el9.x86_64", true, false, false},
		"doca-repo-key-1.0-1.noarch.rpm":     {"doca-repo-key-0:1.0-1.noarch", true, false, false},
		"epoch-1.0-1.el9.x86_64.rpm":         {"epoch-3:1.0-1.el9.x86_64", false, true, false}, // EdDSA
		"epoch-1.0-1.el9.src.rpm":            {"epoch-3:1.0-1.el9.x86_64", false, false, false},
		"v3-1.0-1.el9.x86_64.rpm":            {"v3-0:1.0-1.el9.x86_64", true, false, true},
	} {
		v, err := ourView(seeds[name])
		if err != nil || v.nevra != want.nevra || (len(v.rsa) > 0) != want.rsa || (len(v.dsa) > 0) != want.dsa || v.pgp != want.pgp {
			t.Errorf("%s: %v, %v; want %+v", name, v, err, want)
		}
	}
	app := seeds["app-1.0-1.el9.x86_64.rpm"]
	mo := mainOffset(app)
	shaEntry, sigData := entryAt(app, rpmLeadSize, sigTagSHA256)
	nameEntry, _ := entryAt(app, mo, tagName)
	mut := mutations(app)
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "RPM lead: the file ends after 0 of its 96 bytes"},
		{"html", []byte("<!DOCTYPE html><html><body>404</body></html>"), "not an RPM package: it starts with 3c 21 44 4f, not the RPM lead magic ed ab ee db"},
		{"short lead", app[:50], "RPM lead: the file ends after 50 of its 96 bytes"},
		{"no signature header", app[:rpmLeadSize], "signature header: the file ends after 0 of its 16 bytes"},
		{"signature header cut", app[:rpmLeadSize+100], "signature header: the file ends after 84 of its"},
		{"header cut", app[:mo+100], "header: the file ends after 84 of its"},
		{"bad magic", mut["header magic"], fmt.Sprintf("header at byte %d: magic 8e ad e9 01, not 8e ad e8 01", mo)},
		{"digest", func() []byte {
			c := append([]byte(nil), app...)
			c[sigData+int(binary.BigEndian.Uint32(app[shaEntry+8:]))] ^= 1
			return c
		}(), "the header's SHA-256 digest is not the one its signature header records (a corrupt download or a changed header)"},
		{"changed header", func() []byte {
			c := append([]byte(nil), app...)
			c[len(c)-1] ^= 1 // the payload: not read, not checked here
			c[mo+16+16*int(binary.BigEndian.Uint32(app[mo+8:]))+1] ^= 1
			return c
		}(), "SHA-256 digest is not the one"},
		{"offset outside", mut["NAME offset 2147483647, redigested"], fmt.Sprintf("header: index entry %d (tag 1000, type 6): offset 2147483647 outside the", (nameEntry-mo-16)/16)},
		{"unterminated", mut["SHA256 count 1048576"], "signature header: index entry"},
		{"huge data", mut["header data length +268435456"], fmt.Sprintf("header at byte %d: %d bytes of data, more than rpm's limit of 268435456", mo, int(binary.BigEndian.Uint32(app[mo+12:]))+1<<28)},
		{"huge index", mut["signature header index length +65536"], fmt.Sprintf("signature header at byte 96: %d index entries, more than rpm's limit of 65535", int(binary.BigEndian.Uint32(app[rpmLeadSize+8:]))+1<<16)},
	} {
		_, n, err := readRPMHeader(bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
		if n > int64(len(c.in)) {
			t.Errorf("%s: read %d of %d bytes", c.name, n, len(c.in))
		}
	}
	// No panic where go-rpmutils panicked: a NAME without strings.
	h, _, err := readRPMHeader(bytes.NewReader(mut["NAME count 0, redigested"]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.nevra(); err == nil || !strings.Contains(err.Error(), "NAME: tag 1000 holds 0 strings") {
		t.Errorf("NAME count 0: %v", err)
	}
}

// BenchmarkRPMHeader: one package header read by readRPMHeader and by
// go-rpmutils' ReadHeader (what signatures.go did per package before).
func BenchmarkRPMHeader(b *testing.B) {
	file := seedRPMs(b)["app-1.0-1.el9.x86_64.rpm"]
	b.Run("readRPMHeader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h, _, err := readRPMHeader(bytes.NewReader(file))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.nevra(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-rpmutils", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var raw bytes.Buffer
			h, err := rpmutils.ReadHeader(io.TeeReader(bytes.NewReader(file), &raw))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.GetNEVRA(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
