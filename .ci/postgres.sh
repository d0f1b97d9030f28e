#!/usr/bin/env bash
# A PostgreSQL server for threadcrew's storage tests.
#
#   .ci/postgres.sh up     use the server on 127.0.0.1:5432 if it lets the postgres user in without a
#                          password; else start a throwaway cluster (trust auth, fsync off) on port
#                          54329, installing PostgreSQL when it is missing. Writes the URL to
#                          $STATE/postgres.url for THREADCREW_TEST_POSTGRES_URL.
#   .ci/postgres.sh down   stop the throwaway cluster, if "up" started one
#
# THREADCREW_CI_THROWAWAY_POSTGRES=1 starts the throwaway cluster even when a server answers.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${THREADCREW_CI_STATE:-/tmp/threadcrew-ci}
PORT=54329
mkdir -p "$STATE"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

up() {
    if [ -z "${THREADCREW_CI_THROWAWAY_POSTGRES:-}" ] && command -v psql >/dev/null && psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc 'select 1' \
        >/dev/null 2>&1 </dev/null; then
        echo "using the PostgreSQL server on 127.0.0.1:5432"
        echo "postgresql://postgres@127.0.0.1:5432/postgres" >"$STATE/postgres.url"
        rm -f "$STATE/postgres.started"
        return
    fi
    if [ -z "$(server_bin)" ]; then
        echo "installing postgresql ..."
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    fi
    local bin data
    bin=$(server_bin)
    data="$STATE/pgdata"
    rm -rf "$data"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres "$STATE/pgdata" && chmod 777 "$STATE"
    echo "starting a throwaway PostgreSQL cluster on port $PORT ..."
    as_postgres "$bin/initdb" -D "$data" --auth=trust -U postgres >"$STATE/initdb.log" 2>&1
    as_postgres "$bin/pg_ctl" -D "$data" -l "$STATE/postgres.log" -w \
        -o "-p $PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null
    echo "postgresql://postgres@127.0.0.1:$PORT/postgres" >"$STATE/postgres.url"
    echo "$bin" >"$STATE/postgres.started"
}

down() {
    if [ -f "$STATE/postgres.started" ]; then
        echo "stopping the throwaway PostgreSQL cluster"
        as_postgres "$(cat "$STATE/postgres.started")/pg_ctl" -D "$STATE/pgdata" -m fast stop >/dev/null || true
        rm -f "$STATE/postgres.started"
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
