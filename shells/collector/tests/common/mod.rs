//! What the collector's tests share: a running collector (the real binary), a database of
//! each kind (a SQLite file; a fresh database on the PostgreSQL server `ci/check.sh test`
//! starts), plain HTTP over a TCP stream, and records.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The collector under test: this build's, or the one `SUPPORT_METRICS_COLLECTOR_BIN` names
/// (`ci/dist` runs the suite against the shipped static binary).
pub(crate) static BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::var("SUPPORT_METRICS_COLLECTOR_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_support-metrics-collector").to_owned())
});

/// A database URL of each kind for test `name`: SQLite in `dir`, and a new PostgreSQL
/// database.
pub(crate) fn sqlite(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("collector.db").display())
}

/// A new, empty PostgreSQL database on the test server.
pub(crate) fn postgres(name: &str) -> String {
    let base = std::env::var("SUPPORT_METRICS_POSTGRES").expect(
        "SUPPORT_METRICS_POSTGRES is not set: run the tests with ci/check.sh test, which starts PostgreSQL",
    );
    static N: AtomicU32 = AtomicU32::new(0);
    let db = format!(
        "t_{name}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut client =
        postgres::Client::connect(&base, postgres::NoTls).expect("connect to the test PostgreSQL");
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    format!("{head}/{db}")
}

/// A collector process; killed when dropped.
pub(crate) struct Collector {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) log: PathBuf,
}

impl Collector {
    /// `serve --listen 127.0.0.1:0 --database DB ARGS...`, once it listens.
    pub(crate) fn start(db: &str, dir: &Path, args: &[&str]) -> Collector {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0", "--database", db];
        all.extend_from_slice(args);
        Collector::spawn(&all, dir)
    }

    /// The collector with the command line `args` (a `serve` that prints where it listens),
    /// once it listens; its log in `dir`.
    pub(crate) fn spawn(args: &[&str], dir: &Path) -> Collector {
        let log = dir.join(format!(
            "collector-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut child = Command::new(BIN.as_str())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the collector");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let addr = line
            .split("listening on http")
            .nth(1)
            .and_then(|r| r.split("://").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("collector did not start: {line}"))
            .parse()
            .unwrap();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
            // Whole or not at all, for stop_and_log.
            let part = log2.with_extension("part");
            let _ = std::fs::write(&part, rest);
            let _ = std::fs::rename(part, log2);
        });
        Collector { child, addr, log }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn post(&self, path: &str, body: &[u8]) -> (u16, String) {
        request(self.addr, "POST", path, body)
    }

    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        request(self.addr, "GET", path, b"")
    }

    pub(crate) fn fleet(&self) -> serde_json::Value {
        let (status, body) = self.get("/api/fleet");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Kills it and returns what it wrote to stderr after its first line.
    pub(crate) fn stop_and_log(&mut self) -> String {
        self.kill();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !self.log.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits at most `within` for it to exit: how it exited.
    pub(crate) fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        assert!(signal(self.child.id() as i32, "-TERM"));
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not stop on SIGTERM within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request on a new connection; the status and the body.
pub(crate) fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse(&out)
}

/// Status and body of a response that ends with the connection.
pub(crate) fn parse(out: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(out);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// A broker token (UUIDv4 shape) numbered `n`.
pub(crate) fn token(n: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        n >> 48,
        n & 0xffff_ffff_ffff
    )
}

/// Seconds since the epoch, now.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An anonymous record.
pub(crate) fn anon(token: &str, ts: u64, kafka: &str) -> String {
    serde_json::json!({
        "timestamp": ts,
        "kafkaVersion": kafka,
        "confluentPlatformVersion": null,
        "brokerProcessUUID": token,
        "collectorState": 2
    })
    .to_string()
}

/// A customer record (`customer_id` `c0` makes it a test record).
pub(crate) fn customer(token: &str, ts: u64, customer_id: &str, cluster: &str, cp: &str) -> String {
    serde_json::json!({
        "timestamp": ts,
        "kafkaVersion": "3.7.0",
        "confluentPlatformVersion": cp,
        "brokerProcessUUID": token,
        "collectorState": 2,
        "customerId": customer_id,
        "clusterId": cluster,
        "brokerId": 1,
        "cluster": {"brokers": 3, "topics": 12, "partitions": 60, "replicationFactorHistogram": [0, 0, 0, 60, 0, 0]},
        "host": {"os": "linux", "arch": "x86_64", "cpus": 8, "memoryBytes": 17179869184u64},
        "agentUptimeSecs": 60,
        "brokerConfiguration": {}
    })
    .to_string()
}

/// The number of records in the database at `db`.
pub(crate) fn stored(db: &str) -> i64 {
    let out = Command::new(BIN.as_str())
        .args(["report", "--json", "--database", db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["records"].as_i64().unwrap()
}

/// Sends `sig` (`-TERM`, `-STOP`, `-CONT`) to process `pid`; whether it could.
pub(crate) fn signal(pid: i32, sig: &str) -> bool {
    Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` to its end, for at most 20 s: a command that hangs (or a `serve` that starts
/// where it should refuse) is killed and fails the test.
pub(crate) fn run_bounded(cmd: &mut Command) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after 20 s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}
