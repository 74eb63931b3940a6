#!/usr/bin/env bash
# Usage: hack/web.sh [OUT_DIR]   (make web; default OUT_DIR bin/web)
#
# Builds the browser converter: web/wasm compiled with GOOS=js GOARCH=wasm,
# Go's own wasm_exec.js (from the Go that built it: the two must match),
# and the static page of web/static. OUT_DIR is then a folder any static
# host serves; main.wasm.gz is there for hosts that serve precompressed
# files. The same main.wasm.gz and wasm_exec.js are copied into web/dist
# (not in git), which the CLI embeds for `kubectl psp-migrate web`: run
# this before `go build` of the CLI (make build and the release do).
#
# VERSION (default dev) is stamped as the CLI's -X main.version is, so that
# the page writes the same objects as the CLI of the same build.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

out=${1:-bin/web}
version=${VERSION:-dev}
goroot=$(go env GOROOT)
# Go 1.24 moved wasm_exec.js from misc/wasm to lib/wasm.
wasm_exec=$goroot/lib/wasm/wasm_exec.js
[[ -f $wasm_exec ]] || wasm_exec=$goroot/misc/wasm/wasm_exec.js
[[ -f $wasm_exec ]] || psp::die "no wasm_exec.js under $goroot/lib/wasm or $goroot/misc/wasm"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOOS=js GOARCH=wasm CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$tmp/main.wasm" ./web/wasm
# -n: no name or time in the header, so the same build gives the same bytes.
gzip -n -9 -c "$tmp/main.wasm" >"$tmp/main.wasm.gz"
# The page's budget (issue 12): what a browser downloads stays under 10 MB.
max_gzip=$((10 * 1000 * 1000))
size_gzip=$(wc -c <"$tmp/main.wasm.gz")
((size_gzip < max_gzip)) || psp::die "main.wasm is $size_gzip bytes gzipped, over the budget of $max_gzip: see docs/web.md"

mkdir -p "$out" web/dist
cp web/static/* "$tmp/main.wasm" "$tmp/main.wasm.gz" "$out/"
cp "$wasm_exec" "$out/wasm_exec.js"
cp "$tmp/main.wasm.gz" web/dist/main.wasm.gz
cp "$wasm_exec" web/dist/wasm_exec.js
psp::log "web: $out (main.wasm $(wc -c <"$tmp/main.wasm") bytes, gzip $(wc -c <"$tmp/main.wasm.gz") bytes)"
