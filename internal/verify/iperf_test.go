package verify

import (
	"os"
	"path/filepath"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Both fixtures are real iperf3 3.12 -J output captured on loopback
// (testdata/README.md).
func TestParseIperf(t *testing.T) {
	r, err := ParseIperf(fixture(t, "iperf3-P2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "iperf 3.12" || r.Streams != 2 || r.SentBps != 3391712182.18455 || r.ReceivedBps != 3371265783.0121326 || r.Retransmits != 7 || r.Seconds != 1.023314 {
		t.Errorf("result = %+v", r)
	}
	if g := r.ReceivedGbps(); g < 3.37 || g > 3.38 {
		t.Errorf("Gbit/s = %v", g)
	}
	r, err = ParseIperf(fixture(t, "iperf3-refused.json"))
	if err != nil || r.Error != "unable to connect to server: Connection refused" {
		t.Errorf("refused: %+v, %v", r, err)
	}
	for _, bad := range []string{``, `{"end":{}}`, `{"end":{"sum_sent":{"bits_per_second":1}}}`, `{"end":{"sum_sent":{"bits_per_second":-1},"sum_received":{"bits_per_second":1}}}`, `[1]`} {
		if _, err := ParseIperf([]byte(bad)); err == nil {
			t.Errorf("ParseIperf(%q) = nil error", bad)
		}
	}
}

// FuzzParseIperf: any client output is decoded or refused, never a panic.
func FuzzParseIperf(f *testing.F) {
	f.Add(fixture(f, "iperf3-P2.json"))
	f.Add(fixture(f, "iperf3-refused.json"))
	f.Add([]byte(`{"start":{"connected":[{}]},"end":{"sum_sent":{"bits_per_second":1e10,"retransmits":3},"sum_received":{"bits_per_second":9e9}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseIperf(b)
		if err != nil {
			return
		}
		if r.Error == "" && (r.SentBps < 0 || r.ReceivedBps < 0 || r.Retransmits < 0) {
			t.Fatalf("negative figures accepted: %+v", r)
		}
	})
}
