package build

import (
	"bufio"
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/report"
)

// Check ids of the inspection, stable for pipelines.
const (
	IDBuild         = "build"
	IDStockOVS      = "stock-ovs-removed"
	IDStackPackages = "stack-packages"
	IDVswitchdOwner = "ovs-vswitchd-owner"
	IDVswitchdLibs  = "ovs-vswitchd-libs"
	IDVarContent    = "var-content"
	IDExtensions    = "extensions"
	IDLint          = "lint"
	IDLayerSize     = "layer-size"
)

// DocaOVSPackage owns ovs-vswitchd in a working layer.
const DocaOVSPackage = "doca-openvswitch"

// inspectScript prints, in marked sections, what the checks read. It runs
// with /bin/sh in the image; every command may be missing (a base without
// bootc, a stub binary), so nothing aborts the script. Script puts the
// release's lint command in place of LINT.
const inspectScript = `exec 2>&1
echo '@@ rpm'
rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n' | sort
echo '@@ vswitchd'
p=$(command -v ovs-vswitchd 2>/dev/null || true)
[ -n "$p" ] || for c in /usr/sbin/ovs-vswitchd /usr/bin/ovs-vswitchd; do [ -e "$c" ] && p=$c && break; done
if [ -n "$p" ]; then echo "path $p"; echo "owner $(rpm -qf --qf '%{NAME}' "$p")"; fi
echo '@@ ldd'
if [ -n "$p" ]; then ldd "$p"; echo "rc $?"; fi
` + varSection + `echo '@@ tmpfiles'
cat /usr/lib/tmpfiles.d/*.conf /etc/tmpfiles.d/*.conf 2>/dev/null
echo '@@ lint'
LINT
echo "rc $?"
echo '@@ du'
du -sxk / 2>/dev/null | cut -f1
echo '@@ end'
`

// varSection lists /var and a real /opt (RHCOS: /opt -> var/opt). /var/tmp
// is left out: ostree container commit empties it.
const varSection = `echo '@@ opt'
if [ -L /opt ]; then echo "link $(readlink /opt)"; else echo dir; fi
echo '@@ var'
for d in /var /opt; do [ -d "$d" ] && [ ! -L "$d" ] && find "$d" -xdev -mindepth 1 -path /var/tmp -prune -o -printf '%y %p\n'; done
`

const baseScript = "exec 2>&1\n" + varSection + "echo '@@ du'\ndu -sxk / 2>/dev/null | cut -f1\necho '@@ end'\n"

// Script is the inspection script for a lint command ("" = none).
func Script(lint string) string {
	if lint == "" {
		lint = "echo 'no lint command'; false"
	}
	return strings.Replace(inspectScript, "\nLINT\n", "\n"+lint+"\n", 1)
}

// Facts is what the script printed, parsed.
type Facts struct {
	Packages map[string]Package
	// VswitchdPath and VswitchdOwner ("" when absent).
	VswitchdPath, VswitchdOwner string
	LddOutput                   []string
	LddRC                       int
	HasLdd                      bool
	// OptLink is /opt's link target ("" when /opt is a directory).
	OptLink  string
	VarPaths []Path
	Tmpfiles []Tmpfile
	Lint     []string
	LintRC   int
	// DiskKiB is du -sxk / of the image.
	DiskKiB int64
	// Complete is false when the script did not reach its end.
	Complete bool
}

// Package is one installed RPM.
type Package struct {
	Name, Version, Arch string
}

// Path is one entry under /var (or a real /opt).
type Path struct {
	Type string `json:"type"` // find %y: f, d, l, ...
	Path string `json:"path"`
}

// Tmpfile is one tmpfiles.d line's type and path.
type Tmpfile struct{ Type, Path string }

// ParseFacts reads the script's output.
func ParseFacts(out []byte) *Facts {
	f := &Facts{Packages: map[string]Package{}, LddRC: -1, LintRC: -1}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "@@ "); ok {
			section = s
			if s == "end" {
				f.Complete = true
			}
			continue
		}
		switch section {
		case "rpm":
			parts := strings.Split(line, "\t")
			if len(parts) == 3 {
				f.Packages[parts[0]] = Package{Name: parts[0], Version: parts[1], Arch: parts[2]}
			}
		case "vswitchd":
			if v, ok := strings.CutPrefix(line, "path "); ok {
				f.VswitchdPath = v
			} else if v, ok := strings.CutPrefix(line, "owner "); ok && !strings.Contains(v, " ") {
				f.VswitchdOwner = v
			}
		case "ldd":
			if v, ok := strings.CutPrefix(line, "rc "); ok {
				f.LddRC, _ = strconv.Atoi(v)
				f.HasLdd = true
			} else {
				f.LddOutput = append(f.LddOutput, strings.TrimSpace(line))
			}
		case "opt":
			if v, ok := strings.CutPrefix(line, "link "); ok {
				f.OptLink = v
			}
		case "var":
			if t, p, ok := strings.Cut(line, " "); ok && len(t) == 1 {
				f.VarPaths = append(f.VarPaths, Path{Type: t, Path: p})
			}
		case "tmpfiles":
			fields := strings.Fields(line)
			if len(fields) >= 2 && !strings.HasPrefix(fields[0], "#") {
				f.Tmpfiles = append(f.Tmpfiles, Tmpfile{Type: strings.TrimRight(fields[0], "!+-=~^"), Path: fields[1]})
			}
		case "lint":
			if v, ok := strings.CutPrefix(line, "rc "); ok {
				f.LintRC, _ = strconv.Atoi(v)
			} else {
				f.Lint = append(f.Lint, line)
			}
		case "du":
			if n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64); err == nil {
				f.DiskKiB = n
			}
		}
	}
	return f
}

// Expectations are what the plan says the image must hold.
type Expectations struct {
	// Stacks with their packages and versions.
	Stacks []profile.StackInfo
	// Present and Absent come from the plan's verify section.
	Present []string
	Absent  []string
	// Extensions requested by the pool's MachineConfigs, and whether an
	// extensions image was there to install them from.
	Extensions      []string
	ExtensionsImage string
	LintCommand     string
}

// ExpectationsFor reads them from a plan.
func ExpectationsFor(p *profile.Plan, extensions []string, extensionsImage string) Expectations {
	return Expectations{Stacks: p.Stacks, Present: p.Verify.PackagesPresent, Absent: p.Verify.PackagesAbsent,
		Extensions: extensions, ExtensionsImage: extensionsImage, LintCommand: p.OpenShift.LintCommand}
}

// Inspect runs the script in the built image and the base image and turns
// the facts into checks.
func Inspect(ctx context.Context, b *Builder, image, baseImage string, e Expectations) ([]report.Check, error) {
	out, err := b.Exec(ctx, image, Script(e.LintCommand))
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", image, err)
	}
	built := ParseFacts(out)
	if !built.Complete {
		return nil, fmt.Errorf("inspecting %s: the inspection script stopped early: %s", image, lastLine(string(out)))
	}
	bout, err := b.Exec(ctx, baseImage, baseScript)
	if err != nil {
		return nil, fmt.Errorf("inspecting base image %s: %w", baseImage, err)
	}
	base := ParseFacts(bout)
	return Checks(built, base, e), nil
}

// Checks turns the facts of the built and the base image into the report's
// checks, in a fixed order.
func Checks(built, base *Facts, e Expectations) []report.Check {
	return []report.Check{
		stockOVSCheck(built, e),
		stackPackagesCheck(built, e),
		vswitchdOwnerCheck(built),
		vswitchdLibsCheck(built),
		varContentCheck(built, base),
		extensionsCheck(built, e),
		lintCheck(built, e),
		layerSizeCheck(built, base),
	}
}

func stockOVSCheck(f *Facts, e Expectations) report.Check {
	c := report.Check{ID: IDStockOVS}
	var found []string
	for name, p := range f.Packages {
		for _, glob := range e.Absent {
			if ok, _ := path.Match(glob, name); ok {
				found = append(found, name+"-"+p.Version)
			}
		}
	}
	sort.Strings(found)
	c.Details = map[string]any{"patterns": nonNil(e.Absent), "found": nonNil(found)}
	if len(found) > 0 {
		c.Status = report.Fail
		c.Message = "stock Open vSwitch is still in the rpm database: " + strings.Join(found, ", ")
		c.Remedy = "remove it before installing DOCA (rpm-ostree override remove), and keep it out: install with --setopt=install_weak_deps=False (doca-openvswitch Recommends openvswitch)"
		return c
	}
	c.Status = report.Pass
	c.Message = fmt.Sprintf("no package matches %s", strings.Join(e.Absent, ", "))
	return c
}

func stackPackagesCheck(f *Facts, e Expectations) report.Check {
	c := report.Check{ID: IDStackPackages, Status: report.Pass}
	var missing, wrong, ok []string
	var rows []map[string]any
	seen := map[string]bool{}
	for _, st := range e.Stacks {
		want := majorMinor(st.Version)
		for _, name := range append(append([]string{}, st.Packages...), e.Present...) {
			if seen[name] {
				continue
			}
			seen[name] = true
			p, present := f.Packages[name]
			row := map[string]any{"name": name, "stack": st.Name, "present": present}
			switch {
			case !present:
				missing = append(missing, name)
			case strings.HasPrefix(name, "doca-") && want != "" && !strings.HasPrefix(p.Version, want):
				row["version"] = p.Version
				wrong = append(wrong, fmt.Sprintf("%s-%s (stack %s is DOCA %s)", name, p.Version, st.Name, st.Version))
			default:
				row["version"] = p.Version
				ok = append(ok, name+"-"+p.Version)
			}
			rows = append(rows, row)
		}
	}
	c.Details = map[string]any{"packages": rows}
	switch {
	case len(missing) > 0:
		c.Status = report.Fail
		c.Message = "not installed: " + strings.Join(missing, ", ")
		c.Remedy = "check the stack's repository has them (mosc gate repo-preflight) and that the install step names them"
	case len(wrong) > 0:
		c.Status = report.Fail
		c.Message = "installed at another DOCA version: " + strings.Join(wrong, ", ")
		c.Remedy = "the DOCA repository URL does not match the stack: check spec.repos.mirrors and the stack profile"
	default:
		c.Message = "installed: " + strings.Join(ok, ", ")
	}
	return c
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

func vswitchdOwnerCheck(f *Facts) report.Check {
	c := report.Check{ID: IDVswitchdOwner, Details: map[string]any{"path": f.VswitchdPath, "owner": f.VswitchdOwner}}
	switch {
	case f.VswitchdPath == "":
		c.Status, c.Message = report.Fail, "no ovs-vswitchd in the image"
		c.Remedy = "install " + DocaOVSPackage + " (the stack's install step)"
	case f.VswitchdOwner != DocaOVSPackage:
		owner := f.VswitchdOwner
		if owner == "" {
			owner = "no package"
		}
		c.Status, c.Message = report.Fail, fmt.Sprintf("%s belongs to %s, not %s", f.VswitchdPath, owner, DocaOVSPackage)
		c.Remedy = "remove the stock openvswitch package before installing " + DocaOVSPackage
	default:
		c.Status, c.Message = report.Pass, fmt.Sprintf("%s belongs to %s", f.VswitchdPath, DocaOVSPackage)
	}
	return c
}

// vswitchdLibsCheck: every library ovs-vswitchd links resolves (issue 11.2:
// DOCA and DPDK libraries under /opt are gone on an updated node).
func vswitchdLibsCheck(f *Facts) report.Check {
	c := report.Check{ID: IDVswitchdLibs}
	if f.VswitchdPath == "" {
		c.Status, c.Message = report.Skip, "no ovs-vswitchd to check"
		return c
	}
	var notFound []string
	static := false
	for _, l := range f.LddOutput {
		if strings.Contains(l, "=> not found") {
			notFound = append(notFound, strings.TrimSpace(strings.SplitN(l, "=>", 2)[0]))
		}
		if strings.Contains(l, "not a dynamic executable") || strings.Contains(l, "statically linked") {
			static = true
		}
	}
	c.Details = map[string]any{"ldd": nonNil(f.LddOutput), "notFound": nonNil(notFound)}
	switch {
	case !f.HasLdd:
		c.Status, c.Message = report.Skip, "ldd did not run in the image"
	case len(notFound) > 0:
		c.Status = report.Fail
		c.Message = fmt.Sprintf("%s links libraries that do not resolve: %s", f.VswitchdPath, strings.Join(notFound, ", "))
		c.Remedy = "install the packages that provide them, or relocate /opt content to /usr (see var-content)"
	case static:
		c.Status, c.Message = report.Skip, f.VswitchdPath+" is not a dynamic executable: nothing to resolve"
	case f.LddRC != 0:
		c.Status, c.Message = report.Warn, fmt.Sprintf("ldd %s exited %d", f.VswitchdPath, f.LddRC)
	default:
		c.Status, c.Message = report.Pass, fmt.Sprintf("all %d libraries of %s resolve", len(f.LddOutput), f.VswitchdPath)
	}
	return c
}

// varContentCheck lists what the layer added under /var (and /opt, which
// is var/opt on RHCOS): ostree/bootc place /var content only at first
// install, never on an update (bootc-dev/bootc #372, #2433), so a node
// that updates to the layered image never gets it. tmpfiles.d entries
// create what they name at boot; those paths (and what lies under an L
// link) are excepted.
func varContentCheck(built, base *Facts) report.Check {
	c := report.Check{ID: IDVarContent}
	inBase := map[string]bool{}
	for _, p := range base.VarPaths {
		inBase[p.Path] = true
	}
	covered := map[string]bool{}
	var links []string
	for _, t := range built.Tmpfiles {
		covered[t.Path] = true
		for d := path.Dir(t.Path); d != "/" && d != "."; d = path.Dir(d) {
			covered[d] = true // created as a parent of the entry
		}
		if t.Type == "L" {
			links = append(links, t.Path+"/")
		}
	}
	var list []Path
	var opt, content int
	for _, p := range built.VarPaths {
		if inBase[p.Path] || covered[p.Path] || underAny(p.Path, links) {
			continue
		}
		list = append(list, p)
		if p.Type != "d" {
			content++
		}
		if strings.HasPrefix(p.Path, "/var/opt/") || strings.HasPrefix(p.Path, "/opt/") {
			opt++
		}
	}
	c.Details = map[string]any{"paths": nonNil(list), "count": len(list)}
	if len(list) == 0 {
		c.Status, c.Message = report.Pass, "the layer adds nothing under /var or /opt that tmpfiles.d does not create"
		return c
	}
	var shown []string
	for i, p := range list {
		if i == 12 {
			shown = append(shown, fmt.Sprintf("… %d more (-o json lists all)", len(list)-i))
			break
		}
		shown = append(shown, p.Path)
	}
	c.Message = fmt.Sprintf("%d path(s) under /var an image update would not deliver:\n%s", len(list), strings.Join(shown, "\n"))
	if opt > 0 && content > 0 {
		c.Status = report.Fail
		c.Remedy = "relocate /opt content into /usr (e.g. /usr/lib/opt/<dir>) with tmpfiles.d L links from /var/opt/<dir>, as rpm-ostree does for /opt packages"
	} else {
		c.Status = report.Warn
		c.Remedy = "remove it in the layer, or add tmpfiles.d entries (/usr/lib/tmpfiles.d) that create it at boot"
	}
	return c
}

func underAny(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// extensionsCheck: the pool's extensions' packages are in the rpm
// database, and kernel-devel's headers are those of the image's kernel (a
// DKMS build against other headers builds no module for the node's kernel:
// issue 11 finding 4).
func extensionsCheck(f *Facts, e Expectations) report.Check {
	c := report.Check{ID: IDExtensions, Details: map[string]any{"requested": nonNil(e.Extensions), "image": e.ExtensionsImage}}
	switch {
	case len(e.Extensions) == 0:
		c.Status, c.Message = report.Pass, "the pool's MachineConfigs request no extensions"
		return c
	case e.ExtensionsImage == "":
		c.Status = report.Warn
		c.Message = "not installed (no extensions image): " + strings.Join(e.Extensions, ", ")
		c.Remedy = "pass --release-image (its rhel-coreos-extensions image) or --extensions-image, as the cluster's build has it"
		return c
	}
	pkgs, err := ExtensionPackages(e.Extensions)
	if err != nil {
		c.Status, c.Message = report.Fail, err.Error()
		c.Remedy = "use only the extensions MCO supports in the pool's MachineConfigs"
		return c
	}
	var missing, installed []string
	for _, name := range pkgs {
		if p, ok := f.Packages[name]; ok {
			installed = append(installed, name+"-"+p.Version)
		} else {
			missing = append(missing, name)
		}
	}
	c.Details["installed"] = nonNil(installed)
	if len(missing) > 0 {
		c.Status = report.Fail
		c.Message = fmt.Sprintf("the extensions image %s did not install: %s", e.ExtensionsImage, strings.Join(missing, ", "))
		c.Remedy = "use the rhel-coreos-extensions image of the same release as the base image"
		return c
	}
	c.Status, c.Message = report.Pass, fmt.Sprintf("installed from %s: %s", e.ExtensionsImage, strings.Join(installed, ", "))
	if devel, ok := f.Packages["kernel-devel"]; ok && containsString(e.Extensions, "kernel-devel") {
		kernel, kname := "", ""
		for _, n := range []string{"kernel-core", "kernel", "kernel-rt-core", "kernel-64k-core"} {
			if p, ok := f.Packages[n]; ok {
				kernel, kname = p.Version, n
				break
			}
		}
		c.Details["kernel"] = kernel
		switch {
		case kernel == "":
			c.Status = report.Warn
			c.Message += "; no kernel package in the image to compare kernel-devel with"
		case kernel != devel.Version:
			c.Status = report.Fail
			c.Message = fmt.Sprintf("kernel-devel %s does not match the image's kernel (%s %s): modules built against it (DKMS) do not load on the node", devel.Version, kname, kernel)
			c.Remedy = "install kernel-devel only from the release's extensions image (the kernel-devel extension), never from CentOS Stream or another repo"
		default:
			c.Message += fmt.Sprintf("; kernel-devel matches the kernel (%s %s)", kname, kernel)
		}
	}
	return c
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func lintCheck(f *Facts, e Expectations) report.Check {
	c := report.Check{ID: IDLint, Details: map[string]any{"command": e.LintCommand, "exitCode": f.LintRC, "output": nonNil(f.Lint)}}
	switch {
	case e.LintCommand == "":
		c.Status, c.Message = report.Skip, "the release has no lint command"
	case f.LintRC == 0:
		// bootc reports /var content (var-tmpfiles) as a warning and exits 0
		// unless --fatal-warnings (bootc-dev/bootc crates/lib/src/lints.rs).
		var warns []string
		for _, l := range f.Lint {
			if strings.Contains(strings.ToLower(l), "warning") {
				warns = append(warns, l)
			}
		}
		c.Status = report.Pass
		c.Message = e.LintCommand + " passed"
		if len(warns) > 0 {
			c.Status = report.Warn
			c.Message += " with warnings:\n" + strings.Join(lastN(warns, 8), "\n")
			c.Remedy = "each warning is content the cluster's build accepts but a node may not get; see var-content"
		} else if n := len(f.Lint); n > 0 {
			c.Message += ": " + f.Lint[n-1]
		}
	default:
		c.Status = report.Fail
		c.Message = fmt.Sprintf("%s exited %d in the built image", e.LintCommand, f.LintRC)
		if n := len(f.Lint); n > 0 {
			c.Message += ":\n" + strings.Join(lastN(f.Lint, 8), "\n")
		}
		c.Remedy = "fix what the lint names; MCO's build runs the same step and fails there"
	}
	return c
}

func layerSizeCheck(built, base *Facts) report.Check {
	c := report.Check{ID: IDLayerSize, Status: report.Pass}
	added := (built.DiskKiB - base.DiskKiB) * 1024
	c.Details = map[string]any{"imageBytes": built.DiskKiB * 1024, "baseBytes": base.DiskKiB * 1024, "layerBytes": added}
	c.Message = fmt.Sprintf("the layer adds %s to the base (%s → %s, uncompressed disk usage)", human(added), human(base.DiskKiB*1024), human(built.DiskKiB*1024))
	return c
}

func human(n int64) string {
	neg := ""
	if n < 0 {
		neg, n = "-", -n
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%s%d B", neg, n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%s%.1f %ciB", neg, float64(n)/float64(div), "KMGTPE"[exp])
}

// nonNil keeps JSON arrays as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
