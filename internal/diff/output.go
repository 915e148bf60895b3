package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// SchemaVersion is the version of the JSON output (docs/gate.md documents it).
const SchemaVersion = "mosc.dev/diff/v1"

// WriteJSON writes the result as one indented JSON document.
func WriteJSON(w io.Writer, r *Result) error {
	doc := struct {
		Schema string `json:"schema"`
		*Result
	}{SchemaVersion, r}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// WriteText writes a readable report: one line per object ("+" added,
// "-" removed, "~" changed), its changed fields below it, unified diffs for
// text payloads, and a summary line.
func WriteText(w io.Writer, r *Result) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", r.From, r.To)
	for _, o := range r.Objects {
		mark := map[Change]string{Added: "+", Removed: "-", Changed: "~"}[o.Change]
		fmt.Fprintf(&sb, "\n%s %s", mark, o.Ref())
		switch {
		case o.FromFile != "" && o.ToFile != "" && o.FromFile != o.ToFile:
			fmt.Fprintf(&sb, "  (%s → %s)", o.FromFile, o.ToFile)
		case o.ToFile != "":
			fmt.Fprintf(&sb, "  (%s)", o.ToFile)
		case o.FromFile != "":
			fmt.Fprintf(&sb, "  (%s)", o.FromFile)
		}
		sb.WriteString("\n")
		if o.FromAPIVersion != "" {
			fmt.Fprintf(&sb, "    ~ apiVersion: %s → %s\n", o.FromAPIVersion, o.APIVersion)
		}
		for _, f := range o.Fields {
			if f.Path == "apiVersion" {
				continue // shown above
			}
			fm := map[Change]string{Added: "+", Removed: "-", Changed: "~"}[f.Change]
			switch {
			case f.Redacted:
				fmt.Fprintf(&sb, "    %s %s: (secret value %s; not shown)\n", fm, f.Path, f.Change)
			case f.UnifiedDiff != "":
				fmt.Fprintf(&sb, "    %s %s:\n", fm, f.Path)
				for _, l := range strings.SplitAfter(strings.TrimSuffix(f.UnifiedDiff, "\n"), "\n") {
					sb.WriteString("        " + l)
				}
				sb.WriteString("\n")
			case f.Change == Added:
				fmt.Fprintf(&sb, "    + %s: %s\n", f.Path, compact(f.To))
			case f.Change == Removed:
				fmt.Fprintf(&sb, "    - %s: %s\n", f.Path, compact(f.From))
			default:
				fmt.Fprintf(&sb, "    ~ %s: %s → %s\n", f.Path, compact(f.From), compact(f.To))
			}
		}
	}
	s := r.Summary
	if len(r.Objects) > 0 {
		sb.WriteString("\n")
	}
	fmt.Fprintf(&sb, "%d changed, %d added, %d removed, %d unchanged\n", s.Changed, s.Added, s.Removed, s.Unchanged)
	_, err := io.WriteString(w, sb.String())
	return err
}

// compact renders a value as one line of JSON.
func compact(v any) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
