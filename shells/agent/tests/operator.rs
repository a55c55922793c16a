//! What an operator reads: log lines in words, with causes and addresses, as the journal or a
//! terminal wants them; `--help`; config surprises said out loud. The real binary each time.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{exit, stderr, stdout, Site, BIN};
use support_metrics_tests::servers::{TestCa, TestServer};

/// Rust names that must never reach an operator.
const INTERNALS: [&str; 9] = [
    "Sinks(",
    "Topic(",
    "Transport(",
    "Status(",
    "Retriable",
    "(Running)",
    "DoNotTrack",
    "Disabled",
    "Tls)",
];

#[track_caller]
fn in_words(text: &str) {
    for word in INTERNALS {
        assert!(!text.contains(word), "{word} in:\n{text}");
    }
}

/// An HTTPS endpoint whose certificate nobody trusts, and a topic nobody serves.
fn failing_site(name: &str, https: &TestServer) -> Site {
    Site::new(
        name,
        &format!(
            "confluent.support.metrics.topic=__confluent.support.metrics\n\
             confluent.support.metrics.bootstrap.servers=127.0.0.1:1\n\
             confluent.support.metrics.endpoint.secure={}\n\
             confluent.support.metrics.endpoint.insecure=\n",
            https.url("/anon")
        ),
    )
}

#[test]
fn failures_in_words_with_cause_and_address() {
    let https = TestServer::https(&TestCa::new());
    let site = failing_site("operator-words", &https);
    let out = site
        .command("once")
        .env("SUPPORT_METRICS_LOG", "info")
        .env_remove("JOURNAL_STREAM")
        .output()
        .unwrap();
    exit(&out, 75);
    let err = stderr(&out);
    in_words(&err);
    // Lines carry an RFC 3339 UTC timestamp.
    for line in err.lines() {
        let (stamp, _) = line.split_once(' ').unwrap();
        assert!(
            stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{line}"
        );
    }
    let warn = |needle: &str| {
        err.lines()
            .find(|l| l.contains(" WARN ") && l.contains(needle))
            .unwrap_or_else(|| panic!("no WARN with {needle}:\n{err}"))
            .to_owned()
    };
    let tls = warn("the HTTPS endpoint");
    assert!(
        tls.contains("certificate signed by an unknown authority"),
        "{tls}"
    );
    assert!(tls.contains(&https.url("/anon")), "{tls}");
    let topic = warn("to the topic");
    assert!(topic.contains("127.0.0.1:1"), "{topic}");
    // `once` makes no next try.
    assert!(!err.contains("next try"), "{err}");
    assert!(err.contains("kept in the spool for the next run"), "{err}");
    assert!(err.contains("1 record kept in the spool"), "{err}");
}

#[test]
fn journal_priorities_under_systemd() {
    let https = TestServer::https(&TestCa::new());
    let site = failing_site("operator-journal", &https);
    let out = site
        .command("once")
        .env("SUPPORT_METRICS_LOG", "debug")
        .env("JOURNAL_STREAM", "8:12345")
        .output()
        .unwrap();
    exit(&out, 75);
    let err = stderr(&out);
    in_words(&err);
    for line in err.lines() {
        let priority = match line.split(' ').nth(1) {
            Some("DEBUG") => "<7>",
            Some("INFO") => "<6>",
            Some("WARN") => "<4>",
            Some("ERROR") => "<3>",
            _ => panic!("no level in {line}"),
        };
        assert!(line.starts_with(priority), "{line}");
    }
    assert!(
        err.contains("<4>support-metrics-agent WARN could not deliver record #1"),
        "{err}"
    );
    // A fatal error is priority 3.
    let bad = Site::new(
        "operator-journal-bad",
        "confluent.support.metrics.enable=maybe\n",
    );
    let out = bad
        .command("once")
        .env("JOURNAL_STREAM", "8:1")
        .output()
        .unwrap();
    exit(&out, 78);
    assert!(
        stderr(&out).starts_with("<3>support-metrics-agent: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reporting_off_is_information_not_a_warning() {
    let site = Site::new("operator-off", "confluent.support.metrics.enable=false\n");
    let out = site
        .command("once")
        .env("JOURNAL_STREAM", "8:1")
        .output()
        .unwrap();
    exit(&out, 0);
    let err = stderr(&out);
    in_words(&err);
    assert!(
        err.contains("<6>support-metrics-agent INFO reporting disabled (confluent.support.metrics.enable=false)"),
        "{err}"
    );
    assert!(!err.contains("WARN"), "{err}");
}

/// `run`: after the cycle, when the next report is due; SIGHUP stops it like SIGTERM, with
/// the final report. HTTP requests say who sends them.
#[test]
fn run_says_when_the_next_report_is_due_and_stops_on_sighup() {
    let http = TestServer::http();
    let site = Site::new(
        "operator-run",
        &format!(
            "confluent.support.metrics.endpoint.secure=\nconfluent.support.metrics.endpoint.insecure={}\n",
            http.url("/anon")
        ),
    );
    let child = site
        .command("run")
        .env("SUPPORT_METRICS_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first report comes 10 s after start.
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.count() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(http.count(), 1, "first report");
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    exit(&out, 0);
    let err = stderr(&out);
    in_words(&err);
    let due = err
        .lines()
        .find(|l| l.contains("INFO next report due at "))
        .unwrap_or_else(|| panic!("{err}"));
    let at = due.rsplit(' ').next().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z'), "{due}");
    assert!(err.contains("SIGHUP received: stopping"), "{err}");
    let received = http.received();
    assert_eq!(received.len(), 2, "the final report was sent: {err}");
    for r in &received {
        assert_eq!(
            r.header("user-agent"),
            Some(concat!("support-metrics-agent/", env!("CARGO_PKG_VERSION")))
        );
    }
}

#[test]
fn help_lists_environment_and_exit_codes_in_order() {
    for verb in ["run", "once", "preview", "config", "demo"] {
        let out = Command::new(&*BIN)
            .args([verb, "--help"])
            .env("COLUMNS", "60")
            .output()
            .unwrap();
        exit(&out, 0);
        let text = stdout(&out);
        for var in [
            "SUPPORT_METRICS_LOG",
            "DO_NOT_TRACK",
            "NO_PROXY",
            "STATE_DIRECTORY",
        ] {
            assert!(text.contains(var), "{verb}: {var} missing:\n{text}");
        }
        assert!(!text.contains("README"), "{verb}: {text}");
        let codes: Vec<u32> = text
            .split("Exit codes:")
            .nth(1)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(codes, [0, 1, 2, 65, 66, 69, 73, 74, 75, 78], "{verb}");
        assert!(
            text.lines().all(|l| l.chars().count() <= 60),
            "{verb}:\n{text}"
        );
    }
}

#[test]
fn a_byte_order_mark_is_named() {
    let site = Site::new("operator-bom", "");
    let mut text = b"\xef\xbb\xbfconfluent.support.metrics.enable=false\n".to_vec();
    text.extend(std::fs::read(&site.config).unwrap());
    std::fs::write(&site.config, text).unwrap();
    let out = site.command("config").output().unwrap();
    exit(&out, 0);
    let shown = stdout(&out);
    assert!(
        shown.contains(
            "line 1: the key \"confluent.support.metrics.enable\" begins with a byte-order mark"
        ),
        "{shown}"
    );
}

/// A relative spool.dir is the config file's directory's, shown absolute; `config` and
/// `once` agree.
#[test]
fn one_spool_for_every_command() {
    let site = Site::new(
        "operator-spool",
        "confluent.support.metrics.spool.dir=state/spool\n",
    );
    let absolute = site.dir.join("state/spool");
    let out = Command::new(&*BIN)
        .args(["config", "--json", "--config"])
        .arg(&site.config)
        .current_dir("/")
        .output()
        .unwrap();
    exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["spoolDir"], absolute.display().to_string());
    let out = site.command("once").current_dir("/").output().unwrap();
    assert!(
        stderr(&out).contains(&format!("spool {}", absolute.display())),
        "{}",
        stderr(&out)
    );
    assert!(absolute.is_dir());
}

/// Without --config and without /etc/kafka/server.properties: a usage error saying so.
#[test]
fn config_defaults_to_the_packaged_path() {
    if std::path::Path::new("/etc/kafka/server.properties").exists() {
        return;
    }
    let out = Command::new(&*BIN).arg("config").output().unwrap();
    exit(&out, 2);
    assert!(
        stderr(&out).contains("/etc/kafka/server.properties does not exist here"),
        "{}",
        stderr(&out)
    );
}

/// A customer preview whose cluster cannot be read says so, with the address.
#[test]
fn customer_preview_says_when_cluster_facts_are_missing() {
    let site = Site::new(
        "operator-customer",
        "confluent.support.customer.id=C123456789\n\
         confluent.support.metrics.topic=t\n\
         confluent.support.metrics.bootstrap.servers=127.0.0.1:1\n",
    );
    let out = site.command("preview").output().unwrap();
    exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("the cluster's facts could not be read (127.0.0.1:1:"),
        "{err}"
    );
}

/// A proxy that cannot be reached is named as the proxy, not taken for the endpoint.
#[test]
fn a_dead_proxy_is_named() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let site = Site::new(
        "operator-proxy",
        &format!(
            "confluent.support.metrics.endpoint.secure=\n\
             confluent.support.metrics.endpoint.insecure=http://collector.invalid/anon\n\
             confluent.support.proxy=http://ops:Pr0xyPa55@127.0.0.1:{dead}\n"
        ),
    );
    let out = site
        .command("once")
        .env("SUPPORT_METRICS_LOG", "info")
        .output()
        .unwrap();
    exit(&out, 75);
    let err = stderr(&out);
    in_words(&err);
    assert!(!err.contains("Pr0xyPa55"), "{err}");
    let warn = err
        .lines()
        .find(|l| l.contains(" WARN could not deliver record #1 to the HTTP endpoint"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        warn.contains(&format!(
            "POST http://collector.invalid/anon through proxy http://***@127.0.0.1:{dead}: cannot reach the proxy"
        )),
        "{warn}"
    );
}

/// Without spool.dir (and outside systemd), every command uses the service's spool,
/// `/var/lib/support-metrics/spool`, when that can be made; `config` shows it and makes
/// nothing.
#[test]
fn the_default_spool_is_the_services() {
    let dir = support_metrics_tests::scratch_dir("operator-default-spool");
    let config = dir.join("server.properties");
    std::fs::write(&config, "broker.id=0\n").unwrap();
    let home = std::path::Path::new("/var/lib/support-metrics");
    let existed = home.exists();
    let out = Command::new(&*BIN)
        .args(["config", "--json", "--config"])
        .arg(&config)
        .env_remove("STATE_DIRECTORY")
        .output()
        .unwrap();
    exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root =
        std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if existed || root.unwrap_or(false) {
        assert_eq!(json["spoolDir"], "/var/lib/support-metrics/spool");
    } else {
        assert_eq!(
            json["spoolDir"],
            dir.join("support-metrics-spool").display().to_string()
        );
    }
    assert_eq!(home.exists(), existed, "config made nothing");
    // systemd's state directory wins.
    let out = Command::new(&*BIN)
        .args(["config", "--json", "--config"])
        .arg(&config)
        .env("STATE_DIRECTORY", dir.join("state"))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["spoolDir"],
        dir.join("state/spool").display().to_string()
    );
}
