package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"text/template"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/layers"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// ContainerfileFrom is the stage MCO appends the user Containerfile to; it
// must come first and stay the last stage.
const ContainerfileFrom = "FROM configs AS final"

// MaxContainerfileChars is the MOSC CRD's maxLength for containerFile[].content.
const MaxContainerfileChars = 4096

// LintLayer is the fragment always appended last, from OpenShift.LintCommand.
const LintLayer = "lint"

type layerParam struct {
	name     string
	optional bool
}

type layerSet struct {
	tmpl   *template.Template
	params map[string][]layerParam // by layer name
}

var (
	layersOnce sync.Once
	layersSet  *layerSet
	layersErr  error
)

var paramsHeader = lazyre.New(`^\{\{-?\s*/\*\s*mosc:params((?:\s+[a-z][a-z0-9-]*\??)*)\s*\*/\s*-?\}\}`)

// loadLayers parses every fragment once per process.
func loadLayers() (*layerSet, error) {
	layersOnce.Do(func() { layersSet, layersErr = parseLayers(layers.FS) })
	return layersSet, layersErr
}

func parseLayers(fsys fs.FS) (*layerSet, error) {
	names, err := globSuffix(fsys, ".tmpl")
	if err != nil {
		return nil, err
	}
	ls := &layerSet{params: map[string][]layerParam{}}
	srcs := make([]source, 0, len(names))
	for _, n := range names {
		file := "layers/" + n
		text, err := readSource(fsys, n, file)
		if err != nil {
			return nil, err
		}
		params, ok := matchParamsHeader(stringBytes(text)) // paramsHeader
		if !ok {
			if _, err := newSet("layers", srcs); err != nil {
				return nil, err // an earlier file's parse error comes first
			}
			return nil, fmt.Errorf("%s:1:1: fragment must start with {{- /* mosc:params ... */ -}}", file)
		}
		var ps []layerParam
		for _, f := range strings.Fields(string(params)) {
			ps = append(ps, layerParam{name: strings.TrimSuffix(f, "?"), optional: strings.HasSuffix(f, "?")})
		}
		ls.params[strings.TrimSuffix(n, ".tmpl")] = ps
		srcs = append(srcs, source{file, text})
	}
	if ls.tmpl, err = newSet("layers", srcs); err != nil {
		return nil, err
	}
	return ls, nil
}

// LayerNames lists the fragments available to stack profiles.
func LayerNames() ([]string, error) {
	ls, err := loadLayers()
	if err != nil {
		return nil, err
	}
	var out []string
	for n := range ls.params {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// layerData is what a fragment sees: the plan's fields at the top level
// (.OpenShift, .Platform, .Stacks ...), its own fields as in objData, plus
// the invocation's .Params.
type layerData struct {
	// profile.Plan's fields, in its order (copied by newLayerData).
	Site          string
	OpenShift     profile.ReleaseInfo
	Platform      profile.PlatformInfo
	Stacks        []profile.StackInfo
	Pool          string
	MOSC          profile.MOSCPlan
	Registry      *profile.RegistryPlan
	RepoFiles     []profile.RepoFile
	GPGKeys       []profile.GPGKey
	EnableRepos   []string
	UnsignedRepos []string
	Extensions    []string
	Layers        []profile.LayerInvocation
	Node          profile.NodeSettings
	Secrets       profile.SecretsPlan
	Verify        profile.VerifyPlan
	Warnings      []profile.Warning

	Params map[string]any
}

func newLayerData(p *profile.Plan) *layerData {
	return &layerData{
		Site: p.Site, OpenShift: p.OpenShift, Platform: p.Platform, Stacks: p.Stacks, Pool: p.Pool, MOSC: p.MOSC,
		Registry: p.Registry, RepoFiles: p.RepoFiles, GPGKeys: p.GPGKeys, EnableRepos: p.EnableRepos,
		UnsignedRepos: p.UnsignedRepos, Extensions: p.Extensions, Layers: p.Layers, Node: p.Node, Secrets: p.Secrets,
		Verify: p.Verify, Warnings: p.Warnings,
	}
}

// EnableRepoFlag is the --enablerepo option a dnf command of the
// Containerfile needs: every repo file of etc-yum-repos-d ships enabled=0
// (MCO mounts it into every MachineOSConfig's build). withUnsigned adds the
// gpgcheck exception sections, for the stack install alone.
// It is a list of zero or one word, for shargs.
func (d *layerData) EnableRepoFlag(withUnsigned bool) []string {
	ids := append([]string(nil), d.EnableRepos...)
	if withUnsigned {
		ids = append(ids, d.UnsignedRepos...)
	}
	if len(ids) == 0 {
		return nil
	}
	return []string{"--enablerepo=" + strings.Join(ids, ",")}
}

// RepoFileOf names the repo file that defines repo id ("" if none).
func (d *layerData) RepoFileOf(id string) string {
	for _, f := range d.RepoFiles {
		for _, r := range f.Repos {
			if r.ID == id {
				return f.FileName
			}
		}
	}
	return ""
}

// declaresParam reports whether decl (a fragment's few parameters) has name.
func declaresParam(decl []layerParam, name string) bool {
	for _, d := range decl {
		if d.name == name {
			return true
		}
	}
	return false
}

// RenderedLayer is one fragment's contribution to the Containerfile.
type RenderedLayer struct {
	Name     string
	Commands []string
}

// Chars is the layer's share of the Containerfile (commands plus joiners).
func (l RenderedLayer) Chars() int {
	n := 0
	for _, c := range l.Commands {
		n += len([]rune(c)) + len(cmdJoin)
	}
	return n
}

const (
	runPrefix = "RUN set -eux; \\\n  "
	cmdJoin   = "; \\\n  "
)

// Containerfile renders the plan's layers plus the lint step into the
// MachineOSConfig Containerfile: `FROM configs AS final`, then one RUN
// holding every command. It returns the per-layer breakdown for size
// diagnostics.
func Containerfile(p *profile.Plan) (string, []RenderedLayer, error) {
	ls, err := loadLayers()
	if err != nil {
		return "", nil, err
	}
	invs := append([]profile.LayerInvocation(nil), p.Layers...)
	for i, inv := range invs {
		if inv.Name == LintLayer {
			return "", nil, &Finding{Setting: SettingStack, Field: fmt.Sprintf("layers[%d]", i),
				Message: "layer \"lint\" is appended by the renderer from the OpenShift release's lint command; remove it from the stack's layers"}
		}
	}
	invs = append(invs, profile.LayerInvocation{Name: LintLayer})
	var out []RenderedLayer
	var cmds []string
	d := newLayerData(p) // one copy of the plan's fields for every fragment
	for i, inv := range invs {
		rl, err := ls.render(d, inv)
		if err != nil {
			field := fmt.Sprintf("layers[%d] (%s)", i, inv.Name)
			if inv.Name == LintLayer {
				field = "lint"
			}
			return "", nil, &Finding{Setting: SettingStack, Field: field, Message: err.Error()}
		}
		out = append(out, rl)
		cmds = append(cmds, rl.Commands...)
	}
	if len(cmds) == 0 {
		return "", nil, &Finding{Setting: SettingStack, Field: "layers", Message: "no commands to run"}
	}
	return ContainerfileFrom + "\n" + BuildInputsLine(p) + "\n" + runPrefix + strings.Join(cmds, cmdJoin) + "\n", out, nil
}

// BuildInputsPrefix starts the Containerfile comment that fingerprints the
// build inputs MCO mounts by name (ConfigMap etc-yum-repos-d, Secret
// etc-pki-rpm-gpg). MCO starts a new MachineOSBuild only when the
// MachineOSConfig spec or the pool's rendered config changes; a new DOCA repo
// URL alone (doca-3.2 → doca-3.3) changes neither, so without this line the
// pool would keep the old image. With it, a repo change is a Containerfile
// change, also when the bundle is applied by GitOps instead of mosc.
const BuildInputsPrefix = "# mosc build inputs (etc-yum-repos-d, etc-pki-rpm-gpg): sha256:"

// BuildInputsLine fingerprints the repo files and inline GPG keys of p.
func BuildInputsLine(p *profile.Plan) string {
	// The JSON of struct{Repos []profile.RepoFile; Keys []profile.GPGKey}
	// as json.Marshal writes it (deterministic: structs in field order,
	// maps sorted), by appendBuildInputs.
	sum := sha256.Sum256(appendBuildInputs(make([]byte, 0, buildInputsSize(p)), p.RepoFiles, p.GPGKeys))
	return BuildInputsPrefix + hex.EncodeToString(sum[:8])
}

// render runs one fragment with d (its Params set to inv's).
func (ls *layerSet) render(d *layerData, inv profile.LayerInvocation) (RenderedLayer, error) {
	decl, ok := ls.params[inv.Name]
	if !ok {
		names := make([]string, 0, len(ls.params))
		for n := range ls.params {
			names = append(names, n)
		}
		sort.Strings(names)
		return RenderedLayer{}, fmt.Errorf("unknown layer %q; known: %s", inv.Name, strings.Join(names, ", "))
	}
	for _, d := range decl {
		if _, ok := inv.Params[d.name]; !ok && !d.optional {
			return RenderedLayer{}, fmt.Errorf("layers/%s.tmpl: required parameter %q missing", inv.Name, d.name)
		}
	}
	var unknown []string
	for k := range inv.Params {
		if !declaresParam(decl, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var known []string
		for _, d := range decl {
			known = append(known, d.name)
		}
		knownText := "none"
		if len(known) > 0 {
			knownText = strings.Join(known, ", ")
		}
		return RenderedLayer{}, fmt.Errorf("layers/%s.tmpl: unknown parameter(s) %s; known: %s", inv.Name,
			strings.Join(unknown, ", "), knownText)
	}
	params := inv.Params
	if params == nil {
		params = map[string]any{}
	}
	var b strings.Builder
	b.Grow(512) // most fragments' output (the largest ~1 KB): one buffer, not four
	d.Params = params
	if err := ls.tmpl.ExecuteTemplate(&b, "layers/"+inv.Name+".tmpl", d); err != nil {
		return RenderedLayer{}, templateError(err)
	}
	rl := RenderedLayer{Name: inv.Name}
	out := b.String()
	for i := 0; out != ""; i++ { // the lines of out, as strings.Split(out, "\n") without its slice
		line, rest, _ := strings.Cut(out, "\n")
		out = rest
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			return RenderedLayer{}, fmt.Errorf("layers/%s.tmpl: output line %d ends with a backslash; write one command per line", inv.Name, i+1)
		}
		rl.Commands = append(rl.Commands, line)
	}
	return rl, nil
}

var tmplErrPrefix = lazyre.New(`^template: ([^:]+):(\d+)(:\d+)?: (executing "[^"]*" at <[^>]*>: )?`)

// templateError rewrites text/template's "template: NAME:LINE:COL: executing
// "NAME" at <.X>: msg" into "NAME:LINE:COL: msg (at <.X>)". Templates are
// named by their path (layers/epel.tmpl, templates/x.yaml.tmpl).
func templateError(err error) error {
	s := err.Error()
	m := tmplErrPrefix.FindStringSubmatchIndex(s)
	if m == nil {
		return err
	}
	file := s[m[2]:m[3]]
	line := s[m[4]:m[5]]
	col := ""
	if m[6] >= 0 {
		col = s[m[6]:m[7]]
	}
	rest := s[m[1]:]
	if m[8] >= 0 {
		at := s[m[8]:m[9]]
		if i := strings.Index(at, " at <"); i >= 0 {
			rest += " (at " + strings.TrimSuffix(at[i+4:], ": ") + ")"
		}
	}
	return fmt.Errorf("%s:%s%s: %s", file, line, col, rest)
}
