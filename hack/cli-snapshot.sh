#!/usr/bin/env bash
# cli-snapshot.sh BIN OUT: records what the mosc command line says, so a
# change to its start-up path (issue 15) can be shown to change nothing a
# user sees. For every command and subcommand: --help, -h, `help X`,
# completion scripts and candidates (every flag's values), typo'd
# commands and flags, missing and bad flag values, and a few runs (render to
# stdout and -o DIR with file modes, validate, version); each case's
# stdout, stderr and exit code go to OUT/NNNN.txt. Compare two binaries:
#   hack/cli-snapshot.sh old /tmp/a && hack/cli-snapshot.sh new /tmp/b && diff -r /tmp/a /tmp/b
# Build both with the same VERSION (it is in --help): make build VERSION=snap BIN=...
# Cluster commands run against a kubeconfig that does not exist (their
# error texts are recorded); nothing outside a scratch directory is written.
set -u
bin=$(realpath "$1")
out=$(realpath -m "$2")
rm -rf "$out" && mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$bin" "$scratch/oc-mosc"
ln -s "$bin" "$scratch/mosc"
cd "$scratch" || exit 2
export HOME=$scratch KUBECONFIG=$scratch/no-kubeconfig NO_COLOR=1
unset MOSC_PROFILES
n=0
# run ARGV...: one case.
run() {
	n=$((n + 1))
	local f
	f=$(printf '%s/%04d.txt' "$out" "$n")
	{
		printf '$'
		printf ' %q' "$@"
		printf '\n'
		# A fresh work directory per case: init and render -o write files.
		rm -rf "$scratch/w" && mkdir "$scratch/w"
		(cd "$scratch/w" && timeout 60 "$@" >"$scratch/stdout" 2>"$scratch/stderr" </dev/null)
		echo "exit $?"
		echo "--- stdout"
		cat "$scratch/stdout"
		echo "--- stderr"
		cat "$scratch/stderr"
		if [ -n "$(ls -A "$scratch/w")" ]; then
			echo "--- files"
			(cd "$scratch/w" && find . -printf '%M %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		fi
	} >"$f" 2>&1
}
m=$scratch/mosc
cmds=$($m --generate-bash-completion)

# The top level.
run $m
run $m --help
run $m -h
run $m help
run $m h
run $m --version
run $m -v
run $m help --help
run $m --hlep
run $m -x
run $m rendr
run $m rendr --help
run $m help rendr
run $m help render extra
run $m --generate-bash-completion
run $m "" --generate-bash-completion
run $m - --generate-bash-completion
run $m -- --generate-bash-completion
run $m r --generate-bash-completion
run $m --v --generate-bash-completion
run "$scratch/oc-mosc" --help
run "$scratch/oc-mosc" render --help
run "$scratch/oc-mosc" rendr
run "$scratch/oc-mosc" render --opneshift 4.20
run "$scratch/oc-mosc" completion fish
for shell in bash zsh fish powershell tcsh ""; do
	run $m completion $shell
done
run $m completion bash extra

# Flags of a command: name, and whether it takes a value, from its --help.
flags() {
	"$@" --help | sed -n '/^OPTIONS:/,$p' | grep -E '^ +--' | while read -r line; do
		name=${line#--}
		name=${name%%[ ,]*}
		case $line in
		*"(default: false)" | *"(default: true)") echo "$name bool" ;;
		*) echo "$name value" ;;
		esac
	done
}

# Every command and subcommand.
paths=""
for c in $cmds; do
	paths="$paths $c"
	for s in $($m $c "" --generate-bash-completion); do
		$m $c --help | grep -qE "^   $s[ ,]" && paths="$paths $c/$s"
	done
done
for p in $paths; do
	set -- ${p//\// }
	run $m "$@" --help
	run $m "$@" -h
	run $m help "$@"
	run $m "$@" --help extra
	run $m "$@" --hlep
	run $m "$@" --nosuchflag
	run $m "$@" "" --generate-bash-completion
	run $m "$@" - --generate-bash-completion
	run $m "$@" -- --generate-bash-completion
	run $m "$@" x "" --generate-bash-completion
	if [ $# -eq 1 ]; then
		run $m h "$@"
		run $m "$@" help
		run $m "$@" nosuchsub
	else
		run $m "$1" help "$2"
		run $m "$1" "$2"x
	fi
	flags $m "$@" >"$scratch/flags"
	while read -r name kind; do
		[ "$name" = help ] && continue
		run $m "$@" --$name "" --generate-bash-completion
		run $m "$@" --$name= --generate-bash-completion
		run $m "$@" --${name:0:3} --generate-bash-completion
		run $m "$@" --${name}x --help
		# A typo: the first letter dropped, and two letters swapped.
		run $m "$@" --${name:1} v
		run $m "$@" --${name:1:1}${name:0:1}${name:2} v
		if [ $kind = value ]; then
			run $m "$@" --$name
			run $m "$@" --$name=
			run $m "$@" --$name "" --help
		else
			run $m "$@" --$name=maybe
		fi
		case $name in duration | timeout | interval | wait | *-timeout) run $m "$@" --$name 7parsecs ;; esac
	done <"$scratch/flags"
done

# Runs that reach an action and fail (or succeed) without a cluster.
plan=(--openshift 4.20 --stack doca-3.3 --pool master --internal-registry --storage-class lvms-vg1)
run $m version
run $m version -o json
run $m version -o yaml
run $m version extra
run $m render "${plan[@]}"
run $m render "${plan[@]}" --format json
run $m render "${plan[@]}" --format xml
run $m render "${plan[@]}" -o out
run $m render "${plan[@]}" -o out --format json
run $m render "${plan[@]}" -o ""
run $m render "${plan[@]}" extra
run $m render "${plan[@]}" --cluster c1
run $m render "${plan[@]}" --for argocd
run $m render --fleet f.yaml --all
run $m render --fleet f.yaml --openshift 4.20
run $m render --openshift 4.99
run $m render --openshift 4.20 --stack nosuch
run $m render --openshift 4.20 --pool ""
run $m render --openshift 4.20 --secrets placeholder
run $m render --openshift 4.20 -f nosuch.yaml
run $m render --openshift 4.20 --profiles nosuchdir
run $m render --openshift 4.20 --openshift 4.18
run $m render --openshift=4.20 --stack=doca-3.3:nosuch
run sh -c "$m render ${plan[*]} -o out && $m render ${plan[*]} --pool worker -o out && ls -la --time-style=+ out | awk '{print \$1, \$NF}'"
run sh -c "$m render ${plan[*]} | $m validate -"
run sh -c "$m render ${plan[*]} -o out && $m validate out && $m validate --strict out"
run $m validate
run $m validate nosuchdir
run $m validate "${plan[@]}"
run $m validate "${plan[@]}" --strict
run $m profiles list
run $m profiles show doca-3.3
run $m profiles show nosuch
run $m profiles matrix
run $m init
run $m init --openshift 4.20
run $m diff
run $m status
run $m status --pool worker
run $m watch --timeout 1s
run $m apply "${plan[@]}" --dry-run=client
run $m gate "${plan[@]}" --to 4.21
run $m remove worker --dry-run=client
run $m prune --pool worker
run $m rebuild --pool worker
run $m verify --pool worker
# Site files: one with a typo'd field (issue 15's P4 case), one naming an unknown stack.
printf 'apiVersion: mosc.dev/v1alpha1\nkind: Site\nmetadata:\n  name: lab\nspec:\n  openshift: "4.20"\n  pool: worker\n  stacks: [doca-3.3]\n  registry:\n    internal: true\n    storageClas: lvms-vg1\n' >"$scratch/broken-site.yaml"
printf 'apiVersion: mosc.dev/v1alpha1\nkind: Site\nmetadata:\n  name: lab\nspec:\n  openshift: "4.20"\n  stacks: [doca-9.9]\n' >"$scratch/bad-stack.yaml"
for site in broken-site bad-stack; do
	run $m validate -f "$scratch/$site.yaml"
	run $m validate -f "$scratch/$site.yaml" --strict
	run $m render -f "$scratch/$site.yaml"
	run $m render -f "$scratch/$site.yaml" --profiles nosuchdir
	run $m render -f "$scratch/$site.yaml" -o out
done
# The scratch directory's name is random.
sed -i "s|$scratch|SCRATCH|g" "$out"/*.txt
echo "$n cases in $out"
