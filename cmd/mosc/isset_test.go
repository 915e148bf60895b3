package main

import (
	"flag"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestIsSetMatchesUrfave runs every command with each of its flags given by
// name, by alias, from its environment variable, and with none, and checks
// that isSet agrees with urfave/cli's c.IsSet for every flag name in reach.
func TestIsSetMatchesUrfave(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	type leaf struct {
		path []string
		cmd  *cli.Command
	}
	var leaves []leaf
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string{}, path...), c.Name)
			leaves = append(leaves, leaf{p, c})
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app.Commands)

	value := func(f cli.Flag) []string {
		switch f.(type) {
		case *cli.BoolFlag:
			return nil
		case *cli.IntFlag, *cli.Float64Flag:
			return []string{"1"}
		case *cli.DurationFlag:
			return []string{"1s"}
		}
		return []string{"x"}
	}
	ran, compared := 0, 0
	for _, l := range leaves {
		type run struct {
			args   []string // after the command's path
			parent []string // after the parent's name
			env    map[string]string
		}
		runs := []run{{}}
		if len(l.path) > 1 {
			for _, lp := range leaves {
				if strings.Join(lp.path, " ") != strings.Join(l.path[:len(l.path)-1], " ") {
					continue
				}
				for _, f := range lp.cmd.Flags {
					runs = append(runs, run{parent: append([]string{"--" + f.Names()[0]}, value(f)...)})
				}
			}
		}
		for _, f := range l.cmd.Flags {
			for _, n := range f.Names() {
				dash := "--"
				if len(n) == 1 {
					dash = "-"
				}
				runs = append(runs, run{args: append([]string{dash + n}, value(f)...)})
			}
			if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
				for _, e := range ev.GetEnvVars() {
					v := "x"
					if vs := value(f); len(vs) > 0 {
						v = vs[0]
					} else {
						v = "true"
					}
					runs = append(runs, run{env: map[string]string{e: v}})
				}
			}
		}
		for _, r := range runs {
			for k, v := range r.env {
				t.Setenv(k, v)
			}
			// Run twice: as urfave/cli has the flags, and with the command's
			// flags wrapped as run() wraps them (flagnames.go); c.IsSet must
			// answer the same, and isSet as c.IsSet.
			answers := [2]map[string]bool{}
			for pass := range answers {
				app := newApp(io.Discard, io.Discard)
				cmd := app.Commands[0]
				for _, c := range app.Commands {
					if c.Name == l.path[0] {
						cmd = c
					}
				}
				for _, name := range l.path[1:] {
					for _, s := range cmd.Subcommands {
						if s.Name == name {
							cmd = s
						}
					}
				}
				if pass == 1 {
					for i, f := range cmd.Flags {
						cmd.Flags[i] = wrapFlag(f)
					}
				}
				cmd.Before, cmd.After = nil, nil
				cmd.Action = func(c *cli.Context) error {
					ran++
					answers[pass] = map[string]bool{}
					for name := range relatedNames(c) {
						compared++
						got, want := isSet(c, name), c.IsSet(name)
						if got != want {
							t.Errorf("mosc %s %s %s (env %v): isSet(%q) = %v, c.IsSet = %v", strings.Join(r.parent, " "), strings.Join(l.path, " "), strings.Join(r.args, " "), r.env, name, got, want)
						}
						answers[pass][name] = want
					}
					return nil
				}
				args := append([]string{"mosc"}, l.path[:len(l.path)-1]...)
				args = append(append(args, r.parent...), l.path[len(l.path)-1])
				_ = app.Run(append(args, r.args...))
			}
			if !reflect.DeepEqual(answers[0], answers[1]) {
				t.Errorf("mosc %s %s (env %v): c.IsSet with wrapped flags %v, without %v", strings.Join(l.path, " "), strings.Join(r.args, " "), r.env, answers[1], answers[0])
			}
			for k := range r.env {
				os.Unsetenv(k) // t.Setenv restores it when the test ends
			}
		}
	}
	// Some runs stop at a flag's own check of the value "x"; most must get
	// through, with the flag set.
	if ran < 400 || compared < 10000 {
		t.Fatalf("only %d command runs, %d comparisons", ran, compared)
	}
	t.Logf("%d command runs, %d comparisons", ran, compared)
}

// TestIsSetBareFlagSet covers contexts built from a flag set alone (as unit
// tests of flag handling build them): no command lists the flags.
func TestIsSetBareFlagSet(t *testing.T) {
	for _, args := range [][]string{nil, {"--token-ttl", "1h"}, {"--push-credential=token"}, {"--token-ttl", "1h", "--push-credential", "x"}} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("token-ttl", "", "")
		fs.String("push-credential", "", "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		c := cli.NewContext(cli.NewApp(), fs, nil)
		for _, n := range []string{"token-ttl", "push-credential", "absent"} {
			if got, want := isSet(c, n), c.IsSet(n); got != want {
				t.Errorf("%q: isSet(%q) = %v, c.IsSet = %v", args, n, got, want)
			}
		}
		// A flag set later (c.Set) counts: the cached names are read again.
		if err := c.Set("push-credential", "token"); err != nil {
			t.Fatal(err)
		}
		if !isSet(c, "push-credential") {
			t.Errorf("%q: isSet after c.Set = false", args)
		}
	}
}
