//! A small logger to stderr: one line per event, a level, no secrets (callers redact).
//! `SUPPORT_METRICS_LOG=debug|info|warn|error` sets the threshold (default `info`).
//!
//! Under systemd (`JOURNAL_STREAM` set: stderr goes to the journal) each line starts with its
//! syslog priority, `<4>` for a warning, so `journalctl -p warning` finds it, and carries no
//! time (the journal stamps it). Elsewhere each line starts with an RFC 3339 UTC timestamp.

use std::io::Write;
use std::time::SystemTime;

use support_metrics_core::reporter::Level;

use crate::utc::rfc3339_millis;

/// Writes lines at or above a threshold to stderr.
#[derive(Clone, Copy, Debug)]
pub struct Log {
    threshold: Level,
    journal: bool,
}

impl Log {
    /// The threshold from `SUPPORT_METRICS_LOG`, default `info`; the journal's line format
    /// when `JOURNAL_STREAM` is set.
    pub fn from_env() -> Log {
        let threshold = match std::env::var("SUPPORT_METRICS_LOG")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Ok("debug") => Level::Debug,
            Ok("warn") => Level::Warn,
            Ok("error") => Level::Error,
            _ => Level::Info,
        };
        let journal = std::env::var_os("JOURNAL_STREAM").is_some_and(|v| !v.is_empty());
        Log { threshold, journal }
    }

    /// The line for `text` at `level`, as written.
    pub fn line(&self, level: Level, text: &str) -> String {
        let (tag, priority) = match level {
            Level::Debug => ("DEBUG", 7),
            Level::Info => ("INFO", 6),
            Level::Warn => ("WARN", 4),
            Level::Error => ("ERROR", 3),
        };
        if self.journal {
            format!("<{priority}>support-metrics-agent {tag} {text}")
        } else {
            format!(
                "{} support-metrics-agent {tag} {text}",
                rfc3339_millis(SystemTime::now())
            )
        }
    }

    /// Logs `text` at `level`.
    pub fn at(&self, level: Level, text: &str) {
        if level < self.threshold {
            return;
        }
        let line = self.line(level, text);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    /// Debug.
    pub fn debug(&self, text: &str) {
        self.at(Level::Debug, text);
    }

    /// Info.
    pub fn info(&self, text: &str) {
        self.at(Level::Info, text);
    }

    /// Warning.
    pub fn warn(&self, text: &str) {
        self.at(Level::Warn, text);
    }

    /// Error.
    pub fn error(&self, text: &str) {
        self.at(Level::Error, text);
    }
}

/// `1 record`, `2 records`: counts in words for log lines and messages.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
