// Package templates embeds the manifest templates mosc renders a plan into.
// Each *.yaml.tmpl renders one object (text/template + sprig without
// environment, clock or random functions; missingkey=error). The renderer
// decides which templates apply and in what order (internal/render), parses
// every result strictly into its real Go type, and re-serialises it with
// sorted keys, so templates only need to be valid YAML, not pretty.
// Scalars go through toJson so any string is safely quoted.
package templates

import "embed"

// FS holds the templates, named <object>.yaml.tmpl.
//
//go:embed *.yaml.tmpl
var FS embed.FS
