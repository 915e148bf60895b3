package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
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
