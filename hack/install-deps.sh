#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: everything `make test` needs that is not
# a Go module of ours. Safe to run on every `make test` (fast when warm).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
command -v rpmbuild >/dev/null 2>&1 || need_apt+=(rpm)
command -v createrepo_c >/dev/null 2>&1 || need_apt+=(createrepo-c)
# gate's install-resolve (internal/resolve) runs dnf --installroot --assumeno.
command -v dnf >/dev/null 2>&1 || need_apt+=(dnf)
# The build harness (e2e/buildenv, docs/e2e.md): buildah with vfs storage and
# chroot isolation, mmdebstrap for the stand-in's Debian rootfs, gpg/rpmsign
# for the signed repos, gcc for the stand-in ovs-vswitchd ELF.
command -v buildah >/dev/null 2>&1 || need_apt+=(buildah)
command -v mmdebstrap >/dev/null 2>&1 || need_apt+=(mmdebstrap)
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || need_apt+=(debian-archive-keyring)
{ command -v gpg && command -v gpg-agent && command -v gpgconf; } >/dev/null 2>&1 || need_apt+=(gnupg)
command -v rpmsign >/dev/null 2>&1 || need_apt+=(rpm)
{ command -v gcc && [ -e /usr/include/stdio.h ]; } >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
# make bench-render (bench/render-bench.sh) times commands with hyperfine and
# reads peak RSS through GNU time (see bench/renderbench: not from Go's wait4).
command -v hyperfine >/dev/null 2>&1 || need_apt+=(hyperfine)
[ -x /usr/bin/time ] || need_apt+=(time)
# mosc verify's e2e (e2e/verify_test.go): the simulator really runs iperf3 on loopback.
command -v iperf3 >/dev/null 2>&1 || need_apt+=(iperf3)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_=sudo
  if ! { $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null; }; then
    echo "install-deps: apt-get failed; trying fallbacks" >&2
  fi
fi

# etcd fallback when apt could not provide it: built from the Go module proxy.
if ! command -v etcd >/dev/null 2>&1 && [ -x ./hack/etcd.sh ]; then
  ./hack/etcd.sh >/dev/null
fi

# kustomize: the render tests check that `kustomize build` reproduces the bundle.
gobin=$(go env GOBIN); [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if ! "$gobin/kustomize" version 2>/dev/null | grep -q 'v5.8.2'; then
  echo "install-deps: go install kustomize v5.8.2" >&2
  GOFLAGS= go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2
fi

# kube-apiserver for the end-to-end tests, built from source once and cached by version.
if [ -x ./hack/kube-apiserver.sh ]; then
  ./hack/kube-apiserver.sh >/dev/null
fi
