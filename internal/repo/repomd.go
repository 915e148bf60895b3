// Package repo answers, before an upgrade, whether a DNF repository really
// carries the packages a layer installs: it reads repodata/repomd.xml, finds
// the primary metadata, verifies its checksum and streams primary.xml through
// an XML token loop (DOCA's primary.xml is tens of megabytes; no DOM).
package repo

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Repomd is the part of repodata/repomd.xml preflight needs.
type Repomd struct {
	Revision string
	Data     []RepomdData
}

// RepomdData is one <data type="..."> entry.
type RepomdData struct {
	Type         string
	Href         string // relative to the repository base URL
	ChecksumType string // "sha256", "sha512", "sha1"/"sha", ...
	Checksum     string // of the file at Href (compressed form)
	OpenChecksum string // of the uncompressed content, when given
	Size         int64
}

// Primary returns the <data type="primary"> entry.
func (r *Repomd) Primary() (RepomdData, error) {
	for _, d := range r.Data {
		if d.Type == "primary" {
			return d, nil
		}
	}
	return RepomdData{}, errors.New(`repomd.xml has no <data type="primary">`)
}

// xmlRepomd mirrors the document; namespaces are ignored on purpose because
// repositories in the wild use both the default namespace and none.
type xmlRepomd struct {
	XMLName  xml.Name `xml:"repomd"`
	Revision string   `xml:"revision"`
	Data     []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		OpenChecksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"open-checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Size int64 `xml:"size"`
	} `xml:"data"`
}

// maxRepomdBytes bounds repomd.xml (a few KiB in practice) so a wrong URL
// serving a large file cannot exhaust memory.
const maxRepomdBytes = 4 << 20

// ParseRepomd decodes repomd.xml. Errors carry the line of the problem.
func ParseRepomd(r io.Reader) (*Repomd, error) {
	lr := &countingReader{r: io.LimitReader(r, maxRepomdBytes+1)}
	dec := xml.NewDecoder(lr)
	var doc xmlRepomd
	if err := dec.Decode(&doc); err != nil {
		if lr.n > maxRepomdBytes {
			return nil, fmt.Errorf("repomd.xml is larger than %d bytes", maxRepomdBytes)
		}
		return nil, fmt.Errorf("repomd.xml: %w", err)
	}
	out := &Repomd{Revision: strings.TrimSpace(doc.Revision)}
	for i, d := range doc.Data {
		rd := RepomdData{
			Type:         d.Type,
			Href:         strings.TrimSpace(d.Location.Href),
			ChecksumType: strings.ToLower(strings.TrimSpace(d.Checksum.Type)),
			Checksum:     strings.ToLower(strings.TrimSpace(d.Checksum.Value)),
			OpenChecksum: strings.ToLower(strings.TrimSpace(d.OpenChecksum.Value)),
			Size:         d.Size,
		}
		if rd.Type == "" {
			return nil, fmt.Errorf("repomd.xml: data[%d]: missing type attribute", i)
		}
		if rd.Href == "" {
			return nil, fmt.Errorf("repomd.xml: data[%d] (type %q): missing location href", i, rd.Type)
		}
		out.Data = append(out.Data, rd)
	}
	return out, nil
}

// countingReader counts bytes read so the size limit can be reported.
type countingReader struct {
	r io.Reader
	n int64
}

func (l *countingReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
