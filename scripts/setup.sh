#!/usr/bin/env bash
# Installs what a fresh machine lacks for tunnelwire's build and tests, idempotently:
#   JDK 17+, Maven 3.8+, Go (to build the real peers; the version pinned as go.toolchain in
#   interop-docker/peers/versions.properties, see interop-docker/scripts/ensure-go.sh), and a running Docker engine.
# Peers themselves are built (and cached under ${TUNNELWIRE_CACHE:-~/.cache/tunnelwire}) by the interop tests.
# Set TUNNELWIRE_SKIP_DOCKER=1 to skip the Docker part (only with -DskipInterop).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

log() { echo "[setup] $*" >&2; }

apt_updated=""
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "need root to apt-get install $*"; exit 1
  fi
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; then
  log "installing OpenJDK 17"; apt_install openjdk-17-jdk-headless
fi
if ! command -v mvn >/dev/null; then
  log "installing Maven"; apt_install maven
fi
# Go: the peers need go.toolchain of interop-docker/peers/versions.properties (Debian 12's golang-go is 1.19);
# ensure-go.sh keeps a go on PATH that is new enough, else fetches that release from the module proxy
# (golang.org/toolchain) into ${TUNNELWIRE_CACHE:-~/.cache/tunnelwire}/go/, bootstrapped by any Go.
ensure_go="$here/interop-docker/scripts/ensure-go.sh"
if ! gocmd=$("$ensure_go" --check 2>/dev/null); then
  if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
    log "installing Debian's Go (only to fetch the pinned Go toolchain with it)"; apt_install golang-go
  fi
  gocmd=$("$ensure_go")
fi
if [ "${TUNNELWIRE_SKIP_DOCKER:-0}" != 1 ] && [ -x "$here/interop-docker/scripts/ensure-docker.sh" ]; then
  "$here/interop-docker/scripts/ensure-docker.sh"
fi
log "java $(java_major), $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g'), $(GOTOOLCHAIN=local "$gocmd" version) ($gocmd)"
