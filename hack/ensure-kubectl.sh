#!/usr/bin/env bash
# Usage: hack/ensure-kubectl.sh
#
# Prints the path of a kubectl on stdout: the one on PATH if there is one,
# else one built from the Go module proxy (release $PSP_MIGRATE_KUBECTL_VERSION,
# default KUBECTL_VERSION of hack/versions.env) into $PSP_MIGRATE_CACHE/bin.
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if kubectl_path=$(command -v kubectl); then
  printf '%s\n' "$kubectl_path"
  exit 0
fi

version=${PSP_MIGRATE_KUBECTL_VERSION:-$KUBECTL_VERSION}
psp::k8s_version_check "$version"
out="$PSP_MIGRATE_CACHE/bin/kubectl-$version"

build() {
  [[ -x $out ]] || psp::k8s_build "$version" kubectl "$out"
}

if [[ ! -x $out ]]; then
  psp::log "no kubectl on PATH; building one"
  psp::with_lock "kubectl-$version" build
fi
printf '%s\n' "$out"
