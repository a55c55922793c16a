#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the collector's tests (Debian's postgresql).
#
#   ci/postgres.sh install      install Debian's postgresql if missing
#   ci/postgres.sh start DIR    initdb DIR and start a server on a free 127.0.0.1 port;
#                               prints its URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   ci/postgres.sh stop DIR     stop it and remove DIR
#
# The server runs as the unprivileged user `postgres` (it refuses root), trusts loopback
# connections (a test server) and fsyncs as a production one does.
set -euo pipefail

bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

case "${1:-}" in
    install)
        if [ -z "$(bin)" ]; then
            echo "installing postgresql (the collector's PostgreSQL tests)"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq postgresql >/dev/null
        fi
        ;;
    start)
        dir=$2
        b=$(bin)
        [ -n "$b" ] || { echo "no PostgreSQL: run ci/postgres.sh install" >&2; exit 1; }
        rm -rf "$dir"
        mkdir -p "$dir"
        chown postgres "$dir" 2>/dev/null || true
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
        as_pg "'$b/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 >/dev/null"
        as_pg "'$b/pg_ctl' -D '$dir/data' -l '$dir/log' -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c max_connections=200\" start >/dev/null"
        echo "postgres://postgres@127.0.0.1:$port/postgres"
        ;;
    stop)
        dir=$2
        b=$(bin)
        if [ -d "$dir/data" ]; then
            if [ "$(id -u)" = 0 ]; then
                su postgres -s /bin/sh -c "'$b/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
            else
                "$b/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
            fi
        fi
        rm -rf "$dir"
        ;;
    *)
        echo "usage: ci/postgres.sh install | start DIR | stop DIR" >&2
        exit 2
        ;;
esac
