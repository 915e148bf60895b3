package main

import (
	"flag"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli looks flags up by scanning a command's flags and calling
// Names() on each, and every Names() runs a regexp per name
// (cli.FlagNames). Command.Run checks every flag of the command that way
// (runFlagActions calls c.IsSet for each flag, and IsSet scans the flags
// before it): for render's ~40 flags, ~450 regexp runs, 1.8 M instructions
// or 5.7% of a walkthrough render (callgrind; issue 15). The flags of the
// command being run are therefore wrapped in types whose Names() computes
// the same names once, without the regexp (plainFlagNames). Everything else (Apply, String for --help,
// IsSet, RunAction, the Get* methods) is the embedded flag's own.
//
// Only the command being run is wrapped, in run(), after shell completion
// and never for `mosc completion`: urfave/cli's fish generator and mosc's
// completion switch on the concrete flag types. usageError unwraps.

type namesCache struct{ names []string }

func (n *namesCache) get(name string, aliases []string) []string {
	if n.names == nil {
		n.names = plainFlagNames(name, aliases)
	}
	return n.names
}

// plainFlagNames is cli.FlagNames(name, aliases) without its regexp (about 4,000
// instructions a name): FlagNames cuts each name at its first comma or space
// (a guard against urfave/cli v1's "name, n" form), so a name with neither,
// which is every mosc flag, comes back as it is. Anything else takes
// FlagNames itself. TestFlagNamesWithoutRegexp compares the two on every flag.
func plainFlagNames(name string, aliases []string) []string {
	if strings.ContainsAny(name, ", ") {
		return cli.FlagNames(name, aliases)
	}
	out := make([]string, 1, 1+len(aliases))
	out[0] = name
	for _, a := range aliases {
		if strings.ContainsAny(a, ", ") {
			return cli.FlagNames(name, aliases)
		}
		out = append(out, a)
	}
	return out
}

// namesOf is f.Names() (see plainFlagNames); mosc's own look-ups call it.
func namesOf(f cli.Flag) []string {
	switch t := f.(type) {
	case *cli.StringFlag:
		return plainFlagNames(t.Name, t.Aliases)
	case *cli.BoolFlag:
		return plainFlagNames(t.Name, t.Aliases)
	case *cli.StringSliceFlag:
		return plainFlagNames(t.Name, t.Aliases)
	case *cli.DurationFlag:
		return plainFlagNames(t.Name, t.Aliases)
	case *cli.IntFlag:
		return plainFlagNames(t.Name, t.Aliases)
	case *cli.Float64Flag:
		return plainFlagNames(t.Name, t.Aliases)
	}
	return f.Names() // the wrapped flags (cached), and any other type
}

type wrappedString struct {
	*cli.StringFlag
	n namesCache
}

func (f *wrappedString) Names() []string { return f.n.get(f.Name, f.Aliases) }

// Apply is cli.StringFlag.Apply with the names above: the embedded flag's
// Apply calls its own Names(), the regexp once per name (~4 K instructions
// each, 20 string flags in a render). For a flag that reads no environment
// variable or file, that Apply only registers each name with the value and
// usage (and records the value as the default for --help, which is Value
// itself when nothing else sets it). Any other flag takes urfave/cli's own.
func (f *wrappedString) Apply(set *flag.FlagSet) error {
	if len(f.EnvVars) > 0 || f.FilePath != "" {
		return f.StringFlag.Apply(set)
	}
	for _, name := range f.Names() {
		if f.Destination != nil {
			set.StringVar(f.Destination, name, f.Value, f.Usage)
			continue
		}
		set.String(name, f.Value, f.Usage)
	}
	return nil
}

type wrappedBool struct {
	*cli.BoolFlag
	n namesCache
}

func (f *wrappedBool) Names() []string { return f.n.get(f.Name, f.Aliases) }

type wrappedStringSlice struct {
	*cli.StringSliceFlag
	n namesCache
}

func (f *wrappedStringSlice) Names() []string { return f.n.get(f.Name, f.Aliases) }

type wrappedDuration struct {
	*cli.DurationFlag
	n namesCache
}

func (f *wrappedDuration) Names() []string { return f.n.get(f.Name, f.Aliases) }

type wrappedInt struct {
	*cli.IntFlag
	n namesCache
}

func (f *wrappedInt) Names() []string { return f.n.get(f.Name, f.Aliases) }

type wrappedFloat64 struct {
	*cli.Float64Flag
	n namesCache
}

func (f *wrappedFloat64) Names() []string { return f.n.get(f.Name, f.Aliases) }

// wrapFlag returns f wrapped, or f itself for other flag types.
func wrapFlag(f cli.Flag) cli.Flag {
	switch t := f.(type) {
	case *cli.StringFlag:
		return &wrappedString{StringFlag: t}
	case *cli.BoolFlag:
		return &wrappedBool{BoolFlag: t}
	case *cli.StringSliceFlag:
		return &wrappedStringSlice{StringSliceFlag: t}
	case *cli.DurationFlag:
		return &wrappedDuration{DurationFlag: t}
	case *cli.IntFlag:
		return &wrappedInt{IntFlag: t}
	case *cli.Float64Flag:
		return &wrappedFloat64{Float64Flag: t}
	}
	return f
}

// wrapHelpVersionFlags wraps urfave/cli's global --help and --version flags
// (every command's parse, flag actions and help check call their Names()
// again, ~23 regexp runs a render) until the returned func restores them.
// run() does it only for a command that shows no help (onlyCommand), as
// Command.Flags are: --help output and completion see the originals.
func wrapHelpVersionFlags() (restore func()) {
	help, version := cli.HelpFlag, cli.VersionFlag
	if f, ok := help.(*cli.BoolFlag); ok {
		cli.HelpFlag = &wrappedBool{BoolFlag: f}
	}
	if f, ok := version.(*cli.BoolFlag); ok {
		cli.VersionFlag = &wrappedBool{BoolFlag: f}
	}
	return func() { cli.HelpFlag, cli.VersionFlag = help, version }
}

// unwrapFlag is the flag wrapFlag wrapped (f itself if it was not).
func unwrapFlag(f cli.Flag) cli.Flag {
	switch t := f.(type) {
	case *wrappedString:
		return t.StringFlag
	case *wrappedBool:
		return t.BoolFlag
	case *wrappedStringSlice:
		return t.StringSliceFlag
	case *wrappedDuration:
		return t.DurationFlag
	case *wrappedInt:
		return t.IntFlag
	case *wrappedFloat64:
		return t.Float64Flag
	}
	return f
}

// wrapRunFlags wraps the flags of the command args (as interspersed
// returns them) runs, in place; app must be a fresh newApp.
func wrapRunFlags(app *cli.App, args []string) {
	var cmd *cli.Command
	cmds := app.Commands
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if len(a) > 0 && a[0] == '-' {
			continue // flags (and their values, which name no command here)
		}
		sub := findCommand(cmds, a)
		if sub == nil {
			break
		}
		cmd, cmds = sub, sub.Subcommands
	}
	if cmd == nil || cmd.Name == "completion" {
		return
	}
	flags := make([]cli.Flag, len(cmd.Flags))
	for i, f := range cmd.Flags {
		flags[i] = wrapFlag(f)
	}
	cmd.Flags = flags
}

// flagsSet returns c.IsSet for many look-ups: IsSet sorts the flags set on
// the command line twice per call (flag.FlagSet.Visit, for the name and
// again for its aliases), ~5.7 K instructions, and a render asks about 23
// names (issue 15). The returned func reads one c.LocalFlagNames() (the
// names set on the command line, every alias included, and every name of a
// flag set from its environment variable), which answers IsSet exactly for
// the flags of c's own command: their flag set is c's, and IsSet is true
// when one of the first flag with the name's names was set or that flag
// says IsSet(). Any other name (a parent command's flag, or none) takes
// c.IsSet itself. TestFlagsSetIsIsSet compares the two.
func flagsSet(c *cli.Context) func(name string) bool {
	if c.Command == nil {
		return c.IsSet
	}
	given := map[string]bool{}
	for _, n := range c.LocalFlagNames() {
		given[n] = true
	}
	return func(name string) bool {
		for _, f := range c.Command.Flags {
			names := namesOf(f)
			if !slices.Contains(names, name) {
				continue
			}
			for _, n := range names {
				if given[n] {
					return true
				}
			}
			return false
		}
		return c.IsSet(name)
	}
}
