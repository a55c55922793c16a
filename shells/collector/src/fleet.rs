//! The fleet view's facts, one computation for the page, `/api/fleet` and `report --json`.
//!
//! A broker is a broker token (one per broker run). Brokers *seen* are those with a record in
//! the last two report intervals; *live* ones are those whose newest record is not the final
//! one of a stopping run (a restarted broker reports under a new token, and its old token's
//! last record says it stopped). Versions are counted over live brokers.

use std::collections::BTreeMap;

use serde::Serialize;
use support_metrics_linux::utc::rfc3339_secs;

use crate::advisories::Advisories;
use crate::store::{BrokerRow, Store};

/// Days of version history shown.
pub const ADOPTION_DAYS: i64 = 90;

/// How far ahead of the collector's clock a record may be dated and still be in the view.
/// Later ones (a broker's clock far off, or a forged date) are stored but left out: a record
/// dated 2100 would otherwise keep its broker live, and the adoption chart, until then.
const AHEAD_SECS: i64 = 86_400;

/// Most brokers listed one by one (counts always cover every broker).
pub const MAX_LISTED: usize = 10_000;

/// The fleet at one moment.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fleet {
    /// When this view was computed (RFC 3339).
    pub generated_at: String,
    /// The window: two report intervals, in hours.
    pub window_hours: u64,
    /// Records stored in all.
    pub records: i64,
    /// Brokers seen in the window.
    pub brokers_seen: usize,
    /// Of those, live (not stopped).
    pub brokers_live: usize,
    /// Live brokers by Kafka version, most first.
    pub by_kafka_version: Vec<VersionCount>,
    /// Live brokers by Confluent Platform version (`none`: Apache Kafka), most first.
    pub by_confluent_platform_version: Vec<VersionCount>,
    /// Distinct brokers per day and Kafka version over the last 90 days.
    pub adoption: Vec<AdoptionDay>,
    /// Clusters known from customer records in the window.
    pub clusters: Vec<Cluster>,
    /// Customers known from customer records in the window.
    pub customers: Vec<Customer>,
    /// Advisories that match at least one live broker.
    pub advisories: Vec<AdvisoryHit>,
    /// Brokers seen, newest first (at most [`MAX_LISTED`]).
    pub brokers: Vec<Broker>,
}

/// A version and how many live brokers run it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct VersionCount {
    /// The version as reported.
    pub version: String,
    /// Live brokers.
    pub brokers: usize,
}

/// One day of version adoption.
#[derive(Clone, Debug, Serialize)]
pub struct AdoptionDay {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Distinct brokers that reported that day, by Kafka version.
    pub versions: BTreeMap<String, i64>,
}

/// A cluster, from its brokers' customer records.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// The customer ID.
    pub customer_id: String,
    /// The cluster ID.
    pub cluster_id: String,
    /// Brokers, topics and partitions, from the newest record.
    pub brokers: i64,
    /// See above.
    pub topics: i64,
    /// See above.
    pub partitions: i64,
    /// Brokers (tokens) reporting in the window.
    pub reporting_brokers: usize,
    /// The newest record (RFC 3339).
    pub last_seen: String,
}

/// A customer, from its customer records.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer ID.
    pub customer_id: String,
    /// Clusters seen.
    pub clusters: usize,
    /// Brokers (tokens) reporting in the window.
    pub reporting_brokers: usize,
    /// The newest record (RFC 3339).
    pub last_seen: String,
}

/// An advisory and the live brokers it matches.
#[derive(Clone, Debug, Serialize)]
pub struct AdvisoryHit {
    /// The advisory's ID.
    pub id: String,
    /// Its message.
    pub message: String,
    /// Live brokers affected.
    pub brokers: usize,
}

/// A broker seen in the window.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Broker {
    /// Its token.
    pub token: String,
    /// Its newest record (RFC 3339).
    pub last_seen: String,
    /// `running`, or `stopped` when the newest record was the final one.
    pub state: &'static str,
    /// `anonymous`, `test` or `customer`.
    pub class: String,
    /// Kafka version.
    pub kafka_version: String,
    /// Confluent Platform version.
    pub confluent_platform_version: Option<String>,
    /// Customer records only.
    pub customer_id: Option<String>,
    /// See above.
    pub cluster_id: Option<String>,
    /// See above.
    pub broker_id: Option<i64>,
    /// IDs of the advisories it matches.
    pub advisories: Vec<String>,
}

/// Computes the fleet at `now` (seconds) for report interval `interval_secs`.
pub fn compute(
    store: &mut Store,
    advisories: &Advisories,
    now: i64,
    interval_secs: u64,
) -> Result<Fleet, String> {
    let window = 2 * interval_secs as i64;
    let until = now + AHEAD_SECS;
    let mut rows = store.brokers(now - window, until)?;
    // Two records of one token at the same second (running and stopping): the stop wins.
    rows.sort_by(|a, b| a.token.cmp(&b.token).then(a.state.cmp(&b.state)));
    rows.dedup_by(|later, first| later.token == first.token);
    rows.sort_by(|a, b| b.ts.cmp(&a.ts).then(a.token.cmp(&b.token)));
    let live: Vec<&BrokerRow> = rows.iter().filter(|r| r.state != 1).collect();

    let count = |key: &dyn Fn(&BrokerRow) -> String| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for r in &live {
            *m.entry(key(r)).or_default() += 1;
        }
        let mut v: Vec<VersionCount> = m
            .into_iter()
            .map(|(version, brokers)| VersionCount { version, brokers })
            .collect();
        v.sort_by(|a, b| b.brokers.cmp(&a.brokers).then(a.version.cmp(&b.version)));
        v
    };
    let by_kafka_version = count(&|r| r.kafka_version.clone());
    let by_confluent_platform_version =
        count(&|r| r.cp_version.clone().unwrap_or_else(|| "none".into()));

    let mut days: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for d in store.adoption(now - ADOPTION_DAYS * 86_400, until)? {
        days.entry(d.day)
            .or_default()
            .insert(d.kafka_version, d.brokers);
    }
    let adoption = days
        .into_iter()
        .map(|(day, versions)| AdoptionDay {
            date: date(day * 86_400),
            versions,
        })
        .collect();

    // Rows are newest first: a cluster's first row holds its newest counts.
    let mut clusters: BTreeMap<(&str, &str), (Cluster, i64)> = BTreeMap::new();
    for r in &rows {
        let (Some(customer_id), Some(cluster_id)) = (&r.customer_id, &r.cluster_id) else {
            continue;
        };
        clusters
            .entry((customer_id, cluster_id))
            .or_insert_with(|| {
                let cluster = Cluster {
                    customer_id: customer_id.clone(),
                    cluster_id: cluster_id.clone(),
                    brokers: r.brokers.unwrap_or_default(),
                    topics: r.topics.unwrap_or_default(),
                    partitions: r.partitions.unwrap_or_default(),
                    reporting_brokers: 0,
                    last_seen: time(r.ts),
                };
                (cluster, r.ts)
            })
            .0
            .reporting_brokers += 1;
    }
    // A customer is the sum of its clusters (in key order: a customer's clusters are adjacent).
    let mut customers: Vec<(Customer, i64)> = Vec::new();
    for (c, ts) in clusters.values() {
        match customers.last_mut() {
            Some((k, newest)) if k.customer_id == c.customer_id => {
                k.clusters += 1;
                k.reporting_brokers += c.reporting_brokers;
                if *ts > *newest {
                    *newest = *ts;
                    k.last_seen.clone_from(&c.last_seen);
                }
            }
            _ => customers.push((
                Customer {
                    customer_id: c.customer_id.clone(),
                    clusters: 1,
                    reporting_brokers: c.reporting_brokers,
                    last_seen: c.last_seen.clone(),
                },
                *ts,
            )),
        }
    }

    let mut hits: Vec<AdvisoryHit> = advisories
        .list
        .iter()
        .map(|a| AdvisoryHit {
            id: a.id.clone(),
            message: a.message.clone(),
            brokers: live
                .iter()
                .filter(|r| a.affects(&r.kafka_version, r.cp_version.as_deref()))
                .count(),
        })
        .collect();
    hits.retain(|h| h.brokers > 0);

    let brokers = rows
        .iter()
        .take(MAX_LISTED)
        .map(|r| Broker {
            token: r.token.clone(),
            last_seen: time(r.ts),
            state: if r.state == 1 { "stopped" } else { "running" },
            class: r.class.clone(),
            kafka_version: r.kafka_version.clone(),
            confluent_platform_version: r.cp_version.clone(),
            customer_id: r.customer_id.clone(),
            cluster_id: r.cluster_id.clone(),
            broker_id: r.broker_id,
            advisories: if r.state == 1 {
                Vec::new()
            } else {
                advisories
                    .matching(&r.kafka_version, r.cp_version.as_deref())
                    .map(|a| a.id.clone())
                    .collect()
            },
        })
        .collect();

    Ok(Fleet {
        generated_at: time(now),
        window_hours: 2 * interval_secs / 3600,
        records: store.count()?,
        brokers_seen: rows.len(),
        brokers_live: live.len(),
        by_kafka_version,
        by_confluent_platform_version,
        adoption,
        clusters: clusters.into_values().map(|(c, _)| c).collect(),
        customers: customers.into_iter().map(|(c, _)| c).collect(),
        advisories: hits,
        brokers,
    })
}

fn time(secs: i64) -> String {
    u64::try_from(secs)
        .ok()
        .and_then(rfc3339_secs)
        .unwrap_or_else(|| secs.to_string())
}

fn date(secs: i64) -> String {
    let t = time(secs);
    t.get(..10).unwrap_or(&t).to_owned()
}
