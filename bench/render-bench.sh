#!/usr/bin/env bash
# Issue 15's side-by-side benchmark: `mosc render -o DIR` of the walkthrough
# against `kustomize build` of its own output, `butane --strict` of a
# one-file MachineConfig and (when installed) `helm template` of a trivial
# chart; plus `mosc render --all` (the whole catalog) and `mosc validate` of a
# broken site file. hyperfine -N for wall time, getrusage for peak RSS. Prints
# the table with the goals' ratios and writes it into docs/performance.md.
#
# Usage: bench/render-bench.sh [RUNS]   (default 30; `make bench-render`)
# Needs: go, hyperfine, kustomize (make deps installs both). butane v0.25.1
# is built here from the Go module proxy (`go install` of it fails on the
# module's version list, so: go mod download, then build ./internal).
# Numbers are only comparable on an otherwise idle machine: the table
# records the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/mosc/bench
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v hyperfine >/dev/null || { echo "render-bench: hyperfine not found (apt-get install -y hyperfine, or make deps)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "render-bench: GNU time not found (apt-get install -y time, or make deps)" >&2; exit 2; }
kustomize=$(command -v kustomize || echo "$(go env GOPATH)/bin/kustomize")
[ -x "$kustomize" ] || { echo "render-bench: kustomize not found (make deps installs it)" >&2; exit 2; }

# mosc exactly as `make build` builds it.
make -s build BIN="$work/mosc"
go build -o "$work/renderbench" ./bench/renderbench

# butane v0.25.1, pinned, built once into the cache (its dependencies from the module proxy).
butane=$cache/butane-v0.25.1
if [ ! -x "$butane" ]; then
	dir=$(GOFLAGS=-mod=mod go mod download -json github.com/coreos/butane@v0.25.1 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || { echo "render-bench: go mod download of butane v0.25.1 failed" >&2; exit 2; }
	(cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X github.com/coreos/butane/internal/version.Raw=v0.25.1" -o "$butane" ./internal)
fi

# Inputs: the walkthrough's bundle for kustomize, a one-file MachineConfig for
# butane, a trivial chart for helm, a site file with a typo for validate.
"$work/mosc" render --openshift 4.20 --stack doca-3.3 --pool master --internal-registry --storage-class lvms-vg1 -o "$work/dir" 2>/dev/null
cat >"$work/mc.bu" <<'BU'
variant: openshift
version: 4.20.0
metadata:
  name: 99-worker-example
  labels:
    machineconfiguration.openshift.io/role: worker
storage:
  files:
    - path: /etc/example.conf
      mode: 0644
      contents:
        inline: |
          example=true
BU
mkdir -p "$work/chart/templates"
printf 'apiVersion: v2\nname: x\nversion: 0.1.0\n' >"$work/chart/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  a: "1"\n' >"$work/chart/templates/cm.yaml"
cat >"$work/broken-site.yaml" <<'SITE'
apiVersion: mosc.dev/v1alpha1
kind: Site
metadata:
  name: lab
spec:
  openshift: "4.20"
  pool: worker
  stacks: [doca-3.3]
  registry:
    internal: true
    storageClas: lvms-vg1
SITE

helm=()
if command -v helm >/dev/null; then helm=(-helm "$(command -v helm)"); fi
"$work/renderbench" -runs "$runs" -work "$work" -doc docs/performance.md \
	-mosc "$work/mosc" -kustomize "$kustomize" -butane "$butane" "${helm[@]}"

# Package initialisation (GODEBUG=inittrace=1) of the start-up alone: what
# every command pays before main. Informational; TestImportGraph guards the
# structure (no clientset linked).
GODEBUG=inittrace=1 "$work/mosc" version 2>&1 >/dev/null | awk '/^init /{ms+=$5; b+=$8; n++} END {printf "package init: %d packages, %.1f ms, %.0f KiB allocated\n", n, ms, b/1024}'

# The floor a render-only binary would have (bench/renderfloor links only
# internal/render, bundle and profile) against mosc's start-up: the part of
# `mosc version` the single binary's cluster clients cost. Informational.
CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags "-s -w" -o "$work/renderfloor" ./bench/renderfloor
GODEBUG=inittrace=1 "$work/renderfloor" 2>&1 >/dev/null | awk '/^init /{ms+=$5; b+=$8; n++} END {printf "render-path floor, package init: %d packages, %.1f ms, %.0f KiB allocated\n", n, ms, b/1024}'
hyperfine -N --warmup 5 --runs "$runs" --style none --export-json "$work/floor.json" "$work/renderfloor" "$work/mosc version" >/dev/null
mapfile -t medians < <(grep -o '"median": *[0-9.e+-]*' "$work/floor.json" | awk '{printf "%.1f\n", $2*1000}')
/usr/bin/time -f "%M %R" -o "$work/floor-a.time" "$work/renderfloor" >/dev/null
/usr/bin/time -f "%M %R" -o "$work/floor-b.time" "$work/mosc" version >/dev/null
awk -v m="${medians[0]}" '{printf "render-path floor (bench/renderfloor): median %s ms, peak RSS %.1f MiB, %d page faults\n", m, $1/1024, $2}' "$work/floor-a.time"
awk -v m="${medians[1]}" '{printf "mosc version:                          median %s ms, peak RSS %.1f MiB, %d page faults\n", m, $1/1024, $2}' "$work/floor-b.time"
