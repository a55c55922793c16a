#!/usr/bin/env bash
# The one CI script. `.ci/run` calls `ci/check.sh all`; the README gives the same command.
#
#   ci/check.sh setup     install what the checks need (rustup target, components, a JDK,
#                         OpenSSL's static archives, ZooKeeper, stunnel, PostgreSQL, chromium,
#                         the tansu broker)
#   ci/check.sh embedded  build core for thumbv7em-none-eabihf, plain and with defmt; run the
#                         microcontroller example and check its sizes (ci/bench sizes)
#   ci/check.sh lint      cargo fmt --check, cargo clippy -D warnings
#   ci/check.sh test      cargo test --workspace (needs java for the differential tests), and
#                         the parser's tests again without the fast-parse feature
#   ci/check.sh fuzz      build the fuzz targets on stable and replay their seeds; fuzz each
#                         target for 30 s when nightly and cargo-fuzz are installed
#   ci/check.sh static    the shipped kind of binary: static x86_64 musl (release profile; ci/dist
#                         builds the size-optimised one), no dynamic section, --version, demo
#   ci/check.sh all       all of the above, in that order
set -euo pipefail
cd "$(dirname "$0")/.."

EMBEDDED_TARGET=thumbv7em-none-eabihf
FUZZ_TARGETS=(properties config record reporter jaas)

step() { printf '\n==> %s\n' "$*"; }

setup() {
    step "setup"
    rustup target list --installed | grep -qx "$EMBEDDED_TARGET" || rustup target add "$EMBEDDED_TARGET"
    for component in rustfmt clippy; do
        rustup component list --installed | grep -q "^$component" || rustup component add "$component"
    done
    if ! command -v java >/dev/null 2>&1; then
        echo "no java on PATH: installing a headless JDK (the differential tests run Java's Properties.load)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq default-jdk-headless >/dev/null
    fi
    java -version 2>&1 | head -1
    if [ ! -f /usr/lib/x86_64-linux-gnu/libssl.a ]; then
        echo "installing libssl-dev: librdkafka's TLS links OpenSSL's static archives (.cargo/config.toml)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq libssl-dev pkg-config >/dev/null
    fi
    if [ ! -f /usr/share/java/zookeeper.jar ]; then
        echo "installing ZooKeeper (libzookeeper-java) for the bundle tool's --zookeeper tests"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq libzookeeper-java >/dev/null
    fi
    if ! command -v stunnel >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
        echo "installing stunnel4 and openssl: the TLS front and the test PKI of the secured-cluster tests"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq stunnel4 openssl >/dev/null
    fi
    if ! command -v keytool >/dev/null 2>&1; then
        echo "no keytool on PATH: installing a headless JDK (JKS and PKCS12 stores for the secured-cluster tests)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq default-jdk-headless >/dev/null
    fi
    ci/postgres.sh install
    rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
    if ! command -v musl-gcc >/dev/null 2>&1; then
        echo "installing musl-tools: the static x86_64 build"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq musl-tools >/dev/null
    fi
    if ! command -v chromium >/dev/null 2>&1; then
        echo "installing chromium: the collector's page is checked in a headless browser"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq chromium >/dev/null
    fi
    ci/tansu.sh install
}

embedded() {
    step "core for $EMBEDDED_TARGET (no_std, no alloc)"
    cargo build -p support-metrics-core --no-default-features --target "$EMBEDDED_TARGET"
    cargo build -p support-metrics-core --no-default-features --features defmt --target "$EMBEDDED_TARGET"
    step "core on a microcontroller: the example's cycle on the host, then its sizes"
    ci/bench sizes
}

lint() {
    step "rustfmt"
    cargo fmt --all -- --check
    step "clippy"
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p support-metrics-core --all-targets --features _fuzzing -- -D warnings
    cargo clippy -p support-metrics-core --all-targets --no-default-features --features _fuzzing -- -D warnings
    step "rustfmt and clippy: ci/mcu (its own workspace)"
    cargo fmt --manifest-path ci/mcu/Cargo.toml -- --check
    (cd ci/mcu && cargo clippy -q --release --target-dir ../../target/mcu -- -D warnings &&
        cargo clippy -q --release --target "$EMBEDDED_TARGET" --target-dir ../../target/mcu -- -D warnings)
}

TEST_LOG=""

test() {
    step "tests (with a tansu broker on loopback)"
    TEST_LOG=$(mktemp)
    # Not local: the EXIT trap stops them after this function has returned.
    broker=$(mktemp)
    postgres=$(mktemp -d)
    trap 'ci/tansu.sh stop "$broker"; ci/postgres.sh stop "$postgres"' EXIT
    SUPPORT_METRICS_KAFKA=$(ci/tansu.sh start "$broker")
    export SUPPORT_METRICS_KAFKA
    # The collector's PostgreSQL backend runs the same suite as SQLite, on a real server.
    SUPPORT_METRICS_POSTGRES=$(ci/postgres.sh start "$postgres")
    export SUPPORT_METRICS_POSTGRES
    echo "PostgreSQL listening at $SUPPORT_METRICS_POSTGRES"
    # The secured-cluster tests start their own brokers (SCRAM users, behind stunnel).
    SUPPORT_METRICS_TANSU=$(ci/tansu.sh bin)
    export SUPPORT_METRICS_TANSU
    echo "tansu listening on $SUPPORT_METRICS_KAFKA"
    cargo test --workspace 2>&1 | tee "$TEST_LOG"
    step "tests of the parser without fast-parse (the microcontroller build)"
    cargo test -p support-metrics-core --no-default-features --features _fuzzing 2>&1 | tee -a "$TEST_LOG"
    cargo test -p support-metrics-tests --no-default-features -- java corpus 2>&1 | tee -a "$TEST_LOG"
    ci/tansu.sh stop "$broker"
    ci/postgres.sh stop "$postgres"
    trap - EXIT
}

# One closing line with the totals of every `cargo test` binary, so a run that tested nothing
# cannot pass unnoticed.
summary() {
    [ -n "$TEST_LOG" ] || return 0
    local passed failed
    passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$TEST_LOG" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
    failed=$(grep -Eo '; ([0-9]+) failed' "$TEST_LOG" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
    rm -f "$TEST_LOG"
    echo
    echo "tests: $passed passed, $failed failed"
    [ "$passed" -gt 0 ] || { echo "no test ran" >&2; exit 1; }
}

fuzz() {
    step "fuzz targets: build on stable, replay seeds"
    cargo build -p support-metrics-fuzz --release
    for t in "${FUZZ_TARGETS[@]}"; do
        "target/release/$t" -runs=0 "fuzz/corpus/$t" 2>&1 | tail -1
    done
    if cargo +nightly --version >/dev/null 2>&1 && cargo +nightly fuzz --version >/dev/null 2>&1; then
        # New units go to a scratch corpus (libFuzzer writes to the first directory); the
        # checked-in seeds are only read.
        scratch=$(mktemp -d)
        for t in "${FUZZ_TARGETS[@]}"; do
            step "fuzzing $t for 30 s"
            mkdir -p "$scratch/$t"
            (cd fuzz && cargo +nightly fuzz run "$t" "$scratch/$t" "corpus/$t" -- -max_total_time=30 -print_final_stats=1 2>&1 |
                grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|ERROR|panicked|SUMMARY")
        done
        rm -rf "$scratch"
    else
        echo "SKIPPED real fuzzing: needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz)"
    fi
}

static_build() {
    step "static x86_64 binaries (musl; about 5 minutes on a fresh machine)"
    local target=x86_64-unknown-linux-musl
    cargo build -q --release --target "$target" -p support-metrics-agent -p support-metrics-bundle
    local b dynamic
    for b in support-metrics-agent support-metrics-bundle; do
        dynamic=$(readelf -d "target/$target/release/$b")
        if grep -q NEEDED <<<"$dynamic"; then
            echo "$b is not static" >&2
            exit 1
        fi
        "target/$target/release/$b" --version
    done
    local demo
    demo=$(mktemp -d)
    (cd "$demo" && "$OLDPWD/target/$target/release/support-metrics-agent" demo --dir "$demo" | tail -1)
    rm -rf "$demo"
}

all() {
    setup
    embedded
    lint
    test
    fuzz
    static_build
    summary
}

case "${1:-all}" in
    test) test && summary ;;
    static) static_build ;;
    setup | embedded | lint | fuzz | all) "${1:-all}" ;;
    *)
        echo "usage: ci/check.sh [setup|embedded|lint|test|fuzz|static|all]" >&2
        exit 2
        ;;
esac
