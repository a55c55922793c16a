//! The record carries the versions the broker reports: read from inside the kafka-clients jar
//! of fake installations (real jars whose `kafka/kafka-version.properties` says a version
//! other than the jar's name), for every layout, with the real binary.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{exit, stderr, stdout, BIN};
use serde_json::Value;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::servers::TestServer;

fn jar(path: &Path, version: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..50 {
        zip.start_file(format!("org/apache/kafka/C{i}.class"), deflated)
            .unwrap();
        zip.write_all(b"\xca\xfe\xba\xbe").unwrap();
    }
    zip.start_file("kafka/kafka-version.properties", deflated)
        .unwrap();
    writeln!(zip, "commitId=0123456789abcdef\nversion={version}").unwrap();
    zip.finish().unwrap();
}

/// A config at `config` reporting over HTTP to `server`, spool beside it.
fn config(config: &Path, server: &TestServer) -> PathBuf {
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let spool = config.parent().unwrap().join("spool");
    std::fs::write(
        config,
        format!(
            "broker.id=0\nconfluent.support.metrics.topic=\nconfluent.support.metrics.endpoint.secure=\n\
             confluent.support.metrics.endpoint.insecure={}\nconfluent.support.metrics.spool.dir={}\n",
            server.url("/anon"),
            spool.display()
        ),
    )
    .unwrap();
    config.to_owned()
}

fn once(config: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(&*BIN)
        .args(["once", "--broker-watch", "none"])
        .arg("--config")
        .arg(config)
        .args(extra)
        .env_remove("DO_NOT_TRACK")
        .output()
        .unwrap()
}

#[track_caller]
fn sent(server: &TestServer) -> (Value, Value) {
    let got = server.received();
    let v: Value = serde_json::from_slice(&got.last().expect("a record").body).unwrap();
    (
        v["kafkaVersion"].clone(),
        v["confluentPlatformVersion"].clone(),
    )
}

#[test]
fn the_record_carries_the_version_inside_the_jar() {
    let root = scratch_dir("versions");
    let server = TestServer::http();
    // Apache Kafka tarball: config/ and config/kraft/; no platform version.
    let apache = root.join("kafka_2.13-3.7.0");
    jar(&apache.join("libs/kafka-clients-3.7.0.jar"), "3.7.2");
    for cfg in ["config/server.properties", "config/kraft/server.properties"] {
        let out = once(&config(&apache.join(cfg), &server), &[]);
        exit(&out, 0);
        assert_eq!(sent(&server), (Value::from("3.7.2"), Value::Null), "{cfg}");
    }
    // Confluent Platform tarball: the CP release.
    let cp = root.join("confluent-7.6.1");
    jar(
        &cp.join("share/java/kafka/kafka-clients-7.6.1-ccs.jar"),
        "7.6.3-ccs",
    );
    let cfg = config(&cp.join("etc/kafka/server.properties"), &server);
    exit(&once(&cfg, &[]), 0);
    assert_eq!(
        sent(&server),
        (Value::from("7.6.3-ccs"), Value::from("7.6.3"))
    );
    // --kafka-home as the root or the jar directory, for a config elsewhere.
    let elsewhere = config(&root.join("etc-elsewhere/server.properties"), &server);
    for home in [cp.clone(), cp.join("share/java/kafka")] {
        exit(
            &once(&elsewhere, &["--kafka-home", home.to_str().unwrap()]),
            0,
        );
        assert_eq!(
            sent(&server).0,
            Value::from("7.6.3-ccs"),
            "{}",
            home.display()
        );
    }
    // `config` says both versions and where they came from.
    let out = Command::new(&*BIN)
        .args(["config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    exit(&out, 0);
    let table = stdout(&out);
    assert!(
        table.contains("Kafka version: 7.6.3-ccs (from ")
            && table.contains("kafka-clients-7.6.1-ccs.jar")
            && table.contains("Confluent Platform version: 7.6.3"),
        "{table}"
    );
}

#[test]
fn an_unknown_version_is_said_once_and_a_missing_home_is_an_error() {
    let root = scratch_dir("versions-unknown");
    let server = TestServer::http();
    let cfg = config(&root.join("etc/server.properties"), &server);
    let out = once(&cfg, &[]);
    exit(&out, 0);
    assert_eq!(sent(&server), (Value::from("unknown"), Value::Null));
    let log = stderr(&out);
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Kafka version is unknown"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains(&root.join("etc/libs").display().to_string()),
        "{log}"
    );
    let missing = root.join("nonexistent");
    let out = once(&cfg, &["--kafka-home", missing.to_str().unwrap()]);
    exit(&out, 66);
    assert!(
        stderr(&out).contains(&missing.display().to_string()),
        "{}",
        stderr(&out)
    );
}

/// The broker's own classpath wins: a process running `kafka.Kafka` with this config file
/// (here a Python process with a broker's command line; only the command line matters).
#[test]
fn the_running_brokers_classpath_is_read_first() {
    let root = scratch_dir("versions-process");
    let server = TestServer::http();
    jar(&root.join("cp/kafka-clients-3.9.0.jar"), "3.9.1");
    jar(&root.join("libs/kafka-clients-3.1.0.jar"), "3.1.0");
    let cfg = config(&root.join("config/server.properties"), &server);
    let classpath = format!("{}/*", root.join("cp").display());
    let mut broker = Command::new("python3")
        .args([
            "-c",
            "import time; time.sleep(60)",
            "-cp",
            &classpath,
            "kafka.Kafka",
        ])
        .arg(&cfg)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = once(&cfg, &[]);
    let _ = broker.kill();
    let _ = broker.wait();
    exit(&out, 0);
    assert_eq!(sent(&server).0, Value::from("3.9.1"), "{}", stderr(&out));
    // Without the process, the layout's jar.
    exit(&once(&cfg, &[]), 0);
    assert_eq!(sent(&server).0, Value::from("3.1.0"));
}
