package repo

import (
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/sha1" //nolint:gosec // repomd.xml may still name sha1; we verify what the repo declares
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
)

// Requirement is satisfied when any one of its names exists in the repo
// (e.g. doca-openvswitch or doca-all).
type Requirement struct {
	AnyOf []string `json:"anyOf"`
}

func (r Requirement) String() string { return strings.Join(r.AnyOf, " or ") }

// Query says what to look for in one repository.
type Query struct {
	// BaseURL is the repository root (the directory holding repodata/):
	// http(s):// or file://.
	BaseURL string
	// Arches limits matches to these RPM arches; "noarch" always matches.
	// Empty accepts every binary arch.
	Arches       []string
	Requirements []Requirement
}

// Finding is the answer for one requirement.
type Finding struct {
	Requirement Requirement `json:"requirement"`
	// Found holds the newest matching package of each name that exists.
	Found []Package `json:"found,omitempty"`
}

// OK says whether the requirement is met.
func (f Finding) OK() bool { return len(f.Found) > 0 }

// Result is the preflight of one repository.
type Result struct {
	BaseURL  string    `json:"baseURL"`
	Revision string    `json:"revision,omitempty"`
	Packages int       `json:"packages"` // package entries in primary.xml
	Findings []Finding `json:"findings"`
}

// Missing lists the requirements that no package satisfies.
func (r *Result) Missing() []Requirement {
	var out []Requirement
	for _, f := range r.Findings {
		if !f.OK() {
			out = append(out, f.Requirement)
		}
	}
	return out
}

// Client fetches repository metadata.
type Client struct {
	HTTP *http.Client // nil: http.DefaultClient
	// UserAgent is sent with every request (mirrors log it).
	UserAgent string
}

// Check runs the preflight for one repository.
func (c *Client) Check(ctx context.Context, q Query) (*Result, error) {
	wanted := map[string]bool{}
	for _, r := range q.Requirements {
		for _, n := range r.AnyOf {
			wanted[n] = true
		}
	}
	arches := newArchSet(q.Arches)
	newest := map[string]Package{}
	md, n, err := c.readPrimary(ctx, q.BaseURL, func(plain io.Reader) (int, error) {
		return ScanPrimary(plain, func(name string) bool { return wanted[name] }, func(p Package) {
			if !arches.match(p.Arch) {
				return
			}
			if cur, ok := newest[p.Name]; !ok || CompareEVR(p, cur) > 0 {
				newest[p.Name] = p
			}
		})
	})
	if err != nil {
		return nil, err
	}
	res := &Result{BaseURL: q.BaseURL, Revision: md.Revision, Packages: n}
	for _, r := range q.Requirements {
		f := Finding{Requirement: r}
		for _, name := range r.AnyOf {
			if p, ok := newest[name]; ok {
				f.Found = append(f.Found, p)
			}
		}
		res.Findings = append(res.Findings, f)
	}
	return res, nil
}

// archSet matches binary packages of the given arches, and noarch; empty
// matches every binary arch. Source packages never match.
type archSet map[string]bool

func newArchSet(arches []string) archSet {
	a := archSet{}
	for _, x := range arches {
		a[x] = true
	}
	return a
}

func (a archSet) match(arch string) bool {
	if arch == "src" || arch == "nosrc" {
		return false
	}
	return len(a) == 0 || a[arch] || arch == "noarch"
}

// readPrimary fetches repodata/repomd.xml of baseURL, then streams the
// primary metadata it names through scan, verifying its checksum and size
// against repomd.xml. It returns repomd and scan's package count.
func (c *Client) readPrimary(ctx context.Context, baseURL string, scan func(io.Reader) (int, error)) (*Repomd, int, error) {
	base := strings.TrimRight(baseURL, "/") + "/"
	if _, err := url.Parse(base); err != nil {
		return nil, 0, fmt.Errorf("repository URL %q: %w", baseURL, err)
	}
	body, err := c.open(ctx, base+"repodata/repomd.xml")
	if err != nil {
		return nil, 0, err
	}
	md, err := ParseRepomd(body)
	body.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("%srepodata/repomd.xml: %w", base, err)
	}
	prim, err := md.Primary()
	if err != nil {
		return nil, 0, fmt.Errorf("%srepodata/repomd.xml: %w", base, err)
	}
	primURL, err := resolveHref(base, prim.Href)
	if err != nil {
		return nil, 0, err
	}
	raw, err := c.open(ctx, primURL)
	if err != nil {
		return nil, 0, err
	}
	defer raw.Close()

	h, err := newHash(prim.ChecksumType)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", primURL, err)
	}
	counted := &countingReader{r: io.TeeReader(raw, h)}
	plain, err := decompress(prim.Href, counted)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", primURL, err)
	}
	n, err := scan(plain)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", primURL, err)
	}
	// The checksum covers the whole file: read what the XML decoder left.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", primURL, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != prim.Checksum {
		return nil, 0, fmt.Errorf("%s: %s checksum mismatch: repomd.xml says %s, file has %s (stale mirror or changed repository?)", primURL, prim.ChecksumType, prim.Checksum, got)
	}
	if prim.Size > 0 && counted.n != prim.Size {
		return nil, 0, fmt.Errorf("%s: size %d, repomd.xml says %d", primURL, counted.n, prim.Size)
	}
	return md, n, nil
}

func resolveHref(base, href string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	h, err := url.Parse(href)
	if err != nil {
		return "", fmt.Errorf("repomd.xml: primary location href %q: %w", href, err)
	}
	return b.ResolveReference(h).String(), nil
}

// open fetches a URL (http, https or file).
func (c *Client) open(ctx context.Context, u string) (io.ReadCloser, error) {
	return c.openRange(ctx, u, 0)
}

// openRange fetches a URL (http, https or file), asking an HTTP server for
// its first end bytes only when end > 0 (a package's header); a server that
// ignores Range answers 200 with the whole body, which is fine too.
func (c *Client) openRange(ctx context.Context, u string, end int64) (io.ReadCloser, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	switch pu.Scheme {
	case "file":
		f, err := os.Open(pu.Path)
		if err != nil {
			return nil, err
		}
		return f, nil
	case "http", "https":
	default:
		return nil, fmt.Errorf("%s: unsupported URL scheme %q (want http, https or file)", u, pu.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if end > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=0-%d", end-1))
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && !(end > 0 && resp.StatusCode == http.StatusPartialContent) {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return resp.Body, nil
}

func newHash(t string) (hash.Hash, error) {
	switch t {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha224":
		return sha256.New224(), nil
	case "sha", "sha1":
		return sha1.New(), nil //nolint:gosec
	}
	return nil, fmt.Errorf("unsupported checksum type %q in repomd.xml", t)
}

// decompress picks the decoder from the file suffix, as dnf does.
func decompress(href string, r io.Reader) (io.Reader, error) {
	switch {
	case strings.HasSuffix(href, ".gz"):
		return gzip.NewReader(r)
	case strings.HasSuffix(href, ".bz2"):
		return bzip2.NewReader(r), nil
	case strings.HasSuffix(href, ".xml"):
		return r, nil
	}
	// zstd/xz need decoders outside the standard library; createrepo_c's
	// default (and the DOCA repository's) is gzip.
	return nil, fmt.Errorf("unsupported compression of %q (supported: .gz, .bz2, plain .xml)", href)
}

// SortPackages orders packages by name then EVR, for stable output.
func SortPackages(ps []Package) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		return CompareEVR(ps[i], ps[j]) < 0
	})
}
