package render

import (
	"strings"

	"github.com/mosc-dev/mosc/internal/profile"
)

// Settings name the user-facing inputs (the flag names, also the site
// file's fields) a finding can be traced back to. Options.Locate turns one
// into "--push-spec" or "mosc.yaml:7:3".
const (
	SettingOpenShift    = "openshift"
	SettingPlatform     = "platform"
	SettingStack        = "stack"
	SettingPool         = "pool"
	SettingPushSpec     = "push-spec"
	SettingStorageClass = "storage-class"
	SettingRegistrySize = "registry-size"
	SettingSecrets      = "secrets"
	SettingSite         = "site"
	SettingRepos        = "repos"
)

// Finding is one validation error or warning.
type Finding struct {
	// Where the value came from: "--push-spec", "mosc.yaml:7:3",
	// "out/50-machineosconfig-master.yaml:2", or a template position.
	Where string
	// Object is "Kind/name" when the finding is about a rendered object.
	Object string
	// Field is the field path inside the object (or the plan).
	Field string
	// Setting is the user input this comes from (Setting* constants); the
	// caller's Locate fills Where from it.
	Setting string
	Message string
}

func (f *Finding) Error() string {
	var parts []string
	for _, s := range []string{f.Where, f.Object, f.Field} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	parts = append(parts, f.Message)
	return strings.Join(parts, ": ")
}

// Warning converts the finding into the plan's warning type.
func (f *Finding) Warning() profile.Warning {
	field := f.Field
	if f.Object != "" {
		field = strings.TrimSpace(f.Object + " " + f.Field)
	}
	return profile.Warning{Where: f.Where, Field: field, Message: f.Message}
}

// Errors is every validation error found, so one run shows them all.
type Errors []*Finding

func (e Errors) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Error()
	}
	return strings.Join(msgs, "\n")
}
