#!/usr/bin/env bash
# Make sure a local Docker engine answers "docker info". Idempotent; safe to run repeatedly.
#
#  1. If "docker info" already works: print the server version and exit 0.
#  2. If no dockerd binary exists: apt-get install docker.io (root only). A temporary
#     /usr/sbin/policy-rc.d stops the package from starting the daemon with its default
#     bridge/iptables setup. (/usr/local/bin/docker may be a client-only binary: that is fine,
#     the client is never replaced, only dockerd/containerd/runc are needed.)
#  3. Start "dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false" in the
#     background (own session, survives this script), log to $TUNNELWIRE_CACHE/docker/dockerd.log.
#     No docker0 bridge, no iptables rules: containers must use --network host (or none).
#  4. Wait up to ${TUNNELWIRE_DOCKER_WAIT:-60} s for "docker info"; on failure print the log tail, exit 1.
#
# Env: TUNNELWIRE_CACHE (default ~/.cache/tunnelwire), TUNNELWIRE_DOCKER_WAIT (seconds),
#      TUNNELWIRE_DOCKERD_ARGS (extra dockerd arguments, space-separated).
set -euo pipefail

CACHE_ROOT=${TUNNELWIRE_CACHE:-${HOME:-/root}/.cache/tunnelwire}
LOG_DIR=$CACHE_ROOT/docker
LOG=$LOG_DIR/dockerd.log
WAIT=${TUNNELWIRE_DOCKER_WAIT:-60}

log() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { printf 'ensure-docker: ERROR: %s\n' "$*" >&2; exit 1; }

server_version() { docker info --format '{{.ServerVersion}}' 2>/dev/null; }

docker_ok() {
  command -v docker >/dev/null 2>&1 || return 1
  local v
  v=$(timeout 15 docker info --format '{{.ServerVersion}}' 2>/dev/null) || return 1
  [[ -n $v ]]
}

if docker_ok; then
  log "docker is up (server $(server_version))"
  exit 0
fi

if [[ -n ${DOCKER_HOST:-} && ${DOCKER_HOST} != unix:///var/run/docker.sock && ${DOCKER_HOST} != unix:///run/docker.sock ]]; then
  die "DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local dockerd for a remote/custom host"
fi

[[ $(id -u) -eq 0 ]] || die "docker is not reachable and starting dockerd needs root (run as root, or start docker yourself)"

# --- 2. install the engine if needed ---------------------------------------------------------
need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
if [[ ${#need_pkgs[@]} -eq 0 ]]; then
  # dockerd present; docker.io also brings containerd + runc, check them in case dockerd came from elsewhere
  command -v containerd >/dev/null 2>&1 || need_pkgs+=(containerd)
  command -v runc >/dev/null 2>&1 || need_pkgs+=(runc)
fi
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${need_pkgs[*]} and no apt-get to install them"
  log "installing ${need_pkgs[*]} via apt-get"
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; created_policy=1
  fi
  cleanup_policy() { [[ $created_policy == 1 ]] && rm -f "$policy"; return 0; }
  trap cleanup_policy EXIT
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update >&2 || die "apt-get update failed"
    apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2 || die "apt-get install ${need_pkgs[*]} failed"
  fi
  cleanup_policy; trap - EXIT
  command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing ${need_pkgs[*]}"
fi

# --- 3. start dockerd ---------------------------------------------------------------------------
mkdir -p "$LOG_DIR"
touch "$LOG"
log_start=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
show_log() { tail -c +"$((log_start + 1))" "$LOG" | tail -n 40 >&2 || true; }
running_pid() {
  local f pid
  for f in /var/run/docker.pid /run/docker.pid; do
    [[ -r $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
      printf '%s' "$pid"; return 0
    fi
  done
  return 1
}

if pid=$(running_pid); then
  log "dockerd already running (pid $pid), waiting for it to answer"
else
  # a stale pid file makes dockerd refuse to start
  for f in /var/run/docker.pid /run/docker.pid; do [[ -e $f ]] && rm -f "$f"; done
  # cgroup v1 hosts without mounted cgroups: let the Debian helper mount them if present
  if [[ ! -e /sys/fs/cgroup/cgroup.controllers ]] && ! mountpoint -q /sys/fs/cgroup 2>/dev/null \
     && command -v cgroupfs-mount >/dev/null 2>&1; then
    cgroupfs-mount || true
  fi
  read -r -a extra <<< "${TUNNELWIRE_DOCKERD_ARGS:-}"
  args=(--bridge=none --iptables=false --ip6tables=false --ip-masq=false "${extra[@]}")
  log "starting: dockerd ${args[*]} (log: $LOG)"
  printf '\n=== %s ensure-docker: dockerd %s\n' "$(date -u +%FT%TZ)" "${args[*]}" >> "$LOG"
  if command -v setsid >/dev/null 2>&1; then
    setsid nohup dockerd "${args[@]}" >> "$LOG" 2>&1 < /dev/null &
  else
    nohup dockerd "${args[@]}" >> "$LOG" 2>&1 < /dev/null &
  fi
  pid=$!
  disown "$pid" 2>/dev/null || true
fi

# --- 4. wait ----------------------------------------------------------------------------------
deadline=$(( $(date +%s) + WAIT ))
while (( $(date +%s) < deadline )); do
  if docker_ok; then
    log "docker is up (server $(server_version), dockerd pid $(running_pid || echo "$pid"))"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null && ! running_pid >/dev/null; then
    log "dockerd exited; its log ($LOG):"
    show_log
    exit 1
  fi
  sleep 1
done
log "docker did not answer within ${WAIT}s; last log lines of $LOG:"
show_log
exit 1
