#!/usr/bin/env bash
# Build the interop peer binaries pinned in interop-docker/peers/versions.properties into a cache.
#
# Usage:
#   build-peers.sh [--image] [name...]   build (if missing) and print "<name> <path>" per peer
#                                        (no names = the peers listed in "peers=")
#   build-peers.sh --print-path name     print only the cached binary path (builds if missing)
#   build-peers.sh --image-name name     print the docker image tag for a peer (no build)
#   build-peers.sh --list                print the known peer names
#   --image    also build the FROM-scratch image tunnelwire/<name>:<version> (needs a running docker)
#   --force    rebuild even if the cached binary is fine
#
# Cache: ${TUNNELWIRE_CACHE:-$HOME/.cache/tunnelwire}/peers/<name>-<version>[-<tagshash>]/<binary>
#        plus <binary>.ok (stamp with the version output) in the same directory.
# Env:   TUNNELWIRE_CACHE        cache root
#        TUNNELWIRE_PEERS_FILE   alternative versions.properties
#        TUNNELWIRE_GIT_<NAME>   git URL/path for the source fallback of peer <NAME> (e.g. TUNNELWIRE_GIT_GOST)
#        TUNNELWIRE_NO_SOURCE_FALLBACK=1   fail instead of trying the git checkout route
#        TUNNELWIRE_NO_WRAPPER=1           skip the wrapper-module route (peers with <name>.wrapper)
#
# Routes for source=go, tried in this order (the .ok stamp records which one produced the binary):
#   proxy    go install <package>@<module_version> from the Go module proxy
#            (skipped for peers with <name>.proxy_route=no)
#   wrapper  only peers with <name>.wrapper: go build of the committed wrapper module
#            interop-docker/peers/<wrapper>/ (exact upstream dependency pins, go.sum committed);
#            needs nothing but the module proxy (gost: the proxy refuses go-gost/gost itself);
#            builds <name>.wrapper_package (default: the module's own main package ".")
#   git      git checkout of <name>.commit + go build; for peers with a wrapper only when
#            TUNNELWIRE_GIT_<NAME> is set
# Go: every route builds with GOTOOLCHAIN=local and the Go that ensure-go.sh (next to this script) picks for
#   "go.toolchain" in versions.properties: the go on PATH when it reports at least that version, else the
#   toolchain module golang.org/toolchain@v0.0.1-go<go.toolchain>.linux-<arch>, fetched once through the
#   module proxy into <cache>/go/go<go.toolchain>/ (any older go bootstraps it) and put first on PATH.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROPS=${TUNNELWIRE_PEERS_FILE:-$SCRIPT_DIR/../peers/versions.properties}
CACHE_ROOT=${TUNNELWIRE_CACHE:-${HOME:-/root}/.cache/tunnelwire}
PEER_CACHE=$CACHE_ROOT/peers

log() { printf 'build-peers: %s\n' "$*" >&2; }
die() { printf 'build-peers: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -r $PROPS ]] || die "cannot read $PROPS"

declare -A P=()
while IFS= read -r line || [[ -n $line ]]; do
  line=${line%$'\r'}
  [[ $line =~ ^[[:space:]]*(#|!|$) ]] && continue
  [[ $line == *=* ]] || continue
  k=${line%%=*}; v=${line#*=}
  k=${k//[[:space:]]/}; v=${v#"${v%%[![:space:]]*}"}
  P[$k]=$v
done < "$PROPS"

prop() { # prop name key [default]
  local key="$1.$2"
  if [[ -n ${P[$key]+x} ]]; then printf '%s' "${P[$key]}"
  elif [[ $# -ge 3 ]]; then printf '%s' "$3"
  else die "missing key $key in $PROPS"; fi
}

known_peer() { [[ -n ${P[$1.version]+x} ]]; }

peer_dir() {
  local name=$1 tags dir
  tags=$(prop "$name" tags "")
  dir="$PEER_CACHE/$name-$(prop "$name" version)"
  if [[ -n $tags ]]; then
    dir="$dir-$(printf '%s' "$tags" | sha256sum | cut -c1-8)"
  fi
  printf '%s' "$dir"
}

peer_bin() { printf '%s/%s' "$(peer_dir "$1")" "$(prop "$1" binary)"; }

image_name() { printf 'tunnelwire/%s:%s' "$1" "$(prop "$1" version)"; }

# is_static file -> 0 if the ELF has no program interpreter (statically linked)
is_static() {
  local f=$1 out
  if command -v file >/dev/null 2>&1; then
    out=$(file -bL "$f")
    [[ $out == *ELF* ]] || return 1
    [[ $out == *"statically linked"* || $out == *"static-pie linked"* ]] && return 0
    [[ $out == *"dynamically linked"* ]] && return 1
  fi
  if command -v readelf >/dev/null 2>&1; then
    ! readelf -lW "$f" 2>/dev/null | grep -q 'INTERP'
    return
  fi
  if command -v ldd >/dev/null 2>&1; then
    out=$(LC_ALL=C ldd "$f" 2>&1 || true)
    [[ $out == *"not a dynamic executable"* || $out == *"statically linked"* ]]
    return
  fi
  die "need one of file, readelf or ldd to check static linking"
}

# version_check name binary -> prints version output, fails if unexpected
version_check() {
  local name=$1 bin=$2 out args expect
  read -r -a args <<< "$(prop "$name" version_args)"
  expect=$(prop "$name" version_expect)
  out=$(timeout 20 "$bin" "${args[@]}" 2>&1) || { log "$bin ${args[*]} failed: $out"; return 1; }
  [[ $out == *"$expect"* ]] || { log "$bin ${args[*]}: output lacks '$expect': $out"; return 1; }
  printf '%s\n' "$out"
}

cached_ok() {
  local name=$1 bin
  bin=$(peer_bin "$name")
  [[ -x $bin && -f $bin.ok ]] || return 1
  version_check "$name" "$bin" >/dev/null 2>&1
}

go_env_common() {
  export CGO_ENABLED=0 GOTOOLCHAIN=local
}

# use_go: make "go" a Go that satisfies go.toolchain (see the header; ensure-go.sh reads the same
# versions.properties, TUNNELWIRE_PEERS_FILE included); prints nothing on stdout
use_go() {
  local gocmd
  gocmd=$(TUNNELWIRE_PEERS_FILE=$PROPS "$SCRIPT_DIR/ensure-go.sh") || return 1
  if [[ $(command -v go 2>/dev/null || true) != "$gocmd" ]]; then
    PATH="$(dirname "$gocmd"):$PATH"
    unset GOROOT
    log "using $gocmd ($(GOTOOLCHAIN=local go env GOVERSION); go.toolchain=$(prop go toolchain "?"))"
  fi
}

# go_build_proxy name outdir: go install <package>@<module_version> with a private GOBIN
go_build_proxy() {
  local name=$1 out=$2 pkg ver tags ldflags
  pkg=$(prop "$name" package); ver=$(prop "$name" module_version)
  tags=$(prop "$name" tags ""); ldflags="-s -w $(prop "$name" ldflags "")"
  local args=(install -trimpath -ldflags "${ldflags% }")
  [[ -n $tags ]] && args+=(-tags "$tags")
  log "$name: go ${args[*]} $pkg@$ver"
  ( go_env_common; export GOBIN=$out; go "${args[@]}" "$pkg@$ver" ) >&2
}

# go_build_wrapper name outdir: go build of the committed wrapper module peers/<wrapper>/
# (its go.mod pins the upstream release's exact dependency versions; go.sum is committed, so
# -mod=readonly makes the build fail rather than resolve anything differently)
go_build_wrapper() {
  local name=$1 out=$2 wdir tags ldflags
  wdir=$SCRIPT_DIR/../peers/$(prop "$name" wrapper)
  [[ -f $wdir/go.mod && -f $wdir/go.sum ]] || { log "$name: wrapper module $wdir (go.mod + go.sum) missing"; return 1; }
  wdir=$(cd "$wdir" && pwd)
  tags=$(prop "$name" tags ""); ldflags="-s -w $(prop "$name" ldflags "")"
  local args=(build -trimpath -buildvcs=false -mod=readonly -ldflags "${ldflags% }" -o "$out/$(prop "$name" binary)")
  [[ -n $tags ]] && args+=(-tags "$tags")
  local wpkg
  wpkg=$(prop "$name" wrapper_package .)
  log "$name: wrapper build: (cd $wdir; go ${args[*]} $wpkg)"
  ( cd "$wdir"; go_env_common; export GOWORK=off; go "${args[@]}" "$wpkg" ) >&2
}

# wrapper_detail name: what the stamp records for the wrapper route
wrapper_detail() {
  local w
  w=$SCRIPT_DIR/../peers/$(prop "$1" wrapper)
  printf 'go build interop-docker/peers/%s (go.mod sha256 %s, go.sum sha256 %s)' "$(prop "$1" wrapper)" \
    "$(sha256sum "$w/go.mod" | cut -c1-16)" "$(sha256sum "$w/go.sum" | cut -c1-16)"
}

# go_build_source name outdir workdir: git checkout of <commit> + go build (deps from the module proxy)
go_build_source() {
  local name=$1 out=$2 work=$3 url envname commit module pkg rel tags ldflags
  envname="TUNNELWIRE_GIT_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  url=${!envname:-$(prop "$name" git_url "")}
  commit=$(prop "$name" commit "")
  [[ -n $url && -n $commit ]] || { log "$name: no git_url/commit for a source build"; return 1; }
  command -v git >/dev/null 2>&1 || { log "$name: git not installed (needed for the source fallback)"; return 1; }
  module=$(prop "$name" module); pkg=$(prop "$name" package)
  rel=.${pkg#"$module"}
  tags=$(prop "$name" tags ""); ldflags="-s -w $(prop "$name" ldflags "")"
  local src=$work/src
  log "$name: source build from $url @ $commit"
  rm -rf "$src"; mkdir -p "$src"
  (
    cd "$src"
    git init -q .
    if ! git fetch -q --depth 1 "$url" "$commit" 2>/dev/null; then
      git fetch -q "$url" '+refs/heads/*:refs/remotes/src/*' '+refs/tags/*:refs/tags/*'
    fi
    git -c advice.detachedHead=false checkout -q "$commit"
  ) >&2 || { log "$name: cannot get $commit from $url (set $envname to a reachable clone: a URL or a local repository path)"; return 1; }
  local args=(build -trimpath -buildvcs=false -mod=readonly -ldflags "${ldflags% }" -o "$out/$(prop "$name" binary)")
  [[ -n $tags ]] && args+=(-tags "$tags")
  log "$name: (cd <checkout>; go ${args[*]} $rel)"
  ( cd "$src"; go_env_common; go "${args[@]}" "$rel" ) >&2
}

apt_build() {
  local name=$1 out=$2 pkg ver abin
  pkg=$(prop "$name" apt_package); ver=$(prop "$name" apt_version ""); abin=$(prop "$name" apt_binary)
  if ! dpkg-query -W -f='${Status} ${Version}\n' "$pkg" 2>/dev/null | grep -q "^install ok installed ${ver}"; then
    [[ $(id -u) -eq 0 ]] || { log "$name: apt install of $pkg needs root"; return 1; }
    log "$name: apt-get install -y $pkg${ver:+=$ver}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "$pkg${ver:+=$ver}" >&2 \
      || { apt-get update >&2 && apt-get install -y --no-install-recommends "$pkg${ver:+=$ver}" >&2; } \
      || return 1
  fi
  cp "$abin" "$out/$(prop "$name" binary)"
}

# git_route_allowed name: the git fallback is tried unless disabled; for a peer with a wrapper
# only when TUNNELWIRE_GIT_<NAME> names a reachable clone (the default URL is GitHub)
git_route_allowed() {
  local name=$1 envname
  [[ ${TUNNELWIRE_NO_SOURCE_FALLBACK:-0} != 1 ]] || return 1
  [[ -z $(prop "$name" wrapper "") ]] && return 0
  envname="TUNNELWIRE_GIT_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  [[ -n ${!envname:-} ]] && return 0
  log "$name: git source fallback skipped ($envname is not set)"
  return 1
}

build_one() {
  local name=$1 force=$2 dir bin tmp built ver_out t0 t1 src route=- route_detail=-
  known_peer "$name" || die "unknown peer '$name' (known: $(list_peers | tr '\n' ' '))"
  dir=$(peer_dir "$name"); bin=$(peer_bin "$name")
  if [[ $force != 1 ]] && cached_ok "$name"; then
    printf '%s' "$bin"; return 0
  fi
  mkdir -p "$PEER_CACHE"
  tmp=$(mktemp -d "$PEER_CACHE/.build-$name.XXXXXX")
  mkdir -p "$tmp/bin"
  t0=$(date +%s)
  src=$(prop "$name" source)
  case $src in
    go)
      use_go || { rm -rf "$tmp"; die "$name: no Go >= $(prop go toolchain "?") (see the messages above; scripts/setup.sh fetches it)"; }
      if [[ $(prop "$name" proxy_route yes) == yes ]] && go_build_proxy "$name" "$tmp/bin"; then
        route=proxy; route_detail="go install $(prop "$name" package)@$(prop "$name" module_version)"
      elif [[ -n $(prop "$name" wrapper "") && ${TUNNELWIRE_NO_WRAPPER:-0} != 1 ]] \
          && { log "$name: $( [[ $(prop "$name" proxy_route yes) == yes ]] && echo "go install failed, trying" || echo "building") the wrapper module peers/$(prop "$name" wrapper)"; go_build_wrapper "$name" "$tmp/bin"; }; then
        route=wrapper; route_detail=$(wrapper_detail "$name")
      elif git_route_allowed "$name" && { log "$name: trying the git source fallback"; go_build_source "$name" "$tmp/bin" "$tmp"; }; then
        route=git; route_detail="git checkout $(prop "$name" commit) + go build $(prop "$name" package)"
      else
        rm -rf "$tmp"; die "$name: build failed (see messages above)"
      fi
      # go install names the binary after the last path element of the package ("main" for Xray)
      built=$tmp/bin/$(prop "$name" binary)
      if [[ ! -e $built ]]; then
        local alt
        alt=$tmp/bin/$(basename "$(prop "$name" package)")
        [[ -e $alt ]] && mv "$alt" "$built"
      fi
      ;;
    apt)
      apt_build "$name" "$tmp/bin" || { rm -rf "$tmp"; die "$name: apt install failed"; }
      route=apt; route_detail="$(prop "$name" apt_package)=$(prop "$name" apt_version "")"
      built=$tmp/bin/$(prop "$name" binary)
      ;;
    *) rm -rf "$tmp"; die "$name: unknown source '$src'";;
  esac
  [[ -x $built ]] || { ls -la "$tmp/bin" >&2; rm -rf "$tmp"; die "$name: no binary produced"; }
  t1=$(date +%s)
  local static=yes
  if ! is_static "$built"; then
    static=no
    if [[ $src == go ]]; then
      file "$built" >&2 2>/dev/null || true
      rm -rf "$tmp"; die "$name: binary is not statically linked"
    fi
    log "$name: WARNING: $(prop "$name" apt_binary "$built") is dynamically linked; it cannot run in a FROM scratch image (plain-process use only)"
  fi
  ver_out=$(version_check "$name" "$built") || { rm -rf "$tmp"; die "$name: built binary does not report version $(prop "$name" version)"; }
  mkdir -p "$dir"
  mv -f "$built" "$bin.new.$$" && mv -f "$bin.new.$$" "$bin"
  {
    printf 'name=%s\nversion=%s\nsource=%s\nroute=%s\nroute_detail=%s\nstatic=%s\nbuilt=%s\nbuild_seconds=%s\ngo=%s\nsha256=%s\n--- %s %s\n%s\n' \
      "$name" "$(prop "$name" version)" "$src" "$route" "$route_detail" "$static" "$(date -u +%FT%TZ)" "$((t1 - t0))" \
      "$( [[ $src == go ]] && go env GOVERSION || echo -)" "$(sha256sum "$bin" | cut -d' ' -f1)" \
      "$(prop "$name" binary)" "$(prop "$name" version_args)" "$ver_out"
  } > "$bin.ok"
  rm -rf "$tmp"
  log "$name: built in $((t1 - t0)) s by route '$route' -> $bin"
  printf '%s' "$bin"
}

# locked build: serialise concurrent builds of the same peer
build_locked() {
  local name=$1 force=$2
  known_peer "$name" || die "unknown peer '$name' (known: $(list_peers | tr '\n' ' '))"
  mkdir -p "$PEER_CACHE"
  if command -v flock >/dev/null 2>&1; then
    exec {lockfd}>"$PEER_CACHE/.$name.lock"
    flock "$lockfd"
    build_one "$name" "$force"
    exec {lockfd}>&-
  else
    build_one "$name" "$force"
  fi
}

build_image() {
  local name=$1 bin=$2 img ctx b lib libcopy=
  img=$(image_name "$name"); b=$(prop "$name" binary)
  command -v docker >/dev/null 2>&1 || die "docker CLI not found"
  ctx=$(mktemp -d)
  cp "$bin" "$ctx/$b"
  if ! is_static "$bin"; then
    # dynamically linked (Debian's v2ray): still FROM scratch, plus the loader and libraries ldd lists
    command -v ldd >/dev/null 2>&1 || { rm -rf "$ctx"; die "$name: $bin is dynamic and ldd is missing"; }
    log "$name: $bin is dynamically linked; adding its ldd closure to the image"
    for lib in $(ldd "$bin" | grep -oE '/[^ ]+' | sort -u); do
      mkdir -p "$ctx/rootfs$(dirname "$lib")"
      cp -L "$lib" "$ctx/rootfs$lib"
    done
    libcopy='COPY rootfs/ /\n'   # only when non-empty: an empty COPY layer breaks the legacy builder
  fi
  printf "FROM scratch\\n${libcopy}COPY %s /%s\\nENTRYPOINT [\"/%s\"]\\n" "$b" "$b" "$b" > "$ctx/Dockerfile"
  log "$name: docker build -t $img"
  if ! docker build -q -t "$img" \
      --label "dev.tunnelwire.peer=$name" --label "dev.tunnelwire.version=$(prop "$name" version)" \
      --label "dev.tunnelwire.sha256=$(sha256sum "$bin" | cut -d' ' -f1)" "$ctx" >&2; then
    rm -rf "$ctx"; die "$name: docker build failed"
  fi
  rm -rf "$ctx"
}

list_peers() {
  printf '%s\n' "${P[peers]}" "${P[peers.optional]:-}" | tr ',' '\n' | sed '/^$/d'
}

mode=build force=0 image=0
names=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --print-path) mode=path; shift; [[ $# -ge 1 ]] || die "--print-path needs a peer name"; names+=("$1");;
    --image-name) mode=imagename; shift; [[ $# -ge 1 ]] || die "--image-name needs a peer name"; names+=("$1");;
    --image) image=1;;
    --force) force=1;;
    --list) list_peers; exit 0;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0;;
    -*) die "unknown option $1";;
    *) names+=("$1");;
  esac
  shift
done
if [[ ${#names[@]} -eq 0 ]]; then
  IFS=',' read -r -a names <<< "${P[peers]}"
fi

case $mode in
  imagename)
    known_peer "${names[0]}" || die "unknown peer '${names[0]}'"
    image_name "${names[0]}"; echo;;
  path)
    bin=$(build_locked "${names[0]}" "$force")
    [[ $image == 1 ]] && build_image "${names[0]}" "$bin"
    printf '%s\n' "$bin";;
  build)
    for n in "${names[@]}"; do
      bin=$(build_locked "$n" "$force")
      [[ $image == 1 ]] && build_image "$n" "$bin"
      printf '%s %s\n' "$n" "$bin"
    done;;
esac
