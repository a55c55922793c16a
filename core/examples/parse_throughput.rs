//! Properties parser throughput: parses FILE with the core push parser, fed in 64 KiB chunks,
//! every event consumed and nothing collected, and prints `MB/s <median>` (MB = 10^6 bytes)
//! over several rounds after one warm-up round.
//!
//!     cargo run --release -p support-metrics-core --example parse_throughput -- FILE [ROUNDS]
//!
//! `ci/perf/gen_properties.py` writes a broker-like file to feed it; `ci/bench` compares the
//! figure with Java's `Properties.load` and the `java-properties` crate.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use support_metrics_core::properties::{PropertiesParser, DEFAULT_CAPACITY};

const CHUNK: usize = 64 * 1024;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse_throughput FILE [ROUNDS]");
        return ExitCode::from(64);
    };
    let rounds = match args.next().map(|r| r.parse::<usize>()) {
        None => 9,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("parse_throughput: ROUNDS must be a positive integer");
            return ExitCode::from(64);
        }
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("parse_throughput: {path}: {e}");
            return ExitCode::from(66);
        }
    };
    // Boxed: the parser holds two 64 KiB buffers, too big for a comfortable stack frame.
    let mut parser = Box::new(PropertiesParser::<DEFAULT_CAPACITY>::new());
    let mut rates = Vec::with_capacity(rounds);
    for round in 0..=rounds {
        let start = Instant::now();
        let properties = match parse(&mut parser, &bytes) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("parse_throughput: {path}: {e}");
                return ExitCode::from(65);
            }
        };
        let seconds = start.elapsed().as_secs_f64();
        black_box(properties);
        if round > 0 {
            rates.push(bytes.len() as f64 / seconds / 1e6);
        }
    }
    rates.sort_by(f64::total_cmp);
    println!("MB/s {:.1}", rates[rates.len() / 2]);
    ExitCode::SUCCESS
}

/// Parses one whole document; returns how many properties it held.
fn parse<const N: usize>(
    parser: &mut PropertiesParser<N>,
    bytes: &[u8],
) -> Result<usize, support_metrics_core::properties::ParseError> {
    let mut count = 0;
    for chunk in bytes.chunks(CHUNK) {
        parser.feed(chunk, |p| {
            black_box((p.key, p.value));
            count += 1;
        })?;
    }
    if let Some(p) = parser.finish()? {
        black_box((p.key, p.value));
        count += 1;
    }
    Ok(count)
}
