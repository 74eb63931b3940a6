#!/usr/bin/env bash
# Usage: hack/ensure-gator.sh
#
# Makes sure Gatekeeper's offline CLI, gator, exists at release
# $PSP_MIGRATE_GATOR_VERSION (default GATOR_VERSION of hack/versions.env), installing it from the Go
# module proxy into $PSP_MIGRATE_CACHE/gator/VERSION when missing, and prints
# on stdout:
#
#   export PSP_MIGRATE_GATOR=<gator binary>
#   export PSP_MIGRATE_GATEKEEPER_MODULE=<that Gatekeeper module in the Go module cache>
#
# The module folder is where tests read Gatekeeper's own CRDs
# (config/crd/bases) from, so nothing of Gatekeeper is copied into the tree.
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

version=${PSP_MIGRATE_GATOR_VERSION:-$GATOR_VERSION}
[[ $version =~ ^v3\.[0-9]+\.[0-9]+$ ]] || psp::die "want a Gatekeeper v3 release like v3.23.1, got '$version'"
module=$GATOR_MODULE
# Not "dir": psp::with_lock has a local of that name, which bash would let
# install_gator see instead of this one.
gator_dir="$PSP_MIGRATE_CACHE/gator/$version"
out="$gator_dir/gator"

install_gator() {
  [[ -x $out ]] && return 0
  # A go.work above the cache (say in $HOME) must not pull the install into
  # someone else's workspace.
  export GOWORK=off
  # Into a fresh folder first and then renamed, so $out is either missing
  # or a complete binary even when the install is killed halfway.
  local tmp="$gator_dir.tmp.$$"
  rm -rf "$gator_dir".tmp.*
  mkdir -p "$tmp"
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  psp::log "installing $module/cmd/gator@$version (module proxy; minutes when cold)"
  local start=$SECONDS
  (cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath "$module/cmd/gator@$version")
  mkdir -p "$gator_dir"
  mv -f "$tmp/gator" "$out"
  rm -rf "$tmp"
  trap - EXIT
  psp::log "installed $out in $((SECONDS - start))s"
}

if [[ ! -x $out ]]; then
  psp::with_lock "gator-$version" install_gator
fi

# `go install` left the module in the module cache; download is then a
# lookup (and restores the folder should someone have cleaned the cache).
# Run from the cache folder: outside any module, so no go.mod is read.
json=$(cd "$gator_dir" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$module@$version")
module_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
[[ -n $module_dir && -d $module_dir/config/crd/bases ]] ||
  psp::die "go mod download gave no folder with config/crd/bases for $module@$version"

printf 'export PSP_MIGRATE_GATOR=%q\n' "$out"
printf 'export PSP_MIGRATE_GATEKEEPER_MODULE=%q\n' "$module_dir"
