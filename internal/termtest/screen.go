// Package termtest replays terminal output on a model of a VT100-style
// terminal (as xterm behaves) with scrollback, so that tests can see what a
// user would see, including what scrolled away: lines wrap at the last
// column, a line feed on the bottom row scrolls the top row into the
// scrollback, and cursor movement and erasure only reach the screen. It
// knows what mosc's live view sends (printable text, CR, LF, CUU "ESC[nA",
// ED "ESC[J", EL "ESC[K") and skips every other escape sequence.
package termtest

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Screen is a terminal of Cols×Rows with unlimited scrollback.
type Screen struct {
	Cols, Rows int
	lines      [][]rune // scrollback then screen: lines[top:top+Rows] is the screen
	top        int
	row, col   int // absolute row; col == Cols means a wrap is pending
	// Wrapped counts lines the terminal had to wrap (a print past the last column).
	Wrapped int
}

// New returns an empty screen.
func New(cols, rows int) *Screen {
	return &Screen{Cols: cols, Rows: rows, lines: [][]rune{{}}}
}

func (s *Screen) lineFeed() {
	s.row++
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, []rune{})
	}
	if s.row >= s.top+s.Rows {
		s.top = s.row - s.Rows + 1
	}
}

func (s *Screen) put(r rune) {
	if s.col >= s.Cols {
		s.Wrapped++
		s.lineFeed()
		s.col = 0
	}
	l := s.lines[s.row]
	for len(l) < s.col {
		l = append(l, ' ')
	}
	if s.col < len(l) {
		l[s.col] = r
	} else {
		l = append(l, r)
	}
	s.lines[s.row] = l
	s.col++
}

// Write replays output (it never fails).
func (s *Screen) Write(p []byte) (int, error) {
	str := string(p)
	for i := 0; i < len(str); {
		r, n := utf8.DecodeRuneInString(str[i:])
		i += n
		switch {
		case r == '\r':
			s.col = 0
		case r == '\n':
			s.lineFeed()
			if s.col >= s.Cols {
				s.col = s.Cols - 1
			}
		case r == '\b':
			if s.col > 0 {
				s.col--
			}
		case r == 0x1b:
			i += s.escape(str[i:])
		case r < 0x20 || r == 0x7f:
			// other controls (BEL, tabs are not sent) are ignored
		default:
			s.put(r)
		}
	}
	return len(p), nil
}

// escape handles the sequence after ESC and returns its length.
func (s *Screen) escape(rest string) int {
	if rest == "" {
		return 0
	}
	if rest[0] != '[' {
		return 1 // a two-byte sequence (ESC 7, ESC =, …)
	}
	j := 1
	for j < len(rest) && (rest[j] < 0x40 || rest[j] > 0x7e) {
		j++
	}
	if j >= len(rest) {
		return len(rest)
	}
	params, final := rest[1:j], rest[j]
	n := 1
	if v, err := strconv.Atoi(strings.TrimPrefix(params, "?")); err == nil && v > 0 {
		n = v
	}
	switch final {
	case 'A': // CUU: up, never above the screen's top row
		s.row = max(s.row-n, s.top)
		s.col = min(s.col, s.Cols-1)
	case 'J': // ED: erase below (0 only; what the view sends)
		if params == "" || params == "0" {
			s.lines[s.row] = truncate(s.lines[s.row], s.col)
			for k := s.row + 1; k < len(s.lines); k++ {
				s.lines[k] = []rune{}
			}
		}
	case 'K': // EL: erase to the end of the line
		if params == "" || params == "0" {
			s.lines[s.row] = truncate(s.lines[s.row], s.col)
		}
	}
	return j + 1
}

func truncate(l []rune, n int) []rune {
	if n < len(l) {
		return l[:n]
	}
	return l
}

// Lines is everything the user can scroll through: the scrollback and the
// screen, trailing blank lines dropped.
func (s *Screen) Lines() []string {
	out := make([]string, len(s.lines))
	for i, l := range s.lines {
		out[i] = strings.TrimRight(string(l), " ")
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// Scrollback is what scrolled off the top of the screen.
func (s *Screen) Scrollback() []string {
	l := s.Lines()
	if s.top < len(l) {
		return l[:s.top]
	}
	return l
}
