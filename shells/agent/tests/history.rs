//! What left the machine, and what will: `history` (the ledger) after real deliveries,
//! `status` while a daemon holds the spool, `preview --json`.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{exit, stderr, stdout, Site};
use serde_json::Value;
use support_metrics_tests::servers::{Answer, TestServer};

fn site(name: &str, http: &TestServer) -> Site {
    Site::new(
        name,
        &format!(
            "confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n",
            http.url("/anon")
        ),
    )
}

fn json(site: &Site, args: &[&str]) -> Value {
    let out = site.command(args[0]).args(&args[1..]).output().unwrap();
    exit(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

#[test]
fn history_lists_exactly_what_the_collector_received() {
    let http = TestServer::http();
    let site = site("history-once", &http);
    // Nothing sent yet.
    let out = site.command("history").output().unwrap();
    exit(&out, 0);
    assert!(
        stdout(&out).starts_with("Nothing recorded as sent"),
        "{}",
        stdout(&out)
    );
    // A failure is not a delivery.
    http.answer(Answer::Status(500, String::new()));
    exit(&site.once(), 75);
    assert!(json(&site, &["history", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
    http.answer(Answer::Status(200, String::new()));
    exit(&site.once(), 0);
    exit(&site.once(), 0);
    let received = http.received();
    // The first was answered 500; then it (from the spool) and two new ones were taken.
    let delivered: Vec<&[u8]> = received.iter().map(|r| r.body.as_slice()).skip(1).collect();
    assert_eq!(delivered.len(), 3);
    let listed = json(&site, &["history", "--json"]);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    for (entry, body) in listed.iter().zip(&delivered) {
        assert_eq!(entry["record"].as_str().unwrap().as_bytes(), *body);
        assert_eq!(entry["bytes"], body.len());
        assert_eq!(entry["destination"], format!("POST {}", http.url("/anon")));
        assert!(entry["time"].as_str().unwrap().ends_with('Z'));
    }
    // Text: a header line per delivery, then the bytes.
    let out = site.command("history").output().unwrap();
    exit(&out, 0);
    let text = stdout(&out);
    for body in &delivered {
        assert!(text.contains(std::str::from_utf8(body).unwrap()), "{text}");
    }
    // --since filters; a bad date is a usage error.
    assert!(json(&site, &["history", "--json", "--since", "2999-01-01"])
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        json(&site, &["history", "--json", "--since", "2000-01-01"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let out = site
        .command("history")
        .args(["--since", "yesterday"])
        .output()
        .unwrap();
    exit(&out, 2);
    assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
}

#[test]
fn status_while_the_daemon_holds_the_spool() {
    let http = TestServer::http();
    http.answer(Answer::Status(503, String::new()));
    let site = site("history-status", &http);
    let before = json(&site, &["status", "--json"]);
    assert_eq!(before["running"], false);
    let mut child = site.command("run").stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut status = Value::Null;
    while Instant::now() < deadline {
        status = json(&site, &["status", "--json"]);
        if status["sinks"]["http"]["lastError"].is_string() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(status["running"], true, "{status}");
    assert_eq!(status["pid"], child.id(), "{status}");
    assert_eq!(status["recordsWaiting"], 1, "{status}");
    let error = status["sinks"]["http"]["lastError"].as_str().unwrap();
    assert!(error.contains("HTTP status 503"), "{error}");
    assert!(
        status["nextReportDue"].as_str().unwrap().ends_with('Z'),
        "{status}"
    );
    let text = site.command("status").output().unwrap();
    exit(&text, 0);
    assert!(
        stdout(&text).contains(&format!("Agent: running (pid {})", child.id())),
        "{}",
        stdout(&text)
    );
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

#[test]
fn preview_json_shows_the_bytes_and_destinations() {
    let http = TestServer::http();
    let site = site("history-preview", &http);
    let v = json(&site, &["preview", "--json"]);
    assert_eq!(v["sent"], false);
    let records = v["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{v}");
    let record: Value = serde_json::from_str(records[0]["record"].as_str().unwrap()).unwrap();
    assert_eq!(record["collectorState"], 2);
    assert_eq!(
        records[0]["destinations"],
        format!("POST {}", http.url("/anon"))
    );
    assert_eq!(http.count(), 0);
}
