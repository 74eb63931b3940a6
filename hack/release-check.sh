#!/usr/bin/env bash
# Usage: hack/release-check.sh [--host-only]
#
# Rehearses a release without publishing anything, offline once the tools are
# installed, and prints PASS or FAIL as its last line:
#
#   1. installs the pinned goreleaser, krew and validate-krew-manifest
#      (hack/versions.env) into $PSP_MIGRATE_CACHE/bin, unless already there;
#   2. copies the repository into a scratch clone with a remote, so that
#      goreleaser sees a clean checkout, and runs `goreleaser check` and
#      `goreleaser release --snapshot --clean --skip=publish` (all six
#      platforms: the krew manifest needs every archive);
#   3. validates the generated krew manifest with krew's validator, checks it
#      against plugins/krew.yaml (hack/krew-drift) and validates the
#      checked-in template filled in with the snapshot's uris and checksums;
#   4. installs the plugin from each of the two manifests with a real
#      `kubectl krew install --archive` into throw-away KREW_ROOTs, then runs
#      `kubectl psp-migrate version` and shell completion through kubectl.
#
# What is checked is the current commit (HEAD); with no commit yet, or with
# RELEASE_CHECK_WORKTREE=1, the working tree as `git add -A` would commit it.
# RELEASE_CHECK_KEEP=1 keeps the scratch directory (archives, manifests) for a
# look afterwards.
#
# --host-only (what `make test` runs; `make release-check` runs the full
# check) builds the snapshot for this machine's os/arch only: a cold build
# for the five other targets is the largest single cost of the suite. The
# manifest's six platforms are still validated: krew-drift -partial checks
# the built one against plugins/krew.yaml and fills the others in with the
# uris goreleaser would give them (their sha256 stay placeholders), and
# krew's validator checks all six; the unit tests of hack/krew-drift keep
# .goreleaser.yaml's platforms and the template's equal.
#
# Measured on a busy two-core machine: cold (no tools, no build cache for the
# six targets) about 30 minutes, 8 of them compiling goreleaser; warm, about
# a minute.
set -euo pipefail

host_only=""
case ${1:-} in
  "") ;;
  --host-only) host_only=1 ;;
  *) echo "usage: $0 [--host-only]" >&2; exit 2 ;;
esac

hack_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
source "$hack_dir/lib.sh"

repo=$(git -C "$hack_dir" rev-parse --show-toplevel)
tools="$PSP_MIGRATE_CACHE/bin"
plugin=psp-migrate
started=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/psp-migrate-release-check.XXXXXX")
finish() {
  local status=$?
  if [[ ${RELEASE_CHECK_KEEP:-} == 1 ]]; then
    psp::log "kept $tmp (dist in src/dist)"
  else
    rm -rf "$tmp"
  fi
  if ((status == 0)); then
    printf 'release-check: PASS (%ds)\n' $((SECONDS - started)) >&2
  else
    printf 'release-check: FAIL (%ds)\n' $((SECONDS - started)) >&2
  fi
}
trap finish EXIT

# step NAME announces a step and how long the run has taken so far.
step() {
  psp::log "[$((SECONDS - started))s] $*"
}

# install_tool BINARY MODULE VERSION PACKAGE installs PACKAGE@VERSION as
# $tools/BINARY unless the binary there was built from MODULE at VERSION.
install_tool() {
  local binary=$1 module=$2 version=$3 package=$4
  local have
  have=$(go version -m "$tools/$binary" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }') || true
  if [[ $have == "$version" ]]; then
    return
  fi
  psp::log "installing $package@$version into $tools (goreleaser: ~10 minutes when cold)"
  # The caller's GOFLAGS (-mod=vendor, say) is about the project, not a tool.
  GOBIN="$tools" GOFLAGS='' go install "$package@$version"
}

# install_tools installs everything the check runs, under one lock so that
# two runs on one machine do not build the same tool twice.
install_tools() {
  install_tool goreleaser "$GORELEASER_MODULE" "$GORELEASER_VERSION" "$GORELEASER_MODULE"
  install_tool krew "$KREW_MODULE" "$KREW_VERSION" "$KREW_MODULE/cmd/krew"
  install_tool validate-krew-manifest "$KREW_MODULE" "$KREW_VERSION" "$KREW_MODULE/cmd/validate-krew-manifest"
}

# scratch_clone DIR makes DIR a git checkout of what is being checked, with
# an origin remote: goreleaser refuses to run without one.
scratch_clone() {
  local dir=$1
  if [[ ${RELEASE_CHECK_WORKTREE:-} != 1 ]] && git -C "$repo" rev-parse --verify --quiet HEAD >/dev/null; then
    if [[ -n $(git -C "$repo" status --porcelain) ]]; then
      psp::log "Warning: uncommitted changes are not checked; RELEASE_CHECK_WORKTREE=1 checks the working tree"
    fi
    git clone --quiet --no-checkout "$repo" "$dir"
    git -C "$dir" checkout --quiet --detach "$(git -C "$repo" rev-parse HEAD)"
  else
    psp::log "checking the working tree (tracked and untracked files, .gitignore applied)"
    mkdir -p "$dir"
    # Files deleted but not yet staged are listed too; tar skips nothing
    # silently, so keep only what exists.
    git -C "$repo" ls-files -z --cached --others --exclude-standard |
      (cd "$repo" && while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done) |
      tar -C "$repo" --null -T - -cf - | tar -C "$dir" -xf -
    git -C "$dir" init --quiet
    git -C "$dir" add -A
    git -C "$dir" -c user.name=release-check -c user.email=release-check@invalid \
      commit --quiet --no-verify -m "release-check snapshot"
  fi
  git -C "$dir" remote remove origin 2>/dev/null || true
  git -C "$dir" remote add origin https://github.com/psp-migrate/kubectl-psp-migrate.git
}

# goreleaser_run ARGS... runs goreleaser in the scratch clone, its chatter in
# a log shown only when it fails.
goreleaser_run() {
  local log="$tmp/goreleaser.log"
  if ! (cd "$src" && "$tools/goreleaser" "$@") >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    psp::die "goreleaser $* failed (last lines above)"
  fi
}

# json_field FILE KEY prints the first string value of "KEY" in a JSON file:
# enough for goreleaser's metadata and our version report, without jq.
json_field() {
  grep -o "\"$2\": *\"[^\"]*\"" "$1" | sed -n '1s/.*: *"\(.*\)"/\1/p'
}

# krew_install ROOT MANIFEST ARCHIVE installs the plugin into a fresh
# KREW_ROOT the way a user would, from a local archive instead of the uri.
krew_install() {
  local root=$1 manifest=$2 archive=$3
  mkdir -p "$root"
  KREW_ROOT="$root" PATH="$root/bin:$shim:$PATH" \
    kubectl krew install --manifest="$manifest" --archive="$archive" >"$tmp/krew.log" 2>&1 ||
    { cat "$tmp/krew.log" >&2; psp::die "kubectl krew install --manifest=$manifest failed"; }
}

# through_kubectl ROOT ARGS... runs kubectl with ROOT's krew bin first on PATH.
through_kubectl() {
  local root=$1
  shift
  KREW_ROOT="$root" PATH="$root/bin:$shim:$PATH" kubectl "$@"
}

# installed ROOT lists the files krew installed for the snapshot under ROOT.
installed() {
  (cd "$1/store/$plugin/v$version" && find . -type f | sort)
}

step "tools: goreleaser $GORELEASER_VERSION, krew $KREW_VERSION"
mkdir -p "$tools"
psp::with_lock release-tools install_tools

# kubectl runs the installed plugin; krew must be on PATH as kubectl-krew.
kubectl_path=$("$hack_dir/ensure-kubectl.sh")
shim="$tmp/bin"
mkdir -p "$shim"
ln -s "$kubectl_path" "$shim/kubectl"
ln -s "$tools/krew" "$shim/kubectl-krew"
PATH="$shim:$PATH"

step "scratch clone"
src="$tmp/src"
scratch_clone "$src"
commit=$(git -C "$src" rev-parse HEAD)

step "goreleaser check"
goreleaser_run check

goos=$(go env GOOS)
goarch=$(go env GOARCH)
want_archives=6
drift_flags=()
release_flags=(--snapshot --clean --skip=publish)
if [[ -n $host_only ]]; then
  # A narrowed copy of the configuration, outside the clone: the checkout
  # stays clean and at the commit checked, which the binary then reports.
  # The lines must be exactly these, or the substitution would silently not
  # happen (and krew-drift's unit tests check they match plugins/krew.yaml).
  config="$tmp/goreleaser-$goos-$goarch.yaml"
  if ! grep -qx '    goos: \[linux, darwin, windows\]' "$src/.goreleaser.yaml" ||
    ! grep -qx '    goarch: \[amd64, arm64\]' "$src/.goreleaser.yaml"; then
    psp::die "--host-only: .goreleaser.yaml no longer has the goos/goarch lines this script narrows; update it"
  fi
  sed -e "s/^    goos: \[linux, darwin, windows\]\$/    goos: [$goos]/" \
    -e "s/^    goarch: \[amd64, arm64\]\$/    goarch: [$goarch]/" "$src/.goreleaser.yaml" >"$config"
  release_flags+=(--config "$config")
  want_archives=1
  drift_flags=(-partial)
fi

step "goreleaser release --snapshot ($want_archives platform(s); minutes when the build cache is cold)"
goreleaser_run release "${release_flags[@]}"
dist="$src/dist"
version=$(json_field "$dist/metadata.json" version)
[[ -n $version ]] || psp::die "no version in $dist/metadata.json"
generated="$dist/krew/$plugin.yaml"
[[ -f $generated ]] || psp::die "goreleaser wrote no krew manifest at $generated"
archives=$(grep -c -E '_(linux|darwin|windows)_(amd64|arm64)\.(tar\.gz|zip)$' "$dist/checksums.txt" || true)
((archives == want_archives)) || psp::die "checksums.txt lists $archives archives, want $want_archives"
psp::log "snapshot $version of $commit"

step "validate-krew-manifest (generated)"
"$tools/validate-krew-manifest" -manifest "$generated" -skip-install >"$tmp/validate.log" 2>&1 ||
  { cat "$tmp/validate.log" >&2; psp::die "krew's validator rejects $generated"; }

step "plugins/krew.yaml against the generated manifest"
rendered="$tmp/rendered/$plugin.yaml"
mkdir -p "$(dirname "$rendered")"
(cd "$src" && go run ./hack/krew-drift "${drift_flags[@]}" -template plugins/krew.yaml -generated "$generated" -dist "$dist" -render "$rendered") ||
  psp::die "plugins/krew.yaml has drifted from the manifest goreleaser generates"
"$tools/validate-krew-manifest" -manifest "$rendered" -skip-install >"$tmp/validate.log" 2>&1 ||
  { cat "$tmp/validate.log" >&2; psp::die "krew's validator rejects plugins/krew.yaml filled in for $version"; }
# One sha256 per platform, whatever the key order of the encoder.
platforms=$(grep -cE '^[[:space:]-]*sha256:' "$rendered" || true)
((platforms == 6)) || psp::die "$rendered has $platforms platforms, want 6"

ext=tar.gz
[[ $goos == windows ]] && ext=zip
archive="$dist/kubectl-psp-migrate_${version}_${goos}_${goarch}.$ext"
[[ -f $archive ]] || psp::die "no archive for this machine: $archive"

step "kubectl krew install (generated manifest, $goos/$goarch)"
gen_root="$tmp/krew-generated"
krew_install "$gen_root" "$generated" "$archive"

report=$(through_kubectl "$gen_root" psp-migrate version -o json) ||
  psp::die "kubectl psp-migrate version -o json failed"
printf '%s\n' "$report" >"$tmp/version.json"
got=$(json_field "$tmp/version.json" version)
[[ $got == "$version" ]] || psp::die "kubectl psp-migrate version says $got, the snapshot is $version"
got=$(json_field "$tmp/version.json" commit)
[[ $got == "$commit" ]] || psp::die "kubectl psp-migrate version says commit $got, want $commit"
pss_want=$(cd "$src" && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' k8s.io/pod-security-admission)
got=$(json_field "$tmp/version.json" moduleVersion)
[[ $got == "$pss_want" ]] || psp::die "version reports k8s.io/pod-security-admission $got, go.mod has $pss_want"
through_kubectl "$gen_root" psp-migrate version | grep -E "^Version: +$version\$" >/dev/null ||
  psp::die "kubectl psp-migrate version does not print Version: $version"
through_kubectl "$gen_root" psp-migrate __complete audit -o '' 2>/dev/null | grep -x json >/dev/null ||
  psp::die "kubectl psp-migrate __complete audit -o '' does not offer json"

step "kubectl krew install (plugins/krew.yaml filled in) and completion through kubectl"
tmpl_root="$tmp/krew-template"
krew_install "$tmpl_root" "$rendered" "$archive"
if ! diff <(installed "$gen_root") <(installed "$tmpl_root") >&2; then
  psp::die "the two manifests install different files (< generated, > plugins/krew.yaml)"
fi
[[ -x $tmpl_root/store/$plugin/v$version/kubectl_complete-psp_migrate ]] ||
  psp::die "the completion helper is not installed, or not executable"
# The set-up step the manifest's caveats tell users to run, verbatim.
KREW_ROOT="$tmpl_root" sh -c 'cp "${KREW_ROOT:-$HOME/.krew}"/store/psp-migrate/*/kubectl_complete-psp_migrate "${KREW_ROOT:-$HOME/.krew}/bin/"'
through_kubectl "$tmpl_root" __complete psp-migrate audit -o '' 2>/dev/null | grep -x json >/dev/null ||
  psp::die "kubectl __complete psp-migrate audit -o '' (kubectl → kubectl_complete-psp_migrate) does not offer json"

step "kubectl krew uninstall"
# Uninstall insists on a local index, a git clone of krew-index; offline, an
# empty repository stands in for it (uninstalling reads only the receipt).
git init --quiet "$gen_root/index/default"
KREW_ROOT="$gen_root" kubectl krew uninstall "$plugin" >"$tmp/krew.log" 2>&1 ||
  { cat "$tmp/krew.log" >&2; psp::die "kubectl krew uninstall $plugin failed"; }
[[ ! -e $gen_root/bin/kubectl-psp_migrate ]] || psp::die "uninstall left $gen_root/bin/kubectl-psp_migrate"
