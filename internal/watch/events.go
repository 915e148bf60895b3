package watch

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Event kinds.
const (
	KindPhase  = "phase"  // the rollout entered a phase
	KindBuild  = "build"  // the MachineOSBuild changed state
	KindPool   = "pool"   // pool counts or conditions changed
	KindNode   = "node"   // a node's state, images or configs changed
	KindCheck  = "check"  // a node's verification changed
	KindPod    = "pod"    // a check pod was created or deleted
	KindStall  = "stall"  // no progress for --stall-warning
	KindResult = "result" // the final outcome (done, failed, timeout, interrupted)
)

// Event is one change, as printed by every view (one JSON object per line
// with -o json).
type Event struct {
	Time    time.Time         `json:"time"`
	Phase   Phase             `json:"phase"`
	Kind    string            `json:"kind"`
	Object  string            `json:"object,omitempty"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Diff lists what changed from prev to cur (prev nil: everything is new).
func Diff(prev, cur *Status, now time.Time) []Event {
	var out []Event
	add := func(kind, obj, msg string, fields map[string]string) {
		out = append(out, Event{Time: now, Phase: cur.Phase, Kind: kind, Object: obj, Message: msg, Fields: fields})
	}
	if prev == nil {
		prev = &Status{}
	}

	b, pb := cur.Build, prev.Build
	if b.MOSB != pb.MOSB || b.State != pb.State {
		obj := "machineosconfig/" + cur.MOSC
		if b.MOSB != "" {
			obj = "machineosbuild/" + b.MOSB
		}
		f := map[string]string{"state": b.State}
		msg := b.State
		if b.Start != nil {
			f["start"] = b.Start.UTC().Format(time.RFC3339)
		}
		if b.End != nil {
			f["end"] = b.End.UTC().Format(time.RFC3339)
			f["duration"] = b.Duration(now).String()
			msg += " after " + b.Duration(now).String()
		}
		if b.Image != "" && b.State == BuildSucceeded {
			f["image"] = b.Image
			msg += ": " + b.Image
		}
		if b.State == BuildFailed || b.State == BuildInterrupted {
			if b.Reason != "" {
				f["reason"] = b.Reason
			}
			if b.Message != "" {
				f["message"] = b.Message
				msg += ": " + strings.TrimPrefix(strings.TrimPrefix(b.Message, b.State), ": ")
			}
		}
		if b.State == BuildNoMOSC || b.State == BuildWaiting {
			msg += ": " + b.Message
		}
		if b.Pod != "" {
			f["pod"] = b.Pod
		}
		add(KindBuild, obj, msg, f)
	}
	if cur.TargetImage != prev.TargetImage && cur.TargetImage != "" {
		add(KindBuild, "machineosconfig/"+cur.MOSC, "currentImagePullSpec "+cur.TargetImage, map[string]string{"image": cur.TargetImage})
	}

	if p, pp := cur.PoolStatus, prev.PoolStatus; !samePool(p, pp) {
		f := map[string]string{
			"machineCount": fmt.Sprint(p.Machines), "updatedMachineCount": fmt.Sprint(p.Updated),
			"readyMachineCount": fmt.Sprint(p.Ready), "unavailableMachineCount": fmt.Sprint(p.Unavailable),
			"degradedMachineCount": fmt.Sprint(p.Degraded),
		}
		var conds []string
		for _, t := range PoolConditionTypes {
			if v := p.Conditions[t]; v != "" {
				f[t] = v
				conds = append(conds, t+"="+v)
			}
		}
		msg := fmt.Sprintf("updated %d/%d, ready %d, unavailable %d, degraded %d", p.Updated, p.Machines, p.Ready, p.Unavailable, p.Degraded)
		if len(conds) > 0 {
			msg += "; " + strings.Join(conds, " ")
		}
		add(KindPool, "machineconfigpool/"+p.Name, msg, f)
	}

	prevNodes := make(map[string]NodeStatus, len(prev.Nodes))
	for _, n := range prev.Nodes {
		prevNodes[n.Name] = n
	}
	for _, n := range cur.Nodes {
		pn, seen := prevNodes[n.Name]
		if !seen || n.State != pn.State || n.Reason != pn.Reason || n.CurrentImage != pn.CurrentImage ||
			n.DesiredImage != pn.DesiredImage || n.CurrentConfig != pn.CurrentConfig || n.DesiredConfig != pn.DesiredConfig ||
			n.Updated != pn.Updated || !slices.Equal(n.MCN, pn.MCN) {
			add(KindNode, "node/"+n.Name, nodeMessage(n), nodeFields(n))
		}
		if n.Check.State != pn.Check.State && n.Check.State != CheckNone {
			add(KindCheck, "node/"+n.Name, checkMessage(n.Check), checkFields(n.Check))
		}
	}

	if cur.Phase != prev.Phase {
		msg := string(cur.Phase)
		if cur.Waiting != "" {
			msg += ": " + cur.Waiting
		}
		if cur.Failure != nil {
			msg += ": " + cur.Failure.Object + ": " + cur.Failure.Reason
		}
		add(KindPhase, "", msg, map[string]string{"total": fmt.Sprint(cur.Total), "updated": fmt.Sprint(cur.Updated), "verified": fmt.Sprint(cur.Verified)})
	}
	return out
}

func samePool(a, b PoolStatus) bool {
	return a.Name == b.Name && a.Machines == b.Machines && a.Updated == b.Updated && a.Ready == b.Ready &&
		a.Unavailable == b.Unavailable && a.Degraded == b.Degraded && maps.Equal(a.Conditions, b.Conditions)
}

func nodeMessage(n NodeStatus) string {
	s := nodeState(n)
	if len(n.MCN) > 0 {
		s += " [" + strings.Join(n.MCN, " ") + "]"
	}
	return s
}

func nodeState(n NodeStatus) string {
	if n.Updated {
		return "updated: " + shortImage(n.CurrentImage)
	}
	s := n.State
	if s == "" {
		s = "unknown"
	}
	if n.Reason != "" {
		s += " (" + n.Reason + ")"
	}
	if n.DesiredImage != n.CurrentImage {
		s += ": " + shortImage(n.CurrentImage) + " → " + shortImage(n.DesiredImage)
	} else {
		s += " on " + shortImage(n.CurrentImage)
		if n.Waiting != "" {
			s += ": " + n.Waiting
		}
	}
	return s
}

func nodeFields(n NodeStatus) map[string]string {
	f := map[string]string{"state": n.State, "updated": fmt.Sprint(n.Updated)}
	for k, v := range map[string]string{"reason": n.Reason, "currentImage": n.CurrentImage, "desiredImage": n.DesiredImage,
		"currentConfig": n.CurrentConfig, "desiredConfig": n.DesiredConfig, "machineConfigNode": strings.Join(n.MCN, ",")} {
		if v != "" {
			f[k] = v
		}
	}
	return f
}

func checkMessage(c CheckState) string {
	switch c.State {
	case CheckFailed:
		return "verification failed: " + strings.Join(c.Problems, "; ")
	case CheckError:
		return "check could not run: " + c.Message
	case CheckPassed:
		msg := "verified"
		if c.Enabled {
			msg += " after enabling doca-init"
		}
		if c.Message != "" {
			msg += ": " + c.Message
		}
		return msg
	case CheckEnabling:
		return "enabling doca-init (other_config:doca-init=true, restart openvswitch)"
	default:
		return "check " + c.State
	}
}

func checkFields(c CheckState) map[string]string {
	f := map[string]string{"check": c.State}
	if c.Enabled {
		f["docaInitEnabled"] = "true"
	}
	if len(c.Problems) > 0 {
		f["problems"] = strings.Join(c.Problems, "; ")
	}
	return f
}

// shortImage keeps the repository's last element and 12 digest characters:
// os-image@sha256:0123456789ab.
func shortImage(img string) string {
	if img == "" {
		return "(base image)"
	}
	repo, digest, ok := strings.Cut(img, "@")
	if i := strings.LastIndexByte(repo, '/'); i >= 0 {
		repo = repo[i+1:]
	}
	if !ok {
		return repo
	}
	algo, hex, _ := strings.Cut(digest, ":")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return repo + "@" + algo + ":" + hex
}
