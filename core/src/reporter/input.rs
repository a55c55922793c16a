//! Everything the shell tells the reporter. Every variant carries the monotonic `now`.

use crate::time::Instant;
use crate::token::BrokerToken;

use super::vocab::{HttpResult, RecordId, Sinks, Target, TopicResult};

/// One event from the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Input<'a> {
    /// A record left in the spool by an earlier run, still pending for `pending`. Feed every
    /// one right after [`Reporter::new`](super::Reporter::new), before answering the first
    /// `Output::Collect` (which may come in the very first drain): afterwards it is
    /// `UsageError::SpoolAfterCollect`, because new records take ids after the highest
    /// spooled one.
    Spooled {
        /// Now.
        now: Instant,
        /// The id the earlier run gave it.
        id: RecordId,
        /// The sinks that had not taken it.
        pending: Sinks,
        /// The token of the run that made it (its `brokerProcessUUID`, see
        /// [`wire::check_record`](crate::wire::check_record)): the topic message's key.
        token: Option<BrokerToken>,
        /// How often a sink has refused it for good (see
        /// [`MAX_REJECTIONS`](super::MAX_REJECTIONS)), as the spool kept it.
        rejections: u8,
    },
    /// The shell could not store the record of a `SpoolOp::Write` (full or read-only disk).
    /// The record is still sent from the shell's memory in this run, but it is not durable:
    /// feed this right after the drain in which the write failed.
    WriteFailed {
        /// Now.
        now: Instant,
        /// The record.
        id: RecordId,
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
    /// The broker came up (a new broker process, with
    /// [`ReporterConfig::watch_broker`](super::ReporterConfig::watch_broker)): `entropy` is
    /// its token. Reports start after the settling time. Only while the broker is down.
    BrokerUp {
        /// Now.
        now: Instant,
        /// 16 random bytes for the new broker token (see the shell for how they are made).
        entropy: [u8; 16],
    },
    /// The broker stopped: its final record (`collectorState` 1) goes out within the grace
    /// period, then no reports until `BrokerUp`. Only while the broker is up.
    BrokerDown {
        /// Now.
        now: Instant,
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
            Input::Spooled { now, .. }
            | Input::WriteFailed { now, .. }
            | Input::BrokerUp { now, .. }
            | Input::BrokerDown { now }
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
    /// The Kafka version the broker reports, or `unknown` (at most 64 bytes).
    pub kafka_version: &'a str,
    /// The Confluent Platform release the broker runs, `None` for a broker that is not
    /// Confluent Platform (at most 64 bytes).
    pub platform_version: Option<&'a str>,
}

impl<'a> Facts<'a> {
    /// The anonymous facts.
    pub const fn new(kafka_version: &'a str, platform_version: Option<&'a str>) -> Self {
        Facts {
            kafka_version,
            platform_version,
        }
    }
}
