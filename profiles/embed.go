// Package profiles embeds mosc's profile catalog: OpenShift releases,
// platforms and stacks as YAML (see docs/profiles.md). internal/profile
// reads FS; --profiles DIR overrides or extends it at run time.
package profiles

import "embed"

// FS holds openshift/*.yaml, platform/*.yaml and stack/*.yaml.
//
//go:embed openshift/*.yaml platform/*.yaml stack/*.yaml
var FS embed.FS
