//! What the agent's end-to-end tests share: a site (a config and a spool in a scratch
//! directory), running the real binary, and reading what it said.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use support_metrics_tests::scratch_dir;

/// The agent under test: this build's, or the one `SUPPORT_METRICS_AGENT_BIN` names (`ci/dist`
/// runs the suite against the shipped static binary).
pub(crate) static BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::var("SUPPORT_METRICS_AGENT_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_support-metrics-agent").to_owned())
});

pub(crate) struct Site {
    pub(crate) dir: PathBuf,
    pub(crate) config: PathBuf,
}

impl Site {
    /// A config with the topic off, the spool in the scratch directory, and `settings`.
    pub(crate) fn new(name: &str, settings: &str) -> Site {
        let dir = scratch_dir(name);
        let spool = dir.join("spool");
        Site::with_spool(dir, &spool, settings)
    }

    /// The same, with the spool at `spool`.
    pub(crate) fn with_spool(dir: PathBuf, spool: &std::path::Path, settings: &str) -> Site {
        let config = dir.join("server.properties");
        let text = format!(
            "broker.id=0\nconfluent.support.metrics.topic=\nconfluent.support.metrics.spool.dir={}\n{settings}",
            spool.display()
        );
        std::fs::write(&config, text).unwrap();
        Site { dir, config }
    }

    pub(crate) fn spool(&self) -> PathBuf {
        self.dir.join("spool")
    }

    pub(crate) fn command(&self, verb: &str) -> Command {
        let mut c = Command::new(&*BIN);
        c.args([verb, "--config", self.config.to_str().unwrap()]);
        if verb != "config" {
            // No broker process in these tests: the agent's run is the broker's.
            c.args(["--broker-watch", "none"]);
        }
        c.env("SUPPORT_METRICS_LOG", "debug")
            .env_remove("DO_NOT_TRACK")
            .env_remove("SSL_CERT_FILE")
            .env_remove("NO_PROXY");
        c
    }

    pub(crate) fn once(&self) -> Output {
        self.command("once").output().expect("run agent")
    }

    /// Record files in the spool.
    pub(crate) fn spooled(&self) -> usize {
        std::fs::read_dir(self.spool()).map_or(0, |d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("record-")
            })
            .count()
        })
    }
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
pub(crate) fn exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A record body: exactly the five keys, state `state`.
#[track_caller]
pub(crate) fn five_keys(body: &[u8], state: u64) -> Value {
    let v: Value = serde_json::from_slice(body).expect("JSON body");
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "brokerProcessUUID",
            "collectorState",
            "confluentPlatformVersion",
            "kafkaVersion",
            "timestamp"
        ]
    );
    assert_eq!(v["collectorState"], state);
    v
}
