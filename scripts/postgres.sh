#!/usr/bin/env bash
# Source this file to get a throwaway PostgreSQL server for the registry
# tests: installs Debian's `postgresql` package when missing (apt-get
# update once, then install; needs root), initialises a cluster in a
# temporary folder, starts it on a free loopback port (as the `postgres`
# user when running as root: PostgreSQL refuses to run as root), creates
# the database `hallmark_test`, exports HALLMARK_TEST_POSTGRES with its URL
# and stops the server and removes the folder when the shell exits.
#   source scripts/postgres.sh && pg_start

pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_start() {
    if [ -z "$(pg_bindir)" ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "postgres: PostgreSQL is not installed; run: sudo apt-get install postgresql" >&2
            return 1
        fi
        echo "postgres: installing Debian's postgresql package" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        # The package may start its own cluster; it is not used.
    fi
    local bin
    bin=$(pg_bindir)
    PG_TMP=$(mktemp -d /tmp/hallmark-pg.XXXXXX)
    local run=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$PG_TMP"
        run=(runuser -u postgres --)
    fi
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${run[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; return 1; }
    PG_CTL=("${run[@]}" "$bin/pg_ctl" -D "$PG_TMP/data")
    "${PG_CTL[@]}" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_TMP -c fsync=off" start >/dev/null \
        || { cat "$PG_TMP/server.log" >&2; return 1; }
    trap pg_stop EXIT
    "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'CREATE DATABASE hallmark_test' >/dev/null
    export HALLMARK_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$PG_PORT/hallmark_test"
    echo "postgres: throwaway server at $HALLMARK_TEST_POSTGRES" >&2
}

pg_stop() {
    if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP" ]; then
        "${PG_CTL[@]}" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_TMP"
    fi
}
