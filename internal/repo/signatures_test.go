package repo

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// testdata/sigrepo is made by testdata/gen-sigrepo.sh with real rpmbuild,
// rpmsign and createrepo_c (its header explains each package).

func readKeys(t *testing.T, files ...string) openpgp.EntityList {
	t.Helper()
	var out openpgp.EntityList
	for _, f := range files {
		b, err := os.Open(filepath.Join("testdata", "sigrepo", f))
		if err != nil {
			t.Fatal(err)
		}
		ring, err := openpgp.ReadArmoredKeyRing(b)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ring...)
	}
	return out
}

// sigServer serves testdata/sigrepo over HTTP, counting the bytes of
// package files sent and whether each request asked for a range; tamper
// changes the response body of a path.
func sigServer(t *testing.T, tamper map[string]func([]byte) []byte) (string, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	var sent, whole atomic.Int64
	files := http.FileServer(http.Dir(filepath.Join("testdata", "sigrepo")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".rpm") {
			files.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Range") == "" {
			whole.Add(1)
		}
		rec := httptest.NewRecorder()
		files.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if f := tamper[r.URL.Path]; f != nil {
			body = f(body)
		}
		sent.Add(int64(len(body)))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &sent, &whole
}

func statuses(r *SignatureResult) map[string]string {
	m := map[string]string{}
	for _, p := range r.Packages {
		m[p.Name] = p.Status
	}
	return m
}

func TestSignatures(t *testing.T) {
	url, sent, whole := sigServer(t, nil)
	c := &Client{}
	res, err := c.Signatures(context.Background(), SignatureQuery{BaseURL: url, Arches: []string{"x86_64"}, Roots: []string{"app", "nothere"}, Keys: readKeys(t, "key-a.asc")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app": SigSigned, "libapp": SigSigned, "libdep": SigSigned, "extra": SigUnsigned, "rogue": SigUnknownKey}
	got := statuses(res)
	if len(got) != len(want) {
		t.Errorf("closure %v, want %v (unused is outside it)", got, want)
	}
	for n, s := range want {
		if got[n] != s {
			t.Errorf("%s: %s, want %s", n, got[n], s)
		}
	}
	for _, p := range res.Packages {
		switch p.Name {
		case "app":
			if p.Signer == "" || len(p.KeyID) != 16 {
				t.Errorf("app: signer %q key id %q", p.Signer, p.KeyID)
			}
		case "rogue":
			if p.KeyID == "" || p.Signer != "" {
				t.Errorf("rogue: key id %q signer %q: want the id and no signer", p.KeyID, p.Signer)
			}
		}
	}
	if strings.Join(res.Missing, ",") != "nothere" || strings.Join(res.External, ",") != "/bin/sh" {
		t.Errorf("missing %v external %v", res.Missing, res.External)
	}
	// Headers only: every request was a range, and far less than the files.
	var total int64
	m, _ := filepath.Glob(filepath.Join("testdata", "sigrepo", "Packages", "*.rpm"))
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil && !strings.Contains(f, "unused") {
			total += fi.Size()
		}
	}
	if whole.Load() != 0 || sent.Load() >= total || res.HeaderBytes != sent.Load() {
		t.Errorf("%d whole-file requests; %d bytes sent (%d counted) of %d", whole.Load(), sent.Load(), res.HeaderBytes, total)
	}

	// With both keys, rogue verifies too.
	res, err = c.Signatures(context.Background(), SignatureQuery{BaseURL: url, Arches: []string{"x86_64"}, Roots: []string{"app"}, Keys: readKeys(t, "key-a.asc", "key-b.asc")})
	if err != nil {
		t.Fatal(err)
	}
	if s := statuses(res)["rogue"]; s != SigSigned {
		t.Errorf("rogue with key B: %s", s)
	}
}

func TestSignaturesTampered(t *testing.T) {
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = append([]byte(nil), b...)
			if at < len(b) {
				b[at] ^= 0xff
			}
			return b
		}
	}
	// Offset 5000 is inside the general header (header-range 4504-~6025):
	// the header digest the signature header records no longer matches.
	url, _, _ := sigServer(t, map[string]func([]byte) []byte{"/Packages/libdep-1.0-1.el9.x86_64.rpm": flip(5000)})
	res, err := (&Client{}).Signatures(context.Background(), SignatureQuery{BaseURL: url, Roots: []string{"libdep"}, Keys: readKeys(t, "key-a.asc")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 || res.Packages[0].Status != SigBad || !strings.Contains(res.Packages[0].Error, "the header's SHA-256 digest is not the one its signature header records") {
		t.Fatalf("tampered header: %+v", res.Packages)
	}
	t.Logf("tampered: %s", res.Packages[0].Error)

	// A header longer than primary.xml's rpm:header-range says (its data
	// length grown by 8): the error names the range.
	grow := func(b []byte) []byte {
		b = append([]byte(nil), b...)
		mo := mainOffset(b)
		binary.BigEndian.PutUint32(b[mo+12:], binary.BigEndian.Uint32(b[mo+12:])+8)
		return b
	}
	url, _, _ = sigServer(t, map[string]func([]byte) []byte{"/Packages/libdep-1.0-1.el9.x86_64.rpm": grow})
	res, err = (&Client{}).Signatures(context.Background(), SignatureQuery{BaseURL: url, Roots: []string{"libdep"}, Keys: readKeys(t, "key-a.asc")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 || res.Packages[0].Status != SigBad ||
		!regexp.MustCompile(`libdep-1.0-1.el9.x86_64.rpm: header: the file ends after \d+ of its \d+ bytes, but primary.xml's rpm:header-range ends at byte \d+ \(metadata older than the file\?\)$`).MatchString(res.Packages[0].Error) {
		t.Fatalf("header past the range: %+v", res.Packages)
	}
	t.Logf("past the range: %s", res.Packages[0].Error)
}

func TestComputeClosure(t *testing.T) {
	e := func(name, ver string, req, prov, files []string) Entry {
		return Entry{Package: Package{Name: name, Arch: "x86_64", Version: ver, Release: "1"}, Requires: req, Provides: append(prov, name), Files: files}
	}
	entries := []Entry{
		e("a", "1", []string{"b", "cap", "/usr/bin/tool", "rpmlib(PayloadIsZstd)", "(d if e)", "libc.so.6()(64bit)"}, nil, nil),
		e("a", "2", []string{"b"}, nil, nil), // the newest a needs only b
		e("b", "1", []string{"cap"}, nil, nil),
		e("p2", "1", nil, []string{"cap"}, nil),
		e("p1", "1", nil, []string{"cap"}, nil),
		e("tool", "1", nil, nil, []string{"/usr/bin/tool"}),
		{Package: Package{Name: "b", Arch: "aarch64", Version: "9", Release: "1"}},
	}
	c := ComputeClosure(entries, []string{"a", "zz"}, []string{"x86_64"})
	var names []string
	for _, p := range c.Packages {
		names = append(names, p.Name+"-"+p.Version)
	}
	if got := strings.Join(names, " "); got != "a-2 b-1 p1-1" {
		t.Errorf("closure %s; want a-2 b-1 p1-1 (newest a, x86_64 b, first provider of cap)", got)
	}
	if strings.Join(c.Missing, ",") != "zz" {
		t.Errorf("missing %v", c.Missing)
	}
	c = ComputeClosure(entries[:1], []string{"a"}, nil)
	if strings.Join(c.External, ",") != "/usr/bin/tool,b,cap,libc.so.6()(64bit)" || strings.Join(c.Unfollowed, ",") != "(d if e)" {
		t.Errorf("external %v unfollowed %v", c.External, c.Unfollowed)
	}
}

func TestScanPrimaryEntries(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "sigrepo", "repodata", "primary.xml.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plain, err := decompress("primary.xml.gz", f)
	if err != nil {
		t.Fatal(err)
	}
	var app Entry
	n, err := ScanPrimaryEntries(plain, func(e Entry) {
		if e.Name == "app" {
			app = e
		}
	})
	if err != nil || n != 6 {
		t.Fatalf("%d packages, %v", n, err)
	}
	if app.Location != "Packages/app-1.0-1.el9.x86_64.rpm" || app.HeaderEnd <= 0 ||
		strings.Join(app.Requires, ",") != "/bin/sh,extra,libapp" || !strings.Contains(strings.Join(app.Provides, ","), "app(x86-64)") {
		t.Errorf("app: %+v", app)
	}
}
