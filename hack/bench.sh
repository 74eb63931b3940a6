#!/usr/bin/env bash
# Usage: hack/bench.sh        (what `make bench` runs)
#
# Benchmarks `kubectl psp-migrate audit` on a synthetic cluster
# (hack/bench/gen: 10,000 pods in 300 namespaces, 50 PSPs, 2,000 bindings)
# and prints each figure as a ratio to a baseline measured in the same run,
# with PASS or MISS against the targets:
#
#   offline  audit -f FILE -o json    vs decodeonly (the same file decoded
#                                        into unstructured objects, nothing else)
#                                        time <= 2x, peak RSS <= 2x
#                                     vs the file's size: peak RSS <= 5x
#   offline  audit -f pods.json -o json  vs decodeonly on the same file: time <= 1.5x
#   (JSON)   (the pods alone, cut to a few fields each, as one `kind: List`
#            JSON document like `kubectl get pods -A -o json`: gen -format
#            json -shape small-pods)
#   live     audit -o json against a real kube-apiserver v1.24 loaded with
#            the same objects         vs listonly (bare client-go paging the
#                                        same 16 LISTs, same page size,
#                                        QPS/burst and content types): time <= 1.2x
#                                     per 10,000 pods: peak RSS <= 250 MiB
#                                     vs kubectl get <same types> -A -o json: time <= 0.5x
#
# Each program runs once to warm caches, then BENCH_RUNS times round-robin;
# the median wall time and the largest peak RSS (ru_maxrss) are reported.
# Takes 10-20 minutes on 2 cores, most of it loading the API server.
#
# Environment:
#   BENCH_PODS BENCH_NAMESPACES BENCH_PSPS BENCH_BINDINGS BENCH_NODES BENCH_SEED
#                    cluster size (defaults: 10000 300 50 2000 20 1)
#   BENCH_RUNS       timed runs per program (default 5)
#   BENCH_OFFLINE    0 skips the offline parts, YAML and JSON (default 1)
#   BENCH_LIVE       0 skips the live part, which needs a kube-apiserver
#                    (hack/e2e-env.sh builds one the first time) (default 1)
#   BENCH_KUBECTL    the kubectl to compare with (default: hack/e2e-env.sh's);
#                    "none" leaves it out (it needs about 0.2 GB per 1,000 pods:
#                    BENCH_PODS=50000 BENCH_KUBECTL=none)
#   BENCH_DIR        where the cluster file, outputs and reports go
#                    (default: $PSP_MIGRATE_CACHE/bench)
#   BENCH_STRICT     1: exit 1 when a target is missed (default 0)
#   BENCH_KUBECONFIG measure the live part against this already loaded
#                    cluster instead of starting and loading one (minutes
#                    saved per run): keep one up with
#                    `go test ./test/bench -run '^$' -bench BenchmarkLiveAudit
#                    -benchtime 1x -timeout 0 -args -bench.file FILE
#                    -bench.hold HOLDFILE` (FILE: this script's cluster file)
#                    and pass the kubeconfig path it writes into HOLDFILE
set -euo pipefail

hack_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$hack_dir")
# shellcheck source=hack/lib.sh
source "$hack_dir/lib.sh"

pods=${BENCH_PODS:-10000}
namespaces=${BENCH_NAMESPACES:-300}
psps=${BENCH_PSPS:-50}
bindings=${BENCH_BINDINGS:-2000}
nodes=${BENCH_NODES:-20}
seed=${BENCH_SEED:-1}
runs=${BENCH_RUNS:-5}
offline=${BENCH_OFFLINE:-1}
live=${BENCH_LIVE:-1}
strict=${BENCH_STRICT:-0}
dir=${BENCH_DIR:-$PSP_MIGRATE_CACHE/bench}

bin="$dir/bin"
out="$dir/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$bin" "$out"

cd "$root"
psp::log "building the plugin and the benchmark programs into $bin"
go build -o "$bin/" ./cmd/kubectl-psp_migrate ./hack/bench/gen ./hack/bench/decodeonly ./hack/bench/listonly ./hack/bench/run
plugin="$bin/kubectl-psp_migrate"

# The generator is deterministic: reuse the file while neither it nor the
# sizes change.
key=$(find hack/bench/synth hack/bench/gen -name '*.go' ! -name '*_test.go' | sort | xargs cat | sha256sum | cut -c1-12)
file="$dir/cluster-$pods-$namespaces-$psps-$bindings-$nodes-$seed-$key.yaml"
if [[ ! -s $file ]]; then
  psp::log "generating $file"
  "$bin/gen" -pods "$pods" -namespaces "$namespaces" -psps "$psps" -bindings "$bindings" \
    -nodes "$nodes" -seed "$seed" -o "$file.tmp"
  mv "$file.tmp" "$file"
fi
json_file="$dir/pods-$pods-$namespaces-$psps-$bindings-$nodes-$seed-$key.json"
if [[ $offline != 0 && ! -s $json_file ]]; then
  psp::log "generating $json_file"
  "$bin/gen" -pods "$pods" -namespaces "$namespaces" -psps "$psps" -bindings "$bindings" \
    -nodes "$nodes" -seed "$seed" -format json -shape small-pods -o "$json_file.tmp"
  mv "$json_file.tmp" "$json_file"
fi

table_args=()
if [[ $offline != 0 ]]; then
  psp::log "offline: $runs runs each of decodeonly and audit -f"
  "$bin/run" offline -file "$file" -plugin "$plugin" -decodeonly "$bin/decodeonly" \
    -runs "$runs" -out "$out/offline.json"
  table_args+=(-offline "$out/offline.json")
  psp::log "offline: $runs runs each of decodeonly and audit -f on the JSON dump of small pods"
  "$bin/run" offline -section offline-json -file "$json_file" -plugin "$plugin" -decodeonly "$bin/decodeonly" \
    -runs "$runs" -out "$out/offline-json.json"
  table_args+=(-offline-json "$out/offline-json.json")
fi
if [[ $live != 0 ]]; then
  psp::log "live: preparing etcd, kube-apiserver v1.24 and kubectl"
  # The pinned v1.24 release (hack/versions.env): PSP admission is on there.
  v124=""
  for v in $E2E_KUBE_VERSIONS; do [[ $v == v1.24.* ]] && v124=$v; done
  [[ -n $v124 ]] || psp::die "no v1.24 release in E2E_KUBE_VERSIONS ($E2E_KUBE_VERSIONS)"
  env_lines=$("$hack_dir/e2e-env.sh" "$v124")
  eval "$env_lines"
  kubectl=${BENCH_KUBECTL:-$PSP_MIGRATE_KUBECTL}
  go test -c -o "$bin/bench.test" ./test/bench
  held=()
  if [[ -n ${BENCH_KUBECONFIG:-} ]]; then
    held=(-bench.kubeconfig "$BENCH_KUBECONFIG")
    psp::log "live: $runs runs each of audit, listonly and kubectl get against the cluster of $BENCH_KUBECONFIG"
  else
    psp::log "live: loading the cluster, then $runs runs each of audit, listonly and kubectl get"
  fi
  (
    cd test/bench
    PSP_MIGRATE_E2E=required "$bin/bench.test" -test.run '^$' -test.bench BenchmarkLiveAudit \
      -test.benchtime 1x -test.timeout 90m -test.v \
      -bench.file "$file" -bench.plugin "$plugin" -bench.listonly "$bin/listonly" \
      -bench.run "$bin/run" -bench.kubectl "$kubectl" -bench.runs "$runs" -bench.out "$out/live.json" \
      "${held[@]}"
  )
  table_args+=(-live "$out/live.json")
fi

[[ $strict == 1 ]] && table_args+=(-strict)
echo
"$bin/run" table "${table_args[@]}"
echo
psp::log "reports and outputs: $out"
