package build

import (
	"fmt"
	"sort"
	"strings"
)

// extensionPackages is MCO's SupportedExtensions: the RPMs each RHCOS
// extension installs (machine-config-operator
// pkg/controller/common/helpers.go, release-4.20 commit
// afed09939d80d86cafd38e9f733cc49ed16af092; release-4.18 and release-4.22
// list the same packages for each extension they have). MCO's build
// installs the packages, not the extension names
// (buildrequest/buildrequestopts.go GetPackagesForSupportedExtensions into
// the template's ExtensionsPackages): kernel-devel brings kernel-headers too.
func extensionPackages() map[string][]string {
	return map[string][]string{
		"two-node-ha":          {"pacemaker", "pcs", "fence-agents-all"},
		"wasm":                 {"crun-wasm"},
		"ipsec":                {"NetworkManager-libreswan", "libreswan"},
		"usbguard":             {"usbguard"},
		"kerberos":             {"krb5-workstation", "libkadm5"},
		"kernel-devel":         {"kernel-devel", "kernel-headers"},
		"sandboxed-containers": {"kata-containers"},
		"sysstat":              {"sysstat"},
	}
}

// ExtensionPackages returns the packages of the extensions, in order. An
// extension MCO does not know fails, as MCO's validateExtensions fails the
// build request.
func ExtensionPackages(exts []string) ([]string, error) {
	all := extensionPackages()
	var out, unknown []string
	for _, e := range exts {
		pk, ok := all[e]
		if !ok {
			unknown = append(unknown, e)
			continue
		}
		out = append(out, pk...)
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(all))
		for k := range all {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("invalid extensions found: %s (MCO supports %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}
