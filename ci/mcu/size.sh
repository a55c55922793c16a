#!/usr/bin/env bash
# The core on a microcontroller: runs the example's report cycle on the host (it must deliver),
# then builds it for thumbv7em-none-eabihf with opt-level "z" and prints its sizes, failing
# when .text is over 16 KiB, the Reporter over 4 KiB, or an allocator is linked.
set -euo pipefail
cd "$(dirname "$0")"
target_dir=../../target/mcu
cargo run -q --release --target-dir "$target_dir"
cargo build -q --release --target thumbv7em-none-eabihf --target-dir "$target_dir"
python3 size.py "$target_dir/thumbv7em-none-eabihf/release/support-metrics-mcu" \
    --max-text 16384 --max-reporter 4096
