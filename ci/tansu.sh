#!/usr/bin/env bash
# The test broker: tansu (a Kafka-protocol broker) from crates.io.
#
#   ci/tansu.sh install      build it once into $TANSU_CACHE (kept between runs on a machine;
#                            rebuilt when missing)
#   ci/tansu.sh start FILE   start it on a free 127.0.0.1 port, in memory; writes
#                            "PID PORT" to FILE and prints the bootstrap address
#   ci/tansu.sh stop FILE    stop the broker started with FILE
#   ci/tansu.sh bin          print the binary's path (tests that start their own brokers)
set -euo pipefail

TANSU_VERSION=0.6.0
TANSU_CACHE=${TANSU_CACHE:-/var/cache/support-metrics/tansu-$TANSU_VERSION}
TANSU_BIN=$TANSU_CACHE/bin/tansu

install() {
    if [ -x "$TANSU_BIN" ]; then
        echo "tansu $TANSU_VERSION: cached at $TANSU_BIN"
        return
    fi
    echo "tansu $TANSU_VERSION: building (first run on this machine; cached afterwards)"
    mkdir -p "$TANSU_CACHE"
    cargo install tansu --version "$TANSU_VERSION" --features dynostore,libsql --locked --root "$TANSU_CACHE"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local state=$1 port pid
    port=$(free_port)
    "$TANSU_BIN" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine "memory://tansu/" >"$state.log" 2>&1 &
    pid=$!
    echo "$pid $port" >"$state"
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "127.0.0.1:$port"
            return
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$state.log" >&2; echo "tansu exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "tansu did not listen on 127.0.0.1:$port within 10 s" >&2
    cat "$state.log" >&2
    exit 1
}

stop() {
    local state=$1
    [ -f "$state" ] || return 0
    read -r pid _ <"$state"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$state" "$state.log"
}

case "${1:-}" in
    install) install ;;
    start) start "$2" ;;
    stop) stop "$2" ;;
    bin) echo "$TANSU_BIN" ;;
    *) echo "usage: ci/tansu.sh install | start FILE | stop FILE | bin" >&2; exit 2 ;;
esac
