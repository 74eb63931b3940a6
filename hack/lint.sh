#!/usr/bin/env bash
# Usage: hack/lint.sh   (`make lint`; the first step of `make test`)
#
# The static checks: gofmt, go vet, the translation core's dependency guard
# (hack/check-deps.sh: no client-go, builds for wasm), go mod tidy -diff (the
# project and its tools modules under hack/tools), staticcheck and the shell
# linter, installing the last two on first use (hack/ensure-staticcheck.sh,
# hack/ensure-shellcheck.sh) at the versions of hack/versions.env.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

step() { psp::log "lint: $*"; }

step "gofmt"
unformatted=$(git ls-files -z '*.go' | xargs -0 gofmt -l)
if [[ -n $unformatted ]]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "go vet"
go vet ./...
# The browser build and its glue exist only for GOOS=js; the browser test
# is its own module (test/browser).
GOOS=js GOARCH=wasm go vet ./web/...
(cd test/browser && go vet ./...)

step "translation core: no client-go, builds for GOOS=js GOARCH=wasm"
bash hack/check-deps.sh

step "go mod tidy -diff (the project and its tools modules)"
go mod tidy -diff
# The checksum database does not know kubewarden-controller; the committed
# go.sum verifies it (as in hack/ensure-kwcheck.sh).
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/kubewarden/kubewarden-controller"
for module in hack/tools/*/ test/browser/; do
  (cd "$module" && GOWORK=off GOFLAGS='' go mod tidy -diff)
done

step "staticcheck $STATICCHECK_VERSION"
staticcheck=$(hack/ensure-staticcheck.sh)
"$staticcheck" ./...
(cd hack/tools/kubewarden && GOWORK=off GOFLAGS='' "$staticcheck" ./...)
(cd test/browser && GOWORK=off GOFLAGS='' "$staticcheck" ./...)
GOOS=js GOARCH=wasm "$staticcheck" ./web/...

step "shellcheck"
shellcheck=$(hack/ensure-shellcheck.sh)
# Every tracked file that starts with a shell's #! line, and what they source.
scripts=()
while IFS= read -r -d '' f; do
  if [[ -f $f ]] && head -n1 "$f" | grep -qE '^#!.*[/ ](ba)?sh$'; then
    scripts+=("$f")
  fi
done < <(git ls-files -z)
((${#scripts[@]} > 0)) || psp::die "found no shell scripts to check"
"$shellcheck" -x "${scripts[@]}"
