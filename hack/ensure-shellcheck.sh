#!/usr/bin/env bash
# Usage: hack/ensure-shellcheck.sh
#
# Prints the path of shellcheck on stdout: the one on PATH, else the one of
# Debian's package of that name, installed with apt-get (as root or through
# sudo). Debian's is 0.9.0 on bookworm; hack/versions.env says so.
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_shellcheck() {
  command -v shellcheck >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 ||
    psp::die "shellcheck is not on PATH and there is no apt-get to install it; put a shellcheck 0.9+ on PATH"
  psp::log "installing shellcheck with apt-get"
  # No daemon comes with this package, but keep the lock's descriptor from
  # apt all the same (see psp::with_lock).
  {
    psp::as_root apt-get update -qq &&
      psp::as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck
  } >&2 {PSP_MIGRATE_LOCK_FD}>&- || psp::die "apt-get install shellcheck failed"
}

if ! command -v shellcheck >/dev/null 2>&1; then
  psp::with_lock shellcheck install_shellcheck
fi
command -v shellcheck || psp::die "shellcheck still not on PATH after installing it"
