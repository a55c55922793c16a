//! The customer (enhanced) record: the five anonymous keys plus facts that help support a
//! licensed customer. Only sent for a valid, non-anonymous customer ID. Never host names,
//! addresses, paths or secrets: broker settings pass an allowlist (see [`allowlist`]).
//!
//! [`allowlist`]: super::allowlist

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::allowlist;
use super::{decimal_len, json_str_len, CollectorState, EncodeError};

/// Cluster-wide counts, from the client's metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClusterFacts {
    /// Live brokers.
    pub brokers: u32,
    /// Topics, internal ones included.
    pub topics: u32,
    /// Partitions over all topics.
    pub partitions: u32,
    /// Partitions by replication factor: 0, 1, 2, 3, 4, and 5 or more.
    pub replication_factor_histogram: [u32; 6],
}

/// The machine the agent runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HostFacts<'a> {
    /// Operating system family, e.g. `linux`.
    pub os: &'a str,
    /// CPU architecture, e.g. `x86_64`.
    pub arch: &'a str,
    /// Logical CPUs.
    pub cpus: u32,
    /// Physical memory in bytes.
    pub memory_bytes: u64,
}

/// What a customer record adds to the anonymous facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CustomerFacts<'a> {
    /// The effective customer ID.
    pub customer_id: &'a str,
    /// The Kafka cluster ID, or `unknown`.
    pub cluster_id: &'a str,
    /// `broker.id` (or `node.id`) of the broker beside the agent.
    pub broker_id: Option<i64>,
    /// Cluster counts.
    pub cluster: ClusterFacts,
    /// Host facts.
    pub host: HostFacts<'a>,
    /// Seconds since the agent started.
    pub agent_uptime_secs: u64,
    /// Every broker property; only allowlisted ones with plain values are encoded.
    pub broker_configuration: &'a [(&'a str, &'a str)],
}

/// A customer record ready to encode.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRecord<'a> {
    /// See [`AnonymousRecord`](super::AnonymousRecord).
    pub timestamp: u64,
    /// See [`AnonymousRecord`](super::AnonymousRecord).
    pub kafka_version: &'a str,
    /// See [`AnonymousRecord`](super::AnonymousRecord).
    pub confluent_platform_version: &'a str,
    /// See [`AnonymousRecord`](super::AnonymousRecord).
    #[serde(rename = "brokerProcessUUID")]
    pub broker_process_uuid: &'a str,
    /// See [`AnonymousRecord`](super::AnonymousRecord).
    pub collector_state: CollectorState,
    /// See [`CustomerFacts`].
    pub customer_id: &'a str,
    /// See [`CustomerFacts`].
    pub cluster_id: &'a str,
    /// See [`CustomerFacts`]; `null` when unknown.
    pub broker_id: Option<i64>,
    /// See [`CustomerFacts`].
    pub cluster: ClusterFacts,
    /// See [`CustomerFacts`].
    pub host: HostFacts<'a>,
    /// See [`CustomerFacts`].
    pub agent_uptime_secs: u64,
    /// The allowlisted broker settings, as a JSON object.
    pub broker_configuration: AllowedConfig<'a>,
}

/// Broker properties, serialized as an object holding only what [`allowlist::allows`].
#[derive(Clone, Copy, Debug)]
pub struct AllowedConfig<'a>(pub &'a [(&'a str, &'a str)]);

impl AllowedConfig<'_> {
    fn allowed(&self) -> impl Iterator<Item = &(&str, &str)> {
        self.0.iter().filter(|(k, v)| allowlist::allows(k, v))
    }
}

impl Serialize for AllowedConfig<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (k, v) in self.allowed() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl CustomerRecord<'_> {
    /// The exact number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        let field = |name: &str, value: usize| name.len() + 3 + value;
        let object =
            |fields: &[usize]| 2 + fields.iter().sum::<usize>() + fields.len().saturating_sub(1);
        let signed = |v: i64| decimal_len(v.unsigned_abs()) + usize::from(v < 0);
        let histogram = 2
            + self
                .cluster
                .replication_factor_histogram
                .iter()
                .map(|&n| decimal_len(n.into()))
                .sum::<usize>()
            + 5;
        let cluster = object(&[
            field("brokers", decimal_len(self.cluster.brokers.into())),
            field("topics", decimal_len(self.cluster.topics.into())),
            field("partitions", decimal_len(self.cluster.partitions.into())),
            field("replicationFactorHistogram", histogram),
        ]);
        let host = object(&[
            field("os", json_str_len(self.host.os)),
            field("arch", json_str_len(self.host.arch)),
            field("cpus", decimal_len(self.host.cpus.into())),
            field("memoryBytes", decimal_len(self.host.memory_bytes)),
        ]);
        let config_fields: usize = self
            .broker_configuration
            .allowed()
            .map(|(k, v)| json_str_len(k) + 1 + json_str_len(v))
            .sum();
        let config_count = self.broker_configuration.allowed().count();
        let config = 2 + config_fields + config_count.saturating_sub(1);
        object(&[
            field("timestamp", decimal_len(self.timestamp)),
            field("kafkaVersion", json_str_len(self.kafka_version)),
            field(
                "confluentPlatformVersion",
                json_str_len(self.confluent_platform_version),
            ),
            field("brokerProcessUUID", json_str_len(self.broker_process_uuid)),
            field("collectorState", 1),
            field("customerId", json_str_len(self.customer_id)),
            field("clusterId", json_str_len(self.cluster_id)),
            field("brokerId", self.broker_id.map_or(4, signed)),
            field("cluster", cluster),
            field("host", host),
            field("agentUptimeSecs", decimal_len(self.agent_uptime_secs)),
            field("brokerConfiguration", config),
        ])
    }

    /// Writes the JSON into `buf`; a buffer that is too small gets the exact size needed.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        serde_json_core::to_slice(self, buf).map_err(|_| EncodeError::BufferTooSmall {
            required: self.encoded_len(),
        })
    }
}

#[cfg(test)]
mod tests;
