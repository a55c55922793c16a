//! Where records are kept: SQLite (embedded, the default) or PostgreSQL (several collectors
//! behind a load balancer). One schema, versioned migrations, the same SQL for both.
//!
//! A record is stored once however it arrives: its key is the record itself (token,
//! timestamp, state), and a second copy (a retry, the same record from a bundle or a topic) is
//! ignored. A write returns only after its transaction has committed.

mod postgres;
mod schema;
mod sqlite;

use crate::record::{Origin, Row};

/// What a fleet query reads back for a broker: its newest record in the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerRow {
    /// The broker token.
    pub token: String,
    /// Newest record's time.
    pub ts: i64,
    /// 2 running, 1 shutting down.
    pub state: i64,
    /// `anonymous`, `test`, `customer`.
    pub class: String,
    /// Kafka version.
    pub kafka_version: String,
    /// Confluent Platform version.
    pub cp_version: Option<String>,
    /// Customer records: customer ID, cluster ID, broker ID.
    pub customer_id: Option<String>,
    /// See above.
    pub cluster_id: Option<String>,
    /// See above.
    pub broker_id: Option<i64>,
    /// Cluster counts from the newest customer record.
    pub brokers: Option<i64>,
    /// See above.
    pub topics: Option<i64>,
    /// See above.
    pub partitions: Option<i64>,
}

/// Distinct brokers per day and Kafka version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayCount {
    /// Days since the Unix epoch.
    pub day: i64,
    /// Kafka version.
    pub kafka_version: String,
    /// Distinct tokens.
    pub brokers: i64,
}

/// A database: SQLite or PostgreSQL.
pub enum Store {
    /// `sqlite:PATH`.
    Sqlite(sqlite::Sqlite),
    /// `postgres://...`.
    Postgres(Box<postgres::Postgres>),
}

impl Store {
    /// Opens `url` (`sqlite:PATH` or `postgres://...`) and brings its schema up to date.
    pub fn open(url: &str) -> Result<Store, String> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("--database sqlite:PATH needs a path".into());
            }
            return sqlite::Sqlite::open(path).map(Store::Sqlite);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return postgres::Postgres::open(url).map(|p| Store::Postgres(Box::new(p)));
        }
        Err(format!(
            "--database {}: use sqlite:PATH or postgres://USER@HOST/DB",
            describe(url)
        ))
    }

    /// Stores rows in one transaction; for each, whether it was new. Returns after commit.
    pub fn insert(
        &mut self,
        rows: &[(Row, Origin)],
        received_at: i64,
    ) -> Result<Vec<bool>, String> {
        match self {
            Store::Sqlite(s) => s.insert(rows, received_at),
            Store::Postgres(p) => p.insert(rows, received_at),
        }
    }

    /// Whether records can be written: a database on a read-only disk (SQLite can still read
    /// one) or a read-only PostgreSQL server (a standby) is refused before anything is
    /// accepted.
    pub fn check_writable(&mut self) -> Result<(), String> {
        match self {
            Store::Sqlite(s) => s.check_writable(),
            Store::Postgres(p) => p.check_writable(),
        }
    }

    /// Each broker's newest record dated from `since` to `until`.
    pub fn brokers(&mut self, since: i64, until: i64) -> Result<Vec<BrokerRow>, String> {
        match self {
            Store::Sqlite(s) => s.brokers(since, until),
            Store::Postgres(p) => p.brokers(since, until),
        }
    }

    /// Distinct brokers per day and Kafka version, for records dated from `since` to `until`.
    pub fn adoption(&mut self, since: i64, until: i64) -> Result<Vec<DayCount>, String> {
        match self {
            Store::Sqlite(s) => s.adoption(since, until),
            Store::Postgres(p) => p.adoption(since, until),
        }
    }

    /// Records stored.
    pub fn count(&mut self) -> Result<i64, String> {
        match self {
            Store::Sqlite(s) => s.count(),
            Store::Postgres(p) => p.count(),
        }
    }
}

/// A database URL fit to print: the password, if any, left out.
pub fn describe(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Each broker's newest record dated from `$1` to `$2`: the same SQL for both databases.
const BROKERS: &str = "SELECT r.token, r.ts, r.state, r.class, r.kafka_version, r.cp_version, \
     r.customer_id, r.cluster_id, r.broker_id, r.brokers, r.topics, r.partitions \
     FROM records r JOIN (SELECT token, MAX(ts) AS ts FROM records WHERE ts >= $1 AND ts <= $2 GROUP BY token) m \
     ON r.token = m.token AND r.ts = m.ts ORDER BY r.token, r.state";

const ADOPTION: &str = "SELECT ts / 86400 AS day, kafka_version, COUNT(DISTINCT token) \
     FROM records WHERE ts >= $1 AND ts <= $2 GROUP BY ts / 86400, kafka_version ORDER BY day, kafka_version";

const INSERT: &str = "INSERT INTO records (token, ts, state, class, kafka_version, cp_version, \
     customer_id, cluster_id, broker_id, brokers, topics, partitions, body, via, component, remote, \
     received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     ON CONFLICT (ts, token, state) DO NOTHING";

#[cfg(test)]
mod tests {
    #[test]
    fn urls_print_without_password() {
        assert_eq!(
            super::describe("postgres://collector:s3cret@db:5432/metrics"),
            "postgres://collector@db:5432/metrics"
        );
        assert_eq!(super::describe("sqlite:/x"), "sqlite:/x");
    }
}
