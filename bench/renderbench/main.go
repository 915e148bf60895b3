// Command renderbench runs mosc render and the manifest tools it is compared
// with side by side under hyperfine, measures their peak RSS, checks issue
// 15's goals and writes the table into docs/performance.md. It is driven by
// bench/render-bench.sh, which builds the binaries and the inputs.
//
//	renderbench -runs 30 -doc docs/performance.md -work DIR \
//	    -mosc BIN -kustomize BIN -butane BIN [-helm BIN]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

type tool struct {
	name    string   // the row
	argv    []string // the command
	failing bool     // expected to exit non-zero (validate of a broken file)
	median  float64  // seconds, from hyperfine
	mean    float64
	stddev  float64
	user    float64 // seconds, mean
	system  float64 // seconds, mean
	rssKiB  int64   // median of peak RSS over the RSS runs
	minflt  int64   // median of page faults over the RSS runs: unlike time, independent of load
}

func main() {
	runs := flag.Int("runs", 30, "hyperfine runs per command (-N), split over the rounds")
	rounds := flag.Int("rounds", 4, "hyperfine rounds: each runs every command runs/rounds times after 3 warm-up runs, starting with a different one")
	rssRuns := flag.Int("rss-runs", 9, "runs per command for peak RSS (median reported)")
	work := flag.String("work", "", "directory with the inputs render-bench.sh prepared")
	doc := flag.String("doc", "", "write the table into this Markdown file between the bench-render markers")
	mosc := flag.String("mosc", "", "mosc binary")
	kustomize := flag.String("kustomize", "", "kustomize binary")
	butane := flag.String("butane", "", "butane binary")
	helm := flag.String("helm", "", "helm binary (optional)")
	flag.Parse()
	if *work == "" || *mosc == "" || *kustomize == "" || *butane == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *rounds < 1 || *runs < *rounds {
		fmt.Fprintln(os.Stderr, "renderbench: -rounds must be between 1 and -runs")
		os.Exit(2)
	}
	if err := run(*runs, *rounds, *rssRuns, *work, *doc, *mosc, *kustomize, *butane, *helm); err != nil {
		fmt.Fprintln(os.Stderr, "renderbench:", err)
		os.Exit(1)
	}
}

func run(runs, rounds, rssRuns int, work, doc, mosc, kustomize, butane, helm string) error {
	walk := []string{"render", "--openshift", "4.20", "--stack", "doca-3.3", "--pool", "master", "--internal-registry", "--storage-class", "lvms-vg1"}
	render := &tool{name: "mosc render -o DIR (walkthrough)", argv: append(append([]string{mosc}, walk...), "-o", filepath.Join(work, "out"))}
	kust := &tool{name: "kustomize build DIR (the same bundle)", argv: []string{kustomize, "build", filepath.Join(work, "dir")}}
	but := &tool{name: "butane --strict (one-file MachineConfig)", argv: []string{butane, "--strict", filepath.Join(work, "mc.bu")}}
	version := &tool{name: "mosc version (start-up alone)", argv: []string{mosc, "version"}}
	all := &tool{name: "mosc render --all -o DIR (whole catalog)", argv: []string{mosc, "render", "--all", "-o", filepath.Join(work, "all")}}
	validate := &tool{name: "mosc validate -f broken-site.yaml", argv: []string{mosc, "validate", "-f", filepath.Join(work, "broken-site.yaml")}, failing: true}
	tools := []*tool{render, kust, but}
	var helmT *tool
	if helm != "" {
		helmT = &tool{name: "helm template (trivial chart)", argv: []string{helm, "template", "x", filepath.Join(work, "chart")}}
		tools = append(tools, helmT)
	}
	tools = append(tools, version, all, validate)

	// The side-by-side group runs in rounds, the failing one apart (it
	// needs -i). hyperfine runs one command's runs back to back; load on a
	// shared machine drifts over a minute, which would bias a ratio towards
	// whichever command ran in the quieter stretch. Rounds with a rotating
	// first command spread every command over the same stretch of time.
	var ok, failing []*tool
	for _, t := range tools {
		if t.failing {
			failing = append(failing, t)
		} else {
			ok = append(ok, t)
		}
	}
	// The same start for the timings (see evictFromPageCache below).
	for _, t := range tools {
		if err := evictFromPageCache(t.argv[0]); err != nil {
			return err
		}
	}
	if err := hyperfine(work, "ok", runs, rounds, false, ok); err != nil {
		return err
	}
	if err := hyperfine(work, "failing", runs, rounds, true, failing); err != nil {
		return err
	}
	for _, t := range tools {
		// Each tool's binary starts from disk, not from a page cache a
		// fresh build filled: how the kernel cached a file (readahead or
		// the writer's folios) changes how much fault-around maps, so
		// peak RSS would depend on each binary's history (a just-built
		// mosc measured 34.5 MiB, the same file read back from disk 22).
		if err := evictFromPageCache(t.argv[0]); err != nil {
			return err
		}
		if err := peakRSS(t, rssRuns); err != nil {
			return err
		}
	}

	type goal struct {
		id, what string
		met      bool
		detail   string
	}
	goals := []goal{
		{"P1", "render ≤ 0.7× kustomize build (median wall)", render.median <= 0.7*kust.median,
			fmt.Sprintf("%.2f×", render.median/kust.median)},
		{"P1", "render peak RSS ≤ kustomize's", render.rssKiB <= kust.rssKiB,
			fmt.Sprintf("%.1f vs %.1f MiB", mib(render.rssKiB), mib(kust.rssKiB))},
		{"P1", "render ≤ 1.5× butane --strict (median wall)", render.median <= 1.5*but.median,
			fmt.Sprintf("%.2f×", render.median/but.median)},
		{"P2", "render --all ≤ 100 ms (median wall)", all.median <= 0.100,
			fmt.Sprintf("%.1f ms, %d combinations", all.median*1000, countDirs(filepath.Join(work, "all")))},
		{"P4", "validate of a broken site file ≤ 20 ms (median wall)", validate.median <= 0.020,
			fmt.Sprintf("%.1f ms", validate.median*1000)},
	}

	var b strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "Measured %s on %s/%s, %d CPUs, load average %s (at the end of the run); hyperfine -N, %d runs per command in %d rounds (each after 3 warm-up runs, the first command rotating); peak RSS and page faults are the median of %d runs (GNU time).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "), runs, rounds, rssRuns)
	b.WriteString("| command | median | mean ± σ | user / system (mean) | peak RSS | page faults |\n|---|---:|---:|---:|---:|---:|\n")
	for _, t := range tools {
		fmt.Fprintf(&b, "| `%s` | %.1f ms | %.1f ± %.1f ms | %.1f / %.1f ms | %.1f MiB | %d |\n", t.name, t.median*1000, t.mean*1000, t.stddev*1000, t.user*1000, t.system*1000, mib(t.rssKiB), t.minflt)
	}
	b.WriteString("\n| goal | target | measured | met |\n|---|---|---:|:---:|\n")
	for _, g := range goals {
		mark := "**no**"
		if g.met {
			mark = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.id, g.what, g.detail, mark)
	}
	fmt.Fprintf(&b, "\nVersions: %s; %s; %s", firstLine(mosc, "version"), firstLine(kustomize, "version"), firstLine(butane, "--version"))
	if helmT != nil {
		fmt.Fprintf(&b, "; helm %s", firstLine(helm, "version", "--short"))
	}
	b.WriteString(".\n")
	fmt.Print("\n" + b.String())
	if doc != "" {
		if err := writeSection(doc, b.String()); err != nil {
			return err
		}
		fmt.Printf("\nwrote the table into %s\n", doc)
	}
	return nil
}

// hyperfine runs the tools in rounds and fills in their statistics over
// the runs of all rounds.
func hyperfine(work, tag string, runs, rounds int, ignoreFailure bool, tools []*tool) error {
	if len(tools) == 0 {
		return nil
	}
	times := make([][]float64, len(tools))
	// hyperfine reports user and system time as means per round: summed
	// here weighted by the round's runs.
	user, system := make([]float64, len(tools)), make([]float64, len(tools))
	for r := range rounds {
		n := runs/rounds + btoi(r < runs%rounds)
		order := make([]int, len(tools))
		for i := range order {
			order[i] = (r + i) % len(tools)
		}
		out := filepath.Join(work, fmt.Sprintf("hyperfine-%s-%d.json", tag, r))
		args := []string{"-N", "--warmup", "3", "--runs", fmt.Sprint(n), "--export-json", out, "--style", "basic"}
		if ignoreFailure {
			args = append(args, "-i")
		}
		for _, i := range order {
			args = append(args, "-n", tools[i].name, shellJoin(tools[i].argv))
		}
		cmd := exec.Command("hyperfine", args...)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		fmt.Printf("round %d of %d (%d runs each)...\n", r+1, rounds, n)
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("hyperfine: %w", err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		var res struct {
			Results []struct {
				Times  []float64 `json:"times"`
				User   float64   `json:"user"`
				System float64   `json:"system"`
			} `json:"results"`
		}
		if err := json.Unmarshal(data, &res); err != nil {
			return fmt.Errorf("%s: %w", out, err)
		}
		if len(res.Results) != len(tools) {
			return fmt.Errorf("%s: %d results for %d commands", out, len(res.Results), len(tools))
		}
		for k, i := range order {
			got := res.Results[k]
			times[i] = append(times[i], got.Times...)
			user[i] += got.User * float64(len(got.Times))
			system[i] += got.System * float64(len(got.Times))
		}
	}
	for i, t := range tools {
		t.median, t.mean, t.stddev = stats(times[i])
		t.user, t.system = user[i]/float64(len(times[i])), system[i]/float64(len(times[i]))
		fmt.Printf("%-45s median %6.1f ms  mean %6.1f ± %4.1f ms  (%d runs)\n", t.name, t.median*1000, t.mean*1000, t.stddev*1000, len(times[i]))
	}
	return nil
}

// stats returns the median, mean and sample standard deviation (as
// hyperfine reports them).
func stats(xs []float64) (median, mean, stddev float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		median = s[n/2]
	} else {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	for _, x := range s {
		mean += x
	}
	mean /= float64(len(s))
	if len(s) > 1 {
		var ss float64
		for _, x := range s {
			ss += (x - mean) * (x - mean)
		}
		stddev = math.Sqrt(ss / float64(len(s)-1))
	}
	return median, mean, stddev
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// peakRSS runs t n times and sets the medians of its peak RSS and minor
// page faults, as GNU time reports them. Not from this process's wait4:
// Go's os/exec starts children with clone(CLONE_VM|CLONE_VFORK), and Linux's
// exec carries the old address space's high-water RSS into the new
// program's maxrss (fs/exec.c, exec_mmap → setmax_mm_hiwater_rss), so a
// child started from Go reports at least its parent's RSS: for a lean tool
// (butane) that is this program's. GNU time forks from a small C process.
func peakRSS(t *tool, n int) error {
	var rss, flt []int64
	out := filepath.Join(os.TempDir(), fmt.Sprintf("renderbench-time-%d", os.Getpid()))
	defer os.Remove(out)
	for range n {
		cmd := exec.Command(gnuTime, append([]string{"-f", "%M %R", "-o", out, "--"}, t.argv...)...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !(t.failing && errors.As(err, &ee)) {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if err == nil && t.failing {
			return fmt.Errorf("%s: exited 0, expected a failure", t.name)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		// On a non-zero exit GNU time writes "Command exited with
		// non-zero status N" first: the figures are on the last line.
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		var kib, faults int64
		if _, err := fmt.Sscanf(lines[len(lines)-1], "%d %d", &kib, &faults); err != nil {
			return fmt.Errorf("%s: GNU time wrote %q: %v", t.name, data, err)
		}
		rss = append(rss, kib)
		flt = append(flt, faults)
	}
	slices.Sort(rss)
	slices.Sort(flt)
	t.rssKiB, t.minflt = rss[len(rss)/2], flt[len(flt)/2]
	return nil
}

// evictFromPageCache drops a file's pages from the page cache
// (POSIX_FADV_DONTNEED), so its next run reads it from disk.
func evictFromPageCache(path string) error {
	if p, err := exec.LookPath(path); err == nil {
		path = p
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// gnuTime is GNU time (Debian package time), not the shell keyword.
const gnuTime = "/usr/bin/time"

func mib(kib int64) float64 { return float64(kib) / 1024 }

func countDirs(dir string) int {
	es, _ := os.ReadDir(dir)
	n := 0
	for _, e := range es {
		if e.IsDir() {
			n++
		}
	}
	return n
}

func firstLine(bin string, args ...string) string {
	out, _ := exec.Command(bin, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(filepath.Base(bin) + " " + line)
}

// shellJoin quotes for hyperfine, which splits its command strings itself
// under -N (no shell).
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

const (
	beginMarker = "<!-- bench-render:begin (bench/render-bench.sh writes this section) -->"
	endMarker   = "<!-- bench-render:end -->"
)

// writeSection replaces the text between the markers (or appends them).
func writeSection(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	block := beginMarker + "\n" + section + endMarker + "\n"
	var out []byte
	if i, j := bytes.Index(old, []byte(beginMarker)), bytes.Index(old, []byte(endMarker)); i >= 0 && j > i {
		k := j + len(endMarker)
		if k < len(old) && old[k] == '\n' {
			k++
		}
		out = append(append(append([]byte{}, old[:i]...), block...), old[k:]...)
	} else {
		out = append(append(old, '\n'), block...)
	}
	return os.WriteFile(path, out, 0o644)
}
