//! Gathering the facts of a customer record (core decides what of them is sent), and handing
//! them to the reporter.

use std::time::Duration;

use support_metrics_core::reporter::{CollectError, Facts, Reporter, SpoolOp, UsageError};
use support_metrics_core::time::Instant;
use support_metrics_core::wire::{ClusterFacts, CustomerFacts, HostFacts};

/// Reads the cluster's counts and ID (the Kafka client implements it).
pub trait ReadCluster: Send {
    /// Broker, topic and partition counts, the replication-factor histogram, and the cluster
    /// ID; `None` when the cluster cannot be read within `timeout`.
    /// Or why not, naming the address.
    fn read(&self, timeout: Duration) -> Result<(ClusterFacts, Option<String>), String>;
}

/// Where customer facts come from; built once at start.
pub struct CustomerSource {
    /// The effective customer ID.
    pub customer_id: String,
    /// `broker.id` / `node.id`.
    pub broker_id: Option<i64>,
    /// Every broker property (core's allowlist filters them when encoding).
    pub broker_configuration: Vec<(String, String)>,
    /// The cluster, or why no Kafka client could be made.
    pub cluster: Result<Box<dyn ReadCluster>, String>,
}

/// Facts gathered for one record, owned.
#[derive(Clone, Debug)]
pub struct GatheredFacts {
    customer_id: String,
    cluster_id: String,
    broker_id: Option<i64>,
    cluster: ClusterFacts,
    os: &'static str,
    arch: &'static str,
    cpus: u32,
    memory_bytes: u64,
    uptime_secs: u64,
    config: Vec<(String, String)>,
    /// Why the cluster facts are zeros and `unknown`, if they are.
    problem: Option<String>,
}

impl CustomerSource {
    /// Reads the cluster (bounded by `timeout`) and the host now.
    pub fn gather(&self, uptime: Duration, timeout: Duration) -> GatheredFacts {
        let read = match &self.cluster {
            Ok(c) => c.read(timeout),
            Err(e) => Err(e.clone()),
        };
        let (problem, (cluster, cluster_id)) = match read {
            Ok(facts) => (None, facts),
            Err(why) => (Some(why), Default::default()),
        };
        let (os, arch, cpus, memory_bytes) = crate::facts::host();
        GatheredFacts {
            customer_id: self.customer_id.clone(),
            cluster_id: cluster_id.unwrap_or_else(|| "unknown".to_owned()),
            broker_id: self.broker_id,
            cluster,
            os,
            arch,
            cpus,
            memory_bytes,
            uptime_secs: uptime.as_secs(),
            config: self.broker_configuration.clone(),
            problem,
        }
    }
}

impl GatheredFacts {
    /// Why the cluster facts could not be read (they are zeros and `unknown` then).
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The configuration pairs as borrowed slices, for [`view`](Self::view).
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// The core's view of these facts; `pairs` comes from [`pairs`](Self::pairs).
    pub fn view<'a>(&'a self, pairs: &'a [(&'a str, &'a str)]) -> CustomerFacts<'a> {
        CustomerFacts {
            customer_id: &self.customer_id,
            cluster_id: &self.cluster_id,
            broker_id: self.broker_id,
            cluster: self.cluster,
            host: HostFacts {
                os: self.os,
                arch: self.arch,
                cpus: self.cpus,
                memory_bytes: self.memory_bytes,
            },
            agent_uptime_secs: self.uptime_secs,
            broker_configuration: pairs,
        }
    }
}

/// Answers the reporter's `Collect` with a customer record made of `gathered`: the record's
/// bytes and the spool write to store them with. The buffer grows until the record fits.
pub fn collect_customer(
    reporter: &mut Reporter,
    (now, unix_time_secs): (Instant, u64),
    facts: Facts<'_>,
    gathered: &GatheredFacts,
) -> Result<(SpoolOp, Vec<u8>), UsageError> {
    let pairs = gathered.pairs();
    let view = gathered.view(&pairs);
    let mut buf = vec![0u8; 8192];
    loop {
        match reporter.handle_collected_customer(now, unix_time_secs, facts, &view, &mut buf) {
            Ok(op) => return Ok((op, buf)),
            // The reporter names the exact size: the second call fits.
            Err(CollectError::BufferTooSmall(b)) if b.required > buf.len() => {
                buf.resize(b.required, 0);
            }
            Err(CollectError::BufferTooSmall(_)) => return Err(UsageError::NotCollecting),
            Err(CollectError::Usage(e)) => return Err(e),
        }
    }
}
