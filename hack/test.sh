#!/usr/bin/env bash
# The whole test suite: static checks, unit tests, fuzz seeds, end-to-end
# tests against a real kube-apiserver + etcd, and the release check.
# `make test` runs this; .ci/run runs `make test`. From a cold machine it
# installs etcd (Debian) and builds kube-apiserver, the policy engines' CLIs
# and the release tools from the Go module proxy into $PSP_MIGRATE_CACHE (see
# hack/lib.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [[ -n $unformatted ]]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "go vet"
go vet ./...

step "real cluster binaries (etcd, kube-apiserver, kubectl)"
# The e2e tests must not silently skip here: a missing binary is a failure.
export PSP_MIGRATE_E2E=required
# v1.24 for PodSecurityPolicy, v1.30 for a cluster without it (and VAP).
eval "$(hack/e2e-env.sh v1.24.17 v1.30.14)"

step "policy engines (Kyverno CLI, gator, Kubewarden checker) and their CRD schemas"
# convert -e ENGINE is proven with the real engines' own CLIs.
eval "$(hack/engines-env.sh)"
# kwcheck is the project's own code in its own module: vet it too.
(cd hack/tools/kubewarden && GOWORK=off go vet ./...)

step "go test (unit, fuzz seeds, end to end)"
go test -count=1 -timeout 40m ./...

step "release check (goreleaser snapshot, krew manifest, install through kubectl)"
bash hack/release-check.sh
