//! The customer (enhanced) record: the five anonymous keys plus facts that help support a
//! licensed customer. Only sent for a valid, non-anonymous customer ID. Never host names,
//! addresses, paths or secrets: broker settings pass an allowlist (see [`allowlist`]).
//!
//! [`allowlist`]: super::allowlist

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::allowlist;
use super::fields::{self, Fields, Value, Visit};
use super::{json_str_len, AnonymousRecord, EncodeError};

/// Cluster-wide counts, from the client's metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// A customer record ready to encode: the anonymous record's keys, then the customer facts.
#[derive(Clone, Copy, Debug)]
pub struct CustomerRecord<'a> {
    /// The five keys every record has.
    pub anonymous: AnonymousRecord<'a>,
    /// What a customer record adds; broker settings pass the allowlist when encoded.
    pub facts: CustomerFacts<'a>,
}

/// The record's one description: the anonymous keys, then its own.
impl Fields for CustomerRecord<'_> {
    fn fields<W: Visit>(&self, w: &mut W) {
        let f = &self.facts;
        self.anonymous.fields(w);
        w.field("customerId", &f.customer_id);
        w.field("clusterId", &f.cluster_id);
        w.field("brokerId", &f.broker_id);
        w.field("cluster", &f.cluster);
        w.field("host", &f.host);
        w.field("agentUptimeSecs", &f.agent_uptime_secs);
        w.field(
            "brokerConfiguration",
            &AllowedConfig(f.broker_configuration),
        );
    }
}

impl Fields for ClusterFacts {
    fn fields<W: Visit>(&self, w: &mut W) {
        w.field("brokers", &self.brokers);
        w.field("topics", &self.topics);
        w.field("partitions", &self.partitions);
        w.field(
            "replicationFactorHistogram",
            &self.replication_factor_histogram,
        );
    }
}

impl Fields for HostFacts<'_> {
    fn fields<W: Visit>(&self, w: &mut W) {
        w.field("os", &self.os);
        w.field("arch", &self.arch);
        w.field("cpus", &self.cpus);
        w.field("memoryBytes", &self.memory_bytes);
    }
}

/// Objects serialize and measure themselves from their description.
macro_rules! described {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                fields::serialize(self, s)
            }
        }
        impl Value for $t {
            fn json_len(&self) -> usize {
                Fields::encoded_len(self)
            }
        }
    )*};
}
described!(CustomerRecord<'_>, ClusterFacts, HostFacts<'_>);

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

impl Value for AllowedConfig<'_> {
    fn json_len(&self) -> usize {
        let (fields, count) = self.allowed().fold((0, 0usize), |(len, n), (k, v)| {
            (len + json_str_len(k) + 1 + json_str_len(v), n + 1)
        });
        2 + fields + count.saturating_sub(1)
    }
}

impl CustomerRecord<'_> {
    /// The exact number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        Fields::encoded_len(self)
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
