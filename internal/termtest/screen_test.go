package termtest

import (
	"strings"
	"testing"
)

func TestScreen(t *testing.T) {
	s := New(10, 3)
	s.Write([]byte("0123456789abc\r\nline2\r\nline3\r\n"))
	// "0123456789abc" wrapped once; four rows written on a 3-row screen.
	if s.Wrapped != 1 {
		t.Errorf("wrapped %d, want 1", s.Wrapped)
	}
	if got := strings.Join(s.Lines(), "|"); got != "0123456789|abc|line2|line3" {
		t.Errorf("lines %q", got)
	}
	if got := strings.Join(s.Scrollback(), "|"); got != "0123456789|abc" {
		t.Errorf("scrollback %q", got)
	}
	// Cursor up stops at the screen's top: the scrollback cannot be erased.
	s.Write([]byte("\x1b[9A\x1b[J"))
	if got := strings.Join(s.Lines(), "|"); got != "0123456789|abc" {
		t.Errorf("after erase: %q", got)
	}
	// Exactly Cols characters then CRLF: no wrap (xterm's pending wrap).
	s = New(5, 3)
	s.Write([]byte("abcde\r\nfg\r\x1b[1A\x1b[Kx\r\n"))
	if got := strings.Join(s.Lines(), "|"); got != "x|fg" || s.Wrapped != 0 {
		t.Errorf("pending wrap: %q, wrapped %d", got, s.Wrapped)
	}
}
