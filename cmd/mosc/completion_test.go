package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// complete runs a completion request the way the shell scripts send it:
// the words typed, the word under the cursor, then the completion flag.
func complete(t *testing.T, words ...string) ([]string, string, int) {
	t.Helper()
	out, errOut, code := runCLI(t, append(words, completionFlag)...)
	return strings.Fields(out), errOut, code
}

func TestCompletionCandidatesTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words []string
		want  []string // exactly, in order
	}{
		{"commands", []string{""}, []string{"apply", "build", "completion", "diff", "gate", "init", "profiles", "prune", "rebuild", "remove", "render", "status", "validate", "verify", "version", "watch"}},
		{"command prefix", []string{"re"}, []string{"rebuild", "remove", "render"}},
		{"remove --pool", []string{"remove", "--po"}, []string{"--pool"}},
		{"rebuild dry run", []string{"rebuild", "--dry-run", ""}, []string{"none", "client", "server"}},
		{"rebuild output", []string{"rebuild", "-o", ""}, []string{"live", "plain", "json"}},
		{"apply --rebuild", []string{"apply", "--reb"}, []string{"--rebuild"}},
		{"prune --keep", []string{"prune", "--ke"}, []string{"--keep"}},
		{"prune output", []string{"prune", "-o", ""}, []string{"text", "json"}},
		{"status --images", []string{"status", "--im"}, []string{"--images"}},
		{"subcommands", []string{"profiles", ""}, []string{"list", "show", "matrix"}},
		{"flag prefix", []string{"render", "--op"}, []string{"--openshift"}},
		{"top-level flags", []string{"--"}, []string{"--help", "--version"}},
		{"releases", []string{"render", "--openshift", ""}, []string{"4.16", "4.17", "4.18", "4.19", "4.20", "4.21", "4.22"}},
		{"fleet engines", []string{"render", "--fleet", "f.yaml", "--for", ""}, []string{"argocd", "acm", "acm-policygenerator"}},
		{"fleet flags", []string{"gate", "--par"}, []string{"--parallel"}},
		{"diff --fleet sides", []string{"diff", "--from-"}, []string{"--from-fleet", "--from-profiles", "--from-tree"}},
		{"release prefix", []string{"validate", "-f", "x.yaml", "--openshift", "4.2"}, []string{"4.20", "4.21", "4.22"}},
		{"platforms", []string{"init", "--platform", ""}, []string{"rhel9-aarch64", "rhel9-bluefield", "rhel9-x86_64"}},
		{"stack variants", []string{"render", "--stack", "doca-3.3"}, []string{"doca-3.3", "doca-3.3:full", "doca-3.3:ovs"}},
		{"usage choices", []string{"apply", "--dry-run", ""}, []string{"none", "client", "server"}},
		{"apply push credential", []string{"apply", "--push-credential", ""}, []string{"long-lived", "token"}},
		{"usage choices with parentheses", []string{"watch", "-o", ""}, []string{"live", "plain", "json"}},
		{"flag=value", []string{"render", "--format=j"}, []string{"--format=json"}},
		{"file flag leaves paths to the shell", []string{"render", "-o", ""}, nil},
		{"prose usage is no list", []string{"watch", "--timeout", ""}, nil},
		{"profile names", []string{"profiles", "show", "rhel9-a"}, []string{"rhel9-aarch64"}},
		{"shells", []string{"completion", ""}, []string{"bash", "zsh", "fish"}},
		{"one positional only", []string{"completion", "bash", ""}, nil},
		{"leaf command has no words", []string{"apply", ""}, nil},
		{"unknown flag", []string{"render", "--nope", ""}, nil},
		{"build OS image streams", []string{"build", "--stream", ""}, []string{"rhel-coreos", "rhel-coreos-10"}},
		{"build report formats", []string{"build", "-o", ""}, []string{"table", "json"}},
		{"gate --via releases", []string{"gate", "--to", "4.20", "--via", "4.1"}, []string{"4.16", "4.17", "4.18", "4.19"}},
		{"gate --build OS image tags", []string{"gate", "--stream", ""}, []string{"rhel-coreos", "rhel-coreos-10"}},
		{"build plan flags", []string{"build", "--stack", "doca-3.3:"}, []string{"doca-3.3:full", "doca-3.3:ovs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errOut, code := complete(t, tc.words...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("candidates for %q:\n got %q\nwant %q", tc.words, got, tc.want)
			}
		})
	}
}

// "--" and a flag still waiting for its value used to reach urfave/cli,
// which ran the command (mosc remove -- deleted the site) or panicked.
// A completion request must never run a command, whatever the words.
func TestCompletionNeverRunsCommands(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "kubeconfig"))
	dir := t.TempDir()
	for _, words := range [][]string{
		{"remove", "--"},
		{"apply", "--", ""},
		{"watch", "--"},
		{"render", "--openshift", "4.20", "-o", dir, "--"},
		{"render", "--openshift"},
		{"diff", "--op"},
		{"init", "-o", filepath.Join(dir, "mosc.yaml"), ""},
		{"profiles", "show", "--profiles"},
	} {
		got, errOut, code := complete(t, words...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", words, code, errOut)
		}
		if words[len(words)-1] == "--" && len(got) == 0 {
			t.Errorf("%q: no flags offered", words)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a completion request wrote files: %v", entries)
	}
}

// The bash script itself, driven as bash's completion would: words split at
// ':' and '=' by COMP_WORDBREAKS must still complete NAME:VARIANT.
func TestBashCompletionScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	bin := filepath.Join(t.TempDir(), "mosc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script := `source <("$MOSC" completion bash)
t() { COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=($COMP_LINE); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _mosc_complete; echo "${COMPREPLY[*]}"; }
t "mosc render --openshift 4.2"
t "mosc render --stack doca-3.3:o"
t "mosc apply --dry-run=s"
t "mosc remove --re"
`
	cmd := exec.Command(bash, "-c", script)
	cmd.Env = append(os.Environ(), "MOSC="+bin, "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := "4.20 4.21 4.22\novs\nserver\n--registry\n"
	if string(out) != want {
		t.Errorf("bash completion replies:\n got %q\nwant %q", out, want)
	}
}
