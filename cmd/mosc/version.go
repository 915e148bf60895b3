package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=…" (see Makefile).
var version = ""

// buildVersion falls back to the module version recorded by `go install`,
// read once: debug.ReadBuildInfo parses the build info of every module in
// the binary, and a render asks twice (the app, the files' header).
func buildVersion() string {
	if version != "" {
		return version
	}
	moduleVersionOnce.Do(func() {
		moduleVersion = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			moduleVersion = bi.Main.Version
		}
	})
	return moduleVersion
}

var (
	moduleVersionOnce sync.Once
	moduleVersion     string
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the mosc version",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: text or json", Value: "text"},
		},
		Action: func(c *cli.Context) error {
			info := map[string]string{"version": buildVersion(), "go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH}
			switch c.String("output") {
			case "json":
				b, _ := json.MarshalIndent(info, "", "  ")
				fmt.Fprintln(c.App.Writer, string(b))
			case "text", "":
				fmt.Fprintf(c.App.Writer, "mosc %s (%s, %s)\n", info["version"], info["go"], info["platform"])
			default:
				return failWith(exitError, fmt.Errorf("--output: unknown format %q; known: text, json", c.String("output")))
			}
			return nil
		},
	}
}
