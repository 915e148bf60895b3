package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/e2e/harness"
	"github.com/mosc-dev/mosc/e2e/sim"
)

// env is the one cluster every test of the package shares; call
// env.Reset(ctx) (or resetEnv(t)) first for a fresh state.
var env *harness.Cluster

func TestMain(m *testing.M) {
	code := harness.Main(m, harness.Options{}, &env)
	// The mosc binary is ~80 MB; leaving one per run fills /tmp on a CI machine.
	if moscBin != "" {
		os.RemoveAll(filepath.Dir(moscBin))
	}
	os.Exit(code)
}

var (
	moscOnce  sync.Once
	moscBin   string // path of the mosc binary, built on first use (see buildMosc)
	moscErr   error
	moscBuild []byte
)

// buildMosc builds ./cmd/mosc once for the package. cmd/mosc is written in
// parallel with these tests, so a build failure fails the calling test, not
// the package.
func buildMosc(t testing.TB) string {
	t.Helper()
	moscOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mosc-e2e-bin-")
		if err != nil {
			moscErr = err
			return
		}
		out := filepath.Join(dir, "mosc")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/mosc")
		cmd.Dir = ".."
		moscBuild, moscErr = cmd.CombinedOutput()
		if moscErr == nil {
			moscBin = out
		}
	})
	if moscErr != nil {
		t.Fatalf("build ./cmd/mosc: %v\n%s", moscErr, moscBuild)
	}
	return moscBin
}

// buildMoscTags builds another mosc binary with build tags (test-only hooks
// such as mosc_memprof); not cached.
func buildMoscTags(t testing.TB, tags string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "mosc")
	cmd := exec.Command("go", "build", "-tags", tags, "-o", out, "./cmd/mosc")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ./cmd/mosc -tags %s: %v\n%s", tags, err, b)
	}
	return out
}

// runMosc runs the mosc binary with KUBECONFIG set to the admin kubeconfig
// and returns its stdout, stderr and exit code.
func runMosc(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runMoscWith(t, moscRun{Env: []string{"KUBECONFIG=" + env.Kubeconfig}}, args...)
}

// moscRun adjusts one mosc invocation.
type moscRun struct {
	Env     []string        // extra environment (KEY=VALUE), after KUBECONFIG
	Stdin   []byte          // standard input
	Dir     string          // working directory (default: a temp dir)
	Timeout time.Duration   // default 2 minutes
	Ctx     context.Context // cancels the run (e.g. to send Ctrl-C tests)
	// Stdout also receives the standard output as it comes (a *lines, for
	// a test that acts once the command has printed something).
	Stdout io.Writer
}

// lines collects a background command's output line by line, so a test can
// wait for what the command has shown instead of sleeping a fixed time (a
// watch started under load may take seconds to sync).
type lines struct {
	mu     sync.Mutex
	buf    []byte
	got    []string
	notify chan struct{} // closed and replaced on each new line or at the end
	ended  bool
}

func newLines() *lines { return &lines{notify: make(chan struct{})} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.got = append(l.got, string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	close(l.notify)
	l.notify = make(chan struct{})
	return len(p), nil
}

// end says the command has exited (no line will come).
func (l *lines) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = true
	close(l.notify)
	l.notify = make(chan struct{})
}

// waitFor blocks until a line matches, and fails the test if the command
// ends or ctx is done first; what names the line for the failure.
func (l *lines) waitFor(t testing.TB, ctx context.Context, what string, match func(string) bool) {
	t.Helper()
	for i := 0; ; {
		l.mu.Lock()
		for ; i < len(l.got); i++ {
			if match(l.got[i]) {
				l.mu.Unlock()
				return
			}
		}
		ended, notify := l.ended, l.notify
		l.mu.Unlock()
		if ended {
			t.Fatalf("the command ended before it showed %s", what)
		}
		select {
		case <-notify:
		case <-ctx.Done():
			t.Fatalf("the command did not show %s: %v", what, ctx.Err())
		}
	}
}

// runMoscWith runs mosc with options; a KUBECONFIG in o.Env overrides the admin's.
func runMoscWith(t testing.TB, o moscRun, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := buildMosc(t)
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	ctx := o.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+env.Kubeconfig, "NO_COLOR=1"), o.Env...)
	cmd.Dir = o.Dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	if o.Stdin != nil {
		cmd.Stdin = bytes.NewReader(o.Stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if o.Stdout != nil {
		cmd.Stdout = io.MultiWriter(&out, o.Stdout)
		if l, ok := o.Stdout.(*lines); ok {
			defer l.end()
		}
	}
	err := cmd.Run()
	code = 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("run mosc %v: %v", args, err)
		}
	}
	return out.String(), errb.String(), code
}

// resetEnv gives a test a freshly seeded cluster and fails it if that fails.
// It also resets after the test (cleanups run last-in first-out, so after a
// simulator started later has stopped): tests that do not call resetEnv —
// dry-run checks, say — still start from a clean cluster.
func resetEnv(t testing.TB) {
	t.Helper()
	reset := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return env.Reset(ctx)
	}
	if err := reset(); err != nil {
		t.Fatalf("reset cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := reset(); err != nil {
			t.Errorf("reset cluster after the test: %v", err)
		}
	})
}

// startSim resets nothing; it runs a simulator for the test's lifetime (stopped
// in Cleanup, before the next test's Reset) and waits until it reacts.
func startSim(t testing.TB, f sim.Faults) *sim.Simulator {
	t.Helper()
	s := env.NewSimulator(f, t.Logf)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("simulator: %v", err)
		}
		// Every object the simulator writes must pass the real validation.
		for _, r := range s.Rejected() {
			t.Errorf("the API server rejected a simulator write: %s", r)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("simulator stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("simulator not ready after 30s")
	}
	return s
}

func ciEnv() string { return os.Getenv("CI") }
