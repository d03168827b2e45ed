#!/usr/bin/env bash
# Find or fetch a Go toolchain that can build the interop peers; print its go command's path.
#
# Usage:
#   ensure-go.sh [--check] [VERSION]
#   VERSION   minimum Go version, e.g. 1.26.8 (default: "go.toolchain" in ${TUNNELWIRE_PEERS_FILE:-
#             interop-docker/peers/versions.properties}; the peers' go.mod files set the floor, see there)
#   --check   never download: exit 1 when neither the go on PATH nor the cache has a suitable Go
#
# Tried in this order; the first that reports a version >= VERSION is printed (stdout, one line):
#   1. "go" on PATH, then /usr/local/go/bin/go: used as they are
#   2. the cached toolchain ${TUNNELWIRE_CACHE:-$HOME/.cache/tunnelwire}/go/go<VERSION>/bin/go
#   3. bootstrap: any Go at all (even Debian 12's golang-go 1.19, which predates GOTOOLCHAIN switching)
#      runs "go mod download golang.org/toolchain@v0.0.1-go<VERSION>.linux-<amd64|arm64>": the Go release
#      published as a module through the module proxy (GOPROXY, verified against GOSUMDB), so it needs no
#      other download site. The module tree goes to the cache of 2. with the executable bits that module
#      zips do not keep (bin/*, pkg/tool/**, lib/**/go_*_*_exec), and must report "go version go<VERSION>".
# Messages go to stderr. Concurrent runs are serialised with flock (when available).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROPS=${TUNNELWIRE_PEERS_FILE:-$(cd "$SCRIPT_DIR/../peers" && pwd)/versions.properties}
CACHE_ROOT=${TUNNELWIRE_CACHE:-${HOME:-/root}/.cache/tunnelwire}
GO_CACHE=$CACHE_ROOT/go

log() { printf 'ensure-go: %s\n' "$*" >&2; }
die() { printf 'ensure-go: ERROR: %s\n' "$*" >&2; exit 1; }

check_only=0 want='' from='command line'
while [[ $# -gt 0 ]]; do
  case $1 in
    --check) check_only=1;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0;;
    -*) die "unknown option $1";;
    *) want=$1;;
  esac
  shift
done
if [[ -z $want ]]; then
  [[ -r $PROPS ]] || die "cannot read $PROPS"
  want=$(sed -n 's/^[[:space:]]*go\.toolchain[[:space:]]*=[[:space:]]*//p' "$PROPS" | tail -1 | tr -d '\r[:space:]')
  [[ -n $want ]] || die "missing key go.toolchain in $PROPS"
  from="go.toolchain in $PROPS"
fi
want=${want#go}
VER_RE='^([0-9]+)\.([0-9]+)(\.([0-9]+))?((beta|rc)([0-9]+))?$'
[[ $want =~ $VER_RE ]] || die "'$want' is not a Go release version (like 1.26.8)"

# ver_key 1.26.8 -> "1 26 8 2 0"; prereleases sort before the release (1.27rc1 -> "1 27 0 1 1")
ver_key() {
  [[ $1 =~ $VER_RE ]] || return 1
  local stage=2
  case ${BASH_REMATCH[6]} in beta) stage=0;; rc) stage=1;; esac
  printf '%d %d %d %d %d' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]:-0}" "$stage" "${BASH_REMATCH[7]:-0}"
}

# ver_ge a b -> 0 if Go version a >= b
ver_ge() {
  local ka kb i
  ka=$(ver_key "$1") || return 1
  kb=$(ver_key "$2") || return 1
  read -r -a ka <<< "$ka"; read -r -a kb <<< "$kb"
  for i in 0 1 2 3 4; do
    (( ka[i] > kb[i] )) && return 0
    (( ka[i] < kb[i] )) && return 1
  done
  return 0
}

# go_version /path/to/go -> "1.19.8" (empty if it does not run or is a devel build). GOTOOLCHAIN=local:
# a Go >= 1.21 must report itself, not a toolchain some go.mod around the current directory would select.
go_version() {
  local out v
  out=$(GOTOOLCHAIN=local "$1" version 2>/dev/null) || return 0
  v=$(printf '%s' "$out" | awk '$1 == "go" && $2 == "version" { print $3; exit }')
  v=${v#go}
  [[ $v =~ $VER_RE ]] && printf '%s' "$v"
  return 0
}

candidates() {
  local g
  g=$(command -v go 2>/dev/null || true)
  [[ -n $g ]] && printf '%s\n' "$g"
  if [[ -x /usr/local/go/bin/go && $(readlink -f "$g" 2>/dev/null) != "$(readlink -f /usr/local/go/bin/go)" ]]; then
    printf '%s\n' /usr/local/go/bin/go
  fi
  return 0
}

case $(uname -s) in
  Linux) os=linux;;
  *) os=;;
esac
case $(uname -m) in
  x86_64|amd64) arch=amd64;;
  aarch64|arm64) arch=arm64;;
  *) arch=;;
esac
target=$GO_CACHE/go$want
modver=v0.0.1-go$want.$os-$arch

cached_ok() {
  [[ -x $target/bin/go && $(env -u GOROOT GOTOOLCHAIN=local "$target/bin/go" version 2>/dev/null) == "go version go$want "* ]]
}

# 1. a Go that is new enough already
found=()
while IFS= read -r g; do
  [[ -n $g ]] || continue
  v=$(go_version "$g")
  found+=("$g (${v:-unknown version})")
  if [[ -n $v ]] && ver_ge "$v" "$want"; then
    printf '%s\n' "$g"; exit 0
  fi
done < <(candidates)

# 2. the cached toolchain
if cached_ok; then
  printf '%s\n' "$target/bin/go"; exit 0
fi

need="Go >= $want is needed to build the interop peers ($from)"
have="found: ${found[*]:-no go command}"
if [[ $check_only == 1 ]]; then
  log "$need; $have; nothing in $target"
  exit 1
fi

# 3. bootstrap through the module proxy
[[ -n $os && -n $arch ]] || die "$need; $have; the toolchain module is fetched for linux amd64/arm64 only (this is $(uname -s) $(uname -m)): install Go $want or newer and put it on PATH"
boot='' bootver=''
while IFS= read -r g; do
  [[ -n $g ]] || continue
  v=$(go_version "$g")
  if [[ -n $v ]]; then boot=$g; bootver=$v; break; fi
done < <(candidates)
[[ -n $boot ]] || die "$need; $have. Any Go can fetch it (golang.org/toolchain@$modver from the module proxy): install one (Debian: apt-get install golang-go, as scripts/setup.sh does), or install Go $want or newer"

mkdir -p "$GO_CACHE"
if command -v flock >/dev/null 2>&1; then
  exec {lockfd}>"$GO_CACHE/.go$want.lock"
  flock "$lockfd"
  if cached_ok; then printf '%s\n' "$target/bin/go"; exit 0; fi
fi
tmp=$(mktemp -d "$GO_CACHE/.fetch-go$want.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
log "$need; $have"
log "fetching golang.org/toolchain@$modver through the module proxy (GOPROXY=$(GOTOOLCHAIN=local "$boot" env GOPROXY 2>/dev/null)) with go $bootver ($boot)"
# a private module cache (moved into place, then deleted); outside any module; GOFLAGS replaced so that
# -modcacherw keeps the extracted tree's directories writable and a user's -mod=... cannot interfere
if ! ( cd "$tmp" && env GOMODCACHE="$tmp/mod" GOFLAGS=-modcacherw GOTOOLCHAIN=local GO111MODULE=on GOWORK=off \
        "$boot" mod download -json "golang.org/toolchain@$modver" ) > "$tmp/download.json" 2> "$tmp/download.err"; then
  die "$need; $have; go $bootver could not download golang.org/toolchain@$modver: $(grep -h '"Error"' "$tmp/download.json" 2>/dev/null | head -3) $(tail -5 "$tmp/download.err")
  (module proxy unreachable or GOPROXY/GOSUMDB settings refuse it?) Install Go $want or newer and put it on PATH instead."
fi
src=$tmp/mod/golang.org/toolchain@$modver
[[ -f $src/bin/go ]] || die "downloaded golang.org/toolchain@$modver has no bin/go ($src)"
# module zips store no file modes: restore the executable bits (what the go command itself does after a
# GOTOOLCHAIN download), and make the files writable so that the cache can be deleted like any directory
chmod -R u+w "$src"
find "$src/pkg/tool" -type f -exec chmod a+x {} +
[[ -d $src/lib ]] && find "$src/lib" -type f -name 'go_?*_?*_exec' -exec chmod a+x {} +
chmod a+x "$src"/bin/*
out=$(cd "$tmp" && env -u GOROOT GOTOOLCHAIN=local "$src/bin/go" version 2>&1) || die "the fetched $src/bin/go does not run: $out"
[[ $out == "go version go$want "* ]] || die "the fetched $src/bin/go reports '$out', expected go$want"
rm -rf "$target"
mv "$src" "$target"
cached_ok || die "$target/bin/go does not report go$want after the move"
log "installed $out in $target"
printf '%s\n' "$target/bin/go"
