// Package layers embeds the Containerfile fragments mosc composes into the
// MachineOSConfig's Containerfile. Each fragment is a text/template (sprig
// without environment, clock or random functions; missingkey=error) whose
// data is the resolved plan plus the invocation's Params. Every non-blank
// line a fragment renders is one shell command inside a single `RUN set
// -eux` (one image layer, so cleanup really shrinks the image); lines
// starting with # are comments. The first line declares the parameters:
//
//	{{- /* mosc:params name other? */ -}}
//
// where a trailing ? marks an optional parameter. Unknown or missing
// parameters are errors naming the plan's layer.
package layers

import "embed"

// FS holds the fragments, named <layer>.tmpl.
//
//go:embed *.tmpl
var FS embed.FS
