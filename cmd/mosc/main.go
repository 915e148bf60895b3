// Command mosc renders, applies, watches and gates OpenShift On-Cluster
// Layering of NVIDIA OVS-DOCA from versioned profiles.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	// Grows the main goroutine's stack during early init (see the package).
	_ "github.com/mosc-dev/mosc/internal/growstack"
	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/profile"
)

// Exit codes, documented in README.
const (
	exitOK      = 0
	exitFailure = 1 // a check failed, a diff was found, a build/rollout failed
	exitError   = 2 // usage error, bad input, cannot reach the cluster
)

// commandFactories lists each command's name and constructor, sorted by
// name (the order --help lists them; TestCommandFactories checks both).
// Factories, not values: urfave/cli keeps parse state in a Command, and tests
// run the app many times in one process. A literal list, not init() in each
// file: a slice of functions is laid out by the linker, while each init() ran
// at start-up and faulted in its file's 64 KB of code even for commands not
// run (issue 15: page faults are the start-up cost here). The names let run()
// build only the command it runs (see onlyCommand).
var commandFactories = []struct {
	name string
	new  func() *cli.Command
}{
	{"apply", applyCommand}, {"build", buildCommand}, {"completion", completionCommand},
	{"diff", diffCommand}, {"gate", gateCommand}, {"init", initCommand},
	{"profiles", profilesCommand}, {"prune", pruneCommand}, {"rebuild", rebuildCommand},
	{"remove", removeCommand}, {"render", renderCommand}, {"status", statusCommand},
	{"validate", validateCommand}, {"verify", verifyCommand}, {"version", versionCommand},
	{"watch", watchCommand},
}

// exitErr carries an exit code through urfave/cli.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitErr) Unwrap() error { return e.err }

// failWith returns an error that makes mosc exit with code (message may be nil
// when the command already printed what it had to say).
func failWith(code int, err error) error { return &exitErr{code: code, err: err} }

// newApp is the whole command tree.
func newApp(stdout, stderr io.Writer) *cli.App {
	commands := make([]*cli.Command, 0, len(commandFactories))
	for _, f := range commandFactories {
		commands = append(commands, f.new())
	}
	return appWith(commands, stdout, stderr)
}

// appWith is the app with these commands (sorted by name).
func appWith(commands []*cli.Command, stdout, stderr io.Writer) *cli.App {
	name := "mosc"
	// Installed as oc-mosc / kubectl-mosc, the binary runs as an oc/kubectl plugin.
	if base := filepath.Base(os.Args[0]); strings.HasPrefix(base, "oc-") || strings.HasPrefix(base, "kubectl-") {
		name = strings.SplitN(base, "-", 2)[0] + " mosc"
	}
	setUsageErrors(commands)
	return &cli.App{
		Name:    name,
		Version: buildVersion(),
		// A bad flag must not print the help to stdout: `mosc render --opneshift
		// 4.20 > bundle.yaml` wrote the help text into bundle.yaml.
		OnUsageError: usageError,
		Usage:        "OpenShift On-Cluster Layering of NVIDIA OVS-DOCA, from versioned profiles",
		Description: `mosc turns a few lines of intent ("DOCA 3.3 OVS on the worker pool of my 4.20
cluster") into everything On-Cluster Layering needs: render the manifests into git,
apply them to a cluster, watch the build and rollout until doca_initialized=true on
every node, gate upgrades in a pipeline, and diff what changes between releases.

Exit codes: 0 success; 1 a check failed, differences found, or a build/rollout failed;
2 usage error, bad input or cluster unreachable.`,
		Commands:               commands,
		EnableBashCompletion:   true,
		UseShortOptionHandling: true,
		ExitErrHandler:         func(*cli.Context, error) {}, // main decides the exit code
		Writer:                 stdout,
		ErrWriter:              stderr,
	}
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	var app *cli.App
	if only := onlyCommand(args); only != nil && buildOnlyRun {
		app = appWith([]*cli.Command{only()}, stdout, stderr)
		defer wrapHelpVersionFlags()()
	} else {
		app = newApp(stdout, stderr)
	}
	if n := len(args); n > 1 && args[n-1] == completionFlag {
		completeArgs(app, args[1:n-1], stdout)
		return exitOK
	}
	args, err := interspersed(app, args)
	if err != nil {
		printError(stderr, err)
		return exitError
	}
	wrapRunFlags(app, args)
	err = app.Run(args)
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(stderr, ee.err)
		}
		return ee.code
	}
	printError(stderr, err)
	return exitError
}

// buildOnlyRun is off in the test that runs command lines both ways.
var buildOnlyRun = true

// onlyCommand returns the constructor of the command args run when nothing
// on the command line can need the other commands, nil otherwise. Building
// all sixteen (their hundreds of flags, each constructor's code faulted in)
// and setting them up in urfave/cli was most of mosc's own start-up work
// outside a command's action (issue 15). The rest of the tree is needed by
// the top-level help and `help X` (they list or look up commands), an
// unknown command (its error lists them), shell completion (candidates,
// and the fish script generated from the tree), and anything urfave/cli
// might read as a help flag; when in doubt this returns nil: the whole tree
// behaves the same, only slower.
func onlyCommand(args []string) func() *cli.Command {
	if len(args) < 2 || args[1] == "completion" {
		return nil
	}
	var only func() *cli.Command
	for _, f := range commandFactories {
		if f.name == args[1] {
			only = f.new
		}
	}
	if only == nil {
		return nil
	}
	for _, a := range args[2:] {
		if a == "help" || a == "h" || a == completionFlag || mayAskHelp(a) {
			return nil
		}
	}
	return only
}

// mayAskHelp reports whether urfave/cli could read arg as -h or --help:
// -h, -help, --help (with or without =value), or a single-dash cluster that
// short-option handling could split into flags one of which is h (-oh).
func mayAskHelp(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	if name == "help" || name == "h" {
		return true
	}
	return arg[1] != '-' && strings.Contains(name, "h")
}

// printError prefixes every line, so each finding of a multi-error reads alone
// (and grep "^error:" finds them all in a CI log).
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "error: %s\n", line)
	}
}

// interspersed moves the flags of the command line before its positional
// arguments, as oc and kubectl accept them. urfave/cli stops parsing flags at
// the first positional argument, so `mosc remove worker --dry-run=client`
// used to ignore --dry-run and delete for real, and `mosc validate DIR
// --strict` failed. Everything after "--" stays positional.
func interspersed(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	out := []string{args[0]}
	path := []string{app.Name}
	subcommands, flags := app.Commands, app.Flags
	var byName map[string]cli.Flag // flags by name, built on first use
	var pending, positional []string
	i := 1
	for ; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			break
		}
		if strings.HasPrefix(arg, "-") && arg != "-" {
			pending = append(pending, arg)
			name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
			if byName == nil {
				byName = flagsByName(flags)
			}
			if f := byName[name]; f != nil && !hasValue && flagTakesValue(f) && i+1 < len(args) {
				i++
				pending = append(pending, args[i])
			}
			continue
		}
		if len(positional) == 0 {
			if sub := findCommand(subcommands, arg); sub != nil {
				// Flags seen so far belong to the parent command.
				out = append(append(out, pending...), arg)
				pending, subcommands, flags, byName = nil, sub.Subcommands, sub.Flags, nil
				path = append(path, sub.Name)
				continue
			}
			if len(subcommands) > 0 {
				if arg == "help" || arg == "h" {
					return args, nil // urfave/cli's help command
				}
				var names []string
				for _, c := range subcommands {
					names = append(names, c.Name)
				}
				return nil, fmt.Errorf("unknown command %q for %q; commands: %s (see %s --help)", arg, strings.Join(path, " "), strings.Join(names, ", "), strings.Join(path, " "))
			}
		}
		positional = append(positional, arg)
	}
	out = append(out, pending...)
	if len(positional) > 0 || i < len(args) {
		// "--" keeps urfave/cli from reading a positional "-x" as a flag.
		out = append(append(out, "--"), positional...)
		if i < len(args) {
			out = append(out, args[i+1:]...)
		}
	}
	return out, nil
}

// setUsageErrors makes every command report a bad flag as a one-line error
// on stderr (exit 2) instead of urfave/cli's help text on stdout.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = usageError
		setUsageErrors(c.Subcommands)
	}
}

func usageError(c *cli.Context, err error, _ bool) error {
	where := c.App.Name
	flags := c.App.Flags
	if path := commandPath(c); path != "" {
		where += " " + path
		flags = c.Command.Flags
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		msg = "unknown flag " + dashed(name)
		if s := closestFlag(flags, name); s != "" && len(name) > 2 {
			msg += "; did you mean " + dashed(s) + "?"
		}
	} else if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		msg = dashed(strings.TrimLeft(name, "-")) + " needs a value"
	} else if m := invalidValueRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("%s: invalid value %s", dashed(m[2]), m[1])
		switch unwrapFlag(findFlag(flags, m[2])).(type) {
		case *cli.DurationFlag:
			msg += ": want a duration such as 720h, 90m or 30s"
		case *cli.IntFlag:
			msg += ": want a whole number"
		case *cli.BoolFlag:
			msg += ": want true or false"
		}
	}
	return failWith(exitError, fmt.Errorf("%s (see %s --help)", msg, where))
}

var invalidValueRE = lazyre.New(`^invalid value (".*") for flag -+([^:]+): `)

// commandPath is "profiles show" for a subcommand, "render" for a command,
// "" at the top level.
func commandPath(c *cli.Context) string {
	var names []string
	for _, l := range c.Lineage() {
		if l.Command != nil && l.Command.Name != "" {
			names = append([]string{l.Command.Name}, names...)
		}
	}
	if len(names) > 0 && names[0] == c.App.Name {
		names = names[1:] // the root command is named after the app
	}
	return strings.Join(names, " ")
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// closestFlag suggests the flag a typo meant: the nearest name within an
// edit distance of a third of its length (at least 1).
func closestFlag(flags []cli.Flag, typo string) string {
	best, bestDist := "", 0
	for _, f := range flags {
		for _, n := range namesOf(f) {
			d := profile.EditDistance(typo, n)
			limit := len(n) / 3
			if limit < 1 {
				limit = 1
			}
			if d <= limit && (best == "" || d < bestDist) {
				best, bestDist = n, d
			}
		}
	}
	return best
}
