//! A small logger to stderr: one line per event, a level, no secrets (callers redact).
//! `SUPPORT_METRICS_LOG=debug|info|warn|error` sets the threshold (default `info`).

use std::io::Write;

use support_metrics_core::reporter::Level;

/// Writes lines at or above a threshold to stderr.
#[derive(Clone, Copy, Debug)]
pub struct Log {
    threshold: Level,
}

impl Log {
    /// The threshold from `SUPPORT_METRICS_LOG`, default `info`.
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
        Log { threshold }
    }

    /// Logs `text` at `level`.
    pub fn at(&self, level: Level, text: &str) {
        if level < self.threshold {
            return;
        }
        let tag = match level {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        };
        let _ = writeln!(
            std::io::stderr().lock(),
            "support-metrics-agent {tag} {text}"
        );
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
