package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask the binary itself for candidates
// (urfave/cli's --generate-bash-completion), so they never go stale.
const bashCompletion = `# bash completion for mosc; load with: source <(mosc completion bash)
_mosc_complete() {
  local cur words cword
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  if [[ ${#COMPREPLY[@]} -eq 0 ]]; then
    COMPREPLY=($(compgen -f -- "${cur}"))
  fi
  return 0
}
complete -o bashdefault -o default -F _mosc_complete mosc oc-mosc kubectl-mosc
`

const zshCompletion = `#compdef mosc oc-mosc kubectl-mosc
# zsh completion for mosc; load with: source <(mosc completion zsh)
_mosc() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
if [[ "$(basename -- ${(%):-%x})" != "_mosc" ]]; then
  compdef _mosc mosc oc-mosc kubectl-mosc
fi
`

func init() {
	register(func() *cli.Command {
		return &cli.Command{
			Name:      "completion",
			Usage:     "print a shell completion script (bash, zsh or fish)",
			ArgsUsage: "bash|zsh|fish",
			Description: `Load completion in the current shell:
   bash:  source <(mosc completion bash)
   zsh:   source <(mosc completion zsh)
   fish:  mosc completion fish | source
Or install it for every session, e.g. mosc completion bash > /etc/bash_completion.d/mosc`,
			Action: func(c *cli.Context) error {
				shell := c.Args().First()
				switch shell {
				case "bash":
					io.WriteString(c.App.Writer, bashCompletion)
				case "zsh":
					io.WriteString(c.App.Writer, zshCompletion)
				case "fish":
					script, err := c.App.ToFishCompletion()
					if err != nil {
						return failWith(exitError, fmt.Errorf("fish completion: %w", err))
					}
					// ToFishCompletion names the program after App.Name, which is
					// "oc mosc" when run as a plugin; fish needs the binary name.
					io.WriteString(c.App.Writer, strings.ReplaceAll(script, "complete -c "+c.App.Name+" ", "complete -c mosc "))
				case "":
					return failWith(exitError, fmt.Errorf("completion: name a shell: bash, zsh or fish"))
				default:
					return failWith(exitError, fmt.Errorf("completion: unknown shell %q; known: bash, zsh, fish", shell))
				}
				return nil
			},
		}
	})
}
