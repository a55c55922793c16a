//! What the daemon last saw, for `support-metrics-agent status`: `status.json` in the spool
//! directory, rewritten (temp file, rename) when the next report is scheduled and after each
//! attempt of a sink. Times are seconds since the Unix epoch.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::utc::rfc3339_secs;

/// The file's name in the spool directory.
pub const STATUS_FILE: &str = "status.json";

/// The sinks' names in the file, in target order (topic, HTTPS, HTTP).
pub const TARGETS: [&str; 3] = ["topic", "https", "http"];

/// One sink's last outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStatus {
    /// When it last took a record.
    pub last_success: Option<u64>,
    /// When it last failed, and why in words.
    pub last_error: Option<(u64, String)>,
}

/// The daemon's state as last written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// When the next report is due.
    pub next_report_due: Option<u64>,
    /// Per target, in [`TARGETS`] order.
    pub sinks: [SinkStatus; 3],
}

impl Status {
    /// As JSON: times in RFC 3339.
    pub fn to_json(&self) -> Value {
        let time = |t: Option<u64>| t.and_then(rfc3339_secs);
        let sinks: Map<String, Value> = TARGETS
            .iter()
            .zip(&self.sinks)
            .map(|(name, s)| {
                (
                    (*name).to_owned(),
                    json!({
                        "lastSuccess": time(s.last_success),
                        "lastErrorAt": time(s.last_error.as_ref().map(|e| e.0)),
                        "lastError": s.last_error.as_ref().map(|e| e.1.clone()),
                    }),
                )
            })
            .collect();
        json!({ "nextReportDue": time(self.next_report_due), "sinks": sinks })
    }

    /// Writes it to `dir` (no fsync: losing it in a crash loses only a display).
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let mut raw = self.to_json();
        raw["unix"] = json!({
            "nextReportDue": self.next_report_due,
            "lastSuccess": self.sinks.iter().map(|s| s.last_success).collect::<Vec<_>>(),
            "lastErrorAt": self.sinks.iter().map(|s| s.last_error.as_ref().map(|e| e.0)).collect::<Vec<_>>(),
        });
        let temp = dir.join(format!(".support-metrics-status-{}", std::process::id()));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temp)?;
        f.write_all(raw.to_string().as_bytes())?;
        drop(f);
        fs::rename(&temp, dir.join(STATUS_FILE))
    }

    /// Reads it from `dir`; `None` when missing or not ours.
    pub fn load(dir: &Path) -> Option<Status> {
        let bytes = crate::properties_file::read_bounded(&dir.join(STATUS_FILE)).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        let unix = v.get("unix")?;
        let at = |key: &str, i: usize| unix.get(key)?.get(i)?.as_u64();
        let mut status = Status {
            next_report_due: unix.get("nextReportDue").and_then(Value::as_u64),
            ..Status::default()
        };
        for (i, name) in TARGETS.iter().enumerate() {
            let sink = v.get("sinks")?.get(name)?;
            status.sinks[i] = SinkStatus {
                last_success: at("lastSuccess", i),
                last_error: at("lastErrorAt", i).zip(
                    sink.get("lastError")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                ),
            };
        }
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_and_loaded() {
        let dir = std::env::temp_dir().join(format!("sm-status-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(Status::load(&dir), None);
        let mut s = Status {
            next_report_due: Some(1_800_000_000),
            ..Status::default()
        };
        s.sinks[0].last_success = Some(1_799_999_000);
        s.sinks[1].last_error = Some((1_799_999_500, "cannot connect: POST x: refused".into()));
        s.save(&dir).unwrap();
        assert_eq!(Status::load(&dir), Some(s.clone()));
        assert_eq!(
            s.to_json()["sinks"]["https"]["lastError"],
            "cannot connect: POST x: refused"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
