package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mosc-dev/mosc/internal/fleet"
	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/profile"
)

// The bash and zsh scripts ask the binary itself for candidates, so they never
// go stale. Protocol: the words typed so far, then the word being completed
// (possibly empty), then --generate-bash-completion. The binary answers in
// completeArgs without running any command: urfave/cli's own completion would
// run the command when the word is "--" (so `mosc remove --<TAB>` removed
// things) and panics on a flag still waiting for its value.
const bashCompletion = `# bash completion for mosc; load with: source <(mosc completion bash)
_mosc_complete() {
  # Words from the line itself: COMP_WORDS splits NAME:VARIANT and --flag=value.
  local line="${COMP_LINE:0:$COMP_POINT}" cur opts pre i
  local -a words
  read -ra words <<< "$line"
  [[ "$line" == *[[:space:]] ]] && words+=("")
  cur="${words[${#words[@]}-1]}"
  opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  # bash replaces only the part after the last word break (: or =).
  if [[ "$cur" == *[:=]* ]]; then
    pre="${cur%"${cur##*[:=]}"}"
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]="${COMPREPLY[i]#"$pre"}"; done
  fi
  # No candidates (a FILE or DIR is expected): -o default completes paths.
  return 0
}
complete -o bashdefault -o default -F _mosc_complete mosc oc-mosc kubectl-mosc
`

const zshCompletion = `#compdef mosc oc-mosc kubectl-mosc
# zsh completion for mosc; load with: source <(mosc completion zsh)
_mosc() {
  local -a opts
  opts=("${(@f)$(${words[1,CURRENT-1]} "${words[CURRENT]}" --generate-bash-completion 2>/dev/null)}")
  if [[ -n "${opts[1]}" ]]; then
    compadd -a opts
  else
    _files
  fi
}
if [[ "$(basename -- ${(%):-%x})" != "_mosc" ]]; then
  compdef _mosc mosc oc-mosc kubectl-mosc
fi
`

// completionFlag ends a completion request (the name urfave/cli uses).
const completionFlag = "--generate-bash-completion"

// completeArgs prints completion candidates for words (the arguments after
// the program name, the last one being the word under the cursor). It only
// reads the command tree and the profile catalog: it never runs an action.
func completeArgs(app *cli.App, words []string, w io.Writer) {
	defer func() { _ = recover() }() // completion must never crash a shell
	cur := ""
	if len(words) > 0 {
		cur, words = words[len(words)-1], words[:len(words)-1]
	}
	var cmd *cli.Command
	subcommands := app.Commands
	flags := app.Flags
	var profileDirs []string
	positional := 0
	for i := 0; i < len(words); i++ {
		word := words[i]
		if word == "--" {
			positional += len(words) - i - 1
			break
		}
		if strings.HasPrefix(word, "-") && word != "-" {
			name, _, hasValue := strings.Cut(strings.TrimLeft(word, "-"), "=")
			f := findFlag(flags, name)
			if f == nil || hasValue || !flagTakesValue(f) {
				continue
			}
			if i+1 < len(words) {
				i++
				if name == "profiles" {
					profileDirs = append(profileDirs, words[i])
				}
			}
			continue
		}
		if sub := findCommand(subcommands, word); sub != nil && positional == 0 {
			cmd, subcommands, flags = sub, sub.Subcommands, sub.Flags
			continue
		}
		positional++
	}
	var candidates []string
	prev := ""
	if len(words) > 0 {
		prev = words[len(words)-1]
	}
	switch {
	case strings.HasPrefix(cur, "-") && strings.Contains(cur, "="):
		name, _, _ := strings.Cut(strings.TrimLeft(cur, "-"), "=")
		if f := findFlag(flags, name); f != nil && flagTakesValue(f) {
			for _, v := range flagValues(f, profileDirs) {
				candidates = append(candidates, cur[:strings.Index(cur, "=")+1]+v)
			}
		}
	case strings.HasPrefix(cur, "-"):
		candidates = flagNames(flags)
		if cmd == nil {
			candidates = append(candidates, "--version") // added by urfave/cli at run time
		}
	case strings.HasPrefix(prev, "-") && prev != "-" && prev != "--" && !strings.Contains(prev, "="):
		if f := findFlag(flags, strings.TrimLeft(prev, "-")); f != nil && flagTakesValue(f) {
			candidates = flagValues(f, profileDirs)
			break
		}
		candidates = positionalValues(cmd, subcommands, positional, profileDirs)
	default:
		candidates = positionalValues(cmd, subcommands, positional, profileDirs)
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, cur) {
			fmt.Fprintln(w, c)
		}
	}
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		for _, n := range c.Names() {
			if n == name {
				return c
			}
		}
	}
	return nil
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range namesOf(f) {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// flagsByName is findFlag for many look-ups: each Names() runs a regexp
// per name (cli.FlagNames), so a scan per look-up costs every command's
// start (issue 15). The first flag with a name wins, as in findFlag.
func flagsByName(flags []cli.Flag) map[string]cli.Flag {
	m := make(map[string]cli.Flag, len(flags)+8)
	for _, f := range flags {
		for _, n := range namesOf(f) {
			if _, ok := m[n]; !ok {
				m[n] = f
			}
		}
	}
	return m
}

func flagTakesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

func flagNames(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		for _, n := range namesOf(f) {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	return append(out, "--help")
}

// flagValues offers catalog names for the plan flags and the choices a flag's
// usage lists ("none, client (...) or server (...)"); nothing for files, so
// the shell completes paths.
func flagValues(f cli.Flag, profileDirs []string) []string {
	switch namesOf(f)[0] {
	case "openshift", "to", "via":
		return catalogNames(profileDirs, "release")
	case "platform", "to-platform":
		return catalogNames(profileDirs, "platform")
	case "stack", "to-stack":
		return catalogNames(profileDirs, "stack")
	case "pool":
		return []string{"worker", "master"}
	case "for":
		return fleet.Engines
	}
	switch ff := f.(type) {
	case *cli.StringFlag:
		if ff.TakesFile {
			return nil
		}
	case *cli.StringSliceFlag:
		if ff.TakesFile {
			return nil
		}
	case *cli.PathFlag:
		return nil
	}
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return nil
	}
	return usageChoices(d.GetUsage())
}

var parenRE = lazyre.New(`\([^()]*\)`)

// usageChoices reads "a, b or c" (after the last colon, parentheses dropped)
// from a flag's usage; any phrase that is not one lower-case word means the
// usage is prose, not a list.
func usageChoices(usage string) []string {
	s := parenRE.ReplaceAllString(usage, "")
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ReplaceAll(s, " or ", ",")
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" || strings.ToLower(part) != part || strings.ContainsAny(part, " .;/") {
			return nil
		}
		out = append(out, part)
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// positionalValues: subcommands, else what a command's arguments may be.
func positionalValues(cmd *cli.Command, subcommands []*cli.Command, positional int, profileDirs []string) []string {
	if positional == 0 && len(subcommands) > 0 {
		var out []string
		for _, c := range subcommands {
			if !c.Hidden {
				out = append(out, c.Names()...)
			}
		}
		return out
	}
	if cmd == nil || positional > 0 {
		return nil
	}
	switch cmd.Name {
	case "completion":
		return []string{"bash", "zsh", "fish"}
	case "show":
		return catalogNames(profileDirs, "")
	}
	return nil
}

// catalogNames lists profile names of one kind ("" for all), from the
// embedded catalog plus the --profiles directories already typed.
func catalogNames(dirs []string, kind string) []string {
	cat, err := profile.LoadCatalog(dirs...)
	if err != nil {
		cat, err = profile.LoadCatalog()
		if err != nil {
			return nil
		}
	}
	var out []string
	if kind == "" || kind == "release" {
		for _, r := range cat.Releases() {
			out = append(out, r.Metadata.Name)
		}
	}
	if kind == "" || kind == "platform" {
		for _, p := range cat.Platforms() {
			out = append(out, p.Metadata.Name)
		}
	}
	if kind == "" || kind == "stack" {
		for _, s := range cat.Stacks() {
			out = append(out, s.Metadata.Name)
			if kind == "stack" {
				for _, v := range s.Spec.Variants {
					out = append(out, s.Metadata.Name+":"+v.Name)
				}
			}
		}
	}
	return out
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: `Load completion in the current shell:
   bash:  source <(mosc completion bash)
   zsh:   source <(mosc completion zsh)
   fish:  mosc completion fish | source
Or install it for every session, e.g. mosc completion bash > /etc/bash_completion.d/mosc`,
		Action: func(c *cli.Context) error {
			shell := c.Args().First()
			switch shell {
			case "bash":
				io.WriteString(c.App.Writer, bashCompletion)
			case "zsh":
				io.WriteString(c.App.Writer, zshCompletion)
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return failWith(exitError, fmt.Errorf("fish completion: %w", err))
				}
				// ToFishCompletion names the program after App.Name, which is
				// "oc mosc" when run as a plugin; fish needs the binary name.
				io.WriteString(c.App.Writer, strings.ReplaceAll(script, "complete -c "+c.App.Name+" ", "complete -c mosc "))
			case "":
				return failWith(exitError, fmt.Errorf("completion: name a shell: bash, zsh or fish"))
			default:
				return failWith(exitError, fmt.Errorf("completion: unknown shell %q; known: bash, zsh, fish", shell))
			}
			return nil
		},
	}
}
