//! PostgreSQL: for several collectors behind a load balancer. A commit returns once the
//! server has it durable (`synchronous_commit` as the server sets it, on by default).
//! Migrations take an advisory lock, so collectors starting together apply each once.

use postgres::{Client, NoTls};

use super::schema::{too_new, MIGRATIONS, VERSIONS};
use super::{describe, BrokerRow, DayCount, ADOPTION, BROKERS, INSERT};
use crate::record::{Origin, Row};

/// The advisory lock migrations hold (any constant of our own).
const MIGRATION_LOCK: i64 = 0x5355_5050_4d45_5452;

pub struct Postgres {
    client: Client,
    config: postgres::Config,
    url: String,
}

fn err(url: &str) -> impl Fn(postgres::Error) -> String + '_ {
    move |e| {
        let cause =
            std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| format!("{e}: {s}"));
        format!(
            "{}: {}",
            describe(url),
            cause.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    }
}

/// The schema's version (0 before the first migration).
const CURRENT: &str = "SELECT COALESCE(MAX(version), 0)::BIGINT FROM support_metrics_schema";

/// Applies the migrations `client`'s database lacks, each in its own transaction under the
/// advisory lock.
fn migrate(client: &mut Client, url: &str) -> Result<(), String> {
    let e = err(url);
    client.batch_execute(VERSIONS).map_err(&e)?;
    loop {
        let mut tx = client.transaction().map_err(&e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(&e)?;
        let have: i64 = tx.query_one(CURRENT, &[]).map_err(&e)?.get(0);
        if have > MIGRATIONS.len() as i64 {
            return Err(format!("--database {}: {}", describe(url), too_new(have)));
        }
        let Some(sql) = MIGRATIONS.get(have as usize) else {
            return Ok(());
        };
        tx.batch_execute(sql).map_err(&e)?;
        tx.execute(
            "INSERT INTO support_metrics_schema (version, applied_at) VALUES ($1, $2)",
            &[&(have + 1), &crate::now()],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
    }
}

impl Postgres {
    pub(super) fn open(url: &str) -> Result<Postgres, String> {
        let e = err(url);
        let mut config: postgres::Config = url.parse().map_err(&e)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let mut client = config.connect(NoTls).map_err(&e)?;
        // Up to date: nothing to write (a standby serves `report`).
        let current = client
            .query_one(CURRENT, &[])
            .ok()
            .map(|r| r.get::<_, i64>(0));
        if current != Some(MIGRATIONS.len() as i64) {
            migrate(&mut client, url)?;
        }
        Ok(Postgres {
            client,
            config,
            url: url.to_owned(),
        })
    }

    /// The connection, made again if the server closed it (a restart, a failover, an
    /// administrator's `pg_terminate_backend`): the call that found it closed failed, the
    /// next one works once the server is back.
    fn client(&mut self) -> Result<&mut Client, String> {
        if self.client.is_closed() {
            let url = self.url.clone();
            self.client = self.config.connect(NoTls).map_err(err(&url))?;
            crate::log("INFO", &format!("reconnected to {}", describe(&url)));
        }
        Ok(&mut self.client)
    }

    pub(super) fn insert(
        &mut self,
        rows: &[(Row, Origin)],
        received_at: i64,
    ) -> Result<Vec<bool>, String> {
        let url = self.url.clone();
        let e = err(&url);
        let mut tx = self.client()?.transaction().map_err(&e)?;
        let stmt = tx.prepare(INSERT).map_err(&e)?;
        let mut fresh = Vec::with_capacity(rows.len());
        for (r, o) in rows {
            let c = r.customer.as_ref();
            let state = i64::from(r.state);
            let customer_id = c.map(|c| c.customer_id.as_str());
            let cluster_id = c.map(|c| c.cluster_id.as_str());
            let broker_id = c.and_then(|c| c.broker_id);
            let brokers = c.map(|c| c.brokers);
            let topics = c.map(|c| c.topics);
            let partitions = c.map(|c| c.partitions);
            let n = tx
                .execute(
                    &stmt,
                    &[
                        &r.token,
                        &r.timestamp,
                        &state,
                        &r.class,
                        &r.kafka_version,
                        &r.cp_version,
                        &customer_id,
                        &cluster_id,
                        &broker_id,
                        &brokers,
                        &topics,
                        &partitions,
                        &r.body,
                        &o.via,
                        &o.component,
                        &o.remote,
                        &received_at,
                    ],
                )
                .map_err(&e)?;
            fresh.push(n == 1);
        }
        tx.commit().map_err(&e)?;
        Ok(fresh)
    }

    pub(super) fn brokers(&mut self, since: i64, until: i64) -> Result<Vec<BrokerRow>, String> {
        let url = self.url.clone();
        let rows = self
            .client()?
            .query(BROKERS, &[&since, &until])
            .map_err(err(&url))?;
        Ok(rows
            .iter()
            .map(|r| BrokerRow {
                token: r.get(0),
                ts: r.get(1),
                state: r.get(2),
                class: r.get(3),
                kafka_version: r.get(4),
                cp_version: r.get(5),
                customer_id: r.get(6),
                cluster_id: r.get(7),
                broker_id: r.get(8),
                brokers: r.get(9),
                topics: r.get(10),
                partitions: r.get(11),
            })
            .collect())
    }

    pub(super) fn adoption(&mut self, since: i64, until: i64) -> Result<Vec<DayCount>, String> {
        let url = self.url.clone();
        let rows = self
            .client()?
            .query(ADOPTION, &[&since, &until])
            .map_err(err(&url))?;
        Ok(rows
            .iter()
            .map(|r| DayCount {
                day: r.get(0),
                kafka_version: r.get(1),
                brokers: r.get(2),
            })
            .collect())
    }

    pub(super) fn check_writable(&mut self) -> Result<(), String> {
        let url = self.url.clone();
        let read_only: String = self
            .client()?
            .query_one("SHOW transaction_read_only", &[])
            .map_err(err(&url))?
            .get(0);
        if read_only == "on" {
            return Err(format!(
                "{}: the server only reads (a standby, or default_transaction_read_only)",
                describe(&url)
            ));
        }
        Ok(())
    }

    pub(super) fn count(&mut self) -> Result<i64, String> {
        let url = self.url.clone();
        let row = self
            .client()?
            .query_one("SELECT COUNT(*) FROM records", &[])
            .map_err(err(&url))?;
        Ok(row.get(0))
    }
}
