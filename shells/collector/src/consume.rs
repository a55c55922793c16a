//! `consume`: follows a cluster's metrics topic with a consumer group (for in-house fleets
//! whose agents write only to their own cluster). Offsets are committed after the records are
//! stored, so a restart re-reads at most what was not yet committed, and the record key makes
//! re-reading harmless.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::Message;
use support_metrics_linux::client::Connection;
use support_metrics_linux::kafka::LastError;

use crate::record::{decode, Origin};
use crate::writer::Writer;

/// What `consume` was asked.
pub struct Follow {
    /// Brokers and client security.
    pub connection: Connection,
    /// The metrics topic.
    pub topic: String,
    /// The consumer group.
    pub group: String,
    /// Stop once every assigned partition is read to its end.
    pub exit_at_end: bool,
    /// Upper bound for the whole run, if any.
    pub runtime: Option<Duration>,
}

/// What was read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Consumed {
    /// Our records read.
    pub records: usize,
    /// Of those, new.
    pub new: usize,
    /// Other messages skipped.
    pub foreign: usize,
}

/// Why consuming stopped early.
#[derive(Debug)]
pub enum ConsumeError {
    /// librdkafka refused a setting (exit 78).
    Config(String),
    /// The cluster or topic is not there (exit 69).
    Unreachable(String),
    /// The database refused records (exit 69).
    Store(String),
    /// `--runtime` ran out before the end was reached (exit 75).
    OutOfTime(Consumed),
}

type Client = BaseConsumer<LastError>;

/// Follows the topic until `stop` is set, or (with `exit_at_end`) the end is reached.
pub fn follow(
    writer: &Writer,
    f: &Follow,
    stop: &Arc<AtomicBool>,
) -> Result<Consumed, ConsumeError> {
    let started = Instant::now();
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &f.connection.servers)
        .set("group.id", &f.group)
        .set("client.id", "support-metrics-collector")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true");
    for (k, v) in support_metrics_linux::kafka::DEFAULTS {
        config.set(k, v);
    }
    for (k, v) in &f.connection.settings {
        config.set(k, v);
    }
    let clean = |e: &KafkaError| f.connection.redactor.clean(&e.to_string());
    let consumer: Client = config
        .create_with_context(LastError::default())
        .map_err(|e| {
            ConsumeError::Config(format!("cannot create the Kafka client: {}", clean(&e)))
        })?;
    let metadata = consumer
        .fetch_metadata(Some(&f.topic), Duration::from_secs(10))
        .map_err(|e| {
            // The error event that says why waits for a poll to be served.
            let _ = consumer.poll(Duration::from_millis(100));
            let (_, why) = consumer.context().explain(&e, &f.connection.redactor);
            ConsumeError::Unreachable(format!("{} ({why})", f.connection.servers))
        })?;
    let exists = metadata
        .topics()
        .iter()
        .any(|t| t.name() == f.topic && t.error().is_none() && !t.partitions().is_empty());
    if !exists {
        return Err(ConsumeError::Unreachable(format!(
            "topic {} does not exist on {}",
            f.topic, f.connection.servers
        )));
    }
    consumer
        .subscribe(&[&f.topic])
        .map_err(|e| ConsumeError::Config(clean(&e)))?;
    let mut done = Consumed::default();
    let mut batch = Vec::new();
    // Partitions read to their end since their last message.
    let mut at_end: std::collections::BTreeSet<i32> = Default::default();
    let mut last_flush = Instant::now();
    // Messages read (ours or not) whose offsets are not committed yet.
    let mut uncommitted = 0usize;
    let mut last_error_shown = None::<Instant>;
    while !stop.load(Ordering::Relaxed) {
        if f.runtime.is_some_and(|r| started.elapsed() >= r) {
            flush(writer, &consumer, &mut batch, &mut done, &mut uncommitted)?;
            return Err(ConsumeError::OutOfTime(done));
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                uncommitted += 1;
                at_end.remove(&m.partition());
                match m.payload().map(|p| decode(p, None)) {
                    Some(Ok(row)) => {
                        done.records += 1;
                        let origin = Origin {
                            via: "topic",
                            component: None,
                            remote: Some(format!("{}/{}", f.topic, m.partition())),
                        };
                        batch.push((row, origin));
                    }
                    _ => done.foreign += 1,
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            // Transient broker trouble: librdkafka retries; say so at most every 30 s.
            Some(Err(e))
                if last_error_shown
                    .is_none_or(|t: Instant| t.elapsed() > Duration::from_secs(30)) =>
            {
                crate::log("WARN", &format!("Kafka: {}", clean(&e)));
                last_error_shown = Some(Instant::now());
            }
            Some(Err(_)) | None => {}
        }
        if batch.len() >= 500 || last_flush.elapsed() >= Duration::from_secs(1) {
            flush(writer, &consumer, &mut batch, &mut done, &mut uncommitted)?;
            last_flush = Instant::now();
        }
        if f.exit_at_end && batch.is_empty() {
            let assigned: std::collections::BTreeSet<i32> = consumer
                .assignment()
                .map(|a| a.elements().iter().map(|e| e.partition()).collect())
                .unwrap_or_default();
            if !assigned.is_empty() && assigned.is_subset(&at_end) {
                break;
            }
        }
    }
    flush(writer, &consumer, &mut batch, &mut done, &mut uncommitted)?;
    Ok(done)
}

/// Stores what was read, then commits the group's offsets (only when something was read).
fn flush(
    writer: &Writer,
    consumer: &Client,
    batch: &mut Vec<(crate::record::Row, Origin)>,
    done: &mut Consumed,
    uncommitted: &mut usize,
) -> Result<(), ConsumeError> {
    if !batch.is_empty() {
        let fresh = writer
            .write_blocking(std::mem::take(batch))
            .map_err(ConsumeError::Store)?;
        done.new += fresh.into_iter().filter(|f| *f).count();
    }
    if *uncommitted == 0 {
        return Ok(());
    }
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => {
            *uncommitted = 0;
            Ok(())
        }
        // A failed commit is tried again at the next flush; re-reading is harmless anyway
        // (the record key).
        Err(e) => {
            crate::log("WARN", &format!("cannot commit offsets: {e}"));
            Ok(())
        }
    }
}
