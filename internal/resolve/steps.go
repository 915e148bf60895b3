// Package resolve resolves the package transaction of a plan's layer build
// for real: dnf, in an installroot seeded with the target node image's rpm
// database and the plan's repo files, answers whether every package the
// Containerfile installs (and everything those need) can be installed on the
// target release, without downloading or installing any of them
// (--assumeno). gate's install-resolve check runs it (issue 12 finding 2).
package resolve

import (
	"fmt"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/render"
)

// Kind is what a Containerfile command does to the package set.
type Kind string

const (
	// Install: dnf install of packages by name (from the enabled repos).
	Install Kind = "install"
	// InstallURL: dnf install of RPMs by URL (the EPEL release package).
	InstallURL Kind = "install-url"
	// UpgradeInstalled: dnf upgrade of those of Packages (rpm -qa
	// patterns) the image has.
	UpgradeInstalled Kind = "upgrade-installed"
	// RemoveInstalled: rpm-ostree override remove of those of Packages
	// (rpm -qa patterns) the image has.
	RemoveInstalled Kind = "remove-installed"
	// Replace: rpm-ostree override replace of Packages with the versions of
	// repo Repos[0].
	Replace Kind = "replace"
)

// Step is one package operation of the layer build, in Containerfile order.
type Step struct {
	Kind     Kind     `json:"kind"`
	Packages []string `json:"packages"`
	// Repos are the repo ids the command enables (--enablerepo, --from repo=).
	Repos []string `json:"repos,omitempty"`
	// Options are other dnf options of the command (--setopt=…).
	Options []string `json:"options,omitempty"`
	Layer   string   `json:"layer"`
	Command string   `json:"command"`
}

// guarded matches the layers' "only what the image has" form:
//
//	X=$(rpm -qa --qf '%{NAME} ' PATTERNS); [ -z "$X" ] || COMMAND $X
var guarded = lazyre.New(`^(\w+)=\$\(rpm -qa --qf '%\{NAME\} ' ([^)]*)\); \[ -z "\$(\w+)" \] \|\| (.+) \$(\w+)$`)

// ParseSteps reads the package operations out of the rendered layers (what
// render.Containerfile returns), so the transaction is exactly what the
// build runs. Commands that change no packages (mkdir, sed, ldconfig, dnf
// clean …) are skipped; a dnf or rpm-ostree command of a form this package
// does not know is an error, never silently left out.
func ParseSteps(layers []render.RenderedLayer) ([]Step, error) {
	var steps []Step
	for _, l := range layers {
		for _, cmd := range l.Commands {
			st, ok, err := parseCommand(cmd)
			if err != nil {
				return nil, fmt.Errorf("layer %s: %q: %w", l.Name, cmd, err)
			}
			if ok {
				st.Layer, st.Command = l.Name, cmd
				steps = append(steps, st)
			}
		}
	}
	return steps, nil
}

func parseCommand(cmd string) (Step, bool, error) {
	if m := guarded.FindStringSubmatch(cmd); m != nil {
		if m[1] != m[3] || m[1] != m[5] {
			return Step{}, false, fmt.Errorf("the rpm -qa guard uses $%s, $%s and $%s", m[1], m[3], m[5])
		}
		pats, err := Words(m[2])
		if err != nil {
			return Step{}, false, err
		}
		inner, err := Words(m[4])
		if err != nil {
			return Step{}, false, err
		}
		st, ok, err := parseWords(inner)
		if err != nil || !ok {
			return st, ok, err
		}
		if len(st.Packages) != 0 {
			return Step{}, false, fmt.Errorf("names packages besides the guarded $%s", m[1])
		}
		st.Packages = pats
		switch st.Kind {
		case "upgrade":
			st.Kind = UpgradeInstalled
		case "remove":
			st.Kind = RemoveInstalled
		default:
			return Step{}, false, fmt.Errorf("guarded %s is not modelled", st.Kind)
		}
		return st, true, nil
	}
	if !strings.Contains(cmd, "dnf") && !strings.Contains(cmd, "rpm-ostree") {
		return Step{}, false, nil
	}
	w, err := Words(cmd)
	if err != nil {
		return Step{}, false, err
	}
	st, ok, err := parseWords(w)
	if err != nil || !ok {
		return st, ok, err
	}
	switch st.Kind {
	case "upgrade", "remove":
		return Step{}, false, fmt.Errorf("unguarded %s is not modelled", st.Kind)
	}
	return st, true, nil
}

// parseWords reads one dnf or rpm-ostree command line. Kinds "upgrade" and
// "remove" are returned for the caller to qualify.
func parseWords(w []string) (Step, bool, error) {
	if len(w) == 0 {
		return Step{}, false, nil
	}
	switch w[0] {
	case "dnf":
		return parseDNF(w[1:])
	case "rpm-ostree":
		return parseRPMOstree(w[1:])
	}
	for _, x := range w[1:] {
		if x == "dnf" || x == "rpm-ostree" {
			return Step{}, false, fmt.Errorf("a %s command not at the start of the line is not modelled", x)
		}
	}
	return Step{}, false, nil
}

func parseDNF(args []string) (Step, bool, error) {
	var st Step
	verb := ""
	for _, a := range args {
		switch {
		case a == "-y" || a == "--assumeyes" || a == "-q" || a == "--quiet":
		case strings.HasPrefix(a, "--enablerepo="):
			st.Repos = append(st.Repos, splitList(strings.TrimPrefix(a, "--enablerepo="))...)
		case strings.HasPrefix(a, "--setopt="):
			st.Options = append(st.Options, a)
		case strings.HasPrefix(a, "-"):
			return Step{}, false, fmt.Errorf("dnf option %s is not modelled", a)
		case verb == "":
			verb = a
		default:
			st.Packages = append(st.Packages, a)
		}
	}
	switch verb {
	case "clean", "makecache":
		return Step{}, false, nil
	case "install":
		st.Kind = Install
		urls := 0
		for _, p := range st.Packages {
			if strings.Contains(p, "://") {
				urls++
			}
		}
		switch {
		case len(st.Packages) == 0:
			return Step{}, false, fmt.Errorf("dnf install names no package")
		case urls == len(st.Packages):
			st.Kind = InstallURL
		case urls > 0:
			return Step{}, false, fmt.Errorf("dnf install mixes URLs and package names")
		}
		return st, true, nil
	case "upgrade", "update":
		st.Kind = "upgrade"
		return st, true, nil
	}
	return Step{}, false, fmt.Errorf("dnf %s is not modelled", verb)
}

func parseRPMOstree(args []string) (Step, bool, error) {
	if len(args) < 2 || args[0] != "override" {
		return Step{}, false, fmt.Errorf("rpm-ostree %s is not modelled", strings.Join(args, " "))
	}
	var st Step
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--experimental":
		case a == "--from" || strings.HasPrefix(a, "--from="):
			v, ok := strings.CutPrefix(a, "--from=")
			if !ok {
				if i+1 >= len(rest) {
					return Step{}, false, fmt.Errorf("--from without a value")
				}
				i++
				v = rest[i]
			}
			id, ok := strings.CutPrefix(v, "repo=")
			if !ok {
				return Step{}, false, fmt.Errorf("rpm-ostree override --from %s is not modelled (only repo=ID)", v)
			}
			st.Repos = append(st.Repos, id)
		case strings.HasPrefix(a, "-"):
			return Step{}, false, fmt.Errorf("rpm-ostree option %s is not modelled", a)
		default:
			st.Packages = append(st.Packages, a)
		}
	}
	switch args[1] {
	case "remove":
		st.Kind = "remove"
		return st, true, nil
	case "replace":
		if len(st.Repos) != 1 {
			return Step{}, false, fmt.Errorf("rpm-ostree override replace needs exactly one --from repo=ID")
		}
		if len(st.Packages) == 0 {
			return Step{}, false, fmt.Errorf("rpm-ostree override replace names no package")
		}
		st.Kind = Replace
		return st, true, nil
	}
	return Step{}, false, fmt.Errorf("rpm-ostree override %s is not modelled", args[1])
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

// Words splits a POSIX shell command line into words: blanks separate
// words, single quotes keep everything, double quotes keep everything but
// \" \\ \$ \`, a backslash outside quotes escapes the next character.
// Expansions ($x, $(…)) are kept as text; an unterminated quote is an error.
func Words(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' at byte %d", i)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			in = true
		case c == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
