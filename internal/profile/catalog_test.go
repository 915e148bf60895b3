package profile

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mosc-dev/mosc/layers"
	"github.com/mosc-dev/mosc/profiles"
)

func TestEmbeddedCatalog(t *testing.T) {
	c := mustCatalog(t)
	var rels, plats, stacks []string
	for _, r := range c.Releases() {
		rels = append(rels, r.Metadata.Name)
	}
	for _, p := range c.Platforms() {
		plats = append(plats, p.Metadata.Name)
	}
	for _, s := range c.Stacks() {
		stacks = append(stacks, s.Metadata.Name)
	}
	if want := []string{"4.16", "4.17", "4.18", "4.19", "4.20", "4.21", "4.22"}; !cmp.Equal(rels, want) {
		t.Errorf("releases %v", rels)
	}
	if want := []string{"rhel9-aarch64", "rhel9-bluefield", "rhel9-x86_64"}; !cmp.Equal(plats, want) {
		t.Errorf("platforms %v", plats)
	}
	if want := []string{"doca-2.9", "doca-3.2", "doca-3.3"}; !cmp.Equal(stacks, want) {
		t.Errorf("stacks %v", stacks)
	}
	// File layout: <kind dir>/<metadata.name>.yaml, so the catalog is browsable.
	dirs := map[string]string{KindRelease: "openshift", KindPlatform: "platform", KindStack: "stack"}
	for _, p := range c.Profiles() {
		want := path.Join("profiles", dirs[p.ProfileKind()], p.ProfileName()+".yaml")
		if src := p.ProfileSource(); src.File != want || !src.Embedded || len(src.Raw) == 0 || src.Overrides != "" {
			t.Errorf("%s %s: source %s embedded=%v", p.ProfileKind(), p.ProfileName(), src.File, src.Embedded)
		}
		if p.ProfileSummary() == "" {
			t.Errorf("%s %s has no summary", p.ProfileKind(), p.ProfileName())
		}
	}
	// Support matrices only name profiles that exist.
	for _, s := range c.Stacks() {
		for _, r := range s.Spec.Support.Releases {
			if _, err := c.Release(r); err != nil {
				t.Errorf("%s supports unknown release %s", s.Metadata.Name, r)
			}
		}
		for _, p := range s.Spec.Support.Platforms {
			if _, err := c.Platform(p); err != nil {
				t.Errorf("%s supports unknown platform %s", s.Metadata.Name, p)
			}
		}
	}
	// Every layer a stack names exists in layers/ (the renderer checks the
	// parameters against each fragment's declaration).
	for _, s := range c.Stacks() {
		for i, l := range s.Spec.Layers {
			if _, err := fs.Stat(layers.FS, l.Name+".tmpl"); err != nil {
				t.Errorf("%s: spec.layers[%d]: no layers/%s.tmpl", s.Metadata.Name, i, l.Name)
			}
		}
	}
	// FACTS.md §1, §5: v1alpha1/PodImageBuilder before 4.18.20, v1/Job from
	// 4.18.20 on (openshift/api PR #2316); bootc lint from 4.19.
	for _, r := range c.Releases() {
		minor := strings.TrimPrefix(r.Metadata.Name, "4.")
		old := minor == "16" || minor == "17" || minor == "18"
		if (r.Spec.OCL.APIVersion == "machineconfiguration.openshift.io/v1alpha1") != old {
			t.Errorf("%s: MOSC API %s", r.Metadata.Name, r.Spec.OCL.APIVersion)
		}
		spans := r.ZRanges()
		if split := len(spans) > 1; split != (minor == "18") {
			t.Errorf("%s: z-stream spans %v", r.Metadata.Name, spans)
		}
		if last := spans[len(spans)-1]; minor == "18" && (last.From != 20 || last.OCL.APIVersion != "machineconfiguration.openshift.io/v1" || last.OCL.Support != "GA") {
			t.Errorf("4.18: newest span %+v, want v1 GA from 4.18.20", last)
		}
		if bootc := r.Spec.Lint.Command == "bootc container lint"; bootc != (versionLess("4.18", r.Metadata.Name)) {
			t.Errorf("%s: lint %q", r.Metadata.Name, r.Spec.Lint.Command)
		}
		if r.Spec.OCL.ImageBuildDegraded != !versionLess(r.Metadata.Name, "4.20") {
			t.Errorf("%s: imageBuildDegraded %v", r.Metadata.Name, r.Spec.OCL.ImageBuildDegraded)
		}
	}
}

// Versions resolve to the z-stream span the release profile gives them.
func TestReleaseZStreams(t *testing.T) {
	c := mustCatalog(t)
	tests := []struct {
		in, span, api, builder, support string
	}{
		{"4.18.0", "4.18.0-4.18.19", "v1alpha1", "PodImageBuilder", "TechPreviewNoUpgrade"},
		{"4.18.15", "4.18.0-4.18.19", "v1alpha1", "PodImageBuilder", "TechPreviewNoUpgrade"},
		{"4.18.19", "4.18.0-4.18.19", "v1alpha1", "PodImageBuilder", "TechPreviewNoUpgrade"},
		{"4.18.19-rc.1", "4.18.0-4.18.19", "v1alpha1", "PodImageBuilder", "TechPreviewNoUpgrade"},
		{"4.18.20", "4.18.20+", "v1", "Job", "GA"},
		{"v4.18.31", "4.18.20+", "v1", "Job", "GA"},
		{"4.18", "4.18.20+", "v1", "Job", "GA"}, // no patch level: the newest span
		{"4.20.15", "4.20", "v1", "Job", "GA"},
		{"4.17.3", "4.17", "v1alpha1", "PodImageBuilder", "TechPreviewNoUpgrade"},
	}
	for _, tt := range tests {
		minor, z, hasZ, err := ParseVersion(tt.in)
		if err != nil {
			t.Fatalf("ParseVersion(%q): %v", tt.in, err)
		}
		r, err := c.Release(tt.in)
		if err != nil {
			t.Fatalf("Release(%q): %v", tt.in, err)
		}
		span := r.At(z, hasZ)
		if span.String() != tt.span || span.Minor != minor || shortAPIVersion(span.OCL.APIVersion) != tt.api ||
			span.OCL.ImageBuilderType != tt.builder || span.OCL.Support != tt.support {
			t.Errorf("%s: span %s %+v, want %s %s %s %s", tt.in, span, span.OCL, tt.span, tt.api, tt.builder, tt.support)
		}
		if !span.Contains(z) && hasZ {
			t.Errorf("%s: span %s does not contain z %d", tt.in, span, z)
		}
	}
	if _, _, _, err := ParseVersion("4.18.99999999999999999999"); err == nil {
		t.Error("an out-of-range patch level parsed")
	}
}

func TestReleaseLookup(t *testing.T) {
	c := mustCatalog(t)
	for in, want := range map[string]string{"4.20": "4.20", "4.20.15": "4.20", "v4.21.11": "4.21", "4.16.0-rc.3": "4.16"} {
		r, err := c.Release(in)
		if err != nil || r.Metadata.Name != want {
			t.Errorf("Release(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for in, want := range map[string]string{
		"4.23":   `unknown OpenShift release "4.23"; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22`,
		"4":      `invalid OpenShift version "4": want MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 4.20 or 4.20.15; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22`,
		"latest": `invalid OpenShift version "latest": want MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 4.20 or 4.20.15; known: 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22`,
	} {
		if _, err := c.Release(in); err == nil || err.Error() != want {
			t.Errorf("Release(%q) error %v, want %s", in, err, want)
		}
	}
	if got := len(c.Find("doca-3.3")); got != 1 {
		t.Errorf("Find(doca-3.3) = %d profiles", got)
	}
	if got := c.Find("4.20.9"); len(got) != 1 || got[0].ProfileName() != "4.20" {
		t.Errorf("Find(4.20.9) = %v", got)
	}
}

// embedded returns an embedded profile's text, for tests that edit one.
func embedded(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(profiles.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOverrideDirs(t *testing.T) {
	dir := t.TempDir()
	// Replace 4.20 (a site that saw a newer kernel) and add 4.23 and a stack.
	writeFile(t, dir, "openshift/4.20.yaml", strings.Replace(embedded(t, "openshift/4.20.yaml"), "kernelFamily: 5.14.0-570", "kernelFamily: 5.14.0-571", 1))
	writeFile(t, dir, "openshift/4.23.yml", strings.NewReplacer(`name: "4.22"`, `name: "4.23"`, `rhel: "9.8"`, `rhel: "9.8"`).Replace(embedded(t, "openshift/4.22.yaml")))
	writeFile(t, dir, "stacks/doca-3.4.yaml", strings.NewReplacer("name: doca-3.3", "name: doca-3.4", "version: 3.3.0", "version: 3.4.0", `"4.22"]`, `"4.22", "4.23"]`).Replace(embedded(t, "stack/doca-3.3.yaml")))
	writeFile(t, dir, "README.md", "not a profile")
	writeFile(t, dir, ".git/config.yaml", "ignored: true")

	c := mustCatalog(t, dir)
	r, err := c.Release("4.20")
	if err != nil || r.Spec.KernelFamily != "5.14.0-571" || r.Source.Embedded || r.Source.Overrides != "profiles/openshift/4.20.yaml" || r.Source.File != filepath.Join(dir, "openshift/4.20.yaml") {
		t.Errorf("4.20 override: %+v %v", r, err)
	}
	p := resolveDoc(t, c, "", Overrides{OpenShift: "4.23.0", Stacks: []string{"doca-3.4:ovs"}})
	if p.OpenShift.Version != "4.23" || p.Stacks[0].RepoBaseURL != "https://linux.mellanox.com/public/repo/doca/3.4.0/rhel9/x86_64/" {
		t.Errorf("new profiles: %s %s", p.OpenShift.Version, p.Stacks[0].RepoBaseURL)
	}
	// A later directory wins over an earlier one; a single file works too.
	f := writeFile(t, t.TempDir(), "k.yaml", strings.Replace(embedded(t, "openshift/4.20.yaml"), "kernelFamily: 5.14.0-570", "kernelFamily: 5.14.0-572", 1))
	c = mustCatalog(t, dir, f)
	if r, _ := c.Release("4.20"); r.Spec.KernelFamily != "5.14.0-572" || r.Source.Overrides != filepath.Join(dir, "openshift/4.20.yaml") {
		t.Errorf("second override: %s over %s", r.Spec.KernelFamily, r.Source.Overrides)
	}
}

func TestOverrideDirErrors(t *testing.T) {
	dup := t.TempDir()
	a := writeFile(t, dup, "a.yaml", embedded(t, "platform/rhel9-x86_64.yaml"))
	b := writeFile(t, dup, "b.yaml", embedded(t, "platform/rhel9-x86_64.yaml"))
	bad := t.TempDir()
	broken := writeFile(t, bad, "broken.yaml", strings.Replace(embedded(t, "stack/doca-3.3.yaml"), "  lts: false", "  lts: false\n  ltss: true", 1))
	empty := t.TempDir()
	missing := filepath.Join(empty, "nope")
	tests := []struct {
		dir  string
		want string
	}{
		{dup, b + `:6:9: metadata.name: Platform "rhel9-x86_64" is also defined in ` + a},
		{bad, broken + `:11:3: spec.ltss: unknown field "ltss"; did you mean "lts"?`},
		{empty, empty + `: profiles directory has no .yaml files`},
		{missing, missing + `: profiles directory: no such file or directory`},
	}
	for _, tt := range tests {
		_, err := LoadCatalog(tt.dir)
		if err == nil || err.Error() != tt.want {
			t.Errorf("LoadCatalog(%s):\n got %v\nwant %s", tt.dir, err, tt.want)
		}
	}
}

func TestDecodeProfileErrors(t *testing.T) {
	stack := embedded(t, "stack/doca-3.3.yaml")
	release := embedded(t, "openshift/4.20.yaml")
	platform := embedded(t, "platform/rhel9-x86_64.yaml")
	// lineOf finds the 1-based line of the first line containing s.
	lineOf := func(doc, s string) int {
		for i, l := range strings.Split(doc, "\n") {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("%q not in document", s)
		return 0
	}
	at := func(doc, s string, col int) string {
		return "x.yaml:" + itoa(lineOf(doc, s)) + ":" + itoa(col) + ": "
	}
	edit := func(doc, old, new string) string {
		if !strings.Contains(doc, old) {
			t.Fatalf("%q not in document", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown kind", edit(release, "kind: OpenShiftRelease", "kind: Release"),
			at(release, "kind: OpenShiftRelease", 7) + `kind: unknown kind "Release"; known: OpenShiftRelease, Platform, Stack`},
		{"release wrong type", edit(release, "imageBuildDegraded: true", "imageBuildDegraded: sometimes"),
			at(release, "imageBuildDegraded", 25) + `spec.ocl.imageBuildDegraded: expected true or false, got "sometimes"`},
		{"release missing required", edit(release, "  kernelFamily: 5.14.0-570\n", ""),
			at(release, "  rhel:", 3) + `spec.kernelFamily: missing required field "kernelFamily"`},
		{"release enum", edit(release, "support: GA", "support: Beta"),
			at(release, "support: GA", 14) + `spec.ocl.support: unsupported value "Beta"; supported: GA, TechPreview, TechPreviewNoUpgrade`},
		{"release builder mismatch", edit(release, "imageBuilderType: Job", "imageBuilderType: PodImageBuilder"),
			at(release, "imageBuilderType", 23) + `spec.ocl.imageBuilderType: machineconfiguration.openshift.io/v1 requires imageBuilderType Job, got "PodImageBuilder"`},
		{"release lint", edit(release, "command: bootc container lint", "command: rm -rf /"),
			at(release, "command: bootc", 14) + `spec.lint.command: unsupported value "rm -rf /"; supported: bootc container lint, ostree container commit`},
		{"release name", edit(release, `name: "4.20"`, `name: latest`),
			at(release, `name: "4.20"`, 9) + `metadata.name: invalid release name (want MAJOR.MINOR, e.g. 4.20) "latest"`},
		{"z-stream from 0", edit(release, "  lint:\n", "  zStreams:\n  - from: 0\n    ocl: {support: GA, apiVersion: machineconfiguration.openshift.io/v1, imageBuilderType: Job}\n  lint:\n"),
			"x.yaml:" + itoa(lineOf(release, "  lint:")+1) + ":11: " + `spec.zStreams[0].from: must be a z-stream of 1 or more (spec.ocl covers 4.20.0), got 0`},
		{"z-stream out of order", edit(release, "  lint:\n", "  zStreams:\n  - from: 20\n    ocl: {support: GA, apiVersion: machineconfiguration.openshift.io/v1, imageBuilderType: Job}\n  - from: 5\n    ocl: {support: GA, apiVersion: machineconfiguration.openshift.io/v1, imageBuilderType: Job}\n  lint:\n"),
			"x.yaml:" + itoa(lineOf(release, "  lint:")+3) + ":11: " + `spec.zStreams[1].from: z-streams must be in ascending order: 5 follows 20`},
		{"z-stream builder mismatch", edit(release, "  lint:\n", "  zStreams:\n  - from: 20\n    ocl:\n      support: GA\n      apiVersion: machineconfiguration.openshift.io/v1alpha1\n      imageBuilderType: Job\n  lint:\n"),
			"x.yaml:" + itoa(lineOf(release, "  lint:")+5) + ":25: " + `spec.zStreams[0].ocl.imageBuilderType: machineconfiguration.openshift.io/v1alpha1 requires imageBuilderType PodImageBuilder, got "Job"`},
		{"z-stream unknown field", edit(release, "  lint:\n", "  zStreams:\n  - fromZ: 20\n    ocl: {support: GA, apiVersion: machineconfiguration.openshift.io/v1, imageBuilderType: Job}\n  lint:\n"),
			"x.yaml:" + itoa(lineOf(release, "  lint:")+1) + ":5: " + `spec.zStreams[0].fromZ: unknown field "fromZ"; did you mean "from"?`},
		{"platform arch", edit(platform, "docaArch: x86_64", "docaArch: aarch64"),
			at(platform, "docaArch", 13) + `spec.docaArch: unsupported value "aarch64"; supported: arm64-dpu, arm64-sbsa, x86_64`},
		{"platform URL", edit(platform, "baseURL: https://mirror.stream.centos.org/9-stream", "baseURL: mirror.stream.centos.org"),
			at(platform, "baseURL", 16) + `spec.sources.centosStream.baseURL: invalid URL "mirror.stream.centos.org": want http://, https:// or file://`},
		{"platform duplicate repo", edit(platform, "{id: appstream,", "{id: baseos,"),
			at(platform, "{id: appstream", 9) + `spec.sources.centosStream.repos[1]: duplicate "baseos"`},
		{"stack distro", edit(stack, "distro: major", "distro: patch"),
			at(stack, "distro: major", 13) + `spec.repo.distro: unsupported value "patch"; supported: major, minor`},
		{"stack minor without list", edit(stack, "distro: major", "distro: minor"),
			at(stack, "    id: doca", 5) + `spec.repo.rhelMinors: distro: minor needs the list of published RHEL minors`},
		{"stack default variant", edit(stack, "defaultVariant: full", "defaultVariant: all"),
			at(stack, "defaultVariant", 19) + `spec.defaultVariant: unknown variant "all"; known: full, ovs`},
		{"stack layer variant", edit(stack, "variants: [ovs]", "variants: [small]"),
			at(stack, "variants: [ovs]", 16) + `spec.layers[2].variants[0]: unknown variant "small"; known: full, ovs`},
		{"stack layer twice", edit(stack, "  - name: var-opt\n", "  - name: var-opt\n  - name: var-opt\n"),
			"x.yaml:" + itoa(lineOf(stack, "name: var-opt")+1) + ":11: spec.layers[4].name: layer \"var-opt\" appears twice for variant \"full\"\n" +
				"x.yaml:" + itoa(lineOf(stack, "name: var-opt")+1) + ":11: spec.layers[4].name: layer \"var-opt\" appears twice for variant \"ovs\""},
		{"stack package injection", edit(stack, "packages: [doca-all]", "packages: [\"doca-all && curl x|sh\"]"),
			at(stack, "packages: [doca-all]", 16) + `spec.variants[0].packages[0]: invalid package name "doca-all && curl x|sh"`},
		{"source unknown fact", edit(release, "- facts: [spec.lint.command]", "- facts: [spec.lint.cmd]"),
			at(release, "- facts: [spec.lint.command]", 11) + `sources[6].facts[0]: "spec.lint.cmd" is not a fact field of this kind; facts: spec.alternateStreams, spec.kernelFamily, spec.lint, spec.ocl, spec.openvswitch, spec.rhel, spec.zStreams`},
		{"source bad commit", edit(release, "  commit: ee943c37e640fcc5812d4a2a20ac66d57984e79c\n  note: \"RHEL", "  commit: release-4.20\n  note: \"RHEL"),
			at(release, "commit: ee943c37", 11) + `sources[0].commit: invalid commit "release-4.20": want the 40-hex commit the file was read at`},
		{"source without source", edit(release, "  unverified: bootc container lint", "  note: bootc container lint"),
			at(release, "- facts: [spec.lint.command]", 3) + `sources[6]: no source: give repo/path/commit, url/read, or unverified: REASON`},
		{"source unknown field", edit(release, "  ref: release-4.20\n  commit: ee943c37", "  branch: release-4.20\n  commit: ee943c37"),
			at(release, "  ref: release-4.20", 3) + `sources[0].branch: unknown field "branch"; known: commit, facts, note, path, read, ref, repo, unverified, url`},
		{"source url without date", edit(stack, `  read: "2026-11-29"`, `  read: yesterday`),
			at(stack, "  read: ", 9) + `sources[0].read: invalid date "yesterday": want the day the page was read, YYYY-MM-DD`},
		{"stack unsigned package", edit(stack, "    gpgKey: https://linux.mellanox.com/public/repo/doca/GPG-KEY-Mellanox.pub\n", "    gpgKey: https://linux.mellanox.com/public/repo/doca/GPG-KEY-Mellanox.pub\n    unsigned:\n    - packages: [\"doca-extra;reboot\"]\n"),
			"x.yaml:" + itoa(lineOf(stack, "    gpgKey: https://linux.mellanox.com")+2) + `:18: spec.repo.unsigned[0].packages[0]: invalid package name "doca-extra;reboot"`},
		{"stack params alias", edit(stack, "      repo: doca\n", "      repo: &r doca\n      again: *r\n"),
			at(stack, "      packages: [libibverbs", 14) + `spec.layers[5].params.again: YAML aliases are not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeProfile("x.yaml", []byte(tt.doc))
			if err == nil || err.Error() != tt.want {
				t.Errorf("\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// Errors that only site-made profiles can trigger: the embedded catalog is
// consistent, but an override dir may not be.
func TestResolveErrorsWithOverrideProfiles(t *testing.T) {
	dir := t.TempDir()
	stackFile := writeFile(t, dir, "doca-2.9.yaml", strings.NewReplacer(
		`releases: ["4.16", "4.17", "4.18", "4.19", "4.20", "4.21"]`, `releases: ["4.16", "4.17", "4.18", "4.19", "4.20", "4.21", "4.22"]`,
		"hwOffloadSelectable: true", "hwOffloadSelectable: false",
		"  - name: install\n", "",
	).Replace(embedded(t, "stack/doca-2.9.yaml")))
	writeFile(t, dir, "rhel10.yaml", strings.NewReplacer("name: rhel9-x86_64", "name: rhel10-x86_64", `rhelMajor: "9"`, `rhelMajor: "10"`).Replace(embedded(t, "platform/rhel9-x86_64.yaml")))
	c := mustCatalog(t, dir)
	if c.Stacks()[0].Source.File != stackFile {
		t.Fatalf("override not loaded")
	}
	tests := []struct {
		doc  string
		o    Overrides
		want string
	}{
		{"", Overrides{OpenShift: "4.22", Stacks: []string{"doca-2.9"}},
			"--stack: DOCA 2.9.4 publishes repositories per RHEL minor for RHEL 9.2, 9.4, 9.6 only; OpenShift 4.22 is based on RHEL 9.8"},
		{"", Overrides{OpenShift: "4.20", Platform: "rhel10-x86_64", Stacks: []string{"doca-3.3"}},
			"--platform: platform rhel10-x86_64 is for RHEL 10, but OpenShift 4.20 is based on RHEL 9.6\n" +
				"--stack: stack doca-3.3 does not support platform rhel10-x86_64; supported platforms: rhel9-x86_64, rhel9-aarch64, rhel9-bluefield"},
		{siteDoc("spec:", "  openshift: \"4.20\"", "  stacks: [doca-2.9]", "  node: {hwOffload: true}"), Overrides{},
			"mosc.yaml:6:21: spec.node.hwOffload: the selected stacks do not allow changing hw-offload (default false)"},
		{siteDoc("spec:", "  openshift: \"4.20\"", "  stacks: [doca-2.9]", "  extraPackages: [tcpdump]"), Overrides{},
			`mosc.yaml:6:18: spec.extraPackages: no "install" layer in the selected stacks to install extra packages with`},
	}
	for _, tt := range tests {
		s := NewSite()
		if tt.doc != "" {
			var err error
			if s, err = DecodeSite("mosc.yaml", []byte(tt.doc)); err != nil {
				t.Fatal(err)
			}
		}
		s.Override(tt.o)
		_, err := c.Resolve(s)
		if err == nil || err.Error() != tt.want {
			t.Errorf("\n got %v\nwant %s", err, tt.want)
		}
	}
}

// Issue 11 finding 7: every fact an embedded profile states has a source
// (upstream file at a commit, or a document and the day it was read) or an
// explicit UNVERIFIED mark.
func TestEveryFactHasASource(t *testing.T) {
	c := mustCatalog(t)
	n := 0
	for _, p := range c.Profiles() {
		facts := FactsSet(p)
		if len(facts) == 0 {
			t.Errorf("%s: no facts found: the mosc:\"fact\" tags are gone?", p.ProfileSource().File)
		}
		n += len(facts)
		if u := Uncovered(p); len(u) > 0 {
			t.Errorf("%s: facts with neither a source nor an UNVERIFIED mark: %s", p.ProfileSource().File, strings.Join(u, ", "))
		}
	}
	if n < 13*4 {
		t.Errorf("only %d facts in the catalog", n)
	}
	// The check is not vacuous: a profile without its sources list fails it.
	st, err := DecodeProfile("x.yaml", []byte(strings.Split(embedded(t, "stack/doca-3.3.yaml"), "\nsources:")[0]+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if u := Uncovered(st); !slices.Contains(u, "spec.version") || !slices.Contains(u, "spec.variants.kernelModules") {
		t.Errorf("uncovered facts of a profile without sources: %v", u)
	}
}
