package main

import (
	"github.com/urfave/cli/v2"
)

// urfave/cli looks flags up by scanning a command's flags and calling
// Names() on each, and every Names() runs a regexp per name
// (cli.FlagNames). Command.Run checks every flag of the command that way
// (runFlagActions calls c.IsSet for each flag, and IsSet scans the flags
// before it): for render's ~40 flags, ~450 regexp runs, 1.8 M instructions
// or 5.7% of a walkthrough render (callgrind; issue 15). The flags of the
// command being run are therefore wrapped in types whose Names() computes
// the same cli.FlagNames once. Everything else (Apply, String for --help,
// IsSet, RunAction, the Get* methods) is the embedded flag's own.
//
// Only the command being run is wrapped, in run(), after shell completion
// and never for `mosc completion`: urfave/cli's fish generator and mosc's
// completion switch on the concrete flag types. usageError unwraps.

type namesCache struct{ names []string }

func (n *namesCache) get(name string, aliases []string) []string {
	if n.names == nil {
		n.names = cli.FlagNames(name, aliases)
	}
	return n.names
}

type wrappedString struct {
	*cli.StringFlag
	n namesCache
}

func (f *wrappedString) Names() []string { return f.n.get(f.Name, f.Aliases) }

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
