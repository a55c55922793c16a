//! The real `support-metrics-bundle` binary against the tansu broker that `ci/check.sh test`
//! starts (`SUPPORT_METRICS_KAFKA`).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use support_metrics_linux::client::Connection;
use support_metrics_linux::kafka::KafkaTopic;
use support_metrics_linux::log::Log;
use support_metrics_linux::sinks::TopicSink;
use support_metrics_tests::scratch_dir;

const BIN: &str = env!("CARGO_BIN_EXE_support-metrics-bundle");
const OURS: &[u8] = br#"{"timestamp":1,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#;

fn broker() -> String {
    std::env::var("SUPPORT_METRICS_KAFKA").expect(
        "SUPPORT_METRICS_KAFKA is not set: run the tests with ci/check.sh test, which starts tansu",
    )
}

fn topic_name(name: &str) -> String {
    format!("sm-bundle-{name}-{}", std::process::id())
}

fn create_topic(servers: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .create()
        .unwrap();
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let results = futures_executor::block_on(admin.create_topics([&new], &opts)).unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

/// One record per produce request (tansu's high watermark counts batches).
fn produce(servers: &str, topic: &str, partition: i32, value: &[u8]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("linger.ms", "0")
        .create()
        .unwrap();
    producer
        .send(
            BaseRecord::<(), [u8]>::to(topic)
                .partition(partition)
                .payload(value),
        )
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
}

fn bundle(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn several_partitions_agent_and_plain_records() {
    let servers = broker();
    let topic = topic_name("multi");
    create_topic(&servers, &topic, 3);
    let mut sink =
        KafkaTopic::new(&Connection::plaintext(&servers), &topic, Log::from_env()).unwrap();
    let (result, detail) = sink.produce(b"key", OURS, Duration::from_secs(10));
    assert_eq!(
        result,
        support_metrics_core::reporter::TopicResult::Delivered,
        "{detail:?}"
    );
    let plain: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("plain record {i}").into_bytes())
        .collect();
    for (i, v) in plain.iter().enumerate() {
        produce(&servers, &topic, (i % 3) as i32, v);
    }
    let dir = scratch_dir("bundle-multi");
    let out = bundle(
        &dir,
        &[
            "--bootstrap-server",
            &servers,
            "--topic",
            &topic,
            "--runtime",
            "20",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("Created /") && stdout.trim_end().ends_with("with 6 records"),
        "{stdout}"
    );
    let path = stdout
        .trim_end()
        .strip_prefix("Created ")
        .unwrap()
        .strip_suffix(" with 6 records")
        .unwrap()
        .to_owned();
    let name = Path::new(&path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&format!("support-metrics-{topic}.")) && name.ends_with(".zip"),
        "{name}"
    );
    // Every value byte for byte, the manifest consistent, entries relative.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut values = Vec::new();
    for i in 0..archive.len() {
        let mut e = archive.by_index(i).unwrap();
        let n = e.name().unwrap().into_owned();
        if n.starts_with("records/") {
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            values.push(v);
        }
    }
    values.sort();
    let mut want: Vec<Vec<u8>> = plain.clone();
    want.push(OURS.to_vec());
    want.sort();
    assert_eq!(values, want);
    let out = bundle(&dir, &["verify", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("OK: 6 records in 3 partition(s)"),
        "{}",
        text(&out)
    );
    let out = bundle(&dir, &["inspect", &path]);
    let listing = text(&out);
    assert!(
        listing.contains("\"brokerProcessUUID\":\"00112233-4455-4677-8899-aabbccddeeff\""),
        "{listing}"
    );
    assert!(
        listing.contains("(14 bytes, not a support-metrics record)"),
        "{listing}"
    );
    // The file exists now: refused without --force, replaced with it.
    let args = [
        "--bootstrap-server",
        servers.as_str(),
        "--topic",
        topic.as_str(),
        "--file",
        path.as_str(),
    ];
    let out = bundle(&dir, &args);
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(bundle(&dir, &forced).status.code(), Some(0));
}

#[test]
fn empty_topic_writes_no_file() {
    let servers = broker();
    let topic = topic_name("empty");
    create_topic(&servers, &topic, 1);
    let dir = scratch_dir("bundle-empty");
    let out = bundle(&dir, &["--bootstrap-server", &servers, "--topic", &topic]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "No records found."
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no file, no leftovers"
    );
}

#[test]
fn missing_topic_and_dead_cluster_fail_clearly_within_runtime() {
    let servers = broker();
    let dir = scratch_dir("bundle-missing");
    let out = bundle(
        &dir,
        &[
            "--bootstrap-server",
            &servers,
            "--topic",
            "no-such-topic-here",
        ],
    );
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("topic no-such-topic-here does not exist on"),
        "{err}"
    );
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let out = bundle(
        &dir,
        &[
            "--bootstrap-server",
            &format!("127.0.0.1:{dead}"),
            "--runtime",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("127.0.0.1:{dead}")));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn reuses_the_agent_config() {
    let servers = broker();
    let topic = topic_name("config");
    create_topic(&servers, &topic, 1);
    produce(&servers, &topic, 0, OURS);
    let dir = scratch_dir("bundle-config");
    let config = dir.join("server.properties");
    std::fs::write(
        &config,
        format!("confluent.support.metrics.topic={topic}\nconfluent.support.metrics.bootstrap.servers={servers}\nconfluent.support.metrics.client.client.id=from-config\n"),
    )
    .unwrap();
    let out = bundle(
        &dir,
        &["--config", config.to_str().unwrap(), "--file", "b.zip"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("with 1 record"), "{}", text(&out));
    assert!(dir.join("b.zip").is_file());
    let out = bundle(&dir, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no bootstrap server is a usage error: {}",
        text(&out)
    );
}

/// A read that runs out of time says how many records are missing; nothing is written.
#[test]
fn running_out_of_time_is_incomplete_not_a_bundle() {
    use rdkafka::mocking::MockCluster;
    use support_metrics_bundle::{read_topic, BundleError, Source};
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("slow", 1, 1).unwrap();
    let servers = cluster.bootstrap_servers();
    for i in 0..50 {
        produce(&servers, "slow", 0, format!("record {i}").as_bytes());
    }
    let source = Source {
        connection: Connection::plaintext(&servers),
        topic: "slow".into(),
        runtime: Duration::from_secs(3),
    };
    let mut first = true;
    let started = Instant::now();
    // The broker goes away right after the read has started.
    let result = read_topic(&source, &mut |_| {
        if std::mem::take(&mut first) {
            cluster.broker_down(1).unwrap();
        }
    });
    assert!(started.elapsed() < Duration::from_secs(6));
    match result {
        Err(e @ BundleError::Incomplete { read, missing, .. }) => {
            assert_eq!(read + missing, 50, "read {read}, missing {missing}");
            assert!(missing > 0);
            assert!(
                e.to_string()
                    .contains(&format!("{missing} missing; no bundle written")),
                "{e}"
            );
        }
        Ok(r) if r.records.len() == 50 => {} // the first fetch brought everything: also correct
        other => panic!("{other:?}"),
    }
}

/// In the Kafka tools' and kcat's words: `-b`, `--consumer-property` (and its old name
/// `--client-property`); the zip's entries carry the record's time; `inspect` shows RFC 3339
/// times and has `--json`; without a terminal the progress ends with the final count.
#[test]
fn kafka_tool_habits() {
    let servers = broker();
    let topic = topic_name("habits");
    create_topic(&servers, &topic, 1);
    let record =
        String::from_utf8_lossy(OURS).replace("\"timestamp\":1,", "\"timestamp\":1796152397,");
    produce(&servers, &topic, 0, record.as_bytes());
    let dir = scratch_dir("bundle-habits");
    for (flag, name) in [
        ("--consumer-property", "a.zip"),
        ("--client-property", "b.zip"),
    ] {
        let out = bundle(
            &dir,
            &[
                "-b",
                &servers,
                "--topic",
                &topic,
                flag,
                "client.id=habits",
                "--file",
                name,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            err.contains("read 1/1 records, 1/1 partitions complete"),
            "{err}"
        );
        assert!(text(&out).contains("with 1 record\n"), "{}", text(&out));
    }
    let path = dir.join("a.zip");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let entry = archive.by_name("records/0-0").unwrap();
    let t = entry.last_modified().unwrap();
    assert_eq!(
        (
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        (2026, 12, 1, 19, 13, 16),
        "the record's time (zip times have a 2 s resolution)"
    );
    drop(entry);
    let out = bundle(&dir, &["inspect", "a.zip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("records/0-0 2026-12-01T19:13:17Z: {"),
        "{}",
        text(&out)
    );
    let out = bundle(&dir, &["inspect", "--json", "a.zip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"][0]["time"], "2026-12-01T19:13:17Z");
    assert_eq!(v["records"][0]["sha256Matches"], true);
    assert_eq!(v["records"][0]["record"]["timestamp"], 1_796_152_397);
}
