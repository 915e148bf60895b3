// Command renderfloor links only the packages `mosc render` needs (render,
// bundle, profile) and exits: its start-up is what a render-only binary
// would pay before main, the floor against which `mosc version` (the
// single binary, cluster clients included) is compared in
// bench/render-bench.sh (issue 15: start-up is the gap to butane).
package main

import (
	"os"

	_ "github.com/mosc-dev/mosc/internal/bundle"
	_ "github.com/mosc-dev/mosc/internal/profile"
	_ "github.com/mosc-dev/mosc/internal/render"
)

func main() { os.Exit(0) }
