//! Reading the topic by assignment, bounded by the runtime.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use support_metrics_linux::client::Connection;
use support_metrics_linux::kafka::LastError;
use support_metrics_linux::secrets::client_error;

use crate::BundleError;

/// Where to read from.
#[derive(Clone, Debug)]
pub struct Source {
    /// The servers and librdkafka settings (SSL, SASL, ...).
    pub connection: Connection,
    /// The topic.
    pub topic: String,
    /// Upper bound for the whole read.
    pub runtime: Duration,
}

/// What was read.
#[derive(Clone, Debug, Default)]
pub struct Records {
    /// The cluster ID, if the cluster told.
    pub cluster_id: Option<String>,
    /// Per partition: (partition, first offset, end offset).
    pub ranges: Vec<(i32, i64, i64)>,
    /// (partition, offset, value) in partition then offset order.
    pub records: Vec<(i32, i64, Vec<u8>)>,
}

/// How far the read is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Records read so far.
    pub records: u64,
    /// Records to read (from the offsets seen at start).
    pub total: u64,
    /// Partitions complete.
    pub partitions_done: usize,
    /// Partitions.
    pub partitions: usize,
}

/// Reads every partition of the topic from its start to the end offset seen now, telling
/// `progress` as it goes.
pub fn read_topic(
    source: &Source,
    progress: &mut dyn FnMut(Progress),
) -> Result<Records, BundleError> {
    let deadline = Instant::now() + source.runtime;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &source.connection.servers)
        .set("group.id", "support-metrics-bundle")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("client.id", "support-metrics-bundle");
    // The agent's client defaults (no librdkafka metrics pushed to the broker), then the
    // operator's settings.
    for (k, v) in support_metrics_linux::kafka::DEFAULTS {
        config.set(k, v);
    }
    let connection = &source.connection;
    for (k, v) in &connection.settings {
        config.set(k, v);
    }
    let consumer: BaseConsumer<LastError> = config
        .create_with_context(LastError::default())
        .map_err(|e| {
            BundleError::Config(format!(
                "cannot create the Kafka client: {}",
                client_error(&e, &connection.settings, &connection.redactor)
            ))
        })?;
    // A failure is told with librdkafka's error event (its reason says what a call's code does
    // not: a refused password, an untrusted certificate), which waits for a poll; redacted, as
    // librdkafka's texts may echo settings.
    let unreachable = |e: &KafkaError| {
        let _ = consumer.poll(Duration::from_millis(100));
        let (_, why) = consumer.context().explain(e, &connection.redactor);
        BundleError::Unreachable(format!("{} ({why})", connection.servers))
    };
    let metadata = consumer
        .fetch_metadata(None, left())
        .map_err(|e| unreachable(&e))?;
    let topic = metadata
        .topics()
        .iter()
        .find(|t| t.name() == source.topic && t.error().is_none())
        .ok_or_else(|| {
            BundleError::NoSuchTopic(source.topic.clone(), connection.servers.clone())
        })?;
    let mut ranges = Vec::new();
    for p in topic.partitions() {
        let (low, high) = consumer
            .fetch_watermarks(&source.topic, p.id(), left())
            .map_err(|e| unreachable(&e))?;
        ranges.push((p.id(), low, high));
    }
    ranges.sort_unstable();
    let cluster_id = consumer.client().fetch_cluster_id(left());
    let mut tpl = TopicPartitionList::new();
    for &(p, low, high) in &ranges {
        if high > low {
            tpl.add_partition_offset(&source.topic, p, Offset::Offset(low))
                .map_err(|e| BundleError::Other(e.to_string()))?;
        }
    }
    let mut records = Vec::new();
    let wanted: u64 = ranges
        .iter()
        .map(|&(_, low, high)| (high - low).max(0) as u64)
        .sum();
    let mut next: Vec<(i32, i64, i64)> = ranges
        .iter()
        .filter(|r| r.2 > r.1)
        .map(|&(p, low, high)| (p, low, high))
        .collect();
    if !next.is_empty() {
        consumer
            .assign(&tpl)
            .map_err(|e| BundleError::Other(format!("cannot assign partitions: {e}")))?;
    }
    let mut last_error = None;
    while next.iter().any(|&(_, at, end)| at < end) {
        if Instant::now() >= deadline {
            let missing = next
                .iter()
                .map(|&(_, at, end)| (end - at).max(0) as u64)
                .sum();
            return Err(BundleError::Incomplete {
                read: records.len() as u64,
                missing,
                last_error,
            });
        }
        match consumer.poll(left().min(Duration::from_millis(200))) {
            Some(Err(e)) => {
                // librdkafka reconnects by itself: keep trying until the runtime ends.
                last_error = Some(e.to_string());
                std::thread::sleep(Duration::from_millis(50));
            }
            Some(Ok(m)) => {
                if let Some(slot) = next.iter_mut().find(|s| s.0 == m.partition()) {
                    // Only what existed when we started, each offset once.
                    if m.offset() >= slot.1 && m.offset() < slot.2 {
                        records.push((
                            m.partition(),
                            m.offset(),
                            m.payload().unwrap_or_default().to_vec(),
                        ));
                        slot.1 = m.offset() + 1;
                    }
                }
            }
            // Nothing came: offsets may have gaps (compaction, transaction markers), so the
            // consumer's position says how far a partition really is.
            None => {
                if let Ok(positions) = consumer.position() {
                    for slot in &mut next {
                        if let Some(Offset::Offset(pos)) = positions
                            .find_partition(&source.topic, slot.0)
                            .map(|e| e.offset())
                        {
                            slot.1 = slot.1.max(pos);
                        }
                    }
                }
            }
        }
        progress(Progress {
            records: records.len() as u64,
            total: wanted,
            partitions_done: ranges.len() - next.iter().filter(|s| s.1 < s.2).count(),
            partitions: ranges.len(),
        });
    }
    records.sort_unstable_by_key(|r| (r.0, r.1));
    Ok(Records {
        cluster_id,
        ranges,
        records,
    })
}
