package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// commandFactories names each command as its constructor does, in order
// (the order --help lists them), and no command has an alias onlyCommand
// would not know.
func TestCommandFactories(t *testing.T) {
	var names []string
	for _, f := range commandFactories {
		c := f.new()
		if c.Name != f.name || len(c.Aliases) > 0 {
			t.Errorf("commandFactories entry %q builds command %q (aliases %v)", f.name, c.Name, c.Aliases)
		}
		names = append(names, f.name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("commandFactories not sorted by name: %v", names)
	}
}

func TestOnlyCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		only string // "" for the whole tree
	}{
		{[]string{"mosc"}, ""},
		{[]string{"mosc", "render", "--openshift", "4.20", "-o", "dir"}, "render"},
		{[]string{"mosc", "version"}, "version"},
		{[]string{"mosc", "profiles", "list"}, "profiles"},
		{[]string{"mosc", "validate", "dir", "--strict"}, "validate"},
		{[]string{"mosc", "completion", "bash"}, ""},
		{[]string{"mosc", "help", "render"}, ""},
		{[]string{"mosc", "h", "render"}, ""},
		{[]string{"mosc", "rendr"}, ""},
		{[]string{"mosc", "--version"}, ""},
		{[]string{"mosc", "--help", "render"}, ""},
		{[]string{"mosc", "render", "--help"}, ""},
		{[]string{"mosc", "render", "-h"}, ""},
		{[]string{"mosc", "render", "-help"}, ""},
		{[]string{"mosc", "render", "--help=false"}, ""},
		{[]string{"mosc", "render", "-oh"}, ""},
		{[]string{"mosc", "render", "-fh=x"}, ""},
		{[]string{"mosc", "profiles", "help", "list"}, ""},
		{[]string{"mosc", "profiles", "h"}, ""},
		{[]string{"mosc", "render", "--push-spec", "h"}, ""},
		{[]string{"mosc", "render", "", "--generate-bash-completion"}, ""},
		{[]string{"mosc", "render", "--openshift", "4.20", "--generate-bash-completion", "x"}, ""},
		{[]string{"mosc", "render", "--push-spec", "x"}, "render"},
		{[]string{"mosc", "render", "-o", "-"}, "render"},
	} {
		got := ""
		if f := onlyCommand(tc.args); f != nil {
			got = f().Name
		}
		if got != tc.only {
			t.Errorf("onlyCommand(%q) builds %q, want %q", tc.args, got, tc.only)
		}
	}
}

// A command line gives the same output and exit code whether run() builds
// only its command or the whole tree: flags, usage errors with their
// suggestions, missing and bad values, arguments, subcommands.
func TestOnlyCommandSameResult(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	plan := []string{"--openshift", "4.20", "--stack", "doca-3.3", "--pool", "master", "--internal-registry", "--storage-class", "lvms-vg1"}
	lines := [][]string{
		{"version"}, {"version", "-o", "json"}, {"version", "-o", "yaml"}, {"version", "extra"}, {"version", "-v"},
		append([]string{"render"}, plan...),
		append(append([]string{"render"}, plan...), "--format", "json"),
		append(append([]string{"render"}, plan...), "-o", "out"),
		append(append([]string{"render"}, plan...), "--cluster", "c1"),
		{"render", "--opneshift", "4.20"}, {"render", "--openshift"}, {"render", "--pool", ""},
		{"render", "--format", "xml"}, {"render", "extra", "--openshift", "4.20"}, {"render", "-x"},
		{"render", "--internal-registry=maybe"}, {"render", "--fleet", "f.yaml", "--all"}, {"render", "-xo", "out"},
		{"validate", "--strict"}, {"validate", "nosuchdir"}, {"validate", "--opneshift", "4.20"},
		{"profiles"}, {"profiles", "list"}, {"profiles", "show", "doca-3.3"}, {"profiles", "show", "nosuch"},
		{"profiles", "lst"}, {"profiles", "list", "--bogus"},
		{"watch", "--timeout", "7parsecs"}, {"watch", "--timeout"}, {"status", "--kubeconfig", filepath.Join(dir, "none")},
		{"init", "--openshift", "4.20", "--pool", "worker"}, {"init", "--openshift", "4.20"},
		{"diff"}, {"gate", "--to"}, {"remove", "worker", "--dry-run=bogus"}, {"prune", "--keep", "x"},
		{"verify", "--throughput=maybe"}, {"build", "--bogus"}, {"apply", "--yes=maybe"}, {"rebuild", "--pol", "worker"},
	}
	for _, args := range lines {
		if onlyCommand(append([]string{"mosc"}, args...)) == nil {
			t.Errorf("%q: runs the whole tree; this test wants lines that build one command", args)
			continue
		}
		var got [2][3]string
		for i, only := range []bool{true, false} {
			buildOnlyRun = only
			os.RemoveAll(filepath.Join(dir, "out"))
			os.Remove(filepath.Join(dir, "mosc.yaml"))
			out, errOut, code := runCLI(t, args...)
			got[i] = [3]string{out, errOut, strconv.Itoa(code)}
		}
		buildOnlyRun = true
		if got[0] != got[1] {
			t.Errorf("%q: one command built:\n%q\nthe whole tree:\n%q", args, got[0], got[1])
		}
	}
}

func chdir(t *testing.T, dir string) {
	t.Helper()
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(old) })
}

// namesOf (and the wrappers' cache) give what urfave/cli's Names() gives,
// for every flag of every command and subcommand and the global --help and
// --version, and plainFlagNames agrees with cli.FlagNames where FlagNames
// cuts a name.
func TestFlagNamesWithoutRegexp(t *testing.T) {
	var walk func([]*cli.Command)
	check := func(where string, f cli.Flag) {
		want := f.Names()
		if got := namesOf(f); !slices.Equal(got, want) {
			t.Errorf("%s: namesOf %q, Names() %q", where, got, want)
		}
		if got := wrapFlag(f).Names(); !slices.Equal(got, want) {
			t.Errorf("%s: wrapped Names() %q, want %q", where, got, want)
		}
	}
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				check(c.Name, f)
			}
			walk(c.Subcommands)
		}
	}
	walk(newApp(nil, nil).Commands)
	check("help", cli.HelpFlag)
	check("version", cli.VersionFlag)
	for _, tc := range []struct {
		name    string
		aliases []string
	}{
		{"", nil}, {"a", nil}, {"output", []string{"o"}}, {"a, b", nil}, {"x y", []string{"z"}},
		{"ok", []string{"p, q"}}, {"ok", []string{"r s", "t"}}, {"tab\there", nil}, {"new\nline, x", nil},
	} {
		if got, want := plainFlagNames(tc.name, tc.aliases), cli.FlagNames(tc.name, tc.aliases); !slices.Equal(got, want) {
			t.Errorf("plainFlagNames(%q, %q) = %q, cli.FlagNames %q", tc.name, tc.aliases, got, want)
		}
	}
}

// run() restores urfave/cli's global --help and --version flags.
func TestHelpVersionFlagsRestored(t *testing.T) {
	help, version := cli.HelpFlag, cli.VersionFlag
	runCLI(t, "version")
	if cli.HelpFlag != help || cli.VersionFlag != version {
		t.Errorf("global flags not restored: %T %T", cli.HelpFlag, cli.VersionFlag)
	}
	if !strings.Contains(strings.Join(cli.HelpFlag.Names(), ","), "help") {
		t.Errorf("HelpFlag names %q", cli.HelpFlag.Names())
	}
}
