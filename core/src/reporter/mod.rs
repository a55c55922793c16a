//! The reporter: everything the agent decides, as a deterministic state machine.
//!
//! The shell feeds [`Input`]s with [`Reporter::handle_input`], then calls
//! [`Reporter::poll_output`] until it returns [`Output::Timeout`] (or [`Output::Stopped`]),
//! acting on each output. It sleeps until the timeout (or until a result or signal arrives)
//! and feeds `Input::Timer`. Breaking that contract returns a [`UsageError`] and changes
//! nothing.
//!
//! ```
//! use support_metrics_core::config::SupportConfig;
//! use support_metrics_core::reporter::*;
//! use support_metrics_core::time::{Duration, Instant};
//!
//! let config = ReporterConfig::new(&SupportConfig::default());
//! let mut reporter = Reporter::new();
//! let mut now = Instant::from_millis(0);
//! let mut buf = [0u8; 512];
//! reporter.handle_input(Input::Start { now, config: &config, entropy: [7; 16], seed: 1 }).unwrap();
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
//!         let facts = Facts::new("3.7.0", "0.1.0");
//!         reporter.handle_input(Input::Collected { now, unix_time_secs: 1_764_000_000, facts }).unwrap();
//!         continue;
//!     }
//!     now = wake.min(now + Duration::from_secs(60));
//!     reporter.handle_input(Input::Timer { now }).unwrap();
//! #   if now > Instant::from_millis(60_000) { break; }
//! }
//! assert_eq!(reporter.pending_records(), 1); // written, transmits awaiting results
//! ```

mod config;
mod input;
mod output;
mod sinks;
mod table;

pub use config::{ReporterConfig, SPOOL_CAPACITY};
pub use input::{Facts, HttpResult, Input, TopicResult, TransportError};
pub use output::{
    BufferTooSmall, CollectError, DisabledReason, Event, Failure, Level, Output, RecordId,
    RemoveReason, SpoolOp, Target, UsageError,
};
pub use sinks::{Sink, Sinks};

use heapless::{Deque, String};

use crate::jitter::jitter;
use crate::rand::Rng;
use crate::time::{Duration, Instant};
use crate::token::BrokerToken;
use crate::wire::{
    AllowedConfig, AnonymousRecord, CollectorState, CustomerFacts, CustomerRecord, MAX_VERSION_LEN,
};

use sinks::{backoff, InFlight, SinkState};
use table::{Entry, Table};

/// Events one input can queue, with room to spare.
const EVENTS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Running,
    ShuttingDown { deadline: Instant },
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
    token: Option<BrokerToken>,
    rng: Rng,
    next_report: Instant,
    collect: Collect,
    collected_any: bool,
    next_id: u64,
    table: Table,
    kafka_version: String<MAX_VERSION_LEN>,
    platform_version: String<MAX_VERSION_LEN>,
    topic: SinkState,
    http: SinkState,
    /// The shutdown record and the sinks that have settled it (success or failure).
    final_record: Option<(RecordId, Sinks)>,
    events: Deque<Event, EVENTS>,
}

impl Default for Reporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter {
    /// A reporter waiting for `Input::Start`.
    pub fn new() -> Self {
        Reporter {
            phase: Phase::NotStarted,
            now: Instant::default(),
            undrained: false,
            config: ReporterConfig::placeholder(),
            sinks: Sinks::NONE,
            token: None,
            rng: Rng::new(0),
            next_report: Instant::MAX,
            collect: Collect::Idle,
            collected_any: false,
            next_id: 1,
            table: Table::default(),
            kafka_version: String::new(),
            platform_version: String::new(),
            topic: SinkState::default(),
            http: SinkState::default(),
            final_record: None,
            events: Deque::new(),
        }
    }

    // ---- getters ----

    /// The broker token of this run, once started.
    pub fn token(&self) -> Option<&BrokerToken> {
        self.token.as_ref()
    }

    /// The sinks in use (empty before start and when disabled).
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

    /// Whether `Output::Stopped` has been reached.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// When the next regular report is due.
    pub fn next_report(&self) -> Instant {
        self.next_report
    }

    // ---- input ----

    /// Takes one input. On `Err` nothing changed.
    pub fn handle_input(&mut self, input: Input<'_>) -> Result<(), UsageError> {
        let now = input.now();
        self.check_input(now)?;
        match (self.phase, input) {
            (
                Phase::NotStarted,
                Input::Start {
                    config,
                    entropy,
                    seed,
                    ..
                },
            ) => {
                self.now = now;
                self.start(config, entropy, seed);
            }
            (_, Input::Start { .. }) => return Err(UsageError::AlreadyStarted),
            (Phase::NotStarted, Input::Shutdown { .. }) => {
                self.now = now;
                self.phase = Phase::Stopped;
            }
            (Phase::NotStarted, _) => return Err(UsageError::NotStarted),
            (_, Input::Spooled { id, pending, .. }) => {
                if self.collected_any {
                    return Err(UsageError::SpoolAfterCollect);
                }
                if self.table.contains(id) {
                    return Err(UsageError::DuplicateRecord);
                }
                self.now = now;
                self.adopt(id, pending);
            }
            (_, Input::Timer { .. }) => self.now = now,
            (
                _,
                Input::Collected {
                    unix_time_secs,
                    facts,
                    ..
                },
            ) => {
                let state = self.check_collected(&facts)?;
                self.now = now;
                self.collected(unix_time_secs, facts, state);
            }
            (_, Input::TopicResult { id, result, .. }) => {
                let failure = match result {
                    TopicResult::Delivered => None,
                    other => Some(Failure::Topic(other)),
                };
                self.check_in_flight(Sink::Topic, id, Target::Topic)?;
                self.now = now;
                self.settle(Sink::Topic, id, Target::Topic, failure);
            }
            (
                _,
                Input::HttpResult {
                    id, target, result, ..
                },
            ) => {
                if target == Target::Topic {
                    return Err(UsageError::NotInFlight);
                }
                self.check_in_flight(Sink::Http, id, target)?;
                self.now = now;
                self.settle(Sink::Http, id, target, Failure::of_http(result));
            }
            (Phase::Running, Input::Shutdown { .. }) => {
                self.now = now;
                let deadline = now + self.config().shutdown_grace;
                self.phase = Phase::ShuttingDown { deadline };
                self.collect = Collect::Requested(CollectorState::ShuttingDown);
            }
            (_, Input::Shutdown { .. }) => self.now = now,
        }
        self.undrained = true;
        Ok(())
    }

    /// `Input::Collected` for a customer record. Customer facts are too big to keep until
    /// the next poll, so the record is encoded now into `buf`, and the returned
    /// `SpoolOp::Write` (its bytes are `buf[..len]`) must be stored before acting on the
    /// drain that follows, exactly as a polled write. On `Err` nothing changed: call again
    /// (with a bigger buffer for `BufferTooSmall`).
    pub fn handle_collected_customer(
        &mut self,
        now: Instant,
        unix_time_secs: u64,
        facts: Facts<'_>,
        customer: &CustomerFacts<'_>,
        buf: &mut [u8],
    ) -> Result<SpoolOp, CollectError> {
        self.check_input(now)?;
        let state = self.check_collected(&facts)?;
        if !self.config.customer {
            return Err(UsageError::NotACustomer.into());
        }
        let record = CustomerRecord {
            timestamp: unix_time_secs,
            kafka_version: facts.kafka_version,
            confluent_platform_version: facts.platform_version,
            broker_process_uuid: self.token.as_ref().map_or("", BrokerToken::as_str),
            collector_state: state,
            customer_id: customer.customer_id,
            cluster_id: customer.cluster_id,
            broker_id: customer.broker_id,
            cluster: customer.cluster,
            host: customer.host,
            agent_uptime_secs: customer.agent_uptime_secs,
            broker_configuration: AllowedConfig(customer.broker_configuration),
        };
        let len = record.encode(buf).map_err(|e| match e {
            crate::wire::EncodeError::BufferTooSmall { required } => {
                CollectError::BufferTooSmall(BufferTooSmall { required })
            }
        })?;
        self.now = now;
        let id = self.collected(unix_time_secs, facts, state);
        let pending = self.pending_for(id).unwrap_or_default();
        if let Some(entry) = self.table.get_mut(id) {
            entry.unwritten = false;
        }
        self.undrained = true;
        Ok(SpoolOp::Write { id, pending, len })
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

    /// A collection answer must be asked for and its facts must fit; the state to record.
    fn check_collected(&self, facts: &Facts<'_>) -> Result<CollectorState, UsageError> {
        let Collect::Asked(state) = self.collect else {
            return Err(UsageError::NotCollecting);
        };
        if facts.kafka_version.len() > MAX_VERSION_LEN
            || facts.platform_version.len() > MAX_VERSION_LEN
        {
            return Err(UsageError::FactTooLong);
        }
        Ok(state)
    }

    fn config(&self) -> &ReporterConfig {
        &self.config
    }

    fn start(&mut self, config: &ReporterConfig, entropy: [u8; 16], seed: u64) {
        self.config = config.clone();
        // A zero interval would ask for reports in a tight loop.
        self.config.interval = self.config.interval.max(Duration::from_secs(1));
        self.sinks = config.sinks();
        self.token = Some(BrokerToken::from_random_bytes(entropy));
        self.rng = Rng::new(seed);
        if self.sinks.is_empty() {
            let reason = if !config.enabled {
                DisabledReason::Disabled
            } else if config.do_not_track && (config.secure_endpoint || config.insecure_endpoint) {
                DisabledReason::DoNotTrack
            } else {
                DisabledReason::NoSinks
            };
            self.push_event(Event::Disabled { reason });
            self.phase = Phase::Stopped;
            return;
        }
        self.phase = Phase::Running;
        self.next_report = self.now + config.settle;
        for s in [&mut self.topic, &mut self.http] {
            s.next_attempt = self.now;
        }
        self.push_event(Event::Started {
            sinks: self.sinks,
            first_report: self.next_report,
        });
    }

    /// A record from an earlier run: keep it for the sinks still enabled.
    fn adopt(&mut self, id: RecordId, pending: Sinks) {
        self.next_id = self.next_id.max(id.0.saturating_add(1));
        let still = pending.intersect(self.sinks);
        if still.is_empty() {
            self.table.note_removal(id, RemoveReason::SinksDisabled);
            return;
        }
        let entry = Entry {
            id,
            made: None,
            pending: still,
            unwritten: false,
            dirty: still != pending,
        };
        self.push_entry(entry);
    }

    fn collected(
        &mut self,
        unix_time_secs: u64,
        facts: Facts<'_>,
        state: CollectorState,
    ) -> RecordId {
        self.collect = Collect::Idle;
        self.collected_any = true;
        self.kafka_version.clear();
        self.platform_version.clear();
        // Lengths were checked by the caller.
        let _ = self.kafka_version.push_str(facts.kafka_version);
        let _ = self.platform_version.push_str(facts.platform_version);
        let id = RecordId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let entry = Entry {
            id,
            made: Some((unix_time_secs, state)),
            pending: self.sinks,
            unwritten: true,
            dirty: false,
        };
        self.push_entry(entry);
        if state == CollectorState::ShuttingDown {
            self.final_record = Some((id, Sinks::NONE));
        }
        self.push_event(Event::Collected { id, state });
        id
    }

    /// Adds a record at the spool cap, evicting the oldest one not in flight.
    fn push_entry(&mut self, entry: Entry) {
        let busy = [self.topic.in_flight, self.http.in_flight];
        let cap = self.config().cap();
        self.table
            .push(entry, cap, |id| busy.iter().flatten().any(|f| f.id == id));
    }

    fn state_mut(&mut self, sink: Sink) -> &mut SinkState {
        match sink {
            Sink::Topic => &mut self.topic,
            Sink::Http => &mut self.http,
        }
    }

    fn check_in_flight(&self, sink: Sink, id: RecordId, target: Target) -> Result<(), UsageError> {
        let state = match sink {
            Sink::Topic => &self.topic,
            Sink::Http => &self.http,
        };
        match state.in_flight {
            Some(f) if f.sent && f.id == id && f.target == target => Ok(()),
            _ => Err(UsageError::NotInFlight),
        }
    }

    /// A transmit came back: deliver, fall back to plain HTTP, or schedule a retry.
    fn settle(&mut self, sink: Sink, id: RecordId, target: Target, failure: Option<Failure>) {
        let now = self.now;
        let Some(failure) = failure else {
            let state = self.state_mut(sink);
            state.in_flight = None;
            state.failures = 0;
            state.next_attempt = now;
            let recovered = state.last_failure.take().is_some();
            if target == Target::SecureEndpoint {
                state.last_fallback = None;
            }
            self.table.delivered(id, sink);
            self.mark_final(id, sink);
            self.push_event(Event::Delivered { id, target });
            if recovered {
                self.push_event(Event::Recovered { sink });
            }
            return;
        };
        // A record evicted by the spool cap while in flight (or no longer pending here) is
        // not sent anywhere else.
        let evicted = !self.table.get(id).is_some_and(|e| e.pending.contains(sink));
        if target == Target::SecureEndpoint && self.config().http_insecure() && !evicted {
            let state = self.state_mut(sink);
            let repeated = state.last_fallback == Some(failure);
            state.last_fallback = Some(failure);
            state.in_flight = Some(InFlight {
                id,
                target: Target::InsecureEndpoint,
                sent: false,
            });
            self.push_event(Event::FellBack {
                id,
                failure,
                repeated,
            });
            return;
        }
        if evicted {
            // The attempt was abandoned with its record: it says too little about the sink to
            // delay the records still waiting.
            self.state_mut(sink).in_flight = None;
            return;
        }
        let (initial, interval) = (self.config().retry_initial, self.config().interval);
        let random = self.rng.next_u64();
        let state = self.state_mut(sink);
        state.in_flight = None;
        state.failures = state.failures.saturating_add(1);
        let retry_in = if failure.is_fatal() {
            interval
        } else {
            backoff(initial, interval, state.failures, random)
        };
        state.next_attempt = now + retry_in;
        let repeated = state.last_failure == Some(failure);
        state.last_failure = Some(failure);
        self.mark_final(id, sink);
        self.push_event(Event::Failed {
            id,
            target,
            failure,
            retry_in,
            repeated,
        });
    }

    fn mark_final(&mut self, id: RecordId, sink: Sink) {
        if let Some((final_id, settled)) = &mut self.final_record {
            if *final_id == id {
                settled.insert(sink);
            }
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
    /// how much room it needs and nothing is lost.
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
            }));
        }
        if let Collect::Requested(state) = self.collect {
            self.collect = Collect::Asked(state);
            return Ok(Output::Collect);
        }
        for sink in Sink::ALL {
            if let Some((id, target)) = self.next_transmit(sink) {
                return Ok(Output::Transmit { id, target });
            }
        }
        if self.shutdown_complete() {
            self.phase = Phase::Stopped;
            return self.poll_output(buf);
        }
        self.undrained = false;
        Ok(Output::Timeout(self.next_timeout()))
    }

    /// Time-driven transitions: the regular report and the shutdown deadline.
    fn advance(&mut self) {
        match self.phase {
            Phase::Running if self.now >= self.next_report => {
                self.collect = Collect::Requested(CollectorState::Running);
                let interval = self.config().interval.as_millis();
                let wait = jitter(interval, self.rng.next_u64());
                self.next_report = self.now + Duration::from_millis(wait);
            }
            Phase::ShuttingDown { deadline } if self.now >= deadline => {
                let settled = self.final_record.map_or(Sinks::NONE, |(_, s)| s);
                let unconfirmed = Sinks::from_bits(self.sinks.bits() & !settled.bits());
                if !unconfirmed.is_empty() {
                    self.push_event(Event::ShutdownIncomplete { unconfirmed });
                }
                self.phase = Phase::Stopped;
            }
            _ => {}
        }
    }

    fn next_write(&mut self, buf: &mut [u8]) -> Result<Option<SpoolOp>, BufferTooSmall> {
        let token = self.token.as_ref().map_or("", BrokerToken::as_str);
        let (kafka, platform) = (self.kafka_version.as_str(), self.platform_version.as_str());
        let Some(entry) = self.table.next_unwritten() else {
            return Ok(None);
        };
        let Some((timestamp, state)) = entry.made else {
            entry.unwritten = false;
            return Ok(None);
        };
        let record = AnonymousRecord {
            timestamp,
            kafka_version: kafka,
            confluent_platform_version: platform,
            broker_process_uuid: token,
            collector_state: state,
        };
        let len = record.encode(buf).map_err(|e| match e {
            crate::wire::EncodeError::BufferTooSmall { required } => BufferTooSmall { required },
        })?;
        entry.unwritten = false;
        Ok(Some(SpoolOp::Write {
            id: entry.id,
            pending: entry.pending,
            len,
        }))
    }

    /// A transmit for `sink` if it is idle and due (or a fallback is waiting to be sent).
    fn next_transmit(&mut self, sink: Sink) -> Option<(RecordId, Target)> {
        let now = self.now;
        let shutting_down = matches!(self.phase, Phase::ShuttingDown { .. });
        let first_http = if self.config().http_secure() {
            Target::SecureEndpoint
        } else {
            Target::InsecureEndpoint
        };
        let candidate = match self.final_record {
            // While stopping, only the final record is sent, once per sink, without waiting
            // for backoff; older records stay in the spool for the next start.
            _ if shutting_down => match self.final_record {
                Some((id, settled)) if !settled.contains(sink) && self.sinks.contains(sink) => {
                    Some(id)
                }
                _ => None,
            },
            _ => self.table.oldest_pending(sink),
        };
        let state = self.state_mut(sink);
        if let Some(f) = &mut state.in_flight {
            if f.sent {
                return None;
            }
            f.sent = true;
            return Some((f.id, f.target));
        }
        let id = candidate?;
        if !shutting_down && now < state.next_attempt {
            return None;
        }
        let target = match sink {
            Sink::Topic => Target::Topic,
            Sink::Http => first_http,
        };
        state.in_flight = Some(InFlight {
            id,
            target,
            sent: true,
        });
        Some((id, target))
    }

    fn shutdown_complete(&self) -> bool {
        matches!(self.phase, Phase::ShuttingDown { .. })
            && self.collect == Collect::Idle
            && self
                .final_record
                .is_some_and(|(_, settled)| self.sinks.intersect(settled) == self.sinks)
    }

    fn next_timeout(&self) -> Instant {
        match self.phase {
            Phase::ShuttingDown { deadline } => deadline,
            Phase::Running => {
                let mut at = self.next_report;
                for (sink, state) in [(Sink::Topic, &self.topic), (Sink::Http, &self.http)] {
                    if state.is_idle() && self.table.oldest_pending(sink).is_some() {
                        at = at.min(state.next_attempt.max(self.now));
                    }
                }
                at
            }
            Phase::NotStarted | Phase::Stopped => Instant::MAX,
        }
    }
}

impl ReporterConfig {
    /// Held until `Start` brings the real config: reports nothing.
    const fn placeholder() -> ReporterConfig {
        ReporterConfig {
            enabled: false,
            topic: false,
            secure_endpoint: false,
            insecure_endpoint: false,
            do_not_track: true,
            interval: Duration::from_hours(24),
            settle: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            retry_initial: Duration::from_secs(30),
            spool_cap: SPOOL_CAPACITY,
            customer: false,
        }
    }
}

#[cfg(test)]
mod tests;
