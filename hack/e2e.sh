#!/usr/bin/env bash
# Usage: hack/e2e.sh [GO TEST FLAGS...]   (`make e2e`; E2E_RUN=REGEX for -run)
#
# The end-to-end tests alone: prepares etcd, kube-apiserver at every release
# of hack/versions.env, kubectl and the policy engines' CLIs (building what
# is missing, see hack/e2e-env.sh and hack/engines-env.sh), then runs
# test/e2e with PSP_MIGRATE_E2E=required, so that nothing silently skips.
# Extra arguments go to `go test`, e.g. hack/e2e.sh -run TestLeastPrivilege -v
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

export PSP_MIGRATE_E2E=required
# shellcheck disable=SC2086 # one argument per release
psp::import_env hack/e2e-env.sh $E2E_KUBE_VERSIONS
psp::import_env hack/engines-env.sh

args=(-count=1 -timeout 40m)
if [[ -n ${E2E_RUN:-} ]]; then
  args+=(-run "$E2E_RUN")
fi
go test "${args[@]}" "$@" ./test/e2e/...
