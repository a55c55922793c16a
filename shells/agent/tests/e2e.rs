//! The real agent binary against real HTTP/HTTPS servers on 127.0.0.1 (test CA generated
//! here). The topic is off in these configs; the Kafka tests live with the topic sink.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support_metrics_tests::scratch_dir;
use support_metrics_tests::servers::{Answer, TestCa, TestServer};

mod common;

use common::{exit, five_keys, stderr, Site};

fn ca_file(ca: &TestCa, dir: &Path) -> String {
    ca.write_ca(dir, "ca.pem").display().to_string()
}

#[test]
fn once_delivers_over_trusted_https_only() {
    let ca = TestCa::new();
    let (https, http) = (TestServer::https(&ca), TestServer::http());
    let dir = scratch_dir("e2e-ca");
    let site = Site::new(
        "e2e-trusted",
        &format!(
            "confluent.support.metrics.endpoint.secure={}\nconfluent.support.metrics.endpoint.insecure={}\nconfluent.support.metrics.endpoint.ca.file={}\n",
            https.url("/anon"),
            http.url("/anon"),
            ca_file(&ca, &dir)
        ),
    );
    let out = site.once();
    exit(&out, 0);
    let got = https.received();
    assert_eq!(got.len(), 1);
    five_keys(&got[0].body, 2);
    assert_eq!(got[0].header("api-version"), Some("phone-home-v1"));
    assert_eq!(http.count(), 0, "never plain HTTP after an HTTPS success");
    assert_eq!(site.spooled(), 0);
    let log = stderr(&out);
    assert!(
        log.contains("reporting every 24 h: topic off; HTTPS"),
        "{log}"
    );
}

#[test]
fn untrusted_https_falls_back_to_http() {
    let (https, http) = (TestServer::https(&TestCa::new()), TestServer::http());
    let site = Site::new(
        "e2e-fallback",
        &format!(
            "confluent.support.metrics.endpoint.secure={}\nconfluent.support.metrics.endpoint.insecure={}\n",
            https.url("/anon"),
            http.url("/anon")
        ),
    );
    let out = site.once();
    exit(&out, 0);
    assert_eq!(
        https.count(),
        0,
        "the untrusted server never got the record"
    );
    assert_eq!(http.count(), 1);
    five_keys(&http.received()[0].body, 2);
    assert!(
        stderr(&out).contains("falling back to HTTP"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tls_only_never_sends_in_clear_and_keeps_the_record() {
    let https = TestServer::https(&TestCa::new());
    let http = TestServer::http();
    let site = Site::new(
        "e2e-tls-only",
        &format!("confluent.support.metrics.endpoint.secure={}\nconfluent.support.metrics.endpoint.insecure=\n", https.url("/anon")),
    );
    let out = site.once();
    exit(&out, 75);
    assert_eq!((https.count(), http.count()), (0, 0));
    assert_eq!(site.spooled(), 1);
}

#[test]
fn do_not_track_sends_no_http() {
    let http = TestServer::http();
    let site = Site::new("e2e-dnt", &format!("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n", http.url("/anon")));
    let out = site
        .command("once")
        .env("DO_NOT_TRACK", "1")
        .output()
        .unwrap();
    exit(&out, 0);
    assert_eq!(http.count(), 0);
    assert!(
        stderr(&out).contains("DO_NOT_TRACK forbids HTTP"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn endpoint_down_then_up_loses_nothing() {
    let http = TestServer::http();
    http.answer(Answer::Status(503, String::new()));
    let site = Site::new("e2e-down-up", &format!("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n", http.url("/anon")));
    exit(&site.once(), 75);
    assert_eq!(site.spooled(), 1);
    let first = http.received()[0].body.clone();
    http.answer(Answer::Status(200, String::new()));
    exit(&site.once(), 0);
    assert_eq!(site.spooled(), 0);
    let bodies: Vec<Vec<u8>> = http.received().into_iter().map(|r| r.body).collect();
    assert_eq!(
        bodies.len(),
        3,
        "503 once, then the spooled record and the new one"
    );
    assert_eq!(bodies[1], first, "the spooled record is sent byte for byte");
    let (a, b) = (five_keys(&bodies[1], 2), five_keys(&bodies[2], 2));
    assert_ne!(
        a["brokerProcessUUID"], b["brokerProcessUUID"],
        "a new token for every start"
    );
}

#[test]
fn dead_endpoint_is_given_up_within_the_bound() {
    let http = TestServer::http();
    http.answer(Answer::Stall(Duration::from_secs(60)));
    let site = Site::new("e2e-stall", &format!("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n", http.url("/anon")));
    let started = Instant::now();
    exit(&site.once(), 75);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(site.spooled(), 1);
}

#[test]
fn sigterm_sends_the_final_report_and_exits_0() {
    let http = TestServer::http();
    let site = Site::new("e2e-sigterm", &format!("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n", http.url("/anon")));
    let mut child = site
        .command("run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500)); // before the first report (10 s)
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "agent did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(6));
    let got = http.received();
    assert_eq!(got.len(), 1, "exactly the final report");
    five_keys(&got[0].body, 1);
}

#[test]
fn preview_prints_the_exact_record_and_sends_nothing() {
    let http = TestServer::http();
    http.answer(Answer::Status(500, String::new()));
    let site = Site::new("e2e-preview", &format!("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n", http.url("/anon")));
    exit(&site.once(), 75); // leaves one record in the spool
    let before = http.count();
    let out = site.command("preview").output().unwrap();
    exit(&out, 0);
    assert_eq!(http.count(), before, "preview sends nothing");
    assert_eq!(site.spooled(), 1, "preview leaves the spool alone");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("The next cycle would send 2 records."),
        "{text}"
    );
    let spooled = std::fs::read_dir(site.dir.join("spool"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = String::from_utf8(std::fs::read(spooled).unwrap()).unwrap();
    assert!(text.contains(&bytes), "the spooled record, byte for byte");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(lines.len(), 2);
    five_keys(lines[1].as_bytes(), 2);
    assert!(
        text.contains(&format!("POST {}", http.url("/anon"))),
        "{text}"
    );
}

#[test]
fn config_errors_exit_78_before_anything_is_sent() {
    let http = TestServer::http();
    let cases = [
        ("e2e-bad-interval", "confluent.support.metrics.report.interval.hours=often\n".to_owned(), "report.interval.hours"),
        (
            "e2e-bad-client",
            "confluent.support.metrics.topic=t\nconfluent.support.metrics.bootstrap.servers=127.0.0.1:9\nconfluent.support.metrics.client.no.such.setting=1\n".to_owned(),
            "confluent.support.metrics.client.no.such.setting: librdkafka refuses it",
        ),
        (
            "e2e-no-listener",
            "confluent.support.metrics.topic=t\nlisteners=INTERNAL://:9094\n".to_owned(),
            "listener.security.protocol.map",
        ),
    ];
    for (name, extra, needle) in cases {
        let site = Site::new(
            name,
            &format!(
                "confluent.support.metrics.endpoint.insecure={}\n{extra}",
                http.url("/anon")
            ),
        );
        // The later line wins: the topic is on for the Kafka cases. `config` and `preview`
        // refuse what `once` refuses.
        for verb in ["once", "run", "config", "preview"] {
            let out = site.command(verb).output().unwrap();
            exit(&out, 78);
            let err = stderr(&out);
            assert!(err.contains(needle), "{verb} {name}: {err}");
        }
        assert_eq!(http.count(), 0, "{name}: nothing sent");
    }
}

/// A customer preview of a server.properties full of secrets shows the customer facts and
/// leaks none of them: every value of a key outside the allowlist is absent from the output.
#[test]
fn customer_preview_leaks_no_secret() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let broker_file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/server.properties"
    ))
    .unwrap();
    let text = broker_file.replace(
        "confluent.support.customer.id=anonymous",
        "confluent.support.customer.id=C123456789",
    );
    let site = Site::new(
        "e2e-customer",
        &format!("{text}\nconfluent.support.metrics.bootstrap.servers=127.0.0.1:{dead}\n"),
    );
    let out = site.command("preview").output().unwrap();
    exit(&out, 0);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let record: Value = serde_json::from_str(
        stdout
            .lines()
            .find(|l| l.starts_with('{'))
            .expect("a record"),
    )
    .unwrap();
    assert_eq!(record["customerId"], "C123456789");
    assert_eq!(record["brokerId"], 0);
    assert_eq!(record["host"]["os"], "linux");
    assert_eq!(record["clusterId"], "unknown", "no cluster reachable");
    let config = record["brokerConfiguration"].as_object().unwrap();
    assert_eq!(config["log.retention.hours"], "168");
    assert_eq!(config["num.partitions"], "1");
    for key in config.keys() {
        assert!(
            support_metrics_core::wire::allowlist::ALLOWED.contains(&key.as_str()),
            "{key} is not allowlisted"
        );
    }
    // Every other value of the file, as Java reads it, must be absent from what is sent (the
    // header above the record names the listener's protocol, which is no secret).
    let sent: String = stdout.lines().filter(|l| l.starts_with('{')).collect();
    let props = support_metrics_linux::properties_file::PropertiesFile::parse(
        std::path::Path::new("x"),
        broker_file.as_bytes(),
    )
    .unwrap();
    let mut checked = 0;
    for e in props.entries() {
        if support_metrics_core::wire::allowlist::allows(&e.key, &e.value)
            || e.value.len() < 6
            || e.key.starts_with("confluent.support.")
        {
            continue;
        }
        let seen = if support_metrics_core::config::is_secret_key(&e.key) {
            &stdout
        } else {
            &sent
        };
        assert!(
            !seen.contains(&e.value),
            "{} = {} leaked:\n{stdout}",
            e.key,
            e.value
        );
        checked += 1;
    }
    assert!(
        checked >= 12,
        "the file has many secrets to look for ({checked})"
    );
    for needle in [
        "Secret",
        "internal.example.com",
        "/var/",
        "ScramLoginModule",
        "Zürich",
    ] {
        assert!(!stdout.contains(needle), "{needle} leaked");
    }
}

#[test]
fn proxy_with_credentials_is_used_and_the_password_never_logged() {
    let proxy = TestServer::http();
    let port = proxy.url("").rsplit(':').next().unwrap().to_owned();
    let site = Site::new(
        "e2e-proxy",
        &format!(
            "confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure=http://collector.invalid/anon\n\
             confluent.support.proxy=http://alice:s3cretPass@127.0.0.1:{port}\n"
        ),
    );
    let out = site.once();
    exit(&out, 0);
    let got = proxy.received();
    assert_eq!(
        got.len(),
        2,
        "a CONNECT, then the POST through the tunnel: {got:?}"
    );
    assert_eq!(
        (got[0].method.as_str(), got[0].path.as_str()),
        ("CONNECT", "collector.invalid:80")
    );
    assert_eq!(
        got[0].header("proxy-authorization"),
        Some("Basic YWxpY2U6czNjcmV0UGFzcw==")
    );
    assert_eq!(
        (got[1].method.as_str(), got[1].path.as_str()),
        ("POST", "/anon")
    );
    five_keys(&got[1].body, 2);
    let log = stderr(&out);
    assert!(!log.contains("s3cretPass"), "{log}");
    assert!(log.contains("proxy http://alice:***@127.0.0.1"), "{log}");
    // NO_PROXY sends it directly (and so it fails: the host does not resolve).
    let out = site
        .command("once")
        .env("NO_PROXY", "collector.invalid")
        .output()
        .unwrap();
    exit(&out, 75);
    assert_eq!(proxy.count(), 2, "not through the proxy");
}

#[test]
fn vendor_notice_is_logged() {
    let http = TestServer::http();
    http.answer(Answer::Status(
        200,
        r#"{"informationForUser":"Please upgrade","confluentPlatformVersion":"9.9.9"}"#.into(),
    ));
    let site = Site::new("e2e-notice", &format!("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n", http.url("/anon")));
    let out = site.once();
    exit(&out, 0);
    let log = stderr(&out);
    assert!(
        log.contains("INFO message from the vendor: Please upgrade"),
        "{log}"
    );
    assert!(
        log.contains("INFO latest version reported by the vendor: 9.9.9"),
        "{log}"
    );
}

/// The vendor's text is the endpoint's (or, over the plain-HTTP fallback, anyone's on the
/// way): a line break in it cannot forge a log line, nor a terminal escape act on a reader.
#[test]
fn vendor_notice_cannot_forge_lines_or_drive_the_terminal() {
    let http = TestServer::http();
    http.answer(Answer::Status(
        200,
        r#"{"informationForUser":"Please upgrade\n2099-01-01T00:00:00.000Z support-metrics-agent ERROR forged\u001b[2J"}"#.into(),
    ));
    let site = Site::new("e2e-notice-forged", &format!("confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n", http.url("/anon")));
    let out = site.once();
    exit(&out, 0);
    let log = stderr(&out);
    assert!(
        log.contains(
            r"INFO message from the vendor: Please upgrade\n2099-01-01T00:00:00.000Z support-metrics-agent ERROR forged\u{1b}[2J"
        ),
        "{log}"
    );
    assert!(!log.lines().any(|l| l.starts_with("2099-")), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
}
