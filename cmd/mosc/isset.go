package main

import (
	"sync"

	"github.com/urfave/cli/v2"
)

// isSet is c.IsSet(name) without most of its cost. urfave/cli's IsSet, for
// a flag not given on the command line, finds the flag by calling Names()
// on every flag before it, and each Names() runs a regexp per name
// (cli.FlagNames): the render path's IsSet calls took about 1.3% of a
// render process (perf; issue 15). A flag can only be set if its name or
// one of its aliases was given on the command line, or the flag was set
// from its environment variable, and c.FlagNames() lists exactly those
// names without that scan. So: when none of the names of the flags called
// name is among them, the answer is false; otherwise c.IsSet decides.
// TestIsSetMatchesUrfave holds the two equal for every flag of every command.
func isSet(c *cli.Context, name string) bool {
	set, ok := setFlagNames(c)
	if !ok {
		return c.IsSet(name)
	}
	if set[name] {
		return c.IsSet(name)
	}
	for _, n := range relatedNames(c)[name] {
		if set[n] {
			return c.IsSet(name)
		}
	}
	return false
}

// setFlagNames lists the names given on the command line or set from the
// environment in c and its parents (c.FlagNames, plus the app's flags). ok
// is false when that cannot be read (urfave/cli panics on a context without
// a flag set); isSet then asks c.IsSet. The list is kept for the context
// until the number of flags set in its lineage changes (c.Set).
func setFlagNames(c *cli.Context) (set map[string]bool, ok bool) {
	defer func() {
		if recover() != nil {
			set, ok = nil, false
		}
	}()
	n := 0
	for _, ctx := range c.Lineage() {
		n += ctx.NumFlags()
	}
	setCache.Lock()
	defer setCache.Unlock()
	if setCache.ctx == c && setCache.n == n {
		return setCache.set, true
	}
	set = map[string]bool{}
	for _, name := range c.FlagNames() {
		set[name] = true
	}
	for _, f := range appFlags(c) {
		if f.IsSet() {
			for _, name := range f.Names() {
				set[name] = true
			}
		}
	}
	setCache.ctx, setCache.n, setCache.set = c, n, set
	return set, true
}

var setCache struct {
	sync.Mutex
	ctx *cli.Context // held, so its address cannot be reused while cached
	n   int
	set map[string]bool
}

func appFlags(c *cli.Context) []cli.Flag {
	if c.App == nil {
		return nil
	}
	return c.App.Flags
}

// related maps every flag name of a context's commands (and the app) to all
// the names of the flags that carry it. Computed once per context: flag
// names do not change while a command runs. (A flag defined only in the
// flag set, as tests build contexts, has no entry: isSet checks name itself.)
var related struct {
	sync.Mutex
	ctx   *cli.Context // held, so its address cannot be reused while cached
	names map[string][]string
}

func relatedNames(c *cli.Context) map[string][]string {
	related.Lock()
	defer related.Unlock()
	if related.ctx == c {
		return related.names
	}
	m := map[string][]string{}
	add := func(flags []cli.Flag) {
		for _, f := range flags {
			names := f.Names()
			for _, n := range names {
				m[n] = append(m[n], names...)
			}
		}
	}
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil {
			add(ctx.Command.Flags)
		}
	}
	add(appFlags(c))
	related.ctx, related.names = c, m
	return m
}
