#!/usr/bin/env bash
# Usage: hack/ensure-staticcheck.sh
#
# Prints the path of staticcheck at STATICCHECK_VERSION (hack/versions.env)
# on stdout, installing it from the Go module proxy into
# $PSP_MIGRATE_CACHE/staticcheck/VERSION the first time (about a minute of
# CPU when the Go caches are cold; instant after).
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

version=${PSP_MIGRATE_STATICCHECK_VERSION:-$STATICCHECK_VERSION}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || psp::die "want a staticcheck module version like v0.8.2, got '$version'"
sc_dir="$PSP_MIGRATE_CACHE/staticcheck/$version"
out="$sc_dir/staticcheck"

install_staticcheck() {
  [[ -x $out ]] && return 0
  # Outside any module and workspace: the project's go.mod is not touched,
  # and the caller's GOFLAGS (-mod=vendor, say) is about the project.
  export GOWORK=off GOFLAGS=
  # Into a fresh folder, then renamed: $out is missing or complete.
  local tmp="$sc_dir.tmp.$$"
  rm -rf "$sc_dir".tmp.*
  mkdir -p "$tmp"
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  psp::log "installing $STATICCHECK_MODULE/cmd/staticcheck@$version (module proxy)"
  local start=$SECONDS
  (cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath "$STATICCHECK_MODULE/cmd/staticcheck@$version")
  mkdir -p "$sc_dir"
  mv -f "$tmp/staticcheck" "$out"
  rm -rf "$tmp"
  trap - EXIT
  psp::log "installed $out in $((SECONDS - start))s"
}

if [[ ! -x $out ]]; then
  psp::with_lock "staticcheck-$version" install_staticcheck
fi
printf '%s\n' "$out"
