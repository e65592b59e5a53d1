#!/usr/bin/env bash
# Real services for end-to-end tests and image benchmarks: a Docker engine (Debian docker.io)
# and an OCI registry (Debian docker-registry), both on this machine only; Podman (Debian podman
# and catatonit, configured for this machine) for the pod tests and `mlgitops up`; and a Fluentd
# image built from ../shared/vendor for the pods' sidecars and the local log aggregator.
#
#   scripts/e2e/services.sh start    install what is missing, start both, build the base image once
#   scripts/e2e/services.sh stop     stop both, delete the registry's storage and the run state
#   scripts/e2e/services.sh status   exit 0 when both answer, 3 otherwise
#   scripts/e2e/services.sh env      print the exports callers need: eval "$(... env)"
#   scripts/e2e/services.sh purge    stop, then also delete the cached engine data and base image
#
# Every command is idempotent. dockerd runs with its own socket, data root and exec root so it
# never collides with an engine the machine may already run; no iptables and no bridge because
# a sandbox offers neither, so builds and containers use the host network (`--network host`).
#
# Storage: overlay2 when the kernel lets us mount an overlay here, vfs otherwise (or when
# MLGITOPS_E2E_STORAGE_DRIVER says so). vfs copies the whole parent file system for every build
# step and every container: measured here at 30-120 s per step on the 455 MB runtime image,
# 14 minutes for one thin model image, against seconds with overlay2.
#
# The engine's data root lives in the cache directory, outside the clone, so a second `start`
# finds the base image (and the runtime image a previous build made) without rebuilding them.
# The base image exists because no public registry is reachable here: debootstrap a minimal
# Debian with python3, cache the rootfs tarball, `docker import` it.
set -euo pipefail

STATE_DIR=${MLGITOPS_E2E_STATE:-/tmp/mlgitops-e2e}
CACHE_DIR=${MLGITOPS_E2E_CACHE:-/var/cache/mlgitops-e2e}
REGISTRY_PORT=${MLGITOPS_E2E_REGISTRY_PORT:-5055}
BASE_IMAGE=${MLGITOPS_E2E_BASE_IMAGE:-mlgitops-e2e/base:bookworm}
SUITE=bookworm
FLUENTD_IMAGE=${MLGITOPS_E2E_FLUENTD_IMAGE:-mlgitops-e2e/fluentd:1.17.1}
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENDOR_DIR=${MLGITOPS_E2E_VENDOR:-$REPO_ROOT/../shared/vendor}
PODMAN_CONF=/etc/containers/containers.conf.d/mlgitops.conf
WAIT_SECONDS=${MLGITOPS_E2E_WAIT:-120}
STORAGE_DRIVER=${MLGITOPS_E2E_STORAGE_DRIVER:-}

SOCKET=$STATE_DIR/docker.sock
DOCKER_PIDFILE=$STATE_DIR/dockerd.spawn.pid
REGISTRY_PIDFILE=$STATE_DIR/registry.pid
REGISTRY_ADDR=127.0.0.1:$REGISTRY_PORT
DATA_ROOT=$CACHE_DIR/docker
BASE_TAR=$CACHE_DIR/base-$SUITE.tar

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "must run as root (dockerd, debootstrap); sudo not found"
    exec sudo --preserve-env=MLGITOPS_E2E_STATE,MLGITOPS_E2E_CACHE,MLGITOPS_E2E_REGISTRY_PORT,MLGITOPS_E2E_BASE_IMAGE,MLGITOPS_E2E_WAIT,MLGITOPS_E2E_FLUENTD_IMAGE,MLGITOPS_E2E_VENDOR "$0" "$@"
  fi
}

docker_cli() { docker --host "unix://$SOCKET" "$@"; }

alive() {
  local pidfile=$1
  [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

engine_answers() { curl -fsS --max-time 2 --unix-socket "$SOCKET" http://localhost/_ping >/dev/null 2>&1; }
registry_answers() { curl -fsS --max-time 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

# Polls a readiness probe; the deadline is generous because a cold dockerd on vfs can be slow.
wait_for() {
  local what=$1 probe=$2 pidfile=$3 logfile=$4 waited=0
  until "$probe"; do
    if ! alive "$pidfile"; then
      tail -n 20 "$logfile" >&2 || true
      die "$what exited during start-up; log: $logfile"
    fi
    if [ "$waited" -ge "$((WAIT_SECONDS * 10))" ]; then
      tail -n 20 "$logfile" >&2 || true
      die "$what did not answer within ${WAIT_SECONDS}s; log: $logfile"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# apt-get runs only when something is missing, and refreshes its index once.
install_packages() {
  local pkg missing=()
  for pkg in docker.io docker-registry debootstrap curl podman catatonit slirp4netns; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The mirror the machine's own apt uses, so debootstrap works wherever apt-get does.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# runc cannot set RLIMIT_NOFILE inside this sandbox, so Podman must not ask it to (checked here:
# with containers.conf's default ulimits every container fails to start).
configure_podman() {
  [ -s "$PODMAN_CONF" ] && return
  mkdir -p "$(dirname "$PODMAN_CONF")"
  printf '# Written by mlgitops scripts/e2e/services.sh\n[containers]\ndefault_ulimits = []\n' \
    >"$PODMAN_CONF"
}

ensure_fluentd_image() {
  if docker_cli image inspect "$FLUENTD_IMAGE" >/dev/null 2>&1; then
    return
  fi
  [ -d "$VENDOR_DIR/fluentd" ] || die "no Fluentd sources in $VENDOR_DIR (set MLGITOPS_E2E_VENDOR)"
  log "building $FLUENTD_IMAGE from $VENDOR_DIR"
  docker_cli build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -f "$REPO_ROOT/scripts/e2e/fluentd/Dockerfile" -t "$FLUENTD_IMAGE" "$VENDOR_DIR" \
    >"$STATE_DIR/fluentd-build.log" 2>&1 \
    || { tail -n 20 "$STATE_DIR/fluentd-build.log" >&2; die "the Fluentd image did not build"; }
}

build_base_tar() {
  local rootfs
  rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
  log "debootstrap $SUITE from $(debian_mirror) (once; cached in $BASE_TAR)"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    "$SUITE" "$rootfs" "$(debian_mirror)" >"$STATE_DIR/debootstrap.log" 2>&1 \
    || { tail -n 20 "$STATE_DIR/debootstrap.log" >&2; rm -rf "$rootfs"; die "debootstrap failed"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.tmp" .
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$rootfs"
}

ensure_base_image() {
  if docker_cli image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    return
  fi
  [ -s "$BASE_TAR" ] || build_base_tar
  log "importing $BASE_TAR as $BASE_IMAGE"
  docker_cli import --change 'CMD ["python3"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null
}

# An overlay mount on the data root's own file system is what overlay2 needs; try one.
choose_storage_driver() {
  if [ -n "$STORAGE_DRIVER" ]; then
    printf '%s\n' "$STORAGE_DRIVER"
    return
  fi
  local probe driver=vfs
  probe=$(mktemp -d "$CACHE_DIR/overlay-probe.XXXXXX")
  mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if mount -t overlay overlay \
    -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    umount "$probe/merged"
    driver=overlay2
  fi
  rm -rf "$probe"
  printf '%s\n' "$driver"
}

start_engine() {
  if alive "$DOCKER_PIDFILE" && engine_answers; then
    return
  fi
  mkdir -p "$DATA_ROOT" "$STATE_DIR/exec"
  local driver
  driver=$(choose_storage_driver)
  log "starting dockerd on unix://$SOCKET (storage driver $driver)"
  setsid dockerd \
    --host "unix://$SOCKET" \
    --pidfile "$STATE_DIR/dockerd.pid" \
    --data-root "$DATA_ROOT" \
    --exec-root "$STATE_DIR/exec" \
    --storage-driver="$driver" --iptables=false --bridge=none \
    </dev/null >"$STATE_DIR/dockerd.log" 2>&1 &
  echo $! >"$DOCKER_PIDFILE"
  wait_for dockerd engine_answers "$DOCKER_PIDFILE" "$STATE_DIR/dockerd.log"
}

start_registry() {
  if alive "$REGISTRY_PIDFILE" && registry_answers; then
    return
  fi
  mkdir -p "$STATE_DIR/registry"
  cat >"$STATE_DIR/registry.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
CONFIG
  log "starting docker-registry on $REGISTRY_ADDR"
  setsid /usr/bin/docker-registry serve "$STATE_DIR/registry.yml" \
    </dev/null >"$STATE_DIR/registry.log" 2>&1 &
  echo $! >"$REGISTRY_PIDFILE"
  wait_for docker-registry registry_answers "$REGISTRY_PIDFILE" "$STATE_DIR/registry.log"
}

write_env() {
  cat >"$STATE_DIR/env" <<ENV
export DOCKER_HOST=unix://$SOCKET
export MLGITOPS_E2E_REGISTRY=$REGISTRY_ADDR
export MLGITOPS_E2E_BASE_IMAGE=$BASE_IMAGE
export MLGITOPS_E2E_FLUENTD_IMAGE=$FLUENTD_IMAGE
ENV
}

stop_pid() {
  local name=$1 pidfile=$2 waited=0
  if alive "$pidfile"; then
    log "stopping $name"
    kill -TERM "$(cat "$pidfile")"
    while alive "$pidfile" && [ "$waited" -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
    if alive "$pidfile"; then kill -KILL "$(cat "$pidfile")" || true; fi
  fi
  rm -f "$pidfile"
}

cmd_start() {
  require_root start
  install_packages
  configure_podman
  mkdir -p "$STATE_DIR" "$CACHE_DIR"
  start_engine
  start_registry
  ensure_base_image
  ensure_fluentd_image
  write_env
  cat "$STATE_DIR/env"
}

cmd_stop() {
  require_root stop
  stop_pid docker-registry "$REGISTRY_PIDFILE"
  stop_pid dockerd "$DOCKER_PIDFILE"
  if [ -d "$STATE_DIR" ]; then
    # dockerd may leave mounts (netns, shm) behind in its exec root when killed hard.
    grep -o " $STATE_DIR/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$STATE_DIR"
  fi
}

cmd_status() {
  local rc=0
  if alive "$DOCKER_PIDFILE" && engine_answers; then echo "dockerd: up (unix://$SOCKET)"; else echo "dockerd: down"; rc=3; fi
  if alive "$REGISTRY_PIDFILE" && registry_answers; then echo "registry: up ($REGISTRY_ADDR)"; else echo "registry: down"; rc=3; fi
  return "$rc"
}

cmd_env() {
  [ -s "$STATE_DIR/env" ] || die "services are not started: run $0 start"
  cat "$STATE_DIR/env"
}

cmd_purge() {
  cmd_stop
  rm -rf "$CACHE_DIR"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  purge) cmd_purge ;;
  *) echo "usage: $0 start|stop|status|env|purge" >&2; exit 2 ;;
esac
