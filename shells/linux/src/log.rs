//! A small logger to stderr: one line per event, a level, no secrets (callers redact).
//! `SUPPORT_METRICS_LOG=debug|info|warn|error` sets the threshold (default `info`).
//!
//! Under systemd (`JOURNAL_STREAM` set: stderr goes to the journal) each line starts with its
//! syslog priority, `<4>` for a warning, so `journalctl -p warning` finds it, and carries no
//! time (the journal stamps it). Elsewhere each line starts with an RFC 3339 UTC timestamp.

use std::borrow::Cow;
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

    /// The line for `text` at `level`, as written: one line, whatever `text` holds (see
    /// [`printable`]).
    pub fn line(&self, level: Level, text: &str) -> String {
        let text = printable(text);
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

/// `text` with every control character written as an escape (`\n`, `\u{1b}`, ...). Lines
/// carry text from elsewhere (the vendor's answer, librdkafka's errors, a config file's
/// keys): a line break in it would forge a log line of its own, and a terminal's escape
/// sequences would act on whoever reads the log.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `1 record`, `2 records`: counts in words for log lines and messages.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert!(matches!(
            printable("Grüße, 3.7.0"),
            Cow::Borrowed("Grüße, 3.7.0")
        ));
        // C0 (line breaks, tab, ESC), DEL, and C1 (U+009B is a one-character CSI).
        assert_eq!(
            printable("a\r\nb\tc\u{1b}[2J\u{7f}\u{9b}m"),
            r"a\r\nb\tc\u{1b}[2J\u{7f}\u{9b}m"
        );
    }
}
