//! Replays every checked-in fuzz seed (`fuzz/corpus/<target>/*`) through the same function
//! the fuzz target calls, so the seeds run in every `cargo test` without a fuzz build.

use std::path::Path;

use support_metrics_core::fuzzing;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("read seed");
        body(&data);
        count += 1;
    }
    assert!(
        count >= 3,
        "{target}: only {count} seeds in {}",
        dir.display()
    );
}

#[test]
fn properties_seeds() {
    replay("properties", fuzzing::properties);
}

#[test]
fn config_seeds() {
    replay("config", fuzzing::config);
}

#[test]
fn record_seeds() {
    replay("record", fuzzing::record);
}

#[test]
fn reporter_seeds() {
    replay("reporter", fuzzing::reporter);
}

#[test]
fn jaas_seeds() {
    replay("jaas", fuzzing::jaas);
}
