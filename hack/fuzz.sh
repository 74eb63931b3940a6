#!/usr/bin/env bash
# Runs every fuzz target in the module for a fixed budget each, one target
# at a time (go test -fuzz takes one target per run).
#
#   hack/fuzz.sh [BUDGET]          BUDGET per target, default 3s
#   FUZZ_KEEP=1 hack/fuzz.sh 60s   also copy the generated corpus into the tree
#
# A failing input is written by Go to <package>/testdata/fuzz/<Target>/ and
# replayed by every plain `go test` from then on: commit it with the fix.
# The generated corpus (inputs that found new coverage) lives in the Go build
# cache, $(go env GOCACHE)/fuzz, so successive runs build on it; with
# FUZZ_KEEP=1 it is copied to <package>/testdata/fuzz/<Target>/ as well
# (file names are content hashes: copying again changes nothing), where
# `go test` replays it as seeds. `make test` runs without FUZZ_KEEP, so CI
# never changes the tree.
#
# New inputs are minimised for at most FUZZ_MINIMIZE (default 50 runs): Go's
# default, a minute per input, would eat a short budget whole.
# With PSP_MIGRATE_KYVERNO_MODULE / PSP_MIGRATE_GATEKEEPER_MODULE set
# (hack/engines-env.sh) the renderer targets also check the engines' CRDs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

budget=${1:-3s}
minimize=${FUZZ_MINIMIZE:-50x}
# The machines this runs on have two cores.
parallel=${FUZZ_PARALLEL:-2}
cache=$(go env GOCACHE)/fuzz

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
while read -r pkg dir; do
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
  [[ -n $targets ]] || continue
  # One instrumented test binary per package: `go test -fuzz` would link
  # it again for every target, which costs more than a short budget.
  bin=$tmp/$(echo "$pkg" | tr / _).test
  go test -c -fuzz=. -o "$bin" "$pkg"
  for target in $targets; do
    printf '==> %s %s (%s)\n' "$pkg" "$target" "$budget" >&2
    if ! (cd "$dir" && "$bin" -test.run='^$' -test.fuzz="^${target}\$" -test.fuzztime="$budget" \
      -test.fuzzminimizetime="$minimize" -test.parallel="$parallel" -test.fuzzcachedir="$cache/$pkg"); then
      echo "FAIL: $pkg $target (the failing input is under $dir/testdata/fuzz/$target)" >&2
      status=1
    fi
    if [[ ${FUZZ_KEEP:-} == 1 && -d $cache/$pkg/$target ]]; then
      mkdir -p "$dir/testdata/fuzz/$target"
      cp -n "$cache/$pkg/$target"/* "$dir/testdata/fuzz/$target/" 2>/dev/null || true
    fi
  done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)
exit $status
