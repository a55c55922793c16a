//! A deterministic simulator around the reporter: a virtual clock that jumps to the next
//! deadline or reply, fake sinks whose answers are functions of time (seeded faults come from
//! the caller's closures), a spool map holding the real bytes, and bounded steps. The reporter
//! is driven by the shared test driver (`drive.rs`), so every output also goes through
//! `support_metrics_core::fuzzing::Checker`, and every run can be replayed.

use std::collections::BTreeMap;

use support_metrics_core::config::SupportConfig;
use support_metrics_core::reporter::{
    Event, Facts, HttpResult, Input, Output, RecordId, RemoveReason, ReporterConfig, Run, Sinks,
    SpoolOp, Target, TopicResult,
};
use support_metrics_core::time::{Duration, Instant};
use support_metrics_core::wire::{check_record, OwnedAnonymousRecord};

use crate::drive::{Driver, Polled, Spooled};

pub(crate) type TopicFn = Box<dyn FnMut(Instant) -> TopicResult>;
pub(crate) type HttpFn = Box<dyn FnMut(Instant) -> HttpResult>;

/// Wall-clock seconds at virtual time zero.
pub(crate) const UNIX_BASE: u64 = 1_764_000_000;

pub(crate) fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

pub(crate) fn hours(h: u64) -> Duration {
    Duration::from_hours(h)
}

pub(crate) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Default settings with every sink on.
pub(crate) fn default_config() -> ReporterConfig {
    ReporterConfig::new(&SupportConfig::default(), Run::default())
}

pub(crate) struct Sim {
    pub(crate) config: ReporterConfig,
    pub(crate) now: Instant,
    /// Record id → (bytes, pending sinks), as a shell's spool directory would hold them.
    pub(crate) spool: BTreeMap<u64, (Vec<u8>, Sinks)>,
    /// Every transmit: when, where, which record.
    pub(crate) attempts: Vec<(Instant, Target, RecordId)>,
    /// Successful deliveries with the bytes that went out.
    pub(crate) delivered: Vec<(Instant, Target, RecordId, Vec<u8>)>,
    pub(crate) events: Vec<(Instant, Event)>,
    pub(crate) removed: Vec<(RecordId, RemoveReason)>,
    pub(crate) stopped_at: Option<Instant>,
    pub(crate) topic: TopicFn,
    pub(crate) secure: HttpFn,
    pub(crate) insecure: HttpFn,
    pub(crate) latency: Duration,
    pub(crate) seed: u64,
    /// Built at the first `run_until`, when the settings above are final.
    driver: Option<Driver>,
    replies: Vec<(Instant, RecordId, Target)>,
    wake: Instant,
    shutdown_at: Option<Instant>,
}

impl Sim {
    /// A simulator whose sinks all succeed after 20 ms.
    pub(crate) fn new(config: ReporterConfig) -> Self {
        Sim {
            config,
            now: at(0),
            spool: BTreeMap::new(),
            attempts: Vec::new(),
            delivered: Vec::new(),
            events: Vec::new(),
            removed: Vec::new(),
            stopped_at: None,
            topic: Box::new(|_| TopicResult::Delivered),
            secure: Box::new(|_| HttpResult::Status(200)),
            insecure: Box::new(|_| HttpResult::Status(200)),
            latency: Duration::from_millis(20),
            seed: 42,
            driver: None,
            replies: Vec::new(),
            wake: at(0),
            shutdown_at: None,
        }
    }

    /// Puts a record from an "earlier run" into the spool; the reporter learns it at start,
    /// with the token the record carries, as the agent does.
    pub(crate) fn with_spooled(mut self, id: u64, bytes: &[u8], pending: Sinks) -> Self {
        self.spool.insert(id, (bytes.to_vec(), pending));
        self
    }

    /// Asks for shutdown (SIGTERM) at `t`.
    pub(crate) fn shutdown_at(&mut self, t: Instant) {
        self.shutdown_at = Some(t);
    }

    /// Every output in order, with its time (for determinism checks).
    pub(crate) fn log(&self) -> Vec<(Instant, Output)> {
        self.driver
            .as_ref()
            .map(|d| d.outputs.clone())
            .unwrap_or_default()
    }

    fn start(&mut self) {
        let spooled: Vec<Spooled> = self
            .spool
            .iter()
            .map(|(id, (bytes, pending))| {
                let token = check_record(bytes).ok().map(|c| c.token);
                (*id, *pending, token, 0)
            })
            .collect();
        let unix: fn(Instant) -> u64 = |now| UNIX_BASE + now.as_millis() / 1000;
        let facts = Facts::new("3.7.0", Some(env!("CARGO_PKG_VERSION")));
        let (driver, polled) = Driver::start(
            self.now,
            &self.config,
            ([0x5a; 16], self.seed),
            &spooled,
            (facts, unix),
        );
        self.driver = Some(driver);
        self.act(polled);
    }

    /// Runs the world until virtual time `end` (inclusive), at most 100 000 steps.
    pub(crate) fn run_until(&mut self, end: Instant) {
        if self.driver.is_none() {
            self.start();
        }
        for _ in 0..100_000 {
            if self.stopped_at.is_some() {
                return;
            }
            let reply = self
                .replies
                .iter()
                .enumerate()
                .min_by_key(|(_, r)| r.0)
                .map(|(i, r)| (r.0, i));
            let shutdown = self.shutdown_at.unwrap_or(Instant::MAX);
            let next = reply
                .map_or(Instant::MAX, |r| r.0)
                .min(shutdown)
                .min(self.wake);
            if next > end {
                self.now = self.now.max(end);
                return;
            }
            self.now = next;
            match reply {
                Some((t, i)) if t == next => {
                    let (_, id, target) = self.replies.remove(i);
                    self.reply(id, target);
                }
                _ if shutdown == next => {
                    self.shutdown_at = None;
                    self.feed(Input::Shutdown { now: next });
                }
                _ => self.feed(Input::Timer { now: next }),
            }
        }
        panic!("simulation did not reach {end:?} within 100 000 steps");
    }

    fn reply(&mut self, id: RecordId, target: Target) {
        let now = self.now;
        let input = match target {
            Target::Topic => {
                let result = (self.topic)(now);
                if result == TopicResult::Delivered {
                    self.record_delivery(id, target);
                }
                Input::TopicResult { now, id, result }
            }
            Target::SecureEndpoint | Target::InsecureEndpoint => {
                let result = if target == Target::SecureEndpoint {
                    (self.secure)(now)
                } else {
                    (self.insecure)(now)
                };
                if matches!(result, HttpResult::Status(200..=299)) {
                    self.record_delivery(id, target);
                }
                Input::HttpResult {
                    now,
                    id,
                    target,
                    result,
                }
            }
        };
        self.feed(input);
    }

    fn record_delivery(&mut self, id: RecordId, target: Target) {
        let bytes = self
            .spool
            .get(&id.0)
            .map(|(b, _)| b.clone())
            .expect("delivered record is in the spool");
        self.delivered.push((self.now, target, id, bytes));
    }

    fn feed(&mut self, input: Input<'static>) {
        let driver = self.driver.as_mut().expect("started");
        let polled = driver.feed(input);
        self.act(polled);
    }

    /// What the simulated shell does with each output.
    fn act(&mut self, polled: Vec<Polled>) {
        for Polled { out, bytes } in polled {
            match out {
                Output::Spool(SpoolOp::Write { id, pending, .. }) => {
                    self.spool.insert(id.0, (bytes, pending));
                }
                Output::Spool(SpoolOp::Update { id, pending, .. }) => {
                    self.spool
                        .get_mut(&id.0)
                        .expect("update of a stored record")
                        .1 = pending;
                }
                Output::Spool(SpoolOp::Remove { id, reason }) => {
                    self.spool.remove(&id.0);
                    self.removed.push((id, reason));
                }
                Output::Transmit { id, target, .. } => {
                    self.attempts.push((self.now, target, id));
                    self.replies.push((self.now + self.latency, id, target));
                }
                Output::Event(e) => self.events.push((self.now, e)),
                Output::Timeout(t) => self.wake = t,
                Output::Stopped => {
                    self.stopped_at = Some(self.now);
                    self.replies.clear();
                }
                Output::Collect => {}
            }
        }
    }

    /// Checks the end-of-run accounting invariant.
    pub(crate) fn check(&self) {
        if let Some(d) = &self.driver {
            d.checker.check_accounting(&d.reporter);
            d.check_replay();
        }
    }

    pub(crate) fn attempts_to(&self, target: Target) -> Vec<(Instant, RecordId)> {
        self.attempts
            .iter()
            .filter(|a| a.1 == target)
            .map(|a| (a.0, a.2))
            .collect()
    }

    pub(crate) fn delivered_to(&self, target: Target) -> Vec<RecordId> {
        self.delivered
            .iter()
            .filter(|d| d.1 == target)
            .map(|d| d.2)
            .collect()
    }

    /// The records that went to `target`, decoded.
    pub(crate) fn decoded(&self, target: Target) -> Vec<OwnedAnonymousRecord> {
        self.delivered
            .iter()
            .filter(|d| d.1 == target)
            .map(|d| OwnedAnonymousRecord::decode(&d.3).expect("our record"))
            .collect()
    }

    pub(crate) fn collected(&self) -> Vec<(Instant, RecordId)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::Collected { id, .. } => Some((*t, *id)),
                _ => None,
            })
            .collect()
    }
}
