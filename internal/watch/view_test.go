package watch

import (
	"unicode/utf8"

	"bytes"
	"encoding/json"
	"github.com/mosc-dev/mosc/internal/termtest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestViews(t *testing.T) {
	st := &Status{Pool: "worker", Phase: PhaseRollout, Waiting: "1 of 2 nodes updated", Total: 2, Updated: 1,
		Nodes: []NodeStatus{{Name: "worker-0", State: NodeDone, Updated: true, Check: CheckState{State: CheckRunning}},
			{Name: "worker-1", State: NodeWorking, CurrentImage: oldImage, DesiredImage: newImage}}}
	ev := Event{Time: t0, Phase: PhaseRollout, Kind: KindNode, Object: "node/worker-1", Message: "Working", Fields: map[string]string{"state": "Working"}}

	var out, logs bytes.Buffer
	v, _ := NewView("plain", &out, &logs)
	v.Status(st, time.Minute)
	v.Event(ev)
	v.Log("STEP 1/9: FROM configs AS final")
	if got := out.String(); got != "12:00:00 rollout node   node/worker-1 Working\n" {
		t.Errorf("plain: %q", got)
	}
	if logs.String() != "build-log | STEP 1/9: FROM configs AS final\n" {
		t.Errorf("plain log: %q", logs.String())
	}

	out.Reset()
	v, _ = NewView("json", &out, &logs)
	v.Event(ev)
	var back Event
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Object != ev.Object || !back.Time.Equal(ev.Time) || back.Fields["state"] != "Working" {
		t.Errorf("json round trip: %v %+v", err, back)
	}

	out.Reset()
	t.Setenv("COLUMNS", "140") // a buffer has no terminal size
	v, _ = NewView("live", &out, &logs)
	v.Status(st, time.Minute)
	first := out.String()
	if !strings.Contains(first, "[===============---------------] 0/2 verified, 1 updated") || !strings.Contains(first, "worker-1") || strings.Contains(first, "\x1b[") {
		t.Errorf("live first draw:\n%s", first)
	}
	v.Event(ev)
	lines := strings.Count(first, "\n")
	if !strings.HasPrefix(out.String()[len(first):], "\r\x1b["+strconv.Itoa(lines)+"A\x1b[J12:00:00 rollout node") {
		t.Errorf("live redraw does not clear the %d-line block first: %q", lines, out.String()[len(first):])
	}
	v.Close()
	if !strings.HasSuffix(out.String(), "\r\x1b["+strconv.Itoa(lines)+"A\x1b[J") {
		t.Error("Close does not clear the block")
	}
	if _, err := NewView("yaml", &out, &logs); err == nil {
		t.Error("unknown mode accepted")
	}
	if IsTerminal(&out) {
		t.Error("a buffer is not a terminal")
	}
}

// replayLive drives a live view of cols×rows through a rollout with long
// names and full image references, and returns the terminal it drew on.
func replayLive(t *testing.T, cols, rows, viewCols int) *termtest.Screen {
	t.Helper()
	scr := termtest.New(cols, rows)
	// A pty's output: the line discipline turns LF into CRLF.
	w := writerFunc(func(p []byte) (int, error) {
		scr.Write([]byte(strings.ReplaceAll(string(p), "\n", "\r\n")))
		return len(p), nil
	})
	v := &liveView{w: w, size: func() (int, int) { return viewCols, rows }}
	img := "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image@sha256:" + strings.Repeat("e", 64)
	names := []string{"worker-0.ocp-prod-east-1.lab.example.com", "worker-1.ocp-prod-east-1.lab.example.com", "worker-2.ocp-prod-east-1.lab.example.com"}
	st := &Status{Pool: "worker-dpu-offload-long-pool-name", Phase: PhaseBuild, Total: 3,
		Waiting: "MachineOSConfig status.currentImagePullSpec does not point at " + img + " yet",
		Build:   BuildStatus{MOSB: "worker-dpu-offload-long-pool-name-51b0cc4ef787fbcc278218acf57e112b", State: BuildSucceeded, Image: img}}
	for _, n := range names {
		st.Nodes = append(st.Nodes, NodeStatus{Name: n, State: NodeWorking, Reason: "draining pods: waiting for eviction of pod openshift-monitoring/prometheus-k8s-0", DesiredImage: img})
	}
	for i := 0; i < 12; i++ {
		cp := *st
		v.Status(&cp, time.Duration(i)*time.Second)
		v.Event(Event{Time: t0, Phase: st.Phase, Kind: KindBuild, Object: "machineosconfig/" + st.Pool, Message: "currentImagePullSpec " + img})
		v.Log("STEP 7/8: RUN mkdir -p /var/opt && rpm-ostree override remove openvswitch3.5 && dnf install -y --setopt=install_weak_deps=False doca-openvswitch && dnf clean all && bootc container lint")
		if i == 6 {
			st.Phase, st.Waiting = PhaseRollout, "0 of 3 nodes updated"
		}
	}
	v.Close()
	return scr
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// The live view at 80 and 140 columns with long names: the terminal never
// wraps a line, and when it ends no line of the block is left anywhere in
// the scrollback (issue 13: a wrapped footer left stale copies).
func TestLiveViewFitsTheTerminal(t *testing.T) {
	for _, cols := range []int{80, 140} {
		scr := replayLive(t, cols, 40, cols)
		if scr.Wrapped != 0 {
			t.Errorf("%d columns: the terminal wrapped %d line(s)", cols, scr.Wrapped)
		}
		lines := scr.Lines()
		events := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "── ") || strings.HasPrefix(l, "[") || strings.Contains(l, "NODE ") {
				t.Errorf("%d columns: a line of the view is left in the scrollback: %q", cols, l)
			}
			if utf8.RuneCountInString(l) >= cols {
				t.Errorf("%d columns: line of %d columns: %q", cols, utf8.RuneCountInString(l), l)
			}
			if strings.Contains(l, "currentImagePullSpec os-image@sha256:eeeeeeeeeeee") {
				events++
			}
			if strings.Contains(l, strings.Repeat("e", 13)) {
				t.Errorf("%d columns: a full digest: %q", cols, l)
			}
		}
		if events != 12 {
			t.Errorf("%d columns: %d event lines, want 12 (each once):\n%s", cols, events, strings.Join(lines, "\n"))
		}
	}
	// Proof that the check sees the bug: a view that believes the terminal
	// is wider than it is leaves stale copies of its footer.
	scr := replayLive(t, 80, 40, 400)
	stale := 0
	for _, l := range scr.Lines() {
		if strings.HasPrefix(l, "── ") {
			stale++
		}
	}
	if stale == 0 || scr.Wrapped == 0 {
		t.Errorf("a view drawn too wide left no stale line (wrapped %d): the check proves nothing", scr.Wrapped)
	}
}

// A block taller than the terminal is cut (rows scrolled off cannot be erased).
func TestLiveViewFitsAShortTerminal(t *testing.T) {
	scr := replayLive(t, 80, 8, 80)
	for _, l := range scr.Lines() {
		if strings.HasPrefix(l, "── ") {
			t.Errorf("stale block line on an 8-row terminal: %q", l)
		}
	}
}
