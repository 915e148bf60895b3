package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// InstallHint is printed when neither builder is on PATH.
const InstallHint = "mosc build needs buildah (the builder MCO uses) or podman on PATH: dnf install buildah / apt-get install buildah"

// Builder is buildah or podman. Both read their own environment
// (CONTAINERS_STORAGE_CONF, STORAGE_DRIVER, BUILDAH_ISOLATION, REGISTRY_AUTH_FILE),
// so mosc passes none of those as flags.
type Builder struct {
	Name string // "buildah" or "podman"
	Path string
}

// ErrNoBuilder: neither buildah nor podman is on PATH.
var ErrNoBuilder = errors.New(InstallHint)

// FindBuilder returns buildah if it is on PATH, else podman.
func FindBuilder() (*Builder, error) {
	for _, n := range []string{"buildah", "podman"} {
		if p, err := exec.LookPath(n); err == nil {
			return &Builder{Name: n, Path: p}, nil
		}
	}
	return nil, ErrNoBuilder
}

// Options of one build.
type Options struct {
	Tag string
	// AuthFile is a dockerconfigjson to pull the base (and extensions) image
	// (MCO: --authfile="$BASE_IMAGE_PULL_CREDS").
	AuthFile string
	// Log receives the builder's output as it runs (mosc: stderr).
	Log io.Writer
	// Proxy: MCO passes the cluster proxy as HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY build args; locally they come from the environment.
	Proxy map[string]string
}

// ProxyFromEnv reads the proxy variables MCO passes as build args.
func ProxyFromEnv() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"} {
		v := os.Getenv(k)
		if v == "" {
			v = os.Getenv(strings.ToLower(k))
		}
		out[k] = v
	}
	return out
}

// BuildArgs is the builder command line, as MCO's buildah-build.sh builds
// it (release-4.20: build_args and the --volume copies), minus
// --storage-driver vfs and --log-level=DEBUG: the storage driver is the
// user's (STORAGE_DRIVER, storage.conf), and the debug log would bury dnf's.
func (b *Builder) BuildArgs(p *Prepared, o Options) []string {
	sub := "bud"
	if b.Name == "podman" {
		sub = "build"
	}
	args := []string{sub, "--file=" + p.Dir + "/" + contextContainerfile}
	if o.Tag != "" {
		args = append(args, "--tag", o.Tag)
	}
	if o.AuthFile != "" {
		args = append(args, "--authfile="+o.AuthFile)
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"} {
		args = append(args, "--build-arg", k+"="+o.Proxy[k])
	}
	// MCO: mount_opts="z,rw".
	if p.ReposDir != "" {
		args = append(args, "--volume="+p.ReposDir+":"+YumReposDir+":z,rw")
	}
	if p.KeysDir != "" {
		args = append(args, "--volume="+p.KeysDir+":"+RPMGPGDir+":z,rw")
	}
	return append(args, p.Dir)
}

// Failure is a failed build: the step and the output that says why.
type Failure struct {
	// Step is the builder's "STEP n/m: INSTRUCTION" line (stage prefix kept).
	Step string
	// Command is the last shell command traced (set -x) in that step.
	Command string
	// Tail is the last lines the step printed (dnf/rpm output).
	Tail []string
	// Builder is the builder's own error line.
	Builder string
	Err     error
}

func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString("build failed")
	if f.Step != "" {
		fmt.Fprintf(&b, " at %s", truncate(f.Step, 80))
	}
	if f.Command != "" {
		fmt.Fprintf(&b, "\nfailing command: %s", truncate(f.Command, 300))
	}
	if len(f.Tail) > 0 {
		b.WriteString("\nlast output of the step:")
		for _, l := range f.Tail {
			b.WriteString("\n  " + l)
		}
	}
	if f.Builder != "" {
		b.WriteString("\n" + f.Builder)
	} else if f.Err != nil {
		fmt.Fprintf(&b, "\n%v", f.Err)
	}
	return b.String()
}

func (f *Failure) Unwrap() error { return f.Err }

// tailLines is how much build output is kept to explain a failure.
const (
	keepLines = 2000
	tailLines = 15
)

// Build runs the build, streaming its output to o.Log. A failed build is a
// *Failure; any other error means the builder could not run.
func (b *Builder) Build(ctx context.Context, p *Prepared, o Options) error {
	cmd := builderCommand(ctx, b.Path, b.BuildArgs(p, o)...)
	ring := &lineRing{max: keepLines}
	var log io.Writer = ring
	if o.Log != nil {
		log = io.MultiWriter(o.Log, ring)
	}
	cmd.Stdout, cmd.Stderr = log, log
	err := cmd.Run()
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("%s: %w", b.Name, err)
	}
	f := ParseFailure(ring.lines())
	f.Err = err
	return f
}

var (
	stepRE = lazyre.New(`^(\[\d+/\d+\] )?STEP \d+(/\d+)?: `)
	// buildah 1.2x: `error building at STEP "RUN ...": ...`; newer buildah and
	// podman: `Error: building at STEP "RUN ...": ...`.
	builderErrRE = lazyre.New(`^(time=.*level=error msg=")?(Error: |error )?building at STEP `)
)

// ParseFailure finds, in a failed build's output, the last step started,
// its output and the builder's error line.
func ParseFailure(lines []string) *Failure {
	f := &Failure{}
	start := -1
	for i, l := range lines {
		if stepRE.MatchString(l) {
			start = i
		}
	}
	end := len(lines)
	for i := len(lines) - 1; i > start; i-- {
		if builderErrRE.MatchString(lines[i]) {
			// The line repeats the whole RUN instruction; keep the reason.
			l := strings.TrimSpace(lines[i])
			if j := strings.LastIndex(l, `": `); j >= 0 {
				l = l[j+3:]
			}
			f.Builder = "builder: " + l
			end = i
			break
		}
	}
	if start < 0 {
		f.Tail = lastN(nonEmpty(lines[:end]), tailLines)
		return f
	}
	f.Step = lines[start]
	out := nonEmpty(lines[start+1 : end])
	var kept []string
	for _, l := range out {
		if strings.HasPrefix(l, "+ ") {
			f.Command = strings.TrimPrefix(l, "+ ")
		}
		// The builder's own noise after the step's output.
		if strings.HasPrefix(l, "ERRO[") || strings.HasPrefix(l, "subprocess exited with status") {
			continue
		}
		kept = append(kept, l)
	}
	f.Tail = lastN(kept, tailLines)
	return f
}

func nonEmpty(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, strings.TrimRight(l, "\r"))
		}
	}
	return out
}

func lastN(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// lineRing keeps the last max lines written to it.
type lineRing struct {
	mu      sync.Mutex
	max     int
	partial []byte
	buf     []string
}

func (r *lineRing) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data := append(r.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		r.buf = append(r.buf, string(data[:i]))
		data = data[i+1:]
	}
	r.partial = append([]byte(nil), data...)
	if len(r.buf) > r.max {
		r.buf = append([]string(nil), r.buf[len(r.buf)-r.max:]...)
	}
	return len(p), nil
}

func (r *lineRing) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.buf...)
	if len(r.partial) > 0 {
		out = append(out, string(r.partial))
	}
	return out
}

// Exec runs script with /bin/sh inside a fresh container of image and
// returns its output; the container is removed afterwards. Inspection uses it.
func (b *Builder) Exec(ctx context.Context, image, script string) ([]byte, error) {
	if b.Name == "podman" {
		out, err := builderCommand(ctx, b.Path, "run", "--rm", "--pull=never", "--network=none", "--entrypoint=/bin/sh", image, "-c", script).Output()
		return out, commandError(b.Name+" run", err)
	}
	idb, err := builderCommand(ctx, b.Path, "from", "--pull-never", "--quiet", image).Output()
	if err != nil {
		return nil, commandError("buildah from "+image, err)
	}
	id := strings.TrimSpace(string(idb))
	defer exec.Command(b.Path, "rm", id).Run() //nolint:errcheck // best effort: a left container is listed by buildah containers
	out, err := builderCommand(ctx, b.Path, "run", "--network=none", id, "--", "/bin/sh", "-c", script).Output()
	return out, commandError("buildah run", err)
}

// Push pushes the built image with the given auth file
// (MCO: buildah push --authfile="$FINAL_IMAGE_PUSH_CREDS").
func (b *Builder) Push(ctx context.Context, tag, authFile string, log io.Writer) error {
	args := []string{"push"}
	if authFile != "" {
		args = append(args, "--authfile="+authFile)
	}
	args = append(args, tag)
	cmd := builderCommand(ctx, b.Path, args...)
	var errb bytes.Buffer
	cmd.Stdout = log
	cmd.Stderr = io.MultiWriter(log, &errb)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s push %s: %v: %s", b.Name, tag, err, lastLine(errb.String()))
	}
	return nil
}

// builderCommand is exec.CommandContext that stops the builder with an
// interrupt, as Ctrl-C in a terminal would, and kills it only if it has not
// exited BuilderStopGrace later. buildah removes its working containers on
// SIGINT or SIGTERM; killed, it leaves them, each a full copy of the base
// image on vfs (the e2e harness's storage once held 28 GB of them, left by
// builds whose test timed out).
func builderCommand(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = BuilderStopGrace
	return cmd
}

// BuilderStopGrace is how long a cancelled builder may take to clean up.
const BuilderStopGrace = 30 * time.Second

func commandError(what string, err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%s: %v: %s", what, err, lastLine(string(ee.Stderr)))
	}
	return fmt.Errorf("%s: %v", what, err)
}

func lastLine(s string) string {
	lines := nonEmpty(strings.Split(s, "\n"))
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}
