package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sigs.k8s.io/yaml"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/profile"
)

func profilesCommand() *cli.Command {
	profilesFlag := func() cli.Flag {
		return &cli.StringSliceFlag{Name: "profiles", Usage: "directory (or file) of profiles overriding or extending the embedded catalog, repeatable", TakesFile: true}
	}
	return &cli.Command{
		Name:  "profiles",
		Usage: "list and show the profile catalog (OpenShift releases, platforms, stacks)",
		Description: `The catalog is embedded in mosc; --profiles DIR adds profiles or replaces
embedded ones of the same kind and name (see docs/profiles.md).

Examples:
  mosc profiles list
  mosc profiles show doca-3.3
  mosc profiles show 4.20 > 4.20.yaml   # a starting point for an override
  mosc profiles matrix

Exit codes: 0 ok; 2 unknown profile NAME, bad flags, or a --profiles file that does
not decode (its file:line:column and field are named).`,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "one line per profile: kind, name, summary, support",
				UsageText: "mosc profiles list [--profiles DIR] [-o table|json]",
				Flags: []cli.Flag{profilesFlag(),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "table or json", Value: "table"}},
				Action: runProfilesList,
			},
			{
				Name:      "show",
				Usage:     "print a profile's YAML and its support matrix",
				UsageText: "mosc profiles show NAME [--profiles DIR] [-o yaml|json]",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{profilesFlag(),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "yaml (the profile and its support matrix) or json (with its sources)", Value: "yaml"}},
				Action: runProfilesShow,
				BashComplete: func(c *cli.Context) {
					if cat, err := profile.LoadCatalog(c.StringSlice("profiles")...); err == nil {
						for _, p := range cat.Profiles() {
							fmt.Fprintln(c.App.Writer, p.ProfileName())
						}
					}
				},
			},
			{
				Name:      "matrix",
				Usage:     "the support matrix of every release × platform × stack",
				UsageText: "mosc profiles matrix [--profiles DIR]",
				Flags:     []cli.Flag{profilesFlag()},
				Action:    runProfilesMatrix,
			},
		},
	}
}

func loadCatalogFlag(c *cli.Context) (*profile.Catalog, error) {
	for _, d := range c.StringSlice("profiles") {
		if d == "" {
			return nil, failWith(exitError, &profile.Error{Flag: "--profiles", Message: "must not be empty"})
		}
	}
	cat, err := profile.LoadCatalog(c.StringSlice("profiles")...)
	if err != nil {
		return nil, failWith(exitError, err)
	}
	return cat, nil
}

// profileRow is one line of `profiles list`.
type profileRow struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Summary string `json:"summary"`
	Support string `json:"support"`
	Source  string `json:"source"`
}

func runProfilesList(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("list takes no arguments; did you mean `mosc profiles show %s`?", c.Args().First()))
	}
	format := c.String("output")
	if format != "table" && format != "json" {
		return failWith(exitError, fmt.Errorf("--output: unknown format %q; known: table, json", format))
	}
	cat, err := loadCatalogFlag(c)
	if err != nil {
		return err
	}
	matrix := cat.Matrix("", "", "")
	var rows []profileRow
	overridden := false
	for _, p := range cat.Profiles() {
		src := p.ProfileSource()
		source := "embedded"
		if !src.Embedded {
			source, overridden = src.File, true
		}
		rows = append(rows, profileRow{Kind: p.ProfileKind(), Name: p.ProfileName(), Summary: p.ProfileSummary(), Support: supportSummary(cat, matrix, p), Source: source})
	}
	if format == "json" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintln(c.App.Writer, string(b))
		return nil
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	header := "KIND\tNAME\tSUMMARY\tSUPPORT"
	if overridden {
		header += "\tSOURCE"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		line := strings.Join([]string{r.Kind, r.Name, r.Summary, r.Support}, "\t")
		if overridden {
			line += "\t" + r.Source
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// supportSummary says, per profile, what it works with according to the
// resolved matrix: the stacks for a release or platform, the releases and
// platforms for a stack.
func supportSummary(cat *profile.Catalog, matrix []profile.Combination, p profile.Profile) string {
	var a, b []string
	add := func(list *[]string, s string) {
		for _, x := range *list {
			if x == s {
				return
			}
		}
		*list = append(*list, s)
	}
	for _, m := range matrix {
		if m.Err != nil {
			continue
		}
		switch p.(type) {
		case *profile.Release:
			if m.Release == p.ProfileName() {
				add(&a, m.Stack)
			}
		case *profile.Platform:
			if m.Platform == p.ProfileName() {
				add(&a, m.Stack)
			}
		case *profile.Stack:
			if m.Stack == p.ProfileName() {
				add(&a, m.Release)
				add(&b, m.Platform)
			}
		}
	}
	if len(a) == 0 {
		return "unsupported"
	}
	switch p := p.(type) {
	case *profile.Release:
		return fmt.Sprintf("OCL %s; %s", oclSupportSummary(p), strings.Join(a, ", "))
	case *profile.Stack:
		return fmt.Sprintf("OpenShift %s; %d platform(s)", releaseRanges(cat, a), len(b))
	}
	return strings.Join(a, ", ")
}

// oclSupportSummary is the OCL support level, per z-stream span when the
// release is split: "TechPreviewNoUpgrade (4.18.0-19), GA (4.18.20+)".
func oclSupportSummary(r *profile.Release) string {
	spans := r.ZRanges()
	if len(spans) == 1 {
		return spans[0].OCL.Support
	}
	parts := make([]string, len(spans))
	for i, z := range spans {
		parts[i] = fmt.Sprintf("%s (%s)", z.OCL.Support, z.Short())
	}
	return strings.Join(parts, ", ")
}

// releaseRanges writes consecutive catalog releases as a range: 4.16-4.21.
func releaseRanges(cat *profile.Catalog, names []string) string {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	var parts []string
	start, prev := "", ""
	flush := func() {
		if start == "" {
			return
		}
		if start == prev {
			parts = append(parts, start)
		} else {
			parts = append(parts, start+"-"+prev)
		}
		start = ""
	}
	for _, r := range cat.Releases() {
		n := r.Metadata.Name
		if set[n] {
			if start == "" {
				start = n
			}
			prev = n
		} else {
			flush()
		}
	}
	flush()
	return strings.Join(parts, ", ")
}

func runProfilesShow(c *cli.Context) error {
	if c.NArg() != 1 {
		return failWith(exitError, fmt.Errorf("show needs exactly one profile NAME (see `mosc profiles list`)"))
	}
	cat, err := loadCatalogFlag(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	found := cat.Find(name)
	if len(found) == 0 {
		var names []string
		for _, p := range cat.Profiles() {
			names = append(names, p.ProfileName())
		}
		return failWith(exitError, fmt.Errorf("unknown profile %q; known: %s", name, strings.Join(names, ", ")))
	}
	w := c.App.Writer
	switch format := c.String("output"); format {
	case "yaml":
	case "json":
		return showJSON(w, found)
	default:
		return failWith(exitError, fmt.Errorf("--output: unknown format %q; known: yaml, json", format))
	}
	for i, p := range found {
		if i > 0 {
			fmt.Fprintln(w, "---")
		}
		src := p.ProfileSource()
		origin := "embedded"
		if !src.Embedded {
			origin = "from --profiles"
			if src.Overrides != "" {
				origin += ", overrides " + src.Overrides
			}
		}
		fmt.Fprintf(w, "# %s %s: %s (%s)\n", p.ProfileKind(), p.ProfileName(), src.File, origin)
		raw := string(src.Raw)
		if !strings.HasSuffix(raw, "\n") {
			raw += "\n"
		}
		io.WriteString(w, raw)
		// The matrix goes out as YAML comments, so the output stays a valid
		// profile that can be saved and edited into an override.
		writeMatrix(w, cat, p)
	}
	return nil
}

// shownProfile is `mosc profiles show -o json`: where a profile comes from,
// its facts and the sources that back them.
type shownProfile struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	File     string `json:"file"`
	Embedded bool   `json:"embedded"`
	// Facts are the fact fields the profile sets; Unverified those marked
	// UNVERIFIED; Uncovered those with neither a source nor the mark.
	Facts      []string             `json:"facts"`
	Sources    []profile.FactSource `json:"sources"`
	Unverified []string             `json:"unverified,omitempty"`
	Uncovered  []string             `json:"uncovered,omitempty"`
	Profile    any                  `json:"profile"`
}

func showJSON(w io.Writer, found []profile.Profile) error {
	var out []shownProfile
	for _, p := range found {
		src := p.ProfileSource()
		var doc any
		if err := yaml.Unmarshal(src.Raw, &doc); err != nil {
			return failWith(exitError, fmt.Errorf("%s: %v", src.File, err))
		}
		sources := profile.ProfileSources(p)
		if sources == nil {
			sources = []profile.FactSource{}
		}
		out = append(out, shownProfile{Kind: p.ProfileKind(), Name: p.ProfileName(), File: src.File, Embedded: src.Embedded,
			Facts: profile.FactsSet(p), Sources: sources, Unverified: profile.UnverifiedFacts(p), Uncovered: profile.Uncovered(p), Profile: doc})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeMatrix prints the support matrix that concerns one profile, as
// comments: rows × columns of "yes" ("yes*" with warnings) or "no", then
// the warnings and the reason for each "no".
func writeMatrix(w io.Writer, cat *profile.Catalog, p profile.Profile) {
	var cells []profile.Combination
	var rowOf, colOf func(profile.Combination) string
	var title string
	switch p := p.(type) {
	case *profile.Release:
		if spans := p.ZRanges(); len(spans) > 1 {
			// One grid per z-stream span: they are different APIs.
			for _, z := range spans {
				fmt.Fprintf(w, "#\n# Support matrix of %s, %s (resolved with default variant and settings):\n", z.String(), z.Describe())
				writeGrid(w, "# ", "stack \\ platform", cat.Matrix(p.ProfileName(), "", ""), func(m profile.Combination) string {
					if m.ZStream != z.Short() {
						return ""
					}
					return m.Stack
				}, func(m profile.Combination) string { return m.Platform })
			}
			return
		}
		cells = cat.Matrix(p.ProfileName(), "", "")
		rowOf = func(m profile.Combination) string { return m.Stack }
		colOf = func(m profile.Combination) string { return m.Platform }
		title = "stack \\ platform"
	case *profile.Platform:
		cells = cat.Matrix("", p.ProfileName(), "")
		rowOf = func(m profile.Combination) string { return m.Stack }
		colOf = func(m profile.Combination) string { return m.ZStream }
		title = "stack \\ OpenShift"
	case *profile.Stack:
		cells = cat.Matrix("", "", p.ProfileName())
		rowOf = func(m profile.Combination) string { return m.ZStream }
		colOf = func(m profile.Combination) string { return m.Platform }
		title = "OpenShift \\ platform"
	}
	fmt.Fprintf(w, "#\n# Support matrix of %s (resolved with default variant and settings):\n", p.ProfileName())
	writeGrid(w, "# ", title, cells, rowOf, colOf)
}

func writeGrid(w io.Writer, prefix, title string, cells []profile.Combination, rowOf, colOf func(profile.Combination) string) {
	var rows, cols []string
	seenRow, seenCol := map[string]bool{}, map[string]bool{}
	mark := map[[2]string]string{}
	var reasons, warnings []string
	seenReason := map[string]bool{}
	for _, m := range cells {
		r, col := rowOf(m), colOf(m)
		if r == "" {
			continue // a cell of another grid
		}
		if !seenRow[r] {
			seenRow[r] = true
			rows = append(rows, r)
		}
		if !seenCol[col] {
			seenCol[col] = true
			cols = append(cols, col)
		}
		mark[[2]string{r, col}] = "yes"
		for _, w := range m.Warnings {
			mark[[2]string{r, col}] = "yes*"
			if !seenReason["*"+w.Message] {
				seenReason["*"+w.Message] = true
				warnings = append(warnings, w.Message)
			}
		}
		if m.Err != nil {
			mark[[2]string{r, col}] = "no"
			for _, line := range strings.Split(m.Err.Error(), "\n") {
				// Flag prefixes ("--stack: ") are an artefact of how the cell was resolved.
				if i := strings.Index(line, ": "); i > 0 && strings.HasPrefix(line, "--") {
					line = line[i+2:]
				}
				if !seenReason[line] {
					seenReason[line] = true
					reasons = append(reasons, line)
				}
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s%s\t%s\n", prefix, title, strings.Join(cols, "\t"))
	for _, r := range rows {
		marks := make([]string, len(cols))
		for i, col := range cols {
			marks[i] = mark[[2]string{r, col}]
		}
		fmt.Fprintf(tw, "%s%s\t%s\n", prefix, r, strings.Join(marks, "\t"))
	}
	tw.Flush()
	sort.Strings(warnings)
	for _, m := range warnings {
		fmt.Fprintf(w, "%s*: %s\n", prefix, m)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "%sno: %s\n", prefix, r)
	}
}

func runProfilesMatrix(c *cli.Context) error {
	if c.NArg() > 0 {
		return failWith(exitError, fmt.Errorf("matrix takes no arguments"))
	}
	cat, err := loadCatalogFlag(c)
	if err != nil {
		return err
	}
	// A "?" after a name: the profile states facts marked UNVERIFIED in its
	// sources: list (issue 11 finding 7); the legend names them.
	unverified := map[string][]string{}
	var names []string
	for _, p := range cat.Profiles() {
		if u := profile.UnverifiedFacts(p); len(u) > 0 {
			unverified[p.ProfileName()] = u
			names = append(names, p.ProfileName())
		}
	}
	mark := func(name string) string {
		if _, ok := unverified[name]; ok {
			return name + "?"
		}
		return name
	}
	// One grid per platform: rows are stacks, columns releases.
	for i, p := range cat.Platforms() {
		if i > 0 {
			fmt.Fprintln(c.App.Writer)
		}
		fmt.Fprintf(c.App.Writer, "%s:\n", mark(p.Metadata.Name))
		writeGrid(c.App.Writer, "  ", "stack \\ OpenShift", cat.Matrix("", p.Metadata.Name, ""),
			func(m profile.Combination) string { return mark(m.Stack) },
			func(m profile.Combination) string {
				if _, ok := unverified[m.Release]; ok {
					return m.ZStream + "?"
				}
				return m.ZStream
			})
	}
	if len(names) > 0 {
		fmt.Fprintln(c.App.Writer, "\n?: UNVERIFIED facts (the sources: list of `mosc profiles show NAME` says why):")
		for _, n := range names {
			fmt.Fprintf(c.App.Writer, "  %s: %s\n", n, strings.Join(unverified[n], ", "))
		}
	}
	return nil
}
