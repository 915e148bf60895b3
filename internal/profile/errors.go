package profile

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// APIVersion is the schema version of every profile kind and of the site file.
const APIVersion = "mosc.dev/v1alpha1"

// Kinds of documents mosc reads.
const (
	KindRelease  = "OpenShiftRelease"
	KindPlatform = "Platform"
	KindStack    = "Stack"
	KindSite     = "Site"
)

// Error is one finding with a place: a position in a file, or the CLI flag the
// value came from. Field is the path inside the document ("spec.stacks[0]").
type Error struct {
	File         string
	Line, Column int
	Field        string
	Flag         string
	Message      string
}

// Where is "file:line:col", "file:line", "file" or "--flag": the part of the
// error before the field path. Warnings reuse it.
func (e *Error) Where() string {
	switch {
	case e.Flag != "":
		return e.Flag
	case e.File != "" && e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	default:
		return e.File
	}
}

func (e *Error) Error() string {
	var b strings.Builder
	if w := e.Where(); w != "" {
		b.WriteString(w)
		b.WriteString(": ")
	}
	// A flag names the field well enough; the path would only repeat it.
	if e.Field != "" && e.Flag == "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList holds every finding of one load or resolution, so the user fixes
// them all in one go instead of one per run.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Err returns nil for an empty list, so callers can `return l.Err()`.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Pos is a place in a YAML file (1-based).
type Pos struct {
	File         string
	Line, Column int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// knownList renders "a, b, c" for "known: …" hints.
func knownList(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func sortStrings(s []string) { sort.Strings(s) }

// readLimited reads a regular file of at most limit bytes (a FIFO or
// device named by mistake must not hang or flood resolution).
func readLimited(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
