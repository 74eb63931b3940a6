#!/usr/bin/env bash
# The whole test suite: static checks, unit tests (once more under the race
# detector), fuzz seeds, end-to-end tests against a real kube-apiserver +
# etcd, and the release check for this machine's platform. `make test` runs
# this; .ci/run runs `make test`. From a cold machine it installs etcd and
# the shell linter (Debian) and builds kube-apiserver, the engines' CLIs,
# staticcheck and the release tools from the Go module proxy into
# $PSP_MIGRATE_CACHE (see hack/lib.sh), at the versions of hack/versions.env.
#
# Each step prints how long the run has taken so far, so that a slow CI run
# shows where its time went.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

started=$SECONDS
step() { printf '\n==> [%ds] %s\n' $((SECONDS - started)) "$*" >&2; }

step "static checks (hack/lint.sh: gofmt, go vet, translation core deps and wasm build, go mod tidy -diff, staticcheck, shellcheck)"
bash hack/lint.sh

step "real cluster binaries (etcd, kube-apiserver $E2E_KUBE_VERSIONS, kubectl)"
# The e2e tests must not silently skip here: a missing binary is a failure.
export PSP_MIGRATE_E2E=required
# shellcheck disable=SC2086 # one argument per release
psp::import_env hack/e2e-env.sh $E2E_KUBE_VERSIONS

step "policy engines (Kyverno CLI, gator, Kubewarden checker) and their CRD schemas"
# convert -e ENGINE is proven with the real engines' own CLIs.
psp::import_env hack/engines-env.sh
# kwcheck is the project's own code in its own module: vet it too.
(cd hack/tools/kubewarden && GOWORK=off go vet ./...)

step "go test -race ./pkg/... (unit tests and fuzz seeds under the race detector)"
# The packages are run once, under -race; everything else once, below.
go test -race -count=1 ./pkg/...

step "go test (the rest: end to end, CRD schemas, hack/ tools)"
packages=$(go list ./...)
mapfile -t rest < <(grep -v '^github.com/psp-migrate/kubectl-psp-migrate/pkg/' <<<"$packages")
((${#rest[@]} > 0)) || psp::die "go list ./... gave no packages outside pkg/"
go test -count=1 -timeout 40m "${rest[@]}"

step "browser converter (web/... under GOOS=js on Node.js; test/browser in headless Chromium)"
# The wasm bridge under Go's own wasm_exec runner, then the page end to
# end: every tab must equal `convert --scope cluster` byte for byte.
command -v node >/dev/null 2>&1 || psp::die "node is not on PATH: the GOOS=js tests run on Node.js (Debian: apt-get install nodejs)"
GOOS=js GOARCH=wasm go test -count=1 -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./web/...
CHROMIUM=$(bash hack/ensure-chromium.sh)
export CHROMIUM
go test -C test/browser -count=1 -timeout 20m ./...

step "fuzz (every target, 3s each; corpora in testdata/fuzz)"
bash hack/fuzz.sh 3s

step "release check, this platform only (goreleaser snapshot, krew manifest for all six, install through kubectl)"
bash hack/release-check.sh --host-only

step "done"
