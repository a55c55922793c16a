//! Unit tests of the reporter's contract: misuse, buffers, disabled configs, size. The
//! delivery stories are in `tests/scenarios.rs`, the invariants in `tests/model.rs`.

use super::*;
use crate::config::SupportConfig;
extern crate std;
use std::vec::Vec;

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

fn config() -> ReporterConfig {
    ReporterConfig::new(&SupportConfig::default(), Run::default())
}

/// Polls until `Timeout`/`Stopped`, returning everything (bounded).
#[track_caller]
fn drain(r: &mut Reporter) -> Vec<Output> {
    let mut buf = [0u8; 512];
    let mut out = Vec::new();
    for _ in 0..100 {
        let o = r.poll_output(&mut buf).expect("buffer is big enough");
        out.push(o);
        if matches!(o, Output::Timeout(_) | Output::Stopped) {
            return out;
        }
    }
    panic!("drain did not end: {out:?}");
}

fn started(config: &ReporterConfig) -> Reporter {
    let mut r = Reporter::new(ms(0), config, [1; 16], 9);
    let out = drain(&mut r);
    assert!(
        matches!(out[0], Output::Event(Event::Started { .. })),
        "{out:?}"
    );
    r
}

#[test]
fn first_report_after_settling_then_collect() {
    let mut r = started(&config());
    assert_eq!(r.next_report(), ms(10_000));
    r.handle_input(Input::Timer { now: ms(9_999) }).unwrap();
    assert_eq!(drain(&mut r), [Output::Timeout(ms(10_000))]);
    r.handle_input(Input::Timer { now: ms(10_000) }).unwrap();
    let out = drain(&mut r);
    assert_eq!(out[0], Output::Collect);
    let Output::Timeout(next) = out[1] else {
        panic!("{out:?}")
    };
    assert!(
        next >= ms(10_000 + 86_400_000) && next < ms(10_000 + 87_264_000),
        "{next:?}"
    );
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let cfg = config();
    let mut r = Reporter::new(ms(5), &cfg, [0; 16], 0);
    // A new reporter has outputs (Started) waiting: they come first.
    assert_eq!(
        r.handle_input(Input::Timer { now: ms(6) }),
        Err(UsageError::NotDrained)
    );
    let _ = drain(&mut r);
    assert_eq!(
        r.handle_input(Input::Timer { now: ms(4) }),
        Err(UsageError::TimeWentBackwards)
    );
    let facts = Facts::new("3.7.0", Some("0.1.0"));
    let collected = Input::Collected {
        now: ms(6),
        unix_time_secs: 1,
        facts,
    };
    assert_eq!(r.handle_input(collected), Err(UsageError::NotCollecting));
    let result = Input::TopicResult {
        now: ms(6),
        id: RecordId(1),
        result: TopicResult::Delivered,
    };
    assert_eq!(r.handle_input(result), Err(UsageError::NotInFlight));
    let http = Input::HttpResult {
        now: ms(6),
        id: RecordId(1),
        target: Target::Topic,
        result: HttpResult::Status(200),
    };
    assert_eq!(r.handle_input(http), Err(UsageError::NotInFlight));

    r.handle_input(Input::Spooled {
        now: ms(6),
        id: RecordId(7),
        pending: Sinks::ALL,
        token: None,
        rejections: 0,
    })
    .unwrap();
    let _ = drain(&mut r);
    let dup = Input::Spooled {
        now: ms(6),
        id: RecordId(7),
        pending: Sinks::ALL,
        token: None,
        rejections: 0,
    };
    assert_eq!(r.handle_input(dup), Err(UsageError::DuplicateRecord));

    r.handle_input(Input::Timer { now: ms(10_005) }).unwrap();
    assert!(drain(&mut r).contains(&Output::Collect));
    let long = "x".repeat(65);
    let too_long = Input::Collected {
        now: ms(10_005),
        unix_time_secs: 1,
        facts: Facts::new(&long, Some("1")),
    };
    assert_eq!(r.handle_input(too_long), Err(UsageError::FactTooLong));
    // Still collecting: the valid answer is accepted, and the new record gets id 8.
    r.handle_input(collected_at(10_005)).unwrap();
    assert!(drain(&mut r).contains(&Output::Event(Event::Collected {
        id: RecordId(8),
        state: CollectorState::Running
    })));
    let late = Input::Spooled {
        now: ms(10_005),
        id: RecordId(99),
        pending: Sinks::ALL,
        token: None,
        rejections: 0,
    };
    assert_eq!(r.handle_input(late), Err(UsageError::SpoolAfterCollect));

    r.handle_input(Input::Shutdown { now: ms(20_000) }).unwrap();
    let _ = drain(&mut r);
    r.handle_input(Input::Timer { now: ms(25_000) }).unwrap();
    assert_eq!(drain(&mut r).last(), Some(&Output::Stopped));
    assert!(r.is_stopped());
    assert_eq!(
        r.handle_input(Input::Timer { now: ms(25_001) }),
        Err(UsageError::Stopped)
    );
}

fn collected_at(t: u64) -> Input<'static> {
    Input::Collected {
        now: ms(t),
        unix_time_secs: 1_764_000_000,
        facts: Facts::new("3.7.0", Some("0.1.0")),
    }
}

#[test]
fn small_buffer_loses_nothing() {
    let mut r = started(&config());
    r.handle_input(Input::Timer { now: ms(10_000) }).unwrap();
    let _ = drain(&mut r);
    r.handle_input(collected_at(10_000)).unwrap();
    let mut tiny = [0u8; 16];
    assert!(matches!(
        r.poll_output(&mut tiny),
        Ok(Output::Event(Event::Collected { .. }))
    ));
    let Err(BufferTooSmall { required }) = r.poll_output(&mut tiny) else {
        panic!()
    };
    assert_eq!(r.poll_output(&mut tiny), Err(BufferTooSmall { required }));
    // Enough room for any anonymous record: the next poll writes it.
    assert_eq!(required, crate::wire::MAX_ANONYMOUS_LEN);
    let mut exact = std::vec![0u8; required];
    let Ok(Output::Spool(SpoolOp::Write { len, pending, .. })) = r.poll_output(&mut exact) else {
        panic!()
    };
    assert!(len <= required);
    assert_eq!(pending, Sinks::ALL);
    let record = crate::wire::OwnedAnonymousRecord::decode(&exact[..len]).unwrap();
    assert_eq!(
        record.broker_process_uuid.as_str(),
        r.token().text().as_str()
    );
    assert_eq!(record.collector_state, CollectorState::Running);
}

#[test]
fn disabled_configs_say_so_once_and_stop() {
    let mut off = config();
    off.enabled = false;
    let mut nothing = config();
    (
        nothing.topic,
        nothing.secure_endpoint,
        nothing.insecure_endpoint,
    ) = (false, false, false);
    let mut dnt_no_topic = config();
    (dnt_no_topic.topic, dnt_no_topic.do_not_track) = (false, true);
    for (cfg, reason) in [
        (off, DisabledReason::Disabled),
        (nothing, DisabledReason::NoSinks),
        (dnt_no_topic, DisabledReason::DoNotTrack),
    ] {
        let mut r = Reporter::new(ms(0), &cfg, [0; 16], 0);
        assert_eq!(
            drain(&mut r),
            [Output::Event(Event::Disabled { reason }), Output::Stopped]
        );
        assert_eq!(r.poll_output(&mut []), Ok(Output::Stopped));
        assert!(r.sinks().is_empty());
    }
}

#[test]
fn one_cycle_starts_at_once_and_stops_when_every_sink_answered() {
    let run = Run {
        mode: RunMode::OneCycle,
        do_not_track: false,
    };
    let cfg = ReporterConfig::new(&SupportConfig::default(), run);
    assert_eq!(cfg.settle, Duration::ZERO);
    let mut r = Reporter::new(ms(0), &cfg, [1; 16], 9);
    assert!(drain(&mut r).contains(&Output::Collect));
    r.handle_input(collected_at(0)).unwrap();
    let out = drain(&mut r);
    let sent: Vec<_> = out
        .iter()
        .filter_map(|o| match *o {
            Output::Transmit { id, target, key } => Some((id, target, key)),
            _ => None,
        })
        .collect();
    let key = Some(r.token());
    assert_eq!(
        sent,
        [
            (RecordId(1), Target::Topic, key),
            (RecordId(1), Target::SecureEndpoint, key)
        ]
    );
    r.handle_input(Input::TopicResult {
        now: ms(5),
        id: RecordId(1),
        result: TopicResult::Retriable,
    })
    .unwrap();
    assert!(matches!(drain(&mut r).last(), Some(Output::Timeout(_))));
    assert!(!r.is_stopped(), "HTTPS is still in flight");
    r.handle_input(Input::HttpResult {
        now: ms(6),
        id: RecordId(1),
        target: Target::SecureEndpoint,
        result: HttpResult::Status(200),
    })
    .unwrap();
    assert_eq!(drain(&mut r).last(), Some(&Output::Stopped));
    assert_eq!(r.pending_for(RecordId(1)), Some(Sink::Topic.into()));
}

#[test]
fn spooled_records_keep_the_key_of_their_run() {
    let other = crate::token::BrokerToken::from_random_bytes([9; 16]);
    let mut r = started(&config());
    r.handle_input(Input::Spooled {
        now: ms(0),
        id: RecordId(3),
        pending: Sink::Topic.into(),
        token: Some(other),
        rejections: 0,
    })
    .unwrap();
    let out = drain(&mut r);
    assert!(
        out.contains(&Output::Transmit {
            id: RecordId(3),
            target: Target::Topic,
            key: Some(other)
        }),
        "{out:?}"
    );
    assert_ne!(Some(other), Some(r.token()));
}

#[test]
fn zero_interval_does_not_spin() {
    let mut cfg = config();
    cfg.interval = Duration::ZERO;
    cfg.settle = Duration::ZERO;
    let mut r = Reporter::new(ms(0), &cfg, [1; 16], 9);
    let out = drain(&mut r);
    assert_eq!(out[1], Output::Collect, "{out:?}");
    assert!(
        matches!(out[2], Output::Timeout(t) if t >= ms(1000)),
        "{out:?}"
    );
    r.handle_input(Input::Timer { now: ms(0) }).unwrap();
    assert!(matches!(drain(&mut r)[..], [Output::Timeout(t)] if t >= ms(1000)));
}

/// The microcontroller budget: the whole reporter fits in 4 KiB.
#[test]
fn reporter_is_small() {
    let size = core::mem::size_of::<Reporter>();
    assert!(size <= 4096, "Reporter is {size} bytes");
}

fn customer_facts(
    config: &'static [(&'static str, &'static str)],
) -> crate::wire::CustomerFacts<'static> {
    crate::wire::CustomerFacts {
        customer_id: "C123",
        cluster_id: "abc",
        broker_id: Some(1),
        cluster: crate::wire::ClusterFacts::default(),
        host: crate::wire::HostFacts {
            os: "linux",
            arch: "x86_64",
            cpus: 2,
            memory_bytes: 1 << 30,
        },
        agent_uptime_secs: 10,
        broker_configuration: config,
    }
}

#[test]
fn customer_records_are_encoded_at_collect_time() {
    let mut cfg = config();
    cfg.customer = true;
    let mut r = started(&cfg);
    r.handle_input(Input::Timer { now: ms(10_000) }).unwrap();
    assert!(drain(&mut r).contains(&Output::Collect));
    let facts = Facts::new("3.7.0", Some("0.1.0"));
    let customer = customer_facts(&[("num.partitions", "3"), ("ssl.key.password", "hunter2")]);
    let mut small = [0u8; 32];
    let err = r
        .handle_collected_customer(ms(10_000), 1, facts, &customer, &mut small)
        .unwrap_err();
    let CollectError::BufferTooSmall(BufferTooSmall { required }) = err else {
        panic!("{err:?}")
    };
    // Nothing changed: the right buffer succeeds, and the record is written exactly once.
    let mut buf = std::vec![0u8; required];
    let op = r
        .handle_collected_customer(ms(10_000), 1, facts, &customer, &mut buf)
        .unwrap();
    let SpoolOp::Write { id, pending, len } = op else {
        panic!("{op:?}")
    };
    assert_eq!((id, pending, len), (RecordId(1), Sinks::ALL, required));
    let text = core::str::from_utf8(&buf[..len]).unwrap();
    assert!(
        text.contains(r#""customerId":"C123""#) && text.contains(r#""num.partitions":"3""#),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
    let out = drain(&mut r);
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::Spool(SpoolOp::Write { .. }))),
        "no second write: {out:?}"
    );
    assert!(out.contains(&Output::Transmit {
        id,
        target: Target::Topic,
        key: Some(r.token())
    }));
}

#[test]
fn customer_path_is_refused_for_anonymous_configs() {
    let mut r = started(&config());
    r.handle_input(Input::Timer { now: ms(10_000) }).unwrap();
    let _ = drain(&mut r);
    let facts = Facts::new("3.7.0", Some("0.1.0"));
    let mut buf = [0u8; 1024];
    let err = r
        .handle_collected_customer(ms(10_000), 1, facts, &customer_facts(&[]), &mut buf)
        .unwrap_err();
    assert_eq!(err, CollectError::Usage(UsageError::NotACustomer));
    // The anonymous answer still works.
    r.handle_input(collected_at(10_000)).unwrap();
}

#[test]
fn ids_out_of_range_are_refused() {
    let mut r = started(&config());
    for id in [0, RecordId::MAX + 1, u64::MAX] {
        let input = Input::Spooled {
            now: ms(0),
            id: RecordId(id),
            pending: Sinks::ALL,
            token: None,
            rejections: 0,
        };
        assert_eq!(r.handle_input(input), Err(UsageError::BadRecordId));
    }
    r.handle_input(Input::Spooled {
        now: ms(0),
        id: RecordId(RecordId::MAX),
        pending: Sinks::ALL,
        token: None,
        rejections: 0,
    })
    .unwrap();
    let _ = drain(&mut r);
    r.handle_input(Input::Timer { now: ms(10_000) }).unwrap();
    let _ = drain(&mut r);
    r.handle_input(collected_at(10_000)).unwrap();
    let out = drain(&mut r);
    assert!(
        out.iter().any(
            |o| matches!(o, Output::Spool(SpoolOp::Write { id, .. }) if id.0 == RecordId::MAX + 1)
        ),
        "the next id follows the highest, and is unique: {out:?}"
    );
}

#[test]
fn a_disabled_reporter_clears_the_spool_of_what_no_sink_takes() {
    let mut cfg = config();
    (cfg.topic, cfg.do_not_track) = (false, true);
    let mut r = Reporter::new(ms(0), &cfg, [0; 16], 0);
    assert_eq!(drain(&mut r).last(), Some(&Output::Stopped));
    r.handle_input(Input::Spooled {
        now: ms(0),
        id: RecordId(4),
        pending: Sink::Http.into(),
        token: None,
        rejections: 0,
    })
    .unwrap();
    assert_eq!(
        drain(&mut r),
        [
            Output::Spool(SpoolOp::Remove {
                id: RecordId(4),
                reason: RemoveReason::SinksDisabled
            }),
            Output::Stopped
        ]
    );
}

#[test]
fn a_failed_write_is_said_and_counted() {
    let mut r = started(&config());
    r.handle_input(Input::Timer { now: ms(10_000) }).unwrap();
    let _ = drain(&mut r);
    r.handle_input(collected_at(10_000)).unwrap();
    let _ = drain(&mut r);
    r.handle_input(Input::WriteFailed {
        now: ms(10_000),
        id: RecordId(1),
    })
    .unwrap();
    let out = drain(&mut r);
    assert!(out.contains(&Output::Event(Event::NotDurable { id: RecordId(1) })));
    assert_eq!(r.volatile_records(), 1);
    let bogus = Input::WriteFailed {
        now: ms(10_000),
        id: RecordId(9),
    };
    assert_eq!(r.handle_input(bogus), Err(UsageError::NotWritten));
}

#[test]
fn a_refused_record_steps_aside_and_is_moved_out_after_three_refusals() {
    let mut cfg = config();
    (cfg.secure_endpoint, cfg.insecure_endpoint) = (false, false);
    let mut r = started(&cfg);
    r.handle_input(Input::Spooled {
        now: ms(0),
        id: RecordId(1),
        pending: Sink::Topic.into(),
        token: None,
        rejections: 1,
    })
    .unwrap();
    let out = drain(&mut r);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Transmit {
            id: RecordId(1),
            ..
        }
    )));
    r.handle_input(Input::Timer { now: ms(10_000) }).unwrap();
    let _ = drain(&mut r);
    r.handle_input(collected_at(10_000)).unwrap();
    let _ = drain(&mut r);
    // #1 is refused for good: its count is stored, and the new record #2 goes next, soon.
    r.handle_input(Input::TopicResult {
        now: ms(10_001),
        id: RecordId(1),
        result: TopicResult::Fatal,
    })
    .unwrap();
    let out = drain(&mut r);
    assert!(out.contains(&Output::Spool(SpoolOp::Update {
        id: RecordId(1),
        pending: Sink::Topic.into(),
        rejections: 2
    })));
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Transmit {
                id: RecordId(2),
                ..
            }
        )),
        "the sink goes on with #2 at once: {out:?}"
    );
    let at = ms(10_002);
    r.handle_input(Input::TopicResult {
        now: at,
        id: RecordId(2),
        result: TopicResult::Delivered,
    })
    .unwrap();
    // #1 waits a whole interval from its refusal: not behind #2, and not at once either.
    let out = drain(&mut r);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Transmit { .. })),
        "{out:?}"
    );
    let due = ms(10_001) + cfg.interval;
    assert_eq!(out.last(), Some(&Output::Timeout(due)));
    r.handle_input(Input::Timer { now: due }).unwrap();
    let out = drain(&mut r);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Transmit {
            id: RecordId(1),
            ..
        }
    )));
    r.handle_input(Input::TopicResult {
        now: due,
        id: RecordId(1),
        result: TopicResult::Fatal,
    })
    .unwrap();
    let out = drain(&mut r);
    assert!(
        out.contains(&Output::Spool(SpoolOp::Remove {
            id: RecordId(1),
            reason: RemoveReason::Rejected
        })),
        "{out:?}"
    );
    assert_eq!(r.pending_records(), 0);
}

/// With the broker watched: nothing before it is up, its own token per run, one final
/// record when it stops, silence until it is back, a new token after the restart.
#[test]
fn the_broker_run_drives_reports_and_tokens() {
    let mut cfg = config();
    (cfg.watch_broker, cfg.secure_endpoint, cfg.insecure_endpoint) = (true, false, false);
    let mut r = Reporter::new(ms(0), &cfg, [1; 16], 9);
    assert_eq!(drain(&mut r).last(), Some(&Output::Timeout(Instant::MAX)));
    r.handle_input(Input::Timer { now: ms(60_000) }).unwrap();
    assert_eq!(
        drain(&mut r),
        [Output::Timeout(Instant::MAX)],
        "no report while down"
    );
    assert_eq!(
        r.handle_input(Input::BrokerDown { now: ms(60_000) }),
        Err(UsageError::BrokerState)
    );
    let a = crate::token::BrokerToken::from_random_bytes([0xa; 16]);
    r.handle_input(Input::BrokerUp {
        now: ms(60_000),
        entropy: [0xa; 16],
    })
    .unwrap();
    assert_eq!(r.token(), a);
    assert_eq!(
        drain(&mut r),
        [Output::Timeout(ms(70_000))],
        "settling first"
    );
    r.handle_input(Input::Timer { now: ms(70_000) }).unwrap();
    assert!(drain(&mut r).contains(&Output::Collect));
    r.handle_input(collected_at(70_000)).unwrap();
    let out = drain(&mut r);
    assert!(out.contains(&Output::Transmit {
        id: RecordId(1),
        target: Target::Topic,
        key: Some(a)
    }));
    r.handle_input(Input::TopicResult {
        now: ms(70_001),
        id: RecordId(1),
        result: TopicResult::Delivered,
    })
    .unwrap();
    let _ = drain(&mut r);
    // The broker stops: one final record with token A, then silence.
    r.handle_input(Input::BrokerDown { now: ms(80_000) })
        .unwrap();
    assert!(drain(&mut r).contains(&Output::Collect));
    r.handle_input(Input::Collected {
        now: ms(80_000),
        unix_time_secs: 1,
        facts: Facts::new("3.7.0", None),
    })
    .unwrap();
    let out = drain(&mut r);
    assert!(out.contains(&Output::Event(Event::Collected {
        id: RecordId(2),
        state: CollectorState::ShuttingDown
    })));
    assert!(out.contains(&Output::Transmit {
        id: RecordId(2),
        target: Target::Topic,
        key: Some(a)
    }));
    r.handle_input(Input::TopicResult {
        now: ms(80_001),
        id: RecordId(2),
        result: TopicResult::Delivered,
    })
    .unwrap();
    let out = drain(&mut r);
    assert_eq!(out.last(), Some(&Output::Timeout(Instant::MAX)), "{out:?}");
    assert!(!r.is_stopped(), "the agent waits for the broker");
    r.handle_input(Input::Timer {
        now: ms(80_000 + 48 * 3_600_000),
    })
    .unwrap();
    assert!(
        !drain(&mut r).contains(&Output::Collect),
        "silence while down"
    );
    // Back up: a new token.
    r.handle_input(Input::BrokerUp {
        now: ms(90_000 + 48 * 3_600_000),
        entropy: [0xb; 16],
    })
    .unwrap();
    assert_ne!(r.token(), a);
    let _ = drain(&mut r);
    // Shutdown while the broker is down stops at once: its final record went out already.
    r.handle_input(Input::BrokerDown {
        now: ms(90_000 + 48 * 3_600_000),
    })
    .unwrap();
    assert!(drain(&mut r).contains(&Output::Collect));
}
