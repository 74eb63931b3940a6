#!/usr/bin/env bash
# Usage: hack/ensure-kyverno.sh
#
# Builds the Kyverno CLI (kubectl-kyverno, run as `kyverno`) at the version
# pinned by hack/tools/kyverno/go.mod into $PSP_MIGRATE_CACHE, unless it is
# already there, and prints on stdout:
#
#   export PSP_MIGRATE_KYVERNO=<the CLI>
#   export PSP_MIGRATE_KYVERNO_MODULE=<github.com/kyverno/kyverno in the module cache>
#
# The second is where the tests read Kyverno's CRDs (config/crds) from, so
# that the schemas they check against are those of the CLI they run.
# Cold, the build takes 6 to 10 minutes on 2 cores (more when they are busy);
# warm, the script takes well under a second.
set -euo pipefail

hack_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
source "$hack_dir/lib.sh"

module_dir="$hack_dir/tools/kyverno"
kyverno_module=github.com/kyverno/kyverno
cli_package=$kyverno_module/cmd/cli/kubectl-kyverno

psp::strict_goflags

version=$(cd "$module_dir" && go list -m -f '{{.Version}}' "$kyverno_module")
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || psp::die "unexpected $kyverno_module version '$version' in $module_dir/go.mod"
out="$PSP_MIGRATE_CACHE/kyverno/$version/kyverno"

build() {
  psp::log "building the Kyverno CLI $version (minutes when cold)"
  psp::go_build_into "$out" "$module_dir" "$cli_package"
}

if [[ ! -x $out ]]; then
  psp::with_lock "kyverno-$version" build
fi

module_path=$(cd "$module_dir" && go list -m -f '{{.Dir}}' "$kyverno_module")
[[ -d $module_path/config/crds ]] || psp::die "no config/crds in $module_path"

printf 'export PSP_MIGRATE_KYVERNO=%q\n' "$out"
printf 'export PSP_MIGRATE_KYVERNO_MODULE=%q\n' "$module_path"
