package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// KindFleet is the inventory of many clusters (mosc render --fleet).
const KindFleet = "Fleet"

// Fleet is kind Fleet: one inventory for many clusters. Each cluster's site
// is layered from spec.defaults, its group's site template and its own
// fields, and resolves to one plan per pool exactly as a site file would.
type Fleet struct {
	APIVersion string        `yaml:"apiVersion" mosc:"required"`
	Kind       string        `yaml:"kind" mosc:"required"`
	Metadata   FleetMetadata `yaml:"metadata"`
	Spec       FleetSpec     `yaml:"spec" mosc:"required"`

	File string `yaml:"-"`
	pos  map[string]Pos
	// groupSites are the site templates of groups with a site: file, by group.
	groupSites map[string]*Site
	// buckets index pos by list element (spec.clusters[7], spec.groups[1]),
	// so building a cluster's site does not scan every cluster's positions.
	buckets map[string]map[string]Pos
}

// bucketOf is the bucket a fleet path belongs to.
func bucketOf(path string) string {
	for _, list := range []string{"spec.clusters[", "spec.groups["} {
		if strings.HasPrefix(path, list) {
			if i := strings.IndexByte(path[len(list):], ']'); i >= 0 {
				return path[:len(list)+i+1]
			}
		}
	}
	return ""
}

// posFor returns the positions that may lie under prefix.
func (f *Fleet) posFor(prefix string) map[string]Pos {
	if f.buckets == nil {
		f.buckets = map[string]map[string]Pos{}
		for k, p := range f.pos {
			b := bucketOf(k)
			if f.buckets[b] == nil {
				f.buckets[b] = map[string]Pos{}
			}
			f.buckets[b][k] = p
		}
	}
	return f.buckets[bucketOf(prefix)]
}

type FleetMetadata struct {
	// Name is the mosc.dev/site label of clusters whose group names no site.
	Name string `yaml:"name"`
}

type FleetSpec struct {
	// Defaults apply to every cluster (the site file's spec fields).
	Defaults SiteSpec       `yaml:"defaults"`
	Groups   []FleetGroup   `yaml:"groups"`
	Clusters []FleetCluster `yaml:"clusters" mosc:"required"`
}

// FleetGroup is a site template shared by clusters: a site file (site:,
// relative to the fleet file) and/or inline spec fields over it.
type FleetGroup struct {
	Name string `yaml:"name" mosc:"required"`
	// Site is a kind Site file; its metadata.name becomes the group's
	// mosc.dev/site label (else the group name).
	Site string   `yaml:"site"`
	Spec SiteSpec `yaml:"spec"`
	// Labels are added to every cluster of the group (cluster labels win).
	Labels map[string]string `yaml:"labels"`
}

// FleetCluster is one cluster of the inventory.
type FleetCluster struct {
	Name string `yaml:"name" mosc:"required"`
	// OpenShift is the cluster's release, "4.20" or "4.20.15".
	OpenShift string `yaml:"openshift"`
	Platform  string `yaml:"platform"`
	// Pools to layer, each with its own MachineOSConfig (default: the
	// site's pool, else the platform's).
	Pools []string `yaml:"pools"`
	Group string   `yaml:"group"`
	// Labels select the cluster in Argo CD and ACM (and in --selector).
	Labels map[string]string `yaml:"labels"`
	// Overrides are site spec fields for this cluster alone.
	Overrides SiteSpec `yaml:"overrides"`
}

// LoadFleet reads and strictly decodes a fleet inventory, and the site
// files its groups name.
func LoadFleet(path string) (*Fleet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{{File: path, Message: fmt.Sprintf("reading fleet file: %v", unwrapPathErr(err))}}
	}
	return DecodeFleet(path, data)
}

// DecodeFleet decodes a fleet inventory strictly (file:line:col errors with
// the field path, all at once) and checks what can be checked without the
// catalog: names, labels, groups, duplicates. Group site files are read
// relative to file's directory.
func DecodeFleet(file string, data []byte) (*Fleet, error) {
	f, err := decodeFleetDoc(file, data)
	if err != nil {
		return nil, err
	}
	if errs := f.check(); len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// decodeFleetDoc is the decoding half of DecodeFleet, without file access
// (what the fuzz test exercises).
func decodeFleetDoc(file string, data []byte) (*Fleet, error) {
	root, err := parseDocument(file, data)
	if err != nil {
		return nil, err
	}
	if _, errs := decodeHeader(file, root, KindFleet); len(errs) > 0 {
		return nil, errs
	}
	d := newDecoder(file)
	f := &Fleet{}
	d.value(root, reflectValue(f), "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	f.File, f.pos = file, d.pos
	errs := f.checkNames()
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

func (f *Fleet) errAt(path, format string, args ...any) *Error {
	p := f.posOf(path)
	return &Error{File: p.File, Line: p.Line, Column: p.Column, Field: path, Message: fmt.Sprintf(format, args...)}
}

func (f *Fleet) posOf(path string) Pos {
	for p := path; p != ""; p = parentPath(p) {
		if pos, ok := f.pos[p]; ok {
			return pos
		}
	}
	return Pos{File: f.File}
}

// checkNames checks names and labels: cluster names become directory
// names, Argo CD destinations and ACM ManagedCluster names, so they are
// DNS-1123 labels.
func (f *Fleet) checkNames() ErrorList {
	var errs ErrorList
	if n := f.Metadata.Name; n != "" {
		for _, m := range validation.IsValidLabelValue(n) {
			errs = append(errs, f.errAt("metadata.name", "%q is not a valid label value: %s", n, m))
		}
	}
	groups := map[string]int{}
	for i, g := range f.Spec.Groups {
		path := fmt.Sprintf("spec.groups[%d]", i)
		for _, m := range validation.IsDNS1123Label(g.Name) {
			errs = append(errs, f.errAt(path+".name", "group name %q: %s", g.Name, m))
		}
		if j, dup := groups[g.Name]; dup {
			errs = append(errs, f.errAt(path+".name", "group %q is already defined at %s", g.Name, f.posOf(fmt.Sprintf("spec.groups[%d].name", j))))
		} else {
			groups[g.Name] = i
		}
		errs = append(errs, f.checkLabels(path+".labels", g.Labels)...)
	}
	clusters := map[string]int{}
	for i, c := range f.Spec.Clusters {
		path := fmt.Sprintf("spec.clusters[%d]", i)
		for _, m := range validation.IsDNS1123Label(c.Name) {
			errs = append(errs, f.errAt(path+".name", "cluster name %q: %s", c.Name, m))
		}
		if j, dup := clusters[c.Name]; dup {
			errs = append(errs, f.errAt(path+".name", "cluster %q is already listed at %s", c.Name, f.posOf(fmt.Sprintf("spec.clusters[%d].name", j))))
		} else {
			clusters[c.Name] = i
		}
		if c.Group != "" {
			if _, ok := groups[c.Group]; !ok {
				names := make([]string, 0, len(groups))
				for n := range groups {
					names = append(names, n)
				}
				sort.Strings(names)
				errs = append(errs, f.errAt(path+".group", "unknown group %q; known: %s", c.Group, knownList(names)))
			}
		}
		if c.OpenShift == "" {
			if _, ok := f.pos[path+".openshift"]; ok {
				errs = append(errs, f.errAt(path+".openshift", "must not be empty"))
			} else if f.Spec.Defaults.OpenShift == "" && (c.Group == "" || f.groupSpec(c.Group).OpenShift == "") {
				errs = append(errs, f.errAt(path, "missing required field %q (the cluster's release, e.g. \"4.20.15\"; or set it in spec.defaults or the group)", "openshift"))
			}
		}
		if c.Pools != nil && len(c.Pools) == 0 {
			errs = append(errs, f.errAt(path+".pools", "must not be empty (leave the field out for the site's pool)"))
		}
		seen := map[string]bool{}
		for k, p := range c.Pools {
			if seen[p] {
				errs = append(errs, f.errAt(fmt.Sprintf("%s.pools[%d]", path, k), "pool %q is listed twice", p))
			}
			seen[p] = true
		}
		errs = append(errs, f.checkLabels(path+".labels", c.Labels)...)
		if c.Overrides.OpenShift != "" || c.Overrides.Platform != "" || c.Overrides.Pool != "" {
			for _, x := range []struct{ field, v string }{{"openshift", c.Overrides.OpenShift}, {"platform", c.Overrides.Platform}, {"pool", c.Overrides.Pool}} {
				if x.v != "" {
					with := "spec.clusters[].pools"
					if x.field != "pool" {
						with = "spec.clusters[]." + x.field
					}
					errs = append(errs, f.errAt(path+".overrides."+x.field, "set it on the cluster (%s), not in overrides", with))
				}
			}
		}
	}
	return errs
}

func (f *Fleet) groupSpec(name string) SiteSpec {
	for _, g := range f.Spec.Groups {
		if g.Name == name {
			return g.Spec
		}
	}
	return SiteSpec{}
}

func (f *Fleet) checkLabels(path string, labels map[string]string) ErrorList {
	var errs ErrorList
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := join(path, k)
		for _, m := range validation.IsQualifiedName(k) {
			errs = append(errs, f.errAt(p, "label key %q: %s", k, m))
		}
		for _, m := range validation.IsValidLabelValue(labels[k]) {
			errs = append(errs, f.errAt(p, "label value %q: %s", labels[k], m))
		}
	}
	return errs
}

// check loads the groups' site files.
func (f *Fleet) check() ErrorList {
	var errs ErrorList
	f.groupSites = map[string]*Site{}
	for i, g := range f.Spec.Groups {
		if g.Site == "" {
			continue
		}
		p := g.Site
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(f.File), p)
		}
		s, err := LoadSite(p)
		if err != nil {
			if l, ok := err.(ErrorList); ok && len(l) == 1 && l[0].Line == 0 {
				errs = append(errs, f.errAt(fmt.Sprintf("spec.groups[%d].site", i), "%s", l[0].Message))
				continue
			}
			if l, ok := err.(ErrorList); ok {
				errs = append(errs, l...)
				continue
			}
			errs = append(errs, f.errAt(fmt.Sprintf("spec.groups[%d].site", i), "%v", err))
			continue
		}
		f.groupSites[g.Name] = s
	}
	return errs
}

// Cluster is one cluster of a fleet with its labels and one site per pool.
type Cluster struct {
	Name   string
	Group  string
	Labels map[string]string
	// Sites are the effective site of each pool, in the inventory's pool
	// order; errors resolving them point into the fleet (or group site) file.
	Sites []*Site
	// Index is the cluster's position in spec.clusters.
	Index int
}

// Clusters returns every cluster's effective sites, sorted by name.
func (f *Fleet) Clusters() []*Cluster {
	out := make([]*Cluster, 0, len(f.Spec.Clusters))
	for i := range f.Spec.Clusters {
		out = append(out, f.cluster(i))
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// cluster builds the effective site(s) of spec.clusters[i]: defaults, then
// the group's site file, then its inline spec, then the cluster's fields
// and overrides. Each field keeps the position (and document path) of the
// layer it came from.
func (f *Fleet) cluster(i int) *Cluster {
	c := f.Spec.Clusters[i]
	cpath := fmt.Sprintf("spec.clusters[%d]", i)
	base := NewSite()
	base.File = f.File
	base.display = map[string]string{}
	base.Metadata.Name = f.Metadata.Name
	if p, ok := f.pos["metadata.name"]; ok {
		base.pos["metadata.name"] = p
		base.display["metadata.name"] = "metadata.name"
	}
	base.overlay(reflect.ValueOf(f.Spec.Defaults), f.posFor("spec.defaults"), "spec.defaults", "spec", f.File)
	labels := map[string]string{}
	if c.Group != "" {
		for gi, g := range f.Spec.Groups {
			if g.Name != c.Group {
				continue
			}
			gpath := fmt.Sprintf("spec.groups[%d]", gi)
			// The group names the site unless its site file does.
			base.Metadata.Name = g.Name
			base.pos["metadata.name"] = f.posOf(gpath + ".name")
			base.display["metadata.name"] = gpath + ".name"
			if s := f.groupSites[g.Name]; s != nil {
				if s.Metadata.Name != "" {
					base.Metadata.Name = s.Metadata.Name
					base.pos["metadata.name"] = s.pos["metadata.name"]
					base.display["metadata.name"] = "metadata.name"
				}
				base.overlay(reflect.ValueOf(s.Spec), s.pos, "spec", "spec", s.File)
			}
			base.overlay(reflect.ValueOf(g.Spec), f.posFor(gpath), gpath+".spec", "spec", f.File)
			for k, v := range g.Labels {
				labels[k] = v
			}
		}
	}
	if base.Metadata.Name == "" {
		delete(base.pos, "metadata.name")
	}
	// The cluster's own fields are a SiteSpec layer of their own.
	own := SiteSpec{OpenShift: c.OpenShift, Platform: c.Platform}
	ownPos := map[string]Pos{}
	for _, k := range []string{"openshift", "platform"} {
		if p, ok := f.pos[cpath+"."+k]; ok {
			ownPos[cpath+"."+k] = p
		}
	}
	base.overlay(reflect.ValueOf(own), ownPos, cpath, "spec", f.File)
	base.overlay(reflect.ValueOf(c.Overrides), f.posFor(cpath), cpath+".overrides", "spec", f.File)
	for k, v := range c.Labels {
		labels[k] = v
	}
	out := &Cluster{Name: c.Name, Group: c.Group, Labels: labels, Index: i}
	if len(c.Pools) == 0 {
		out.Sites = []*Site{base}
		return out
	}
	for k, pool := range c.Pools {
		s := base.clone()
		s.Spec.Pool = pool
		ppath := fmt.Sprintf("%s.pools[%d]", cpath, k)
		s.pos["spec.pool"] = f.posOf(ppath)
		s.display["spec.pool"] = ppath
		out.Sites = append(out.Sites, s)
	}
	return out
}

func (s *Site) clone() *Site {
	c := *s
	c.Spec = cloneSpec(s.Spec)
	c.pos = make(map[string]Pos, len(s.pos))
	for k, v := range s.pos {
		c.pos[k] = v
	}
	c.display = make(map[string]string, len(s.display))
	for k, v := range s.display {
		c.display[k] = v
	}
	c.origin = map[string]string{}
	return &c
}

// cloneSpec copies the maps and slices a later layer may change in place.
func cloneSpec(s SiteSpec) SiteSpec {
	c := s
	c.Stacks = append([]StackRef(nil), s.Stacks...)
	c.ExtraPackages = append([]string(nil), s.ExtraPackages...)
	c.Repos.Mirrors = cloneMap(s.Repos.Mirrors)
	c.Repos.GPGKeys = cloneMap(s.Repos.GPGKeys)
	c.Node.OtherConfig = cloneMap(s.Node.OtherConfig)
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// overlay sets every field that src (a SiteSpec value) sets over s.Spec:
// scalars and lists replace, maps merge by key. Positions under srcPrefix
// in srcPos move to the site path under dstPrefix, and remember the
// document path, so an error about the value points at the layer it came
// from. Relative file paths (gpgKeys, pushAuthFile) are made relative to
// the directory of the file that named them.
func (s *Site) overlay(src reflect.Value, srcPos map[string]Pos, srcPrefix, dstPrefix, file string) {
	// Only the positions under srcPrefix matter; a fleet's map holds every
	// cluster's, and scanning it per field would be quadratic.
	sub := map[string]Pos{}
	for k, p := range srcPos {
		if under(k, srcPrefix) {
			sub[k] = p
		}
	}
	s.overlayValue(src, reflect.ValueOf(&s.Spec).Elem(), sub, srcPrefix, dstPrefix, file)
}

func (s *Site) overlayValue(src, dst reflect.Value, srcPos map[string]Pos, srcPath, dstPath, file string) {
	switch src.Kind() {
	case reflect.Struct:
		for _, fi := range fieldsOf(src.Type()) {
			s.overlayValue(src.Field(fi.index), dst.Field(fi.index), srcPos, join(srcPath, fi.name), join(dstPath, fi.name), file)
		}
		return
	case reflect.Map:
		if src.IsNil() {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		keys := src.MapKeys()
		for _, k := range keys {
			v := src.MapIndex(k)
			if (strings.HasSuffix(dstPath, ".gpgKeys") || strings.HasSuffix(dstPath, ".pushAuthFile")) && v.Kind() == reflect.String {
				v = reflect.ValueOf(relativeTo(file, v.String()))
			}
			dst.SetMapIndex(k, v)
			s.movePos(srcPos, join(srcPath, k.String()), join(dstPath, k.String()))
		}
		if _, ok := srcPos[srcPath]; ok {
			if _, had := s.pos[dstPath]; !had {
				s.pos[dstPath] = srcPos[srcPath]
				s.display[dstPath] = srcPath
			}
		}
		return
	case reflect.Slice:
		if src.IsNil() {
			return
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
	default:
		if src.IsZero() {
			return
		}
	}
	v := src
	if strings.HasSuffix(dstPath, ".pushAuthFile") && v.Kind() == reflect.String {
		v = reflect.ValueOf(relativeTo(file, v.String()))
	}
	dst.Set(v)
	// A replaced value: drop positions of the layer below.
	for k := range s.pos {
		if under(k, dstPath) {
			delete(s.pos, k)
			delete(s.display, k)
		}
	}
	s.movePos(srcPos, srcPath, dstPath)
}

// relativeTo makes a relative path from file relative to the working
// directory (the fleet file and a group's site file may sit in different
// directories).
func relativeTo(file, p string) string {
	if p == "" || filepath.IsAbs(p) || file == "" || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}

func (s *Site) movePos(srcPos map[string]Pos, srcPath, dstPath string) {
	for k, p := range srcPos {
		if !under(k, srcPath) {
			continue
		}
		d := dstPath + k[len(srcPath):]
		s.pos[d] = p
		s.display[d] = k
	}
}

// under reports whether path is p or below it.
func under(path, p string) bool {
	if !strings.HasPrefix(path, p) {
		return false
	}
	rest := path[len(p):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// displayField is the document path of a site field path: the same path
// for a site file, the fleet path (spec.clusters[2].overrides.pool) for a
// site built from a fleet.
func (s *Site) displayField(path string) string {
	if len(s.display) == 0 {
		return path
	}
	for p := path; p != ""; p = parentPath(p) {
		if d, ok := s.display[p]; ok {
			return d + path[len(p):]
		}
	}
	return path
}

// AtRelease returns a copy of the site at another OpenShift release, the
// value credited to source (a flag, "--to"), for what-if plans of a fleet's
// cluster: gate --fleet's target side. The site itself is not changed.
func (s *Site) AtRelease(version, source string) *Site {
	c := *s
	c.origin = make(map[string]string, len(s.origin)+1)
	for k, v := range s.origin {
		c.origin[k] = v
	}
	c.Spec.OpenShift = version
	c.origin["spec.openshift"] = source
	return &c
}
