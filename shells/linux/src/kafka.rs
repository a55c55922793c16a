//! The internal topic through librdkafka: created through the Admin API when missing,
//! written by an idempotent producer with `acks=all`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use support_metrics_core::reporter::TopicResult;
use support_metrics_core::wire::ClusterFacts;

use crate::client::Connection;
use crate::customer::ReadCluster;
use crate::log::Log;
use crate::secrets::{client_error, Redactor};
use crate::sinks::TopicSink;

/// One year: how long the topic keeps records.
pub const RETENTION_MS: &str = "31536000000";

const METADATA_FAILED: &str = "cannot read cluster metadata";

/// Defaults for every client of the agent, before the operator's `client.*` settings.
///
/// `enable.metrics.push`: librdkafka otherwise pushes its own client metrics to any broker that
/// asks (KIP-714). The agent sends exactly its documented record and nothing else; and the
/// histograms behind those metrics cost ~0.5 MiB of heap per process.
pub const DEFAULTS: [(&str, &str); 1] = [("enable.metrics.push", "false")];

/// Producer settings the operator cannot weaken.
const FIXED: [(&str, &str); 2] = [("acks", "all"), ("enable.idempotence", "true")];

/// librdkafka's error events since they were last taken. A call that fails for want of a
/// usable connection says only "broker transport failure"; the event says why (a refused
/// password, an untrusted certificate), so a failure is reported, and classified, with it.
#[derive(Default)]
pub struct LastError(Mutex<Option<(KafkaError, String)>>);

impl LastError {
    /// Keeps `error` and librdkafka's `reason`; "all brokers are down" does not replace the
    /// event that says why they are.
    pub fn record(&self, error: KafkaError, reason: &str) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let all_down = error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown);
        if all_down && slot.is_some() {
            return;
        }
        let text = if reason.is_empty() {
            error.to_string()
        } else {
            reason.to_owned()
        };
        *slot = Some((error, text));
    }

    /// The kept event, if any, and forgets it.
    pub fn take(&self) -> Option<(KafkaError, String)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// What made `failed` fail: the kept event when there is one (its error, for
    /// classifying, and its reason), else `failed` itself. The reason is redacted.
    pub fn explain(&self, failed: &KafkaError, redactor: &Redactor) -> (KafkaError, String) {
        let (error, text) = self
            .take()
            .unwrap_or_else(|| (failed.clone(), failed.to_string()));
        (error, redactor.clean(&text))
    }
}

impl ClientContext for LastError {
    fn error(&self, error: KafkaError, reason: &str) {
        self.record(error, reason);
    }
}

impl rdkafka::consumer::ConsumerContext for LastError {}

/// The delivery report for the record being waited for. Each record carries a sequence
/// number: a report for an earlier one (purged after its timeout, reported later) must not
/// pass for the current one's. Error events are kept for the failure they explain.
#[derive(Default)]
struct Delivery {
    current: AtomicUsize,
    result: Mutex<Option<Result<(), KafkaError>>>,
    last_error: LastError,
}

impl ClientContext for Delivery {
    fn error(&self, error: KafkaError, reason: &str) {
        self.last_error.record(error, reason);
    }
}

impl ProducerContext for Delivery {
    type DeliveryOpaque = usize;
    fn delivery(&self, result: &DeliveryResult<'_>, sequence: usize) {
        if sequence != self.current.load(Ordering::SeqCst) {
            return;
        }
        let outcome = result.as_ref().map(|_| ()).map_err(|(e, _)| e.clone());
        if let Ok(mut slot) = self.result.lock() {
            *slot = Some(outcome);
        }
    }
}

/// Connection settings shared by every client of the agent: servers, [`DEFAULTS`], then the
/// connection's settings (security, and the operator's `client.*`, which may override all).
fn client_config(connection: &Connection, client_id: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &connection.servers)
        .set("client.id", client_id);
    for (k, v) in DEFAULTS {
        config.set(k, v);
    }
    for (k, v) in &connection.settings {
        config.set(k, v);
    }
    config
}

/// The topic sink.
pub struct KafkaTopic {
    producer: BaseProducer<Delivery>,
    /// For an admin client, made when needed and dropped after: a second librdkafka
    /// instance costs threads and memory for the agent's whole life otherwise.
    admin_config: ClientConfig,
    topic: String,
    /// The bootstrap servers, for messages.
    servers: String,
    ready: bool,
    warned: bool,
    /// Sequence number of the last record sent.
    sequence: usize,
    /// librdkafka's texts may echo settings: every detail goes through it.
    redactor: Redactor,
    log: Log,
}

impl KafkaTopic {
    /// A sink for `topic` through `connection` (its settings go to both the producer and the
    /// admin client), applied after our defaults but before the settings in [`FIXED`].
    pub fn new(connection: &Connection, topic: &str, log: Log) -> Result<KafkaTopic, String> {
        let settings = &connection.settings;
        let base = client_config(connection, "support-metrics-agent");
        let mut producer_config = base.clone();
        producer_config.set("message.timeout.ms", "10000");
        for (k, v) in settings {
            producer_config.set(k, v);
        }
        for (k, v) in FIXED {
            producer_config.set(k, v);
        }
        let producer = producer_config
            .create_with_context(Delivery::default())
            .map_err(|e| {
                format!(
                    "cannot create the Kafka producer: {}",
                    client_error(&e, settings, &connection.redactor)
                )
            })?;
        Ok(KafkaTopic {
            producer,
            admin_config: base,
            topic: topic.to_owned(),
            servers: connection.servers.clone(),
            ready: false,
            warned: false,
            sequence: 0,
            redactor: connection.redactor.clone(),
            log,
        })
    }

    /// Makes sure the topic exists: 1 partition, replication min(3, live brokers), one-year
    /// retention. An existing topic with other settings is used, with one warning.
    fn ensure_topic(&mut self, timeout: Duration) -> Result<(), (TopicResult, String)> {
        // An event from before this call explains nothing about it.
        self.producer.context().last_error.take();
        let metadata = match self.producer.client().fetch_metadata(None, timeout) {
            Ok(metadata) => metadata,
            Err(e) => {
                // The error event that says why waits for a poll to be served.
                self.producer.poll(Duration::from_millis(100));
                let (error, why) = self
                    .producer
                    .context()
                    .last_error
                    .explain(&e, &self.redactor);
                return Err((classify(&error), format!("{METADATA_FAILED}: {why}")));
            }
        };
        if let Some(t) = metadata
            .topics()
            .iter()
            .find(|t| t.name() == self.topic && t.error().is_none())
        {
            let replicas = t.partitions().first().map_or(0, |p| p.replicas().len());
            let wanted_rf = metadata.brokers().len().clamp(1, 3);
            let partitions = t.partitions().len();
            if !self.warned {
                self.warned = true;
                let retention = self.retention_ms(timeout.min(Duration::from_secs(2)));
                let retention_differs = retention.as_deref().is_some_and(|r| r != RETENTION_MS);
                if partitions != 1 || replicas < wanted_rf || retention_differs {
                    self.log.warn(&format!(
                        "topic {} exists with {partitions} partition(s), replication {replicas}, retention.ms {}; \
                         expected 1, {wanted_rf} and {RETENTION_MS}. Using it as it is",
                        self.topic,
                        retention.as_deref().unwrap_or("unknown"),
                    ));
                }
            }
            return Ok(());
        }
        let rf = metadata.brokers().len().clamp(1, 3) as i32;
        self.log.info(&format!(
            "creating topic {} (1 partition, replication {rf})",
            self.topic
        ));
        let new = NewTopic::new(&self.topic, 1, TopicReplication::Fixed(rf))
            .set("retention.ms", RETENTION_MS);
        let opts = AdminOptions::new()
            .operation_timeout(Some(timeout))
            .request_timeout(Some(timeout));
        let admin = self.admin()?;
        let results =
            futures_executor::block_on(admin.create_topics([&new], &opts)).map_err(|e| {
                (
                    classify(&e),
                    format!("cannot create topic {}: {e}", self.topic),
                )
            })?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    let e = KafkaError::AdminOp(code);
                    return Err((
                        classify(&e),
                        format!("cannot create topic {}: {code}", self.topic),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl KafkaTopic {
    fn admin(&self) -> Result<AdminClient<DefaultClientContext>, (TopicResult, String)> {
        self.admin_config.create().map_err(|e| {
            (
                TopicResult::Retriable,
                format!(
                    "cannot create the Kafka admin client: {}",
                    self.redactor.clean(&e.to_string())
                ),
            )
        })
    }

    /// The topic's `retention.ms`, if the broker answers DescribeConfigs.
    fn retention_ms(&self, timeout: Duration) -> Option<String> {
        let admin = self.admin().ok()?;
        let opts = AdminOptions::new().request_timeout(Some(timeout));
        let resource = ResourceSpecifier::Topic(&self.topic);
        let results =
            futures_executor::block_on(admin.describe_configs([&resource], &opts)).ok()?;
        let config = results.into_iter().next()?.ok()?;
        config.get("retention.ms")?.value.clone()
    }
}

impl TopicSink for KafkaTopic {
    fn produce(
        &mut self,
        key: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> (TopicResult, Option<String>) {
        let (result, detail) = self.produce_raw(key, value, timeout);
        // Where, then why: the first warning of a failure says both.
        (
            result,
            detail.map(|d| format!("{}: {}", self.servers, self.redactor.clean(&d))),
        )
    }
}

impl KafkaTopic {
    fn produce_raw(
        &mut self,
        key: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> (TopicResult, Option<String>) {
        let deadline = Instant::now() + timeout;
        if !self.ready {
            match self.ensure_topic(timeout / 2) {
                Ok(()) => self.ready = true,
                // The cluster cannot even be read: nothing to gain from producing.
                Err((result, detail)) if detail.starts_with(METADATA_FAILED) => {
                    return (result, Some(detail))
                }
                // Creation failed (unsupported, timed out, refused): the broker may still
                // auto-create it, and producing says what is wrong. Creation is retried next time.
                Err((_, detail)) => self.log.warn(&self.redactor.clean(&detail)),
            }
        }
        self.sequence += 1;
        let context = self.producer.context();
        context.current.store(self.sequence, Ordering::SeqCst);
        if let Ok(mut slot) = context.result.lock() {
            *slot = None;
        }
        let record = BaseRecord::with_opaque_to(&self.topic, self.sequence)
            .key(key)
            .payload(value);
        if let Err((e, _)) = self.producer.send(record) {
            return (classify(&e), Some(format!("cannot queue the record: {e}")));
        }
        // rdkafka's `poll` serves events until its timeout even after the acknowledgement
        // arrived, so poll in short slices, growing while the broker is slow: an ack on
        // loopback is seen within a millisecond, and a long wait costs few wake-ups.
        let mut slice = Duration::from_millis(1);
        while Instant::now() < deadline {
            self.producer
                .poll(slice.min(deadline.saturating_duration_since(Instant::now())));
            slice = (slice * 2).min(Duration::from_millis(64));
            let done = self
                .producer
                .context()
                .result
                .lock()
                .ok()
                .and_then(|mut s| s.take());
            match done {
                Some(Ok(())) => return (TopicResult::Delivered, None),
                Some(Err(e)) => {
                    if matches!(
                        e.rdkafka_error_code(),
                        Some(RDKafkaErrorCode::UnknownTopicOrPartition)
                    ) {
                        self.ready = false; // deleted behind our back: create it again next time
                    }
                    return (classify(&e), Some(e.to_string()));
                }
                None => {}
            }
        }
        // Leave nothing queued behind: a late delivery would duplicate the retry.
        self.producer
            .purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
        (
            TopicResult::Retriable,
            Some(format!("no acknowledgement within {timeout:?}")),
        )
    }
}

/// Failures an operator must fix are fatal (retried once per interval); the rest retriable.
fn classify(e: &KafkaError) -> TopicResult {
    use RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(
            C::TopicAuthorizationFailed
            | C::ClusterAuthorizationFailed
            | C::GroupAuthorizationFailed
            | C::SaslAuthenticationFailed
            | C::Authentication
            | C::MessageSizeTooLarge
            | C::InvalidMessageSize
            | C::InvalidRecord
            | C::InvalidTopic
            | C::InvalidReplicationFactor
            | C::PolicyViolation
            | C::UnsupportedVersion,
        ) => TopicResult::Fatal,
        _ => TopicResult::Retriable,
    }
}

/// Reads cluster facts for customer records.
pub struct ClusterInfo {
    client: BaseProducer,
    servers: String,
    redactor: Redactor,
}

impl ClusterInfo {
    /// A metadata client with the same connection settings as the topic sink.
    pub fn new(connection: &Connection) -> Result<ClusterInfo, String> {
        let client = client_config(connection, "support-metrics-agent-facts")
            .create()
            .map_err(|e| {
                format!(
                    "cannot create the Kafka client: {}",
                    client_error(&e, &connection.settings, &connection.redactor)
                )
            })?;
        Ok(ClusterInfo {
            client,
            servers: connection.servers.clone(),
            redactor: connection.redactor.clone(),
        })
    }
}

impl ClusterInfo {
    /// Whether broker `id` is registered in the cluster metadata (within `timeout`); `None`
    /// when the cluster cannot be read.
    pub fn has_broker(&self, id: i32, timeout: Duration) -> Option<bool> {
        let metadata = self.client.client().fetch_metadata(None, timeout).ok()?;
        Some(metadata.brokers().iter().any(|b| b.id() == id))
    }
}

impl ReadCluster for ClusterInfo {
    fn read(&self, timeout: Duration) -> Result<(ClusterFacts, Option<String>), String> {
        let metadata = self
            .client
            .client()
            .fetch_metadata(None, timeout)
            .map_err(|e| format!("{}: {}", self.servers, self.redactor.clean(&e.to_string())))?;
        let mut facts = ClusterFacts {
            brokers: u32::try_from(metadata.brokers().len()).unwrap_or(u32::MAX),
            topics: u32::try_from(metadata.topics().len()).unwrap_or(u32::MAX),
            ..ClusterFacts::default()
        };
        for topic in metadata.topics() {
            for partition in topic.partitions() {
                facts.partitions = facts.partitions.saturating_add(1);
                let bucket = partition.replicas().len().min(5);
                facts.replication_factor_histogram[bucket] += 1;
            }
        }
        // The broker's word: a cluster ID the record could not carry is unknown.
        let id = self.client.client().fetch_cluster_id(timeout);
        Ok((
            facts,
            id.filter(|id| support_metrics_core::wire::is_plain(id)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_push_no_metrics_unless_the_operator_asks() {
        let connection = |settings: &[(&str, &str)]| Connection {
            servers: "localhost:9092".into(),
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            redactor: Redactor::default(),
            security: String::new(),
            notes: Vec::new(),
        };
        let plain = client_config(&connection(&[]), "test");
        assert_eq!(plain.get("enable.metrics.push"), Some("false"));
        assert_eq!(plain.get("security.protocol"), None);
        let asked = [
            ("enable.metrics.push", "true"),
            ("security.protocol", "SSL"),
        ];
        let config = client_config(&connection(&asked), "test");
        assert_eq!(config.get("enable.metrics.push"), Some("true"));
        assert_eq!(config.get("security.protocol"), Some("SSL"));
    }
}
