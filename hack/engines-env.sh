#!/usr/bin/env bash
# Usage: eval "$(hack/engines-env.sh)"
#
# Makes sure the real policy engines' CLIs and the checkers of their schemas
# exist (building what is missing into $PSP_MIGRATE_CACHE, see hack/lib.sh)
# and prints, on stdout, the export lines the tests of `convert -e ENGINE`
# read (test/e2e, framework.Tool). Each hack/ensure-<tool>.sh below prints
# its own export lines. Cold, these builds are long (the Kyverno CLI alone
# is ~15 minutes on 2 cores); warm, they take seconds.
set -euo pipefail

hack_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
source "$hack_dir/lib.sh"

# One tool per line, in the order they are built.
"$hack_dir/ensure-kyverno.sh"
"$hack_dir/ensure-gator.sh"
"$hack_dir/ensure-kwcheck.sh"
