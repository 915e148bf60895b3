package repo

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const primaryXML = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="5">
<package type="rpm">
  <name>doca-openvswitch</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="3.3.0040" rel="1.el9"/>
  <checksum type="sha256" pkgid="YES">aa</checksum>
  <summary>OVS with DOCA</summary>
  <format><rpm:provides><rpm:entry name="openvswitch"/></rpm:provides><file>/usr/bin/ovs-vsctl</file></format>
</package>
<package type="rpm">
  <name>doca-openvswitch</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="3.3.0010" rel="1.el9"/>
</package>
<package type="rpm">
  <name>libibverbs</name>
  <arch>aarch64</arch>
  <version epoch="0" ver="2501mlnx56" rel="1.2501060"/>
</package>
<package type="rpm">
  <name>rdma-core</name>
  <arch>src</arch>
  <version epoch="0" ver="2501mlnx56" rel="1.2501060"/>
</package>
<package type="rpm">
  <name>doca-repo-key</name>
  <arch>noarch</arch>
  <version epoch="1" ver="1.0" rel="1"/>
</package>
</metadata>
`

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func repomdFor(href string, data []byte, sum string) string {
	if sum == "" {
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1763730000</revision>
  <data type="filelists"><checksum type="sha256">00</checksum><location href="repodata/f-filelists.xml.gz"/></data>
  <data type="primary">
    <checksum type="sha256">%s</checksum>
    <open-checksum type="sha256">11</open-checksum>
    <location href="%s"/>
    <timestamp>1763730000</timestamp>
    <size>%d</size>
  </data>
</repomd>
`, sum, href, len(data))
}

func serveRepo(t *testing.T, files map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/repo/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/repo"
}

var docaReqs = []Requirement{
	{AnyOf: []string{"doca-openvswitch", "doca-all"}},
	{AnyOf: []string{"libibverbs"}},
	{AnyOf: []string{"rdma-core"}},
	{AnyOf: []string{"doca-repo-key"}},
}

func TestCheck(t *testing.T) {
	prim := gz(t, primaryXML)
	href := "repodata/abc-primary.xml.gz"
	tests := []struct {
		name    string
		files   map[string][]byte
		arches  []string
		want    map[string]string // requirement → found NEVRAs joined, "" = missing
		wantErr string
	}{
		{
			name:   "x86_64 repo: newest doca-openvswitch, aarch64 libibverbs and src rdma-core do not count, noarch does",
			files:  map[string][]byte{"repodata/repomd.xml": []byte(repomdFor(href, prim, "")), href: prim},
			arches: []string{"x86_64"},
			want: map[string]string{
				"doca-openvswitch or doca-all": "doca-openvswitch-3.3.0040-1.el9.x86_64",
				"libibverbs":                   "",
				"rdma-core":                    "",
				"doca-repo-key":                "doca-repo-key-1:1.0-1.noarch",
			},
		},
		{
			name:   "aarch64",
			files:  map[string][]byte{"repodata/repomd.xml": []byte(repomdFor(href, prim, "")), href: prim},
			arches: []string{"aarch64"},
			want: map[string]string{
				"doca-openvswitch or doca-all": "",
				"libibverbs":                   "libibverbs-2501mlnx56-1.2501060.aarch64",
				"rdma-core":                    "",
				"doca-repo-key":                "doca-repo-key-1:1.0-1.noarch",
			},
		},
		{
			name:   "uncompressed primary",
			files:  map[string][]byte{"repodata/repomd.xml": []byte(repomdFor("repodata/primary.xml", []byte(primaryXML), "")), "repodata/primary.xml": []byte(primaryXML)},
			arches: []string{"x86_64"},
			want: map[string]string{
				"doca-openvswitch or doca-all": "doca-openvswitch-3.3.0040-1.el9.x86_64",
				"libibverbs":                   "",
				"rdma-core":                    "",
				"doca-repo-key":                "doca-repo-key-1:1.0-1.noarch",
			},
		},
		{
			name:    "checksum mismatch",
			files:   map[string][]byte{"repodata/repomd.xml": []byte(repomdFor(href, prim, strings.Repeat("ab", 32))), href: prim},
			wantErr: "sha256 checksum mismatch",
		},
		{
			name:    "no repomd",
			files:   map[string][]byte{},
			wantErr: "404 Not Found",
		},
		{
			name:    "primary missing",
			files:   map[string][]byte{"repodata/repomd.xml": []byte(repomdFor(href, prim, ""))},
			wantErr: "abc-primary.xml.gz: 404 Not Found",
		},
		{
			name:    "zstd primary",
			files:   map[string][]byte{"repodata/repomd.xml": []byte(repomdFor("repodata/p.xml.zst", prim, "")), "repodata/p.xml.zst": prim},
			wantErr: `unsupported compression of "repodata/p.xml.zst"`,
		},
		{
			name:    "primary is not gzip",
			files:   map[string][]byte{"repodata/repomd.xml": []byte(repomdFor(href, []byte(primaryXML), "")), href: []byte(primaryXML)},
			wantErr: "gzip: invalid header",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := serveRepo(t, tt.files)
			res, err := (&Client{}).Check(context.Background(), Query{BaseURL: base, Arches: tt.arches, Requirements: docaReqs})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Packages != 5 || res.Revision != "1763730000" {
				t.Errorf("packages=%d revision=%q", res.Packages, res.Revision)
			}
			got := map[string]string{}
			for _, f := range res.Findings {
				var ns []string
				for _, p := range f.Found {
					ns = append(ns, p.NEVRA())
				}
				got[f.Requirement.String()] = strings.Join(ns, ",")
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: found %q, want %q", k, got[k], v)
				}
			}
			wantMissing := 0
			for _, v := range tt.want {
				if v == "" {
					wantMissing++
				}
			}
			if len(res.Missing()) != wantMissing {
				t.Errorf("missing = %v, want %d", res.Missing(), wantMissing)
			}
		})
	}
}

func TestCheckFileURL(t *testing.T) {
	dir := t.TempDir()
	prim := gz(t, primaryXML)
	os.MkdirAll(filepath.Join(dir, "repodata"), 0o755)
	os.WriteFile(filepath.Join(dir, "repodata", "p-primary.xml.gz"), prim, 0o644)
	os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), []byte(repomdFor("repodata/p-primary.xml.gz", prim, "")), 0o644)
	res, err := (&Client{}).Check(context.Background(), Query{BaseURL: "file://" + dir, Requirements: docaReqs[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Findings[0].OK() || res.Findings[0].Found[0].Version != "3.3.0040" {
		t.Fatalf("findings = %+v", res.Findings)
	}
}

func TestParseRepomd(t *testing.T) {
	tests := []struct {
		name, in, wantErr, wantHref string
	}{
		{name: "ok", in: repomdFor("repodata/x-primary.xml.gz", []byte("x"), ""), wantHref: "repodata/x-primary.xml.gz"},
		{name: "no namespace", in: `<repomd><data type="primary"><checksum type="SHA256">AB</checksum><location href="p.xml"/></data></repomd>`, wantHref: "p.xml"},
		{name: "no primary", in: `<repomd><data type="other"><location href="o.xml.gz"/></data></repomd>`, wantErr: `no <data type="primary">`},
		{name: "missing href", in: `<repomd><data type="primary"><location/></data></repomd>`, wantErr: "data[0] (type \"primary\"): missing location href"},
		{name: "missing type", in: `<repomd><data><location href="a"/></data></repomd>`, wantErr: "data[0]: missing type"},
		{name: "wrong root", in: `<html><body>mirror error</body></html>`, wantErr: "expected element type <repomd>"},
		{name: "broken xml", in: "<repomd>\n<data type=\"primary\">\n<location href=\"a\"></data>", wantErr: "line 3"},
		{name: "empty", in: "", wantErr: "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := ParseRepomd(strings.NewReader(tt.in))
			if err == nil {
				var p RepomdData
				p, err = md.Primary()
				if err == nil && p.Href != tt.wantHref {
					t.Errorf("href = %q, want %q", p.Href, tt.wantHref)
				}
			}
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
	md, _ := ParseRepomd(strings.NewReader(`<repomd><data type="primary"><checksum type="SHA256">AB</checksum><location href="p.xml"/></data></repomd>`))
	if p, _ := md.Primary(); p.ChecksumType != "sha256" || p.Checksum != "ab" {
		t.Errorf("checksum not normalised: %+v", p)
	}
}

func TestParseRepomdTooLarge(t *testing.T) {
	big := "<repomd>" + strings.Repeat("<revision>1</revision>", maxRepomdBytes/20) + "</repomd>"
	if _, err := ParseRepomd(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error = %v", err)
	}
}

func TestScanPrimary(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		count    int
		wantErr  string
	}{
		{name: "all", in: primaryXML, count: 5, want: []string{
			"doca-openvswitch-3.3.0040-1.el9.x86_64", "doca-openvswitch-3.3.0010-1.el9.x86_64",
			"libibverbs-2501mlnx56-1.2501060.aarch64", "rdma-core-2501mlnx56-1.2501060.src", "doca-repo-key-1:1.0-1.noarch"}},
		{name: "empty metadata", in: `<metadata packages="0"></metadata>`, count: 0},
		{name: "wrong root", in: `<repomd/>`, wantErr: "root element is <repomd>"},
		{name: "no root", in: ``, wantErr: "no <metadata> root"},
		{name: "nameless package", in: "<metadata>\n<package type=\"rpm\"><arch>x86_64</arch></package></metadata>", wantErr: "primary.xml:2:"},
		{name: "truncated", in: "<metadata><package type=\"rpm\"><name>a</name>", wantErr: "unexpected EOF"},
		{name: "non-rpm package skipped", in: `<metadata><package type="deb"><name>x</name></package></metadata>`, count: 1},
		{name: "nested name ignored", in: `<metadata><package type="rpm"><name>a</name><format><name>b</name></format><arch>noarch</arch><version ver="1" rel="2"/></package></metadata>`, count: 1, want: []string{"a-1-2.noarch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			n, err := ScanPrimary(strings.NewReader(tt.in), nil, func(p Package) { got = append(got, p.NEVRA()) })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.count || strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("count %d got %v; want %d %v", n, got, tt.count, tt.want)
			}
		})
	}
}

func TestVercmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.1", -1}, {"1.10", "1.9", 1}, {"3.3.0040", "3.3.0010", 1},
		{"1.0a", "1.0", 1}, {"1a", "1", 1}, {"a", "1", -1}, {"1.0~rc1", "1.0", -1}, {"1.0~rc1", "1.0~rc2", -1},
		{"1.0^git1", "1.0", 1}, {"1.0^git1", "1.0.1", -1}, {"001", "1", 0}, {"1.el9", "1.el10", -1},
		{"2501mlnx56", "61.0", 1}, {"1_0", "1.0", 0}, {"", "1", -1}, {"~", "", -1},
	}
	for _, tt := range tests {
		if got := Vercmp(tt.a, tt.b); got != tt.want {
			t.Errorf("Vercmp(%q,%q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Vercmp(tt.b, tt.a); got != -tt.want {
			t.Errorf("Vercmp(%q,%q) = %d, want %d (antisymmetry)", tt.b, tt.a, got, -tt.want)
		}
	}
	if CompareEVR(Package{Epoch: "1", Version: "1"}, Package{Version: "9"}) != 1 {
		t.Error("epoch must dominate")
	}
}

func FuzzParseRepomd(f *testing.F) {
	f.Add(repomdFor("repodata/x-primary.xml.gz", []byte("x"), ""))
	f.Add(`<repomd><data type="primary"><location href="p"/></data></repomd>`)
	f.Add(`<repomd><data`)
	f.Fuzz(func(t *testing.T, s string) {
		md, err := ParseRepomd(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, d := range md.Data {
			if d.Type == "" || d.Href == "" {
				t.Fatalf("accepted data without type/href: %+v", d)
			}
		}
	})
}

func FuzzScanPrimary(f *testing.F) {
	f.Add(primaryXML)
	f.Add(`<metadata><package type="rpm"><name>a</name></package></metadata>`)
	f.Add(`<metadata><package>`)
	f.Add(`<metadata><package type="rpm"><name>a</name><arch>x86_64</arch><location href="a.rpm" xml:base="http://m/"/><format><rpm:header-range start="1" end="9"/><rpm:requires><rpm:entry name="b"/></rpm:requires><file>/x</file></format></package></metadata>`)
	f.Fuzz(func(t *testing.T, s string) {
		calls := 0
		n, err := ScanPrimary(strings.NewReader(s), nil, func(p Package) {
			calls++
			if p.Name == "" {
				t.Fatal("package without name passed to fn")
			}
		})
		if err == nil && calls > n {
			t.Fatalf("fn called %d times for %d packages", calls, n)
		}
		// The full scan (closure, header ranges) sees the same packages,
		// and the closure of whatever it read terminates.
		var entries []Entry
		n2, err2 := ScanPrimaryEntries(strings.NewReader(s), func(e Entry) { entries = append(entries, e) })
		if (err == nil) != (err2 == nil) || (err == nil && (n2 != n || len(entries) != calls)) {
			t.Fatalf("ScanPrimary %d/%d %v, ScanPrimaryEntries %d/%d %v", calls, n, err, len(entries), n2, err2)
		}
		var roots []string
		for _, e := range entries {
			roots = append(roots, e.Name)
		}
		if c := ComputeClosure(entries, roots, nil); len(c.Packages) > len(entries) {
			t.Fatalf("closure of %d entries has %d packages", len(entries), len(c.Packages))
		}
	})
}

func FuzzVercmp(f *testing.F) {
	f.Add("1.0~rc1", "1.0^git")
	f.Add("3.3.0040", "3.3.0010")
	f.Fuzz(func(t *testing.T, a, b string) {
		if Vercmp(a, b) != -Vercmp(b, a) {
			t.Fatalf("Vercmp not antisymmetric for %q %q", a, b)
		}
		if Vercmp(a, a) != 0 {
			t.Fatalf("Vercmp(%q,%q) != 0", a, a)
		}
	})
}

func BenchmarkScanPrimary(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<metadata>`)
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&sb, `<package type="rpm"><name>pkg%d</name><arch>x86_64</arch><version epoch="0" ver="1.%d" rel="1.el9"/><format><file>/usr/bin/x%d</file></format></package>`, i, i, i)
	}
	sb.WriteString(`</metadata>`)
	doc := sb.String()
	b.SetBytes(int64(len(doc)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ScanPrimary(strings.NewReader(doc), func(n string) bool { return n == "pkg42" }, func(Package) {}); err != nil {
			b.Fatal(err)
		}
	}
}
