//! One report cycle with nothing but the core: the properties come from a buffer, time is a
//! counter, the spool is one array and both sinks accept at once. No heap, no I/O.

use support_metrics_core::config::ConfigBuilder;
use support_metrics_core::reporter::{
    Facts, HttpResult, Input, Output, RemoveReason, Reporter, ReporterConfig, Run, SpoolOp, Target,
    TopicResult,
};
use support_metrics_core::time::Instant;

/// What a broker's server.properties would hold; the parser sees comments, blanks and a
/// continued line too.
const SERVER_PROPERTIES: &[u8] = b"\
# Proactive Support, as on a broker
broker.id=0
confluent.support.metrics.enable=true
confluent.support.customer.id=anonymous
confluent.support.metrics.topic=__confluent.support.metrics
confluent.support.metrics.report.interval.hours = 24
log.dirs=/var/lib/kafka/a,\\
         /var/lib/kafka/b
";

/// How the cycle went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Bytes of the record written to the spool.
    pub record_len: usize,
    /// Sends the reporter asked for.
    pub transmits: u32,
    /// The record left the spool because every sink took it.
    pub delivered: bool,
}

/// Why the cycle failed; each names the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Properties,
    Config,
    Reporter,
    /// No delivery within the step bound.
    Unfinished,
}

/// Runs start-up, the first report (after the settling delay) and its delivery to the topic
/// and the HTTPS endpoint. `entropy` and `seed` stand in for a hardware RNG.
pub fn run(entropy: [u8; 16], seed: u64) -> Result<Summary, Failure> {
    let mut builder = ConfigBuilder::new();
    builder
        .read::<256>(SERVER_PROPERTIES, |_warning| {})
        .map_err(|_| Failure::Properties)?;
    let (support, _warning) = builder.build().map_err(|_| Failure::Config)?;
    let config = ReporterConfig::new(&support, Run::default());

    let mut now = Instant::from_millis(0);
    let mut reporter = Reporter::new(now, &config, entropy, seed);
    let feed = |reporter: &mut Reporter, input| {
        reporter.handle_input(input).map_err(|_| Failure::Reporter)
    };

    let mut buf = [0u8; 512];
    let mut spool = [0u8; 512];
    let mut summary = Summary {
        record_len: 0,
        transmits: 0,
        delivered: false,
    };
    // Replies to send after the current drain: (target, id).
    let mut replies: [Option<(Target, support_metrics_core::reporter::RecordId)>; 4] = [None; 4];
    let mut collect = false;
    for _ in 0..64 {
        match reporter
            .poll_output(&mut buf)
            .map_err(|_| Failure::Reporter)?
        {
            Output::Collect => collect = true,
            Output::Spool(SpoolOp::Write { len, .. }) => {
                spool[..len].copy_from_slice(&buf[..len]);
                summary.record_len = len;
            }
            Output::Spool(SpoolOp::Remove { reason, .. }) => {
                summary.delivered |= reason == RemoveReason::Delivered;
            }
            Output::Spool(SpoolOp::Update { .. }) | Output::Event(_) => {}
            Output::Transmit { id, target, .. } => {
                summary.transmits += 1;
                if let Some(slot) = replies.iter_mut().find(|r| r.is_none()) {
                    *slot = Some((target, id));
                }
            }
            Output::Stopped => return Err(Failure::Unfinished),
            Output::Timeout(at) => {
                if summary.delivered {
                    return Ok(summary);
                }
                if collect {
                    collect = false;
                    let facts = Facts::new("3.9.0", Some("7.9.0"));
                    let input = Input::Collected {
                        now,
                        unix_time_secs: 1_764_000_000,
                        facts,
                    };
                    feed(&mut reporter, input)?;
                } else if let Some((target, id)) = replies.iter_mut().find_map(Option::take) {
                    let input = match target {
                        Target::Topic => Input::TopicResult {
                            now,
                            id,
                            result: TopicResult::Delivered,
                        },
                        _ => Input::HttpResult {
                            now,
                            id,
                            target,
                            result: HttpResult::Status(200),
                        },
                    };
                    feed(&mut reporter, input)?;
                } else {
                    now = at;
                    feed(&mut reporter, Input::Timer { now })?;
                }
            }
        }
    }
    Err(Failure::Unfinished)
}
