//! Bundle speed against its peer: `kcat -C -e -o beginning` piped into
//! `zip`, on the same broker, in the same run. Run with `cargo bench -p support-metrics-bundle`
//! (needs `kcat` and `zip`; `ci/check.sh setup` does not install kcat, `apt-get install kcat`).
//!
//! The broker is librdkafka's mock cluster (a real TCP listener in this process), filled with
//! `RECORDS` records of about 200 bytes. Prints one line per figure.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use support_metrics_bundle::{read_topic, write_bundle, Source};
use support_metrics_linux::client::Connection;

fn fill(servers: &str, topic: &str, n: usize, partitions: i32) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer");
    let value = format!(
        r#"{{"timestamp":1764000000,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2,"pad":"{}"}}"#,
        "x".repeat(40)
    );
    for i in 0..n {
        loop {
            let partition = (i % partitions as usize) as i32;
            match producer.send(
                BaseRecord::<(), str>::to(topic)
                    .partition(partition)
                    .payload(&value),
            ) {
                Ok(()) => break,
                Err(_) => producer.poll(Duration::from_millis(10)),
            }
        }
        if i % 10_000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

fn ours(servers: &str, topic: &str, dir: &std::path::Path) -> (Duration, usize) {
    let started = Instant::now();
    let source = Source {
        connection: Connection::plaintext(servers),
        topic: topic.to_owned(),
        runtime: Duration::from_secs(120),
    };
    let records = read_topic(&source, &mut |_| {}).expect("read");
    let read = started.elapsed();
    let summary = write_bundle(&records, topic, &dir.join("ours.zip"), true).expect("write");
    if std::env::var_os("BENCH_DETAIL").is_some() {
        eprintln!(
            "  read {:.3} s, write {:.3} s, {} records",
            read.as_secs_f64(),
            (started.elapsed() - read).as_secs_f64(),
            summary.records
        );
    }
    (started.elapsed(), summary.records)
}

fn kcat(servers: &str, topic: &str, dir: &std::path::Path) -> Option<Duration> {
    let zip = dir.join("kcat.zip");
    let _ = std::fs::remove_file(&zip);
    let started = Instant::now();
    let mut kcat = Command::new("kcat")
        .args([
            "-C",
            "-b",
            servers,
            "-t",
            topic,
            "-e",
            "-o",
            "beginning",
            "-q",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let status = Command::new("zip")
        .args(["-q", zip.to_str()?, "-"])
        .stdin(kcat.stdout.take()?)
        .status()
        .ok()?;
    kcat.wait().ok()?;
    status.success().then(|| started.elapsed())
}

fn main() {
    let dir = std::env::temp_dir().join(format!("sm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: &[(usize, usize, i32)] = if std::env::var_os("BENCH_QUICK").is_some() {
        &[(10_000, 2, 1)]
    } else {
        &[(10_000, 5, 1), (100_000, 3, 10)]
    };
    for &(records, rounds, partitions) in cases {
        let cluster = MockCluster::new(1).expect("mock cluster");
        let servers = cluster.bootstrap_servers();
        let topic = format!("bench-{records}");
        // The mock broker keeps at most 5 MB per partition.
        cluster.create_topic(&topic, partitions, 1).expect("topic");
        fill(&servers, &topic, records, partitions);
        let mut ours_times = Vec::new();
        let mut kcat_times = Vec::new();
        for _ in 0..rounds {
            let (t, n) = ours(&servers, &topic, &dir);
            assert_eq!(n, records, "every record bundled ({n} of {records})");
            ours_times.push(t);
            if let Some(t) = kcat(&servers, &topic, &dir) {
                kcat_times.push(t);
            }
        }
        ours_times.sort();
        kcat_times.sort();
        let median = |v: &[Duration]| v.get(v.len() / 2).copied();
        let o = median(&ours_times).unwrap();
        let secs = o.as_secs_f64();
        let goal = if records == 10_000 {
            "goal <= 1.0x and < 1 s"
        } else {
            "goal <= 1.0x"
        };
        match median(&kcat_times) {
            Some(k) => {
                let ratio = secs / k.as_secs_f64();
                let met = ratio <= 1.0 && (records != 10_000 || secs < 1.0);
                println!(
                    "4. bundle {records} records of ~200 B (fsync included): {secs:.3} s | peer: kcat -C -e | zip {:.3} s | ratio {ratio:.2}x | {goal} | {}",
                    k.as_secs_f64(),
                    if met { "met" } else { "MISSED" }
                );
            }
            None => println!(
                "4. bundle {records} records of ~200 B: {secs:.3} s | peer: kcat|zip not available | - | {goal} | not compared"
            ),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
