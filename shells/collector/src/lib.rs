//! The support-metrics collector: receives the agents' records over HTTP, from bundles and
//! from a topic, stores each once (SQLite or PostgreSQL) and shows the fleet.
//!
//! Records are checked by the core's decoder, the one the agent's spool and the bundle tool
//! use, so what the agent sends and what the collector accepts agree by construction.

pub mod advisories;
pub mod consume;
pub mod files;
pub mod fleet;
pub mod import;
pub mod network;
pub mod page;
pub mod record;
pub mod server;
pub mod store;
pub mod tls;
pub mod writer;

/// Writes one log line to standard error, `support-metrics-collector LEVEL text`, with the
/// control characters of `text` escaped: it may carry a database server's, a broker's or a
/// file's words, and a line break or a terminal's escape sequence must not act on the reader.
pub fn log(level: &str, text: &str) {
    eprintln!(
        "support-metrics-collector {level} {}",
        support_metrics_linux::log::printable(text)
    );
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
