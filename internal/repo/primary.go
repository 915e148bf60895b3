package repo

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Package is one binary package entry of primary.xml.
type Package struct {
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	Epoch   string `json:"epoch,omitempty"`
	Version string `json:"version"`
	Release string `json:"release"`
}

// EVR is epoch:version-release, with the epoch left out when zero, as dnf prints it.
func (p Package) EVR() string {
	s := p.Version + "-" + p.Release
	if p.Epoch != "" && p.Epoch != "0" {
		s = p.Epoch + ":" + s
	}
	return s
}

// NEVRA is the package's full name, e.g. doca-openvswitch-3.3.0040-1.el9.x86_64.
func (p Package) NEVRA() string { return p.Name + "-" + p.EVR() + "." + p.Arch }

// Entry is one package of primary.xml with what the dependency closure and
// the header signature check need.
type Entry struct {
	Package
	// Location is the package file relative to the repository root (the
	// <location> href, with its xml:base when given).
	Location string `json:"location,omitempty"`
	// HeaderEnd is rpm:header-range's end: the lead, the signature header
	// and the header are bytes [0, HeaderEnd) of the file; 0 when absent.
	HeaderEnd int64    `json:"-"`
	Requires  []string `json:"-"` // capability names of rpm:requires
	Provides  []string `json:"-"` // capability names of rpm:provides
	Files     []string `json:"-"` // the <file> entries (primary lists only some paths)
}

// ScanPrimary streams primary.xml and calls fn for every <package
// type="rpm"> whose name passes want (nil: all). It returns the number of
// package entries seen. Only the name/arch/version elements of each package
// are read; everything else (file lists, requires, descriptions) is skipped
// by the decoder without being kept.
func ScanPrimary(r io.Reader, want func(name string) bool, fn func(Package)) (int, error) {
	return scanPrimary(r, false, want, func(e Entry) { fn(e.Package) })
}

// ScanPrimaryEntries is ScanPrimary with each package's location, header
// range, requires, provides and files, for the dependency closure.
func ScanPrimaryEntries(r io.Reader, fn func(Entry)) (int, error) {
	return scanPrimary(r, true, nil, fn)
}

func scanPrimary(r io.Reader, full bool, want func(name string) bool, fn func(Entry)) (int, error) {
	dec := xml.NewDecoder(r)
	count := 0
	sawRoot := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !sawRoot {
				return count, fmt.Errorf("primary.xml: no <metadata> root element")
			}
			return count, nil
		}
		if err != nil {
			return count, fmt.Errorf("primary.xml: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !sawRoot {
			if se.Name.Local != "metadata" {
				line, col := dec.InputPos()
				return count, fmt.Errorf("primary.xml:%d:%d: root element is <%s>, want <metadata>", line, col, se.Name.Local)
			}
			sawRoot = true
			continue
		}
		if se.Name.Local != "package" {
			continue
		}
		line, col := dec.InputPos()
		e, err := readPackage(dec, se, full)
		if err != nil {
			return count, fmt.Errorf("primary.xml:%d:%d: package: %w", line, col, err)
		}
		count++
		if attr(se, "type") != "" && attr(se, "type") != "rpm" {
			continue
		}
		if e.Name == "" {
			return count, fmt.Errorf("primary.xml:%d:%d: package without <name>", line, col)
		}
		if want == nil || want(e.Name) {
			fn(e)
		}
	}
}

// readPackage consumes one <package> element (start already read). With
// full, the location, header range, requires, provides and files are kept.
func readPackage(dec *xml.Decoder, start xml.StartElement, full bool) (Entry, error) {
	var p Entry
	// path holds the local names of the open elements below <package>.
	var path []string
	var text *string
	var file string
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return p, fmt.Errorf("unexpected end of document inside <%s>", start.Name.Local)
			}
			return p, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			text = nil
			switch len(path) {
			case 1:
				switch t.Name.Local {
				case "name":
					text = &p.Name
				case "arch":
					text = &p.Arch
				case "version":
					p.Epoch, p.Version, p.Release = attr(t, "epoch"), attr(t, "ver"), attr(t, "rel")
				case "location":
					if full {
						p.Location = attr(t, "href")
						if base := attr(t, "base"); base != "" {
							p.Location = strings.TrimRight(base, "/") + "/" + p.Location
						}
					}
				}
			case 2:
				if !full || path[0] != "format" {
					continue
				}
				switch t.Name.Local {
				case "header-range":
					if end, err := strconv.ParseInt(attr(t, "end"), 10, 64); err == nil && end > 0 {
						p.HeaderEnd = end
					}
				case "file":
					file = ""
					text = &file
				}
			case 3:
				if !full || path[0] != "format" || t.Name.Local != "entry" {
					continue
				}
				switch path[1] {
				case "requires":
					p.Requires = append(p.Requires, attr(t, "name"))
				case "provides":
					p.Provides = append(p.Provides, attr(t, "name"))
				}
			}
		case xml.EndElement:
			if len(path) == 0 {
				return p, nil // </package>
			}
			if full && len(path) == 2 && path[1] == "file" && file != "" {
				p.Files = append(p.Files, file)
			}
			path = path[:len(path)-1]
			text = nil
		case xml.CharData:
			if text != nil {
				*text += strings.TrimSpace(string(t))
			}
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
