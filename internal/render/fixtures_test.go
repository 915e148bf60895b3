package render

import "github.com/mosc-dev/mosc/internal/profile"

// walkthroughPlan is a hand-made plan shaped like the walkthrough (FACTS.md
// §4): OpenShift 4.20, x86_64, DOCA 3.3 full, SNO master pool, internal
// registry on lvms-vg1. Tests that must not depend on the catalog use it.
func walkthroughPlan() *profile.Plan {
	gpg := "https://linux.mellanox.com/public/repo/doca/GPG-KEY-Mellanox.pub"
	centos := "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial"
	return &profile.Plan{
		Site: "default",
		OpenShift: profile.ReleaseInfo{
			Version: "4.20", RHEL: "9.6", RHELMajor: "9", KernelFamily: "5.14.0-570",
			StockOVS: []string{"openvswitch3.5"}, StockOVSGlob: "openvswitch[0-9]*",
			MOSCAPIVersion: "machineconfiguration.openshift.io/v1", ImageBuilderType: "Job",
			LintCommand: "bootc container lint", OCLSupport: "GA", HasImageBuildDegraded: true,
		},
		Platform: profile.PlatformInfo{
			Name: "rhel9-x86_64", RPMArch: "x86_64", DocaArch: "x86_64", ContainerfileArch: "AMD64",
			CentOSStreamBaseURL: "https://mirror.stream.centos.org/9-stream",
			EPELReleaseURL:      "https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm",
		},
		Stacks: []profile.StackInfo{{
			Name: "doca-3.3", Version: "3.3.0", Variant: "full", Packages: []string{"doca-all"},
			RepoDistro: "rhel9", RepoBaseURL: "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/x86_64/",
		}},
		Pool: "master",
		MOSC: profile.MOSCPlan{
			Name: "master", APIVersion: "machineconfiguration.openshift.io/v1", ImageBuilderType: "Job",
			PushSpec:                "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest",
			PushSecretName:          "push-secret",
			BaseImagePullSecretName: "pull-and-push-secret",
		},
		Registry: &profile.RegistryPlan{
			ClaimName: "registry-claim", StorageClass: "lvms-vg1", Size: "100Gi", AccessMode: "ReadWriteOnce",
			Replicas: 1, RolloutStrategy: "Recreate", DefaultRoute: true,
		},
		RepoFiles: []profile.RepoFile{
			{FileName: "doca.repo", Repos: []profile.Repo{{
				ID: "doca", Name: "DOCA Online Repo", BaseURL: "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/x86_64/",
				GPGCheck: true, GPGKey: gpg,
			}}},
			{FileName: "centos.repo", Repos: []profile.Repo{
				{ID: "baseos", Name: "CentOS Stream 9 - BaseOS", BaseURL: "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os",
					GPGCheck: true, GPGKey: centos, Extra: map[string]string{"metadata_expire": "6h"}},
				{ID: "appstream", Name: "CentOS Stream 9 - AppStream", BaseURL: "https://mirror.stream.centos.org/9-stream/AppStream/x86_64/os",
					GPGCheck: true, GPGKey: centos, Extra: map[string]string{"metadata_expire": "6h"}},
				{ID: "crb", Name: "CentOS Stream 9 - CRB", BaseURL: "https://mirror.stream.centos.org/9-stream/CRB/x86_64/os",
					GPGCheck: true, GPGKey: centos, Extra: map[string]string{"metadata_expire": "6h"}},
			}},
		},
		EnableRepos: []string{"doca", "baseos", "appstream", "crb"},
		Extensions:  []string{profile.ExtensionKernelDevel},
		Layers: []profile.LayerInvocation{
			{Name: "epel"},
			{Name: "var-opt"},
			{Name: "build-deps", Params: map[string]any{
				"packages": []any{"libyaml-devel", "libpcap-devel", "libzip-devel", "libunwind", "jsoncpp", "openssl-devel", "bzip2-devel"},
				"upgrade":  []any{"unbound-libs", "unbound", "bzip2-libs"},
			}},
			{Name: "swap-openvswitch"},
			{Name: "doca-rdma"},
			{Name: "install"},
			{Name: "opt-relocate", Params: map[string]any{"check": []any{"/usr/sbin/ovs-vswitchd"}}},
			{Name: "cleanup"},
		},
		Node:    profile.NodeSettings{DocaInit: true},
		Secrets: profile.SecretsPlan{Mode: profile.SecretsNone, TokenTTLSeconds: 90 * 24 * 3600},
		Verify: profile.VerifyPlan{
			PackagesPresent: []string{"doca-openvswitch"}, PackagesAbsent: []string{"openvswitch[0-9]*"},
			DatapathType: "doca", DocaInitialized: true,
		},
	}
}
