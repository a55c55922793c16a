//! What packaging ships beside the binary: the systemd unit (it loads, it is hardened, its
//! command line serves and stops cleanly on the unit's stop signal) and the man pages and
//! completions generated from the command line's definition.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{anon, now, token, Collector, BIN};
use support_metrics_tests::{generated_docs, scratch_dir, systemd};

const UNIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/support-metrics-collector.service"
);

fn unit() -> String {
    std::fs::read_to_string(UNIT).unwrap()
}

/// The value of `key=` in the unit (its last one).
fn setting<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .next_back()
        .unwrap_or_else(|| panic!("no {key}= in the unit"))
}

#[test]
fn systemd_unit_loads_and_is_hardened() {
    let dir = scratch_dir("systemd-verify");
    std::fs::write(
        dir.join("support-metrics-collector.service"),
        unit().replace("/usr/local/bin/support-metrics-collector", &BIN),
    )
    .unwrap();
    if let Some(Err(said)) = systemd::verify(&dir, "support-metrics-collector.service") {
        panic!("{said}");
    }
    if let Some(score) = systemd::exposure(Path::new(UNIT)) {
        assert!(score <= 2.0, "exposure {score}");
    }
}

/// The unit's own command line (its database moved from the StateDirectory to a scratch
/// directory, any free port for 8080): it serves, keeps the database where the unit's
/// StateDirectory is, and exits 0 on the unit's KillSignal within its TimeoutStopSec.
#[test]
fn systemd_unit_command_line_serves_and_stops() {
    let unit = unit();
    let state = format!("/var/lib/{}/", setting(&unit, "StateDirectory"));
    let exec = setting(&unit, "ExecStart");
    assert!(
        exec.contains(&format!("--database sqlite:{state}")),
        "the database is not in the StateDirectory {state}: {exec}"
    );
    assert_eq!(setting(&unit, "KillSignal"), "SIGTERM");
    let stop: u64 = setting(&unit, "TimeoutStopSec").parse().unwrap();

    let dir = scratch_dir("systemd-exec");
    let moved = exec
        .replace(&state, &format!("{}/", dir.display()))
        .replace("127.0.0.1:8080", "127.0.0.1:0");
    let mut words = moved.split_whitespace();
    assert_eq!(
        words.next(),
        Some("/usr/local/bin/support-metrics-collector")
    );
    let args: Vec<&str> = words.collect();
    let mut c = Collector::spawn(&args, &dir);
    assert_eq!(c.get("/healthz").0, 200);
    assert_eq!(
        c.post("/anon", anon(&token(7), now(), "3.7.0").as_bytes())
            .0,
        200
    );
    assert!(dir.join("collector.db").is_file());
    assert_eq!(c.terminate(Duration::from_secs(stop)).code(), Some(0));
}

/// Man pages for the command and each subcommand, and completions for bash, zsh and fish,
/// come from the clap definitions (what packaging installs).
#[test]
fn man_pages_and_completions_generate() {
    let dir = scratch_dir("systemd-docs");
    let out = std::process::Command::new(BIN.as_str())
        .arg("generate-docs")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let completions = generated_docs(
        &dir,
        "support-metrics-collector",
        &["serve", "import", "consume", "report"],
    );
    for text in completions {
        assert!(text.contains("consume"), "{text}");
    }
    assert!(!dir
        .join("man/man1/support-metrics-collector-generate-docs.1")
        .exists());
    // An unwritable place is one line and exit 73.
    let out = std::process::Command::new(BIN.as_str())
        .args(["generate-docs", "/proc/version/docs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(73));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}
