#!/usr/bin/env bash
# Builds kube-apiserver from source through the Go module proxy and caches it by
# version outside the repo; prints the binary's path. Idempotent: when the binary
# is cached this returns at once.
#
# Why a wrapper module: `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.34.1`
# fails because k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...)
# with local paths. A throw-away module that requires k8s.io/kubernetes and points
# every staging module at its published v0.X.Y release builds the same binary.
#
# Environment:
#   KUBE_VERSION         kubernetes version (default v1.34.1, matching k8s.io/* v0.34.1)
#   MOSC_KUBE_APISERVER  if set and executable, printed as is (nothing is built)
#   XDG_CACHE_HOME       cache root (default ~/.cache)
set -euo pipefail

if [ -n "${MOSC_KUBE_APISERVER:-}" ] && [ -x "${MOSC_KUBE_APISERVER}" ]; then
  echo "${MOSC_KUBE_APISERVER}"
  exit 0
fi

version=${KUBE_VERSION:-v1.34.1}
staging_version=v0.${version#v1.}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/mosc/k8s-${version}
bin=$cache/bin/kube-apiserver

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "Kubernetes ${version}\$"; then
  echo "$bin"
  exit 0
fi

echo "kube-apiserver.sh: building kube-apiserver ${version} (5-10 min cold on 2 cores)" >&2
mkdir -p "$cache/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/kube-apiserver-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
cd "$work"

# The kubernetes module's own go.mod lists its staging modules.
modjson=$(go mod download -json "k8s.io/kubernetes@${version}")
gomod=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
srcdir=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -f "$gomod" ] && [ -d "$srcdir" ] || { echo "kube-apiserver.sh: cannot download k8s.io/kubernetes@${version}" >&2; exit 1; }

goline=$(grep -m1 '^go ' "$gomod")
{
  echo "module mosc.local/kube-apiserver-build"
  echo
  echo "$goline"
  grep -m1 '^godebug ' "$gomod" || true
  echo
  echo "require k8s.io/kubernetes ${version}"
  echo
  echo "replace ("
  grep -E '^[[:space:]]*k8s\.io/[^ ]+ => \./staging/src/' "$gomod" |
    awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > go.mod
cp "$srcdir/cmd/kube-apiserver/apiserver.go" main.go
chmod u+w main.go

# -mod=mod lets the build resolve and record exactly the modules this binary needs
# (go mod tidy would also fetch every test dependency of kubernetes).
go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${version} -X k8s.io/client-go/pkg/version.gitVersion=${version}" \
  -o "$bin.tmp" .
mv "$bin.tmp" "$bin"
echo "$bin"
