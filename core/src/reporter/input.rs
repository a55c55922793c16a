//! Everything the shell tells the reporter. Every variant carries the monotonic `now`.

use crate::time::Instant;

use super::config::ReporterConfig;
use super::output::{RecordId, Target};
use super::sinks::Sinks;

/// One event from the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Input<'a> {
    /// The agent started. `entropy` becomes the broker token; `seed` drives all jitter.
    Start {
        /// Now.
        now: Instant,
        /// The settings.
        config: &'a ReporterConfig,
        /// 16 random bytes from the OS, for the broker token.
        entropy: [u8; 16],
        /// Seed for jitter and backoff.
        seed: u64,
    },
    /// A record left in the spool by an earlier run, still pending for `pending`. Feed every
    /// one right after `Start`, before answering the first `Output::Collect` (which may come
    /// in the very first drain): afterwards it is `UsageError::SpoolAfterCollect`, because
    /// new records take ids after the highest spooled one.
    Spooled {
        /// Now.
        now: Instant,
        /// The id the earlier run gave it.
        id: RecordId,
        /// The sinks that had not taken it.
        pending: Sinks,
    },
    /// A timer the reporter asked for (or any wake-up; early ones are harmless).
    Timer {
        /// Now.
        now: Instant,
    },
    /// The facts asked for by [`Output::Collect`](super::Output::Collect).
    Collected {
        /// Now.
        now: Instant,
        /// Wall-clock time for the record's `timestamp`, in seconds since the Unix epoch.
        unix_time_secs: u64,
        /// What the shell found.
        facts: Facts<'a>,
    },
    /// The answer to a topic [`Output::Transmit`](super::Output::Transmit).
    TopicResult {
        /// Now.
        now: Instant,
        /// The record.
        id: RecordId,
        /// What the producer said.
        result: TopicResult,
    },
    /// The answer to an HTTP [`Output::Transmit`](super::Output::Transmit).
    HttpResult {
        /// Now.
        now: Instant,
        /// The record.
        id: RecordId,
        /// Which endpoint was posted to.
        target: Target,
        /// What came back.
        result: HttpResult,
    },
    /// SIGTERM or similar: send the final report within the grace period, then stop.
    Shutdown {
        /// Now.
        now: Instant,
    },
}

impl Input<'_> {
    /// The time the input carries.
    pub fn now(&self) -> Instant {
        match *self {
            Input::Start { now, .. }
            | Input::Spooled { now, .. }
            | Input::Timer { now }
            | Input::Collected { now, .. }
            | Input::TopicResult { now, .. }
            | Input::HttpResult { now, .. }
            | Input::Shutdown { now } => now,
        }
    }
}

/// The facts of one record, collected by the shell.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Facts<'a> {
    /// Version of the Kafka installation, or `unknown` (at most 64 bytes).
    pub kafka_version: &'a str,
    /// Version of support-metrics (at most 64 bytes).
    pub platform_version: &'a str,
}

impl<'a> Facts<'a> {
    /// The anonymous facts.
    pub const fn new(kafka_version: &'a str, platform_version: &'a str) -> Self {
        Facts {
            kafka_version,
            platform_version,
        }
    }
}

/// What the Kafka producer reported for one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TopicResult {
    /// Acknowledged by the cluster.
    Delivered,
    /// Failed, but may work later (broker down, timeout, not enough replicas).
    Retriable,
    /// Failed in a way that needs an operator (authorization, record too large): retried
    /// only once per interval.
    Fatal,
}

/// What one HTTP POST gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HttpResult {
    /// A response arrived with this status; only 2xx is success.
    Status(u16),
    /// No response.
    Transport(TransportError),
}

/// Why a POST got no response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransportError {
    /// Name resolution or TCP connect failed (includes the proxy).
    Connect,
    /// TLS handshake failed, e.g. a certificate nobody trusts.
    Tls,
    /// No answer in time.
    Timeout,
    /// Anything else (reset connection, malformed response).
    Other,
}
