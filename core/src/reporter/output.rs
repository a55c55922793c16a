//! Everything the reporter asks of the shell, and the errors of misuse.

use core::fmt;

use crate::time::{Duration, Instant};
use crate::token::BrokerToken;
use crate::wire::CollectorState;

use super::vocab::{Failure, RecordId, Sink, Sinks, Target};

/// One instruction for the shell. After any `handle_input`, poll until `Timeout` or
/// `Stopped`.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Output {
    /// Collect the facts now and answer with `Input::Collected` (after this drain).
    Collect,
    /// Change the persistent spool.
    Spool(SpoolOp),
    /// Send record `id` (its bytes are in the spool) to `target`; answer with the result.
    /// The shell must bound the attempt in time and always answer.
    Transmit {
        /// The record.
        id: RecordId,
        /// Where to send it.
        target: Target,
        /// The token of the run that made the record, the topic message's key (`None` for a
        /// spooled record whose token was not known).
        key: Option<BrokerToken>,
    },
    /// Something to log or count.
    Event(Event),
    /// Nothing more to do until this instant: sleep, then send `Input::Timer`.
    Timeout(Instant),
    /// The reporter has finished (shut down, disabled, or its one cycle is over); the shell
    /// may exit.
    Stopped,
}

/// A change to the persistent spool. Every record is written before it is first sent, so a
/// crash never loses one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SpoolOp {
    /// Store the record whose `len` bytes were written into the poll buffer, pending for
    /// `pending`. Make it durable (temp file, fsync, rename).
    Write {
        /// The record.
        id: RecordId,
        /// Sinks that have not taken it.
        pending: Sinks,
        /// Bytes of the encoded record at the start of the buffer.
        len: usize,
    },
    /// Some sinks have taken the record (`pending` remain), or a sink refused it for good
    /// once more: store both.
    Update {
        /// The record.
        id: RecordId,
        /// Sinks that have not taken it.
        pending: Sinks,
        /// Permanent refusals so far.
        rejections: u8,
    },
    /// Delete the record.
    Remove {
        /// The record.
        id: RecordId,
        /// Why; `DroppedByCap` deserves a warning.
        reason: RemoveReason,
    },
}

/// Why a record leaves the spool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RemoveReason {
    /// Every sink took it.
    Delivered,
    /// The spool was full; this was the oldest record. Lost: log it as a warning.
    DroppedByCap,
    /// Found from an earlier run, but none of its pending sinks is enabled any more (for
    /// example HTTP under DO_NOT_TRACK, or reporting turned off).
    SinksDisabled,
    /// Refused for good [`MAX_REJECTIONS`](super::MAX_REJECTIONS) times (HTTP 4xx other than
    /// 408/429, a non-retriable topic error): not sent again. Move it aside with a warning,
    /// so an operator can look at it.
    Rejected,
}

/// How loud an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Level {
    /// Repeats and details.
    Debug,
    /// Normal operation.
    Info,
    /// Something failed or was lost.
    Warn,
    /// Something needs an operator.
    Error,
}

/// Why the reporter stopped at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DisabledReason {
    /// `confluent.support.metrics.enable=false`.
    Disabled,
    /// No topic and no endpoint.
    NoSinks,
    /// No topic, and DO_NOT_TRACK forbids HTTP.
    DoNotTrack,
}

/// Something for the operator's log; [`level`](Self::level) says how loud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// Reporting to `sinks`; the first report is due at `first_report`.
    Started {
        /// Sinks in use.
        sinks: Sinks,
        /// When the first report is due.
        first_report: Instant,
    },
    /// Nothing will be reported; the reporter stops.
    Disabled {
        /// Why.
        reason: DisabledReason,
    },
    /// A record was made.
    Collected {
        /// The record.
        id: RecordId,
        /// Running, or the final report.
        state: CollectorState,
    },
    /// A sink took a record.
    Delivered {
        /// The record.
        id: RecordId,
        /// Where it went.
        target: Target,
    },
    /// The HTTPS endpoint failed; the same record goes to the HTTP endpoint now.
    FellBack {
        /// The record.
        id: RecordId,
        /// What went wrong with HTTPS.
        failure: Failure,
        /// Same failure as the previous fallback: logged quietly.
        repeated: bool,
    },
    /// A delivery attempt failed; the record stays in the spool.
    Failed {
        /// The record.
        id: RecordId,
        /// The last target tried.
        target: Target,
        /// What went wrong.
        failure: Failure,
        /// When the sink will be tried again.
        retry_in: Duration,
        /// Same failure as the previous one on this sink: logged quietly.
        repeated: bool,
    },
    /// The shell could not store a record: it is sent from memory in this run only.
    NotDurable {
        /// The record.
        id: RecordId,
    },
    /// A sink works again after failures.
    Recovered {
        /// The sink.
        sink: Sink,
    },
    /// The shutdown grace period ended before the final report was settled everywhere.
    ShutdownIncomplete {
        /// Sinks that did not confirm the final record.
        unconfirmed: Sinks,
    },
}

impl Event {
    /// How loud to log it. Repeated identical failures drop to `Debug`; reporting being off
    /// is the operator's choice, not a warning.
    pub fn level(&self) -> Level {
        match *self {
            Event::Started { .. } | Event::Collected { .. } | Event::Delivered { .. } => {
                Level::Info
            }
            Event::Recovered { .. } | Event::Disabled { .. } => Level::Info,
            Event::ShutdownIncomplete { .. } => Level::Warn,
            Event::NotDurable { .. } => Level::Error,
            Event::FellBack { repeated: true, .. } | Event::Failed { repeated: true, .. } => {
                Level::Debug
            }
            Event::FellBack { .. } => Level::Warn,
            Event::Failed { failure, .. } if failure.is_fatal() => Level::Error,
            Event::Failed { .. } => Level::Warn,
        }
    }
}

/// The poll buffer cannot hold the record to write; call again with at least `required`
/// bytes. Nothing is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// Bytes that are enough (for a poll: room for any anonymous record).
    pub required: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "poll buffer too small: {} bytes needed", self.required)
    }
}

impl core::error::Error for BufferTooSmall {}

/// The shell broke the reporter's contract; the input was ignored.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UsageError {
    /// `now` is earlier than a previous input's.
    TimeWentBackwards,
    /// The previous `handle_input` was not followed by polling until `Timeout`.
    NotDrained,
    /// Any input after `Output::Stopped`.
    Stopped,
    /// `Collected` without an `Output::Collect` asking for it.
    NotCollecting,
    /// A fact longer than 64 bytes.
    FactTooLong,
    /// A result for a transmit that is not in flight.
    NotInFlight,
    /// `Spooled` after the first record was collected.
    SpoolAfterCollect,
    /// `Spooled` with an id already known.
    DuplicateRecord,
    /// `Spooled` with an id of 0 or above `RecordId::MAX`.
    BadRecordId,
    /// `WriteFailed` for a record that is not waiting for its first delivery.
    NotWritten,
    /// `BrokerUp` while the broker is up, or `BrokerDown` while it is down.
    BrokerState,
    /// A customer record for a config whose customer ID is anonymous.
    NotACustomer,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UsageError::TimeWentBackwards => "time went backwards",
            UsageError::NotDrained => "poll_output was not drained to Timeout",
            UsageError::Stopped => "input after Stopped",
            UsageError::NotCollecting => "Collected without a Collect request",
            UsageError::FactTooLong => "a fact is longer than 64 bytes",
            UsageError::NotInFlight => "result for a transmit that is not in flight",
            UsageError::SpoolAfterCollect => "Spooled after the first Collected",
            UsageError::DuplicateRecord => "Spooled with a known record id",
            UsageError::BadRecordId => "Spooled with a record id out of range",
            UsageError::NotWritten => "WriteFailed for a record the reporter did not write",
            UsageError::BrokerState => {
                "BrokerUp or BrokerDown that does not change the broker's state"
            }
            UsageError::NotACustomer => "customer facts for an anonymous config",
        })
    }
}

impl core::error::Error for UsageError {}

/// Why `handle_collected_customer` refused; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CollectError {
    /// The contract was broken.
    Usage(UsageError),
    /// The buffer cannot hold the record.
    BufferTooSmall(BufferTooSmall),
}

impl From<BufferTooSmall> for CollectError {
    fn from(e: BufferTooSmall) -> Self {
        CollectError::BufferTooSmall(e)
    }
}

impl From<UsageError> for CollectError {
    fn from(e: UsageError) -> Self {
        CollectError::Usage(e)
    }
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectError::Usage(e) => e.fmt(f),
            CollectError::BufferTooSmall(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for CollectError {}
