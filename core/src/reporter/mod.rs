//! The reporter: everything the agent decides, as a deterministic state machine.
//!
//! The shell builds the reporter with [`Reporter::new`] and drains it: it calls
//! [`Reporter::poll_output`] until it returns [`Output::Timeout`] (or [`Output::Stopped`]),
//! acting on each output. Then it feeds [`Input`]s with [`Reporter::handle_input`], draining
//! after each. It sleeps until the timeout (or until a result or signal arrives)
//! and feeds `Input::Timer`. Breaking that contract returns a [`UsageError`] and changes
//! nothing.
//!
//! ```
//! use support_metrics_core::config::SupportConfig;
//! use support_metrics_core::reporter::*;
//! use support_metrics_core::time::{Duration, Instant};
//!
//! let config = ReporterConfig::new(&SupportConfig::default(), Run::default());
//! let mut now = Instant::from_millis(0);
//! // 16 random bytes for the broker token and a seed for jitter, from the OS.
//! let mut reporter = Reporter::new(now, &config, [7; 16], 1);
//! let mut buf = [0u8; 512];
//! let mut collect = false;
//! for _ in 0..100 {
//!     // Drain: act on every output until the reporter says when to wake up.
//!     let wake = loop {
//!         match reporter.poll_output(&mut buf).unwrap() {
//!             Output::Collect => collect = true,
//!             Output::Spool(SpoolOp::Write { len, .. }) => { /* store &buf[..len] durably */ }
//!             Output::Spool(_) => { /* update or delete the stored record */ }
//!             Output::Transmit { .. } => { /* send it, later feed TopicResult/HttpResult */ }
//!             Output::Event(event) => { /* log at event.level() */ }
//!             Output::Timeout(at) => break Some(at),
//!             Output::Stopped => break None,
//!         }
//!     };
//!     let Some(wake) = wake else { break };
//!     if collect {
//!         collect = false;
//!         let facts = Facts::new("3.7.0", Some("0.1.0"));
//!         reporter.handle_input(Input::Collected { now, unix_time_secs: 1_764_000_000, facts }).unwrap();
//!         continue;
//!     }
//!     now = wake.min(now + Duration::from_secs(60));
//!     reporter.handle_input(Input::Timer { now }).unwrap();
//! #   if now > Instant::from_millis(60_000) { break; }
//! }
//! assert_eq!(reporter.pending_records(), 1); // written, transmits awaiting results
//! ```

mod collect;
mod config;
mod delivery;
mod input;
mod lifecycle;
mod output;
mod table;
mod transmit;
mod vocab;

pub use config::{ReporterConfig, Run, RunMode, SPOOL_CAPACITY};
pub use input::{Facts, Input};
pub use output::{
    BufferTooSmall, CollectError, DisabledReason, Event, Level, Output, RemoveReason, SpoolOp,
    UsageError,
};
pub use vocab::{Failure, HttpResult, RecordId, Sink, Sinks, Target, TopicResult, TransportError};

use heapless::{Deque, String};

use crate::rand::Rng;
use crate::time::{Duration, Instant};
use crate::token::BrokerToken;
use crate::wire::{CollectorState, MAX_VERSION_LEN};

use delivery::Delivery;
use table::Table;

/// Events one input can queue, with room to spare.
const EVENTS: usize = 8;

/// Permanent refusals (HTTP 4xx other than 408/429, a non-retriable topic error) after which
/// a record is not sent again but moved aside (`RemoveReason::Rejected`).
pub const MAX_REJECTIONS: u8 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The broker is down: no reports (records still pending are still delivered).
    Waiting,
    Running,
    /// The final record of a broker run is being sent; then `Stopped` (the agent stops) or
    /// `Waiting` (the broker stopped).
    Final {
        deadline: Instant,
        stop: bool,
    },
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Collect {
    Idle,
    /// `Output::Collect` is due for a record in this state.
    Requested(CollectorState),
    /// `Output::Collect` was returned; `Input::Collected` is awaited.
    Asked(CollectorState),
}

/// The Proactive Support reporter. See the [module docs](self) for the run loop.
#[derive(Clone, Debug)]
pub struct Reporter {
    phase: Phase,
    now: Instant,
    undrained: bool,
    config: ReporterConfig,
    sinks: Sinks,
    token: BrokerToken,
    rng: Rng,
    next_report: Instant,
    collect: Collect,
    collected_any: bool,
    next_id: u64,
    table: Table,
    kafka_version: String<MAX_VERSION_LEN>,
    /// Empty for none.
    platform_version: String<MAX_VERSION_LEN>,
    delivery: Delivery,
    /// The shutdown record and the sinks that have settled it (success or failure).
    final_record: Option<(RecordId, Sinks)>,
    events: Deque<Event, EVENTS>,
}

impl Reporter {
    /// A reporter started at `now` with `config`. `entropy` (16 random bytes from the OS)
    /// becomes the broker token; `seed` drives all jitter. Drain it before the first input:
    /// it says whether it started (`Event::Started`) or stopped at once (`Event::Disabled`).
    pub fn new(now: Instant, config: &ReporterConfig, entropy: [u8; 16], seed: u64) -> Self {
        let mut reporter = Reporter {
            phase: Phase::Running,
            now,
            undrained: true,
            config: config.clone(),
            sinks: config.sinks(),
            token: BrokerToken::from_random_bytes(entropy),
            rng: Rng::new(seed),
            next_report: Instant::MAX,
            collect: Collect::Idle,
            collected_any: false,
            next_id: 1,
            table: Table::default(),
            kafka_version: String::new(),
            platform_version: String::new(),
            delivery: Delivery::new(now),
            final_record: None,
            events: Deque::new(),
        };
        // A zero interval would ask for reports in a tight loop.
        reporter.config.interval = config.interval.max(Duration::from_secs(1));
        if reporter.sinks.is_empty() {
            let reason = if !config.enabled {
                DisabledReason::Disabled
            } else if config.do_not_track && (config.secure_endpoint || config.insecure_endpoint) {
                DisabledReason::DoNotTrack
            } else {
                DisabledReason::NoSinks
            };
            reporter.push_event(Event::Disabled { reason });
            reporter.phase = Phase::Stopped;
        } else {
            if config.watch_broker {
                reporter.phase = Phase::Waiting;
            } else {
                reporter.next_report = now + config.settle;
            }
            reporter.push_event(Event::Started {
                sinks: reporter.sinks,
                first_report: reporter.next_report,
            });
        }
        reporter
    }

    // ---- getters ----

    /// The broker token of this run.
    pub fn token(&self) -> BrokerToken {
        self.token
    }

    /// The sinks in use (empty when disabled).
    pub fn sinks(&self) -> Sinks {
        self.sinks
    }

    /// Records the reporter still tracks (in the spool, not yet taken by every sink).
    pub fn pending_records(&self) -> usize {
        self.table.len()
    }

    /// The sinks record `id` is still pending for, if the reporter tracks it.
    pub fn pending_for(&self, id: RecordId) -> Option<Sinks> {
        self.table.get(id).map(|e| e.pending)
    }

    /// Whether the broker is down and its final record settled (`watch_broker`).
    pub fn is_waiting(&self) -> bool {
        self.phase == Phase::Waiting
    }

    /// Whether `Output::Stopped` has been reached.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Records that are pending somewhere but only in memory: their spool write failed
    /// (`Input::WriteFailed`), so they are lost if the process ends before every sink took
    /// them.
    pub fn volatile_records(&self) -> usize {
        self.table.volatile()
    }

    /// When the next regular report is due.
    pub fn next_report(&self) -> Instant {
        self.next_report
    }

    // ---- input ----

    /// Takes one input. On `Err` nothing changed.
    pub fn handle_input(&mut self, input: Input<'_>) -> Result<(), UsageError> {
        let now = input.now();
        // A reporter disabled at start still takes the spool, to clear what no sink will take.
        let clearing = self.sinks.is_empty() && matches!(input, Input::Spooled { .. });
        if !clearing {
            self.check_input(now)?;
        } else if self.undrained {
            return Err(UsageError::NotDrained);
        }
        match input {
            Input::Spooled {
                id,
                pending,
                token,
                rejections,
                ..
            } => self.spooled(now, id, pending, (token, rejections))?,
            Input::WriteFailed { id, .. } => self.write_failed(now, id)?,
            Input::Timer { .. } => self.now = now,
            Input::Collected {
                unix_time_secs,
                facts,
                ..
            } => {
                let state = self.check_collected(&facts)?;
                self.now = now;
                self.collected(unix_time_secs, facts, state);
            }
            Input::TopicResult { id, result, .. } => {
                self.check_in_flight(id, Target::Topic)?;
                self.now = now;
                self.settle(id, Target::Topic, Failure::of_topic(result));
            }
            Input::HttpResult {
                id, target, result, ..
            } => {
                if target == Target::Topic {
                    return Err(UsageError::NotInFlight);
                }
                self.check_in_flight(id, target)?;
                self.now = now;
                self.settle(id, target, Failure::of_http(result));
            }
            Input::Shutdown { .. } => {
                self.now = now;
                self.shutdown();
            }
            Input::BrokerUp { entropy, .. } => self.broker_up(now, entropy)?,
            Input::BrokerDown { .. } => self.broker_down(now)?,
        }
        self.undrained = true;
        Ok(())
    }

    /// The checks every input passes first.
    fn check_input(&self, now: Instant) -> Result<(), UsageError> {
        if self.phase == Phase::Stopped {
            Err(UsageError::Stopped)
        } else if self.undrained {
            Err(UsageError::NotDrained)
        } else if now < self.now {
            Err(UsageError::TimeWentBackwards)
        } else {
            Ok(())
        }
    }

    fn check_in_flight(&self, id: RecordId, target: Target) -> Result<(), UsageError> {
        if self.delivery.awaits(target.sink(), id, target) {
            Ok(())
        } else {
            Err(UsageError::NotInFlight)
        }
    }

    fn push_event(&mut self, event: Event) {
        // The drain contract bounds events per input well below the capacity.
        let pushed = self.events.push_back(event);
        debug_assert!(pushed.is_ok(), "event queue overflow");
    }

    // ---- output ----

    /// The next thing for the shell to do. Call until `Timeout` or `Stopped` after every
    /// `handle_input`. A record to write goes into `buf`; if it does not fit, the error says
    /// how much room is enough ([`MAX_ANONYMOUS_LEN`](crate::wire::MAX_ANONYMOUS_LEN)) and
    /// nothing is lost.
    #[must_use = "act on every output until Timeout"]
    pub fn poll_output(&mut self, buf: &mut [u8]) -> Result<Output, BufferTooSmall> {
        self.advance();
        if let Some(event) = self.events.pop_front() {
            return Ok(Output::Event(event));
        }
        if let Some((id, reason)) = self.table.next_removal() {
            return Ok(Output::Spool(SpoolOp::Remove { id, reason }));
        }
        if self.phase == Phase::Stopped {
            self.undrained = false;
            return Ok(Output::Stopped);
        }
        if let Some(op) = self.next_write(buf)? {
            return Ok(Output::Spool(op));
        }
        if let Some(entry) = self.table.next_dirty() {
            entry.dirty = false;
            return Ok(Output::Spool(SpoolOp::Update {
                id: entry.id,
                pending: entry.pending,
                rejections: entry.rejections,
            }));
        }
        if let Collect::Requested(state) = self.collect {
            self.collect = Collect::Asked(state);
            return Ok(Output::Collect);
        }
        for sink in Sink::ALL {
            if let Some(transmit) = self.next_transmit(sink) {
                return Ok(transmit);
            }
        }
        if let Some(stop) = self.shutdown_complete() {
            self.final_done(stop);
            return self.poll_output(buf);
        }
        if self.cycle_complete() {
            self.phase = Phase::Stopped;
            return self.poll_output(buf);
        }
        self.undrained = false;
        Ok(Output::Timeout(self.next_timeout()))
    }
}

#[cfg(test)]
mod tests;
