//go:build mosc_memprof

package watch

// A test-only hook (build tag mosc_memprof, used by the e2e benchmark
// BenchmarkWatch1000Nodes when MOSC_BENCH_MEMPROFILE is set; never in a
// release binary). With MOSC_MEMPROFILE=DIR the process writes, each time
// its resident set reaches a new high (VmRSS, polled every 10 ms), what it
// is made of to DIR/peak-rss.txt (smaps_rollup, the runtime's memory
// classes, the goroutine count) and DIR/peak-smaps.txt (per mapping), and a
// heap profile to DIR/heap-peak.pprof, so the picture of the moment RSS
// peaked is on disk when the process ends.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

func init() {
	dir := os.Getenv("MOSC_MEMPROFILE")
	if dir == "" {
		return
	}
	go func() {
		var peak int64
		start := time.Now()
		for range time.Tick(10 * time.Millisecond) {
			rss := vmRSS()
			if rss < peak+1024 { // KiB: a new high by 1 MiB at least
				continue
			}
			peak = rss
			var b bytes.Buffer
			fmt.Fprintf(&b, "at %s: VmRSS %d KiB, goroutines %d\n\n", time.Since(start).Round(time.Millisecond), rss, runtime.NumGoroutine())
			all := metrics.All()
			s := make([]metrics.Sample, 0, len(all))
			for _, d := range all {
				if strings.HasPrefix(d.Name, "/memory/classes/") || strings.HasPrefix(d.Name, "/gc/heap/") || strings.HasPrefix(d.Name, "/gc/stack/") || strings.HasPrefix(d.Name, "/sched/goroutines") {
					s = append(s, metrics.Sample{Name: d.Name})
				}
			}
			metrics.Read(s)
			for _, m := range s {
				if m.Value.Kind() == metrics.KindUint64 {
					fmt.Fprintf(&b, "%-50s %10.1f KiB\n", m.Name, float64(m.Value.Uint64())/1024)
				}
			}
			b.WriteString("\n")
			if r, err := os.ReadFile("/proc/self/smaps_rollup"); err == nil {
				b.Write(r)
			}
			_ = os.WriteFile(filepath.Join(dir, "peak-rss.txt"), b.Bytes(), 0o644)
			if r, err := os.ReadFile("/proc/self/smaps"); err == nil {
				_ = os.WriteFile(filepath.Join(dir, "peak-smaps.txt"), r, 0o644)
			}
			write(filepath.Join(dir, "heap-peak.pprof"))
		}
	}()
}

func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func write(path string) {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return
	}
	if pprof.Lookup("heap").WriteTo(f, 0) == nil && f.Close() == nil {
		_ = os.Rename(path+".tmp", path)
	}
}
