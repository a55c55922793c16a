//! `support-metrics-agent demo`: the README's first command, with nothing installed.

use std::process::Command;

use serde_json::Value;
use support_metrics_tests::scratch_dir;

#[test]
fn demo_sends_a_record_and_writes_a_verifiable_bundle() {
    let dir = scratch_dir("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_support-metrics-agent"))
        .args(["demo", "--dir", dir.to_str().unwrap()])
        .env_remove("DO_NOT_TRACK")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("the record is printed");
    let v: Value = serde_json::from_str(record).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 5, "{record}");
    assert!(
        stdout.contains("-> topic __confluent.support.metrics"),
        "{stdout}"
    );
    assert!(stdout.contains("-> POST http://127.0.0.1:"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Bundle: created "))
        .expect("bundle line");
    let path = line
        .strip_prefix("Bundle: created ")
        .unwrap()
        .strip_suffix(" with 1 records")
        .expect("1 record");
    assert!(path.starts_with(dir.to_str().unwrap()), "{path}");
    let summary = support_metrics_bundle::verify(std::path::Path::new(path)).expect("verifies");
    assert_eq!(summary.records, 1);
    // The bundled record is the one that was sent.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name("records/0-0").unwrap(), &mut bytes).unwrap();
    assert_eq!(bytes, record.as_bytes());
}
