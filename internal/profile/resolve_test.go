package profile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustCatalog(t testing.TB, dirs ...string) *Catalog {
	t.Helper()
	c, err := LoadCatalog(dirs...)
	if err != nil {
		t.Fatalf("LoadCatalog: %v", err)
	}
	return c
}

func boolPtr(b bool) *bool { return &b }

func TestResolveErrors(t *testing.T) {
	c := mustCatalog(t)
	tests := []struct {
		name string
		doc  string    // site file; "" = no file
		o    Overrides // flags
		want []string
	}{
		{"unknown stack in file", siteDoc("spec:", "  openshift: \"4.20\"", "  stacks:", "  - name: doca-9.9"),
			Overrides{}, []string{`mosc.yaml:6:5: spec.stacks[0]: unknown stack "doca-9.9"; known: doca-2.9, doca-3.2, doca-3.3`}},
		{"empty stack list in file", siteDoc("spec:", "  openshift: \"4.20\"", "  stacks: []"),
			Overrides{}, []string{`mosc.yaml:5:11: spec.stacks: empty: list at least one stack (leave the field out for the default, doca-3.3); known: doca-2.9, doca-3.2, doca-3.3`}},
		{"unknown stack from flag", "", Overrides{OpenShift: "4.20", Stacks: []string{"doca-9.9"}},
			[]string{`--stack: unknown stack "doca-9.9"; known: doca-2.9, doca-3.2, doca-3.3`}},
		{"empty stack name from flag", "", Overrides{OpenShift: "4.20", Stacks: []string{":ovs"}},
			[]string{`--stack: empty stack name; known: doca-2.9, doca-3.2, doca-3.3`}},
		{"unknown release", siteDoc("spec:", "  openshift: \"4.12\""), Overrides{},
			[]string{`mosc.yaml:4:14: spec.openshift: unknown OpenShift release "4.12"; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22`}},
		{"malformed release", "", Overrides{OpenShift: "four"},
			[]string{`--openshift: invalid OpenShift version "four": want MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 4.20 or 4.20.15; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22`}},
		{"no release anywhere", "", Overrides{},
			[]string{`--openshift: OpenShift release not set: pass --openshift (e.g. --openshift 4.20) or set spec.openshift in the site file; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22`}},
		{"no release in file", siteDoc("spec:", "  pool: worker"), Overrides{},
			[]string{`mosc.yaml:4:3: spec.openshift: OpenShift release not set: pass --openshift (e.g. --openshift 4.20) or set spec.openshift in the site file; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22`}},
		{"unknown platform", siteDoc("spec:", "  openshift: \"4.20\"", "  platform: rhel9-ppc64le"), Overrides{},
			[]string{`mosc.yaml:5:13: spec.platform: unknown platform "rhel9-ppc64le"; known: rhel9-aarch64, rhel9-bluefield, rhel9-x86_64`}},
		{"empty platform", siteDoc("spec:", "  openshift: \"4.20\"", "  platform: \"\""), Overrides{},
			[]string{`mosc.yaml:5:13: spec.platform: must not be empty; known: rhel9-aarch64, rhel9-bluefield, rhel9-x86_64`}},
		{"unsupported combination", siteDoc("spec:", "  openshift: \"4.22\"", "  stacks:", "  - name: doca-2.9"), Overrides{},
			[]string{`mosc.yaml:6:5: spec.stacks[0]: stack doca-2.9 does not support OpenShift 4.22 (RHEL 9.8); supported releases: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21`}},
		{"unsupported combination from flags", "", Overrides{OpenShift: "4.22.1", Stacks: []string{"doca-3.2:ovs"}},
			[]string{`--stack: stack doca-3.2 does not support OpenShift 4.22 (RHEL 9.8); supported releases: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21`}},
		{"bad variant", siteDoc("spec:", "  openshift: \"4.20\"", "  stacks:", "  - name: doca-3.3", "    variant: minimal"), Overrides{},
			[]string{`mosc.yaml:7:14: spec.stacks[0].variant: unknown variant "minimal" of stack doca-3.3; known: full, ovs`}},
		{"bad variant short form", siteDoc("spec:", "  openshift: \"4.20\"", "  stacks: [\"doca-3.3:minimal\"]"), Overrides{},
			[]string{`mosc.yaml:5:12: spec.stacks[0].variant: unknown variant "minimal" of stack doca-3.3; known: full, ovs`}},
		{"unknown pinned version", siteDoc("spec:", "  openshift: \"4.20\"", "  stacks:", "  - name: doca-3.2", "    version: 3.2.9"), Overrides{},
			[]string{`mosc.yaml:7:14: spec.stacks[0].version: unknown version "3.2.9" of stack doca-3.2; known: 3.2.2, 3.2.0, 3.2.1`}},
		{"duplicate stack", "", Overrides{OpenShift: "4.20", Stacks: []string{"doca-3.3", "doca-3.3:ovs"}},
			[]string{`--stack: stack doca-3.3 is already listed at spec.stacks[0]`}},
		{"conflicting stacks", siteDoc("spec:", "  openshift: \"4.20\"", "  stacks: [doca-3.3, doca-3.2]"), Overrides{},
			[]string{`mosc.yaml:5:22: spec.stacks[1]: stack doca-3.2 conflicts with doca-3.3: both provide ovs-doca; pick one`}},
		{"push spec without tag", siteDoc("spec:", "  openshift: \"4.20\"", "  registry:", "    pushSpec: quay.io/org/os-image"), Overrides{},
			[]string{`mosc.yaml:6:15: spec.registry.pushSpec: push spec "quay.io/org/os-image" has no tag; the MachineOSConfig CRD requires host[:port][/namespace]/name:tag, e.g. quay.io/org/os-image:latest`}},
		{"push spec flag beats file", siteDoc("spec:", "  openshift: \"4.20\"", "  registry:", "    pushSpec: quay.io/org/os-image:ok"), Overrides{PushSpec: "quay.io/org/os-image@sha256:abc"},
			[]string{`--push-spec: push spec "quay.io/org/os-image@sha256:abc" has a digest; it needs a tag (host[:port][/namespace]/name:tag)`}},
		{"push spec without host", "", Overrides{OpenShift: "4.20", PushSpec: "os-image:latest"},
			[]string{`--push-spec: push spec "os-image:latest" does not match host[:port][/namespace]/name:tag (the MachineOSConfig CRD's pattern)`}},
		{"empty pool in file", siteDoc("spec:", "  openshift: \"4.20\"", "  pool: \"\""), Overrides{},
			[]string{`mosc.yaml:5:9: spec.pool: must not be empty: name the MachineConfigPool to layer (e.g. worker)`}},
		{"invalid pool from flag beats file", siteDoc("spec:", "  openshift: \"4.20\"", "  pool: worker"), Overrides{Pool: "Worker_1"},
			[]string{`--pool: invalid pool name "Worker_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		{"invalid site name", "", Overrides{OpenShift: "4.20", SiteName: "lab one"},
			[]string{`--site: invalid site name "lab one": it becomes the mosc.dev/site label value (at most 63 characters: letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`}},
		{"secret mode", "", Overrides{OpenShift: "4.20", SecretMode: "sealed"},
			[]string{`--secrets: unsupported secret mode "sealed"; supported: none, placeholder`}},
		{"registry size", "", Overrides{OpenShift: "4.20", InternalRegistry: boolPtr(true), RegistrySize: "lots"},
			[]string{`--registry-size: invalid size "lots": want a positive Kubernetes quantity such as 100Gi`}},
		{"storage class", siteDoc("spec:", "  openshift: \"4.20\"", "  registry:", "    internal: true", "    storageClass: LVMS VG"), Overrides{},
			[]string{`mosc.yaml:7:19: spec.registry.storageClass: invalid storage class name "LVMS VG": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		{"token ttl", siteDoc("spec:", "  openshift: \"4.20\"", "  secrets:", "    tokenTTL: 5m"), Overrides{},
			[]string{`mosc.yaml:6:15: spec.secrets.tokenTTL: token lifetime 5m0s is below the TokenRequest minimum of 10m0s`}},
		{"push credential", siteDoc("spec:", "  openshift: \"4.20\"", "  secrets:", "    pushCredential: forever"), Overrides{},
			[]string{`mosc.yaml:6:21: spec.secrets.pushCredential: unsupported push credential "forever"; supported: long-lived (a service-account token Secret that does not expire), token (a token that expires after tokenTTL)`}},
		{"mirror of unknown repo", siteDoc("spec:", "  openshift: \"4.20\"", "  repos:", "    mirrors:", "      nvidia: https://m.example.com/"), Overrides{},
			[]string{`mosc.yaml:7:15: spec.repos.mirrors.nvidia: no repository "nvidia" to mirror; known: appstream, baseos, crb, doca, epel`}},
		{"mirror URL", siteDoc("spec:", "  openshift: \"4.20\"", "  repos:", "    mirrors:", "      doca: ftp://m.example.com/"), Overrides{},
			[]string{`mosc.yaml:7:13: spec.repos.mirrors.doca: invalid URL "ftp://m.example.com/": want http://, https:// or file://`}},
		{"extra package injection", siteDoc("spec:", "  openshift: \"4.20\"", "  extraPackages: [tcpdump, \"vim; curl evil\"]"), Overrides{},
			[]string{`mosc.yaml:5:28: spec.extraPackages[1]: invalid package name "vim; curl evil"`}},
		{"hugepages", siteDoc("spec:", "  openshift: \"4.20\"", "  node:", "    hugepages: {size: 4M, count: 0}"), Overrides{},
			[]string{
				`mosc.yaml:6:23: spec.node.hugepages.size: unsupported hugepage size "4M"; supported: 1G, 2M`,
				`mosc.yaml:6:34: spec.node.hugepages.count: must be a positive number of pages, got 0`,
			}},
		{"hugepages without size", siteDoc("spec:", "  openshift: \"4.20\"", "  node:", "    hugepages:", "      count: 8"), Overrides{},
			[]string{`mosc.yaml:7:7: spec.node.hugepages.size: unsupported hugepage size ""; supported: 1G, 2M`}},
		{"other_config", siteDoc("spec:", "  openshift: \"4.20\"", "  node:", "    otherConfig:", "      doca-init: \"true\"", "      max-idle: \"$(reboot)\""), Overrides{},
			[]string{
				`mosc.yaml:7:18: spec.node.otherConfig.doca-init: set doca-init with the dedicated field (docaInit / hwOffload), not otherConfig`,
				`mosc.yaml:8:17: spec.node.otherConfig.max-idle: invalid other_config value "$(reboot)" (want letters, digits and ._:,/+-)`,
			}},
		{"several findings at once", "", Overrides{OpenShift: "4.20", Platform: "x", Pool: "A", SecretMode: "all"},
			[]string{
				`--platform: unknown platform "x"; known: rhel9-aarch64, rhel9-bluefield, rhel9-x86_64`,
				`--pool: invalid pool name "A": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
				`--secrets: unsupported secret mode "all"; supported: none, placeholder`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSite()
			if tt.doc != "" {
				var err error
				if s, err = DecodeSite("mosc.yaml", []byte(tt.doc)); err != nil {
					// Some cases fail at decode time already; that is where they must fail.
					if got := strings.Split(err.Error(), "\n"); !cmp.Equal(got, tt.want) {
						t.Fatalf("decode errors:\n got %q\nwant %q", got, tt.want)
					}
					return
				}
			}
			s.Override(tt.o)
			p, err := c.Resolve(s)
			if err == nil {
				t.Fatalf("no error (plan %+v); want %q", p, tt.want)
			}
			if p != nil {
				t.Errorf("plan returned with an error")
			}
			if got := strings.Split(err.Error(), "\n"); !cmp.Equal(got, tt.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.want)
			}
			for _, e := range err.(ErrorList) {
				if e.Flag == "" && e.File == "" {
					t.Errorf("error without a place: %v", e)
				}
			}
		})
	}
}
