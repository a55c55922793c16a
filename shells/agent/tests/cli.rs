//! The real `support-metrics-agent` binary, run in a scratch directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::BIN;
use serde_json::Value;
use support_metrics_tests::{generated_docs, java_load_all, scratch_dir, systemd};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

fn agent(args: &[&str]) -> Output {
    Command::new(&*BIN)
        .args(args)
        .output()
        .expect("run support-metrics-agent")
}

fn config_json(path: &Path) -> Value {
    let out = agent(&["config", "--config", path.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

/// Exactly one line on stderr, and the exit code.
#[track_caller]
fn fails(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(out.stdout.is_empty(), "nothing half-printed on stdout");
    stderr
}

#[test]
fn defaults_as_json() {
    let dir = scratch_dir("cli-defaults");
    let v = config_json(&write(&dir, "server.properties", b"broker.id=0\n"));
    assert_eq!(v["enabled"], true);
    assert_eq!(v["customerId"], "anonymous");
    assert_eq!(v["customerClass"], "anonymous");
    assert_eq!(v["reportIntervalHours"], 24);
    assert_eq!(v["topic"], "__confluent.support.metrics");
    assert_eq!(
        v["secureEndpoint"],
        "https://support-metrics.confluent.io/anon"
    );
    assert_eq!(
        v["insecureEndpoint"],
        "http://support-metrics.confluent.io/anon"
    );
    assert_eq!(v["proxy"], Value::Null);
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert_eq!(v["sources"]["confluent.support.metrics.topic"], "default");
}

#[test]
fn customer_classes_and_disabled_sinks_as_json() {
    let dir = scratch_dir("cli-classes");
    let v = config_json(&write(
        &dir,
        "s.properties",
        b"confluent.support.customer.id=c0\nconfluent.support.metrics.topic=\n\
          confluent.support.metrics.endpoint.insecure.enable=FALSE\n\
          confluent.support.metrics.report.interval.hours= 1 \n",
    ));
    assert_eq!(
        (v["customerId"].as_str(), v["customerClass"].as_str()),
        (Some("c0"), Some("test"))
    );
    assert_eq!(
        v["secureEndpoint"],
        "https://support-metrics.confluent.io/test"
    );
    assert_eq!(
        (v["topic"].clone(), v["insecureEndpoint"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(v["reportIntervalHours"], 1);
    assert_eq!(
        v["sources"]["confluent.support.metrics.report.interval.hours"],
        "line 4"
    );
    let v = config_json(&write(
        &dir,
        "c.properties",
        b"confluent.support.customer.id=C123456789\n",
    ));
    assert_eq!(
        (v["customerClass"].as_str(), v["customerId"].as_str()),
        (Some("customer"), Some("C123456789"))
    );
    assert_eq!(
        v["insecureEndpoint"],
        "http://support-metrics.confluent.io/submit"
    );
    let v = config_json(&write(
        &dir,
        "off.properties",
        b"confluent.support.metrics.enable=False\n",
    ));
    assert_eq!(
        (v["enabled"].as_bool(), v["reporting"].as_bool()),
        (Some(false), Some(false))
    );
}

#[test]
fn warnings_and_redacted_proxy_in_table_and_json() {
    let dir = scratch_dir("cli-warnings");
    let path = write(
        &dir,
        "s.properties",
        b"confluent.support.customer.id=Hello World\nconfluent.support.metrics.enabled=true\n\
          confluent.support.proxy=http://alice:S3cret@proxy.internal:3128\n",
    );
    let v = config_json(&path);
    assert_eq!(v["customerId"], "anonymous");
    assert_eq!(v["proxy"], "http://alice:***@proxy.internal:3128");
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("line 2")
            && warnings[0].contains("did you mean confluent.support.metrics.enable?")
    );
    assert!(warnings[1].contains("'Hello World' is not a valid Confluent customer ID"));

    let out = agent(&["config", "--config", path.to_str().unwrap()]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(!table.contains("S3cret") && !String::from_utf8_lossy(&out.stderr).contains("S3cret"));
    for key in [
        "confluent.support.metrics.enable",
        "confluent.support.customer.id",
        "confluent.support.metrics.report.interval.hours",
        "confluent.support.metrics.topic",
        "confluent.support.metrics.endpoint.secure",
        "confluent.support.metrics.endpoint.insecure",
        "confluent.support.metrics.endpoint.secure.enable",
        "confluent.support.metrics.endpoint.insecure.enable",
        "confluent.support.proxy",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(key)),
            "{key} row missing:\n{table}"
        );
    }
    assert!(
        table.contains("line 3") && table.contains("default"),
        "{table}"
    );
    assert!(table.contains("warning: line 2: unknown setting confluent.support.metrics.enabled"));
    assert!(table.contains("Reporting: every 24 h: topic __confluent.support.metrics"));
}

/// A key holding a terminal escape (or any control character) is shown escaped, in the
/// table and in the log: the file's bytes do not reach the terminal as they are.
#[test]
fn control_characters_in_keys_are_shown_escaped() {
    let dir = scratch_dir("cli-control");
    let path = write(
        &dir,
        "s.properties",
        b"confluent.support.metrics.enable=true\nconfluent.support.fo\x1b[31mo=1\n",
    );
    let out = agent(&["config", "--config", path.to_str().unwrap()]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains(r"warning: line 2: unknown setting confluent.support.fo\u{1b}[31mo"),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "{table}");
    let out = agent(&["preview", "--config", path.to_str().unwrap()]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains(r"confluent.support.fo\u{1b}[31mo"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
}

#[test]
fn invalid_setting_exits_78_naming_key_value_line() {
    let dir = scratch_dir("cli-invalid");
    let cases: &[(&[u8], &str)] = &[
        (b"a=1\nconfluent.support.metrics.report.interval.hours=abc\n", "line 2: invalid value \"abc\" for confluent.support.metrics.report.interval.hours"),
        (b"confluent.support.metrics.enable=yes\n", "line 1: invalid value \"yes\" for confluent.support.metrics.enable: expected true or false"),
        (b"confluent.support.metrics.endpoint.secure=http://x/y\n", "must be an https:// URL"),
        (b"confluent.support.metrics.topic=bad topic\n", "for confluent.support.metrics.topic"),
        (b"confluent.support.proxy=proxy:3128\n", "for confluent.support.proxy"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = write(&dir, &format!("{i}.properties"), text);
        for json in [false, true] {
            let mut args = vec!["config", "--config", path.to_str().unwrap()];
            if json {
                args.push("--json");
            }
            let stderr = fails(&agent(&args), 78);
            assert!(
                stderr.contains(want) && stderr.contains(path.to_str().unwrap()),
                "{stderr}"
            );
        }
    }
}

#[test]
fn missing_or_unreadable_file_exits_66() {
    let dir = scratch_dir("cli-missing");
    let missing = dir.join("nope.properties");
    let stderr = fails(
        &agent(&["config", "--config", missing.to_str().unwrap()]),
        66,
    );
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
    let stderr = fails(
        &agent(&[
            "config",
            "--config",
            dir.to_str().unwrap(),
            "--raw",
            "--json",
        ]),
        66,
    );
    assert!(stderr.contains(dir.to_str().unwrap()), "{stderr}");
}

#[test]
fn file_java_refuses_exits_65_naming_the_line() {
    let dir = scratch_dir("cli-malformed");
    let path = write(&dir, "bad.properties", b"a=1\n\n# comment\nb=\\u00zz\n");
    for extra in [
        &[][..],
        &["--json"][..],
        &["--raw", "--json"][..],
        &["--raw"][..],
    ] {
        let mut args = vec!["config", "--config", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let stderr = fails(&agent(&args), 65);
        assert!(
            stderr.contains("line 4") && stderr.contains("malformed \\uxxxx"),
            "{stderr}"
        );
    }
}

/// `--raw --json` prints exactly what `java.util.Properties.load` reads.
#[test]
fn raw_json_matches_java() {
    let dir = scratch_dir("cli-raw");
    let server = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/server.properties"
    ))
    .unwrap();
    let files = vec![
        write(&dir, "server.properties", &server),
        write(
            &dir,
            "tricky.properties",
            b"k\\ 1 = v \\u00e9\\\n   x\r\nk2:\xe9\\t\n#c\n! c\ndup=1\ndup=2\n\\\\=\\\\\n",
        ),
        write(&dir, "empty.properties", b""),
        // Invalid Proactive Support values do not matter to --raw.
        write(
            &dir,
            "invalid-ps.properties",
            b"confluent.support.metrics.enable=yes\n",
        ),
    ];
    let java = java_load_all(&files);
    for (path, java) in files.iter().zip(java) {
        let out = agent(&[
            "config",
            "--config",
            path.to_str().unwrap(),
            "--raw",
            "--json",
            "--show-secrets",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours: std::collections::BTreeMap<String, String> =
            serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            java.matches(&ours),
            "{}: java {java:?}, ours {ours:?}",
            path.display()
        );
    }
    let out = agent(&["config", "--config", files[1].to_str().unwrap(), "--raw"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("line 1: k 1 = v éx") && text.contains("line 7: dup = 2"),
        "{text}"
    );
}

#[test]
fn help_and_version() {
    let out = agent(&["--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    for needle in ["config", "Exit codes:", "78", "66", "65"] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    let out = agent(&["config", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--raw") && help.contains("--json") && help.contains("--config <FILE>"));
    // NAME VERSION (COMMIT, librdkafka X.Y.Z, TARGET)
    let out = agent(&["--version"]);
    let line = String::from_utf8(out.stdout).unwrap();
    let prefix = format!("support-metrics-agent {} (", env!("CARGO_PKG_VERSION"));
    let inner = line
        .trim()
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line}"));
    let parts: Vec<&str> = inner.split(", ").collect();
    assert_eq!(parts.len(), 3, "{line}");
    assert!(parts[1].starts_with("librdkafka 2."), "{line}");
    assert!(
        parts[2].ends_with("-linux-gnu") || parts[2].ends_with("-linux-musl"),
        "{line}"
    );
    let out = agent(&["config"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "missing --config is a usage error"
    );
}

#[test]
fn agent_keys_and_client_settings() {
    let dir = scratch_dir("cli-agent-keys");
    let path = write(
        &dir,
        "s.properties",
        b"confluent.support.metrics.client.sasl.password=hunter2\n\
          confluent.support.metrics.client.security.protocol=SASL_SSL\n\
          confluent.support.metrics.bootstrap.servers=k1:9092,k2:9092\n\
          confluent.support.metrics.spool.dir=/var/lib/sm\n",
    );
    let v = config_json(&path);
    assert_eq!(
        v["warnings"],
        serde_json::json!([]),
        "client.* keys are not typos"
    );
    assert_eq!(v["bootstrapServers"], "k1:9092,k2:9092");
    assert_eq!(v["spoolDir"], "/var/lib/sm");
    assert_eq!(v["endpointCaFile"], Value::Null);
    assert_eq!(v["clientSettings"]["security.protocol"], "SASL_SSL");
    assert_eq!(v["clientSettings"]["sasl.password"], "***");
    let out = agent(&["config", "--config", path.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
    let bad = write(
        &dir,
        "bad.properties",
        b"confluent.support.metrics.bootstrap.servers=k1\n",
    );
    let stderr = fails(&agent(&["config", "--config", bad.to_str().unwrap()]), 78);
    assert!(stderr.contains("expected host:port"), "{stderr}");
}

/// The shipped systemd unit starts a command line the binary accepts.
#[test]
fn systemd_unit_exec_start_parses() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/support-metrics-agent.service"
    ))
    .unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let mut words = exec.split_whitespace();
    assert!(words.next().unwrap().ends_with("/support-metrics-agent"));
    let args: Vec<&str> = words.collect();
    assert_eq!(&args[..2], ["run", "--config"]);
    // With the config missing, a parsed command line fails with 66, not a usage error (2).
    let dir = scratch_dir("cli-unit");
    let missing = dir.join("server.properties");
    let out = agent(&["run", "--config", missing.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(66),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(unit.contains("StateDirectory=support-metrics"));
}

/// The drop-ins that bind the agent to a broker's unit load with the shipped unit, as
/// `systemd-analyze verify` reads them (skipped where systemd is not installed).
#[test]
fn systemd_drop_ins_bind_the_agent_to_each_broker_unit() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::fs::read_to_string(here.join("support-metrics-agent.service")).unwrap();
    for broker in ["kafka", "confluent-server", "confluent-kafka"] {
        let dir = scratch_dir(&format!("cli-dropin-{broker}"));
        let exec = BIN.as_str();
        std::fs::write(
            dir.join("support-metrics-agent.service"),
            unit.replace("/usr/local/bin/support-metrics-agent", exec),
        )
        .unwrap();
        let drop_in = format!("bind-to-{broker}.conf");
        let text = std::fs::read_to_string(here.join("systemd").join(&drop_in)).unwrap();
        assert!(
            text.contains(&format!("BindsTo={broker}.service"))
                && text.contains(&format!("After={broker}.service"))
                && text.contains(&format!("systemctl add-wants {broker}.service")),
            "{text}"
        );
        std::fs::create_dir_all(dir.join("support-metrics-agent.service.d")).unwrap();
        std::fs::write(
            dir.join("support-metrics-agent.service.d").join(&drop_in),
            text,
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{broker}.service")),
            "[Unit]\nDescription=a broker\n[Service]\nExecStart=/bin/true\n",
        )
        .unwrap();
        if let Some(Err(said)) = systemd::verify(&dir, "support-metrics-agent.service") {
            panic!("{broker}: {said}");
        }
    }
}

/// The shipped unit is hardened: `systemd-analyze security --offline=yes` rates its exposure
/// "OK" (at most 2.0). Skipped where systemd is not installed.
#[test]
fn systemd_unit_exposure_is_ok() {
    let unit = concat!(env!("CARGO_MANIFEST_DIR"), "/support-metrics-agent.service");
    if let Some(score) = systemd::exposure(std::path::Path::new(unit)) {
        assert!(score <= 2.0, "exposure {score}");
    }
}

/// Man pages for every command and subcommand, and completions for bash, zsh and fish, come
/// from the clap definitions (what packaging installs).
#[test]
fn man_pages_and_completions_generate() {
    let dir = scratch_dir("cli-docs");
    let out = agent(&["generate-docs", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let completions = generated_docs(
        &dir,
        "support-metrics-agent",
        &[
            "run", "once", "preview", "config", "history", "status", "demo",
        ],
    );
    for text in completions {
        assert!(text.contains("history"), "{text}");
    }
    // Hidden from --help: it is for packaging.
    let help = String::from_utf8(agent(&["--help"]).stdout).unwrap();
    assert!(!help.contains("generate-docs"), "{help}");
}

/// Where systemd runs (PID 1, and we are root), the shipped unit, hardening and all, runs
/// `once` and the record reaches a loopback endpoint. Only ExecStart (a copy of this build,
/// outside the PrivateTmp /tmp) and User/Group (root: no kafka user on a test host) change.
/// Skipped elsewhere, with the reason.
#[test]
fn the_agent_runs_under_the_unit_where_systemd_runs() {
    let uid = Command::new("id").arg("-u").output().map(|o| o.stdout);
    if !Path::new("/run/systemd/system").is_dir() || uid.as_deref().ok() != Some(b"0\n") {
        eprintln!(
            "SKIPPED: systemd is not running here (or not as root): the unit cannot be started"
        );
        return;
    }
    let server = support_metrics_tests::servers::TestServer::http();
    let pid = std::process::id();
    let dir = PathBuf::from(format!("/run/support-metrics-test-{pid}"));
    std::fs::create_dir_all(&dir).unwrap();
    let agent = dir.join("support-metrics-agent");
    std::fs::copy(&*BIN, &agent).unwrap();
    let config = dir.join("server.properties");
    std::fs::write(
        &config,
        format!(
            "broker.id=0\nconfluent.support.metrics.topic=\nconfluent.support.metrics.endpoint.secure=\n\
             confluent.support.metrics.endpoint.insecure={}\n",
            server.url("/anon")
        ),
    )
    .unwrap();
    let name = format!("support-metrics-agent-test-{pid}.service");
    let unit_path = PathBuf::from("/run/systemd/system").join(&name);
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit: String = std::fs::read_to_string(here.join("support-metrics-agent.service"))
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("ExecStart=") {
                format!(
                    "ExecStart={} once --config {} --broker-watch none",
                    agent.display(),
                    config.display()
                )
            } else if l.starts_with("User=") {
                "User=root".to_owned()
            } else if l.starts_with("Group=") {
                "Group=root".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&unit_path, unit).unwrap();
    let systemctl = |args: &[&str]| Command::new("systemctl").args(args).output().unwrap();
    systemctl(&["daemon-reload"]);
    assert!(systemctl(&["start", &name]).status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let state = loop {
        let out = systemctl(&["show", "-p", "ActiveState", "--value", &name]);
        let state = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if state == "inactive" || state == "failed" || std::time::Instant::now() > deadline {
            break state;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let status = systemctl(&["show", "-p", "ExecMainStatus", "--value", &name]);
    let journal = Command::new("journalctl")
        .args(["-u", &name, "--no-pager", "-o", "cat"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    systemctl(&["reset-failed", &name]);
    let _ = std::fs::remove_file(&unit_path);
    systemctl(&["daemon-reload"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(state, "inactive", "{journal}");
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "0",
        "{journal}"
    );
    assert_eq!(server.count(), 1, "{journal}");
}
