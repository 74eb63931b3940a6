#!/usr/bin/env bash
# Usage: hack/ensure-chromium.sh
#
# Prints the path of a Chromium on stdout for the browser end-to-end test
# (test/browser): $CHROMIUM when set, else the one on PATH, else Debian's
# package `chromium`, installed with apt-get (as root or through sudo) only
# when missing. No browser is downloaded from anywhere else.
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_chromium() {
  if [[ -n "${CHROMIUM:-}" ]]; then
    [[ -x "$CHROMIUM" ]] || psp::die "CHROMIUM=$CHROMIUM is not an executable"
    echo "$CHROMIUM"
    return 0
  fi
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null
}

install_chromium() {
  find_chromium >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 ||
    psp::die "chromium is not on PATH and there is no apt-get to install it; set CHROMIUM to a Chromium binary"
  psp::log "installing chromium with apt-get"
  # Keep the lock's descriptor from apt (see psp::with_lock).
  {
    psp::as_root apt-get update -qq &&
      psp::as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  } >&2 {PSP_MIGRATE_LOCK_FD}>&- || psp::die "apt-get install chromium failed"
}

if ! find_chromium >/dev/null 2>&1; then
  psp::with_lock chromium install_chromium
fi
find_chromium || psp::die "chromium still not on PATH after installing it"
