package repo

import (
	"encoding/xml"
	"fmt"
	"io"
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

// ScanPrimary streams primary.xml and calls fn for every <package
// type="rpm"> whose name passes want (nil: all). It returns the number of
// package entries seen. Only the name/arch/version elements of each package
// are read; everything else (file lists, requires, descriptions) is skipped
// by the decoder without being kept.
func ScanPrimary(r io.Reader, want func(name string) bool, fn func(Package)) (int, error) {
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
		pkg, err := readPackage(dec, se)
		if err != nil {
			return count, fmt.Errorf("primary.xml:%d:%d: package: %w", line, col, err)
		}
		count++
		if attr(se, "type") != "" && attr(se, "type") != "rpm" {
			continue
		}
		if pkg.Name == "" {
			return count, fmt.Errorf("primary.xml:%d:%d: package without <name>", line, col)
		}
		if want == nil || want(pkg.Name) {
			fn(pkg)
		}
	}
}

// readPackage consumes one <package> element (start already read).
func readPackage(dec *xml.Decoder, start xml.StartElement) (Package, error) {
	var p Package
	depth := 1
	var text *string
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return p, fmt.Errorf("unexpected end of document inside <%s>", start.Name.Local)
			}
			return p, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			text = nil
			if depth != 2 {
				continue
			}
			switch t.Name.Local {
			case "name":
				text = &p.Name
			case "arch":
				text = &p.Arch
			case "version":
				p.Epoch, p.Version, p.Release = attr(t, "epoch"), attr(t, "ver"), attr(t, "rel")
			}
		case xml.EndElement:
			depth--
			text = nil
		case xml.CharData:
			if text != nil {
				*text += strings.TrimSpace(string(t))
			}
		}
	}
	return p, nil
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
