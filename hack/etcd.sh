#!/usr/bin/env bash
# Fallback for machines without Debian's etcd-server: builds etcd from the Go
# module proxy through a small wrapper module (etcd's own module replaces its
# submodules with local paths, so `go install` cannot build it) and caches it
# by version outside the repo; prints the binary's path. Idempotent.
#
#   ETCD_VERSION  default v3.6.16
set -euo pipefail

version=${ETCD_VERSION:-v3.6.16}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/mosc/etcd-${version}
bin=$cache/bin/etcd
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
echo "etcd.sh: building etcd ${version} (about a minute)" >&2
mkdir -p "$cache/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/etcd-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
cd "$work"
cat > go.mod <<MOD
module mosc.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 ${version}
MOD
cat > main.go <<'GO'
// etcd, built from go.etcd.io/etcd/server/v3's etcdmain.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
go build -trimpath -ldflags "-s -w" -o "$bin.tmp" .
mv "$bin.tmp" "$bin"
echo "$bin"
