package diff

import (
	"fmt"
	"strings"
)

// opKind is one line of an edit script.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

type lineOp struct {
	kind opKind
	line string // with its "\n" when it had one
	// positions (0-based) in a and b before this op
	ai, bi int
}

// splitLines keeps each line's newline so a missing final newline shows up
// as a difference, as in GNU diff.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// myers computes a shortest edit script from a to b (Myers 1986, the O(ND)
// greedy algorithm with a saved trace for backtracking).
func myers(a, b []string) []lineOp {
	n, m := len(a), len(b)
	max := n + m
	if max == 0 {
		return nil
	}
	off := max + 1
	v := make([]int, 2*max+3)
	var trace [][]int
	done := false
	for d := 0; d <= max && !done; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				done = true
				break
			}
		}
	}
	// Backtrack from (n, m) through the saved frontiers.
	var ops []lineOp
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		vd := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && vd[off+k-1] < vd[off+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := vd[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY && x > 0 && y > 0 {
			ops = append(ops, lineOp{kind: opEqual, line: a[x-1], ai: x - 1, bi: y - 1})
			x--
			y--
		}
		if d == 0 {
			break
		}
		if x == prevX {
			ops = append(ops, lineOp{kind: opInsert, line: b[y-1], ai: x, bi: y - 1})
			y--
		} else {
			ops = append(ops, lineOp{kind: opDelete, line: a[x-1], ai: x - 1, bi: y})
			x--
		}
	}
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	return ops
}

// Unified returns a unified diff (hunks only, no file header) of two texts
// with the given lines of context, or "" when they are equal.
func Unified(a, b string, context int) string {
	if a == b {
		return ""
	}
	ops := myers(splitLines(a), splitLines(b))
	var sb strings.Builder
	for i := 0; i < len(ops); {
		// Find the next change.
		for i < len(ops) && ops[i].kind == opEqual {
			i++
		}
		if i == len(ops) {
			break
		}
		start := i - context
		if start < 0 {
			start = 0
		}
		// Extend the hunk while changes are within 2*context lines.
		end := i
		for {
			for end < len(ops) && ops[end].kind != opEqual {
				end++
			}
			eq := end
			for eq < len(ops) && ops[eq].kind == opEqual {
				eq++
			}
			if eq < len(ops) && eq-end <= 2*context {
				end = eq
				continue
			}
			end += context
			if end > len(ops) {
				end = len(ops)
			}
			break
		}
		hunk := ops[start:end]
		aStart, bStart := hunk[0].ai, hunk[0].bi
		aLen, bLen := 0, 0
		for _, op := range hunk {
			if op.kind != opInsert {
				aLen++
			}
			if op.kind != opDelete {
				bLen++
			}
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
		for _, op := range hunk {
			sb.WriteByte(byte(op.kind))
			sb.WriteString(strings.TrimSuffix(op.line, "\n"))
			sb.WriteByte('\n')
			if !strings.HasSuffix(op.line, "\n") {
				sb.WriteString("\\ No newline at end of text\n")
			}
		}
		i = end
	}
	return sb.String()
}

// hunkRange formats "start,len" as diff -u does (1-based; an empty range
// names the line before it).
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
