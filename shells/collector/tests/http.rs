//! The HTTP endpoints against a real collector, once with SQLite and once with PostgreSQL:
//! the same suite for both backends.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use support_metrics_tests::scratch_dir;

const ADVISORIES: &str = r#"
latest = "7.9.1"

[[advisory]]
id = "OLD-KAFKA"
kafka = ">= 2.0.0, < 3.7.2"
message = "Kafka before 3.7.2: upgrade."
"#;

fn suite(name: &str, db: &str) {
    let dir = scratch_dir(name);
    let advisories = dir.join("advisories.toml");
    std::fs::write(&advisories, ADVISORIES).unwrap();
    let c = Collector::start(db, &dir, &["--advisories", advisories.to_str().unwrap()]);
    let t = now();

    // An anonymous record on /anon: stored, answered from the advisories.
    let (status, body) = c.post("/anon", anon(&token(1), t, "3.6.0").as_bytes());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"informationForUser":"Kafka before 3.7.2: upgrade.","confluentPlatformVersion":"7.9.1"}"#
    );
    // The same record again (an agent's retry): answered, stored once.
    assert_eq!(
        c.post("/anon", anon(&token(1), t, "3.6.0").as_bytes()).0,
        200
    );
    // The component form.
    assert_eq!(
        c.post("/kafka/anon", anon(&token(2), t, "3.8.0").as_bytes())
            .0,
        200
    );
    // A test record (c0) on /test, a customer's on /submit.
    assert_eq!(
        c.post(
            "/test",
            customer(&token(3), t, "c0", "test-cluster", "7.9.0").as_bytes()
        )
        .0,
        200
    );
    assert_eq!(
        c.post(
            "/submit",
            customer(&token(4), t, "c123", "prod-1", "7.9.0").as_bytes()
        )
        .0,
        200
    );

    // Refusals: the status and one line saying why; nothing stored.
    let refused = [
        (
            "/submit",
            anon(&token(10), t, "3.8.0"),
            422,
            "an anonymous record belongs on /anon",
        ),
        (
            "/anon",
            customer(&token(11), t, "c123", "x", "7.9.0"),
            422,
            "a customer record belongs on /submit",
        ),
        (
            "/submit",
            customer(&token(12), t, "c0", "x", "7.9.0"),
            422,
            "a test record (customerId c0) belongs on /test",
        ),
        (
            "/test",
            customer(&token(13), t, "c123", "x", "7.9.0"),
            422,
            "belongs on /submit",
        ),
        (
            "/anon",
            "this is not JSON".to_owned(),
            400,
            "not a support-metrics record",
        ),
        (
            "/anon",
            anon(&token(14), t, "3.8.0").replace('}', r#","hostname":"h1"}"#),
            400,
            "not a support-metrics record",
        ),
        (
            "/anon",
            anon("00112233-4455-1677-8899-aabbccddeeff", t, "3.8.0"),
            400,
            "not a UUIDv4",
        ),
        (
            "/anon",
            " ".repeat(70 * 1024),
            413,
            "larger than 65536 bytes",
        ),
        // A NUL (PostgreSQL refuses it in text: once a 503 for every record committed with
        // it), a terminal's escape, a raw control byte, a C1 control in a customer's cluster.
        (
            "/anon",
            anon(&token(17), t, "3.8\u{0}"),
            400,
            "a string in the record holds a control character",
        ),
        (
            "/anon",
            anon(&token(18), t, "\u{1b}[2J3.8"),
            400,
            "a string in the record holds a control character",
        ),
        (
            "/anon",
            anon(&token(19), t, "3.8RAW").replace("RAW", "\u{1}"),
            400,
            "a string in the record holds a control character",
        ),
        (
            "/submit",
            customer(&token(20), t, "c123", "x\u{9b}", "7.9.0"),
            400,
            "a string in the record holds a control character",
        ),
        (
            "/elsewhere",
            anon(&token(15), t, "3.8.0"),
            404,
            "no such endpoint",
        ),
        (
            "/a/b/c",
            anon(&token(16), t, "3.8.0"),
            404,
            "no such endpoint",
        ),
    ];
    for (path, body, want, why) in &refused {
        let (status, text) = c.post(path, body.as_bytes());
        assert_eq!(status, *want, "POST {path}: {text}");
        assert!(text.contains(why), "POST {path}: {text}");
        assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
    }

    // The fleet: four brokers, by version, the customer's cluster, the advisory's match.
    let f = c.fleet();
    assert_eq!(f["records"], 4, "{f:#}");
    assert_eq!(f["brokersLive"], 4);
    let kafka = &f["byKafkaVersion"];
    assert_eq!(kafka[0]["version"], "3.7.0");
    assert_eq!(kafka[0]["brokers"], 2);
    assert_eq!(f["clusters"].as_array().unwrap().len(), 2);
    let prod = f["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clusterId"] == "prod-1")
        .unwrap();
    assert_eq!(
        (prod["customerId"].as_str(), prod["partitions"].as_i64()),
        (Some("c123"), Some(60))
    );
    assert_eq!(f["advisories"][0]["id"], "OLD-KAFKA");
    assert_eq!(
        f["advisories"][0]["brokers"], 3,
        "3.6.0 and the two 3.7.0 brokers"
    );
    let (status, page) = c.get("/");
    assert_eq!(status, 200);
    assert!(
        page.contains("<svg") && page.contains("prod-1") && page.contains("OLD-KAFKA"),
        "{page}"
    );
    assert_eq!(c.get("/healthz"), (200, "ok\n".to_owned()));

    // A stopping broker's final record: seen, no longer live.
    let mut last =
        serde_json::from_str::<serde_json::Value>(&anon(&token(2), t + 1, "3.8.0")).unwrap();
    last["collectorState"] = 1.into();
    assert_eq!(c.post("/anon", last.to_string().as_bytes()).0, 200);
    let f = c.fleet();
    assert_eq!(
        (f["brokersSeen"].as_i64(), f["brokersLive"].as_i64()),
        (Some(4), Some(3))
    );

    // A record dated 2100 (a clock far off, or forged): stored, but neither live nor in the
    // adoption chart until then.
    let ahead = anon(&token(9), 4_102_444_800, "9.9.9");
    assert_eq!(c.post("/anon", ahead.as_bytes()).0, 200);
    let f = c.fleet();
    assert_eq!(f["records"], 6);
    assert_eq!(
        (f["brokersSeen"].as_i64(), f["brokersLive"].as_i64()),
        (Some(4), Some(3)),
        "{f:#}"
    );
    assert!(!f.to_string().contains("9.9.9"), "{f:#}");
    drop(c);
    assert_eq!(stored(db), 6);
}

#[test]
fn sqlite_backend() {
    let dir = scratch_dir("http-sqlite-db");
    suite("http-sqlite", &sqlite(&dir));
}

#[test]
fn postgres_backend() {
    suite("http-postgres", &postgres("http"));
}

/// A body that trickles in is cut at the request timeout; a connection that sends nothing
/// is closed at the idle timeout. Neither holds the collector.
#[test]
fn slow_bodies_and_idle_connections_are_bounded() {
    let dir = scratch_dir("http-slow");
    let c = Collector::start(
        &sqlite(&dir),
        &dir,
        &["--request-timeout", "2", "--idle-timeout", "2"],
    );
    let record = anon(&token(1), now(), "3.7.0");
    let mut s = TcpStream::connect(c.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        s,
        "POST /anon HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        record.len()
    )
    .unwrap();
    s.write_all(&record.as_bytes()[..10]).unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let (status, body) = parse(&out);
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("body not received within 2 s"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let mut idle = TcpStream::connect(c.addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = idle.read(&mut buf).unwrap_or(0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "idle connection held {:?}",
        started.elapsed()
    );
    assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"));
    // Still serving.
    assert_eq!(c.post("/anon", record.as_bytes()).0, 200);
    assert_eq!(stored(&sqlite(&dir)), 1);
}

/// Senders' addresses are kept as their /24 unless --full-addresses.
#[test]
fn addresses_are_truncated_unless_asked() {
    for (flag, want) in [
        (None, "127.0.0.0/24"),
        (Some("--full-addresses"), "127.0.0.1"),
    ] {
        let dir = scratch_dir("http-address");
        let db = sqlite(&dir);
        let c = Collector::start(&db, &dir, flag.as_slice());
        assert_eq!(
            c.post("/anon", anon(&token(1), now(), "3.7.0").as_bytes())
                .0,
            200
        );
        drop(c);
        let conn = rusqlite::Connection::open(dir.join("collector.db")).unwrap();
        let remote: String = conn
            .query_row("SELECT remote FROM records", [], |r| r.get(0))
            .unwrap();
        assert_eq!(remote, want);
    }
}

/// Bad settings: one line naming the cause, the documented exit code, nothing started.
#[test]
fn bad_settings_exit_with_their_codes() {
    let dir = scratch_dir("http-bad");
    let advisories = dir.join("bad.toml");
    std::fs::write(
        &advisories,
        "[[advisory]]\nid = \"A\"\nkafka = \"~3\"\nmessage = \"m\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(BIN.as_str())
            .args(args)
            .output()
            .unwrap()
    };
    let db = sqlite(&dir);
    let cases: [(Vec<&str>, i32, &str); 4] = [
        (
            vec![
                "serve",
                "--database",
                &db,
                "--advisories",
                advisories.to_str().unwrap(),
            ],
            78,
            "advisory 1 (A): kafka",
        ),
        (
            vec!["report", "--database", "mysql://x"],
            78,
            "use sqlite:PATH or postgres://",
        ),
        (
            vec![
                "report",
                "--database",
                "postgres://u:hunter2@127.0.0.1:1/db",
            ],
            69,
            "postgres://u@127.0.0.1:1/db",
        ),
        (
            vec!["import", "--database", &db, "/nonexistent/b.zip"],
            66,
            "/nonexistent/b.zip",
        ),
    ];
    for (args, code, text) in cases {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(text), "{args:?}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    // The error line quotes the file: a terminal's escape sequence in it is written escaped,
    // and the line stays one line.
    let escape = dir.join("escape.toml");
    std::fs::write(&escape, "latest = \"7.9.1\"\n\u{1b}[2J = 3\n").unwrap();
    let out = run(&[
        "report",
        "--database",
        &db,
        "--advisories",
        escape.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("escape.toml") && err.contains(r"\u{1b}[2J"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}') && err.trim_end().lines().count() == 1,
        "{err}"
    );
    // An advisories "file" that is a FIFO, or huge: refused at once, not read forever.
    let fifo = dir.join("advisories.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let huge = dir.join("huge.toml");
    std::fs::write(&huge, "# x\n".repeat(300_000)).unwrap();
    for (file, why) in [
        (&fifo, "not a regular file"),
        (&huge, "larger than 1024 KiB"),
    ] {
        let out = run(&[
            "report",
            "--database",
            &db,
            "--advisories",
            file.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{err}");
        assert!(err.contains(why), "{err}");
    }
    // A --database that is no database: a FIFO (SQLite said "disk I/O error"), a directory,
    // a text file. Exit 78, naming it.
    let text = dir.join("notes.txt");
    std::fs::write(
        &text,
        "not a database, but long enough to have a header. ".repeat(4),
    )
    .unwrap();
    for (file, why) in [
        (&fifo, "not a regular file"),
        (&dir, "a directory"),
        (&text, "file is not a database"),
    ] {
        let url = format!("sqlite:{}", file.display());
        let out = run(&["report", "--database", &url]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{err}");
        assert_eq!(
            err.trim(),
            format!("support-metrics-collector: --database {url}: {why}")
        );
    }
    // TLS files that are no certificate or key: exit 78 naming them, a FIFO not read.
    let fifo_s = fifo.to_str().unwrap();
    let text_s = text.to_str().unwrap();
    for (cert, key, why) in [
        (fifo_s, text_s, "--tls-cert: not a regular file"),
        (text_s, text_s, "--tls-cert: no PEM certificate in it"),
    ] {
        let out = run(&[
            "serve",
            "--database",
            &db,
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{err}");
        assert!(err.contains(&format!("{cert}: {why}")), "{err}");
    }
    let out = run(&["serve", "--database", &db, "--tls-cert", text_s]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A port alone: exit 2 with what to write instead.
    let out = run(&["serve", "--listen", "8080", "--database", &db]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("use 0.0.0.0:8080 (every interface) or 127.0.0.1:8080"),
        "{err}"
    );
    // A host name is resolved.
    let mut named = std::process::Command::new(BIN.as_str())
        .args(["serve", "--listen", "localhost:0", "--database", &db])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(named.stderr.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let _ = named.kill();
    let _ = named.wait();
    assert!(
        first.contains("listening on http://127.0.0.1:")
            || first.contains("listening on http://[::1]:"),
        "{first}"
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["serve", "--listen", &addr, "--database", &db]);
    assert_eq!(
        out.status.code(),
        Some(73),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `serve` stops on SIGTERM with exit 0; a database migrated by a newer collector is refused
/// (exit 78), not written to.
#[test]
fn stops_on_sigterm_and_refuses_a_newer_schema() {
    let dir = scratch_dir("http-lifecycle");
    let db = sqlite(&dir);
    let mut c = Collector::start(&db, &dir, &[]);
    assert_eq!(
        c.post("/anon", anon(&token(1), now(), "3.7.0").as_bytes())
            .0,
        200
    );
    assert_eq!(c.terminate(Duration::from_secs(20)).code(), Some(0));

    let conn = rusqlite::Connection::open(dir.join("collector.db")).unwrap();
    conn.execute(
        "INSERT INTO support_metrics_schema (version, applied_at) VALUES (99, 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let out = std::process::Command::new(BIN.as_str())
        .args(["report", "--database", &db])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("schema is version 99, newer than this collector knows (1)"),
        "{err}"
    );
}

/// `import` of a FIFO or a directory where a bundle was expected: exit 66 at once, naming
/// it, instead of blocking on the FIFO.
#[test]
fn import_refuses_what_is_not_a_file() {
    let dir = scratch_dir("http-import-fifo");
    let fifo = dir.join("bundle.zip");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let db = sqlite(&dir);
    for (path, why) in [
        (fifo.as_path(), "not a regular file"),
        (dir.as_path(), "a directory"),
    ] {
        let out = run_bounded(std::process::Command::new(BIN.as_str()).args([
            "import",
            "--database",
            &db,
            path.to_str().unwrap(),
        ]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(66), "{err}");
        assert!(
            err.contains(path.to_str().unwrap()) && err.contains(why),
            "{err}"
        );
    }
}

/// The fleet view answers only to `--fleet-from` (this host by default): elsewhere a 403 with
/// one line, while records are still received.
#[test]
fn fleet_view_answers_only_to_fleet_from() {
    let dir = scratch_dir("http-fleet-from");
    let db = sqlite(&dir);
    let c = Collector::start(&db, &dir, &["--fleet-from", "10.0.0.0/8,2001:db8::/32"]);
    assert_eq!(
        c.post("/anon", anon(&token(1), now(), "3.7.0").as_bytes())
            .0,
        200
    );
    for path in ["/", "/api/fleet"] {
        let (status, body) = c.get(path);
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(
            body.trim(),
            "the fleet view answers only to the addresses in the collector's --fleet-from"
        );
    }
    assert_eq!(c.get("/healthz").0, 200);
    drop(c);
    // By default: this host.
    let c = Collector::start(&db, &dir, &[]);
    assert_eq!(c.fleet()["records"], 1);
    drop(c);
    let out = std::process::Command::new(BIN.as_str())
        .args(["serve", "--database", &db, "--fleet-from", "10.0.0.0/33"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("10.0.0.0/33: the prefix length is 0 to 32"),
        "{err}"
    );
}
