#!/usr/bin/env bash
# Shared helpers for the hack/ scripts. Source it; it does not run on its own.
#
# Everything a script prints for a human goes to stderr, so that stdout stays
# free for the one value a script returns (a path, or export lines).

# Binaries and throw-away build modules live outside the repository, keyed by
# version, so a fresh clone reuses what an earlier run on this machine built.
PSP_MIGRATE_CACHE="${PSP_MIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/psp-migrate}"
export PSP_MIGRATE_CACHE

# Every pinned version (hack/versions.env), for every script that sources
# this file.
# shellcheck source=hack/versions.env
source "$(dirname "${BASH_SOURCE[0]}")/versions.env"

# psp::log MESSAGE... prints a timestamped line to stderr.
psp::log() {
  printf '[psp-migrate %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# psp::die MESSAGE... logs an error and exits 1.
psp::die() {
  psp::log "error: $*"
  exit 1
}

# psp::as_root COMMAND [ARGS...] runs COMMAND as root: directly when we are
# root, else through a password-less sudo.
psp::as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    psp::die "needs root (or sudo): $*"
  fi
}

# psp::import_env SCRIPT [ARGS...] runs an environment script (one that
# prints export lines, like hack/e2e-env.sh) and imports its output, or dies
# when the script fails. Not `eval "$(SCRIPT)"`: eval would run whatever the
# failed script printed and succeed, and the suite would go on without its
# binaries.
psp::import_env() {
  local lines
  lines=$("$@") || psp::die "$* failed"
  eval "$lines"
}

# psp::with_lock NAME COMMAND [ARGS...] runs COMMAND while holding an exclusive
# flock on $PSP_MIGRATE_CACHE/locks/NAME.lock, so two concurrent runs (two
# test packages, two shells) never build or install the same thing at once.
#
# The lock's descriptor number is in PSP_MIGRATE_LOCK_FD while COMMAND runs:
# anything that may leave a daemon behind must close it ({PSP_MIGRATE_LOCK_FD}>&-),
# or the daemon would hold the lock forever.
#
# Call it as a plain command under `set -e`: a failing COMMAND then ends the
# script, and the kernel drops the lock with the descriptor.
psp::with_lock() {
  local name=$1
  shift
  local dir="$PSP_MIGRATE_CACHE/locks"
  mkdir -p "$dir"
  exec {PSP_MIGRATE_LOCK_FD}>"$dir/$name.lock"
  if ! flock -n "$PSP_MIGRATE_LOCK_FD"; then
    psp::log "waiting for another process to finish '$name'"
    flock "$PSP_MIGRATE_LOCK_FD"
  fi
  "$@"
  exec {PSP_MIGRATE_LOCK_FD}>&-
  unset PSP_MIGRATE_LOCK_FD
}

# psp::k8s_version_check VERSION fails unless VERSION looks like v1.MINOR.PATCH.
psp::k8s_version_check() {
  [[ $1 =~ ^v1\.[0-9]+\.[0-9]+$ ]] || psp::die "want a Kubernetes release like v1.24.17, got '$1'"
}

# psp::k8s_replaces GOMOD STAGING_VERSION prints one `-replace=OLD=NEW` flag
# for `go mod edit` per replace directive of k8s.io/kubernetes's go.mod.
#
# The module zip has no staging/ folder, so each `./staging/src/k8s.io/X`
# target becomes the published k8s.io/X at STAGING_VERSION. The other
# replaces pin third-party modules; keeping them makes the build list equal
# to the one upstream released with.
psp::k8s_replaces() {
  awk -v sv="$2" '
    function emit(line,    halves, lhs, rhs, nl, nr, old, new) {
      sub(/\/\/.*/, "", line)
      if (split(line, halves, "=>") != 2) return
      nl = split(halves[1], lhs, " ")
      nr = split(halves[2], rhs, " ")
      if (nl < 1 || nr < 1) return
      old = lhs[1]
      if (nl == 2) old = old "@" lhs[2]
      if (rhs[1] ~ /^\.\/staging\/src\//) {
        new = substr(rhs[1], length("./staging/src/") + 1) "@" sv
      } else if (rhs[1] ~ /^(\.|\/)/) {
        printf "unexpected local replace in go.mod: %s\n", line > "/dev/stderr"
        bad = 1
        return
      } else {
        new = rhs[1]
        if (nr == 2) new = new "@" rhs[2]
      }
      print "-replace=" old "=" new
    }
    /^replace[ \t]*\(/ { inblock = 1; next }
    inblock && /^[ \t]*\)/ { inblock = 0; next }
    inblock { emit($0); next }
    /^replace[ \t]/ { l = $0; sub(/^replace[ \t]+/, "", l); emit(l) }
    END { exit bad }
  ' "$1"
}

# psp::k8s_build VERSION COMMAND OUT builds k8s.io/kubernetes/cmd/COMMAND at
# release VERSION from the Go module proxy into OUT, atomically: OUT either
# does not exist or is a complete binary.
#
# `go install k8s.io/kubernetes/cmd/...@VERSION` is refused (the module's
# go.mod points its staging modules at folders its zip lacks), hence the
# throw-away main module under $PSP_MIGRATE_CACHE/src. Its go.mod is
# generated anew on every build and never committed anywhere.
psp::k8s_build() {
  local version=$1 command=$2 out=$3
  psp::k8s_version_check "$version"
  local minor_patch=${version#v1.}
  local staging_version="v0.$minor_patch"
  local src="$PSP_MIGRATE_CACHE/src/$command-$version"

  # A go.work above the cache (say in $HOME) would pull our throw-away
  # module into someone else's workspace.
  export GOWORK=off
  mkdir -p "$src" "$(dirname "$out")"
  rm -f "$src/go.mod" "$src/go.sum"

  psp::log "downloading k8s.io/kubernetes@$version (module proxy)"
  local json gomod
  # Run from the empty folder: outside any module, so the caller's go.mod
  # (the project's, say) is neither read nor touched.
  json=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$version")
  gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  [[ -n $gomod && -f $gomod ]] || psp::die "go mod download gave no go.mod for k8s.io/kubernetes@$version"

  local replaces_text
  replaces_text=$(psp::k8s_replaces "$gomod" "$staging_version")
  local -a edits
  mapfile -t edits <<<"$replaces_text"
  psp::log "throw-away module $src: require k8s.io/kubernetes $version, ${#edits[@]} replaces"

  (
    cd "$src" || exit
    go mod init psp-migrate.invalid/build/"$command" 2>/dev/null
    go mod edit -require="k8s.io/kubernetes@$version" "${edits[@]}"
  )

  # Without these the binary reports v0.0.0-master to /version and
  # `kubectl version`, and clients that branch on the server's version
  # (kubectl's skew checks, our own plugin) would be misled.
  local pkg ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version"
    ldflags+=" -X $pkg.gitMajor=1"
    ldflags+=" -X $pkg.gitMinor=${minor_patch%%.*}"
    ldflags+=" -X $pkg.gitTreeState=clean"
  done

  # We hold the lock, so any temp binary left here is from a killed build.
  rm -f "$out".tmp.*
  local tmp="$out.tmp.$$"
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function
  trap "rm -f '$tmp'" EXIT
  psp::log "building k8s.io/kubernetes/cmd/$command $version (minutes when cold)"
  (
    cd "$src" || exit
    CGO_ENABLED=0 go build -mod=mod -trimpath -buildvcs=false -tags providerless \
      -ldflags "$ldflags" -o "$tmp" "k8s.io/kubernetes/cmd/$command"
  )
  mv -f "$tmp" "$out"
  trap - EXIT
  psp::log "built $out"
}

# psp::strict_goflags drops any -mod= from GOFLAGS and turns off go.work, for
# builds in the project's own tools modules: their go.sum is committed, and a
# missing or wrong checksum must fail rather than be added quietly (which
# -mod=mod in a caller's GOFLAGS would do); a go.work above the repository
# would pull the module into someone else's workspace.
psp::strict_goflags() {
  export GOWORK=off
  local flag kept=()
  for flag in ${GOFLAGS:-}; do
    [[ $flag == -mod=* ]] || kept+=("$flag")
  done
  GOFLAGS="${kept[*]}"
  export GOFLAGS
}

# psp::go_build_into OUT MODULE_DIR PACKAGE builds PACKAGE from MODULE_DIR
# into OUT, static and stripped, through a temporary file renamed at the end,
# so OUT is either missing or a complete binary even when the build is
# killed. Does nothing when OUT exists. Call it under psp::with_lock.
psp::go_build_into() {
  local out=$1 module_dir=$2 package=$3
  [[ -x $out ]] && return 0
  mkdir -p "$(dirname "$out")"
  # The caller holds the lock, so a temp binary left here is from a killed build.
  rm -f "$out".tmp.*
  local tmp="$out.tmp.$$"
  # shellcheck disable=SC2064 # expand $tmp now
  trap "rm -f '$tmp'" EXIT
  local start=$SECONDS
  (cd "$module_dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp" "$package")
  mv -f "$tmp" "$out"
  trap - EXIT
  psp::log "built $out in $((SECONDS - start))s"
}
