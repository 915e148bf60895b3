package watch

import (
	"bytes"
	"encoding/json"
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
	v, _ = NewView("live", &out, &logs)
	v.Status(st, time.Minute)
	first := out.String()
	if !strings.Contains(first, "[===============---------------] 0/2 verified, 1 updated") || !strings.Contains(first, "worker-1") || strings.Contains(first, "\x1b[") {
		t.Errorf("live first draw:\n%s", first)
	}
	v.Event(ev)
	lines := strings.Count(first, "\n")
	if !strings.HasPrefix(out.String()[len(first):], "\x1b["+strconv.Itoa(lines)+"A\x1b[J12:00:00 rollout node") {
		t.Errorf("live redraw does not clear the %d-line block first: %q", lines, out.String()[len(first):])
	}
	v.Close()
	if !strings.HasSuffix(out.String(), "\x1b["+strconv.Itoa(lines)+"A\x1b[J") {
		t.Error("Close does not clear the block")
	}
	if _, err := NewView("yaml", &out, &logs); err == nil {
		t.Error("unknown mode accepted")
	}
	if IsTerminal(&out) {
		t.Error("a buffer is not a terminal")
	}
}
