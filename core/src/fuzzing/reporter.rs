//! The reporter under arbitrary input sequences, with its invariants checked after every
//! output. [`Checker`] is shared with `tests/model.rs`.

use core::fmt::Write as _;

use crate::reporter::{
    Event, Facts, HttpResult, Input, Output, RecordId, RemoveReason, Reporter, ReporterConfig, Run,
    Sink, Sinks, SpoolOp, Target, TopicResult, TransportError, UsageError, MAX_REJECTIONS,
};
use crate::time::{Duration, Instant};
use crate::token::BrokerToken;
use crate::wire::CollectorState;

/// Record ids the checker can follow (ids are small in every driven run).
pub const MAX_IDS: usize = 512;

#[derive(Clone, Copy, Debug, Default)]
struct Track {
    known: bool,
    removed: Option<RemoveReason>,
    /// Sinks the record must reach (enabled when it entered the spool).
    required: Sinks,
    /// Sinks the spool still lists.
    pending: Sinks,
    delivered: [u8; Sink::COUNT],
    secure_ok: bool,
    /// The token of the run that made it: every transmit's key.
    key: Option<BrokerToken>,
    /// Permanent refusals, as the spool stores them.
    rejections: u8,
}

/// Observes a reporter's inputs and outputs and panics when an invariant breaks:
/// - each record reaches each required sink at most once, and at the end exactly once unless
///   it is still pending in the spool or was dropped with a logged reason;
/// - nothing is sent before it is written, or after it is removed;
/// - no HTTP when disabled or under DO_NOT_TRACK; the insecure endpoint never after a secure
///   success for that record;
/// - timeouts are never in the past and the next regular report never moves earlier within
///   a broker run;
/// - every transmit carries the token of the run that made its record as its key;
/// - a one-cycle run stops only after its record was made and every transmit was answered
///   (unless a shutdown came first);
/// - with the broker watched: no regular record while the broker is down; each broker run's
///   records are state 2 until its one final (state 1) record; a new run's records carry the
///   token made of the entropy its `BrokerUp` brought;
/// - a record refused for good never goes to a sink before a record that was never refused
///   (newer records keep flowing; the final record of a shutdown excepted), and one is moved
///   aside only by its last refusal.
#[derive(Clone, Debug)]
pub struct Checker {
    sinks: Sinks,
    secure: bool,
    insecure: bool,
    one_cycle: bool,
    now: Instant,
    next_report: Instant,
    in_flight: [Option<RecordId>; Sink::COUNT],
    collected: bool,
    shutdown: bool,
    /// The record the last input answered for with a refusal, if it did.
    refused: Option<RecordId>,
    /// The broker is up (always, unless watched).
    up: bool,
    /// This broker run's final record was made.
    final_made: bool,
    /// The token the records of this broker run must carry, once `BrokerUp` set it.
    run_token: Option<BrokerToken>,
    tracks: [Track; MAX_IDS],
}

impl Checker {
    /// A checker for a reporter started with `config`.
    pub fn new(config: &ReporterConfig) -> Self {
        let http = config.enabled && !config.do_not_track;
        Checker {
            sinks: config.sinks(),
            secure: http && config.secure_endpoint,
            insecure: http && config.insecure_endpoint,
            one_cycle: config.one_cycle,
            now: Instant::default(),
            next_report: Instant::default(),
            in_flight: [None; Sink::COUNT],
            collected: false,
            shutdown: false,
            refused: None,
            up: !config.watch_broker,
            final_made: false,
            run_token: None,
            tracks: [Track::default(); MAX_IDS],
        }
    }

    fn track(&mut self, id: RecordId) -> &mut Track {
        let i = usize::try_from(id.0).unwrap_or(usize::MAX);
        assert!(i < MAX_IDS, "record id {id} beyond the checker's range");
        &mut self.tracks[i]
    }

    /// Call with every input the reporter accepted.
    pub fn input(&mut self, input: &Input<'_>) {
        self.now = input.now();
        self.refused = match *input {
            Input::TopicResult {
                id,
                result: TopicResult::Fatal,
                ..
            } => Some(id),
            Input::HttpResult {
                id,
                result: HttpResult::Status(s),
                ..
            } if (400..500).contains(&s) && s != 408 && s != 429 => Some(id),
            _ => None,
        };
        match *input {
            Input::TopicResult { .. } => self.in_flight[Sink::Topic.index()] = None,
            Input::HttpResult { .. } => self.in_flight[Sink::Http.index()] = None,
            Input::Shutdown { .. } => self.shutdown = true,
            Input::BrokerUp { entropy, .. } => {
                assert!(!self.up, "BrokerUp accepted while the broker is up");
                self.up = true;
                self.final_made = false;
                self.run_token = Some(BrokerToken::from_random_bytes(entropy));
                // A new broker run has a schedule of its own.
                self.next_report = Instant::default();
            }
            Input::BrokerDown { .. } => {
                assert!(self.up, "BrokerDown accepted while the broker is down");
                self.up = false;
            }
            _ => {}
        }
        match *input {
            Input::TopicResult {
                id,
                result: TopicResult::Delivered,
                ..
            } => {
                let t = self.track(id);
                t.delivered[Sink::Topic.index()] += 1;
                assert!(
                    t.delivered[Sink::Topic.index()] <= 1,
                    "{id} delivered to the topic twice"
                );
            }
            Input::HttpResult {
                id,
                target,
                result: HttpResult::Status(200..=299),
                ..
            } => {
                let t = self.track(id);
                t.delivered[Sink::Http.index()] += 1;
                assert!(
                    t.delivered[Sink::Http.index()] <= 1,
                    "{id} delivered over HTTP twice"
                );
                t.secure_ok |= target == Target::SecureEndpoint;
            }
            _ => {}
        }
    }

    /// Call with every output, and the reporter it came from.
    pub fn output(&mut self, output: &Output, reporter: &Reporter) {
        match *output {
            Output::Spool(SpoolOp::Write { id, pending, .. }) => {
                let t = self.track(id);
                assert!(!t.known, "{id} written twice");
                *t = Track {
                    known: true,
                    required: pending,
                    pending,
                    key: Some(reporter.token()),
                    ..Track::default()
                };
                assert_eq!(
                    pending, self.sinks,
                    "a new record is pending for every enabled sink"
                );
            }
            Output::Spool(SpoolOp::Update {
                id,
                pending,
                rejections,
            }) => {
                let t = self.track(id);
                assert!(t.known && t.removed.is_none(), "update of unknown {id}");
                assert_eq!(pending.bits() & !t.pending.bits(), 0, "{id}: pending grew");
                assert!(
                    rejections == t.rejections || rejections == t.rejections + 1,
                    "{id}: refusals went from {} to {rejections}",
                    t.rejections
                );
                t.pending = pending;
                t.rejections = rejections;
            }
            Output::Spool(SpoolOp::Remove { id, reason }) => {
                let t = self.track(id);
                if reason == RemoveReason::Delivered {
                    for (i, sink) in Sink::ALL.into_iter().enumerate() {
                        if t.required.contains(sink) {
                            assert_eq!(
                                t.delivered[i], 1,
                                "{id} removed as delivered, but not to {sink:?}"
                            );
                        }
                    }
                }
                assert!(t.removed.is_none(), "{id} removed twice");
                t.known = true;
                t.removed = Some(reason);
                if reason == RemoveReason::Rejected {
                    assert_eq!(
                        t.rejections + 1,
                        MAX_REJECTIONS,
                        "{id} moved aside before its last refusal"
                    );
                    assert_eq!(self.refused, Some(id), "{id} moved aside without a refusal");
                }
            }
            Output::Transmit { id, target, key } => {
                self.in_flight[target.sink().index()] = Some(id);
                let (secure, insecure, sinks) = (self.secure, self.insecure, self.sinks);
                let t = self.track(id);
                assert_eq!(key, t.key, "{id}: key is not its run's token");
                let (rejections, sink) = (t.rejections, target.sink());
                // A fallback re-sends the same record; while stopping, only the final record
                // goes out, whatever waits.
                let fallback = target == Target::InsecureEndpoint && self.secure;
                // While a run's final record goes out (agent or broker stopping), it goes first.
                let final_phase = self.shutdown || !self.up;
                if rejections > 0 && !fallback && !final_phase {
                    let never_refused = self.tracks.iter().any(|o| {
                        o.known
                            && o.removed.is_none()
                            && o.rejections == 0
                            && o.pending.contains(sink)
                    });
                    assert!(
                        !never_refused,
                        "{id}, refused {rejections} time(s), went to {sink:?} before a record never refused"
                    );
                }
                let t = self.track(id);
                assert!(
                    t.known && t.removed.is_none(),
                    "{id} sent but not in the spool"
                );
                assert!(
                    t.pending.contains(target.sink()),
                    "{id} sent to {target:?} but not pending there"
                );
                assert!(sinks.contains(target.sink()), "{target:?} is not enabled");
                match target {
                    Target::Topic => {}
                    Target::SecureEndpoint => assert!(secure, "HTTPS used while off"),
                    Target::InsecureEndpoint => {
                        assert!(insecure, "HTTP used while off");
                        assert!(!t.secure_ok, "{id}: plain HTTP after an HTTPS success");
                    }
                }
            }
            Output::Timeout(at) => {
                assert!(
                    at >= self.now,
                    "timeout {at:?} in the past (now {:?})",
                    self.now
                );
                let next = reporter.next_report();
                assert!(next >= self.next_report, "next report moved earlier");
                self.next_report = next;
            }
            Output::Event(Event::Collected { state, id }) => {
                self.collected = true;
                assert!(
                    !self.final_made,
                    "{id}: a record after its run's final record"
                );
                match state {
                    CollectorState::Running => {
                        assert!(self.up, "{id}: a regular record while the broker is down");
                    }
                    CollectorState::ShuttingDown => self.final_made = true,
                }
                if let Some(t) = self.run_token {
                    assert_eq!(
                        reporter.token(),
                        t,
                        "{id}: not the token of this broker run"
                    );
                }
            }
            Output::Stopped if self.one_cycle && !self.shutdown && !reporter.sinks().is_empty() => {
                assert!(
                    self.collected,
                    "one cycle stopped before its record was made"
                );
                assert_eq!(
                    self.in_flight,
                    [None; Sink::COUNT],
                    "one cycle stopped with transmits unanswered"
                );
            }
            Output::Collect | Output::Event(_) | Output::Stopped => {}
        }
    }

    /// Records taken from an earlier run's spool, made by the run whose token is `key`,
    /// refused for good `rejections` times so far.
    pub fn spooled(
        &mut self,
        id: RecordId,
        pending: Sinks,
        key: Option<BrokerToken>,
        rejections: u8,
    ) {
        let sinks = self.sinks;
        let t = self.track(id);
        *t = Track {
            known: true,
            required: pending.intersect(sinks),
            pending: pending.intersect(sinks),
            key,
            rejections,
            ..Track::default()
        };
    }

    /// Every record reached each required sink exactly once, or is still pending for it in
    /// the spool, or left the spool with a logged reason.
    pub fn check_accounting(&self, reporter: &Reporter) {
        for (i, t) in self.tracks.iter().enumerate() {
            if !t.known {
                continue;
            }
            let id = RecordId(i as u64);
            for (n, sink) in Sink::ALL.into_iter().enumerate() {
                if !t.required.contains(sink) {
                    continue;
                }
                let accounted = t.delivered[n] == 1
                    || matches!(
                        t.removed,
                        Some(
                            RemoveReason::DroppedByCap
                                | RemoveReason::SinksDisabled
                                | RemoveReason::Rejected
                        )
                    )
                    || (t.removed.is_none()
                        && t.pending.contains(sink)
                        && reporter.pending_for(id).is_some_and(|p| p.contains(sink)));
                assert!(accounted, "{id} neither delivered to {sink:?}, nor spooled, nor dropped with a reason: {t:?}");
            }
        }
    }
}

/// Reads choices from fuzz bytes; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.u8()))
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// FNV-1a as a `fmt::Write`, to fingerprint outputs without allocating.
struct Fnv(u64);

impl core::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

/// One fuzz run: a config, records from an earlier run, then up to 200 operations (time
/// passing, producer and HTTP answers, shutdown, misuse). Checks every invariant, and that
/// the same bytes give the same outputs twice.
pub fn reporter(data: &[u8]) {
    let first = drive(data);
    assert_eq!(
        first,
        drive(data),
        "same inputs and seed, different outputs"
    );
}

const STATUSES: [HttpResult; 12] = [
    HttpResult::Status(200),
    HttpResult::Status(204),
    HttpResult::Status(301),
    HttpResult::Status(400),
    HttpResult::Status(404),
    HttpResult::Status(408),
    HttpResult::Status(429),
    HttpResult::Status(500),
    HttpResult::Status(503),
    HttpResult::Transport(TransportError::Connect),
    HttpResult::Transport(TransportError::Tls),
    HttpResult::Transport(TransportError::Timeout),
];

fn drive(data: &[u8]) -> u64 {
    let mut bytes = Bytes(data);
    let flags = bytes.u8();
    let mut config = ReporterConfig::new(&crate::config::SupportConfig::default(), Run::default());
    config.enabled = flags & 0x80 == 0 || flags & 0x40 == 0;
    config.topic = flags & 1 != 0;
    config.secure_endpoint = flags & 2 != 0;
    config.insecure_endpoint = flags & 4 != 0;
    config.do_not_track = flags & 0x38 == 0x38;
    config.interval = Duration::from_hours([1, 2, 24, 10_000][usize::from(bytes.u8() % 4)]);
    config.spool_cap = usize::from(bytes.u8() % 5) + 1;
    let settle = bytes.u8();
    config.settle = Duration::from_secs(u64::from(settle % 20));
    config.one_cycle = settle & 0x80 != 0;
    config.watch_broker = settle & 0x40 != 0;
    let now = Instant::from_millis(0);
    let mut world = World {
        reporter: Reporter::new(now, &config, [bytes.u8(); 16], bytes.u64()),
        checker: Checker::new(&config),
        now,
        topic: None,
        http: None,
        collect: false,
        written: None,
        up: !config.watch_broker,
        loading: true,
        fingerprint: Fnv(0xcbf2_9ce4_8422_2325),
    };
    world.drain();
    for _ in 0..bytes.u8() % 4 {
        let id = RecordId(1 + u64::from(bytes.u8() % 16));
        let pending = Sinks::from_bits(bytes.u8());
        let token = Some(BrokerToken::from_random_bytes([bytes.u8(); 16]));
        let rejections = bytes.u8() % MAX_REJECTIONS;
        match world.reporter.handle_input(Input::Spooled {
            now: world.now,
            id,
            pending,
            token,
            rejections,
        }) {
            Ok(()) => {
                world.checker.spooled(id, pending, token, rejections);
                world.drain();
            }
            Err(e) => assert!(
                matches!(e, UsageError::DuplicateRecord | UsageError::Stopped),
                "{e:?}"
            ),
        }
    }
    world.loading = false;
    world.answer_collect();
    for _ in 0..200 {
        if bytes.is_empty() || world.reporter.is_stopped() {
            break;
        }
        let now = world.now;
        match bytes.u8() % 8 {
            0 | 1 => {
                let step = Duration::from_millis(u64::from(bytes.u8()) * 997);
                world.feed(Input::Timer { now: now + step });
            }
            2 => {
                let step = Duration::from_hours(u64::from(bytes.u8() % 48));
                world.feed(Input::Timer { now: now + step });
            }
            3 | 4 => {
                if let Some(id) = world.topic.take() {
                    let result = [
                        TopicResult::Delivered,
                        TopicResult::Retriable,
                        TopicResult::Fatal,
                    ][usize::from(bytes.u8() % 3)];
                    world.feed(Input::TopicResult { now, id, result });
                }
            }
            5 | 6 => {
                if let Some((id, target)) = world.http.take() {
                    let result = STATUSES[usize::from(bytes.u8()) % STATUSES.len()];
                    world.feed(Input::HttpResult {
                        now,
                        id,
                        target,
                        result,
                    });
                }
            }
            _ => {
                let choice = bytes.u8() % 8;
                if choice < 2 {
                    world.feed(Input::Shutdown { now });
                } else if let (2, Some(id)) = (choice, world.written.take()) {
                    world.feed(Input::WriteFailed { now, id });
                } else if choice == 3 || choice == 4 {
                    // Up and down in turn; one that does not change the state is refused.
                    let input = if world.up {
                        Input::BrokerDown { now }
                    } else {
                        Input::BrokerUp {
                            now,
                            entropy: [bytes.u8(); 16],
                        }
                    };
                    match world.reporter.handle_input(input) {
                        Ok(()) => {
                            world.up = !world.up;
                            world.now = now;
                            world.checker.input(&input);
                            world.drain();
                            world.answer_collect();
                        }
                        Err(UsageError::BrokerState | UsageError::Stopped) => {}
                        Err(e) => panic!("driver misuse: {e:?} for {input:?}"),
                    }
                } else if now > Instant::from_millis(0) {
                    let back = Instant::from_millis(now.as_millis() - 1);
                    assert_eq!(
                        world.reporter.handle_input(Input::Timer { now: back }),
                        Err(UsageError::TimeWentBackwards)
                    );
                }
            }
        }
    }
    world.checker.check_accounting(&world.reporter);
    world.fingerprint.0
}

struct World {
    reporter: Reporter,
    checker: Checker,
    now: Instant,
    topic: Option<RecordId>,
    http: Option<(RecordId, Target)>,
    collect: bool,
    /// The record of the last write, which the next step may say failed.
    written: Option<RecordId>,
    /// The broker is up, as this driver told the reporter.
    up: bool,
    /// Between `Reporter::new` and the last `Spooled`: `Collect` waits (the contract).
    loading: bool,
    fingerprint: Fnv,
}

impl World {
    fn feed(&mut self, input: Input<'_>) {
        // A write can only be said to have failed right after the drain that asked for it.
        self.written = None;
        match self.reporter.handle_input(input) {
            Ok(()) => {
                self.now = input.now();
                self.checker.input(&input);
                self.drain();
            }
            Err(UsageError::Stopped) => {}
            Err(e) => panic!("driver misuse: {e:?} for {input:?}"),
        }
        if !self.loading {
            self.answer_collect();
        }
    }

    fn answer_collect(&mut self) {
        if core::mem::take(&mut self.collect) {
            let facts = Facts::new("3.7.0", Some("0.1.0"));
            let now = self.now;
            self.feed(Input::Collected {
                now,
                unix_time_secs: 1_764_000_000 + now.as_millis() / 1000,
                facts,
            });
        }
    }

    fn drain(&mut self) {
        let mut buf = [0u8; 512];
        for _ in 0..64 {
            let out = self
                .reporter
                .poll_output(&mut buf)
                .expect("512 bytes hold an anonymous record");
            let _ = write!(self.fingerprint, "{out:?}");
            self.checker.output(&out, &self.reporter);
            match out {
                Output::Collect => self.collect = true,
                Output::Spool(SpoolOp::Write { id, .. }) => self.written = Some(id),
                Output::Transmit {
                    id,
                    target: Target::Topic,
                    ..
                } => self.topic = Some(id),
                Output::Transmit { id, target, .. } => self.http = Some((id, target)),
                Output::Timeout(_) | Output::Stopped => return,
                _ => {}
            }
        }
        panic!("a drain did not end within 64 outputs");
    }
}
