#!/usr/bin/env bash
# The code-execution sandboxes threadcrew's tests need: bubblewrap, a Docker engine with gVisor
# (runsc) as a runtime, and offline Python base images.
#
#   .ci/sandboxes.sh up     install docker.io, bubblewrap and runsc when missing, register runsc in
#                           /etc/docker/daemon.json, start dockerd (only with the flags this machine
#                           allows) unless an engine answers, build the images
#   .ci/sandboxes.sh down   stop the dockerd that "up" started, by its PID
#
# No registry is reachable: each image is a debootstrap of Debian imported with `docker import`.
#   threadcrew-python:bookworm        python3 and matplotlib: the code executor's sandbox (plots work)
#   threadcrew-python-build:bookworm  python3 and python3-venv: the base image that tests/deploy builds
#                                     threadcrew's Dockerfile on (BASE_IMAGE), in place of python:*-slim
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${THREADCREW_TEST_IMAGE:-threadcrew-python:bookworm}
BUILD_IMAGE=${THREADCREW_TEST_BASE_IMAGE:-threadcrew-python-build:bookworm}
STATE=${THREADCREW_CI_STATE:-/tmp/threadcrew-ci}
mkdir -p "$STATE"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# For a background job: the job's shell becomes the command, so $! is the command's own PID
# (or sudo's, which passes signals on) and "down" can stop it by that PID.
exec_as_root() { if [ "$(id -u)" = 0 ]; then exec "$@"; else exec sudo "$@"; fi; }

install_missing() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v bwrap >/dev/null || missing+=(bubblewrap)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v runsc >/dev/null || missing+=(runsc)
    command -v setpriv >/dev/null || missing+=(util-linux)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]} ..."
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# gVisor as the engine's "runsc" runtime, merged into any daemon.json there is. Without a network
# of its own (code containers have none), runsc needs --network=none.
configure_runsc() {
    as_root mkdir -p /etc/docker
    as_root python3 - <<'PY'
import json, pathlib
path = pathlib.Path("/etc/docker/daemon.json")
config = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
config.setdefault("runtimes", {})["runsc"] = {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}
path.write_text(json.dumps(config, indent=2) + "\n")
PY
}

start_engine() {
    if docker info >/dev/null 2>&1; then
        echo "a Docker engine is already running; using it (and leaving it running)"
        docker info --format '{{json .Runtimes}}' | grep -q runsc \
            || echo "note: that engine has no runsc runtime yet; send it SIGHUP to read /etc/docker/daemon.json" >&2
        rm -f "$STATE/dockerd.pid"  # "down" stops only an engine that this "up" started
        return
    fi
    echo "starting dockerd ..."
    # These flags are required here: no bridge, no NAT rules, no forwarding.
    exec_as_root dockerd --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
        >"$STATE/dockerd.log" 2>&1 &
    echo $! >"$STATE/dockerd.pid"
    for _ in $(seq 1 100); do
        docker info >/dev/null 2>&1 && return
        sleep 0.2
    done
    echo "dockerd did not come up; its log:" >&2
    tail -20 "$STATE/dockerd.log" >&2
    exit 1
}

mirror() {
    local uri
    uri=$(grep -hoE '^(URIs:|deb) *https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
        /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -1 | awk '{print $NF}')
    echo "${uri:-http://deb.debian.org/debian}"
}

# build_image NAME:TAG PACKAGES: a minbase Debian with those packages, unless the engine has it.
build_image() {
    local image=$1 packages=$2
    if docker image inspect "$image" >/dev/null 2>&1; then
        echo "image $image is there"
        return
    fi
    echo "building $image offline with debootstrap (about a minute) ..."
    local rootfs="$STATE/rootfs"
    as_root rm -rf "$rootfs"
    as_root debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$(mirror)" \
        >"$STATE/debootstrap.log" 2>&1 || { tail -20 "$STATE/debootstrap.log" >&2; exit 1; }
    as_root tar -C "$rootfs" -c . | docker import --change 'CMD ["python3"]' - "$image" >/dev/null
    as_root rm -rf "$rootfs"
}

stop_engine() {
    if [ -f "$STATE/dockerd.pid" ]; then
        local pid
        pid=$(cat "$STATE/dockerd.pid")
        echo "stopping dockerd ($pid)"
        as_root kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        rm -f "$STATE/dockerd.pid"
    fi
}

case "${1:-}" in
    up)
        install_missing
        configure_runsc
        start_engine
        build_image "$IMAGE" python3,python3-matplotlib
        build_image "$BUILD_IMAGE" python3,python3-venv
        ;;
    down) stop_engine ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
