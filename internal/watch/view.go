package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
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
		return &liveView{w: w}, nil
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
// under the scrolling event lines, with ANSI cursor movement.
type liveView struct {
	mu    sync.Mutex
	w     io.Writer
	lines int // height of the block drawn last
	last  *Status
	el    time.Duration
}

// MaxLiveRows bounds the live table of nodes in flight.
const MaxLiveRows = 10

func (v *liveView) clear() {
	if v.lines > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.lines)
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
	fmt.Fprintln(v.w, FormatEvent(e))
	v.draw()
}

func (v *liveView) Log(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clear()
	fmt.Fprintln(v.w, "build-log | "+line)
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
	block := LiveBlock(v.last, v.el, 30)
	fmt.Fprint(v.w, block)
	v.lines = strings.Count(block, "\n")
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
