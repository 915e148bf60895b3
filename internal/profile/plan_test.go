package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func resolveDoc(t *testing.T, c *Catalog, doc string, o Overrides) *Plan {
	t.Helper()
	s := NewSite()
	if doc != "" {
		var err error
		if s, err = DecodeSite("mosc.yaml", []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	s.Override(o)
	p, err := c.Resolve(s)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return p
}

// The walkthrough (FACTS.md §4): OpenShift 4.20.15 SNO, DOCA 3.3.0 doca-all on
// the master pool, internal registry on lvms-vg1. gpgcheck is on (a
// deliberate difference from the walkthrough).
func TestResolveWalkthrough(t *testing.T) {
	c := mustCatalog(t)
	p := resolveDoc(t, c, "", Overrides{OpenShift: "4.20.15", Stacks: []string{"doca-3.3"}, Pool: "master", InternalRegistry: boolPtr(true), StorageClass: "lvms-vg1"})
	centosKey := "https://www.centos.org/keys/RPM-GPG-KEY-CentOS-Official"
	want := &Plan{
		Site: "default",
		OpenShift: ReleaseInfo{
			Version: "4.20", Requested: "4.20.15", RHEL: "9.6", RHELMajor: "9", KernelFamily: "5.14.0-570",
			StockOVS: []string{"openvswitch3.5"}, StockOVSGlob: "openvswitch[0-9]*",
			MOSCAPIVersion: "machineconfiguration.openshift.io/v1", ImageBuilderType: "Job",
			LintCommand: "bootc container lint", OCLSupport: "GA", HasImageBuildDegraded: true,
		},
		Platform: PlatformInfo{
			Name: "rhel9-x86_64", RPMArch: "x86_64", DocaArch: "x86_64", ContainerfileArch: "AMD64",
			CentOSStreamBaseURL: "https://mirror.stream.centos.org/9-stream",
			EPELReleaseURL:      "https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm",
		},
		Stacks: []StackInfo{{
			Name: "doca-3.3", Version: "3.3.0", Variant: "full", Packages: []string{"doca-all"},
			RepoDistro: "rhel9", RepoBaseURL: "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/x86_64/",
			KernelModules: true,
		}},
		Pool: "master",
		MOSC: MOSCPlan{
			Name: "master", APIVersion: "machineconfiguration.openshift.io/v1", ImageBuilderType: "Job",
			PushSpec:       "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest",
			PushSecretName: "push-secret", // no baseImagePullSecret on v1: the MCO uses the cluster pull secret
		},
		Registry: &RegistryPlan{ClaimName: "registry-claim", StorageClass: "lvms-vg1", Size: "100Gi", AccessMode: "ReadWriteOnce", Replicas: 1, RolloutStrategy: "Recreate", DefaultRoute: true},
		RepoFiles: []RepoFile{
			{FileName: "doca.repo", Repos: []Repo{{ID: "doca", Name: "NVIDIA DOCA 3.3.0", BaseURL: "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/x86_64/", GPGCheck: true, GPGKey: "https://linux.mellanox.com/public/repo/doca/GPG-KEY-Mellanox.pub"}}},
			{FileName: "centos.repo", Repos: []Repo{
				{ID: "baseos", Name: "CentOS Stream 9 - BaseOS", BaseURL: "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os/", GPGCheck: true, GPGKey: centosKey},
				{ID: "appstream", Name: "CentOS Stream 9 - AppStream", BaseURL: "https://mirror.stream.centos.org/9-stream/AppStream/x86_64/os/", GPGCheck: true, GPGKey: centosKey},
				{ID: "crb", Name: "CentOS Stream 9 - CRB", BaseURL: "https://mirror.stream.centos.org/9-stream/CRB/x86_64/os/", GPGCheck: true, GPGKey: centosKey},
			}},
		},
		EnableRepos: []string{"doca", "baseos", "appstream", "crb"},
		Extensions:  []string{ExtensionKernelDevel},
		Layers: []LayerInvocation{
			{Name: "epel"},
			{Name: "build-deps", Params: map[string]any{
				"packages": []any{"libyaml-devel", "libpcap-devel", "libzip-devel", "libunwind", "jsoncpp", "openssl-devel", "bzip2-devel"},
				"upgrade":  []any{"unbound-libs", "unbound", "bzip2-libs"},
			}},
			{Name: "var-opt"},
			{Name: "swap-openvswitch"},
			{Name: "doca-rdma", Params: map[string]any{"repo": "doca", "packages": []any{"libibverbs", "rdma-core"}}},
			{Name: "install"},
			{Name: "opt-relocate", Params: map[string]any{"check": []any{"/usr/sbin/ovs-vswitchd"}}},
			{Name: "cleanup"},
		},
		Node:     NodeSettings{DocaInit: true},
		Secrets:  SecretsPlan{Mode: SecretsNone, PushCredential: PushCredentialLongLived, TokenTTLSeconds: 30 * 24 * 3600},
		Verify:   VerifyPlan{PackagesPresent: []string{"doca-openvswitch"}, PackagesAbsent: []string{"openvswitch[0-9]*"}, DatapathType: "doca", DocaInitialized: true},
		Warnings: []Warning{{Where: "--pool", Message: "pool master is the control plane (single-node OpenShift): the OCL docs do not support SNO, and every control-plane node reboots into the layered image"}},
	}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
}

func TestResolveVariantsAndOptions(t *testing.T) {
	c := mustCatalog(t)

	t.Run("flags beat the file", func(t *testing.T) {
		doc := siteDoc("metadata:", "  name: lab", "spec:", "  openshift: \"4.19\"", "  pool: worker", "  stacks: [doca-3.2]", "  registry:", "    internal: true")
		p := resolveDoc(t, c, doc, Overrides{OpenShift: "4.21", Pool: "infra", Stacks: []string{"doca-3.3:ovs"}, InternalRegistry: boolPtr(false), SiteName: "edge"})
		if p.OpenShift.Version != "4.21" || p.Pool != "infra" || p.MOSC.Name != "infra" || p.Site != "edge" || p.Registry != nil {
			t.Errorf("got release %s pool %s mosc %s site %s registry %v", p.OpenShift.Version, p.Pool, p.MOSC.Name, p.Site, p.Registry)
		}
		if len(p.Stacks) != 1 || p.Stacks[0].Name != "doca-3.3" || p.Stacks[0].Variant != "ovs" || !cmp.Equal(p.Stacks[0].Packages, []string{"doca-openvswitch"}) {
			t.Errorf("stacks %+v", p.Stacks)
		}
		var names []string
		for _, l := range p.Layers {
			names = append(names, l.Name)
		}
		if want := []string{"epel", "build-deps", "var-opt", "swap-openvswitch", "doca-rdma", "install", "opt-relocate", "cleanup"}; !cmp.Equal(names, want) {
			t.Errorf("layers %v, want %v", names, want)
		}
		if pk := p.Layers[1].Params["packages"]; cmp.Equal(pk, []any{"libyaml-devel"}) || fmt.Sprint(pk) != "[libyaml libpcap libzip libunwind jsoncpp]" {
			t.Errorf("ovs build-deps %v", pk)
		}
	})

	t.Run("doca-2.9 per-minor distro", func(t *testing.T) {
		for rel, distro := range map[string]string{"4.16": "rhel9.4", "4.18": "rhel9.4", "4.20": "rhel9.6"} {
			p := resolveDoc(t, c, "", Overrides{OpenShift: rel, Stacks: []string{"doca-2.9"}})
			if s := p.Stacks[0]; s.RepoDistro != distro || s.RepoBaseURL != "https://linux.mellanox.com/public/repo/doca/2.9.4/"+distro+"/x86_64/" || !s.LTS {
				t.Errorf("%s: %+v", rel, s)
			}
		}
	})

	t.Run("pinned version", func(t *testing.T) {
		p := resolveDoc(t, c, siteDoc("spec:", "  openshift: \"4.21\"", "  stacks:", "  - {name: doca-3.2, variant: ovs, version: 3.2.1}"), Overrides{})
		if s := p.Stacks[0]; s.Version != "3.2.1" || s.RepoBaseURL != "https://linux.mellanox.com/public/repo/doca/3.2.1/rhel9/x86_64/" || p.RepoFiles[0].Repos[0].Name != "NVIDIA DOCA 3.2.1" {
			t.Errorf("%+v", s)
		}
	})

	t.Run("bluefield", func(t *testing.T) {
		p := resolveDoc(t, c, "", Overrides{OpenShift: "4.20", Platform: "rhel9-bluefield"})
		if p.Pool != "dpu-worker" || !p.Node.HWOffload || !p.Platform.DPU || p.Platform.DocaArch != "arm64-dpu" || p.Platform.RPMArch != "aarch64" {
			t.Errorf("pool %s node %+v platform %+v", p.Pool, p.Node, p.Platform)
		}
		if p.Stacks[0].RepoBaseURL != "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/arm64-dpu/" || p.RepoFiles[1].Repos[0].BaseURL != "https://mirror.stream.centos.org/9-stream/BaseOS/aarch64/os/" {
			t.Errorf("urls %s %s", p.Stacks[0].RepoBaseURL, p.RepoFiles[1].Repos[0].BaseURL)
		}
		want := Warning{Where: "--platform", Message: "On-Cluster Layering is documented for AMD64 only; platform rhel9-bluefield is ARM64"}
		if !cmp.Equal(p.Warnings, []Warning{want}) {
			t.Errorf("warnings %v", p.Warnings)
		}
		// A site may turn offload off (the stack allows choosing).
		p = resolveDoc(t, c, siteDoc("spec:", "  openshift: \"4.20\"", "  platform: rhel9-bluefield", "  node:", "    hwOffload: false"), Overrides{})
		if p.Node.HWOffload {
			t.Errorf("hwOffload not turned off")
		}
	})

	t.Run("aarch64 uses arm64-sbsa", func(t *testing.T) {
		p := resolveDoc(t, c, "", Overrides{OpenShift: "4.19", Platform: "rhel9-aarch64", Stacks: []string{"doca-2.9:ovs"}})
		if p.Stacks[0].RepoBaseURL != "https://linux.mellanox.com/public/repo/doca/2.9.4/rhel9.6/arm64-sbsa/" || p.Pool != "worker" || p.Node.HWOffload {
			t.Errorf("%+v pool %s", p.Stacks[0], p.Pool)
		}
	})

	t.Run("site options", func(t *testing.T) {
		dir := t.TempDir()
		doc := siteDoc("spec:",
			"  openshift: \"4.20\"",
			"  extraPackages: [tcpdump, ethtool]",
			"  secrets: {mode: placeholder, pushAuthFile: auth/push.json, pushCredential: token, tokenTTL: 48h}",
			"  registry: {storageClass: fast}",
			"  node:",
			"    docaInit: false",
			"    hugepages: {size: 2M, count: 4096}",
			"    otherConfig: {hw-offload-ct-size: \"0\", max-idle: \"10000\"}",
		)
		s, err := DecodeSite(filepath.Join(dir, "mosc.yaml"), []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Layers[5]; got.Name != "install" || !cmp.Equal(got.Params, map[string]any{"extra": []any{"tcpdump", "ethtool"}}) {
			t.Errorf("install layer %+v", got)
		}
		if want := (SecretsPlan{Mode: SecretsPlaceholder, PushAuthFile: filepath.Join(dir, "auth/push.json"), PushCredential: PushCredentialToken, TokenTTLSeconds: 48 * 3600}); p.Secrets != want {
			t.Errorf("secrets %+v, want %+v", p.Secrets, want)
		}
		if want := (NodeSettings{OtherConfig: map[string]string{"hw-offload-ct-size": "0", "max-idle": "10000"}, Hugepages: &Hugepages{DefaultSize: "2M", Size: "2M", Count: 4096}}); !cmp.Equal(p.Node, want) {
			t.Errorf("node %+v", p.Node)
		}
		if p.Verify.DocaInitialized {
			t.Errorf("doca_initialized expected although docaInit is off")
		}
		want := []Warning{{Where: filepath.Join(dir, "mosc.yaml") + ":7:28", Field: "spec.registry.storageClass", Message: "ignored: the internal registry is not enabled (spec.registry.internal / --internal-registry)"}}
		if !cmp.Equal(p.Warnings, want) {
			t.Errorf("warnings %v", p.Warnings)
		}
		// The stack's layer params are not shared with the plan.
		p.Layers[1].Params["packages"].([]any)[0] = "changed"
		p2 := resolveDoc(t, c, "", Overrides{OpenShift: "4.20"})
		if p2.Layers[1].Params["packages"].([]any)[0] != "libyaml-devel" {
			t.Errorf("plan params alias the catalog's")
		}
	})

	t.Run("gpgcheck opt-out and mirrors", func(t *testing.T) {
		doc := siteDoc("spec:",
			"  openshift: \"4.20\"",
			"  repos:",
			"    gpgCheck: false",
			"    mirrors:",
			"      doca: https://mirror.example.com/doca/3.3.0/rhel9/x86_64/",
			"      baseos: https://mirror.example.com/centos/BaseOS/",
			"      epel: https://mirror.example.com/epel/9/Everything/x86_64/",
		)
		p := resolveDoc(t, c, doc, Overrides{})
		for _, f := range p.RepoFiles {
			for _, r := range f.Repos {
				if r.GPGCheck || r.GPGKey != "" {
					t.Errorf("%s/%s: gpgcheck on", f.FileName, r.ID)
				}
			}
		}
		if p.Stacks[0].RepoBaseURL != "https://mirror.example.com/doca/3.3.0/rhel9/x86_64/" || p.RepoFiles[0].Repos[0].BaseURL != p.Stacks[0].RepoBaseURL {
			t.Errorf("doca mirror not applied: %s", p.Stacks[0].RepoBaseURL)
		}
		if p.RepoFiles[1].Repos[0].BaseURL != "https://mirror.example.com/centos/BaseOS/" || p.RepoFiles[1].Repos[1].BaseURL != "https://mirror.stream.centos.org/9-stream/AppStream/x86_64/os/" {
			t.Errorf("centos repos %+v", p.RepoFiles[1].Repos)
		}
		if len(p.RepoFiles) != 3 || p.RepoFiles[2].FileName != "epel.repo" || p.RepoFiles[2].Repos[0].BaseURL != "https://mirror.example.com/epel/9/Everything/x86_64/" {
			t.Errorf("epel.repo %+v", p.RepoFiles)
		}
		if p.Layers[0].Name == "epel" {
			t.Errorf("epel layer kept although EPEL is mirrored")
		}
		want := []Warning{{Where: "mosc.yaml:6:15", Field: "spec.repos.gpgCheck", Message: "gpgcheck=0: packages from doca, baseos, appstream, crb, epel are installed without signature verification"}}
		if !cmp.Equal(p.Warnings, want) {
			t.Errorf("warnings %v", p.Warnings)
		}
	})

	t.Run("registry settings that cannot work as meant", func(t *testing.T) {
		yes := true
		for _, tc := range []struct {
			name string
			o    Overrides
			want []Warning
		}{
			{"internal registry unused", Overrides{OpenShift: "4.20", InternalRegistry: &yes, PushSpec: "quay.io/org/os:4.20"},
				[]Warning{{Where: "--internal-registry", Message: "the internal registry is enabled, but builds push to quay.io/org/os:4.20: this MachineOSConfig does not use it"}}},
			{"upper-case repository", Overrides{OpenShift: "4.20", PushSpec: "Quay.io/Org/OS:Latest"},
				[]Warning{{Where: "--push-spec", Message: `repository "Org/OS" has upper-case letters: the CRD accepts them, but registries refuse the push (after the whole build); use lower case`}}},
			{"internal registry used", Overrides{OpenShift: "4.20", InternalRegistry: &yes}, nil},
			{"external registry", Overrides{OpenShift: "4.20", PushSpec: "registry.example.com:8443/team/os-image:v1"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := NewSite()
				s.Override(tc.o)
				p, err := c.Resolve(s)
				if err != nil {
					t.Fatal(err)
				}
				if !cmp.Equal(p.Warnings, tc.want, cmpopts.EquateEmpty()) {
					t.Errorf("warnings %v, want %v", p.Warnings, tc.want)
				}
			})
		}
	})

	t.Run("push credential", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			secrets  string
			wantCred string
			want     []Warning
		}{
			{"default", "{mode: none}", PushCredentialLongLived, nil},
			// mosc init writes the default lifetime: no word about it.
			{"default lifetime with long-lived", "{tokenTTL: 720h}", PushCredentialLongLived, nil},
			{"lifetime nothing honours", "{pushCredential: long-lived, tokenTTL: 48h}", PushCredentialLongLived,
				[]Warning{{Where: "mosc.yaml:5:51", Field: "spec.secrets.tokenTTL", Message: "ignored: the long-lived push credential does not expire; set spec.secrets.pushCredential: token for a token that expires after 48h0m0s"}}},
			{"token with lifetime", "{pushCredential: token, tokenTTL: 48h}", PushCredentialToken, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, err := DecodeSite("mosc.yaml", []byte(siteDoc("spec:", "  openshift: \"4.20\"", "  secrets: "+tc.secrets)))
				if err != nil {
					t.Fatal(err)
				}
				p, err := c.Resolve(s)
				if err != nil {
					t.Fatal(err)
				}
				if p.Secrets.PushCredential != tc.wantCred {
					t.Errorf("push credential %q, want %q", p.Secrets.PushCredential, tc.wantCred)
				}
				if !cmp.Equal(p.Warnings, tc.want, cmpopts.EquateEmpty()) {
					t.Errorf("warnings %v, want %v", p.Warnings, tc.want)
				}
			})
		}
	})

	t.Run("site GPG keys for disconnected clusters", func(t *testing.T) {
		dir := t.TempDir()
		// Real keys (testdata/keys): the key files are parsed, not only grepped.
		key1, key2 := readTestKey(t, "test-1.asc"), readTestKey(t, "test-2.asc")
		writeFile(t, dir, "keys/doca.asc", key1)
		writeFile(t, dir, "keys/centos.asc", key2)
		writeFile(t, dir, "other/doca-copy.asc", key1)
		doc := siteDoc("spec:",
			"  openshift: \"4.20\"",
			"  repos:",
			"    gpgKeys:",
			"      doca: keys/doca.asc",
			"      baseos: keys/centos.asc",
			"      appstream: keys/centos.asc",
			"      crb: other/doca-copy.asc",
		)
		s, err := DecodeSite(filepath.Join(dir, "mosc.yaml"), []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		// Named after the key (its source file), one file per key.
		want := []GPGKey{{FileName: "doca.asc", Armored: key1}, {FileName: "centos.asc", Armored: key2}}
		if !cmp.Equal(p.GPGKeys, want) {
			t.Errorf("GPGKeys %+v", p.GPGKeys)
		}
		var keys []string
		for _, f := range p.RepoFiles {
			for _, r := range f.Repos {
				keys = append(keys, r.ID+"="+r.GPGKey)
			}
		}
		if want := []string{
			"doca=file:///etc/pki/rpm-gpg/doca.asc",
			"baseos=file:///etc/pki/rpm-gpg/centos.asc",
			"appstream=file:///etc/pki/rpm-gpg/centos.asc", // same file, one key
			"crb=file:///etc/pki/rpm-gpg/doca.asc",         // another file, the same key
		}; !cmp.Equal(keys, want) {
			t.Errorf("repo keys %v", keys)
		}

		writeFile(t, dir, "keys/not-a-key.txt", "hello")
		// Garbage between the armour lines (issue 9): the armour checksum fails.
		lines := strings.Split(key1, "\n")
		lines[3] = "this line is not base64 at all!"
		writeFile(t, dir, "keys/garbage.asc", strings.Join(lines, "\n"))
		writeFile(t, dir, "keys/empty-armour.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n")
		for _, tc := range []struct{ line, want string }{
			{"      doca: keys/not-a-key.txt", "/mosc.yaml:7:13: spec.repos.gpgKeys.doca: keys/not-a-key.txt (repo doca): not an armored PGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)"},
			{"      baseos: keys/garbage.asc", "/mosc.yaml:7:15: spec.repos.gpgKeys.baseos: keys/garbage.asc (repo baseos): " + garbageErr(t, strings.Join(lines, "\n"))},
			{"      doca: keys/empty-armour.asc", "/mosc.yaml:7:13: spec.repos.gpgKeys.doca: keys/empty-armour.asc (repo doca): " + garbageErr(t, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n")},
			{"      doca: keys/missing.asc", "/mosc.yaml:7:13: spec.repos.gpgKeys.doca: reading GPG key: no such file or directory"},
			{"      doca: keys", "/mosc.yaml:7:13: spec.repos.gpgKeys.doca: reading GPG key: " + filepath.Join(dir, "keys") + " is not a regular file"},
			{"      nvidia: keys/doca.asc", "/mosc.yaml:7:15: spec.repos.gpgKeys.nvidia: no repository \"nvidia\" to set a key for; known: appstream, baseos, crb, doca, epel"},
		} {
			s, err := DecodeSite(filepath.Join(dir, "mosc.yaml"), []byte(siteDoc("spec:", "  openshift: \"4.20\"", "  repos:", "    gpgKeys:", tc.line)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Resolve(s)
			if err == nil || err.Error() != dir+tc.want {
				t.Errorf("%s:\n got %v\nwant %s", tc.line, err, dir+tc.want)
			}
		}

		// An EPEL key without an EPEL mirror is never used: say so.
		s, err = DecodeSite(filepath.Join(dir, "mosc.yaml"), []byte(siteDoc("spec:", "  openshift: \"4.20\"", "  repos:", "    gpgKeys:", "      epel: keys/doca.asc")))
		if err != nil {
			t.Fatal(err)
		}
		p, err = c.Resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		wantWarn := []Warning{{Where: filepath.Join(dir, "mosc.yaml") + ":7:13", Field: "spec.repos.gpgKeys.epel",
			Message: "ignored: EPEL is installed from the epel-release package with its own key; the key applies only with spec.repos.mirrors.epel"}}
		if !cmp.Equal(p.Warnings, wantWarn) || len(p.GPGKeys) != 0 {
			t.Errorf("epel key without mirror: warnings %v, keys %v", p.Warnings, p.GPGKeys)
		}
	})

	t.Run("tech preview releases warn", func(t *testing.T) {
		for rel, want := range map[string]string{
			"4.16":    "On-Cluster Layering on OpenShift 4.16 needs featureSet TechPreviewNoUpgrade, which can never be undone and blocks upgrades",
			"4.17":    "On-Cluster Layering on OpenShift 4.17 needs featureSet TechPreviewNoUpgrade, which can never be undone and blocks upgrades",
			"4.18.15": "On-Cluster Layering on OpenShift 4.18.0-4.18.19 needs featureSet TechPreviewNoUpgrade, which can never be undone and blocks upgrades",
			"4.18":    "OpenShift 4.18 is taken as 4.18.20+ (MachineOSConfig v1, Job, GA); 4.18.0-4.18.19 has MachineOSConfig v1alpha1, PodImageBuilder, TechPreviewNoUpgrade: give the full version (e.g. --openshift 4.18.19) for an older cluster",
		} {
			p := resolveDoc(t, c, "", Overrides{OpenShift: rel})
			if len(p.Warnings) != 1 || p.Warnings[0].Message != want || p.Warnings[0].Where != "--openshift" {
				t.Errorf("%s: warnings %v", rel, p.Warnings)
			}
		}
		for _, rel := range []string{"4.17", "4.18.15"} {
			p := resolveDoc(t, c, "", Overrides{OpenShift: rel})
			if p.MOSC.APIVersion != "machineconfiguration.openshift.io/v1alpha1" || p.MOSC.ImageBuilderType != "PodImageBuilder" || p.OpenShift.LintCommand != "ostree container commit" {
				t.Errorf("%s MOSC %+v lint %s", rel, p.MOSC, p.OpenShift.LintCommand)
			}
		}
		for _, rel := range []string{"4.18", "4.18.20"} {
			p := resolveDoc(t, c, "", Overrides{OpenShift: rel})
			if p.MOSC.APIVersion != "machineconfiguration.openshift.io/v1" || p.MOSC.ImageBuilderType != "Job" || p.OpenShift.OCLSupport != "GA" || p.OpenShift.ZStream != "4.18.20+" || p.OpenShift.Requested != rel {
				t.Errorf("%s: MOSC %+v OpenShift %+v", rel, p.MOSC, p.OpenShift)
			}
		}
		if p := resolveDoc(t, c, "", Overrides{OpenShift: "4.18.20"}); len(p.Warnings) != 0 {
			t.Errorf("4.18.20: warnings %v", p.Warnings)
		}
	})

	t.Run("cluster version fills the release", func(t *testing.T) {
		s := NewSite()
		s.DefaultOpenShift("4.21.11", "cluster version")
		p, err := c.Resolve(s)
		if err != nil || p.OpenShift.Version != "4.21" {
			t.Fatalf("plan %v err %v", p, err)
		}
		s = NewSite()
		s.DefaultOpenShift("4.30.1", "cluster version")
		_, err = c.Resolve(s)
		if err == nil || !strings.HasPrefix(err.Error(), `cluster version: unknown OpenShift release "4.30.1"; known: 4.16`) {
			t.Errorf("err %v", err)
		}
	})
}

// Every release × platform × stack × variant of the embedded catalog either
// resolves to a complete plan or fails with an error naming the stack and
// the reason. The expected failures are exactly the documented gaps.
func TestResolveCatalogMatrix(t *testing.T) {
	c := mustCatalog(t)
	unsupported := map[string]bool{"doca-2.9@4.22": true, "doca-3.2@4.22": true}
	n := 0
	for _, rel := range c.Releases() {
		for _, plat := range c.Platforms() {
			for _, st := range c.Stacks() {
				for _, v := range st.Spec.Variants {
					n++
					name := fmt.Sprintf("%s/%s/%s:%s", rel.Metadata.Name, plat.Metadata.Name, st.Metadata.Name, v.Name)
					s := NewSite()
					s.Override(Overrides{OpenShift: rel.Metadata.Name, Platform: plat.Metadata.Name, Stacks: []string{st.Metadata.Name + ":" + v.Name}})
					p, err := c.Resolve(s)
					if unsupported[st.Metadata.Name+"@"+rel.Metadata.Name] {
						want := fmt.Sprintf("--stack: stack %s does not support OpenShift %s (RHEL %s); supported releases: ", st.Metadata.Name, rel.Metadata.Name, rel.Spec.RHEL)
						if err == nil || !strings.HasPrefix(err.Error(), want) {
							t.Errorf("%s: err %v, want prefix %q", name, err, want)
						}
						continue
					}
					if err != nil {
						t.Errorf("%s: %v", name, err)
						continue
					}
					checkPlanComplete(t, name, p)
				}
			}
		}
	}
	if n != 7*3*3*2 {
		t.Errorf("matrix has %d combinations, want %d", n, 7*3*3*2)
	}
}

func checkPlanComplete(t *testing.T, name string, p *Plan) {
	t.Helper()
	fail := func(what string, args ...any) { t.Errorf("%s: "+what, append([]any{name}, args...)...) }
	o := p.OpenShift
	if o.Version == "" || o.RHEL == "" || o.RHELMajor == "" || o.KernelFamily == "" || len(o.StockOVS) == 0 || o.StockOVSGlob == "" || o.MOSCAPIVersion == "" || o.ImageBuilderType == "" || o.LintCommand == "" || o.OCLSupport == "" {
		fail("release info incomplete: %+v", o)
	}
	pl := p.Platform
	if pl.Name == "" || pl.RPMArch == "" || pl.DocaArch == "" || pl.ContainerfileArch == "" || pl.CentOSStreamBaseURL == "" || pl.EPELReleaseURL == "" {
		fail("platform info incomplete: %+v", pl)
	}
	if len(p.Stacks) != 1 {
		fail("stacks %+v", p.Stacks)
		return
	}
	s := p.Stacks[0]
	wantURL := fmt.Sprintf("https://linux.mellanox.com/public/repo/doca/%s/%s/%s/", s.Version, s.RepoDistro, pl.DocaArch)
	if s.RepoBaseURL != wantURL || len(s.Packages) == 0 || !strings.HasPrefix(s.RepoDistro, "rhel"+o.RHELMajor) {
		fail("stack %+v", s)
	}
	if p.Pool == "" || p.MOSC.Name != p.Pool || p.MOSC.APIVersion != o.MOSCAPIVersion || p.MOSC.ImageBuilderType != o.ImageBuilderType || ValidatePushSpec(p.MOSC.PushSpec) != nil || p.MOSC.PushSecretName == "" || (p.MOSC.BaseImagePullSecretName == "") != (o.MOSCAPIVersion == MOSCAPIVersionV1) {
		fail("MOSC %+v", p.MOSC)
	}
	if len(p.RepoFiles) != 2 || p.RepoFiles[0].FileName != "doca.repo" || p.RepoFiles[1].FileName != "centos.repo" {
		fail("repo files %+v", p.RepoFiles)
	}
	for _, f := range p.RepoFiles {
		for _, r := range f.Repos {
			if !strings.HasPrefix(r.BaseURL, "https://") || !strings.Contains(r.BaseURL, "/"+pl.RPMArch+"/") && !strings.Contains(r.BaseURL, "/"+pl.DocaArch+"/") {
				fail("repo %s/%s %+v", f.FileName, r.ID, r)
			}
			// Only the named exception section of the stack's unsigned
			// packages goes without the check, and offers nothing else.
			if slices.Contains(p.UnsignedRepos, r.ID) {
				if r.GPGCheck || r.Extra["includepkgs"] != strings.Join(s.Unsigned, " ") || len(s.Unsigned) == 0 {
					fail("exception repo %s/%s %+v", f.FileName, r.ID, r)
				}
				continue
			}
			if !r.GPGCheck || r.GPGKey == "" || !slices.Contains(p.EnableRepos, r.ID) {
				fail("repo %s/%s %+v", f.FileName, r.ID, r)
			}
		}
	}
	if s.Variant == "full" && !cmp.Equal(p.Extensions, []string{ExtensionKernelDevel}) || s.Variant == "ovs" && len(p.Extensions) > 0 {
		fail("extensions %v for variant %s", p.Extensions, s.Variant)
	}
	if len(p.Layers) < 5 || p.Layers[len(p.Layers)-1].Name != "cleanup" {
		fail("layers %+v", p.Layers)
	}
	if !p.Node.DocaInit || p.Node.HWOffload != pl.DPU {
		fail("node %+v", p.Node)
	}
	if p.Verify.DatapathType != "doca" || !p.Verify.DocaInitialized || len(p.Verify.PackagesPresent) == 0 || p.Verify.PackagesAbsent[0] != o.StockOVSGlob {
		fail("verify %+v", p.Verify)
	}
	if p.Secrets.Mode != SecretsNone || p.Site != "default" {
		fail("secrets %+v site %q", p.Secrets, p.Site)
	}
}

func readTestKey(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// garbageErr is ParseGPGKey's message for data, which must be an error.
func garbageErr(t *testing.T, data string) string {
	t.Helper()
	_, err := ParseGPGKey([]byte(data))
	if err == nil {
		t.Fatalf("ParseGPGKey accepted %q", data)
	}
	return err.Error()
}
