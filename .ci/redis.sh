#!/usr/bin/env bash
# A Redis server for the Cache.redis tests.
#
#   .ci/redis.sh up     use the server on 127.0.0.1:6379 if it answers PING; else start a throwaway
#                       one on port 63799 (installing redis-server when it is missing). Writes the URL
#                       to $STATE/redis.url for THREADCREW_TEST_REDIS_URL.
#   .ci/redis.sh down   stop the throwaway server, if "up" started one
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${THREADCREW_CI_STATE:-/tmp/threadcrew-ci}
PORT=63799
mkdir -p "$STATE"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

answers() {  # $1: port
    local reply
    reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'PING\r\n' >&3 && head -c 5 <&3" 2>/dev/null) || return 1
    [ "$reply" = "+PONG" ]
}

up() {
    if answers 6379; then
        echo "using the Redis server on 127.0.0.1:6379"
        echo "redis://127.0.0.1:6379/0" >"$STATE/redis.url"
        rm -f "$STATE/redis.started"
        return
    fi
    if ! command -v redis-server >/dev/null; then
        echo "installing redis-server ..."
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    fi
    echo "starting a throwaway Redis server on port $PORT ..."
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
    for _ in $(seq 50); do answers "$PORT" && break; sleep 0.1; done
    answers "$PORT" || { echo "the throwaway Redis server did not start: see $STATE/redis.log" >&2; exit 1; }
    echo "redis://127.0.0.1:$PORT/0" >"$STATE/redis.url"
    touch "$STATE/redis.started"
}

down() {
    if [ -f "$STATE/redis.started" ]; then
        echo "stopping the throwaway Redis server"
        kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true
        rm -f "$STATE/redis.started"
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
