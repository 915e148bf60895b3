package profile

// Plan is the fully resolved result of release × platform × stacks × site.
// Everything downstream of profile resolution (render, apply, watch, gate, diff)
// reads only the Plan, never the raw profiles, so a new OpenShift release is a
// YAML file rather than new code.
type Plan struct {
	// Site is the site name; it becomes the value of the LabelSite label on
	// every object mosc creates, so `mosc remove` can find exactly those.
	Site string

	OpenShift ReleaseInfo
	Platform  PlatformInfo
	Stacks    []StackInfo

	// Pool is the MachineConfigPool the layer targets (also the MOSC name:
	// the v1 CRD requires metadata.name == spec.machineConfigPool.name).
	Pool string

	MOSC MOSCPlan

	// Registry is non-nil when the site asks for the internal image registry.
	Registry *RegistryPlan

	// RepoFiles become the data of ConfigMap etc-yum-repos-d (one key per file),
	// in order.
	RepoFiles []RepoFile
	// GPGKeys with inline content become Secret etc-pki-rpm-gpg.
	GPGKeys []GPGKey

	// EnableRepos are the ids of the repos in RepoFiles that mosc's
	// Containerfile enables per command (--enablerepo). Every repo file ships
	// enabled=0: MCO mounts etc-yum-repos-d into the build of every
	// MachineOSConfig on the cluster, and into its own configs stage, where
	// an enabled CentOS repo would offer a newer kernel-devel than the RHCOS
	// extension's.
	EnableRepos []string
	// UnsignedRepos are the gpgcheck=0 exception sections (only the stack
	// profile's unsigned packages, includepkgs), enabled on the stack install
	// command alone.
	UnsignedRepos []string

	// Extensions are RHCOS extensions the pool needs (kernel-devel for
	// variants that build kernel modules), rendered as a MachineConfig.
	Extensions []string

	// Layers are the Containerfile fragments in order (after `FROM configs AS
	// final`, before the lint step which comes from OpenShift.LintCommand).
	Layers []LayerInvocation

	Node NodeSettings

	Secrets SecretsPlan

	// Verify says what "working" means on a node after rollout.
	Verify VerifyPlan

	// Warnings found during resolution (gpgcheck=0, non-AMD64 pool, master pool...).
	Warnings []Warning
}

// ReleaseInfo holds the facts of one OpenShift minor release (FACTS.md §1-2).
type ReleaseInfo struct {
	Version string // "4.20"
	// Requested is the version as given (--openshift, spec.openshift or the
	// cluster's ClusterVersion): "4.18.15", or "4.18" without a patch level.
	Requested string
	// ZStream names the span of z-streams the OCL facts hold for when the
	// release profile is split by spec.zStreams ("4.18.0-4.18.19",
	// "4.18.20+"); "" when one set of facts covers the whole minor release.
	ZStream      string
	RHEL         string   // "9.6"
	RHELMajor    string   // "9"
	KernelFamily string   // "5.14.0-570"
	StockOVS     []string // stock openvswitch package names seen in RHCOS, e.g. ["openvswitch3.5"]
	// StockOVSGlob removes the stock package robustly even if its name changes
	// within the release (e.g. "openvswitch[0-9]*").
	StockOVSGlob     string
	MOSCAPIVersion   string // "machineconfiguration.openshift.io/v1" or ".../v1alpha1"
	ImageBuilderType string // "Job" (v1) or "PodImageBuilder" (v1alpha1)
	LintCommand      string // "bootc container lint" (4.19+) or "ostree container commit"
	OCLSupport       string // "GA", "TechPreview", "TechPreviewNoUpgrade"
	// HasImageBuildDegraded is true from 4.20 (MCP condition ImageBuildDegraded).
	HasImageBuildDegraded bool
}

// Label is the version a message should name: the z-stream span when the
// release is split ("4.18.0-4.18.19"), else the minor release.
func (r ReleaseInfo) Label() string {
	if r.ZStream != "" {
		return r.ZStream
	}
	return r.Version
}

// PlatformInfo is the distro/arch axis.
type PlatformInfo struct {
	Name              string // "rhel9-x86_64"
	RPMArch           string // "x86_64" or "aarch64"
	DocaArch          string // repo URL arch segment: "x86_64", "arm64-sbsa", "arm64-dpu"
	ContainerfileArch string // "AMD64", "ARM64" (informational: MCO uses only NoArch)
	// CentOS Stream / EPEL sources for build dependencies.
	CentOSStreamBaseURL string // e.g. https://mirror.stream.centos.org/9-stream
	EPELReleaseURL      string
	// DPU is true for BlueField Arm cores (OVS hardware offload case).
	DPU bool
}

// StackInfo is one resolved stack with its chosen variant.
type StackInfo struct {
	Name        string // "doca-3.3"
	Version     string // full DOCA version in repo URLs, "3.3.0"
	Variant     string // "full" or "ovs"
	Packages    []string
	LTS         bool
	RepoDistro  string // resolved distro dir: "rhel9" (>=3.2) or "rhel9.6" (<=3.1)
	RepoBaseURL string // fully resolved DOCA repo URL for this platform/release
	// Unsigned are the packages this version/distro publishes unsigned
	// (stack profile spec.repo.unsigned).
	Unsigned []string
	// KernelModules: the variant builds kernel modules (kernel-devel extension).
	KernelModules bool
}

// MOSCPlan is what goes into the MachineOSConfig.
type MOSCPlan struct {
	Name                    string // == Pool
	APIVersion              string // copy of OpenShift.MOSCAPIVersion
	ImageBuilderType        string
	PushSpec                string // renderedImagePushSpec; tag required
	PushSecretName          string // "push-secret"
	BaseImagePullSecretName string // "pull-and-push-secret" on v1alpha1; "" on v1 (the MCO uses the cluster pull secret)
}

// RegistryPlan enables the OpenShift internal registry backed by a PVC.
type RegistryPlan struct {
	ClaimName       string // "registry-claim"
	StorageClass    string // "" = cluster default
	Size            string // "100Gi"
	AccessMode      string // "ReadWriteOnce"
	Replicas        int32  // 1
	RolloutStrategy string // "Recreate"
	DefaultRoute    bool
}

// RepoFile is one file in /etc/yum.repos.d.
type RepoFile struct {
	FileName string // "doca.repo"
	Repos    []Repo
}

// Repo is one [section] of a .repo file.
type Repo struct {
	ID      string // "doca"
	Name    string
	BaseURL string
	// Every section is written enabled=0 (see Plan.EnableRepos).
	GPGCheck bool
	GPGKey   string // URL or file:///etc/pki/rpm-gpg/...
	// Comment lines written above the section ("# ..."), e.g. why a
	// section has gpgcheck=0.
	Comment []string
	// Extra keys written verbatim after the standard ones, sorted by key.
	Extra map[string]string
}

// ExtensionKernelDevel is MCO's RHCOS extension with kernel-devel and
// kernel-headers matching the RHCOS kernel (machine-config-operator
// pkg/controller/common/helpers.go SupportedExtensions).
const ExtensionKernelDevel = "kernel-devel"

// GPGKey is an inline armored key mounted under /etc/pki/rpm-gpg.
type GPGKey struct {
	FileName string
	Armored  string
}

// LayerInvocation names a Containerfile fragment under layers/ and its parameters.
type LayerInvocation struct {
	Name   string         // file stem in layers/, e.g. "epel"
	Params map[string]any // template data, merged over the plan
}

// NodeSettings are the OVS settings applied on the node, plus kernel args.
type NodeSettings struct {
	DocaInit  bool
	HWOffload bool
	// OtherConfig holds extra other_config keys (e.g. hw-offload-ct-size), sorted on render.
	OtherConfig map[string]string
	Hugepages   *Hugepages
}

// Hugepages become kernel arguments in a MachineConfig.
type Hugepages struct {
	DefaultSize string // "1G"
	Size        string // "1G"
	Count       int    // 16
}

// SecretMode says how credentials reach the output.
type SecretMode string

const (
	SecretsNone        SecretMode = "none"        // render default: no Secret objects
	SecretsPlaceholder SecretMode = "placeholder" // Secret objects with empty data
)

type SecretsPlan struct {
	Mode SecretMode
	// PushAuthFile is a dockerconfigjson file with push credentials for an
	// external registry (apply only).
	PushAuthFile string
	// PushCredential is the internal-registry push credential apply writes
	// (PushCredentialLongLived or PushCredentialToken).
	PushCredential string
	// TokenTTLSeconds is the builder token lifetime requested at apply.
	TokenTTLSeconds int64
}

// VerifyPlan says what "working" means on the node.
type VerifyPlan struct {
	PackagesPresent []string // e.g. doca-openvswitch
	PackagesAbsent  []string // glob patterns, e.g. openvswitch[0-9]*
	DatapathType    string   // "doca"
	DocaInitialized bool
}

// Warning is a non-fatal finding; --strict makes it fatal.
type Warning struct {
	Where   string // "mosc.yaml:7:3" or "--pool"; may be empty
	Field   string // "spec.pool"
	Message string
}

func (w Warning) String() string {
	s := ""
	if w.Where != "" {
		s = w.Where + ": "
	}
	if w.Field != "" {
		s += w.Field + ": "
	}
	return s + w.Message
}

// Labels mosc puts on every object it creates.
const (
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	LabelManagedByValue = "mosc"
	LabelSite           = "mosc.dev/site"
	// MCONamespace is where MCO reads build inputs and secrets.
	MCONamespace = "openshift-machine-config-operator"
)
