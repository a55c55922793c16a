//! The broker's lifecycle drives the agent, with the real binary: a process whose command
//! line is a broker's (`... kafka.Kafka <config>`; a Python process, only the command line
//! matters), the tansu broker that `ci/check.sh test` starts as the cluster, and an HTTP
//! collector on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{exit, stderr, BIN};
use serde_json::Value;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::servers::TestServer;

fn kafka() -> String {
    std::env::var("SUPPORT_METRICS_KAFKA").expect(
        "SUPPORT_METRICS_KAFKA is not set: run the tests with ci/check.sh test, which starts tansu",
    )
}

fn write_config(config: &Path, endpoint: &str, topic: &str) {
    let spool = config.parent().unwrap().join("spool");
    std::fs::write(
        config,
        format!(
            "broker.id=0\nconfluent.support.metrics.topic={topic}\n\
             confluent.support.metrics.bootstrap.servers={}\n\
             confluent.support.metrics.endpoint.secure=\n\
             confluent.support.metrics.endpoint.insecure={endpoint}\n\
             confluent.support.metrics.spool.dir={}\n",
            kafka(),
            spool.display()
        ),
    )
    .unwrap();
}

/// A process with a broker's command line for `config`.
fn start_broker(config: &Path) -> Child {
    Command::new("python3")
        .args([
            "-c",
            "import time; time.sleep(300)",
            "-cp",
            "/nonexistent/*",
            "kafka.Kafka",
        ])
        .arg(config)
        .spawn()
        .unwrap()
}

/// A child killed however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The records the collector got, decoded, with the path they were posted to.
fn records(server: &TestServer) -> Vec<(String, Value)> {
    server
        .received()
        .iter()
        .map(|r| (r.path.clone(), serde_json::from_slice(&r.body).unwrap()))
        .collect()
}

#[track_caller]
fn wait_for(server: &TestServer, count: usize, within: Duration) -> Vec<(String, Value)> {
    let start = Instant::now();
    while server.count() < count {
        assert!(
            start.elapsed() < within,
            "{} record(s) after {within:?}",
            server.count()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    records(server)
}

fn state(v: &Value) -> (String, u64) {
    (
        v["brokerProcessUUID"].as_str().unwrap().to_owned(),
        v["collectorState"].as_u64().unwrap(),
    )
}

#[test]
fn the_broker_run_makes_the_token_and_the_final_report() {
    let dir = scratch_dir("lifecycle");
    let server = TestServer::http();
    let config: PathBuf = dir.join("server.properties");
    let topic = format!("sm-lifecycle-{}", std::process::id());
    write_config(&config, &server.url("/anon"), &topic);

    // No broker: nothing is sent, and the agent waits for it.
    let out = Command::new(&*BIN)
        .args(["once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    exit(&out, 69);
    assert!(
        stderr(&out).contains("the broker is not running"),
        "{}",
        stderr(&out)
    );
    let mut agent = Killed(
        Command::new(&*BIN)
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(server.count(), 0, "no report before the broker runs");

    // The broker starts: the first report (after the settling time) carries token A.
    let broker = Killed(start_broker(&config));
    let got = wait_for(&server, 1, Duration::from_secs(25));
    let (a, s) = state(&got[0].1);
    assert_eq!(s, 2);
    // The broker stops: one final record for A, then silence.
    drop(broker);
    let got = wait_for(&server, 2, Duration::from_secs(10));
    assert_eq!(state(&got[1].1), (a.clone(), 1));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.count(), 2, "silence while the broker is down");

    // A setting changed while the broker is down takes effect when it starts again, with a
    // new token B.
    write_config(&config, &server.url("/anon-after-restart"), &topic);
    let broker = Killed(start_broker(&config));
    let got = wait_for(&server, 3, Duration::from_secs(25));
    let (b, s) = state(&got[2].1);
    assert_eq!(s, 2);
    assert_ne!(a, b, "a new token for a new broker run");
    assert_eq!(got[2].0, "/anon-after-restart");

    // The agent restarting while the broker runs on keeps the broker's token.
    let _ = Command::new("kill")
        .args(["-TERM", &agent.0.id().to_string()])
        .status();
    let status = agent.0.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let got = wait_for(&server, 4, Duration::from_secs(5));
    assert_eq!(state(&got[3].1), (b.clone(), 1), "the agent's final report");
    let out = Command::new(&*BIN)
        .args(["once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    exit(&out, 0);
    let got = records(&server);
    assert_eq!(
        state(&got[4].1),
        (b.clone(), 2),
        "same broker run, same token"
    );
    drop(broker);
    for (path, record) in &got {
        eprintln!("{path} {record}");
    }
    let mut log = String::new();
    if let Some(mut e) = agent.0.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut log);
    }
    eprintln!("{log}");
}

/// Listener mode: the broker counts as running when its `broker.id` is in the cluster
/// metadata read through its listener (here tansu's); another id is a broker not running.
#[test]
fn listener_mode_finds_the_broker_in_the_cluster_metadata() {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let client: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka())
        .create()
        .unwrap();
    let metadata = client
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap();
    let id = metadata.brokers()[0].id();
    let dir = scratch_dir("lifecycle-listener");
    let server = TestServer::http();
    let config = dir.join("server.properties");
    for (broker_id, code) in [(id, 0), (id + 1000, 69)] {
        write_config(&config, &server.url("/anon"), "");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            text.replace("broker.id=0", &format!("broker.id={broker_id}")),
        )
        .unwrap();
        let out = Command::new(&*BIN)
            .args(["once", "--broker-watch", "listener", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        exit(&out, code);
    }
    assert_eq!(server.count(), 1, "only the registered broker reported");
}
