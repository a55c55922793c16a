//! Model-based test (proptest-state-machine): random configs, records left by an earlier run,
//! and random sequences of time passing, producer and HTTP answers and shutdown. A plain
//! reference model (maps of pending sinks) must agree with the reporter after every step;
//! the shared `Checker` watches every output; a replay at the end must give the same outputs.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};
use support_metrics_core::config::SupportConfig;
use support_metrics_core::reporter::{
    Facts, HttpResult, Input, Output, RecordId, RemoveReason, ReporterConfig, Run, RunMode, Sink,
    Sinks, SpoolOp, Target, TopicResult, TransportError,
};
use support_metrics_core::time::{Duration, Instant};
use support_metrics_core::token::BrokerToken;

use crate::drive::{Driver, Polled};

#[derive(Clone, Debug)]
pub(crate) struct Setup {
    enabled: bool,
    topic: bool,
    secure: bool,
    insecure: bool,
    do_not_track: bool,
    interval_hours: u64,
    spool_cap: usize,
    settle_secs: u64,
    seed: u64,
    spooled: Vec<(u64, (u8, u8))>,
    one_cycle: bool,
    watch_broker: bool,
}

impl Setup {
    fn config(&self) -> ReporterConfig {
        let run = Run {
            mode: if self.one_cycle {
                RunMode::OneCycle
            } else {
                RunMode::Daemon
            },
            do_not_track: self.do_not_track,
        };
        let mut c = ReporterConfig::new(&SupportConfig::default(), run);
        c.enabled = self.enabled;
        c.topic = self.topic;
        c.secure_endpoint = self.secure;
        c.insecure_endpoint = self.insecure;
        c.interval = Duration::from_hours(self.interval_hours);
        c.spool_cap = self.spool_cap;
        c.settle = Duration::from_secs(self.settle_secs);
        c.watch_broker = self.watch_broker;
        c
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Step {
    Wait(u64),
    Topic(TopicResult),
    Http(HttpResult),
    Shutdown,
    /// The spool could not store the record the last drain wrote.
    WriteFailed,
    /// The broker starts (with this entropy) or stops, whichever changes its state.
    Broker(u8),
}

pub(crate) struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Setup;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Setup> {
        (
            (
                prop::bool::weighted(0.9),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                prop::bool::weighted(0.2),
            ),
            prop::sample::select(vec![1u64, 2, 24, 10_000]),
            1usize..=4,
            0u64..20,
            any::<u64>(),
            prop::collection::btree_map(1u64..16, (0u8..4, 0u8..3), 0..4),
            (prop::bool::weighted(0.25), prop::bool::weighted(0.4)),
        )
            .prop_map(
                |(
                    (enabled, topic, secure, insecure, do_not_track),
                    interval_hours,
                    spool_cap,
                    settle_secs,
                    seed,
                    spooled,
                    (one_cycle, watch_broker),
                )| Setup {
                    enabled,
                    topic,
                    secure,
                    insecure,
                    do_not_track,
                    interval_hours,
                    spool_cap,
                    settle_secs,
                    seed,
                    spooled: spooled.into_iter().collect(),
                    one_cycle,
                    watch_broker,
                },
            )
            .boxed()
    }

    fn transitions(_: &Setup) -> BoxedStrategy<Step> {
        let http = prop::sample::select(vec![
            HttpResult::Status(200),
            HttpResult::Status(204),
            HttpResult::Status(400),
            HttpResult::Status(429),
            HttpResult::Status(500),
            HttpResult::Status(503),
            HttpResult::Transport(TransportError::Connect),
            HttpResult::Transport(TransportError::Tls),
            HttpResult::Transport(TransportError::Timeout),
        ]);
        let topic = prop::sample::select(vec![
            TopicResult::Delivered,
            TopicResult::Retriable,
            TopicResult::Fatal,
        ]);
        prop_oneof![
            4 => (0u64..3_600_000).prop_map(Step::Wait),
            1 => (0u64..48).prop_map(|h| Step::Wait(h * 3_600_000)),
            3 => topic.prop_map(Step::Topic),
            3 => http.prop_map(Step::Http),
            1 => Just(Step::Shutdown),
            1 => Just(Step::WriteFailed),
            2 => any::<u8>().prop_map(Step::Broker),
        ]
        .boxed()
    }

    fn apply(state: Setup, _: &Step) -> Setup {
        state
    }
}

/// The plain model: what should be pending where, computed without the reporter's code.
#[derive(Debug, Default)]
struct Model {
    sinks: Sinks,
    secure: bool,
    insecure: bool,
    cap: usize,
    pending: BTreeMap<u64, Sinks>,
    delivered: BTreeMap<(u64, bool), u32>,
    secure_ok: BTreeSet<u64>,
    spooled: BTreeMap<u64, Sinks>,
    /// Records whose spool write failed: in the reporter's memory only.
    volatile: BTreeSet<u64>,
}

impl Model {
    fn new(s: &Setup) -> Self {
        let http = s.enabled && !s.do_not_track;
        let mut sinks = Sinks::NONE;
        if s.enabled && s.topic {
            sinks.insert(Sink::Topic);
        }
        if http && (s.secure || s.insecure) {
            sinks.insert(Sink::Http);
        }
        Model {
            sinks,
            secure: http && s.secure,
            insecure: http && s.insecure,
            cap: s.spool_cap,
            ..Model::default()
        }
    }

    fn output(&mut self, out: &Output) {
        match *out {
            Output::Spool(SpoolOp::Write { id, pending, .. }) => {
                assert_eq!(
                    pending, self.sinks,
                    "new record pending for every enabled sink"
                );
                assert!(
                    self.pending.insert(id.0, pending).is_none(),
                    "{id} written twice"
                );
            }
            Output::Spool(SpoolOp::Update { id, pending, .. }) => {
                assert_eq!(
                    self.pending.get(&id.0),
                    Some(&pending),
                    "{id}: update disagrees with the model"
                );
            }
            Output::Spool(SpoolOp::Remove { id, reason }) => match reason {
                RemoveReason::Delivered => {
                    assert_eq!(
                        self.pending.remove(&id.0),
                        Some(Sinks::NONE),
                        "{id} removed while pending"
                    );
                }
                RemoveReason::DroppedByCap | RemoveReason::Rejected => {
                    assert!(self.pending.remove(&id.0).is_some(), "dropped unknown {id}");
                }
                RemoveReason::SinksDisabled => {
                    let was = self
                        .spooled
                        .get(&id.0)
                        .copied()
                        .expect("only spooled records");
                    assert!(
                        was.intersect(self.sinks).is_empty(),
                        "{id} had an enabled sink"
                    );
                }
            },
            Output::Transmit { id, target, .. } => {
                let pending = self.pending.get(&id.0).copied().unwrap_or_default();
                assert!(
                    pending.contains(target.sink()),
                    "{id} sent to {target:?} but not pending there"
                );
                match target {
                    Target::Topic => {}
                    Target::SecureEndpoint => assert!(self.secure, "HTTPS while off"),
                    Target::InsecureEndpoint => {
                        assert!(self.insecure, "HTTP while off");
                        assert!(!self.secure_ok.contains(&id.0), "HTTP after HTTPS success");
                    }
                }
            }
            _ => {}
        }
    }

    fn delivered(&mut self, id: RecordId, sink: Sink) {
        let count = self
            .delivered
            .entry((id.0, sink == Sink::Http))
            .or_default();
        *count += 1;
        assert_eq!(*count, 1, "{id} delivered to {sink:?} twice");
        if let Some(p) = self.pending.get_mut(&id.0) {
            p.remove(sink);
        }
    }
}

pub(crate) struct Sut {
    driver: Driver,
    model: Model,
    topic: Option<RecordId>,
    http: Option<(RecordId, Target)>,
    /// The record the last drain wrote, which the next step may say failed.
    written: Option<RecordId>,
    /// The broker is up, as this test told the reporter.
    up: bool,
}

const FACTS: Facts<'static> = Facts::new("3.7.0", Some("0.1.0"));

/// The token of the run that left record `id` in the spool.
fn old_token(id: u64) -> BrokerToken {
    BrokerToken::from_random_bytes([id as u8; 16])
}

impl Sut {
    fn feed(&mut self, input: Input<'static>) {
        match input {
            Input::TopicResult {
                id,
                result: TopicResult::Delivered,
                ..
            } => self.model.delivered(id, Sink::Topic),
            Input::HttpResult {
                id,
                target,
                result: HttpResult::Status(200..=299),
                ..
            } => {
                self.model.delivered(id, Sink::Http);
                if target == Target::SecureEndpoint {
                    self.model.secure_ok.insert(id.0);
                }
            }
            _ => {}
        }
        self.written = None;
        let polled = self.driver.feed(input);
        self.act(&polled);
    }

    fn act(&mut self, polled: &[Polled]) {
        for p in polled {
            self.model.output(&p.out);
            match p.out {
                Output::Spool(SpoolOp::Write { id, .. }) => self.written = Some(id),
                Output::Transmit {
                    id,
                    target: Target::Topic,
                    ..
                } => self.topic = Some(id),
                Output::Transmit { id, target, .. } => self.http = Some((id, target)),
                _ => {}
            }
        }
    }
}

impl StateMachineTest for Sut {
    type SystemUnderTest = Sut;
    type Reference = Reference;

    fn init_test(setup: &Setup) -> Sut {
        let config = setup.config();
        let mut model = Model::new(setup);
        let mut spooled = Vec::new();
        for &(id, (bits, rejections)) in &setup.spooled {
            let pending = Sinks::from_bits(bits);
            model.spooled.insert(id, pending);
            let still = pending.intersect(model.sinks);
            if !still.is_empty() {
                model.pending.insert(id, still);
            }
            spooled.push((id, pending, Some(old_token(id)), rejections));
        }
        let (driver, polled) = Driver::start(
            Instant::from_millis(0),
            &config,
            ([3; 16], setup.seed),
            &spooled,
            (FACTS, |_| 1_764_000_000),
        );
        let mut sut = Sut {
            driver,
            model,
            topic: None,
            http: None,
            written: None,
            up: !setup.watch_broker,
        };
        sut.act(&polled);
        sut
    }

    fn apply(mut sut: Sut, _: &Setup, step: Step) -> Sut {
        if sut.driver.reporter.is_stopped() {
            return sut;
        }
        let now = sut.driver.now;
        match step {
            Step::Wait(ms) => sut.feed(Input::Timer {
                now: now + Duration::from_millis(ms),
            }),
            Step::Topic(result) => {
                if let Some(id) = sut.topic.take() {
                    sut.feed(Input::TopicResult { now, id, result });
                }
            }
            Step::Http(result) => {
                if let Some((id, target)) = sut.http.take() {
                    sut.feed(Input::HttpResult {
                        now,
                        id,
                        target,
                        result,
                    });
                }
            }
            Step::Shutdown => sut.feed(Input::Shutdown { now }),
            Step::Broker(seed) => {
                let input = if sut.up {
                    Input::BrokerDown { now }
                } else {
                    Input::BrokerUp {
                        now,
                        entropy: [seed; 16],
                    }
                };
                // Refused only while the reporter stops or sends a final record.
                let accepted = sut.driver.reporter.clone().handle_input(input).is_ok();
                if accepted {
                    sut.up = !sut.up;
                    sut.feed(input);
                }
            }
            Step::WriteFailed => {
                if let Some(id) = sut.written.take() {
                    sut.model.volatile.insert(id.0);
                    sut.feed(Input::WriteFailed { now, id });
                }
            }
        }
        sut
    }

    fn check_invariants(sut: &Sut, _: &Setup) {
        let r = &sut.driver.reporter;
        if sut.model.sinks.is_empty() {
            assert!(r.is_stopped(), "nothing to report: stopped");
            assert!(sut
                .driver
                .outputs
                .iter()
                .all(|(_, o)| !matches!(o, Output::Transmit { .. } | Output::Collect)));
            return;
        }
        assert_eq!(r.sinks(), sut.model.sinks);
        assert!(
            sut.model.pending.len() <= sut.model.cap,
            "spool over its cap"
        );
        assert_eq!(
            r.pending_records(),
            sut.model.pending.len(),
            "{:?}",
            sut.model.pending
        );
        for (&id, &pending) in &sut.model.pending {
            assert_eq!(r.pending_for(RecordId(id)), Some(pending), "#{id}");
        }
        let volatile = sut
            .model
            .volatile
            .iter()
            .filter(|id| sut.model.pending.contains_key(id))
            .count();
        assert_eq!(r.volatile_records(), volatile, "records in memory only");
        sut.driver.checker.check_accounting(r);
    }

    fn teardown(sut: Sut, _: Setup) {
        // Same inputs and seed, same outputs.
        sut.driver.check_replay();
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 512, max_shrink_iters: 4096, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn reporter_matches_model(sequential 1..80 => Sut);
}
