#!/usr/bin/env bash
# Usage: hack/ensure-etcd.sh
#
# Prints the path of an etcd binary on stdout. When none is on PATH it
# installs Debian's etcd-server package (etcd 3.4 on bookworm) and makes
# sure the service the package would start is not left running: tests start
# their own etcd on free loopback ports.
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_service() {
  # Whichever init tooling exists; a container often has neither working.
  if command -v systemctl >/dev/null 2>&1; then
    psp::as_root systemctl disable --now etcd.service >/dev/null 2>&1 || true
  fi
  if command -v service >/dev/null 2>&1; then
    psp::as_root service etcd stop >/dev/null 2>&1 || true
  fi
}

install_etcd() {
  command -v etcd >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 ||
    psp::die "etcd is not on PATH and there is no apt-get to install it; put an etcd 3.4+ on PATH"

  # policy-rc.d answering 101 is Debian's way to tell maintainer scripts
  # "do not start services"; honoured by invoke-rc.d and deb-systemd-invoke.
  local policy=/usr/sbin/policy-rc.d added_policy=""
  if [[ ! -e $policy ]]; then
    psp::as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=1
  fi

  psp::log "installing etcd-server with apt-get"
  local rc=0
  # The lock's descriptor is closed for apt: a daemon started despite the
  # policy must not inherit it and hold the lock forever.
  {
    psp::as_root apt-get update -qq &&
      psp::as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server
  } >&2 {PSP_MIGRATE_LOCK_FD}>&- || rc=$?

  if [[ -n $added_policy ]]; then
    psp::as_root rm -f "$policy"
  fi
  [[ $rc -eq 0 ]] || psp::die "apt-get install etcd-server failed (exit $rc)"
  stop_service
}

if ! command -v etcd >/dev/null 2>&1; then
  psp::with_lock etcd install_etcd
fi
etcd_path=$(command -v etcd) || psp::die "etcd still not on PATH after installing etcd-server"
printf '%s\n' "$etcd_path"
