#!/usr/bin/env bash
# Smoke-test the peer images: for each peer, build binary + FROM-scratch image (build-peers.sh --image),
# run "<image> <version args>" with --network host, then run the peer with a tiny SOCKS5 inbound on
# 127.0.0.1:<free port> (config copied into the container with "docker cp", no bind mounts, like
# Testcontainers' withCopyFileToContainer), check that the port answers a SOCKS5 greeting, remove it.
#
# Usage: smoke-peers.sh [name...]     (default: the "peers=" list; add "v2ray" explicitly)
# Needs a running docker (see ensure-docker.sh). Only loopback traffic.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD="$SCRIPT_DIR/build-peers.sh"
PROPS=${TUNNELWIRE_PEERS_FILE:-$SCRIPT_DIR/../peers/versions.properties}

log() { printf 'smoke-peers: %s\n' "$*" >&2; }
die() { printf 'smoke-peers: ERROR: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "docker is not running (run ensure-docker.sh)"

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  IFS=',' read -r -a names <<< "$(grep -E '^peers=' "$PROPS" | cut -d= -f2- | tr -d ' \r')"
fi

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    port_open "$p" || { printf '%s' "$p"; return 0; }
  done
  die "no free port found"
}

# SOCKS5 greeting (no auth) -> expect 05 00
socks_ok() {
  local reply
  reply=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; printf '\x05\x01\x00' >&3; head -c 2 <&3 | od -An -tx1" 2>/dev/null | tr -d ' \n')
  [[ $reply == 0500 ]]
}

config_for() { # name port -> prints config file content (empty = none) ; sets RUN_ARGS
  local name=$1 port=$2
  case $name in
    singbox*)
      RUN_ARGS=(run -c /config.json)
      printf '{"log":{"level":"info"},"inbounds":[{"type":"mixed","tag":"m","listen":"127.0.0.1","listen_port":%s}],"outbounds":[{"type":"direct","tag":"direct"}]}\n' "$port";;
    xray)
      RUN_ARGS=(run -c /config.json)
      printf '{"log":{"loglevel":"info"},"inbounds":[{"listen":"127.0.0.1","port":%s,"protocol":"socks","settings":{"auth":"noauth","udp":false}}],"outbounds":[{"protocol":"freedom"}]}\n' "$port";;
    v2ray)
      RUN_ARGS=(-config /config.json)
      printf '{"log":{"loglevel":"info"},"inbounds":[{"listen":"127.0.0.1","port":%s,"protocol":"socks","settings":{"auth":"noauth","udp":false}}],"outbounds":[{"protocol":"freedom"}]}\n' "$port";;
    gost)
      RUN_ARGS=(-L "socks5://127.0.0.1:$port");;
    *) die "no smoke config for peer '$name'";;
  esac
}

fail=0
for name in "${names[@]}"; do
  "$BUILD" --image --print-path "$name" >/dev/null
  img=$("$BUILD" --image-name "$name")
  read -r -a vargs <<< "$(grep -E "^$name\.version_args=" "$PROPS" | cut -d= -f2- | tr -d '\r')"
  vout=$(docker run --rm --network host "$img" "${vargs[@]}" 2>&1) || { log "$name: version run failed: $vout"; fail=1; continue; }
  vout=${vout%%$'\n'*}
  log "$name: docker run --rm --network host $img ${vargs[*]} -> $vout"

  port=$(free_port)
  cfgdir=$(mktemp -d)
  config_for "$name" "$port" > "$cfgdir/config.json"
  ctr="tunnelwire-smoke-$name-$$"
  docker create --name "$ctr" --network host "$img" "${RUN_ARGS[@]}" >/dev/null
  [[ -s $cfgdir/config.json ]] && docker cp "$cfgdir/config.json" "$ctr:/config.json"
  docker start "$ctr" >/dev/null
  ok=0
  for _ in $(seq 1 30); do
    if port_open "$port"; then ok=1; break; fi
    [[ $(docker inspect -f '{{.State.Running}}' "$ctr" 2>/dev/null) == true ]] || break
    sleep 0.5
  done
  if [[ $ok == 1 ]] && socks_ok "$port"; then
    log "$name: listening on 127.0.0.1:$port, SOCKS5 greeting OK ($img ${RUN_ARGS[*]})"
  else
    log "$name: FAILED to serve on 127.0.0.1:$port; container logs:"
    docker logs "$ctr" 2>&1 | tail -n 20 >&2 || true
    fail=1
  fi
  docker rm -f "$ctr" >/dev/null 2>&1 || true
  rm -rf "$cfgdir"
done
[[ $fail == 0 ]] || die "some peers failed"
log "all OK: ${names[*]}"
