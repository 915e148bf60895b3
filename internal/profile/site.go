package profile

import (
	"fmt"
	"io"
	"os"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Site is the user's mosc.yaml: which release, platform, stacks and pool, and
// how the registry, secrets and repositories are set up at this site. Every
// field can also be set by a flag (see Overrides).
type Site struct {
	APIVersion string       `yaml:"apiVersion" mosc:"required"`
	Kind       string       `yaml:"kind" mosc:"required"`
	Metadata   SiteMetadata `yaml:"metadata"`
	Spec       SiteSpec     `yaml:"spec"`

	// File is where the site came from ("" when built from flags only).
	File string `yaml:"-"`
	pos  map[string]Pos
	// origin maps a field path to the flag that set it.
	origin map[string]string
	// display maps a field path to its path in the document it came from,
	// for sites built from a fleet inventory (nil: the same path).
	display map[string]string
}

type SiteMetadata struct {
	// Name becomes the mosc.dev/site label on every object (default "default").
	Name string `yaml:"name"`
}

type SiteSpec struct {
	// OpenShift is the release, "4.20" or "4.20.15".
	OpenShift string       `yaml:"openshift"`
	Platform  string       `yaml:"platform"`
	Pool      string       `yaml:"pool"`
	Stacks    []StackRef   `yaml:"stacks"`
	Registry  SiteRegistry `yaml:"registry"`
	Secrets   SiteSecrets  `yaml:"secrets"`
	Repos     SiteRepos    `yaml:"repos"`
	// ExtraPackages are installed with the stack's packages.
	ExtraPackages []string `yaml:"extraPackages"`
	Node          SiteNode `yaml:"node"`
}

// StackRef picks a stack, its variant and optionally a pinned version. In
// the site file it is a mapping or the short form "doca-3.3:ovs".
type StackRef struct {
	Name    string `yaml:"name" mosc:"required"`
	Variant string `yaml:"variant"`
	Version string `yaml:"version"`
}

// ParseStackRef reads the --stack form NAME[:VARIANT].
func ParseStackRef(s string) StackRef {
	name, variant, _ := strings.Cut(s, ":")
	return StackRef{Name: name, Variant: variant}
}

func (r StackRef) String() string {
	if r.Variant == "" {
		return r.Name
	}
	return r.Name + ":" + r.Variant
}

func (r *StackRef) decodeYAML(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		if n.ShortTag() != "!!str" {
			d.errorf(n, path, "expected a stack (NAME or NAME:VARIANT, or a mapping), got %s", DescribeNode(n))
			return
		}
		*r = ParseStackRef(n.Value)
		return
	}
	d.structValue(n, reflectValue(r), path)
}

type SiteRegistry struct {
	// Internal enables the OpenShift internal image registry on a PVC.
	Internal     *bool  `yaml:"internal"`
	StorageClass string `yaml:"storageClass"`
	Size         string `yaml:"size"`
	// PushSpec is the MachineOSConfig renderedImagePushSpec (tag required).
	PushSpec string `yaml:"pushSpec"`
}

type SiteSecrets struct {
	// Mode: none (default) or placeholder.
	Mode string `yaml:"mode"`
	// PushAuthFile is a dockerconfigjson with push credentials for an
	// external registry (used by apply).
	PushAuthFile string `yaml:"pushAuthFile"`
	// PushCredential is the internal-registry push credential apply writes:
	// long-lived (default) or token (see PushCredentialLongLived).
	PushCredential string `yaml:"pushCredential"`
	// TokenTTL is the builder token lifetime requested at apply with
	// pushCredential: token.
	TokenTTL Duration `yaml:"tokenTTL"`
}

type SiteRepos struct {
	// GPGCheck defaults to true; false is an explicit, warned opt-out.
	GPGCheck *bool `yaml:"gpgCheck"`
	// Mirrors replace a repository's baseurl by repo id (doca, baseos,
	// appstream, crb, epel), for disconnected clusters.
	Mirrors map[string]string `yaml:"mirrors"`
	// GPGKeys replace a repository's key by repo id: a URL, or a path (relative
	// to the site file) to an armored public key that is shipped to the build
	// in Secret etc-pki-rpm-gpg — for disconnected clusters that cannot fetch
	// the vendor's key URL.
	GPGKeys map[string]string `yaml:"gpgKeys"`
}

type SiteNode struct {
	DocaInit    *bool             `yaml:"docaInit"`
	HWOffload   *bool             `yaml:"hwOffload"`
	Hugepages   *SiteHugepages    `yaml:"hugepages"`
	OtherConfig map[string]string `yaml:"otherConfig"`
}

type SiteHugepages struct {
	DefaultSize string `yaml:"defaultSize"`
	Size        string `yaml:"size"`
	Count       int    `yaml:"count"`
}

// NewSite is the site used when there is no file: everything defaulted.
func NewSite() *Site {
	return &Site{APIVersion: APIVersion, Kind: KindSite, pos: map[string]Pos{}, origin: map[string]string{}}
}

// StdinName names the site file read from standard input (-f -) in errors.
const StdinName = "<stdin>"

// siteStdin is where -f - reads from; tests replace it.
var siteStdin io.Reader = os.Stdin

// LoadSite reads and strictly decodes a site file ("-": standard input).
func LoadSite(path string) (*Site, error) {
	if path == "-" {
		// `mosc init -o - --openshift 4.20 | mosc render -f -`; relative paths
		// in it (gpgKeys, pushAuthFile) are relative to the working directory.
		data, err := io.ReadAll(siteStdin)
		if err != nil {
			return nil, ErrorList{{File: StdinName, Message: fmt.Sprintf("reading site file: %v", err)}}
		}
		return DecodeSite(StdinName, data)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{{File: path, Flag: "", Message: fmt.Sprintf("reading site file: %v", unwrapPathErr(err))}}
	}
	return DecodeSite(path, data)
}

// DecodeSite decodes a site file strictly: unknown fields, wrong types and
// missing required fields are errors with file:line:col and the field path.
// Values are checked against the catalog by Resolve.
func DecodeSite(file string, data []byte) (*Site, error) {
	root, err := parseDocument(file, data)
	if err != nil {
		return nil, err
	}
	if _, errs := decodeHeader(file, root, KindSite); len(errs) > 0 {
		return nil, errs
	}
	d := newDecoder(file)
	s := NewSite()
	d.value(root, reflectValue(s), "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	s.File, s.pos = file, d.pos
	return s, nil
}

// Overrides are values from CLI flags; zero values mean "not set".
type Overrides struct {
	OpenShift, Platform, Pool, PushSpec, StorageClass, RegistrySize, SecretMode, SiteName string
	// Stacks replace the file's stacks: "doca-3.3" or "doca-3.3:ovs".
	Stacks           []string
	InternalRegistry *bool
	ProfilesDirs     []string
}

// Override applies flags over the file, remembering which flag set which
// field so errors about that value name the flag, not the file.
func (s *Site) Override(o Overrides) {
	if s.origin == nil {
		s.origin = map[string]string{}
	}
	set := func(dst *string, v, field, flag string) {
		if v != "" {
			*dst = v
			s.origin[field] = flag
		}
	}
	set(&s.Spec.OpenShift, o.OpenShift, "spec.openshift", "--openshift")
	set(&s.Spec.Platform, o.Platform, "spec.platform", "--platform")
	set(&s.Spec.Pool, o.Pool, "spec.pool", "--pool")
	set(&s.Spec.Registry.PushSpec, o.PushSpec, "spec.registry.pushSpec", "--push-spec")
	set(&s.Spec.Registry.StorageClass, o.StorageClass, "spec.registry.storageClass", "--storage-class")
	set(&s.Spec.Registry.Size, o.RegistrySize, "spec.registry.size", "--registry-size")
	set(&s.Spec.Secrets.Mode, o.SecretMode, "spec.secrets.mode", "--secrets")
	set(&s.Metadata.Name, o.SiteName, "metadata.name", "--site")
	if o.InternalRegistry != nil {
		v := *o.InternalRegistry
		s.Spec.Registry.Internal = &v
		s.origin["spec.registry.internal"] = "--internal-registry"
	}
	if len(o.Stacks) > 0 {
		s.Spec.Stacks = make([]StackRef, len(o.Stacks))
		for i, v := range o.Stacks {
			s.Spec.Stacks[i] = ParseStackRef(v)
		}
		s.origin["spec.stacks"] = "--stack"
	}
}

// DefaultOpenShift sets spec.openshift when neither the file nor a flag did,
// e.g. from the version of the cluster a command talks to; source names it
// in errors ("cluster version").
func (s *Site) DefaultOpenShift(version, source string) {
	if s.Spec.OpenShift != "" || version == "" {
		return
	}
	if s.origin == nil {
		s.origin = map[string]string{}
	}
	s.Spec.OpenShift = version
	s.origin["spec.openshift"] = source
}

// SetBy returns the flag that set a field path (or one of its parents), or "".
func (s *Site) SetBy(path string) string {
	for p := path; p != ""; p = parentPath(p) {
		if f, ok := s.origin[p]; ok {
			return f
		}
	}
	return ""
}

// Pos returns where a field path (or its nearest parent present in the
// file) is in the site file.
func (s *Site) Pos(path string) (Pos, bool) {
	for p := path; p != ""; p = parentPath(p) {
		if pos, ok := s.pos[p]; ok {
			return pos, true
		}
	}
	return Pos{File: s.File}, false
}

// errAt builds an error about a field: naming the flag that set it, else its
// place in the file, else just the field.
func (s *Site) errAt(path, format string, args ...any) *Error {
	e := &Error{Field: s.displayField(path), Message: fmt.Sprintf(format, args...)}
	if f := s.SetBy(path); f != "" {
		e.Flag = f
		return e
	}
	if p, ok := s.Pos(path); ok {
		e.File, e.Line, e.Column = p.File, p.Line, p.Column
	} else {
		e.File = s.File
	}
	return e
}

// where is the Warning.Where of a field.
func (s *Site) where(path string) string {
	e := s.errAt(path, "")
	return e.Where()
}

// parentPath strips the last element: spec.stacks[0].name → spec.stacks[0] → spec.stacks → spec.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i > 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndex(p, "."); i > 0 {
		return p[:i]
	}
	return ""
}
