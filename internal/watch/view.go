package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"golang.org/x/term"
)

// View renders the watch: events, status redraws and build log lines.
type View interface {
	Event(Event)
	// Status is called after every change and once a second (elapsed time).
	Status(st *Status, elapsed time.Duration)
	// Log is one line of the build log (--logs).
	Log(line string)
	Close()
}

// IsTerminal says whether w is a character device (a terminal): the live
// view is only drawn there.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// NewView returns the view for an output mode: "json", "plain" or "live".
// Build log lines go to logw in plain and json mode.
func NewView(mode string, w, logw io.Writer) (View, error) {
	switch mode {
	case "json":
		return &jsonView{enc: json.NewEncoder(w), logw: logw}, nil
	case "plain":
		return &plainView{w: w, logw: logw}, nil
	case "live":
		return &liveView{w: w, size: TerminalSize(w)}, nil
	}
	return nil, fmt.Errorf("unknown output %q (want json, plain or live)", mode)
}

type jsonView struct {
	mu   sync.Mutex
	enc  *json.Encoder
	logw io.Writer
}

func (v *jsonView) Event(e Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	_ = v.enc.Encode(e)
}
func (v *jsonView) Status(*Status, time.Duration) {}
func (v *jsonView) Log(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintln(v.logw, "build-log | "+line)
}
func (v *jsonView) Close() {}

type plainView struct {
	mu      sync.Mutex
	w, logw io.Writer
}

// FormatEvent is the one-line form of an event (plain view, live view).
func FormatEvent(e Event) string {
	obj := e.Object
	if obj == "" {
		obj = "-"
	}
	return fmt.Sprintf("%s %-7s %-6s %s %s", e.Time.UTC().Format("15:04:05"), e.Phase, e.Kind, obj, e.Message)
}

func (v *plainView) Event(e Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintln(v.w, FormatEvent(e))
}
func (v *plainView) Status(*Status, time.Duration) {}
func (v *plainView) Log(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintln(v.logw, "build-log | "+line)
}
func (v *plainView) Close() {}

// liveView redraws a block (phase, progress bar, nodes in flight, elapsed)
// under the scrolling event lines. Every line it prints fits the terminal's
// width, measured before each print (so a resize is followed): image
// references are shortened as in the node table, the block's lines are cut,
// event and log lines are wrapped by the view itself. So the terminal never
// wraps a line, the block's height in rows is its number of lines, and
// moving the cursor up that many rows and erasing below (CUU, ED: the two
// ECMA-48 sequences, which every terminal emulator supports) removes exactly
// the block — no stale copy is left in the scrollback. The block is kept
// below the terminal's height, since rows scrolled off cannot be erased.
type liveView struct {
	mu    sync.Mutex
	w     io.Writer
	size  func() (width, height int)
	lines int // height of the block drawn last
	last  *Status
	el    time.Duration
}

// MaxLiveRows bounds the live table of nodes in flight.
const MaxLiveRows = 10

// TerminalSize measures w's terminal (golang.org/x/term: TIOCGWINSZ), else
// $COLUMNS/$LINES, else 80×24.
func TerminalSize(w io.Writer) func() (int, int) {
	return func() (int, int) {
		if f, ok := w.(*os.File); ok {
			if cols, rows, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 && rows > 0 {
				return cols, rows
			}
		}
		cols, rows := 80, 24
		if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
			cols = n
		}
		if n, err := strconv.Atoi(os.Getenv("LINES")); err == nil && n > 0 {
			rows = n
		}
		return cols, rows
	}
}

// width is the widest line the view prints: one column is left free, so
// that no terminal wraps early (some wrap as soon as the last column is
// written, xterm only on the next character).
func (v *liveView) dims() (int, int) {
	w, h := 80, 24
	if v.size != nil {
		w, h = v.size()
	}
	return max(w-1, 20), max(h, 8)
}

func (v *liveView) clear() {
	if v.lines > 0 {
		fmt.Fprintf(v.w, "\r\x1b[%dA\x1b[J", v.lines)
		v.lines = 0
	}
}

func (v *liveView) Event(e Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.Kind == KindPod {
		return // too chatty for a terminal; in -o json and plain
	}
	v.clear()
	width, _ := v.dims()
	for _, l := range WrapLine(ShortenImageRefs(FormatEvent(e)), width, 9) {
		fmt.Fprintln(v.w, l)
	}
	v.draw()
}

func (v *liveView) Log(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clear()
	width, _ := v.dims()
	for _, l := range WrapLine("build-log | "+line, width, 12) {
		fmt.Fprintln(v.w, l)
	}
	v.draw()
}

func (v *liveView) Status(st *Status, elapsed time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.last, v.el = st, elapsed
	v.clear()
	v.draw()
}

func (v *liveView) Close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clear()
	v.last = nil
}

func (v *liveView) draw() {
	if v.last == nil {
		return
	}
	width, height := v.dims()
	// The bar shrinks first, so that the counts beside it stay whole.
	block := FitBlock(LiveBlock(v.last, v.el, min(30, max(width-52, 10))), width, height-1)
	fmt.Fprint(v.w, block)
	v.lines = strings.Count(block, "\n")
}

// FitBlock cuts each line of a live block to width columns and keeps at
// most maxLines lines (the last one saying how many were left out).
func FitBlock(block string, width, maxLines int) string {
	lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
	if maxLines > 0 && len(lines) > maxLines {
		cut := len(lines) - maxLines + 1
		lines = append(lines[:maxLines-1], fmt.Sprintf("  … %d more line(s): widen or heighten the terminal", cut))
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(CutLine(ShortenImageRefs(l), width))
		b.WriteString("\n")
	}
	return b.String()
}

// CutLine cuts s to width columns, ending in "…" when it was cut. (Runes
// count as one column: mosc prints names, digests and the box and arrow
// characters, all narrow.)
func CutLine(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// WrapLine breaks s into lines of at most width columns, at spaces where it
// can, indenting continuation lines by indent.
func WrapLine(s string, width, indent int) []string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return []string{s}
	}
	indent = min(indent, width/2)
	var out []string
	r := []rune(s)
	pad := ""
	for len(r) > 0 {
		room := width - utf8.RuneCountInString(pad)
		if len(r) <= room {
			out = append(out, pad+string(r))
			break
		}
		cut := room
		for i := room; i > room/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, pad+strings.TrimRight(string(r[:cut]), " "))
		r = []rune(strings.TrimLeft(string(r[cut:]), " "))
		pad = strings.Repeat(" ", indent)
	}
	return out
}

// imageRef matches a digested image reference (host/path/name@sha256:…).
var imageRef = lazyre.New(`\b[a-z0-9][a-z0-9.:-]*(?:/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}\b`)

// ShortenImageRefs writes digested image references as the node table does:
// name@sha256: and 12 hex digits.
func ShortenImageRefs(s string) string {
	return imageRef.ReplaceAllStringFunc(s, shortImage)
}

// LiveBlock renders the live view's block (exported for tests and docs).
func LiveBlock(st *Status, elapsed time.Duration, width int) string {
	var b strings.Builder
	done := st.Verified
	total := st.Total
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	upd := 0
	if total > 0 {
		upd = st.Updated*width/total - filled
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("=", max(upd, 0)) + strings.Repeat("-", max(width-filled-upd, 0))
	head := string(st.Phase)
	if st.Waiting != "" {
		head += ": " + st.Waiting
	}
	fmt.Fprintf(&b, "── %s ── pool %s ── elapsed %s\n", head, st.Pool, elapsed.Round(time.Second))
	fmt.Fprintf(&b, "[%s] %d/%d verified, %d updated  (# verified, = updated)\n", bar, done, total, st.Updated)
	if st.Build.MOSB != "" && st.Phase == PhaseBuild {
		fmt.Fprintf(&b, "build %s: %s", st.Build.MOSB, st.Build.State)
		if st.Build.Start != nil {
			fmt.Fprintf(&b, " (%s)", st.Build.Duration(time.Now()))
		}
		b.WriteString("\n")
	}
	var flight []NodeStatus
	for _, n := range st.Nodes {
		if n.InFlight() {
			flight = append(flight, n)
		}
	}
	sort.SliceStable(flight, func(i, j int) bool { return flight[i].Name < flight[j].Name })
	if len(flight) > 0 {
		fmt.Fprintf(&b, "  %-28s %-10s %-9s %s\n", "NODE", "STATE", "CHECK", "DETAIL")
		for i, n := range flight {
			if i == MaxLiveRows {
				fmt.Fprintf(&b, "  … and %d more in flight\n", len(flight)-MaxLiveRows)
				break
			}
			check := n.Check.State
			if check == "" {
				check = "-"
			}
			detail := n.Reason
			if detail == "" {
				detail = n.Waiting
			}
			fmt.Fprintf(&b, "  %-28s %-10s %-9s %s\n", n.Name, n.State, check, detail)
		}
	}
	return b.String()
}
