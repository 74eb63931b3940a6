#!/usr/bin/env bash
# Usage: hack/ensure-kwcheck.sh
#
# Builds kwcheck, the offline checker of the kubewarden engine's output
# (hack/tools/kubewarden: kubewarden-controller's types, CRDs and webhook
# validation, and each policy module's documented settings), into
# $PSP_MIGRATE_CACHE unless the same sources were built before, and prints
# on stdout:
#
#   export PSP_MIGRATE_KWCHECK=<the binary>
#   export PSP_MIGRATE_KUBEWARDEN_MODULE=<kubewarden-controller in the module cache>
#
# kwcheck reads the CRDs from the second (config/crd/bases), so that the
# schemas are those of the controller whose types it was built with.
set -euo pipefail

hack_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
source "$hack_dir/lib.sh"

module_dir="$hack_dir/tools/kubewarden"
kw_module=github.com/kubewarden/kubewarden-controller

psp::strict_goflags
# The checksum database does not know the controller; go.sum, committed, is
# what verifies it.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}$kw_module"

version=$(cd "$module_dir" && go list -m -f '{{.Version}}' "$kw_module")
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || psp::die "unexpected $kw_module version '$version' in $module_dir/go.mod"
# kwcheck is the project's own code: key the binary by its sources too.
sources_sum=$(cd "$module_dir" && cat go.mod go.sum kwcheck/*.go | sha256sum | cut -c1-12)
out="$PSP_MIGRATE_CACHE/kwcheck/$version-$sources_sum/kwcheck"

build() {
  psp::log "building kwcheck against kubewarden-controller $version (a few minutes when cold)"
  psp::go_build_into "$out" "$module_dir" ./kwcheck
}

if [[ ! -x $out ]]; then
  psp::with_lock "kwcheck-$version" build
fi

module_path=$(cd "$module_dir" && go list -m -f '{{.Dir}}' "$kw_module")
[[ -d $module_path/config/crd/bases ]] || psp::die "no config/crd/bases in $module_path"

printf 'export PSP_MIGRATE_KWCHECK=%q\n' "$out"
printf 'export PSP_MIGRATE_KUBEWARDEN_MODULE=%q\n' "$module_path"
