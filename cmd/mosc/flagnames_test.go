package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestWrappedFlags: a wrapped flag has the same names, help line and
// interfaces as the flag it wraps, for every flag of every command, and
// unwrapFlag gives the flag back.
func TestWrappedFlags(t *testing.T) {
	all := allFlags(newApp(io.Discard, io.Discard))
	wrapped := 0
	for _, f := range all {
		w := wrapFlag(f)
		if w == f {
			t.Logf("not wrapped: %T %s", f, f.Names()[0])
			continue
		}
		wrapped++
		if unwrapFlag(w) != f {
			t.Errorf("%s: unwrapFlag does not give the flag back", f.Names()[0])
		}
		if !reflect.DeepEqual(w.Names(), f.Names()) || !reflect.DeepEqual(w.Names(), f.Names()) /* cached */ {
			t.Errorf("%s: names %q, want %q", f.Names()[0], w.Names(), f.Names())
		}
		if fmt.Sprint(w) != fmt.Sprint(f) || w.String() != f.String() {
			t.Errorf("%s: help line %q, want %q", f.Names()[0], fmt.Sprint(w), fmt.Sprint(f))
		}
		for _, iface := range []reflect.Type{
			reflect.TypeFor[cli.DocGenerationFlag](), reflect.TypeFor[cli.DocGenerationSliceFlag](),
			reflect.TypeFor[cli.VisibleFlag](), reflect.TypeFor[cli.RequiredFlag](),
			reflect.TypeFor[cli.CategorizableFlag](), reflect.TypeFor[cli.ActionableFlag](),
			reflect.TypeFor[cli.Countable](), reflect.TypeFor[fmt.Stringer](),
		} {
			if reflect.TypeOf(w).Implements(iface) != reflect.TypeOf(f).Implements(iface) {
				t.Errorf("%s: %T implements %v: %v, %T: %v", f.Names()[0], w, iface, reflect.TypeOf(w).Implements(iface), f, reflect.TypeOf(f).Implements(iface))
			}
		}
	}
	if wrapped < len(all)*9/10 {
		t.Errorf("only %d of %d flags wrapped", wrapped, len(all))
	}
}

// TestRunWrapsOnlyTheCommandRun: run() wraps the running command's flags
// (so urfave/cli's per-flag look-ups do not run regexps), and the command
// still sees its flags (here, a bad duration's error names the flag kind).
func TestRunWrapsOnlyTheCommandRun(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"mosc", "watch", "--timeout", "soon"}, io.Discard, &stderr); code != exitError {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "want a duration") {
		t.Errorf("usage error lost the flag's kind: %s", stderr.String())
	}
	app := newApp(io.Discard, io.Discard)
	wrapRunFlags(app, []string{"mosc", "render", "--openshift", "4.20", "watch"})
	for _, c := range app.Commands {
		for _, f := range c.Flags {
			if isWrapped := unwrapFlag(f) != f; isWrapped != (c.Name == "render") {
				t.Errorf("%s --%s: wrapped=%v", c.Name, f.Names()[0], isWrapped)
			}
		}
	}
	app = newApp(io.Discard, io.Discard)
	wrapRunFlags(app, []string{"mosc", "completion", "fish"})
	for _, c := range app.Commands {
		for _, f := range c.Flags {
			if unwrapFlag(f) != f {
				t.Errorf("%s --%s wrapped for completion", c.Name, f.Names()[0])
			}
		}
	}
}

// flagsSet(c) answers every name as c.IsSet does: the render command's
// flags plus the cluster flags (--kubeconfig reads $KUBECONFIG), wrapped as
// run() wraps them and not, under a parent command with a flag of its own.
func TestFlagsSetIsIsSet(t *testing.T) {
	lines := [][]string{
		nil,
		{"-o", "out"},
		{"--output=out", "--format", "json"},
		{"--internal-registry", "--stack", "a", "--stack", "b", "--pool", ""},
		{"--internal-registry=false", "--fleet", "f.yaml", "--for", "argocd"},
		{"--all", "--openshift", "4.20", "--kubeconfig", "k"},
		{"-f", "mosc.yaml", "--push-spec", "q", "--secrets", "none", "--profiles", "p"},
	}
	for _, env := range []string{"", "/env/kubeconfig"} {
		for _, wrap := range []bool{false, true} {
			for _, line := range lines {
				if env != "" {
					t.Setenv("KUBECONFIG", env)
				}
				flags := append(renderCommand().Flags, clusterFlags()...)
				var names []string
				for _, f := range flags {
					names = append(names, namesOf(f)...)
				}
				names = append(names, "parent-flag", "no-such-flag", "help", "h")
				if wrap {
					for i, f := range flags {
						flags[i] = wrapFlag(f)
					}
				}
				ran := false
				cmd := &cli.Command{Name: "render", Flags: flags, Action: func(c *cli.Context) error {
					ran = true
					isSet := flagsSet(c)
					for _, n := range names {
						if got, want := isSet(n), c.IsSet(n); got != want {
							t.Errorf("KUBECONFIG=%q wrapped=%v %q: flagsSet(%q) = %v, IsSet %v", env, wrap, line, n, got, want)
						}
					}
					return nil
				}}
				parent := &cli.Command{Name: "top", Flags: []cli.Flag{&cli.BoolFlag{Name: "parent-flag"}}, Subcommands: []*cli.Command{cmd}}
				app := &cli.App{Name: "mosc", Commands: []*cli.Command{parent}, Writer: io.Discard, ErrWriter: io.Discard}
				args := append([]string{"mosc", "top", "--parent-flag", "render"}, line...)
				if err := app.Run(args); err != nil || !ran {
					t.Fatalf("%q: %v (ran %v)", args, err, ran)
				}
			}
		}
	}
}

// A wrapped string flag's Apply registers what cli.StringFlag.Apply does
// (names, default, usage; --kubeconfig's $KUBECONFIG included), and its
// help line after Apply is the same, for every string flag of every command.
func TestWrappedStringApply(t *testing.T) {
	for _, env := range []string{"", "/env/kubeconfig"} {
		t.Setenv("KUBECONFIG", env)
		// Two apps: Apply mutates a flag, so the wrapped one must not share it.
		orig, fresh := allFlags(newApp(io.Discard, io.Discard)), allFlags(newApp(io.Discard, io.Discard))
		n := 0
		for i, f := range orig {
			if _, ok := f.(*cli.StringFlag); !ok {
				continue
			}
			n++
			w := wrapFlag(fresh[i])
			want, got := flag.NewFlagSet("want", flag.ContinueOnError), flag.NewFlagSet("got", flag.ContinueOnError)
			if err := f.Apply(want); err != nil {
				t.Fatal(err)
			}
			if err := w.Apply(got); err != nil {
				t.Fatal(err)
			}
			var ws, gs []string
			want.VisitAll(func(x *flag.Flag) { ws = append(ws, fmt.Sprintf("%s %q %q %q", x.Name, x.Usage, x.DefValue, x.Value)) })
			got.VisitAll(func(x *flag.Flag) { gs = append(gs, fmt.Sprintf("%s %q %q %q", x.Name, x.Usage, x.DefValue, x.Value)) })
			if !reflect.DeepEqual(gs, ws) {
				t.Errorf("KUBECONFIG=%q %s: registered %q, want %q", env, f.Names()[0], gs, ws)
			}
			if fmt.Sprint(w) != fmt.Sprint(f) {
				t.Errorf("KUBECONFIG=%q %s: help line after Apply %q, want %q", env, f.Names()[0], fmt.Sprint(w), fmt.Sprint(f))
			}
		}
		if n < 50 {
			t.Errorf("only %d string flags", n)
		}
	}
}

// allFlags lists the flags of every command and subcommand of app, in
// tree order.
func allFlags(app *cli.App) []cli.Flag {
	var all []cli.Flag
	var walk func(cmds []*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			all = append(all, c.Flags...)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	return all
}
