package repo

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestVercmpMatchesRPM compares Vercmp with the real rpm's (rpm.vercmp, which
// is librpm's rpmvercmp on EVRs without a release, through rpm's Lua) on the table cases and on 3000
// generated pairs. This is why mosc keeps its own Vercmp rather than
// go-rpmutils': the library's Vercmp (v0.4.0 vercmp.go) treats '^' as a
// separator, so it orders "1.0^git1" after "1.0a" and calls "1.0^1" equal to
// "1.0.1", where rpm >= 4.15 sorts the caret below anything but the end of
// the string. (Package headers are read by rpmheader.go; go-rpmutils is its
// test oracle.)
func TestVercmpMatchesRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm not on PATH (hack/install-deps.sh installs it)")
	}
	pairs := [][2]string{{"1.0^git1", "1.0a"}, {"1.0^1", "1.0.1"}, {"1.0^", "1.0"}, {"1.0~rc1^2", "1.0~rc1"},
		{"2501mlnx56", "61.0"}, {"3.3.0040", "3.3.0010"}, {"1.el9", "1.el10"}, {"1.0", "1.0.0"}, {"a1", "1a"}}
	rng := rand.New(rand.NewSource(11))
	// No "-" or ":": rpm.vercmp parses its arguments as [epoch:]version[-release].
	const alphabet = "0123456789ab.~^_+"
	gen := func() string {
		b := make([]byte, 1+rng.Intn(8))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	for range 3000 {
		a := gen()
		b := a
		if rng.Intn(3) > 0 {
			b = gen()
		} else if len(a) > 1 { // near misses: same prefix
			b = a[:rng.Intn(len(a))] + gen()
		}
		pairs = append(pairs, [2]string{a, b})
	}
	var lua strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&lua, "print(rpm.vercmp(%q, %q) .. \" \")\n", p[0], p[1])
	}
	script := filepath.Join(t.TempDir(), "vercmp.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpm", "--eval", fmt.Sprintf("%%{lua: dofile(%q)}", script)).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm --eval: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if len(got) != len(pairs) {
		t.Fatalf("rpm printed %d results for %d pairs:\n%s", len(got), len(pairs), out)
	}
	bad := 0
	for i, p := range pairs {
		want, err := strconv.Atoi(got[i])
		if err != nil {
			t.Fatalf("rpm result %q", got[i])
		}
		if c := Vercmp(p[0], p[1]); c != want {
			bad++
			if bad <= 20 {
				t.Errorf("Vercmp(%q, %q) = %d, rpm says %d", p[0], p[1], c, want)
			}
		}
	}
	if bad > 20 {
		t.Errorf("... %d disagreements in all", bad)
	}
}
