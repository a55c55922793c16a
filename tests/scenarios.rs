//! One named test per delivery story, on the deterministic simulator.

use support_metrics_core::reporter::{
    DisabledReason, Event, Failure, HttpResult, Level, RecordId, RemoveReason, Sink, Sinks, Target,
    TopicResult, TransportError,
};
use support_metrics_core::wire::CollectorState;

use crate::harness::{at, default_config, hours, secs, Sim, UNIX_BASE};

fn ms_of(h: u64) -> u64 {
    hours(h).as_millis()
}

#[test]
fn first_report_after_settling_then_every_interval_with_jitter() {
    let mut sim = Sim::new(default_config());
    sim.run_until(at(9_999));
    assert!(
        sim.attempts.is_empty(),
        "nothing before the 10 s settling time"
    );
    sim.run_until(at(10_000 + 100));
    assert_eq!(sim.collected(), [(at(10_000), RecordId(1))]);
    assert_eq!(sim.delivered_to(Target::Topic), [RecordId(1)]);
    sim.run_until(at(10_000 + ms_of(24) * 101 / 100 + 1000));
    let collected = sim.collected();
    assert_eq!(collected.len(), 2, "{collected:?}");
    let gap = collected[1].0 - collected[0].0;
    assert!(
        gap >= hours(24) && gap.as_millis() < ms_of(24) * 101 / 100,
        "gap {gap}"
    );
    let records = sim.decoded(Target::Topic);
    assert_eq!(records[0].timestamp, UNIX_BASE + 10);
    assert_eq!(records[0].collector_state, CollectorState::Running);
    sim.check();
}

#[test]
fn secure_ok_never_uses_insecure() {
    let mut sim = Sim::new(default_config());
    sim.run_until(at(ms_of(72)));
    assert_eq!(sim.delivered_to(Target::SecureEndpoint).len(), 3);
    assert!(sim.attempts_to(Target::InsecureEndpoint).is_empty());
    assert_eq!(sim.delivered_to(Target::Topic).len(), 3);
    // The topic record and the HTTP body are the same bytes, from the spool.
    let topic: Vec<&Vec<u8>> = sim
        .delivered
        .iter()
        .filter(|d| d.1 == Target::Topic)
        .map(|d| &d.3)
        .collect();
    let http: Vec<&Vec<u8>> = sim
        .delivered
        .iter()
        .filter(|d| d.1 == Target::SecureEndpoint)
        .map(|d| &d.3)
        .collect();
    assert_eq!(topic, http);
    assert!(sim.spool.is_empty(), "delivered records leave the spool");
    assert!(sim.removed.iter().all(|r| r.1 == RemoveReason::Delivered));
    sim.check();
}

fn falls_back(secure_result: HttpResult) {
    let mut sim = Sim::new(default_config());
    sim.secure = Box::new(move |_| secure_result);
    sim.run_until(at(20_000));
    assert_eq!(sim.attempts_to(Target::SecureEndpoint).len(), 1);
    assert_eq!(sim.delivered_to(Target::InsecureEndpoint), [RecordId(1)]);
    let fell_back: Vec<&Event> = sim
        .events
        .iter()
        .map(|e| &e.1)
        .filter(|e| matches!(e, Event::FellBack { .. }))
        .collect();
    let failure = match secure_result {
        HttpResult::Status(s) => Failure::Status(s),
        HttpResult::Transport(t) => Failure::Transport(t),
    };
    assert_eq!(
        fell_back,
        [&Event::FellBack {
            id: RecordId(1),
            failure,
            repeated: false
        }]
    );
    assert!(sim.spool.is_empty());
    sim.check();
}

#[test]
fn secure_tls_error_falls_back_to_insecure() {
    falls_back(HttpResult::Transport(TransportError::Tls));
}

#[test]
fn secure_500_falls_back_to_insecure() {
    falls_back(HttpResult::Status(500));
}

#[test]
fn both_endpoints_fail_then_spooled_then_delivered_later() {
    let mut sim = Sim::new(default_config());
    let down_until = at(ms_of(3));
    sim.secure = Box::new(move |t| {
        if t < down_until {
            HttpResult::Transport(TransportError::Connect)
        } else {
            HttpResult::Status(200)
        }
    });
    sim.insecure = Box::new(move |t| {
        if t < down_until {
            HttpResult::Status(503)
        } else {
            HttpResult::Status(200)
        }
    });
    sim.run_until(at(ms_of(2)));
    assert_eq!(sim.delivered_to(Target::Topic), [RecordId(1)]);
    assert_eq!(
        sim.spool.get(&1).map(|s| s.1),
        Some(Sinks::from(Sink::Http)),
        "kept for HTTP only"
    );
    let failed: Vec<(Level, bool)> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Failed { .. }))
        .map(|(_, e)| (e.level(), matches!(e, Event::Failed { repeated: true, .. })))
        .collect();
    assert!(failed.len() >= 3, "retries happen: {failed:?}");
    assert_eq!(
        failed[0],
        (Level::Warn, false),
        "first failure is a warning"
    );
    assert!(
        failed[1..].iter().all(|f| *f == (Level::Debug, true)),
        "repeats are quiet: {failed:?}"
    );
    // Backoff grows: gaps between HTTPS attempts do not shrink, and stay within the interval.
    let tries: Vec<u64> = sim
        .attempts_to(Target::SecureEndpoint)
        .iter()
        .map(|a| a.0.as_millis())
        .collect();
    let gaps: Vec<u64> = tries.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] * 2 >= g[0]), "{gaps:?}");
    sim.run_until(at(ms_of(5)));
    assert_eq!(
        sim.delivered_to(Target::SecureEndpoint),
        [RecordId(1)],
        "delivered once, when back"
    );
    assert!(sim.spool.is_empty());
    assert!(sim
        .events
        .iter()
        .any(|e| e.1 == Event::Recovered { sink: Sink::Http }));
    sim.check();
}

#[test]
fn topic_down_while_http_ok() {
    let mut sim = Sim::new(default_config());
    let up_at = at(ms_of(1));
    sim.topic = Box::new(move |t| {
        if t < up_at {
            TopicResult::Retriable
        } else {
            TopicResult::Delivered
        }
    });
    sim.run_until(at(60_000));
    assert_eq!(
        sim.delivered_to(Target::SecureEndpoint),
        [RecordId(1)],
        "HTTP is not held up by the topic"
    );
    assert!(sim.delivered_to(Target::Topic).is_empty());
    sim.run_until(at(ms_of(2)));
    assert_eq!(sim.delivered_to(Target::Topic), [RecordId(1)]);
    assert_eq!(
        sim.delivered_to(Target::SecureEndpoint),
        [RecordId(1)],
        "HTTP not repeated"
    );
    sim.check();
}

#[test]
fn fatal_topic_error_waits_a_whole_interval() {
    let mut config = default_config();
    config.interval = hours(1);
    let mut sim = Sim::new(config);
    sim.topic = Box::new(|_| TopicResult::Fatal);
    sim.run_until(at(ms_of(1) / 2));
    let tries = sim.attempts_to(Target::Topic);
    assert_eq!(tries.len(), 1, "{tries:?}");
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::Failed { .. }) && e.level() == Level::Error));
    sim.check();
}

#[test]
fn shutdown_during_a_retry_sends_the_final_report_within_the_deadline() {
    let mut sim = Sim::new(default_config());
    sim.topic = Box::new(|_| TopicResult::Retriable);
    sim.run_until(at(300_000));
    let before = sim.attempts_to(Target::Topic).len();
    assert!(before >= 2, "topic retried before shutdown");
    sim.shutdown_at(at(300_500));
    sim.run_until(at(400_000));
    let stopped = sim.stopped_at.expect("stopped");
    assert!(stopped <= at(300_500 + 5_000), "stopped at {stopped:?}");
    let finals: Vec<_> = sim
        .collected()
        .into_iter()
        .filter(|c| c.0 >= at(300_500))
        .collect();
    assert_eq!(finals.len(), 1);
    let final_id = finals[0].1;
    // The final record went to HTTP (state 1) and was tried once on the topic.
    let http = sim.decoded(Target::SecureEndpoint);
    assert_eq!(
        http.last().map(|r| r.collector_state),
        Some(CollectorState::ShuttingDown)
    );
    assert_eq!(
        sim.attempts_to(Target::Topic)
            .iter()
            .filter(|a| a.1 == final_id)
            .count(),
        1
    );
    // Nothing lost: both records are still in the spool for the topic.
    assert_eq!(
        sim.spool.keys().copied().collect::<Vec<_>>(),
        [1, final_id.0]
    );
    // The failed final attempt is logged; it settled the topic, so the reporter did not wait
    // for the deadline.
    assert!(sim
        .events
        .iter()
        .any(|e| matches!(e.1, Event::Failed { id, target: Target::Topic, .. } if id == final_id)));
    assert!(!sim
        .events
        .iter()
        .any(|e| matches!(e.1, Event::ShutdownIncomplete { .. })));
    assert!(
        stopped < at(300_500 + 1_000),
        "no need to wait for the deadline: {stopped:?}"
    );
    sim.check();
}

#[test]
fn shutdown_with_dead_endpoints_is_bounded_by_the_grace_period() {
    let mut sim = Sim::new(default_config());
    sim.latency = secs(30); // every POST and produce hangs for 30 s
    sim.run_until(at(60_000));
    sim.shutdown_at(at(61_000));
    sim.run_until(at(200_000));
    assert_eq!(
        sim.stopped_at,
        Some(at(66_000)),
        "5 s after the signal, whatever the sinks do"
    );
    let unconfirmed = Sinks::ALL;
    assert!(sim
        .events
        .iter()
        .any(|e| e.1 == Event::ShutdownIncomplete { unconfirmed }));
    sim.check();
}

#[test]
fn interval_of_one_hour() {
    let mut config = default_config();
    config.interval = hours(1);
    let mut sim = Sim::new(config);
    sim.run_until(at(ms_of(5)));
    let times: Vec<u64> = sim.collected().iter().map(|c| c.0.as_millis()).collect();
    assert!(times.len() == 5 || times.len() == 6, "{times:?}");
    for gap in times.windows(2).map(|w| w[1] - w[0]) {
        assert!(gap >= ms_of(1) && gap < ms_of(1) * 101 / 100, "gap {gap}");
    }
    sim.check();
}

#[test]
fn interval_of_ten_thousand_hours_does_not_overflow() {
    let mut config = default_config();
    config.interval = hours(10_000);
    let mut sim = Sim::new(config);
    sim.run_until(at(ms_of(20_300)));
    let times: Vec<u64> = sim.collected().iter().map(|c| c.0.as_millis()).collect();
    assert_eq!(times.len(), 3, "{times:?}");
    for gap in times.windows(2).map(|w| w[1] - w[0]) {
        assert!(gap >= ms_of(10_000) && gap < ms_of(10_100), "gap {gap}");
    }
    sim.check();
}

#[test]
fn disabled_configs_report_nothing() {
    let mut off = default_config();
    off.enabled = false;
    let mut no_sinks = default_config();
    (
        no_sinks.topic,
        no_sinks.secure_endpoint,
        no_sinks.insecure_endpoint,
    ) = (false, false, false);
    let mut dnt_only_http = default_config();
    (dnt_only_http.topic, dnt_only_http.do_not_track) = (false, true);
    for (config, reason) in [
        (off, DisabledReason::Disabled),
        (no_sinks, DisabledReason::NoSinks),
        (dnt_only_http, DisabledReason::DoNotTrack),
    ] {
        let mut sim = Sim::new(config);
        sim.run_until(at(ms_of(48)));
        assert!(sim.attempts.is_empty() && sim.collected().is_empty());
        assert_eq!(
            sim.events.iter().map(|e| e.1).collect::<Vec<_>>(),
            [Event::Disabled { reason }]
        );
        assert_eq!(sim.stopped_at, Some(at(0)));
    }
}

#[test]
fn do_not_track_keeps_the_topic_and_drops_http_from_the_spool() {
    let mut config = default_config();
    config.do_not_track = true;
    let old = br#"{"timestamp":1,"kafkaVersion":"3.6.0","confluentPlatformVersion":"0.0.9","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#;
    let mut sim = Sim::new(config)
        .with_spooled(5, old, Sink::Http.into())
        .with_spooled(6, old, Sinks::ALL);
    sim.run_until(at(ms_of(30)));
    assert!(
        sim.attempts.iter().all(|a| a.1 == Target::Topic),
        "no HTTP under DO_NOT_TRACK"
    );
    assert!(sim
        .removed
        .contains(&(RecordId(5), RemoveReason::SinksDisabled)));
    assert_eq!(
        sim.delivered_to(Target::Topic),
        [RecordId(6), RecordId(7), RecordId(8)]
    );
    sim.check();
}

#[test]
fn tls_only_never_sends_in_clear() {
    let mut config = default_config();
    config.insecure_endpoint = false;
    let mut sim = Sim::new(config);
    sim.secure = Box::new(|_| HttpResult::Transport(TransportError::Tls));
    sim.run_until(at(ms_of(30)));
    assert!(sim.attempts_to(Target::InsecureEndpoint).is_empty());
    assert!(
        sim.attempts_to(Target::SecureEndpoint).len() > 2,
        "HTTPS retried"
    );
    assert_eq!(sim.spool.len(), 2, "both records kept for HTTPS");
    sim.check();
}

#[test]
fn spool_cap_drops_the_oldest_with_a_log() {
    let mut config = default_config();
    config.interval = hours(1);
    config.spool_cap = 2;
    let mut sim = Sim::new(config);
    sim.topic = Box::new(|_| TopicResult::Retriable);
    sim.run_until(at(ms_of(5)));
    let dropped: Vec<RecordId> = sim
        .removed
        .iter()
        .filter(|r| r.1 == RemoveReason::DroppedByCap)
        .map(|r| r.0)
        .collect();
    assert!(dropped.len() >= 3, "{:?}", sim.removed);
    assert_eq!(dropped[0], RecordId(1), "oldest first");
    assert!(sim.spool.len() <= 2);
    sim.check();
}

#[test]
fn records_from_an_earlier_run_are_delivered_at_start() {
    let old = br#"{"timestamp":1,"kafkaVersion":"3.6.0","confluentPlatformVersion":"0.0.9","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":1}"#;
    let mut sim = Sim::new(default_config())
        .with_spooled(41, old, Sinks::ALL)
        .with_spooled(42, old, Sink::Topic.into());
    sim.run_until(at(5_000));
    assert_eq!(
        sim.delivered_to(Target::Topic),
        [RecordId(41), RecordId(42)]
    );
    assert_eq!(sim.delivered_to(Target::SecureEndpoint), [RecordId(41)]);
    assert!(sim.spool.is_empty());
    sim.run_until(at(11_000));
    assert_eq!(
        sim.collected(),
        [(at(10_000), RecordId(43))],
        "new ids continue after the spooled ones"
    );
    sim.check();
}

#[test]
fn same_seed_same_outputs() {
    let run = |seed| {
        let mut sim = Sim::new(default_config());
        sim.seed = seed;
        sim.topic = Box::new(|t| {
            if t.as_millis() % 3 == 0 {
                TopicResult::Retriable
            } else {
                TopicResult::Delivered
            }
        });
        sim.secure = Box::new(|t| {
            if t.as_millis() % 7 < 3 {
                HttpResult::Status(502)
            } else {
                HttpResult::Status(200)
            }
        });
        sim.run_until(at(ms_of(100)));
        sim.log()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2), "the seed matters (jitter)");
}

/// Found by the model test: a record evicted by the spool cap while its HTTPS post was in
/// flight must not then fall back to plain HTTP.
#[test]
fn record_evicted_in_flight_is_not_sent_on() {
    let mut config = default_config();
    (config.topic, config.spool_cap, config.settle) = (false, 1, secs(0));
    let old = br#"{"timestamp":1,"kafkaVersion":"3.6.0","confluentPlatformVersion":"0.0.9","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#;
    let mut sim = Sim::new(config).with_spooled(1, old, Sink::Http.into());
    sim.secure = Box::new(|_| HttpResult::Status(400));
    sim.run_until(at(1_000));
    assert!(sim
        .removed
        .contains(&(RecordId(1), RemoveReason::DroppedByCap)));
    assert!(!sim
        .attempts_to(Target::InsecureEndpoint)
        .iter()
        .any(|a| a.1 == RecordId(1)));
    assert!(sim
        .attempts_to(Target::InsecureEndpoint)
        .iter()
        .any(|a| a.1 == RecordId(2)));
    sim.check();
}
