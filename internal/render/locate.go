package render

import "github.com/mosc-dev/mosc/internal/profile"

// settingPaths maps the renderer's settings to site field paths.
var settingPaths = map[string]string{
	SettingOpenShift:    "spec.openshift",
	SettingPlatform:     "spec.platform",
	SettingStack:        "spec.stacks",
	SettingPool:         "spec.pool",
	SettingPushSpec:     "spec.registry.pushSpec",
	SettingStorageClass: "spec.registry.storageClass",
	SettingRegistrySize: "spec.registry.size",
	SettingSecrets:      "spec.secrets.mode",
	SettingSite:         "metadata.name",
	SettingRepos:        "spec.repos",
}

// SiteLocator is an Options.Locate for a site (a site file with its flags,
// or a cluster's site of a fleet inventory): a finding points at the flag
// that set the value, else at its line in the file; "" when the value came
// from a default. render, render --fleet and the commands that render a
// plan share it, so a finding reads the same from each.
func SiteLocator(site *profile.Site) func(string) string {
	return func(setting string) string {
		path, ok := settingPaths[setting]
		if !ok || site == nil {
			return ""
		}
		if f := site.SetBy(path); f != "" {
			return f
		}
		// Pos falls back to the nearest parent in the file; only point into
		// the file when the file really holds the value (not a default).
		if !siteHas(site, setting) || site.File == "" {
			return ""
		}
		if pos, ok := site.Pos(path); ok && pos.Line > 0 {
			return pos.String()
		}
		return ""
	}
}

func siteHas(s *profile.Site, setting string) bool {
	switch setting {
	case SettingOpenShift:
		return s.Spec.OpenShift != ""
	case SettingPlatform:
		return s.Spec.Platform != ""
	case SettingStack:
		return len(s.Spec.Stacks) > 0
	case SettingPool:
		return s.Spec.Pool != ""
	case SettingPushSpec:
		return s.Spec.Registry.PushSpec != ""
	case SettingStorageClass:
		return s.Spec.Registry.StorageClass != ""
	case SettingRegistrySize:
		return s.Spec.Registry.Size != ""
	case SettingSecrets:
		return s.Spec.Secrets.Mode != ""
	case SettingSite:
		return s.Metadata.Name != ""
	case SettingRepos:
		return s.Spec.Repos.GPGCheck != nil || len(s.Spec.Repos.Mirrors) > 0
	}
	return false
}
