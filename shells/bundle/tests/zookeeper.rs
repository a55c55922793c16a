//! `--zookeeper`: broker discovery from a real ZooKeeper (Debian's libzookeeper-java, started
//! here), with registrations written as a ZooKeeper-mode Kafka broker writes them, pointing
//! at the tansu broker that `ci/check.sh test` starts.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support_metrics_bundle::zk::ZooKeeper;
use support_metrics_tests::scratch_dir;

const BIN: &str = env!("CARGO_BIN_EXE_support-metrics-bundle");

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        assert!(
            std::path::Path::new("/usr/share/java/zookeeper.jar").exists(),
            "ZooKeeper is not installed: run ci/check.sh setup (apt package libzookeeper-java)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = scratch_dir("zookeeper-data");
        let child = Command::new("java")
            .args([
                "-Dzookeeper.admin.enableServer=false",
                "-cp",
                "/usr/share/java/*",
                "org.apache.zookeeper.server.ZooKeeperServerMain",
            ])
            .arg(port.to_string())
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ZooKeeper");
        let started = Instant::now();
        while ZooKeeper::connect(&format!("127.0.0.1:{port}"), Duration::from_secs(2)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "ZooKeeper did not start"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn register(zk: &mut ZooKeeper, root: &str, id: u32, json: &str) {
    for path in ["", "/brokers", "/brokers/ids"] {
        let full = format!("{root}{path}");
        if !full.is_empty() {
            zk.create(&full, b"").unwrap();
        }
    }
    zk.create(&format!("{root}/brokers/ids/{id}"), json.as_bytes())
        .unwrap();
}

#[test]
fn bundle_finds_brokers_through_zookeeper() {
    let kafka = std::env::var("SUPPORT_METRICS_KAFKA")
        .expect("SUPPORT_METRICS_KAFKA is not set: run ci/check.sh test");
    let (host, port) = kafka.rsplit_once(':').unwrap();
    let server = Server::start();
    let connect = format!("127.0.0.1:{}", server.port);
    let mut zk = ZooKeeper::connect(&connect, Duration::from_secs(5)).unwrap();
    // A modern registration in a chroot, an old host/port one at the root.
    let modern = format!(
        r#"{{"listener_security_protocol_map":{{"INTERNAL":"SSL","EXTERNAL":"PLAINTEXT"}},"endpoints":["INTERNAL://{host}:1","EXTERNAL://{host}:{port}"],"jmx_port":-1,"host":"{host}","timestamp":"1","port":-1,"version":5}}"#
    );
    register(&mut zk, "/kafka", 0, &modern);
    register(
        &mut zk,
        "",
        7,
        &format!(r#"{{"host":"{host}","port":{port},"version":1}}"#),
    );
    drop(zk);
    assert_eq!(
        support_metrics_bundle::zk::brokers(
            &format!("{connect}/kafka"),
            None,
            Duration::from_secs(5)
        ),
        Ok(kafka.clone())
    );
    assert_eq!(
        support_metrics_bundle::zk::brokers(&connect, None, Duration::from_secs(5)),
        Ok(kafka.clone())
    );

    // The whole tool, through ZooKeeper: an empty (fresh) topic is fine, a missing one is named.
    let dir = scratch_dir("zk-bundle");
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args([
            "--zookeeper",
            &format!("{connect}/kafka"),
            "--topic",
            "no-such-topic-zk",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(69),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("does not exist on {kafka}")));
    // An empty chroot: a clear error naming ZooKeeper.
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args(["--zookeeper", &format!("{connect}/nothing-here")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/brokers/ids"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dead_zookeeper_fails_within_the_runtime() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let out = Command::new(BIN)
        .args([
            "--zookeeper",
            &format!("127.0.0.1:{dead}"),
            "--runtime",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains(&format!("cannot reach ZooKeeper at 127.0.0.1:{dead}")));
}
