//! The `java-properties` crate's figure for the parser benchmark: `PropertiesIter::read_into`
//! on FILE (an in-memory reader; every pair handed to a closure that keeps nothing), printed as
//! `MB/s <median>` like `core/examples/parse_throughput.rs`.
//!
//!     cargo run --release -p support-metrics-tests --example java_properties_crate -- FILE [ROUNDS]

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use java_properties::PropertiesIter;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: java_properties_crate FILE [ROUNDS]");
        return ExitCode::from(64);
    };
    let rounds = match args.next().map(|r| r.parse::<usize>()) {
        None => 9,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("java_properties_crate: ROUNDS must be a positive integer");
            return ExitCode::from(64);
        }
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("java_properties_crate: {path}: {e}");
            return ExitCode::from(66);
        }
    };
    let mut rates = Vec::with_capacity(rounds);
    for round in 0..=rounds {
        let start = Instant::now();
        let mut count = 0usize;
        let parsed = PropertiesIter::new(&bytes[..]).read_into(|k, v| {
            black_box((k, v));
            count += 1;
        });
        let seconds = start.elapsed().as_secs_f64();
        if let Err(e) = parsed {
            eprintln!("java_properties_crate: {path}: {e}");
            return ExitCode::from(65);
        }
        black_box(count);
        if round > 0 {
            rates.push(bytes.len() as f64 / seconds / 1e6);
        }
    }
    rates.sort_by(f64::total_cmp);
    println!("MB/s {:.1}", rates[rates.len() / 2]);
    ExitCode::SUCCESS
}
