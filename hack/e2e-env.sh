#!/usr/bin/env bash
# Usage: eval "$(hack/e2e-env.sh [VERSION...])"   or   source hack/e2e-env.sh [VERSION...]
#
# Makes sure etcd, kubectl and a kube-apiserver per requested release exist
# (installing or building what is missing) and prints, on stdout, the export
# lines the Go e2e framework (test/e2e/framework) reads:
#
#   PSP_MIGRATE_ETCD                    path of etcd
#   PSP_MIGRATE_KUBECTL                 path of kubectl
#   PSP_MIGRATE_KUBE_APISERVER_V1_<N>   path of kube-apiserver v1.N.x, one per release
#   PSP_MIGRATE_E2E_VERSIONS            the releases prepared
#
# Releases: the arguments, else $PSP_MIGRATE_E2E_VERSIONS (space separated),
# else E2E_KUBE_VERSIONS of hack/versions.env (v1.24 for PSP, v1.30 for
# ValidatingAdmissionPolicy). Only the v1.24 one:
#   hack/e2e-env.sh v1.24.17

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
  # Sourced: run in a child so strict mode and helpers stay out of the
  # caller's shell, then import only the exports.
  if __psp_migrate_env=$(bash "${BASH_SOURCE[0]}" "$@"); then
    eval "$__psp_migrate_env"
    unset __psp_migrate_env
    return 0
  fi
  unset __psp_migrate_env
  return 1
fi

set -euo pipefail

hack_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
source "$hack_dir/lib.sh"

if [[ $# -gt 0 ]]; then
  versions=("$@")
else
  read -r -a versions <<<"${PSP_MIGRATE_E2E_VERSIONS:-$E2E_KUBE_VERSIONS}"
fi
[[ ${#versions[@]} -gt 0 ]] || psp::die "no Kubernetes release asked for"

emit() {
  printf 'export %s=%q\n' "$1" "$2"
}

etcd=$("$hack_dir/ensure-etcd.sh")
kubectl=$("$hack_dir/ensure-kubectl.sh")

declare -A seen_minor=()
lines=()
for version in "${versions[@]}"; do
  psp::k8s_version_check "$version"
  minor_patch=${version#v1.}
  minor=${minor_patch%%.*}
  [[ -z ${seen_minor[$minor]:-} ]] || psp::die "two releases of v1.$minor asked for: ${seen_minor[$minor]} and $version"
  seen_minor[$minor]=$version
  apiserver=$("$hack_dir/build-kube-apiserver.sh" "$version")
  lines+=("$(emit "PSP_MIGRATE_KUBE_APISERVER_V1_$minor" "$apiserver")")
done

emit PSP_MIGRATE_ETCD "$etcd"
emit PSP_MIGRATE_KUBECTL "$kubectl"
printf '%s\n' "${lines[@]}"
emit PSP_MIGRATE_E2E_VERSIONS "${versions[*]}"
