#!/usr/bin/env bash
# Compares the wall time of the `mosc render -o DIR` process with
# `kustomize build DIR` of the same output, on this machine. Uses hyperfine
# when installed (apt-get install -y hyperfine), else a loop timed with date.
# Usage: bench/render-vs-kustomize.sh [RUNS]   (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -trimpath -ldflags "-s -w" -o "$work/mosc" ./cmd/mosc
kustomize=$(command -v kustomize || echo "$(go env GOPATH)/bin/kustomize")
[ -x "$kustomize" ] || { echo "kustomize not found (make deps installs it)" >&2; exit 2; }

# The walkthrough's bundle: the issue's "done when" command.
args=(render --openshift 4.20 --stack doca-3.3 --pool master --internal-registry --storage-class lvms-vg1)
"$work/mosc" "${args[@]}" -o "$work/dir" 2>/dev/null

echo "mosc: $("$work/mosc" version)"
echo "kustomize: $("$kustomize" version)"
echo "objects: $(grep -c '^- ' "$work/dir/kustomization.yaml")"

if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 5 --runs "$runs" \
		-n "mosc render -o DIR" "$work/mosc ${args[*]} -o $work/out" \
		-n "kustomize build DIR" "$kustomize build $work/dir"
else
	bench() {
		local name=$1; shift
		local start end
		start=$(date +%s%N)
		for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
		end=$(date +%s%N)
		printf '%-22s %8.2f ms/run (%d runs)\n' "$name" "$(echo "($end - $start) / $runs / 1000000" | bc -l)" "$runs"
	}
	bench "mosc render -o DIR" "$work/mosc" "${args[@]}" -o "$work/out"
	bench "kustomize build DIR" "$kustomize" build "$work/dir"
fi
