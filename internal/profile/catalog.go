package profile

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	yaml "go.yaml.in/yaml/v3"

	"github.com/mosc-dev/mosc/internal/embedtext"
	"github.com/mosc-dev/mosc/profiles"
)

// Profile is any of *Release, *Platform, *Stack.
type Profile interface {
	ProfileKind() string
	ProfileName() string
	ProfileSource() *Source
	ProfileSummary() string
}

func (r *Release) ProfileKind() string     { return KindRelease }
func (r *Release) ProfileName() string     { return r.Metadata.Name }
func (r *Release) ProfileSource() *Source  { return &r.Source }
func (r *Release) ProfileSummary() string  { return r.Metadata.Summary }
func (p *Platform) ProfileKind() string    { return KindPlatform }
func (p *Platform) ProfileName() string    { return p.Metadata.Name }
func (p *Platform) ProfileSource() *Source { return &p.Source }
func (p *Platform) ProfileSummary() string { return p.Metadata.Summary }
func (s *Stack) ProfileKind() string       { return KindStack }
func (s *Stack) ProfileName() string       { return s.Metadata.Name }
func (s *Stack) ProfileSource() *Source    { return &s.Source }
func (s *Stack) ProfileSummary() string    { return s.Metadata.Summary }

// Catalog is every known profile: the embedded ones, replaced or extended by
// the files of --profiles directories.
type Catalog struct {
	releases  map[string]*Release
	platforms map[string]*Platform
	stacks    map[string]*Stack
	// lazy holds the embedded profiles not decoded yet, by kind/name:
	// decoding (and validating) all thirteen was a quarter of a `mosc
	// render` process (issue 15), which needs three. Accessors decode what
	// they return; TestEmbeddedCatalog decodes them all.
	mu   sync.Mutex
	lazy map[string]embeddedProfile
}

// embeddedProfile is an embedded file whose kind and name come from its
// path (openshift/4.20.yaml is OpenShiftRelease 4.20; a test checks that
// every file says so itself).
type embeddedProfile struct {
	file string // "profiles/openshift/4.20.yaml", read when decoded
}

// embeddedKinds maps the embedded catalog's directories to kinds.
var embeddedKinds = map[string]string{"openshift": KindRelease, "platform": KindPlatform, "stack": KindStack}

// embeddedKey is "kind/name" for an embedded file path ("openshift/4.20.yaml").
func embeddedKey(p string) (string, bool) {
	dir, file := path.Split(p)
	kind, ok := embeddedKinds[strings.TrimSuffix(dir, "/")]
	if !ok {
		return "", false
	}
	return kind + "/" + strings.TrimSuffix(file, path.Ext(file)), true
}

// decode turns lazy entries into profiles: the one named (kind, name), or
// all of a kind when name is "", or all when kind is "". It locks c.mu and
// returns with it held, for the caller's map reads: unlock when done.
func (c *Catalog) decode(kind, name string) {
	c.mu.Lock()
	if len(c.lazy) == 0 {
		return
	}
	for key, e := range c.lazy {
		k, n, _ := strings.Cut(key, "/")
		if (kind != "" && k != kind) || (name != "" && n != name) {
			continue
		}
		delete(c.lazy, key)
		name := strings.TrimPrefix(e.file, "profiles/")
		// The profile built by generated code from this very text, else
		// decoded from the file: TestEmbeddedGenerated keeps the two equal
		// and embedded_gen.go up to date. The generated text is the file's
		// bytes, so Raw is that string, read-only, instead of a copy (and
		// comparing costs ~1/100 of hashing it with SHA-256, the key before).
		var prof Profile
		if text, build := embeddedGenerated(e.file); build != nil && embedtext.Same(profiles.FS, name, text) {
			prof = build()
			src := prof.ProfileSource()
			src.File, src.Raw, src.lazy = e.file, unsafe.Slice(unsafe.StringData(text), len(text)), &lazyPos{}
		} else {
			data, err := fs.ReadFile(profiles.FS, name)
			if err != nil {
				panic(fmt.Sprintf("embedded profile %s: %v", e.file, err))
			}
			if prof, err = DecodeProfile(e.file, data); err != nil {
				// The embedded catalog is part of the program, and its tests
				// decode every file: this is a broken build, not bad input.
				panic(fmt.Sprintf("embedded profile %s does not decode:\n%v", e.file, err))
			}
		}
		prof.ProfileSource().Embedded = true
		if prof.ProfileKind()+"/"+prof.ProfileName() != key {
			panic(fmt.Sprintf("embedded profile %s is %s %q: its path says %s", e.file, prof.ProfileKind(), prof.ProfileName(), key))
		}
		c.put(prof)
	}
}

// LoadCatalog reads the embedded catalog, then each dir in order (a dir may
// also be a single file). A file there replaces the embedded (or an earlier
// dir's) profile of the same kind and name, or adds a new one. Every problem
// in every file is reported at once.
func LoadCatalog(overrideDirs ...string) (*Catalog, error) {
	c := &Catalog{releases: map[string]*Release{}, platforms: map[string]*Platform{}, stacks: map[string]*Stack{}, lazy: map[string]embeddedProfile{}}
	var errs ErrorList
	// origin remembers which source (0 = embedded, i+1 = overrideDirs[i])
	// defined each kind/name: a repeat within one source is a mistake, across
	// sources it is an override.
	origin := map[string]int{}
	add := func(src int, p Profile) {
		key := p.ProfileKind() + "/" + p.ProfileName()
		if e, ok := c.lazy[key]; ok {
			// Replacing an embedded profile: no need to decode it.
			delete(c.lazy, key)
			p.ProfileSource().Overrides = e.file
		} else if prev, ok := c.lookup(p.ProfileKind(), p.ProfileName()); ok {
			if origin[key] == src {
				errs = append(errs, p.ProfileSource().errorf("metadata.name", "%s %q is also defined in %s", p.ProfileKind(), p.ProfileName(), prev.ProfileSource().File))
				return
			}
			p.ProfileSource().Overrides = prev.ProfileSource().File
		}
		origin[key] = src
		c.put(p)
	}

	err := fs.WalkDir(profiles.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isYAMLFile(p) {
			return err
		}
		if key, ok := embeddedKey(p); ok {
			c.lazy[key] = embeddedProfile{file: path.Join("profiles", p)}
			origin[key] = 0
			return nil
		}
		data, err := fs.ReadFile(profiles.FS, p)
		if err != nil {
			return err
		}
		prof, err := DecodeProfile(path.Join("profiles", p), data)
		if err != nil {
			errs = appendErr(errs, err)
			return nil
		}
		prof.ProfileSource().Embedded = true
		add(0, prof)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the embedded catalog: %w", err)
	}

	for i, dir := range overrideDirs {
		files, err := yamlFiles(dir)
		if err != nil {
			errs = append(errs, &Error{File: dir, Flag: "", Message: err.Error()})
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, &Error{File: f, Message: err.Error()})
				continue
			}
			prof, err := DecodeProfile(f, data)
			if err != nil {
				errs = appendErr(errs, err)
				continue
			}
			add(i+1, prof)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func appendErr(errs ErrorList, err error) ErrorList {
	if l, ok := err.(ErrorList); ok {
		return append(errs, l...)
	}
	if e, ok := err.(*Error); ok {
		return append(errs, e)
	}
	return append(errs, &Error{Message: err.Error()})
}

func isYAMLFile(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// yamlFiles lists the YAML files under dir (recursively, sorted), or dir
// itself when it is a file.
func yamlFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("profiles directory: %w", unwrapPathErr(err))
	}
	if !st.IsDir() {
		return []string{dir}, nil
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Skip .git and friends: a profiles dir is often a git checkout.
		if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && isYAMLFile(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("profiles directory has no .yaml files")
	}
	return files, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func (c *Catalog) lookup(kind, name string) (Profile, bool) {
	c.decode(kind, name)
	defer c.mu.Unlock()
	switch kind {
	case KindRelease:
		r, ok := c.releases[name]
		return r, ok
	case KindPlatform:
		p, ok := c.platforms[name]
		return p, ok
	case KindStack:
		s, ok := c.stacks[name]
		return s, ok
	}
	return nil, false
}

func (c *Catalog) put(p Profile) {
	switch p := p.(type) {
	case *Release:
		c.releases[p.Metadata.Name] = p
	case *Platform:
		c.platforms[p.Metadata.Name] = p
	case *Stack:
		c.stacks[p.Metadata.Name] = p
	}
}

// Releases returns the OpenShift releases sorted by version.
func (c *Catalog) Releases() []*Release {
	c.decode(KindRelease, "")
	defer c.mu.Unlock()
	out := make([]*Release, 0, len(c.releases))
	for _, r := range c.releases {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i].Metadata.Name, out[j].Metadata.Name) })
	return out
}

// Platforms returns the platforms sorted by name.
func (c *Catalog) Platforms() []*Platform {
	c.decode(KindPlatform, "")
	defer c.mu.Unlock()
	out := make([]*Platform, 0, len(c.platforms))
	for _, p := range c.platforms {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metadata.Name < out[j].Metadata.Name })
	return out
}

// Stacks returns the stacks sorted by name.
func (c *Catalog) Stacks() []*Stack {
	c.decode(KindStack, "")
	defer c.mu.Unlock()
	out := make([]*Stack, 0, len(c.stacks))
	for _, s := range c.stacks {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metadata.Name < out[j].Metadata.Name })
	return out
}

// Profiles returns every profile: releases, platforms, stacks, each sorted.
func (c *Catalog) Profiles() []Profile {
	var out []Profile
	for _, r := range c.Releases() {
		out = append(out, r)
	}
	for _, p := range c.Platforms() {
		out = append(out, p)
	}
	for _, s := range c.Stacks() {
		out = append(out, s)
	}
	return out
}

// Find returns the profiles of any kind with this name ("4.20", "doca-3.3").
func (c *Catalog) Find(name string) []Profile {
	var out []Profile
	for _, p := range c.Profiles() {
		if p.ProfileName() == name {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		if r, err := c.Release(name); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// versionRule is what matchVersion accepts (the reference of TestRules
// and FuzzRules; compiling it cost every render ~0.3%, issue 15).
const versionRule = `^v?(\d+)\.(\d+)(\.\d+([-+][0-9A-Za-z.+-]*)?)?$`

// matchVersion is versionRule's FindStringSubmatch: groups 1-3 (major,
// minor, the patch part with its dot and suffix, "" if none). Every part is
// forced (a digit run ends at the only byte that may follow it), so one
// left-to-right scan finds the expression's match.
func matchVersion(s string) (major, minor, patch string, ok bool) {
	digits := func(i int) int {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		return j
	}
	i := 0
	if i < len(s) && s[i] == 'v' {
		i++
	}
	j := digits(i)
	if j == i || j == len(s) || s[j] != '.' {
		return "", "", "", false
	}
	major, i = s[i:j], j+1
	j = digits(i)
	if j == i {
		return "", "", "", false
	}
	minor, i = s[i:j], j
	if i == len(s) {
		return major, minor, "", true
	}
	if s[i] != '.' {
		return "", "", "", false
	}
	j = digits(i + 1)
	if j == i+1 {
		return "", "", "", false
	}
	if j < len(s) {
		if s[j] != '-' && s[j] != '+' {
			return "", "", "", false
		}
		for k := j + 1; k < len(s); k++ {
			if c := s[k]; !isAlnum(c) && c != '.' && c != '+' && c != '-' {
				return "", "", "", false
			}
		}
	}
	return major, minor, s[i:], true
}

// MinorVersion reduces "4.20.15" (or "4.20", "v4.20.0-rc.1") to "4.20".
func MinorVersion(version string) (string, error) {
	ma, mi, _, ok := matchVersion(strings.TrimSpace(version))
	if !ok {
		return "", fmt.Errorf("invalid OpenShift version %q: want MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 4.20 or 4.20.15", version)
	}
	major, _ := strconv.Atoi(ma)
	minor, _ := strconv.Atoi(mi)
	return fmt.Sprintf("%d.%d", major, minor), nil
}

// ParseVersion splits "4.18.15" (or "4.18", "v4.18.20-rc.1") into the minor
// release "4.18" and the z-stream 15; hasZ is false when no patch level was
// given.
func ParseVersion(version string) (minor string, z int, hasZ bool, err error) {
	m1, m2, m3, ok := matchVersion(strings.TrimSpace(version))
	if !ok {
		return "", 0, false, fmt.Errorf("invalid OpenShift version %q: want MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 4.20 or 4.20.15", version)
	}
	major, _ := strconv.Atoi(m1)
	mi, _ := strconv.Atoi(m2)
	minor = fmt.Sprintf("%d.%d", major, mi)
	if m3 == "" {
		return minor, 0, false, nil
	}
	digits := strings.TrimPrefix(m3, ".")
	if i := strings.IndexAny(digits, "-+"); i >= 0 {
		digits = digits[:i]
	}
	z, err = strconv.Atoi(digits)
	if err != nil {
		return "", 0, false, fmt.Errorf("invalid OpenShift version %q: patch level out of range", version)
	}
	return minor, z, true, nil
}

// ZRange is the span of z-streams of one minor release that share one OCL
// block: 4.18.0-4.18.19 (v1alpha1) and 4.18.20+ (v1).
type ZRange struct {
	Minor string
	From  int
	// To is the last z-stream of the span; -1 means open-ended.
	To int
	// Split is true when the release has more than one span.
	Split bool
	OCL   ReleaseOCL
}

// String names the span: "4.18.0-4.18.19", "4.18.20+", or "4.20" when the
// release is not split.
func (z ZRange) String() string {
	switch {
	case !z.Split:
		return z.Minor
	case z.To < 0:
		return fmt.Sprintf("%s.%d+", z.Minor, z.From)
	}
	return fmt.Sprintf("%s.%d-%s.%d", z.Minor, z.From, z.Minor, z.To)
}

// Short is the matrix column label: "4.18.0-19", "4.18.20+", "4.20".
func (z ZRange) Short() string {
	if z.Split && z.To >= 0 {
		return fmt.Sprintf("%s.%d-%d", z.Minor, z.From, z.To)
	}
	return z.String()
}

// Version is the first version of the span ("4.18.20"), or the minor when
// the release is not split: resolving it selects exactly this span.
func (z ZRange) Version() string {
	if !z.Split {
		return z.Minor
	}
	return fmt.Sprintf("%s.%d", z.Minor, z.From)
}

// Describe is "MachineOSConfig v1alpha1, PodImageBuilder, TechPreviewNoUpgrade".
func (z ZRange) Describe() string {
	return fmt.Sprintf("MachineOSConfig %s, %s, %s", shortAPIVersion(z.OCL.APIVersion), z.OCL.ImageBuilderType, z.OCL.Support)
}

// Contains says whether z-stream z is in the span.
func (z ZRange) Contains(zz int) bool {
	return zz >= z.From && (z.To < 0 || zz <= z.To)
}

// ZRanges lists the release's spans in order; one for a release without
// spec.zStreams.
func (r *Release) ZRanges() []ZRange {
	split := len(r.Spec.ZStreams) > 0
	out := []ZRange{{Minor: r.Metadata.Name, From: 0, To: -1, Split: split, OCL: r.Spec.OCL}}
	for _, zs := range r.Spec.ZStreams {
		out[len(out)-1].To = zs.From - 1
		out = append(out, ZRange{Minor: r.Metadata.Name, From: zs.From, To: -1, Split: true, OCL: zs.OCL})
	}
	return out
}

// At returns the span of z-stream z; without a patch level (hasZ false),
// the newest span: "4.18" means what a cluster updated today runs.
func (r *Release) At(z int, hasZ bool) ZRange {
	spans := r.ZRanges()
	if !hasZ {
		return spans[len(spans)-1]
	}
	for _, s := range spans {
		if s.Contains(z) {
			return s
		}
	}
	return spans[len(spans)-1]
}

// Release finds a release by "4.20" or "4.20.15" (the patch level selects
// the z-stream span within the minor release's profile: see Release.At).
func (c *Catalog) Release(version string) (*Release, error) {
	minor, err := MinorVersion(version)
	if err != nil {
		return nil, &Error{Message: err.Error() + "; known: " + knownList(c.releaseNames())}
	}
	c.decode(KindRelease, minor)
	r, ok := c.releases[minor]
	c.mu.Unlock()
	if !ok {
		return nil, &Error{Message: fmt.Sprintf("unknown OpenShift release %q; known: %s", version, knownList(c.releaseNames()))}
	}
	return r, nil
}

// Span returns the z-stream span a version falls in ("4.18.15" →
// 4.18.0-4.18.19); a version without a patch level gets the newest span.
func (c *Catalog) Span(version string) (ZRange, error) {
	r, err := c.Release(version)
	if err != nil {
		return ZRange{}, err
	}
	_, z, hasZ, _ := ParseVersion(version)
	return r.At(z, hasZ), nil
}

// Platform finds a platform by name.
func (c *Catalog) Platform(name string) (*Platform, error) {
	c.decode(KindPlatform, name)
	p, ok := c.platforms[name]
	c.mu.Unlock()
	if !ok {
		return nil, &Error{Message: fmt.Sprintf("unknown platform %q; known: %s", name, knownList(c.platformNames()))}
	}
	return p, nil
}

// Stack finds a stack by name.
func (c *Catalog) Stack(name string) (*Stack, error) {
	c.decode(KindStack, name)
	s, ok := c.stacks[name]
	c.mu.Unlock()
	if !ok {
		return nil, &Error{Message: fmt.Sprintf("unknown stack %q; known: %s", name, knownList(c.stackNames()))}
	}
	return s, nil
}

// names lists a kind's profile names without decoding any (for "known:"
// lists in errors).
func (c *Catalog) names(kind string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	switch kind {
	case KindRelease:
		for n := range c.releases {
			out = append(out, n)
		}
	case KindPlatform:
		for n := range c.platforms {
			out = append(out, n)
		}
	case KindStack:
		for n := range c.stacks {
			out = append(out, n)
		}
	}
	for key := range c.lazy {
		if k, n, _ := strings.Cut(key, "/"); k == kind {
			out = append(out, n)
		}
	}
	if kind == KindRelease {
		sort.Slice(out, func(i, j int) bool { return versionLess(out[i], out[j]) })
	} else {
		sort.Strings(out)
	}
	return out
}

func (c *Catalog) releaseNames() []string  { return c.names(KindRelease) }
func (c *Catalog) platformNames() []string { return c.names(KindPlatform) }
func (c *Catalog) stackNames() []string    { return c.names(KindStack) }

// versionLess orders "4.9" before "4.10"; malformed names sort last, by text.
func versionLess(a, b string) bool {
	pa, oka := parseMinor(a)
	pb, okb := parseMinor(b)
	switch {
	case oka && okb:
		if pa[0] != pb[0] {
			return pa[0] < pb[0]
		}
		if pa[1] != pb[1] {
			return pa[1] < pb[1]
		}
		return a < b
	case oka != okb:
		return oka
	}
	return a < b
}

func parseMinor(v string) ([2]int, bool) {
	ma, mi, _, ok := matchVersion(v)
	if !ok {
		return [2]int{}, false
	}
	major, err1 := strconv.Atoi(ma)
	minor, err2 := strconv.Atoi(mi)
	return [2]int{major, minor}, err1 == nil && err2 == nil
}

// DecodeProfile decodes one profile document (any kind), strictly, and checks
// it on its own (enums, formats, internal references). Errors carry
// file:line:col and the field path.
func DecodeProfile(file string, data []byte) (Profile, error) {
	root, err := parseDocument(file, data)
	if err != nil {
		return nil, err
	}
	kind, errs := decodeHeader(file, root, KindRelease, KindPlatform, KindStack)
	if len(errs) > 0 {
		return nil, errs
	}
	d := newDecoder(file)
	var p Profile
	switch kind {
	case KindRelease:
		r := &Release{}
		d.value(root, reflectValue(r), "")
		p = r
	case KindPlatform:
		pl := &Platform{}
		d.value(root, reflectValue(pl), "")
		p = pl
	case KindStack:
		s := &Stack{}
		d.value(root, reflectValue(s), "")
		p = s
	}
	src := p.ProfileSource()
	src.File, src.Raw, src.pos = file, data, d.pos
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	var verrs ErrorList
	switch p := p.(type) {
	case *Release:
		verrs = validateRelease(p)
	case *Platform:
		verrs = validatePlatform(p)
	case *Stack:
		verrs = validateStack(p)
	}
	if len(verrs) > 0 {
		return nil, verrs
	}
	return p, nil
}

// decodeHeader checks apiVersion and kind before the body is decoded, so a
// wrong kind gives one clear error instead of a page of unknown fields.
func decodeHeader(file string, root *yaml.Node, kinds ...string) (string, ErrorList) {
	d := newDecoder(file)
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "", "expected a mapping with apiVersion and kind, got %s", DescribeNode(root))
		return "", d.errs
	}
	var apiVersion, kind *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "apiVersion":
			apiVersion = root.Content[i+1]
		case "kind":
			kind = root.Content[i+1]
		}
	}
	switch {
	case apiVersion == nil:
		d.errorf(root, "apiVersion", "missing required field %q (want %s)", "apiVersion", APIVersion)
	case apiVersion.Kind != yaml.ScalarNode || apiVersion.Value != APIVersion:
		d.errorf(apiVersion, "apiVersion", "unsupported apiVersion %s; supported: %s", DescribeNode(apiVersion), APIVersion)
	}
	if kind == nil {
		d.errorf(root, "kind", "missing required field %q (one of %s)", "kind", knownList(kinds))
		return "", d.errs
	}
	for _, k := range kinds {
		if kind.Kind == yaml.ScalarNode && kind.Value == k {
			return k, d.errs
		}
	}
	d.errorf(kind, "kind", "unknown kind %s; known: %s", DescribeNode(kind), knownList(kinds))
	return "", d.errs
}
