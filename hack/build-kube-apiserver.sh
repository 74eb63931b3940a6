#!/usr/bin/env bash
# Usage: hack/build-kube-apiserver.sh VERSION   (e.g. v1.24.17, v1.30.14)
#
# Prints the path of a kube-apiserver binary of release VERSION on stdout,
# building it from the Go module proxy into $PSP_MIGRATE_CACHE/bin the first
# time (minutes when the Go caches are cold, then instant).
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || psp::die "usage: $0 VERSION (e.g. v1.24.17)"
version=$1
psp::k8s_version_check "$version"
out="$PSP_MIGRATE_CACHE/bin/kube-apiserver-$version"

build() {
  # Another process may have finished the same build while we waited.
  [[ -x $out ]] || psp::k8s_build "$version" kube-apiserver "$out"
}

if [[ ! -x $out ]]; then
  psp::with_lock "kube-apiserver-$version" build
fi
printf '%s\n' "$out"
