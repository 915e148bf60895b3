package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseFailure reads real buildah 1.28 output of failed builds (recorded
// from mosc build runs on the e2e stand-in) and synthetic forms of other
// builder versions.
func TestParseFailure(t *testing.T) {
	read := func(name string) []string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	}
	cases := []struct {
		name        string
		lines       []string
		step, cmd   string
		tail        []string // each must appear in the tail
		notTail     []string
		builderLine string
	}{
		{
			name:  "lint fails on /var/opt content",
			lines: read("buildah-lint-failure.txt"),
			step:  "[3/3] STEP 2/2: RUN set -eux;", cmd: "bootc container lint",
			tail:        []string{"Lint failed: var-tmpfiles", "/var/opt/mellanox/dpdk/lib64/librte_eal.so.25"},
			notTail:     []string{"subprocess exited with status 1"},
			builderLine: "builder: exit status 1",
		},
		{
			name:  "dnf cannot resolve a dependency",
			lines: read("buildah-dnf-failure.txt"),
			step:  "[3/3] STEP 2/2: RUN set -eux;", cmd: "dnf install -y --setopt=install_weak_deps=False doca-all",
			tail:        []string{"nothing provides", "Error:"},
			builderLine: "builder: exit status 1",
		},
		{
			name: "podman 4 / newer buildah wording",
			lines: []string{
				"STEP 1/2: FROM configs AS final", "STEP 2/2: RUN set -eux; dnf install -y doca-all",
				"+ dnf install -y doca-all", "No match for argument: doca-all", "Error: Unable to find a match: doca-all",
				`Error: building at STEP "RUN set -eux; dnf install -y doca-all": while running runtime: exit status 1`,
			},
			step: "STEP 2/2: RUN set -eux; dnf install -y doca-all", cmd: "dnf install -y doca-all",
			tail:        []string{"No match for argument: doca-all", "Error: Unable to find a match: doca-all"},
			builderLine: "builder: while running runtime: exit status 1",
		},
		{
			name:  "no step started (pull failed)",
			lines: []string{"Resolving \"rhcos\"", "Error: creating build container: initializing source docker://rhcos:latest: unauthorized"},
			tail:  []string{"unauthorized"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseFailure(tc.lines)
			if !strings.HasPrefix(f.Step, tc.step) {
				t.Errorf("step = %q, want prefix %q", f.Step, tc.step)
			}
			if f.Command != tc.cmd {
				t.Errorf("command = %q, want %q", f.Command, tc.cmd)
			}
			tail := strings.Join(f.Tail, "\n")
			for _, w := range tc.tail {
				if !strings.Contains(tail, w) {
					t.Errorf("tail lacks %q:\n%s", w, tail)
				}
			}
			for _, w := range tc.notTail {
				if strings.Contains(tail, w) {
					t.Errorf("tail has builder noise %q", w)
				}
			}
			if len(f.Tail) > tailLines {
				t.Errorf("tail has %d lines, at most %d", len(f.Tail), tailLines)
			}
			if f.Builder != tc.builderLine {
				t.Errorf("builder line = %q, want %q", f.Builder, tc.builderLine)
			}
			if msg := f.Error(); tc.cmd != "" && !strings.Contains(msg, "failing command: "+tc.cmd) {
				t.Errorf("message lacks the command:\n%s", msg)
			}
		})
	}
}

func TestLineRing(t *testing.T) {
	r := &lineRing{max: 3}
	for _, chunk := range []string{"a\nb", "\nc\nd\n", "e"} {
		if _, err := r.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(r.lines(), ","); got != "b,c,d,e" {
		t.Errorf("lines = %q, want the last 3 complete lines and the partial one", got)
	}
}

func TestBuildArgs(t *testing.T) {
	p := &Prepared{Dir: "/w/context", ReposDir: "/w/etc-yum-repos-d", KeysDir: "/w/etc-pki-rpm-gpg"}
	o := Options{Tag: "localhost/x:1", AuthFile: "/s/pull.json", Proxy: map[string]string{"HTTP_PROXY": "http://proxy:3128"}}
	got := strings.Join((&Builder{Name: "buildah"}).BuildArgs(p, o), " ")
	want := "bud --file=/w/context/Containerfile --tag localhost/x:1 --authfile=/s/pull.json --build-arg HTTP_PROXY=http://proxy:3128 --build-arg HTTPS_PROXY= --build-arg NO_PROXY= --volume=/w/etc-yum-repos-d:/etc/yum.repos.d:z,rw --volume=/w/etc-pki-rpm-gpg:/etc/pki/rpm-gpg:z,rw /w/context"
	if got != want {
		t.Errorf("buildah args:\n got %s\nwant %s", got, want)
	}
	if got := (&Builder{Name: "podman"}).BuildArgs(&Prepared{Dir: "/c"}, Options{}); got[0] != "build" || strings.Contains(strings.Join(got, " "), "--volume") {
		t.Errorf("podman args = %v", got)
	}
}

func FuzzParseFailure(f *testing.F) {
	for _, name := range []string{"buildah-lint-failure.txt", "buildah-dnf-failure.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl := ParseFailure(strings.Split(s, "\n"))
		if len(fl.Tail) > tailLines {
			t.Fatalf("tail of %d lines", len(fl.Tail))
		}
		_ = fl.Error()
	})
}

// TestBuilderCommandInterrupts: a cancelled build stops the builder with an
// interrupt, so it can remove its working containers (buildah does on
// SIGINT; SIGKILL leaves them). The stand-in builder records the signal.
func TestBuilderCommandInterrupts(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "cleaned")
	ready := filepath.Join(dir, "ready")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := builderCommand(ctx, sh, "-c", `trap 'echo INT > `+marker+`; exit 130' INT; touch `+ready+`; while :; do sleep 0.05; done`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	_ = cmd.Wait()
	b, err := os.ReadFile(marker)
	if err != nil || strings.TrimSpace(string(b)) != "INT" {
		t.Fatalf("the builder was not interrupted (marker %q, %v): a killed buildah leaves its working containers", b, err)
	}
}
