#!/usr/bin/env bash
# Gets a Docker Engine ready for the docker tests and benchmark, doing only what is missing:
#  1. Docker Engine, compose (v1, Debian's docker-compose) and busybox-static from apt;
#  2. dockerd, started in the background if none answers: no bridge and no iptables (nothing here
#     may touch the host's network), overlay2, and live-restore so containers outlive a dockerd
#     restart (the host manager's reconnect test restarts it);
#  3. the local test image coxswain-test:latest, imported from busybox-static (nothing can be
#     pulled here). Its command sleeps until SIGTERM, on which it exits at once.
# Quick when everything is there already. DOCKERD_LOG (default /tmp/coxswain-dockerd.log).
set -euo pipefail

IMAGE=coxswain-test:latest
LOG=${DOCKERD_LOG:-/tmp/coxswain-dockerd.log}
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
has_compose() { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker >/dev/null || missing+=(docker.io)
has_compose || missing+=(docker-compose)
dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-docker: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! engine_up; then
  echo "setup-docker: starting dockerd (log: $LOG)"
  $SUDO setsid dockerd --bridge=none --iptables=false --ip-masq=false --storage-driver=overlay2 --live-restore \
    >>"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 150); do
    engine_up && break
    sleep 0.2
  done
  if ! engine_up; then
    echo "setup-docker: dockerd did not answer within 30 s; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "setup-docker: building $IMAGE from busybox-static"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh sleep true cat echo kill; do ln -s busybox "$root/bin/$applet"; done
  # `wait` returns as soon as a trapped signal arrives; a plain `sleep` as pid 1 would ignore SIGTERM.
  tar -C "$root" -c . | docker import \
    --change 'CMD ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; sleep 2147483647 & wait"]' \
    --change 'LABEL org.opencontainers.image.title=coxswain-test' - "$IMAGE" >/dev/null
fi
echo "setup-docker: ready (engine $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null || docker-compose version --short), image $IMAGE)"
