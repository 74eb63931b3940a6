#!/usr/bin/env bash
# Usage: hack/check-deps.sh   (a step of hack/lint.sh, so of `make test`)
#
# Holds the translation core (pkg/translate) and its engines
# (pkg/translate/*) to what the browser converter needs of them:
#   - no cluster client: `go list -deps` of those packages names no
#     k8s.io/client-go package (pkg/live is the one package that lists
#     through client-go; see issue 12);
#   - they build for the browser: GOOS=js GOARCH=wasm go build of them, and
#     of the wasm entry point ./web/wasm when the tree has one.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

# pkg/convert and web/bridge are what the browser build runs (docs/web.md).
packages=(./pkg/translate/... ./pkg/convert ./web/bridge)
forbidden='k8s.io/client-go'

psp::log "check-deps: no $forbidden in go list -deps ${packages[*]}"
deps=$(go list -deps "${packages[@]}")
if grep -q "^${forbidden}\(/\|$\)" <<<"$deps"; then
  # Name the packages of the module that import it, directly or through a
  # dependency: that is where the edge has to be cut.
  echo "check-deps: ${packages[*]} depend on $forbidden:" >&2
  go list -deps -f '{{.ImportPath}}{{range .Deps}} {{.}}{{end}}' "${packages[@]}" |
    awk -v f="$forbidden" '$1 !~ "^"f { for (i = 2; i <= NF; i++) if ($i == f || index($i, f"/") == 1) { print "  " $1 " -> " $i; break } }' |
    grep 'kubectl-psp-migrate' >&2 || true
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

psp::log "check-deps: GOOS=js GOARCH=wasm go build ${packages[*]}"
GOOS=js GOARCH=wasm go build "${packages[@]}"

if [[ -d web/wasm ]]; then
  psp::log "check-deps: GOOS=js GOARCH=wasm go build ./web/wasm"
  GOOS=js GOARCH=wasm go build -o "$tmp/main.wasm" ./web/wasm
fi
