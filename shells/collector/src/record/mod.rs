//! A record as the collector stores it: checked by the core (the agent's own rules), then its
//! facts read for the fleet view.

use std::borrow::Cow;

use serde::Deserialize;
use support_metrics_core::customer::CustomerClass;
use support_metrics_core::wire::CollectorState;
use support_metrics_core::wire::{check_record, MAX_RECORD_LEN};

/// One record, ready to store. The key is the record itself: token, timestamp and state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `brokerProcessUUID`.
    pub token: String,
    /// `timestamp`, seconds since the Unix epoch.
    pub timestamp: i64,
    /// `collectorState`: 2 running, 1 shutting down.
    pub state: i16,
    /// `anonymous`, `test` or `customer`.
    pub class: &'static str,
    /// `kafkaVersion`.
    pub kafka_version: String,
    /// `confluentPlatformVersion`.
    pub cp_version: Option<String>,
    /// Customer records only: `customerId`, `clusterId`, `brokerId`, and the cluster counts.
    pub customer: Option<CustomerPart>,
    /// The record's bytes, as received.
    pub body: String,
}

/// What a customer record adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerPart {
    /// `customerId`.
    pub customer_id: String,
    /// `clusterId`.
    pub cluster_id: String,
    /// `brokerId`.
    pub broker_id: Option<i64>,
    /// `cluster.brokers`.
    pub brokers: i64,
    /// `cluster.topics`.
    pub topics: i64,
    /// `cluster.partitions`.
    pub partitions: i64,
}

/// Where a record came in, stored beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `http`, `bundle` or `topic`.
    pub via: &'static str,
    /// The component of `/<component>/<endpoint>`, if any.
    pub component: Option<String>,
    /// The sender's address (truncated unless configured otherwise), or the bundle/topic.
    pub remote: Option<String>,
}

/// Why bytes were refused; one line for the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Larger than any record.
    TooLarge,
    /// Not one of our records (the core's reason).
    NotARecord(String),
    /// One of ours, on the wrong endpoint.
    WrongEndpoint {
        /// The record's class.
        class: &'static str,
        /// The endpoint it was posted to.
        endpoint: String,
    },
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reject::TooLarge => write!(f, "body larger than {MAX_RECORD_LEN} bytes"),
            Reject::NotARecord(why) => f.write_str(why),
            Reject::WrongEndpoint { class, endpoint } => {
                let (what, want) = match *class {
                    "anonymous" => ("an anonymous record", "/anon"),
                    "test" => ("a test record (customerId c0)", "/test"),
                    _ => ("a customer record", "/submit"),
                };
                write!(f, "{what} belongs on {want}, not /{endpoint}")
            }
        }
    }
}

/// Checks `bytes` as the agent's record (the core's rules: exact keys, types, lengths, token,
/// allowlist) and, when `endpoint` is given (`anon`, `test`, `submit`), that its class fits.
pub fn decode(bytes: &[u8], endpoint: Option<&str>) -> Result<Row, Reject> {
    if bytes.len() > MAX_RECORD_LEN {
        return Err(Reject::TooLarge);
    }
    let checked = check_record(bytes).map_err(|e| Reject::NotARecord(e.to_string()))?;
    let class = checked.class.as_str();
    if let Some(endpoint) = endpoint {
        if !checked.fits_endpoint(endpoint) {
            return Err(Reject::WrongEndpoint {
                class,
                endpoint: endpoint.to_owned(),
            });
        }
    }
    // The core has checked the shape; this read of its facts cannot fail on a checked record.
    let body = std::str::from_utf8(bytes)
        .map_err(|e| Reject::NotARecord(e.to_string()))?
        .trim();
    let facts: Facts<'_> =
        serde_json::from_str(body).map_err(|e| Reject::NotARecord(e.to_string()))?;
    let customer = (checked.class != CustomerClass::Anonymous).then(|| CustomerPart {
        customer_id: facts.customer_id.unwrap_or_default().into_owned(),
        cluster_id: facts.cluster_id.unwrap_or_default().into_owned(),
        broker_id: facts.broker_id,
        brokers: facts.cluster.brokers,
        topics: facts.cluster.topics,
        partitions: facts.cluster.partitions,
    });
    Ok(Row {
        token: checked.token.to_string(),
        // Timestamps past i64 are not a time anyone reports; they are kept at the limit.
        timestamp: i64::try_from(checked.timestamp).unwrap_or(i64::MAX),
        state: match checked.state {
            CollectorState::Running => 2,
            CollectorState::ShuttingDown => 1,
        },
        class,
        kafka_version: facts.kafka_version.into_owned(),
        cp_version: facts.confluent_platform_version.map(Cow::into_owned),
        customer,
        body: body.to_owned(),
    })
}

/// The facts the fleet view reads from a record the core has checked (other keys ignored:
/// the core has already refused unknown ones). Strings borrow unless they hold escapes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Facts<'a> {
    #[serde(borrow)]
    kafka_version: Cow<'a, str>,
    #[serde(borrow)]
    confluent_platform_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    customer_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cluster_id: Option<Cow<'a, str>>,
    #[serde(default)]
    broker_id: Option<i64>,
    #[serde(default)]
    cluster: Counts,
}

#[derive(Default, Deserialize)]
struct Counts {
    brokers: i64,
    topics: i64,
    partitions: i64,
}

#[cfg(test)]
mod tests;
