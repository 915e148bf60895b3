package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
)

// runCLI runs mosc in-process and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"mosc"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "version", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, out)
	}
	if v["version"] == "" || !strings.HasPrefix(v["go"], "go") {
		t.Errorf("version fields missing: %v", v)
	}
	if _, errOut, code := runCLI(t, "version", "-o", "yaml"); code != exitError || !strings.Contains(errOut, "--output") {
		t.Errorf("bad -o: code %d, stderr %q", code, errOut)
	}
}

func TestCompletion(t *testing.T) {
	for _, tc := range []struct{ shell, want string }{
		{"bash", "complete -o bashdefault"},
		{"zsh", "compdef _mosc"},
		{"fish", "complete -c mosc"},
	} {
		out, errOut, code := runCLI(t, "completion", tc.shell)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("completion %s: code %d, missing %q; stderr %s", tc.shell, code, tc.want, errOut)
		}
	}
	if _, errOut, code := runCLI(t, "completion", "tcsh"); code != exitError || !strings.Contains(errOut, "known: bash, zsh, fish") {
		t.Errorf("completion tcsh: code %d, stderr %q", code, errOut)
	}
}

// The binary answers completion requests with its command names.
func TestCompletionCandidates(t *testing.T) {
	// urfave/cli reads os.Args directly when it completes.
	saved := os.Args
	os.Args = []string{"mosc", "--generate-bash-completion"}
	defer func() { os.Args = saved }()
	out, _, code := runCLI(t, "--generate-bash-completion")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, cmd := range []string{"completion", "version"} {
		if !strings.Contains(out, cmd) {
			t.Errorf("candidates lack %q:\n%s", cmd, out)
		}
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	_, _, code := runCLI(t, "frobnicate")
	if code == 0 {
		t.Errorf("unknown command exited 0")
	}
}

func TestInterspersedFlags(t *testing.T) {
	app := newApp(nil, nil)
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"flags first stay", []string{"mosc", "render", "--openshift", "4.20"}, []string{"mosc", "render", "--openshift", "4.20"}},
		{"flag after argument", []string{"mosc", "remove", "worker", "--dry-run=client"}, []string{"mosc", "remove", "--dry-run=client", "--", "worker"}},
		{"value flag after argument", []string{"mosc", "validate", "out", "--strict", "--profiles", "p"}, []string{"mosc", "validate", "--strict", "--profiles", "p", "--", "out"}},
		{"subcommand", []string{"mosc", "profiles", "show", "doca-3.3", "--profiles", "dir"}, []string{"mosc", "profiles", "show", "--profiles", "dir", "--", "doca-3.3"}},
		{"value that looks like a command", []string{"mosc", "render", "--pool", "render", "-o", "x"}, []string{"mosc", "render", "--pool", "render", "-o", "x"}},
		{"stdin", []string{"mosc", "validate", "-", "--strict"}, []string{"mosc", "validate", "--strict", "--", "-"}},
		{"after -- stays", []string{"mosc", "diff", "a", "--", "-b", "-o"}, []string{"mosc", "diff", "--", "a", "-b", "-o"}},
		{"help command", []string{"mosc", "help", "render"}, []string{"mosc", "help", "render"}},
		{"no command", []string{"mosc", "--help"}, []string{"mosc", "--help"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := interspersed(app, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("interspersed(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// Flags after positional arguments take effect (urfave/cli alone ignored
// them: `validate DIR --strict` was "at most one PATH, got 2").
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, "render", "--openshift", "4.20", "--pool", "master", "-o", dir); code != 0 {
		t.Fatalf("render: exit %d: %s", code, errOut)
	}
	// The master pool is a warning; --strict after the PATH makes it fatal.
	if _, errOut, code := runCLI(t, "validate", dir, "--strict"); code != exitFailure || !strings.Contains(errOut, "--strict") {
		t.Errorf("validate DIR --strict: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "render", "extra", "--openshift", "4.20"); code != exitError || !strings.Contains(errOut, `takes no arguments, got "extra"`) {
		t.Errorf("render extra --openshift: exit %d, stderr %q", code, errOut)
	}
	out, errOut, code := runCLI(t, "profiles", "show", "4.20", "--profiles", dir)
	if code != exitError || out != "" || !strings.Contains(errOut, "unsupported apiVersion") {
		t.Errorf("profiles show NAME --profiles DIR (a rendered bundle is no profile dir): exit %d, stderr %q", code, errOut)
	}
}

func TestUnknownCommandNamesIt(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"profiles", "frob"}} {
		_, errOut, code := runCLI(t, args...)
		if code != exitError || !strings.Contains(errOut, `unknown command "`+args[len(args)-1]+`"`) || !strings.Contains(errOut, "--help") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// A bad flag is one line on stderr and exit 2, never the help on stdout
// (`mosc render --opneshift 4.20 > bundle.yaml` wrote the help into the file).
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"render", "--opneshift", "4.20"}, "error: unknown flag --opneshift; did you mean --openshift? (see mosc render --help)\n"},
		{[]string{"render", "--openshift"}, "error: --openshift needs a value (see mosc render --help)\n"},
		{[]string{"--bogus"}, "error: unknown flag --bogus (see mosc --help)\n"},
		{[]string{"profiles", "show", "--profile", "x", "4.20"}, "error: unknown flag --profile; did you mean --profiles? (see mosc profiles show --help)\n"},
		{[]string{"apply", "--token-ttl", "3x"}, `error: --token-ttl: invalid value "3x": want a duration such as 720h, 90m or 30s (see mosc apply --help)` + "\n"},
		{[]string{"render", "-x"}, "error: unknown flag -x (see mosc render --help)\n"},
	} {
		out, errOut, code := runCLI(t, tc.args...)
		if code != exitError || out != "" || errOut != tc.want {
			t.Errorf("%q: exit %d\nstdout %q\nstderr %q\nwant   %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if out, _, code := runCLI(t, "--version"); code != 0 || !strings.HasPrefix(out, "mosc version ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"openshift", "opneshift", 2}, {"profile", "profiles", 1}, {"a", "bc", 2}} {
		if got := profile.EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
