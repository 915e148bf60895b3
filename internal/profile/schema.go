package profile

import "sync"

// Schema of the three profile kinds (OpenShiftRelease, Platform, Stack).
// docs/profiles.md documents every field; keep the two in step.

// Source says where a profile came from, for errors and `mosc profiles show`.
type Source struct {
	File     string // "profiles/openshift/4.20.yaml" (embedded) or a path under --profiles
	Embedded bool
	// Raw is the file's bytes; read-only (for an embedded profile it is
	// the generated text of embedded_gen.go, in read-only memory).
	Raw []byte
	// Overrides is the embedded (or earlier) file this one replaced, if any.
	Overrides string
	pos       map[string]Pos
	// lazy is set on an embedded profile built by generated code
	// (embedded_gen.go), which carries no positions: Pos decodes Raw for
	// them on first use (only an error message needs them).
	lazy *lazyPos
}

type lazyPos struct {
	once sync.Once
	pos  map[string]Pos
}

func (s *Source) positions() map[string]Pos {
	if s.lazy == nil {
		return s.pos
	}
	s.lazy.once.Do(func() {
		if p, err := DecodeProfile(s.File, s.Raw); err == nil {
			s.lazy.pos = p.ProfileSource().pos
		}
	})
	return s.lazy.pos
}

// Pos returns where a field path of the profile (or its nearest parent
// present in the file) sits.
func (s *Source) Pos(path string) Pos {
	pos := s.positions()
	for p := path; p != ""; p = parentPath(p) {
		if pos, ok := pos[p]; ok {
			return pos
		}
	}
	if pos, ok := pos[""]; ok {
		return pos
	}
	return Pos{File: s.File}
}

func (s *Source) errorf(path, format string, args ...any) *Error {
	p := s.Pos(path)
	return &Error{File: p.File, Line: p.Line, Column: p.Column, Field: path, Message: sprintf(format, args...)}
}

// Metadata names a profile.
type Metadata struct {
	Name string `yaml:"name" mosc:"required"`
	// Summary is the one-line description in `mosc profiles list`.
	Summary     string `yaml:"summary"`
	Description string `yaml:"description"`
}

// Release is kind OpenShiftRelease: facts about one OpenShift minor release.
// metadata.name is the minor version ("4.20").
type Release struct {
	APIVersion string      `yaml:"apiVersion" mosc:"required"`
	Kind       string      `yaml:"kind" mosc:"required"`
	Metadata   Metadata    `yaml:"metadata" mosc:"required"`
	Spec       ReleaseSpec `yaml:"spec" mosc:"required"`
	// Sources back the facts of the spec (FactSource).
	Sources []FactSource `yaml:"sources"`
	Source  Source       `yaml:"-"`
}

type ReleaseSpec struct {
	// RHEL is the RHEL minor RHCOS is built from ("9.6").
	RHEL string `yaml:"rhel" mosc:"required,fact"`
	// KernelFamily is the kernel's z-stream family ("5.14.0-570").
	KernelFamily string `yaml:"kernelFamily" mosc:"required,fact"`
	// AlternateStreams are other RHCOS streams in the payload ("rhel-10.1"),
	// informational: mosc layers the default stream.
	AlternateStreams []string   `yaml:"alternateStreams" mosc:"fact"`
	OpenvSwitch      ReleaseOVS `yaml:"openvswitch" mosc:"required,fact"`
	// OCL is the On-Cluster Layering block from X.Y.0 on (until the first
	// zStreams entry, if any).
	OCL ReleaseOCL `yaml:"ocl" mosc:"required,fact"`
	// ZStreams switch facts from a given z-stream on: 4.18.0-4.18.19 serve
	// only v1alpha1, 4.18.20 and later v1 (openshift/api PR #2316).
	// Entries are in ascending order of From.
	ZStreams []ReleaseZStream `yaml:"zStreams" mosc:"fact"`
	Lint     ReleaseLint      `yaml:"lint" mosc:"required,fact"`
}

// ReleaseZStream replaces the OCL block from z-stream From (X.Y.From) on.
type ReleaseZStream struct {
	// From is the first z-stream (patch level) the block applies to, 1 or
	// more (checked with the other fields: 0 reads better than "missing").
	From int        `yaml:"from"`
	OCL  ReleaseOCL `yaml:"ocl" mosc:"required"`
}

type ReleaseOVS struct {
	// Packages are the stock openvswitch package names seen in RHCOS for this
	// release (the name changes inside a minor release).
	Packages []string `yaml:"packages" mosc:"required"`
	// RemoveGlob removes whichever stock package is present.
	RemoveGlob string `yaml:"removeGlob" mosc:"required"`
}

type ReleaseOCL struct {
	// Support is GA, TechPreview or TechPreviewNoUpgrade.
	Support     string `yaml:"support" mosc:"required"`
	FeatureGate string `yaml:"featureGate"`
	// APIVersion of MachineOSConfig: machineconfiguration.openshift.io/v1 or /v1alpha1.
	APIVersion         string `yaml:"apiVersion" mosc:"required"`
	ImageBuilderType   string `yaml:"imageBuilderType" mosc:"required"`
	ImageBuildDegraded bool   `yaml:"imageBuildDegraded"`
}

type ReleaseLint struct {
	// Command ends the Containerfile: "bootc container lint" (4.19+) or
	// "ostree container commit".
	Command string `yaml:"command" mosc:"required"`
}

// Platform is kind Platform: the distro/arch axis.
type Platform struct {
	APIVersion string       `yaml:"apiVersion" mosc:"required"`
	Kind       string       `yaml:"kind" mosc:"required"`
	Metadata   Metadata     `yaml:"metadata" mosc:"required"`
	Spec       PlatformSpec `yaml:"spec" mosc:"required"`
	// Sources back the facts of the spec (FactSource).
	Sources []FactSource `yaml:"sources"`
	Source  Source       `yaml:"-"`
}

type PlatformSpec struct {
	// RHELMajor must match the release's RHEL major ("9").
	RHELMajor string `yaml:"rhelMajor" mosc:"required"`
	// RPMArch is the RPM architecture: x86_64 or aarch64.
	RPMArch string `yaml:"rpmArch" mosc:"required,fact"`
	// DocaArch is the DOCA repo URL arch segment: x86_64, arm64-sbsa, arm64-dpu.
	DocaArch string `yaml:"docaArch" mosc:"required,fact"`
	// ContainerfileArch is the MOSC containerfileArch this hardware has
	// (AMD64, ARM64); informational, MCO uses only the NoArch entry.
	ContainerfileArch string `yaml:"containerfileArch" mosc:"required,fact"`
	// DPU marks BlueField Arm cores (OVS hardware offload case).
	DPU      bool             `yaml:"dpu"`
	Defaults PlatformDefaults `yaml:"defaults"`
	Sources  PlatformSources  `yaml:"sources" mosc:"required,fact"`
}

type PlatformDefaults struct {
	// Pool is the default MachineConfigPool on this platform.
	Pool string `yaml:"pool"`
	// HWOffload turns other_config:hw-offload on by default.
	HWOffload bool `yaml:"hwOffload"`
}

type PlatformSources struct {
	CentOSStream CentOSStreamSource `yaml:"centosStream" mosc:"required"`
	EPEL         EPELSource         `yaml:"epel" mosc:"required"`
}

// CentOSStreamSource gives the build-dependency repositories; each repo's
// baseurl is <baseURL>/<path>/<rpmArch>/os/.
type CentOSStreamSource struct {
	File    string         `yaml:"file" mosc:"required"`
	BaseURL string         `yaml:"baseURL" mosc:"required"`
	GPGKey  string         `yaml:"gpgKey" mosc:"required"`
	Repos   []PlatformRepo `yaml:"repos" mosc:"required"`
}

type PlatformRepo struct {
	ID   string `yaml:"id" mosc:"required"`
	Name string `yaml:"name" mosc:"required"`
	Path string `yaml:"path" mosc:"required"`
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`
}

// EPELSource is installed by the epel layer from the release RPM; with a
// mirror for repo id "epel" mosc writes an epel.repo instead.
type EPELSource struct {
	ReleaseURL string `yaml:"releaseURL" mosc:"required"`
	GPGKey     string `yaml:"gpgKey" mosc:"required"`
}

// Stack is kind Stack: what is layered onto RHCOS.
type Stack struct {
	APIVersion string    `yaml:"apiVersion" mosc:"required"`
	Kind       string    `yaml:"kind" mosc:"required"`
	Metadata   Metadata  `yaml:"metadata" mosc:"required"`
	Spec       StackSpec `yaml:"spec" mosc:"required"`
	// Sources back the facts of the spec (FactSource).
	Sources []FactSource `yaml:"sources"`
	Source  Source       `yaml:"-"`
}

type StackSpec struct {
	// Version is the full DOCA version used in repo URLs ("3.3.0").
	Version string `yaml:"version" mosc:"required,fact"`
	// Versions lists other published releases of this line a site may pin
	// with spec.stacks[].version.
	Versions []string `yaml:"versions" mosc:"fact"`
	LTS      bool     `yaml:"lts" mosc:"fact"`
	// Provides names what the stack installs; two stacks that provide the
	// same thing conflict.
	Provides       []string     `yaml:"provides"`
	Repo           StackRepo    `yaml:"repo" mosc:"required"`
	DefaultVariant string       `yaml:"defaultVariant" mosc:"required"`
	Variants       []Variant    `yaml:"variants" mosc:"required"`
	Layers         []Layer      `yaml:"layers" mosc:"required,fact"`
	Node           StackNode    `yaml:"node"`
	Verify         StackVerify  `yaml:"verify" mosc:"required"`
	Support        StackSupport `yaml:"support" mosc:"required,fact"`
}

// Distro naming of DOCA repositories: DOCA <= 3.1 has one directory per RHEL
// minor (rhel9.6), DOCA >= 3.2 one per major (rhel9).
const (
	DistroMinor = "minor"
	DistroMajor = "major"
)

type StackRepo struct {
	ID   string `yaml:"id" mosc:"required"`
	Name string `yaml:"name" mosc:"required"`
	File string `yaml:"file" mosc:"required"`
	// URL is the root; the baseurl is <url>/<version>/<distro>/<docaArch>/.
	URL    string `yaml:"url" mosc:"required,fact"`
	Distro string `yaml:"distro" mosc:"required,fact"`
	// RHELMinors lists the per-minor directories published (distro: minor).
	RHELMinors []string          `yaml:"rhelMinors" mosc:"fact"`
	GPGKey     string            `yaml:"gpgKey" mosc:"required,fact"`
	Extra      map[string]string `yaml:"extra"`
	// Unsigned lists packages published without a signature: with
	// gpgcheck=1 they come only from a separate, named repo section without
	// the check (never a blanket gpgcheck=0).
	Unsigned []UnsignedPackages `yaml:"unsigned" mosc:"fact"`
}

// UnsignedPackages are packages of a DOCA repo that carry no signature, in
// the given versions and distro directories (empty: all).
type UnsignedPackages struct {
	Packages []string `yaml:"packages" mosc:"required"`
	Versions []string `yaml:"versions" mosc:"fact"`
	Distros  []string `yaml:"distros"`
}

type Variant struct {
	Name        string   `yaml:"name" mosc:"required"`
	Description string   `yaml:"description"`
	Packages    []string `yaml:"packages" mosc:"required,fact"`
	// KernelModules marks a variant that builds kernel modules (DOCA >= 3.2
	// ships drivers as DKMS source): the pool gets MCO's kernel-devel
	// extension, whose kernel-devel/kernel-headers match the RHCOS kernel.
	KernelModules bool `yaml:"kernelModules" mosc:"fact"`
}

// Layer is one Containerfile fragment (layers/<name>.tmpl) with parameters.
// Variants, when set, limits the layer to those variants.
type Layer struct {
	Name     string         `yaml:"name" mosc:"required"`
	Variants []string       `yaml:"variants"`
	Params   map[string]any `yaml:"params"`
}

type StackNode struct {
	DocaInit bool `yaml:"docaInit"`
	// HWOffload is the default; HWOffloadSelectable lets a site change it.
	HWOffload           bool              `yaml:"hwOffload"`
	HWOffloadSelectable bool              `yaml:"hwOffloadSelectable"`
	OtherConfig         map[string]string `yaml:"otherConfig"`
}

type StackVerify struct {
	PackagesPresent []string `yaml:"packagesPresent" mosc:"required,fact"`
	// PackagesAbsent adds to the release's stock openvswitch glob.
	PackagesAbsent  []string `yaml:"packagesAbsent"`
	DatapathType    string   `yaml:"datapathType" mosc:"required,fact"`
	DocaInitialized bool     `yaml:"docaInitialized" mosc:"fact"`
}

type StackSupport struct {
	Releases  []string `yaml:"releases" mosc:"required"`
	Platforms []string `yaml:"platforms" mosc:"required"`
}
