//! `support-metrics-agent demo`: the README's first command, with nothing installed.

mod common;

use std::process::Command;

use common::BIN;
use serde_json::Value;
use support_metrics_tests::scratch_dir;

#[test]
fn demo_sends_a_record_and_writes_a_verifiable_bundle() {
    let dir = scratch_dir("demo");
    let out = Command::new(&*BIN)
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
    // No Kafka installation in the demo: said as the demo's fact, not warned about as if a
    // broker's host were misconfigured.
    assert_eq!(v["kafkaVersion"], "unknown", "{record}");
    assert!(stdout.contains("\nKafka version: unknown ("), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(" WARN "), "{stderr}");
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
        .strip_suffix(" with 1 record")
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

/// A `--dir` the demo cannot write to: said at once (before the cycle), exit 73, the
/// directory named, no `--force` suggested, no temporary directory left behind.
#[test]
fn demo_into_an_unwritable_dir_fails_first_and_cleanly() {
    let dir = scratch_dir("demo-unwritable");
    let not_a_dir = dir.join("a-file");
    std::fs::write(&not_a_dir, "x").unwrap();
    for target in [not_a_dir.clone(), dir.join("missing")] {
        let child = Command::new(&*BIN)
            .args(["demo", "--dir"])
            .arg(&target)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let work = std::env::temp_dir().join(format!("support-metrics-demo-{}", child.id()));
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(73), "{stderr}");
        assert!(stderr.contains(&target.display().to_string()), "{stderr}");
        assert!(
            !stderr.contains("--force") && !stderr.contains(".tmp"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing ran first");
        assert!(!work.exists(), "{} left behind", work.display());
    }
}
